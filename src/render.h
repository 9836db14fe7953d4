/* Output modes for a saliency map, shared by the CLI, the GEGL op and the
 * GIMP plug-in. Inputs: an image row (1..4 channels, see image.h) and the
 * saliency map at the image's size, values in [0,1] (clamped; NaN -> 0).
 *
 *   heatmap : colormap(s), opaque (alpha 1 when the output has alpha)
 *   map     : grey s, opaque
 *   overlay : rgb = (1 - A) * img_rgb + A * colormap(s), A = opacity;
 *             alpha = the input's alpha (1 if it has none). Grey input is
 *             treated as RGB with R = G = B.
 *   masked  : colour = img_colour * s; alpha = the input's alpha.
 * Output channels are chosen by the caller (1..4). Colour is written as grey
 * when the output has 1-2 channels (heatmap/overlay then store BT.601 luma
 * of the RGB result) and as RGB when it has 3-4. tl_render_channels() gives
 * the natural choice. */
#pragma once
#include <glib.h>
#include <stdbool.h>

#include "colormap.h"
#include "image.h"
#include "preprocess.h"

typedef enum {
  TL_RENDER_HEATMAP = 0,
  TL_RENDER_MAP,
  TL_RENDER_OVERLAY,
  TL_RENDER_MASKED,
} tl_render_mode;

typedef struct {
  tl_render_mode mode;
  tl_colormap    colormap;
  float          opacity;   /* A for overlay, in [0,1] */
  int            n_threads; /* rows run on this many threads; 0 = all cores */
} tl_render_params;

/* overlay, jet, opacity 0.5 (pytorch-grad-cam's show_cam_on_image default),
 * n_threads 1. */
tl_render_params tl_render_default_params (void);

/* "heatmap" | "map" | "overlay" | "masked". */
const char *tl_render_mode_name (tl_render_mode mode);
bool        tl_render_mode_from_name (const char *name, tl_render_mode *mode, GError **error);

/* Natural output channels for an input with src_channels: heatmap 3,
 * map 1, overlay 3 or 4 (4 iff the input has alpha), masked = src_channels. */
int tl_render_channels (tl_render_mode mode, int src_channels);

/* Checks params (mode, colormap, opacity in [0,1], n_threads >= 0). */
bool tl_render_params_check (const tl_render_params *p, GError **error);

/* One row of n pixels: src (src_channels interleaved), map (n floats) ->
 * dst (dst_channels interleaved). src may be NULL for heatmap and map. No
 * allocation: a GEGL op can call it per tile row. params must be valid. */
void tl_render_row (const tl_render_params *p, const float *src, int src_channels,
                    const float *map, float *dst, int dst_channels, int n);

/* Whole image; map is img->width x img->height floats. Output channels from
 * tl_render_channels(). */
tl_image *tl_render (const tl_render_params *p, const tl_image *img, const float *map,
                     GError **error);

/* Fused steps 3-4 of methods.md "Finishing" + render: map is the
 * low-resolution saliency map (mw x mh, e.g. 16 x 16) over the model input
 * described by g (from tl_preprocess); each image row's map values are
 * interpolated on the fly (exactly as tl_preprocess_unmap does) and
 * rendered, so no full-size map buffer is needed. */
tl_image *tl_render_unmap (const tl_render_params *p, const tl_image *img,
                           const tl_preprocess_geometry *g, const float *map, int mw, int mh,
                           GError **error);
