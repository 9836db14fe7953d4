/* Resize (ONNX Resize-11+ and Upsample-7/9) on the H, W axes of NCHW:
 * nearest and bilinear, forward and adjoint. Each axis is resolved once
 * into a table of (i0, i1, lambda) so the plane loops are plain gathers. */
#include "kernels-private.h"

#include <float.h>
#include <math.h>
#include <string.h>

tl_resize_params
tl_resize_default_params (void)
{
  return (tl_resize_params) { .mode = TL_RESIZE_NEAREST,
                              .coord = TL_RESIZE_HALF_PIXEL,
                              .nearest = TL_RESIZE_ROUND_PREFER_FLOOR };
}

int64_t
tl_resize_output_size (int64_t in, float scale)
{
  /* ORT: static_cast<int64_t>(scale * in), the product in float */
  const float v = scale * (float) in;
  if (!(v >= 0.0f) || v > (float) TL_KERNEL_MAX_DIM)
    return -1;
  return (int64_t) v;
}

tl_resize_params
tl_resize_upsample_params (tl_resize_mode mode, double scale_h, double scale_w)
{
  return (tl_resize_params) { .mode = mode, .coord = TL_RESIZE_ASYMMETRIC,
                              .nearest = TL_RESIZE_SIMPLE, .scale_h = scale_h,
                              .scale_w = scale_w };
}

/* Source coordinate of output position o (ONNX coordinate_transformation_mode).
 * Evaluated in float, in the order ONNX Runtime writes each formula: in
 * double, o / 1.1f and the like land on the other side of an integer now
 * and then, and nearest neighbour picks another pixel than ORT. */
static float
source_coord (tl_resize_coord mode, int64_t o, float scale, int64_t in, int64_t out,
              gboolean from_scales)
{
  const float x = (float) o;
  switch (mode)
    {
    case TL_RESIZE_HALF_PIXEL:
      return (x + 0.5f) / scale - 0.5f;
    case TL_RESIZE_PYTORCH_HALF_PIXEL:
      return out > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f;
    case TL_RESIZE_ASYMMETRIC:
      return x / scale;
    case TL_RESIZE_ALIGN_CORNERS:
      {
        /* ONNX defines scale = length_resized / length_original, so with
         * "scales" given the resized length is in * scale, not the floored
         * output size (the node test downsample_scales_linear_align_corners:
         * 4 * 0.6 = 2.4, x = 1 maps to 3 / 1.4). ONNX Runtime 1.30 uses the
         * floored size there; with "sizes", or whenever in * scale is whole
         * (PyTorch's integer scale factors), the two agree. */
        const float len = from_scales ? scale * (float) in : (float) out;
        return len > 1.0f ? x * (float) (in - 1) / (len - 1.0f) : 0.0f;
      }
    case TL_RESIZE_TF_HALF_PIXEL_FOR_NN:
      return (x + 0.5f) / scale;
    }
  return 0.0f;
}

static int64_t
nearest_index (tl_resize_nearest mode, float x, float scale)
{
  const float f = floorf (x);
  switch (mode)
    {
    case TL_RESIZE_SIMPLE:
      return (int64_t) (scale < 1.0f ? ceilf (x) : f);
    case TL_RESIZE_ROUND_PREFER_FLOOR:
      return (int64_t) (x - f == 0.5f ? f : roundf (x));
    case TL_RESIZE_ROUND_PREFER_CEIL:
      return (int64_t) (x - f == 0.5f ? f + 1.0f : roundf (x));
    case TL_RESIZE_FLOOR:
      return (int64_t) f;
    case TL_RESIZE_CEIL:
      return (int64_t) ceilf (x);
    }
  return (int64_t) f;
}

typedef struct
{
  int64_t *i0, *i1;
  float   *l; /* weight of i1; i0 gets 1 - l */
} axis_table;

static void
axis_fill (const tl_resize_params *p, double scale_d, int64_t in, int64_t out,
           axis_table *t)
{
  /* from sizes, ORT's scale is out / in in float */
  const float scale = scale_d > 0.0 ? (float) scale_d : (float) out / (float) in;
  /* An axis that keeps its size at scale 1 is copied, as ONNX Runtime does.
   * Every mode's formula gives the identity there too, except
   * tf_half_pixel_for_nn, whose half-pixel shift would move it by one. */
  const gboolean identity = scale == 1.0f && in == out;
  for (int64_t o = 0; o < out; o++)
    {
      if (identity)
        {
          t->i0[o] = t->i1[o] = o;
          t->l[o] = 0.0f;
          continue;
        }
      float x = source_coord (p->coord, o, scale, in, out, scale_d > 0.0);
      if (isnan (x))
        x = 0.0f;
      if (p->mode == TL_RESIZE_NEAREST)
        {
          /* clamp first: a huge x must not overflow int64 */
          x = CLAMP (x, -1.0f, (float) in);
          const int64_t i = CLAMP (nearest_index (p->nearest, x, scale), 0, in - 1);
          t->i0[o] = t->i1[o] = i;
          t->l[o] = 0.0f;
        }
      else
        {
          /* Outside [0, in-1] the edge value repeats (ONNX's edge padding). */
          x = CLAMP (x, 0.0f, (float) (in - 1));
          const int64_t i = (int64_t) floorf (x);
          t->i0[o] = i;
          t->i1[o] = MIN (i + 1, in - 1);
          t->l[o] = x - (float) i;
        }
    }
}

