/* Gaussian mixture with full covariances: the ex-post density baseline of
 * Ghosh et al. 2020 (methods.md, Part B). Fit: k-means++ seeding and Lloyd
 * iterations give the initial responsibilities, then EM until the mean
 * log-likelihood changes by less than tol (at most max_iter iterations),
 * with reg_covar added to every covariance diagonal, as scikit-learn's
 * GaussianMixture does by default. Cost O(n·d²·k) per EM iteration.
 *
 * Sampling: sample k consumes 1 + 2·ceil(d/2) uniforms of the tl_rng stream
 * of `seed` (the component by inverse CDF of the weights, then ceil(d/2)
 * Box–Muller pairs ε), and is μ + L·ε with L the Cholesky factor. As with
 * the PMF sampler, any batching gives the same samples.
 *
 * The single Gaussian is k = 1, the N(0, I) prior is tl_gmm_new_prior(). */
#pragma once
#include "progress.h"
#include "rng.h"

#include <glib.h>
#include <stdint.h>

#define TL_GMM_MAX_COMPONENTS 4096
#define TL_GMM_MAX_DIM        4096

typedef struct {
  int      components;        /* k >= 1 (10) */
  double   tol;               /* EM stops when |Δ mean log-likelihood| < tol (1e-3) */
  int      max_iter;          /* EM iterations at most (2000) */
  double   reg_covar;         /* added to each covariance diagonal (1e-6) */
  int      kmeans_max_iter;   /* Lloyd iterations at most (300) */
  uint64_t init_seed;         /* seeds the k-means++ draws (0) */
} tl_gmm_params;

typedef struct tl_gmm tl_gmm;

tl_gmm_params tl_gmm_default_params (void);

/* Fits on z (n rows of d floats). Needs n >= max(2, k), finite values. */
tl_gmm  *tl_gmm_fit (const float *z, int64_t n, int64_t d, const tl_gmm_params *params,
                     tl_latent_progress_fn progress, gpointer progress_data, GError **error);
/* A mixture from given parameters (weights k, means k×d, covariances k×d×d,
 * row major); weights are normalised; fails if a covariance is not
 * positive definite. */
tl_gmm  *tl_gmm_new (int k, int64_t d, const double *weights, const double *means,
                     const double *covariances, GError **error);
/* N(0, I) in d dimensions: the VAE prior. */
tl_gmm  *tl_gmm_new_prior (int64_t d, GError **error);
void     tl_gmm_free (tl_gmm *gmm);

int            tl_gmm_components (const tl_gmm *gmm);
int64_t        tl_gmm_dim (const tl_gmm *gmm);
const double  *tl_gmm_weights (const tl_gmm *gmm);      /* [k] */
const double  *tl_gmm_means (const tl_gmm *gmm);        /* [k][d] */
const double  *tl_gmm_covariances (const tl_gmm *gmm);  /* [k][d][d] */
/* EM iterations run, and whether the tolerance was met within max_iter. */
int            tl_gmm_iterations (const tl_gmm *gmm);
gboolean       tl_gmm_converged (const tl_gmm *gmm);

/* Mean log-likelihood of z (n rows of d floats) under the mixture. */
gboolean tl_gmm_score (const tl_gmm *gmm, const float *z, int64_t n, double *mean_loglik,
                       GError **error);
void     tl_gmm_sample (const tl_gmm *gmm, uint64_t seed, int64_t first_index, int64_t count,
                        float *out);
/* The next count samples of a stream the caller positioned. */
void     tl_gmm_sample_stream (const tl_gmm *gmm, tl_rng *rng, int64_t count, float *out);
uint64_t tl_gmm_draws_per_sample (const tl_gmm *gmm);   /* 1 + 2·ceil(d/2) */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_gmm, tl_gmm_free)
