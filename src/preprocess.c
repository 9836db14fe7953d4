/* Image -> NCHW model input, and model-input maps back onto the image
 * (preprocess.h has the exact steps). */
#include "preprocess.h"
#include "error.h"

#include <math.h>
#include <string.h>

tl_preprocess_params
tl_preprocess_default_params (void)
{
  tl_preprocess_params p = {
    .width = 224,
    .height = 224,
    .channels = 3,
    .resize_mode = TL_RESAMPLE_HALF_PIXEL,
    .scale = 1.0f,
    .mean = { 0, 0, 0 },
    .std = { 1, 1, 1 },
    .gray_weights = { 0.299f, 0.587f, 0.114f },
    .bgr = false,
    .letterbox = false,
    .letterbox_fill = 0.0f,
  };
  return p;
}

bool
tl_preprocess_params_check (const tl_preprocess_params *p, GError **error)
{
  g_return_val_if_fail (p != NULL, false);
  if (p->width < 1 || p->height < 1 || (int64_t) p->width * p->height > TL_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "preprocess: input size %dx%d is out of range", p->width, p->height);
      return false;
    }
  if (p->channels != 1 && p->channels != 3)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "preprocess: channels %d (must be 1 or 3)", p->channels);
      return false;
    }
  if ((int) p->resize_mode < TL_RESAMPLE_HALF_PIXEL || p->resize_mode > TL_RESAMPLE_AREA)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "preprocess: unknown resize mode %d",
                   (int) p->resize_mode);
      return false;
    }
  if (!isfinite (p->scale) || !isfinite (p->letterbox_fill))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "preprocess: scale and letterbox_fill must be finite");
      return false;
    }
  for (int c = 0; c < 3; c++)
    {
      if (!isfinite (p->mean[c]) || !isfinite (p->gray_weights[c]))
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "preprocess: mean[%d] and gray_weights[%d] must be finite", c, c);
          return false;
        }
      if (!isfinite (p->std[c]) || p->std[c] == 0.0f)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "preprocess: std[%d] = %g (must be finite and non-zero)", c,
                       (double) p->std[c]);
          return false;
        }
    }
  return true;
}

tl_preprocess_geometry
tl_preprocess_geometry_for (const tl_preprocess_params *p, int image_width, int image_height)
{
  tl_preprocess_geometry g = {
    .image_width = image_width, .image_height = image_height,
    .input_width = p->width, .input_height = p->height,
    .x0 = 0, .y0 = 0, .w = p->width, .h = p->height,
  };
  if (!p->letterbox || image_width < 1 || image_height < 1)
    return g;
  double sx = (double) p->width / image_width, sy = (double) p->height / image_height;
  double s = sx < sy ? sx : sy;
  int cw = (int) lround (image_width * s), ch = (int) lround (image_height * s);
  cw = CLAMP (cw, 1, p->width);
  ch = CLAMP (ch, 1, p->height);
  g.w = cw;
  g.h = ch;
  g.x0 = (p->width - cw) / 2;
  g.y0 = (p->height - ch) / 2;
  return g;
}

/* pixel (rgb in [0,1]) -> the model's channels, before scale/mean/std */
static inline void
convert_pixel (const tl_preprocess_params *p, const float *px, int sc, float out[3])
{
  float r = px[0], g = sc >= 3 ? px[1] : px[0], b = sc >= 3 ? px[2] : px[0];
  if (p->channels == 1)
    {
      out[0] = sc >= 3 ? p->gray_weights[0] * r + p->gray_weights[1] * g
                             + p->gray_weights[2] * b
                       : r;
      return;
    }
  out[0] = p->bgr ? b : r;
  out[1] = g;
  out[2] = p->bgr ? r : b;
}

