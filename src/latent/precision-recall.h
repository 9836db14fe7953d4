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

/* The same with the real set's k-NN radii computed once (the expensive
 * half when one real set meets many generated sets): radii from
 * tl_precision_recall_radii (g_free them), then any number of
 * tl_precision_recall_cached calls, equal to tl_precision_recall. */
double  *tl_precision_recall_radii (const float *real, int64_t nr, int64_t d, int k,
                                    GError **error);
gboolean tl_precision_recall_cached (const float *real, int64_t nr, const double *real_radius,
                                     const float *gen, int64_t ng, int64_t d, int k,
                                     double *precision, double *recall, GError **error);
