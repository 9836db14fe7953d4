/* Leading singular triplets of a tall or wide matrix from the eigen-
 * decomposition of its smaller Gram matrix, in double. For a 2048×49
 * matrix that is a 49×49 eigenproblem instead of a 2048×2048 SVD.
 *
 * Components whose singular value is "numerically zero" (σ_k ≤ 1e-6·σ_1,
 * or σ_1 = 0, methods.md) are dropped: the far side's vectors are computed
 * as Y·V·Σ⁻¹ only over the components that remain. */
#pragma once
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Relative threshold below which a singular value counts as zero. */
#define TL_LINALG_ZERO_REL 1e-6

/* M is m×n. When trans is false M is Y itself (row-major m×n); when true, M
 * is Yᵀ with Y stored row-major n×m (so a mode-3 unfolding needs no copy).
 * Up to k = 1..min(m,n) components are computed: s[0..k) singular values
 * (decreasing), U (m×k, row-major, columns = left vectors) and V (n×k,
 * columns = right vectors); U or V may be NULL. *rank receives the number r
 * of components kept; columns r..k of U, V and s[r..k) are set to zero. */
gboolean tl_linalg_svd_leading (const double *Y, int64_t m, int64_t n, bool trans,
                                int k, double *s, double *U, double *V, int *rank,
                                GError **error);

/* The same singular values, and the right vectors of Y (row-major m×n) as
 * the rows of Vr (k×n, vector j at Vr + j·n, rows r..k zero): for callers
 * that walk the vectors one by one (Multivec-EigenCAM). */
gboolean tl_linalg_svd_leading_rows (const double *Y, int64_t m, int64_t n, int k, double *s,
                                     double *Vr, int *rank, GError **error);

/* Number of leading values of the decreasing array s[0..k) that are not
 * numerically zero. */
int tl_linalg_numerical_rank (const double *s, int k);