tl_tensor *
tl_preprocess_pixels (const tl_preprocess_params *p, const tl_image *img,
                      tl_preprocess_geometry *geometry, GError **error)
{
  g_return_val_if_fail (p != NULL && img != NULL, NULL);
  if (!tl_preprocess_params_check (p, error))
    return NULL;
  tl_preprocess_geometry g = tl_preprocess_geometry_for (p, img->width, img->height);
  int cw = (int) g.w, ch = (int) g.h, cx = (int) g.x0, cy = (int) g.y0;
  g_autoptr (tl_image) content = tl_image_resize (img, cw, ch, p->resize_mode, error);
  if (!content)
    return NULL;
  int64_t shape[4] = { 1, p->channels, p->height, p->width };
  tl_tensor *t = tl_tensor_new (4, shape, error);
  if (!t)
    return NULL;

  size_t plane = (size_t) p->width * p->height;
  float fill_px[4] = { p->letterbox_fill, p->letterbox_fill, p->letterbox_fill, 1 };
  int sc = img->channels;
  for (int y = 0; y < p->height; y++)
    for (int x = 0; x < p->width; x++)
      {
        const float *px = fill_px;
        int pc = 3;
        if (x >= cx && x < cx + cw && y >= cy && y < cy + ch)
          {
            px = content->data + ((size_t) (y - cy) * cw + (x - cx)) * sc;
            pc = sc;
          }
        float v[3];
        convert_pixel (p, px, pc, v);
        for (int c = 0; c < p->channels; c++)
          t->data[c * plane + (size_t) y * p->width + x] = v[c];
      }
  if (geometry)
    *geometry = g;
  return t;
}

bool
tl_preprocess_normalize (const tl_preprocess_params *p, float *x, int n, GError **error)
{
  g_return_val_if_fail (p != NULL && (x != NULL || n == 0), false);
  if (!tl_preprocess_params_check (p, error))
    return false;
  if (n < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "preprocess: %d inputs", n);
      return false;
    }
  size_t plane = (size_t) p->width * p->height;
  for (int i = 0; i < n; i++)
    for (int c = 0; c < p->channels; c++)
      {
        float *v = x + ((size_t) i * p->channels + c) * plane;
        const float scale = p->scale, mean = p->mean[c], std = p->std[c];
        for (size_t k = 0; k < plane; k++)
          v[k] = (v[k] * scale - mean) / std;
      }
  return true;
}

tl_tensor *
tl_preprocess (const tl_preprocess_params *p, const tl_image *img,
               tl_preprocess_geometry *geometry, GError **error)
{
  tl_tensor *t = tl_preprocess_pixels (p, img, geometry, error);
  if (t && !tl_preprocess_normalize (p, t->data, 1, error))
    {
      tl_tensor_free (t);
      return NULL;
    }
  return t;
}

static bool
check_geometry (const tl_preprocess_geometry *g, GError **error)
{
  if (g->input_width < 1 || g->input_height < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "preprocess: geometry has model input size %dx%d", g->input_width,
                   g->input_height);
      return false;
    }
  return true;
}

bool
tl_preprocess_unmap (const tl_preprocess_geometry *g, const float *map, int mw, int mh,
                     float *out, GError **error)
{
  g_return_val_if_fail (g != NULL && map != NULL && out != NULL, false);
  if (!check_geometry (g, error))
    return false;
  double fx = (double) mw / g->input_width, fy = (double) mh / g->input_height;
  return tl_resample_window (map, mw, mh, 1, g->x0 * fx, g->y0 * fy, g->w * fx, g->h * fy,
                             out, g->image_width, g->image_height, error);
}

tl_map_sampler *
tl_preprocess_sampler_new (const tl_preprocess_geometry *g, const float *map, int mw, int mh,
                           GError **error)
{
  g_return_val_if_fail (g != NULL && map != NULL, NULL);
  if (!check_geometry (g, error))
    return NULL;
  double fx = (double) mw / g->input_width, fy = (double) mh / g->input_height;
  return tl_map_sampler_new (map, mw, mh, g->x0 * fx, g->y0 * fy, g->w * fx, g->h * fy,
                             g->image_width, g->image_height, error);
}
