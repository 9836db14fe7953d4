/* Output modes (see render.h for the exact formulas). One pass per row,
 * no scratch buffers, so the GEGL op can call tl_render_row per tile row and
 * a 12-megapixel render costs one read of the image and the map. */
#include "render.h"
#include "error.h"

#include <math.h>
#include <string.h>

tl_render_params
tl_render_default_params (void)
{
  tl_render_params p = {
    .mode = TL_RENDER_OVERLAY,
    .colormap = TL_COLORMAP_JET,
    .opacity = 0.5f,
    .n_threads = 1,
  };
  return p;
}

static const char *const mode_names[] = { "heatmap", "map", "overlay", "masked" };

const char *
tl_render_mode_name (tl_render_mode mode)
{
  if ((int) mode < 0 || (size_t) mode >= G_N_ELEMENTS (mode_names))
    return "unknown";
  return mode_names[mode];
}

bool
tl_render_mode_from_name (const char *name, tl_render_mode *mode, GError **error)
{
  for (size_t i = 0; name && i < G_N_ELEMENTS (mode_names); i++)
    if (strcmp (name, mode_names[i]) == 0)
      {
        *mode = (tl_render_mode) i;
        return true;
      }
  g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
               "render mode '%s' is unknown (use heatmap, map, overlay or masked)",
               name ? name : "(null)");
  return false;
}

int
tl_render_channels (tl_render_mode mode, int src_channels)
{
  switch (mode)
    {
    case TL_RENDER_HEATMAP:
      return 3;
    case TL_RENDER_MAP:
      return 1;
    case TL_RENDER_OVERLAY:
      return (src_channels == 2 || src_channels == 4) ? 4 : 3;
    case TL_RENDER_MASKED:
    default:
      return src_channels;
    }
}

bool
tl_render_params_check (const tl_render_params *p, GError **error)
{
  g_return_val_if_fail (p != NULL, false);
  if ((int) p->mode < 0 || (size_t) p->mode >= G_N_ELEMENTS (mode_names))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "render: unknown mode %d", (int) p->mode);
      return false;
    }
  if ((int) p->colormap < 0 || p->colormap >= TL_COLORMAP_N)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "render: unknown colormap %d",
                   (int) p->colormap);
      return false;
    }
  if (!(p->opacity >= 0.0f && p->opacity <= 1.0f))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "render: opacity %g is outside [0, 1]", (double) p->opacity);
      return false;
    }
  if (p->n_threads < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "render: n_threads %d is negative",
                   p->n_threads);
      return false;
    }
  return true;
}

/* tl_colormap_lookup, inlined on a table pointer for the hot loop */
static inline void
lookup (const float *table, float v, float rgb[3])
{
  float pos = v * (TL_COLORMAP_SIZE - 1);
  int i0 = (int) pos;
  if (i0 > TL_COLORMAP_SIZE - 2)
    i0 = TL_COLORMAP_SIZE - 2;
  float f = pos - (float) i0;
  const float *a = table + 3 * i0, *b = a + 3;
  rgb[0] = a[0] + f * (b[0] - a[0]);
  rgb[1] = a[1] + f * (b[1] - a[1]);
  rgb[2] = a[2] + f * (b[2] - a[2]);
}

static inline float
clamp01 (float s)
{
  if (!(s > 0.0f)) /* also NaN */
    return 0.0f;
  return s > 1.0f ? 1.0f : s;
}

/* The hot loop's form of the colour map: entry k as (r, g, b, 0) and the
 * step to entry k+1, so one interpolation is one 4-wide multiply-add
 * (GCC vector extension). Same values as lookup(): a + f * (b - a). */
typedef float v4f __attribute__ ((vector_size (16)));

typedef struct {
  v4f base[TL_COLORMAP_SIZE];
  v4f step[TL_COLORMAP_SIZE];
} table4;

static const table4 *
table4_for (tl_colormap map)
{
  static table4 tables[TL_COLORMAP_N];
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      for (int m = 0; m < TL_COLORMAP_N; m++)
        {
          const float *t = tl_colormap_table ((tl_colormap) m);
          for (int k = 0; k < TL_COLORMAP_SIZE; k++)
            {
              const float *a = t + 3 * k, *b = k + 1 < TL_COLORMAP_SIZE ? a + 3 : a;
              tables[m].base[k] = (v4f) { a[0], a[1], a[2], 0 };
              tables[m].step[k] = (v4f) { b[0] - a[0], b[1] - a[1], b[2] - a[2], 0 };
            }
        }
      g_once_init_leave (&done, 1);
    }
  return &tables[map];
}

/* The common case (colour in, colour out, overlay or heat map) without the
 * per-pixel branching of the general loop; same arithmetic. */
static void
row_colour_fast (const tl_render_params *p, const float *src, int sc, const float *map,
                 float *dst, int dc, int n)
{
  const table4 *t = table4_for (p->colormap);
  const bool overlay = p->mode == TL_RENDER_OVERLAY;
  const float A = overlay ? p->opacity : 1.0f, B = 1.0f - A;
  for (int i = 0; i < n; i++)
    {
      float pos = clamp01 (map[i]) * (TL_COLORMAP_SIZE - 1);
      int i0 = (int) pos;
      if (i0 > TL_COLORMAP_SIZE - 2)
        i0 = TL_COLORMAP_SIZE - 2;
      float f = pos - (float) i0;
      v4f rgb = t->base[i0] + f * t->step[i0];
      float *out = dst + (size_t) i * dc;
      if (overlay)
        {
          const float *px = src + (size_t) i * sc;
          out[0] = B * px[0] + A * rgb[0];
          out[1] = B * px[1] + A * rgb[1];
          out[2] = B * px[2] + A * rgb[2];
          if (dc == 4)
            out[3] = sc == 4 ? px[3] : 1.0f;
        }
      else
        {
          out[0] = rgb[0];
          out[1] = rgb[1];
          out[2] = rgb[2];
          if (dc == 4)
            out[3] = 1.0f;
        }
    }
}

