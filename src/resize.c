/* Separable resampling: each axis gets a table of taps (source index and
 * weight per output sample) computed once; rows are filtered horizontally
 * into a scratch buffer, then blended vertically. Inner loops are
 * multiply-adds over contiguous floats, no divisions, no per-pixel index
 * maths. */
#include "resize.h"
#include "error.h"

#include <math.h>
#include <string.h>

/* Taps of one axis: output i reads idx[off[i] .. off[i+1]) with weights w. */
typedef struct {
  int    n_out;
  int   *off; /* n_out + 1 */
  int   *idx;
  float *w;
} axis_taps;

static void
axis_taps_clear (axis_taps *t)
{
  g_free (t->off);
  g_free (t->idx);
  g_free (t->w);
  memset (t, 0, sizeof *t);
}

/* Linear interpolation at s_i = start + (i + c) * step - c (c = 0.5 for
 * half-pixel centres, 0 for TF legacy), clamped to [0, n_in - 1]. */
static void
axis_bilinear (axis_taps *t, int n_in, int n_out, double start, double step, double c)
{
  t->n_out = n_out;
  t->off = g_new (int, n_out + 1);
  t->idx = g_new (int, 2 * (size_t) n_out);
  t->w = g_new (float, 2 * (size_t) n_out);
  for (int i = 0; i < n_out; i++)
    {
      double s = start + (i + c) * step - c;
      if (!(s > 0.0))
        s = 0.0;
      if (s > n_in - 1)
        s = n_in - 1;
      int i0 = (int) floor (s);
      int i1 = i0 + 1 < n_in ? i0 + 1 : n_in - 1;
      double l = s - i0;
      t->off[i] = 2 * i;
      t->idx[2 * i] = i0;
      t->idx[2 * i + 1] = i1;
      t->w[2 * i] = (float) (1.0 - l);
      t->w[2 * i + 1] = (float) l;
    }
  t->off[n_out] = 2 * n_out;
}

/* Exact box (area) filter for n_out <= n_in: output i averages the input
 * over [i * r, (i + 1) * r), r = n_in / n_out, each source pixel j weighted
 * by |[j, j+1) ∩ [i r, (i+1) r)| / r. */
static void
axis_area (axis_taps *t, int n_in, int n_out)
{
  double r = (double) n_in / n_out;
  size_t cap = (size_t) n_out * ((size_t) ceil (r) + 2);
  t->n_out = n_out;
  t->off = g_new (int, n_out + 1);
  t->idx = g_new (int, cap);
  t->w = g_new (float, cap);
  size_t k = 0;
  for (int i = 0; i < n_out; i++)
    {
      double a = i * r, b = (i + 1) * r;
      if (b > n_in)
        b = n_in;
      int j0 = (int) floor (a);
      int j1 = (int) ceil (b); /* exclusive */
      if (j1 > n_in)
        j1 = n_in;
      t->off[i] = (int) k;
      for (int j = j0; j < j1; j++)
        {
          double lo = j > a ? j : a, hi = j + 1 < b ? j + 1 : b;
          if (hi - lo <= 0.0)
            continue;
          t->idx[k] = j;
          t->w[k] = (float) ((hi - lo) / r);
          k++;
        }
    }
  t->off[n_out] = (int) k;
}

static void
axis_for_mode (axis_taps *t, int n_in, int n_out, tl_resample_mode mode)
{
  double step = (double) n_in / n_out;
  if (mode == TL_RESAMPLE_TF_LEGACY)
    axis_bilinear (t, n_in, n_out, 0.0, step, 0.0);
  else if (mode == TL_RESAMPLE_AREA && n_out <= n_in)
    axis_area (t, n_in, n_out);
  else /* half-pixel, and area on a growing axis */
    axis_bilinear (t, n_in, n_out, 0.0, step, 0.5);
}

/* Horizontal pass of one row: src (sw x ch) -> dst (tx->n_out x ch).
 * Always inlined and dispatched on a constant ch, so each channel count
 * gets its own unrolled loop. */
