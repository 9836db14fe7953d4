/* Improved precision and recall (Kynkäänniemi et al. 2019): each set's
 * manifold is the union of balls around its points, each ball reaching that
 * point's k-th nearest neighbour within its own set (k = 3 by default).
 * Precision: fraction of generated points inside the real manifold.
 * Recall: fraction of real points inside the generated manifold. */
#pragma once
#include <glib.h>
#include <stdint.h>

#define TL_PRECISION_RECALL_DEFAULT_K 3

gboolean tl_precision_recall (const float *real, int64_t nr, const float *gen, int64_t ng,
                              int64_t d, int k, double *precision, double *recall,
                              GError **error);