static void
axis_alloc (int64_t out, axis_table *t)
{
  t->i0 = g_new (int64_t, out);
  t->i1 = g_new (int64_t, out);
  t->l = g_new (float, out);
}

static void
axis_free (axis_table *t)
{
  g_free (t->i0);
  g_free (t->i1);
  g_free (t->l);
}

static gboolean
resize_check (const char *op, const tl_resize_params *p, tl_shape4 xs, tl_shape4 ys,
              GError **error)
{
  if (!tl_k_check_shape (op, "input", xs, error)
      || !tl_k_check_shape (op, "output", ys, error))
    return FALSE;
  if (xs.n != ys.n || xs.c != ys.c)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: only H and W are resized, but N, C change from %"
                   G_GINT64_FORMAT "x%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT "x%"
                   G_GINT64_FORMAT, op, xs.n, xs.c, ys.n, ys.c);
      return FALSE;
    }
  const double sh = p->scale_h, sw = p->scale_w;
  if (!((sh == 0.0 || (sh >= FLT_MIN && sh <= FLT_MAX))
        && (sw == 0.0 || (sw >= FLT_MIN && sw <= FLT_MAX))))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: scales (%g, %g) must be positive float32 numbers (0 = from sizes)",
                   op, sh, sw);
      return FALSE;
    }
  if ((unsigned) p->mode > TL_RESIZE_LINEAR
      || (unsigned) p->coord > TL_RESIZE_TF_HALF_PIXEL_FOR_NN
      || (unsigned) p->nearest > TL_RESIZE_SIMPLE)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: unknown mode", op);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  axis_table th, tw;
  const float *src;
  float *dst;
  tl_shape4 xs, ys;
} resize_ctx;

static void
fwd_planes (void *data, int64_t begin, int64_t end)
{
  const resize_ctx *c = data;
  const int64_t H = c->xs.h, W = c->xs.w, Ho = c->ys.h, Wo = c->ys.w;
  for (int64_t pl = begin; pl < end; pl++)
    {
      const float *x = c->src + pl * H * W;
      float *y = c->dst + pl * Ho * Wo;
      for (int64_t oh = 0; oh < Ho; oh++)
        {
          const float *r0 = x + c->th.i0[oh] * W, *r1 = x + c->th.i1[oh] * W;
          const float lh = c->th.l[oh];
          for (int64_t ow = 0; ow < Wo; ow++)
            {
              const int64_t a = c->tw.i0[ow], b = c->tw.i1[ow];
              const float lw = c->tw.l[ow];
              const float top = r0[a] + lw * (r0[b] - r0[a]);
              const float bot = r1[a] + lw * (r1[b] - r1[a]);
              y[oh * Wo + ow] = top + lh * (bot - top);
            }
        }
    }
}

static void
back_planes (void *data, int64_t begin, int64_t end)
{
  const resize_ctx *c = data;
  const int64_t H = c->xs.h, W = c->xs.w, Ho = c->ys.h, Wo = c->ys.w;
  for (int64_t pl = begin; pl < end; pl++)
    {
      const float *dy = c->src + pl * Ho * Wo;
      float *dx = c->dst + pl * H * W;
      memset (dx, 0, sizeof (float) * H * W);
      for (int64_t oh = 0; oh < Ho; oh++)
        {
          float *r0 = dx + c->th.i0[oh] * W, *r1 = dx + c->th.i1[oh] * W;
          const float lh = c->th.l[oh];
          for (int64_t ow = 0; ow < Wo; ow++)
            {
              const int64_t a = c->tw.i0[ow], b = c->tw.i1[ow];
              const float lw = c->tw.l[ow], g = dy[oh * Wo + ow];
              const float gt = g * (1.0f - lh), gb = g * lh;
              r0[a] += gt * (1.0f - lw);
              r0[b] += gt * lw;
              r1[a] += gb * (1.0f - lw);
              r1[b] += gb * lw;
            }
        }
    }
}

static gboolean
resize_run (const char *op, const tl_resize_params *p, const float *src,
            float *dst, tl_shape4 xs, tl_shape4 ys, gboolean backward,
            GError **error)
{
  if (!resize_check (op, p, xs, ys, error))
    return FALSE;
  /* The tables are O(Ho + Wo), tiny next to the O(N C Ho Wo) work. */
  resize_ctx c = { .src = src, .dst = dst, .xs = xs, .ys = ys };
  axis_alloc (ys.h, &c.th);
  axis_alloc (ys.w, &c.tw);
  axis_fill (p, p->scale_h, xs.h, ys.h, &c.th);
  axis_fill (p, p->scale_w, xs.w, ys.w, &c.tw);
  tl_k_parallel (xs.n * xs.c, backward ? back_planes : fwd_planes, &c);
  axis_free (&c.th);
  axis_free (&c.tw);
  return TRUE;
}

gboolean
tl_resize_forward (const tl_resize_params *p, const float *x, tl_shape4 xs,
                   float *y, tl_shape4 ys, GError **error)
{
  g_return_val_if_fail (p && x && y, FALSE);
  return resize_run ("Resize", p, x, y, xs, ys, FALSE, error);
}

gboolean
tl_resize_backward (const tl_resize_params *p, const float *dy, tl_shape4 ys,
                    float *dx, tl_shape4 xs, GError **error)
{
  g_return_val_if_fail (p && dy && dx, FALSE);
  return resize_run ("Resize backward", p, dy, dx, xs, ys, TRUE, error);
}
