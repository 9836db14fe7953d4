/* Score-CAM (Wang et al. 2020) as pytorch-grad-cam computes it, split at the
 * engine boundary: this module builds the masks M_k and combines the scores
 * the engine measured; the engine runs the forward passes y_k = f(x ⊙ M_k).
 * methods.md: α = softmax_k(y_k) over the channels used, S = ReLU(Σ α_k F[k]),
 * then the usual finish; an optional cap keeps the channels with the
 * largest mean activation. */
#pragma once
#include "tensor.h"

#include <glib.h>

/* Resamples one plane src (sh×sw) to dst (dh×dw). The imaging code's
 * bilinear resize fits (tl_resize with one channel). */
typedef gboolean (*tl_upsample_fn) (const float *src, int sw, int sh, float *dst, int dw,
                                    int dh, void *user, GError **error);

/* The `cap` channels of F with the largest spatial mean (ties: lower index
 * first), in that order, into channels[]; cap ≤ 0 or ≥ C selects all C in
 * index order. Returns the number selected, or -1 with an error. */
int      tl_scorecam_select_channels (const tl_tensor *F, int cap, int *channels,
                                      GError **error);

/* masks (n×dh×dw): for each channels[k], F[channels[k]] upsampled to dh×dw
 * by up (NULL: dh×dw must equal H×W) and then min–max normalised to [0,1]
 * (a constant plane gives zeros). */
gboolean tl_scorecam_masks (const tl_tensor *F, const int *channels, int n, int dh, int dw,
                            tl_upsample_fn up, void *user, float *masks, GError **error);

/* The map from the scores y[k] of x ⊙ M_k for channels[k], k < n. weights
 * (n, may be NULL) receives α. */
gboolean tl_scorecam_map (const tl_tensor *F, const int *channels, const double *scores,
                          int n, tl_tensor **map_out, double *weights, GError **error);
