/* Every latent-space measure of methods.md, Part B, for one set of samples
 * against the training bank and held-out latents: the numbers
 * `tensorlens eval-sampling` reports and the evaluation uses to pick the
 * samplers' defaults. (FID proper needs decoded images and a feature
 * network; in latent space the same Fréchet distance is reported as a
 * plain latent statistic.) */
#pragma once
#include "memorisation.h"

#include <glib.h>
#include <stdint.h>

typedef struct {
  double sliced_w2;      /* samples vs held-out */
  double mean_w1;        /* samples vs held-out */
  double frechet;        /* Fréchet distance of Gaussian fits, samples vs held-out */
  double precision;      /* k-NN (k = 3), held-out as the real set */
  double recall;
  tl_memorisation memo;  /* nearest-training-latent distances */
} tl_latent_scores;

/* samples[ns], train[ntrain], heldout[nh]: rows of d floats. Needs
 * ns, nh >= 4 (k-NN with k = 3, covariances with ddof = 1). */
gboolean tl_latent_evaluate (const float *samples, int64_t ns, const float *train,
                             int64_t ntrain, const float *heldout, int64_t nh, int64_t d,
                             tl_latent_scores *out, GError **error);
