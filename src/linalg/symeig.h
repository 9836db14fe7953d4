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
