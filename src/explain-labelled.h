/* The label-dependent baselines on an image (methods.md "Label-dependent
 * baselines"): Grad-CAM, Grad-CAM++ and Score-CAM through a model, for
 * every task, beside tl_explain (which does Grad-CAM and Grad-CAM++ for
 * classifiers and detectors with a card, and is what the front ends use
 * there) and returning the same tl_explanation,
 * so that tl_explanation_full_map / _render take the map back onto the
 * image exactly as for EigenCAM or TSM.
 *
 * The score explained is tl_model_score's TARGET score (model-score.h):
 * the target logit of a classifier, the target channel's heat-map sum of a
 * detector, the cosine similarity of an embedding to a reference embedding.
 * target -1 = the top-1 class on the image.
 *
 * Grad-CAM(++) differentiate that score with the engine's backward pass
 * (tl_net_result_grad*). For an embedding whose reference is the image
 * itself the gradient of cos(f(x), f(x)) is zero in exact arithmetic, so
 * those two methods need a reference image (params.reference).
 * Score-CAM masks the model-input pixels in [0,1] (before the model's
 * normalisation, as the faithfulness metrics do) with each upsampled
 * (bilinear, half-pixel), min–max normalised channel, scores the masked
 * inputs in batches (a second copy of the network loaded for `batch`
 * inputs) and weighs the channels by softmax over those scores. */
#pragma once
#include <glib.h>
#include <stdint.h>

#include "explain.h"

typedef enum {
  TL_LABELLED_GRADCAM = 0,
  TL_LABELLED_GRADCAMPP,
  TL_LABELLED_SCORECAM,
} tl_labelled_method;

typedef struct {
  tl_labelled_method method;
  const char        *layer;     /* NULL or "" = the model's default target layer */
  int                target;    /* class / heat-map channel; -1 = top-1 on the image */
  int                channels;  /* Score-CAM: cap, the channels with the largest mean
                                 * activation; 0 = all */
  int                batch;     /* Score-CAM: masked inputs per forward pass (1..64) */
  const tl_image    *reference; /* embeddings: compare with this image's embedding
                                 * (NULL = the explained image's own) */
} tl_labelled_params;

typedef struct {
  int     target;     /* the class explained (-1 for embeddings) */
  double  score;      /* the explained score on the unmasked image */
  int     channels;   /* Score-CAM: channels used */
  int64_t shape[3];   /* C, H, W of the features */
} tl_labelled_report;

/* gradcam, Score-CAM batch 8, every channel, target -1, default layer. */
tl_labelled_params tl_labelled_default_params (void);

/* "gradcam" | "gradcam++" | "scorecam". */
const char *tl_labelled_method_name (tl_labelled_method m);
/* Those names and "gradcam-plus-plus" (tl_explain's); FALSE without
 * touching error if name is none of them. */
gboolean    tl_labelled_method_lookup (const char *name, tl_labelled_method *m);

/* The map of a width x height image read row by row (as tl_explain_rows
 * reads it: in strips, never copied whole) through model. With a cache
 * (may be NULL), the map of an image seen before with the same method,
 * layer, target and channels is recalled, not recomputed (not with a
 * reference image; the recalled report's score is rounded to float).
 * report may be NULL. */
tl_explanation *tl_explain_labelled_rows (tl_model *model, int width, int height,
                                          tl_rows_func rows, void *rows_data,
                                          const tl_labelled_params *params,
                                          tl_explain_cache *cache, tl_labelled_report *report,
                                          tl_progress_func progress, void *progress_data,
                                          GError **error);
/* The same over img (1..4 channels). */
tl_explanation *tl_explain_labelled (tl_model *model, const tl_image *img,
                                     const tl_labelled_params *params,
                                     tl_labelled_report *report, tl_progress_func progress,
                                     void *progress_data, GError **error);

/* The model-input pixels of img (1 × C × H × W in [0,1], before the model's
 * normalisation) and where the image sits in them: the same resize as
 * tl_explain (stretch or letterbox, the card's resize mode). */
tl_tensor *tl_model_pixels (tl_model *model, const tl_image *img, tl_preprocess_geometry *g,
                            GError **error);