static inline __attribute__ ((always_inline)) void
filter_row_ch (const axis_taps *tx, const float *src, float *dst, const int ch)
{
  for (int x = 0; x < tx->n_out; x++)
    {
      int k0 = tx->off[x], k1 = tx->off[x + 1];
      float acc[4] = { 0, 0, 0, 0 };
      for (int k = k0; k < k1; k++)
        {
          const float *p = src + (size_t) tx->idx[k] * ch;
          float w = tx->w[k];
          for (int c = 0; c < ch; c++)
            acc[c] += w * p[c];
        }
      for (int c = 0; c < ch; c++)
        dst[(size_t) x * ch + c] = acc[c];
    }
}

static void
filter_row (const axis_taps *tx, const float *src, float *dst, int ch)
{
  switch (ch)
    {
    case 1:
      filter_row_ch (tx, src, dst, 1);
      break;
    case 2:
      filter_row_ch (tx, src, dst, 2);
      break;
    case 3:
      filter_row_ch (tx, src, dst, 3);
      break;
    default:
      filter_row_ch (tx, src, dst, 4);
      break;
    }
}

/* Vertical pass: out = sum_k w_k * rows[idx_k] over n floats. */
static void
blend_rows (const axis_taps *ty, int y, const float *hbuf, size_t rowlen, float *out)
{
  int k0 = ty->off[y], k1 = ty->off[y + 1];
  const float *r0 = hbuf + (size_t) ty->idx[k0] * rowlen;
  float w0 = ty->w[k0];
  if (k1 - k0 == 2)
    {
      const float *r1 = hbuf + (size_t) ty->idx[k0 + 1] * rowlen;
      float w1 = ty->w[k0 + 1];
      for (size_t i = 0; i < rowlen; i++)
        out[i] = w0 * r0[i] + w1 * r1[i];
      return;
    }
  for (size_t i = 0; i < rowlen; i++)
    out[i] = w0 * r0[i];
  for (int k = k0 + 1; k < k1; k++)
    {
      const float *r = hbuf + (size_t) ty->idx[k] * rowlen;
      float w = ty->w[k];
      for (size_t i = 0; i < rowlen; i++)
        out[i] += w * r[i];
    }
}

static bool
check_sizes (int sw, int sh, int channels, int dw, int dh, GError **error)
{
  if (channels < 1 || channels > 4)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "resize: %d channels (must be 1 to 4)",
                   channels);
      return false;
    }
  if (sw < 1 || sh < 1 || dw < 1 || dh < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "resize: %dx%d -> %dx%d (sizes must be at least 1)", sw, sh, dw, dh);
      return false;
    }
  if ((int64_t) dw * dh > TL_IMAGE_MAX_PIXELS || (int64_t) sw * sh > TL_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "resize: %dx%d -> %dx%d is above the limit of %" G_GINT64_FORMAT " pixels",
                   sw, sh, dw, dh, (gint64) TL_IMAGE_MAX_PIXELS);
      return false;
    }
  return true;
}

/* Runs both passes with the given tables. Only the source rows some output
 * row reads are filtered horizontally. */
static void
resize_with_taps (const float *src, int sw, int sh, int ch, const axis_taps *tx,
                  const axis_taps *ty, float *dst)
{
  size_t rowlen = (size_t) tx->n_out * ch;
  float *hbuf = g_new (float, rowlen * sh);
  guint8 *need = g_new0 (guint8, sh);
  for (int k = 0; k < ty->off[ty->n_out]; k++)
    need[ty->idx[k]] = 1;
  for (int y = 0; y < sh; y++)
    if (need[y])
      filter_row (tx, src + (size_t) y * sw * ch, hbuf + (size_t) y * rowlen, ch);
  for (int y = 0; y < ty->n_out; y++)
    blend_rows (ty, y, hbuf, rowlen, dst + (size_t) y * rowlen);
  g_free (need);
  g_free (hbuf);
}

bool
tl_resample (const float *src, int sw, int sh, int channels, float *dst, int dw, int dh,
             tl_resample_mode mode, GError **error)
{
  g_return_val_if_fail (src != NULL && dst != NULL, false);
  if (!check_sizes (sw, sh, channels, dw, dh, error))
    return false;
  if ((int) mode < TL_RESAMPLE_HALF_PIXEL || mode > TL_RESAMPLE_AREA)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "resize: unknown mode %d", (int) mode);
      return false;
    }
  axis_taps tx = { 0 }, ty = { 0 };
  axis_for_mode (&tx, sw, dw, mode);
  axis_for_mode (&ty, sh, dh, mode);
  resize_with_taps (src, sw, sh, channels, &tx, &ty, dst);
  axis_taps_clear (&tx);
  axis_taps_clear (&ty);
  return true;
}

