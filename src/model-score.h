/* The scalar a model's output is judged by, and batched forward passes that
 * compute it: what the label-dependent saliency baselines (Grad-CAM,
 * Grad-CAM++, Score-CAM) differentiate or measure, and what the
 * faithfulness metrics call f(x) (methods.md).
 *
 * Per task, from the card's score tensor (a bare ONNX file: its first
 * output, read as an embedding):
 *   classifier  TARGET: the logit of the target class
 *               FAITH:  its softmax probability (softmax of the logits)
 *   detector    both:   Σ_{y,x} heat-map[target, y, x] (the card's score)
 *   embedding   TARGET: cos(embedding(x), reference)
 *               FAITH:  max(0, cos(embedding(x), reference))
 * The reference of an embedding is normally the clean image's embedding.
 *
 * Inputs are pixels in [0,1] at the model's input geometry (what
 * tl_preprocess_pixels returns); the model's own normalisation is applied
 * here, on a copy. */
#pragma once
#include <glib.h>
#include <stdint.h>

#include "model.h"

typedef enum {
  TL_MODEL_SCORE_TARGET,   /* what the label-dependent maps explain */
  TL_MODEL_SCORE_FAITH,    /* f(x) of the faithfulness metrics */
} tl_model_score_mode;

typedef struct {
  tl_model_score_mode mode;
  int                 target;     /* class / heat-map channel (classifier, detector) */
  const float        *reference;  /* embeddings: k floats */
  int64_t             k;
} tl_model_score;

/* The tensor the score reads: the card's score tensor, else the network's
 * first output. NULL + error for autoencoders. */
const char *tl_model_score_tensor (tl_model *model, GError **error);

/* Checks that out (the score tensor for a batch of n) suits the task and
 * spec (target in range, reference length), then writes n scores. */
gboolean tl_model_score_output (tl_model *model, const tl_tensor *out, int n,
                                const tl_model_score *spec, double *scores, GError **error);

/* The top-1 target of a batch-1 output: the class with the largest logit
 * (classifier) or heat-map peak (detector: the strongest detection, as
 * tl_explain chooses it); ties go to the lower index.
 * Embeddings have none: -1. */
int tl_model_score_top1 (tl_model *model, const tl_tensor *out);

/* A second copy of the model's network, loaded for `batch` inputs per run;
 * a graph the engine cannot load at another batch size (tl_net_load_batch
 * fails) is run one input at a time through the model's own network
 * instead (tl_model_batch_size then says 1). */
typedef struct tl_model_batch tl_model_batch;

tl_model_batch *tl_model_batch_new (tl_model *model, int batch, GError **error);
void            tl_model_batch_free (tl_model_batch *b);
int             tl_model_batch_size (const tl_model_batch *b);
/* Scores n (≥ 1, any number: run in chunks of the batch size) inputs of
 * pixels in [0,1], n × C × H × W contiguous, into scores[0..n). */
gboolean        tl_model_batch_scores (tl_model_batch *b, const float *pixels, int64_t n,
                                       const tl_model_score *spec, double *scores,
                                       GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_model_batch, tl_model_batch_free)