void
tl_render_row (const tl_render_params *p, const float *src, int src_channels,
               const float *map, float *dst, int dst_channels, int n)
{
  if (dst_channels >= 3
      && (p->mode == TL_RENDER_HEATMAP || (p->mode == TL_RENDER_OVERLAY && src_channels >= 3)))
    {
      row_colour_fast (p, src, src_channels, map, dst, dst_channels, n);
      return;
    }
  const float *table = tl_colormap_table (p->colormap);
  const float A = p->opacity;
  const int sc = src_channels, dc = dst_channels;
  const bool s_alpha = sc == 2 || sc == 4, d_alpha = dc == 2 || dc == 4;
  for (int i = 0; i < n; i++)
    {
      float s = clamp01 (map[i]);
      float img[3] = { 0, 0, 0 }, a = 1.0f, rgb[3];
      if (src)
        {
          const float *px = src + (size_t) i * sc;
          img[0] = px[0];
          img[1] = sc >= 3 ? px[1] : px[0];
          img[2] = sc >= 3 ? px[2] : px[0];
          if (s_alpha)
            a = px[sc - 1];
        }
      switch (p->mode)
        {
        case TL_RENDER_HEATMAP:
          lookup (table, s, rgb);
          a = 1.0f;
          break;
        case TL_RENDER_MAP:
          rgb[0] = rgb[1] = rgb[2] = s;
          a = 1.0f;
          break;
        case TL_RENDER_OVERLAY:
          lookup (table, s, rgb);
          for (int c = 0; c < 3; c++)
            rgb[c] = (1.0f - A) * img[c] + A * rgb[c];
          break;
        case TL_RENDER_MASKED:
        default:
          for (int c = 0; c < 3; c++)
            rgb[c] = img[c] * s;
          break;
        }
      float *out = dst + (size_t) i * dc;
      if (dc >= 3)
        {
          out[0] = rgb[0];
          out[1] = rgb[1];
          out[2] = rgb[2];
        }
      else if (rgb[0] == rgb[1] && rgb[1] == rgb[2])
        out[0] = rgb[0];
      else
        out[0] = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
      if (d_alpha)
        out[dc - 1] = a;
    }
}

/* A band of rows: the full-size map (map), or one row at a time from a
 * low-resolution map (sampler, row buffer of width floats). */
typedef struct {
  const tl_render_params *p;
  const tl_image         *img;
  const float            *map;
  const tl_map_sampler   *sampler;
  tl_image               *out;
  int                     y0, y1;
} band;

static gpointer
render_band (gpointer data)
{
  band *b = data;
  int w = b->img->width;
  float *row = b->sampler ? g_new (float, w) : NULL;
  for (int y = b->y0; y < b->y1; y++)
    {
      const float *m = b->map + (size_t) y * w;
      if (b->sampler)
        {
          tl_map_sampler_row (b->sampler, y, row);
          m = row;
        }
      tl_render_row (b->p, b->img->data + (size_t) y * w * b->img->channels, b->img->channels,
                     m, b->out->data + (size_t) y * w * b->out->channels, b->out->channels, w);
    }
  g_free (row);
  return NULL;
}

static tl_image *
render_bands (const tl_render_params *p, const tl_image *img, const float *map,
              const tl_map_sampler *sampler, GError **error)
{
  if (!tl_render_params_check (p, error))
    return NULL;
  if (img->channels < 1 || img->channels > 4 || !img->data)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "render: image has %d channels (1 to 4)",
                   img->channels);
      return NULL;
    }
  tl_image *out = tl_image_new (img->width, img->height,
                                tl_render_channels (p->mode, img->channels), error);
  if (!out)
    return NULL;
  /* Rows are independent, so bands on threads give the same bytes as one
   * thread. */
  int nt = p->n_threads > 0 ? p->n_threads : (int) g_get_num_processors ();
  if (nt > img->height)
    nt = img->height;
  if (nt > 64)
    nt = 64;
  band bands[64];
  GThread *threads[64];
  for (int t = 0; t < nt; t++)
    {
      bands[t] = (band) { p, img, map, sampler, out, (int) ((int64_t) img->height * t / nt),
                          (int) ((int64_t) img->height * (t + 1) / nt) };
      threads[t] = t > 0 ? g_thread_new ("tl-render", render_band, &bands[t]) : NULL;
    }
  render_band (&bands[0]);
  for (int t = 1; t < nt; t++)
    g_thread_join (threads[t]);
  return out;
}

tl_image *
tl_render (const tl_render_params *p, const tl_image *img, const float *map, GError **error)
{
  g_return_val_if_fail (p != NULL && img != NULL && map != NULL, NULL);
  return render_bands (p, img, map, NULL, error);
}

tl_image *
tl_render_unmap (const tl_render_params *p, const tl_image *img,
                 const tl_preprocess_geometry *g, const float *map, int mw, int mh,
                 GError **error)
{
  g_return_val_if_fail (p != NULL && img != NULL && g != NULL && map != NULL, NULL);
  if (g->image_width != img->width || g->image_height != img->height)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "render: geometry is for a %dx%d image, the image is %dx%d",
                   g->image_width, g->image_height, img->width, img->height);
      return NULL;
    }
  tl_map_sampler *s = tl_preprocess_sampler_new (g, map, mw, mh, error);
  if (!s)
    return NULL;
  tl_image *out = render_bands (p, img, NULL, s, error);
  tl_map_sampler_free (s);
  return out;
}
