/* Internal interface between saliency.c (checks, conversion to double,
 * dispatch) and the method files. X is C×N (N = H·W) row-major doubles. */
#pragma once
#include "saliency.h"

gboolean tl_saliency_eigencam (const double *X, int64_t C, int64_t H, int64_t W,
                               const tl_saliency_params *p, double *S,
                               tl_saliency_report *rep, GError **error);
gboolean tl_saliency_tucker (const double *X, int64_t C, int64_t H, int64_t W,
                             const tl_saliency_params *p, double *S,
                             tl_saliency_report *rep, GError **error);
