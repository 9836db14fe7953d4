/* Model cards: the sidecar JSON (models/<name>.json) that says how to feed a
 * model and what to explain in it. Schema "tensorlens-card-1", documented in
 * docs/models.md. The card is read whole and validated before anything else
 * uses it: every field has a type, a range and a clear error naming the file
 * and the field. File names in a card are relative to the card's directory
 * and may not leave it; tl_card resolves them to full paths. */
#pragma once
#include <glib.h>
#include <stdint.h>

#define TL_CARD_SCHEMA          "tensorlens-card-1"
#define TL_CARD_MAX_FILE_BYTES  (1 << 20)   /* a card is metadata, never megabytes */
#define TL_CARD_MAX_SIDE        8192        /* input / output height and width */
#define TL_CARD_MAX_LABELS      100000
#define TL_CARD_MAX_LATENT      65536

typedef enum {
  TL_TASK_CLASSIFIER,
  TL_TASK_EMBEDDING,
  TL_TASK_DETECTOR,
  TL_TASK_AUTOENCODER,
} tl_task;

typedef enum {
  TL_COLOR_RGB,                 /* 3 channels, R G B */
  TL_COLOR_GRAY,                /* 1 channel, gray = Σ gray_weights[i]·RGB[i] on 0..255 */
} tl_color;

typedef enum {
  TL_RESIZE_TF_LEGACY_BILINEAR, /* TF1 resize_bilinear: src = dst·in/out, no half-pixel */
  TL_RESIZE_HALF_PIXEL_BILINEAR,/* src = (dst+0.5)·in/out − 0.5 (OpenCV, PyTorch, TF2) */
} tl_resize_mode;

typedef enum {
  TL_SCORE_NONE,                /* autoencoders: nothing to explain */
  TL_SCORE_LOGIT,               /* score(c) = tensor[0,c] */
  TL_SCORE_COSINE,              /* score = cos(tensor(x), tensor(reference)) */
  TL_SCORE_HEATMAP_SUM,         /* score(c) = Σ_{y,x} tensor[0,c,y,x] */
} tl_score_kind;

typedef struct {
  char   *path;                 /* full path (card dir + relative name) */
  char    sha256[65];           /* lower-case hex */
  int64_t bytes;
} tl_card_file;

typedef struct {
  char           *path;         /* the card file itself */
  char           *dir;          /* its directory */
  char           *name;
  char           *title;        /* may be NULL */
  tl_task         task;
  char           *model;        /* full path of the ONNX file; NULL for autoencoders */

  /* Input: model_input[c] = (pixel[c]·scale − mean[c]) / std[c], with pixel in
   * 0..255 after resizing to (height − pad top − pad bottom) × (width − pad
   * left − pad right) and the colour conversion; then zeros are padded
   * around it (pad = top, left, bottom, right) to height × width. NCHW. */
  char           *input_name;
  int             channels, height, width;
  tl_color        color;
  double          gray_weights[3];
  tl_resize_mode  resize;
  double          scale, mean[3], std[3];
  int             pad[4];

  /* Named outputs ("logits" → tensor name, ...), same order as in the file. */
  int             n_outputs;
  char          **output_keys, **output_tensors;
  int             n_labels;
  char          **labels;       /* NULL-terminated, n_labels entries */
  char           *target_layer; /* NULL for autoencoders */
  tl_score_kind   score_kind;
  char           *score_tensor;   /* NULL for TL_SCORE_NONE */
  char           *probabilities;  /* optional softmax output (classifiers) */
  char           *score_logits;   /* optional pre-sigmoid logits (detectors) */

  /* Autoencoders only (zeros / NULL otherwise). */
  int             latent_dim;
  char           *encoder, *decoder, *latent_bank;       /* full paths */
  char           *encoder_output, *decoder_input, *decoder_output;
  int             out_channels, out_height, out_width;
  double          out_min, out_max;
  char           *feature_model;  /* full path of the FID feature network's card, or NULL */
  int             feature_crop[4];/* x, y, w, h inside the decoded image */

  int             n_files;
  tl_card_file   *files;        /* every shipped file, with its checksum */
  char           *license, *attribution;
} tl_card;

/* Reads and validates a card file. NULL + error (TL_ERROR_IO, _FORMAT,
 * _UNSUPPORTED or _INVALID) naming the file and field on any problem. */
tl_card    *tl_card_load (const char *path, GError **error);
/* Same from memory; path names the card in messages and anchors relative
 * file names. */
tl_card    *tl_card_parse (const char *json, gssize len, const char *path, GError **error);
void        tl_card_free (tl_card *card);

/* Checks size and sha256 of every file the card lists. */
gboolean    tl_card_verify_files (const tl_card *card, GError **error);

/* Tensor name of the named output ("logits", "embedding", ...), or NULL. */
const char *tl_card_output (const tl_card *card, const char *key);
const char *tl_task_name (tl_task task);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_card, tl_card_free)