tl_image *
tl_image_resize (const tl_image *img, int width, int height, tl_resample_mode mode,
                 GError **error)
{
  g_return_val_if_fail (img != NULL, NULL);
  tl_image *out = tl_image_new (width, height, img->channels, error);
  if (!out)
    return NULL;
  if (!tl_resample (img->data, img->width, img->height, img->channels, out->data, width,
                    height, mode, error))
    {
      tl_image_free (out);
      return NULL;
    }
  return out;
}

static bool
check_window (double x0, double y0, double w, double h, GError **error)
{
  if (!(isfinite (x0) && isfinite (y0) && w > 0 && h > 0 && isfinite (w) && isfinite (h)))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "resize: window (%g, %g) %g x %g is not a finite positive rectangle",
                   x0, y0, w, h);
      return false;
    }
  return true;
}

bool
tl_resample_window (const float *src, int sw, int sh, int channels, double x0, double y0,
                    double w, double h, float *dst, int dw, int dh, GError **error)
{
  g_return_val_if_fail (src != NULL && dst != NULL, false);
  if (!check_sizes (sw, sh, channels, dw, dh, error) || !check_window (x0, y0, w, h, error))
    return false;
  axis_taps tx = { 0 }, ty = { 0 };
  axis_bilinear (&tx, sw, dw, x0, w / dw, 0.5);
  axis_bilinear (&ty, sh, dh, y0, h / dh, 0.5);
  resize_with_taps (src, sw, sh, channels, &tx, &ty, dst);
  axis_taps_clear (&tx);
  axis_taps_clear (&ty);
  return true;
}

struct tl_map_sampler {
  axis_taps ty;
  int       dw, dh;
  float    *hbuf; /* sh rows of dw floats, filtered horizontally */
};

tl_map_sampler *
tl_map_sampler_new (const float *src, int sw, int sh, double x0, double y0, double w,
                    double h, int dw, int dh, GError **error)
{
  g_return_val_if_fail (src != NULL, NULL);
  if (!check_sizes (sw, sh, 1, dw, dh, error) || !check_window (x0, y0, w, h, error))
    return NULL;
  tl_map_sampler *s = g_new0 (tl_map_sampler, 1);
  axis_taps tx = { 0 };
  axis_bilinear (&tx, sw, dw, x0, w / dw, 0.5);
  axis_bilinear (&s->ty, sh, dh, y0, h / dh, 0.5);
  s->dw = dw;
  s->dh = dh;
  s->hbuf = g_new (float, (size_t) sh * dw);
  for (int y = 0; y < sh; y++)
    filter_row (&tx, src + (size_t) y * sw, s->hbuf + (size_t) y * dw, 1);
  axis_taps_clear (&tx);
  return s;
}

int
tl_map_sampler_width (const tl_map_sampler *s)
{
  return s->dw;
}

int
tl_map_sampler_height (const tl_map_sampler *s)
{
  return s->dh;
}

void
tl_map_sampler_row (const tl_map_sampler *s, int y, float *out)
{
  g_return_if_fail (s != NULL && y >= 0 && y < s->dh);
  blend_rows (&s->ty, y, s->hbuf, (size_t) s->dw, out);
}

void
tl_map_sampler_free (tl_map_sampler *s)
{
  if (!s)
    return;
  axis_taps_clear (&s->ty);
  g_free (s->hbuf);
  g_free (s);
}

static const char *const mode_names[] = { "half-pixel", "tf-legacy", "area" };

const char *
tl_resample_mode_name (tl_resample_mode mode)
{
  if ((int) mode < 0 || (size_t) mode >= G_N_ELEMENTS (mode_names))
    return "unknown";
  return mode_names[mode];
}

bool
tl_resample_mode_from_name (const char *name, tl_resample_mode *mode, GError **error)
{
  for (size_t i = 0; name && i < G_N_ELEMENTS (mode_names); i++)
    if (strcmp (name, mode_names[i]) == 0)
      {
        *mode = (tl_resample_mode) i;
        return true;
      }
  g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
               "resize mode '%s' is unknown (use half-pixel, tf-legacy or area)",
               name ? name : "(null)");
  return false;
}
