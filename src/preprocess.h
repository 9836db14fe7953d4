/* Image -> model input tensor (NCHW float32, 1 x C x H x W), and the way
 * back from the model input's geometry to the image's.
 *
 * Steps, in this order:
 *  1. geometry: the whole image is resized to width x height (stretch, no
 *     crop), or with letterbox = true scaled by min(width/w, height/h),
 *     centred, and the border filled with letterbox_fill (a pixel value in
 *     [0,1], before scaling);
 *  2. resize with resize_mode (see resize.h); alpha is dropped (not
 *     composited);
 *  3. colour: channels == 1 from RGB uses gray_weights (g = w0 R + w1 G +
 *     w2 B); channels == 3 from grey replicates it; bgr = true swaps R and B;
 *  4. value: x = (p * scale - mean[c]) / std[c], with p in [0,1] and mean,
 *     std in the model's range (after scale).
 * Example cards: torchvision ImageNet = scale 1, mean (0.485, 0.456, 0.406),
 * std (0.229, 0.224, 0.225); a model fed 0..255 = scale 255, mean 0, std 1;
 * emotion (FER) grey = channels 1, gray_weights (0.2989, 0.5870, 0.1140). */
#pragma once
#include <glib.h>
#include <stdbool.h>

#include "image.h"
#include "resize.h"
#include "tensor.h"

typedef struct {
  int              width;    /* model input W */
  int              height;   /* model input H */
  int              channels; /* 1 or 3 */
  tl_resample_mode resize_mode;
  float            scale;    /* [0,1] -> model range */
  float            mean[3];
  float            std[3];
  float            gray_weights[3];
  bool             bgr;
  bool             letterbox;
  float            letterbox_fill;
} tl_preprocess_params;

/* 224 x 224 x 3, half-pixel, scale 1, mean 0, std 1, gray weights
 * (0.299, 0.587, 0.114), RGB, stretch, fill 0. */
tl_preprocess_params tl_preprocess_default_params (void);

/* Checks sizes (1..TL_IMAGE_MAX_PIXELS), channels, std != 0, finite values. */
bool tl_preprocess_params_check (const tl_preprocess_params *p, GError **error);

/* Where the image lies inside the model input, in input pixel units: the
 * content rectangle [x0, x0 + w) x [y0, y0 + h). Stretch: (0, 0, W, H). */
typedef struct {
  int    image_width, image_height;  /* original image */
  int    input_width, input_height;  /* model input */
  double x0, y0, w, h;               /* content rectangle in the input */
} tl_preprocess_geometry;

/* Geometry of params applied to an image_width x image_height image.
 * Letterbox: s = min(W / iw, H / ih); w = round(iw * s), h = round(ih * s)
 * (at least 1); x0 = floor((W - w) / 2), y0 = floor((H - h) / 2). */
tl_preprocess_geometry tl_preprocess_geometry_for (const tl_preprocess_params *p,
                                                   int image_width, int image_height);

/* The input tensor, 1 x channels x height x width; geometry (optional) is
 * filled as above. Same as tl_preprocess_pixels + tl_preprocess_normalize. */
tl_tensor *tl_preprocess (const tl_preprocess_params *p, const tl_image *img,
                          tl_preprocess_geometry *geometry, GError **error);

/* Steps 1-3 only: the model input's pixels, 1 x channels x height x width,
 * values in [0,1], channels in the model's order (bgr applied), border =
 * letterbox_fill. This is the x the faithfulness metrics mask and blur
 * (methods.md: masking acts on [0,1] pixels before the model's own
 * normalisation). */
tl_tensor *tl_preprocess_pixels (const tl_preprocess_params *p, const tl_image *img,
                                 tl_preprocess_geometry *geometry, GError **error);
/* Step 4 in place on n such inputs (n x channels x height x width,
 * contiguous): x = (x * scale - mean[c]) / std[c]. */
bool tl_preprocess_normalize (const tl_preprocess_params *p, float *x, int n, GError **error);

/* A map covering the whole model input (mw x mh, any resolution, e.g. the
 * 16 x 16 feature map) back onto the image: out is image_width x
 * image_height floats, bilinear with half-pixel centres over the content
 * rectangle only (methods.md, Finishing 3-4). For stretch this is exactly a
 * half-pixel resize of the map to the image size. */
bool tl_preprocess_unmap (const tl_preprocess_geometry *g, const float *map, int mw, int mh,
                          float *out, GError **error);

/* The row-at-a-time form of tl_preprocess_unmap (same values), for
 * rendering straight from the low-resolution map (tl_render_unmap). */
tl_map_sampler *tl_preprocess_sampler_new (const tl_preprocess_geometry *g, const float *map,
                                           int mw, int mh, GError **error);
