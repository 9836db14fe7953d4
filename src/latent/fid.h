/* Fréchet distance between Gaussian fits of two feature sets (FID, as
 * pytorch-fid computes it; methods.md, Part B): means, covariances with
 * ddof = 1, then |μ1 - μ2|² + tr Σ1 + tr Σ2 - 2 tr (Σ1^½ Σ2 Σ1^½)^½, the
 * square roots from symmetric eigen-decompositions (negative round-off
 * eigenvalues count as 0). Double precision throughout. */
#pragma once
#include <glib.h>
#include <stdint.h>

/* Mean [d] and covariance [d][d] (ddof = 1) of n >= 2 rows of d floats. */
gboolean tl_gaussian_stats (const float *x, int64_t n, int64_t d, double *mean, double *cov,
                            GError **error);
/* Fréchet distance of N(mu1, cov1) and N(mu2, cov2); >= 0 (a round-off
 * negative is reported as 0). */
gboolean tl_frechet_distance (const double *mu1, const double *cov1, const double *mu2,
                              const double *cov2, int64_t d, double *out, GError **error);
/* FID of two sets (na, nb >= 2 rows of d floats). */
gboolean tl_fid (const float *a, int64_t na, const float *b, int64_t nb, int64_t d, double *out,
                 GError **error);
