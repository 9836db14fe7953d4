/* Separable Gaussian blur of planar float images, SciPy-exact:
 * scipy.ndimage.gaussian_filter(x, sigma=(0, s, s), mode='reflect',
 * truncate=t). The kernel has radius ⌊t·σ + 0.5⌋ and is renormalised to
 * sum 1; borders are reflected with the edge repeated (d c b a | a b c d),
 * periodically when the radius exceeds the image. Used for the insertion
 * metric's baseline (methods.md "Faithfulness metrics"). */
#pragma once
#include <glib.h>

/* src and dst: C×H×W planes (may not overlap). sigma ≥ 0 (0 copies),
 * truncate > 0. Rows first (axis H), then columns (axis W), in double. */
gboolean tl_gaussian_blur (const float *src, int C, int H, int W, double sigma,
                           double truncate, float *dst, GError **error);
