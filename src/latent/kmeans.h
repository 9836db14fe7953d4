/* k-means for the GMM's initial responsibilities, as scikit-learn's
 * default: greedy k-means++ seeding (2 + floor(ln k) candidates per centre,
 * the one that lowers the potential most wins), then Lloyd iterations until
 * no label changes or the centres move less than 1e-4 times the mean
 * per-dimension variance. Internal to src/latent. */
#pragma once
#include "progress.h"
#include "rng.h"

#include <glib.h>
#include <stdint.h>

/* x: n rows of d doubles, 1 <= k <= n. Writes labels[n] (0 .. k-1) and
 * centres[k][d]. Needs n·k doubles of scratch. */
void tl_kmeans (const double *x, int64_t n, int64_t d, int k, int max_iter, tl_rng *rng,
                tl_latent_progress_fn progress, gpointer progress_data,
                int32_t *labels, double *centres);
