/* Resampling of interleaved float rasters (images, saliency maps).
 * Symbols are tl_resample_* (and tl_image_resize, tl_map_sampler_*): the
 * tl_resize_* names belong to the engine's ONNX Resize op
 * (src/nn/kernels/kernels.h), a different thing on NCHW tensors.
 *
 * Sample positions. Output pixel i (0-based) of an axis resized from n_in to
 * n_out samples reads the input at the continuous coordinate
 *   TL_RESAMPLE_HALF_PIXEL : s = (i + 0.5) * n_in / n_out - 0.5, then s < 0 -> 0
 *                          (OpenCV resize INTER_LINEAR, PyTorch interpolate
 *                          mode="bilinear", align_corners=False)
 *   TL_RESAMPLE_TF_LEGACY  : s = i * n_in / n_out
 *                          (TensorFlow / TF.js resizeBilinear with
 *                          alignCorners=false, halfPixelCenters=false, the
 *                          preprocessing the TF.js-converted models used)
 * and interpolates linearly between floor(s) and floor(s)+1, the latter
 * clamped to n_in - 1 (edge clamp).
 *   TL_RESAMPLE_AREA       : antialiased box filter for downscaling: output
 *                          pixel i is the mean of the input over
 *                          [i * n_in / n_out, (i + 1) * n_in / n_out), partial
 *                          pixels weighted by their covered fraction (OpenCV
 *                          INTER_AREA when shrinking). An axis that grows
 *                          uses TL_RESAMPLE_HALF_PIXEL instead.
 * The two axes are resampled separately (separable filters), with index and
 * weight tables computed once per call. */
#pragma once
#include <glib.h>
#include <stdbool.h>

#include "image.h"

typedef enum {
  TL_RESAMPLE_HALF_PIXEL = 0,
  TL_RESAMPLE_TF_LEGACY,
  TL_RESAMPLE_AREA,
} tl_resample_mode;

/* "half-pixel" | "tf-legacy" | "area". */
const char *tl_resample_mode_name (tl_resample_mode mode);
bool        tl_resample_mode_from_name (const char *name, tl_resample_mode *mode, GError **error);

/* Resizes src (sw x sh x channels, interleaved, contiguous) into dst
 * (dw x dh x channels, caller-allocated). Fails on sizes < 1, channels
 * outside 1..4 or an output above TL_IMAGE_MAX_PIXELS. */
bool tl_resample (const float *src, int sw, int sh, int channels,
                  float *dst, int dw, int dh, tl_resample_mode mode, GError **error);

tl_image *tl_image_resize (const tl_image *img, int width, int height, tl_resample_mode mode,
                           GError **error);

/* Bilinear (half-pixel convention) resampling of the source window
 * [x0, x0 + w) x [y0, y0 + h), given in source pixel units (fractions
 * allowed; the window may be the whole source), onto dw x dh outputs:
 * output pixel i reads s = x0 + (i + 0.5) * w / dw - 0.5, clamped to
 * [0, sw - 1]. With the full window it equals TL_RESAMPLE_HALF_PIXEL. This is
 * how a saliency map computed on a letterboxed model input maps back onto
 * the image (see preprocess.h). */
bool tl_resample_window (const float *src, int sw, int sh, int channels,
                         double x0, double y0, double w, double h,
                         float *dst, int dw, int dh, GError **error);

/* The same window resampling for one channel, one output row at a time (so
 * a 12-megapixel map never has to exist in memory): the source rows are
 * filtered horizontally once at creation; each row then costs one blend of
 * two of them. Rows can be taken concurrently from several threads. The
 * values are bit-identical to tl_resample_window. */
typedef struct tl_map_sampler tl_map_sampler;

tl_map_sampler *tl_map_sampler_new (const float *src, int sw, int sh, double x0, double y0,
                                    double w, double h, int dw, int dh, GError **error);
int             tl_map_sampler_width (const tl_map_sampler *s);
int             tl_map_sampler_height (const tl_map_sampler *s);
/* out: tl_map_sampler_width() floats for row y (0 <= y < height) */
void            tl_map_sampler_row (const tl_map_sampler *s, int y, float *out);
void            tl_map_sampler_free (tl_map_sampler *s);
