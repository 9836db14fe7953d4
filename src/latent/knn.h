/* Nearest-neighbour distances by brute force (BLAS blocks of
 * |a|² + |b|² - 2 a·b, in double): the k-NN radii of the precision/recall
 * manifolds and the distance of each sample to its nearest training
 * latent. O(na·nb·d) time, O(block·nb) memory. */
#pragma once
#include <glib.h>
#include <stdint.h>

#define TL_KNN_MAX_K 1024

/* radius[i] = Euclidean distance from x_i to its k-th nearest other point
 * of x (itself excluded by index). Needs 1 <= k < n. */
gboolean tl_knn_radii (const float *x, int64_t n, int64_t d, int k, double *radius,
                       GError **error);
/* dist[i] = Euclidean distance from q_i to the nearest row of ref. */
gboolean tl_nn_distances (const float *q, int64_t nq, const float *ref, int64_t nr, int64_t d,
                          double *dist, GError **error);
/* covered[i] = whether some ref row j has |q_i - ref_j| <= radius[j]. */
gboolean tl_knn_covered (const float *q, int64_t nq, const float *ref, int64_t nr, int64_t d,
                         const double *radius, gboolean *covered, GError **error);
