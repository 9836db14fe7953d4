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
