/* Symmetric eigen-decomposition in double over LAPACKE (dsyevr): the top k
 * eigenpairs, largest first. The building block of every "leading singular
 * vectors from the small Gram matrix" computation in tensorlens. */
#pragma once
#include <glib.h>
#include <stdint.h>

/* A is n×n, row-major, symmetric; only its upper triangle is read, and it
 * is overwritten. On success w[0..k) holds the k largest eigenvalues in
 * decreasing order and Z (n×k, row-major, leading dimension k) the matching
 * orthonormal eigenvectors as columns. 1 ≤ k ≤ n. Z must not alias A. */
gboolean tl_linalg_symeig_top (int n, double *A, int k, double *w, double *Z,
                               GError **error);

/* The same, with the eigenvectors as the rows of Z (k×n, vector j at
 * Z + j·n): each one contiguous, for callers that walk them one by one. */
gboolean tl_linalg_symeig_top_rows (int n, double *A, int k, double *w, double *Z,
                                    GError **error);

/* The same top k eigenpairs of A, plus what a rank decision needs from the
 * whole spectrum without computing it: *n_above receives the number of the
 * n eigenvalues above rel·λ1 (0 when λ1 ≤ 0), and, when sum_top is not
 * NULL, *sum_top the sum of the largest min(cap, *n_above) eigenvalues
 * (cap ≥ 1). For k ≤ n/6 this is one tridiagonal reduction, bisection and
 * inverse iteration for the k wanted pairs, and a Sturm count (O(n)) for
 * *n_above: the spectrum itself is computed only when the sum needs
 * eigenvalues beyond the k. */
gboolean tl_linalg_symeig_top_count (int n, double *A, int k, double *w, double *Z,
                                     double rel, int *n_above, int cap, double *sum_top,
                                     GError **error);
/* The same with the eigenvectors as rows of Z (k×n), as symeig_top_rows. */
gboolean tl_linalg_symeig_top_count_rows (int n, double *A, int k, double *w, double *Z,
                                          double rel, int *n_above, int cap, double *sum_top,
                                          GError **error);

/* The top eigenpair of A (n×n, row-major, symmetric; only the upper
 * triangle is read, A is not modified) by Lanczos with full
 * reorthogonalisation from a fixed start vector: a few matrix–vector
 * products instead of a tridiagonal reduction. Returns TRUE with w, z (n)
 * only when the Ritz pair is certain to the level LAPACK's would be: its
 * residual ≤ 1e-13·λ1 and a relative gap of at least 1e-3 to the next
 * Ritz interval (so the vector is within ~1e-10). FALSE (nothing set) when
 * that is not reached within min(n, 64) steps or λ1 ≤ 0: use
 * tl_linalg_symeig_top then. Like any Krylov method it assumes the start
 * vector is not orthogonal to the top eigenvector (a fixed, irregular
 * vector: true of real data but for a set of measure zero), and with an
 * exactly multiple λ1 it returns one unit vector of that eigenspace, as
 * LAPACK does. */
gboolean tl_linalg_symeig_top1_krylov (int n, const double *A, double *w, double *z);
