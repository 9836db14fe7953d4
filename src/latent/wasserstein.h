/* Wasserstein distances between two empirical distributions (methods.md,
 * Part B). In one dimension W_p is computed exactly from the two sorted
 * samples as ∫₀¹ |F_a⁻¹(t) - F_b⁻¹(t)|^p dt over their (step) quantile
 * functions, which handles unequal sizes. Sliced W2 averages the squared
 * 1-D W2 of the projections on fixed random unit directions; the mean W1
 * averages the 1-D W1 of every coordinate. */
#pragma once
#include <glib.h>
#include <stdint.h>

/* The fixed directions: tl_rng seeded with this, 1000 of them. */
#define TL_SLICED_SEED        UINT64_C (20230821)
#define TL_SLICED_DIRECTIONS  1000

/* Exact 1-D W_p^p (p = 1 or 2) between sorted a[na] and sorted b[nb]. */
double   tl_wasserstein_1d_sorted (const double *a, int64_t na, const double *b, int64_t nb,
                                   int p);
/* count unit vectors of dimension d, row-major, drawn from tl_rng(seed):
 * each is ceil(d/2) Box–Muller pairs (the last odd value dropped),
 * normalised. */
void     tl_sliced_directions (int64_t d, int count, uint64_t seed, double *out);
/* sqrt(mean over TL_SLICED_DIRECTIONS directions of 1-D W2²). */
gboolean tl_sliced_w2 (const float *a, int64_t na, const float *b, int64_t nb, int64_t d,
                       double *out, GError **error);
/* Mean over the d coordinates of the 1-D W1. */
gboolean tl_mean_w1 (const float *a, int64_t na, const float *b, int64_t nb, int64_t d,
                     double *out, GError **error);
