/* The explanation pipeline every front end shares (CLI, GEGL op, GIMP
 * plug-in): image + model + saliency parameters -> saliency map.
 *
 *   1. the image is read in strips of rows and resized to the model's input
 *      geometry (horizontal pass per strip, then one vertical pass), so a
 *      24-megapixel photo never exists as a float copy: only
 *      input_width x image_height x 3 floats do;
 *   2. tl_preprocess normalises it into the 1xCxHxW input tensor;
 *   3. one forward pass with a tap on the target layer gives the features F
 *      (the baselines Grad-CAM and Grad-CAM++ also run the backward pass
 *      for the gradient dF of the card's score);
 *   4. tl_saliency_map_from_features (or tl_gradcam_map / tl_gradcampp_map)
 *      turns F into a map in [0,1] at feature resolution;
 *   5. the map is taken back onto the image (tl_explanation_sampler /
 *      _full_map / _render: bilinear, half-pixel, methods.md "Finishing").
 *
 * A tl_explain_cache remembers the features (and gradients) of the last few
 * (image content, model, layer) triples, so that changing only the method or its parameters
 * costs no forward pass, and changing only the rendering costs nothing but
 * the rendering. */
#pragma once
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "render.h"
#include "saliency.h"

/* fraction in [0,1]; stage is a short human-readable phrase. */
typedef void (*tl_progress_func) (double fraction, const char *stage, void *user);

/* Fills rows [y, y + n) of a width-wide image as interleaved RGB float
 * (width * n * 3 values, nominally in [0,1]; values outside are clamped, NaN
 * becomes 0). Return FALSE with error set to abort. */
typedef gboolean (*tl_rows_func) (void *user, int y, int n, float *rgb, GError **error);

/* What to compute: a label-free map (saliency.method) from the features
 * alone, or a label-dependent baseline from the features and the gradient
 * of the model's score (the card's score: a class logit for classifiers,
 * the sum of a class's heat map for detectors) with respect to them. */
typedef enum {
  TL_EXPLAIN_LABEL_FREE = 0,
  TL_EXPLAIN_GRADCAM,
  TL_EXPLAIN_GRADCAM_PLUS_PLUS,
} tl_explain_kind;

typedef struct {
  tl_explain_kind    kind;
  tl_saliency_params saliency;   /* layer (NULL or "" = the model's default),
                                  * method and its parameters, target: the
                                  * class for the baselines, -1 = predicted */
} tl_explain_params;

/* Label-free, tl_saliency_default_params (). */
tl_explain_params tl_explain_default_params (void);
/* "eigencam" | "multivec-eigencam" | "tsm" | "mtsm" | "gradcam" |
 * "gradcam-plus-plus": sets kind and saliency.method. */
gboolean          tl_explain_method_from_name (const char *name, tl_explain_params *p,
                                               GError **error);

typedef struct tl_explain_cache tl_explain_cache;

/* Keeps the features of up to capacity (>= 1) recent images; thread-safe. */
tl_explain_cache *tl_explain_cache_new (int capacity);
void              tl_explain_cache_free (tl_explain_cache *cache);
/* Entries currently held. */
int               tl_explain_cache_size (tl_explain_cache *cache);
/* The raw store under it, for pipelines with their own results to keep: a
 * copy of the tensor stored for (model, key, image digest and size), or
 * NULL; and storing one (a copy; silently skipped if it cannot be made). */
tl_tensor        *tl_explain_cache_lookup (tl_explain_cache *cache, tl_model *model,
                                           const char *key, const uint64_t digest[2],
                                           int width, int height);
void              tl_explain_cache_store (tl_explain_cache *cache, tl_model *model,
                                          const char *key, const uint64_t digest[2],
                                          int width, int height, const tl_tensor *t);

typedef struct {
  int                    image_width, image_height;
  tl_preprocess_geometry geometry;   /* where the image sits in the model input */
  tl_tensor             *map;        /* h x w, values in [0,1], feature resolution */
  tl_saliency_report     report;
  char                  *layer;      /* the target layer used */
  int                    target;     /* baselines: the class explained, else -1 */
  uint64_t               digest[2];  /* content hash of the image (RGB rows, size) */
  bool                   from_cache; /* the features came from the cache */
} tl_explanation;

/* Strip height used when reading rows (exposed for front ends that want to
 * read their source in the same strips). */
#define TL_EXPLAIN_STRIP_ROWS 32

/* The pipeline over a row source of a width x height image. cache and
 * progress may be NULL. */
tl_explanation *tl_explain_rows (tl_model *model, int width, int height, tl_rows_func rows,
                                 void *rows_data, const tl_explain_params *params,
                                 tl_explain_cache *cache, tl_progress_func progress,
                                 void *progress_data, GError **error);
/* The same over an image (1..4 channels; grey is replicated, alpha ignored). */
tl_explanation *tl_explain_image (tl_model *model, const tl_image *img,
                                  const tl_explain_params *params, tl_explain_cache *cache,
                                  tl_progress_func progress, void *progress_data,
                                  GError **error);
void            tl_explanation_free (tl_explanation *ex);

/* Stage 1 alone, for pipelines that need the model-input pixels rather than
 * the features (Score-CAM): the rows clamped to [0,1] and resized to the
 * model's content size in strips, where the image sits in the model input
 * (geometry, may be NULL) and the content digest (may be NULL). Progress
 * goes from 0 to 0.2. */
tl_image       *tl_explain_read_resized (tl_model *model, int width, int height,
                                         tl_rows_func rows, void *rows_data,
                                         tl_preprocess_geometry *geometry, uint64_t digest[2],
                                         tl_progress_func progress, void *progress_data,
                                         GError **error);
/* A tl_rows_func over a tl_image (user): grey replicated, alpha dropped. */
gboolean        tl_image_rows (void *user, int y, int n, float *rgb, GError **error);

/* Fails unless layer names an explainable (NxCxHxW, H, W > 1) tensor of net;
 * model is the model's name, for the message. */
gboolean        tl_explain_check_layer (tl_net *net, const char *layer, const char *model,
                                        GError **error);

/* The map at the image's size (image_width x image_height floats, g_free). */
float          *tl_explanation_full_map (const tl_explanation *ex, GError **error);
/* Row-at-a-time access to the same values (tl_map_sampler_row). */
tl_map_sampler *tl_explanation_sampler (const tl_explanation *ex, GError **error);
/* Renders the map over img (which must have the explained size). */
tl_image       *tl_explanation_render (const tl_explanation *ex, const tl_image *img,
                                       const tl_render_params *params, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_explanation, tl_explanation_free)
