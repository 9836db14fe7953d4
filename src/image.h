/* tl_image: a decoded raster, the ground floor of everything that touches
 * pixels (CLI, GEGL op, GIMP plug-in, preprocessing).
 *
 * Layout: float32, interleaved (chunky), row-major, no padding:
 *   data[(y * width + x) * channels + c],  0 <= c < channels.
 * channels: 1 = grey, 2 = grey + alpha, 3 = RGB, 4 = RGBA.
 * Values are in [0,1]: an 8-bit sample v becomes v / 255, a 16-bit one
 * v / 65535. Alpha is straight (not premultiplied), as in PNG. Colour is
 * taken as stored (assumed sRGB-encoded, like GEGL's R'G'B'); gAMA, sRGB
 * and ICC chunks are ignored, so no gamma conversion ever happens here.
 * Planar access: tl_image_get() or tl_image_to_chw().
 * The struct is plain on purpose: a front end holding pixels in this
 * layout already (e.g. a GEGL op's "R'G'B'A float" linear copy of its input)
 * can pass them to every const tl_image API as a view,
 *   tl_image view = { .width = w, .height = h, .channels = 4, .data = buf };
 * without copying; such a view must never be given to tl_image_free(). */
#pragma once
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

/* Largest image we decode or allocate, in pixels: 2^28 = 268 megapixels,
 * e.g. 16384 x 16384. A 6000x4000 photo (24 MP) is 10x below it. Above it an
 * RGBA float image passes 4 GiB and (w*h*channels) no longer fits an int32,
 * and no camera or model input comes near it, so a header claiming more is
 * corrupt or hostile: we refuse it before allocating anything. */
#define TL_IMAGE_MAX_PIXELS ((int64_t) 1 << 28)

typedef struct {
  int    width;
  int    height;
  int    channels; /* 1..4, see above */
  float *data;     /* width * height * channels floats, owned */
} tl_image;

typedef enum {
  TL_IMAGE_FORMAT_UNKNOWN = 0,
  TL_IMAGE_FORMAT_PNG,
  TL_IMAGE_FORMAT_JPEG,
} tl_image_format;

/* Uninitialised pixels (callers fill every sample). Fails on channels outside
 * 1..4, a size < 1 or a pixel count above TL_IMAGE_MAX_PIXELS. */
tl_image *tl_image_new (int width, int height, int channels, GError **error);
tl_image *tl_image_copy (const tl_image *img, GError **error);
void      tl_image_free (tl_image *img);

/* Sample (x, y, c); no bounds checks (hot loops use it). */
static inline float
tl_image_get (const tl_image *img, int x, int y, int c)
{
  return img->data[((size_t) y * (size_t) img->width + (size_t) x) * (size_t) img->channels
                   + (size_t) c];
}

static inline bool
tl_image_has_alpha (const tl_image *img)
{
  return img->channels == 2 || img->channels == 4;
}

/* Format from the first bytes (PNG signature, JPEG SOI marker), never from a
 * file name. */
tl_image_format tl_image_sniff (const guint8 *head, size_t len);

/* Loads PNG (1/2/4/8/16-bit grey, grey+alpha, RGB, RGBA, palette, tRNS) or
 * JPEG (grey, YCbCr/RGB; CMYK is refused with TL_ERROR_UNSUPPORTED), picked
 * by content. Channels follow the file: grey -> 1, grey+alpha or grey+tRNS
 * -> 2, RGB -> 3, RGBA / palette with tRNS / RGB+tRNS -> 4, palette -> 3.
 * Errors name the file: TL_ERROR_IO (cannot read), TL_ERROR_FORMAT
 * (truncated, corrupt, not an image), TL_ERROR_UNSUPPORTED, TL_ERROR_INVALID
 * (dimensions zero or above TL_IMAGE_MAX_PIXELS). */
tl_image *tl_image_load (const char *path, GError **error);
/* Same from memory; name is used in error messages only. */
tl_image *tl_image_load_from_memory (const guint8 *data, size_t len, const char *name,
                                     GError **error);

/* PNG, bit_depth 8 or 16, colour type from channels (grey, grey+alpha, RGB,
 * RGBA). Samples are clamped to [0,1] (NaN -> 0) and rounded to nearest. */
bool tl_image_save_png (const tl_image *img, const char *path, int bit_depth, GError **error);

/* A copy with another channel count: grey -> RGB replicates; RGB -> grey
 * uses ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B (what PIL's convert("L")
 * does); adding alpha sets it to 1, dropping alpha discards it (no
 * compositing). */
tl_image *tl_image_convert (const tl_image *img, int channels, GError **error);

/* Planar copy as a 1 x C x H x W tensor (values unchanged). */
tl_tensor *tl_image_to_chw (const tl_image *img, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_image, tl_image_free)
