/* The finishing steps every saliency map shares (methods.md "Finishing"):
 * the deterministic sign rule, ReLU and min–max to [0,1] with the
 * constant-map rule. Double in, float32 out, never NaN. */
#pragma once
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Relative range under which a map after ReLU counts as constant. */
#define TL_SALIENCY_CONST_REL 1e-6
/* τ = TL_SALIENCY_TIE_REL·‖p‖·‖m‖ in the sign rule. */
#define TL_SALIENCY_TIE_REL 1e-12

/* m[n] = (1/C)·Σ_c X[c,n] for X (C×N, row-major): the mean activation map. */
void tl_saliency_mean_map (const double *X, int64_t C, int64_t N, double *m);

/* The sign s ∈ {+1, −1} of methods.md for the spatial map p (N entries)
 * given the mean map m: s·t > 0 with t = Σ p[n]·(m[n] − m̄) beyond
 * τ = 1e-12·‖p‖·‖m‖; on a tie the largest-magnitude entry of p (first in
 * raster order) becomes positive; an all-zero p gives +1. */
int  tl_saliency_sign (const double *p, const double *m, int64_t N);

/* out = min–max of ReLU(s): all zeros when the ReLU'd map is constant
 * (range ≤ 1e-6·max, or max = 0). s is not modified. Returns true when the
 * map was constant. */
bool tl_saliency_finish (const double *s, int64_t N, float *out);
