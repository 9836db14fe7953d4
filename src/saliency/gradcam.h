/* Label-dependent baselines from a layer's activations F and the gradient
 * dF = ∂y/∂F of the target score (methods.md "Label-dependent baselines"),
 * computed as pytorch-grad-cam does, then finished like every map here
 * (ReLU, min–max, constant → zeros). The engine's backward pass supplies dF. */
#pragma once
#include "tensor.h"

#include <glib.h>

/* Grad-CAM: α_c = mean_{h,w} dF[c,h,w]; S = ReLU(Σ_c α_c F[c]).
 * F and dF: C×H×W or 1×C×H×W, same C, H, W, finite. weights (C, may be
 * NULL) receives α. */
gboolean tl_gradcam_map (const tl_tensor *F, const tl_tensor *dF, tl_tensor **map_out,
                         double *weights, GError **error);

/* Grad-CAM++ (Chattopadhay et al. 2018, first-order gradients under the
 * exponential-output assumption, eq. 19): with g = dF and A_c = Σ_{h,w} F[c],
 *   a[c,h,w] = g² / (2g² + A_c·g³ + 1e-6), and 0 where g = 0,
 *   α_c = Σ_{h,w} max(g, 0)·a[c,h,w],   S = ReLU(Σ_c α_c F[c]). */
gboolean tl_gradcampp_map (const tl_tensor *F, const tl_tensor *dF, tl_tensor **map_out,
                           double *weights, GError **error);
