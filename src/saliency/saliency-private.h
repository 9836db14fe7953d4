/* Internal interface between saliency.c (checks, conversion to double,
 * dispatch) and the method files. X is C×N (N = H·W) row-major doubles. */
#pragma once
#include "saliency.h"

/* EigenCAM centres X in place. */
gboolean tl_saliency_eigencam (double *X, int64_t C, int64_t H, int64_t W,
                               const tl_saliency_params *p, double *S,
                               tl_saliency_report *rep, GError **error);
gboolean tl_saliency_tucker (const double *X, int64_t C, int64_t H, int64_t W,
                             const tl_saliency_params *p, double *S,
                             tl_saliency_report *rep, GError **error);

/* F (C×H×W or 1×C×H×W, any strides) as contiguous doubles, after checking
 * its shape and that every value is finite; errors name it as `what`. */
double    *tl_saliency_to_double (const tl_tensor *F, const char *what, int64_t *C,
                                  int64_t *H, int64_t *W, GError **error);
/* The finished H×W float32 map of S (sign already applied): ReLU, min–max. */
tl_tensor *tl_saliency_finish_map (const double *S, int64_t H, int64_t W, bool *constant,
                                   GError **error);
