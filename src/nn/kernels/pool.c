/* MaxPool, AveragePool and the global pools, forward and input gradient.
 * Each (n, c) plane is independent: planes are split over threads. */
#include "kernels-private.h"

#include <math.h>
#include <string.h>

tl_pool_params
tl_pool_default_params (void)
{
  return (tl_pool_params) { .kernel_h = 1, .kernel_w = 1, .stride_h = 1,
                            .stride_w = 1, .dilation_h = 1, .dilation_w = 1 };
}

gboolean
tl_pool_output_size (int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                     int64_t pad_begin, int64_t pad_end, gboolean ceil_mode,
                     int64_t *out, GError **error)
{
  const char *op = "Pool";
  if (!tl_k_check_param (op, "input size", in, 1, error)
      || !tl_k_check_param (op, "kernel", kernel, 1, error)
      || !tl_k_check_param (op, "stride", stride, 1, error)
      || !tl_k_check_param (op, "dilation", dilation, 1, error)
      || !tl_k_check_param (op, "pad_begin", pad_begin, 0, error)
      || !tl_k_check_param (op, "pad_end", pad_end, 0, error))
    return FALSE;
  const int64_t eff = (kernel - 1) * dilation + 1, span = in + pad_begin + pad_end - eff;
  if (span < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: the kernel spans %" G_GINT64_FORMAT " (kernel %" G_GINT64_FORMAT
                   ", dilation %" G_GINT64_FORMAT "), more than the padded input (%"
                   G_GINT64_FORMAT ")",
                   op, eff, kernel, dilation, in + pad_begin + pad_end);
      return FALSE;
    }
  int64_t o = (ceil_mode ? tl_k_ceil_div (span, stride) : span / stride) + 1;
  if (ceil_mode && (o - 1) * stride >= in + pad_begin)
    o--;
  *out = o;
  return TRUE;
}

gboolean
tl_pool_output_shape (const tl_pool_params *p, tl_shape4 x, tl_shape4 *y,
                      GError **error)
{
  g_return_val_if_fail (p && y, FALSE);
  if (!tl_k_check_shape ("Pool", "input", x, error))
    return FALSE;
  y->n = x.n;
  y->c = x.c;
  return tl_pool_output_size (x.h, p->kernel_h, p->stride_h, p->dilation_h,
                              p->pad_top, p->pad_bottom, p->ceil_mode, &y->h, error)
         && tl_pool_output_size (x.w, p->kernel_w, p->stride_w, p->dilation_w,
                                 p->pad_left, p->pad_right, p->ceil_mode, &y->w,
                                 error);
}

static gboolean
pool_check (const char *op, const tl_pool_params *p, tl_shape4 xs, tl_shape4 ys,
            GError **error)
{
  tl_shape4 want;
  if (!tl_pool_output_shape (p, xs, &want, error))
    {
      g_prefix_error (error, "%s: ", op);
      return FALSE;
    }
  return tl_k_expect_shape (op, "output", ys, want, error);
}

/* The taps of one window along one axis: k in [lo, hi) lie inside [0, in)
 * at positions start + k*d. */
static inline void
taps (int64_t start, int64_t d, int64_t k, int64_t in, int64_t *lo, int64_t *hi)
{
  int64_t l = start >= 0 ? 0 : tl_k_ceil_div (-start, d);
  int64_t h = start >= in ? 0 : (in - 1 - start) / d + 1;
  if (h > k)
    h = k;
  if (l > h)
    l = h;
  *lo = l;
  *hi = h;
}

typedef struct
{
  const tl_pool_params *p;
  const float *x;     /* forward input, or dy */
  float *y;           /* forward output, or dx */
  int64_t *argmax;
  const int64_t *cargmax;
  tl_shape4 xs, ys;
} pool_ctx;

#define MAX_FAST_KW 16

/* Whether every window has at least one tap inside the input: with
 * dilation 1 the windows are contiguous; the first starts at -pad_begin,
 * so it reaches the input if pad_begin < kernel; the last starts at most at
 * in + pad_end - kernel (floor mode) or before in (ceil mode's rule), so
 * inside the input if pad_end < kernel. Then a max needs no "empty window"
 * bookkeeping. (The random-geometry test found the pad_end half.) */
static gboolean
max_fast_ok (const tl_pool_params *p)
{
  return p->dilation_h == 1 && p->dilation_w == 1 && p->pad_top < p->kernel_h
         && p->pad_left < p->kernel_w && p->pad_bottom < p->kernel_h
         && p->pad_right < p->kernel_w && p->kernel_w <= MAX_FAST_KW;
}

/* MaxPool without argmax, tap-major: each output row is the running max of
 * kH*kW shifted input rows, a loop the compiler vectorizes. The select
 * below is exactly the per-window rule of max_planes (a NaN wins and stays),
 * so both give the same bits. */
static void
max_planes_fast (const pool_ctx *c, int64_t begin, int64_t end)
{
  const tl_pool_params *p = c->p;
  const int64_t H = c->xs.h, W = c->xs.w, Ho = c->ys.h, Wo = c->ys.w;
  const int64_t kh = p->kernel_h, kw = p->kernel_w, sw = p->stride_w;
  int64_t lo[MAX_FAST_KW], hi[MAX_FAST_KW];
  for (int64_t kj = 0; kj < kw; kj++)
    tl_k_valid_range (kj - p->pad_left, sw, W, Wo, &lo[kj], &hi[kj]);
  for (int64_t pl = begin; pl < end; pl++)
    {
      const float *x = c->x + pl * H * W;
      for (int64_t oh = 0; oh < Ho; oh++)
        {
          float *restrict yr = c->y + (pl * Ho + oh) * Wo;
          for (int64_t ow = 0; ow < Wo; ow++)
            yr[ow] = -INFINITY;
          const int64_t h0 = oh * p->stride_h - p->pad_top;
          for (int64_t ki = MAX (0, -h0); ki < kh && h0 + ki < H; ki++)
            {
              const float *restrict xr = x + (h0 + ki) * W;
              for (int64_t kj = 0; kj < kw; kj++)
                {
                  const int64_t off = kj - p->pad_left;
                  if (sw == 1)
                    for (int64_t ow = lo[kj]; ow < hi[kj]; ow++)
                      {
                        const float v = xr[ow + off];
                        yr[ow] = (v > yr[ow] || v != v) ? v : yr[ow];
                      }
                  else
                    for (int64_t ow = lo[kj]; ow < hi[kj]; ow++)
                      {
                        const float v = xr[ow * sw + off];
                        yr[ow] = (v > yr[ow] || v != v) ? v : yr[ow];
                      }
                }
            }
        }
    }
}

static void
max_planes (void *data, int64_t begin, int64_t end)
{
  const pool_ctx *c = data;
  const tl_pool_params *p = c->p;
  const int64_t H = c->xs.h, W = c->xs.w, Ho = c->ys.h, Wo = c->ys.w;
  if (!c->argmax && max_fast_ok (p))
    {
      max_planes_fast (c, begin, end);
      return;
    }
  for (int64_t pl = begin; pl < end; pl++)
    {
      const float *x = c->x + pl * H * W;
      float *y = c->y + pl * Ho * Wo;
      int64_t *am = c->argmax ? c->argmax + pl * Ho * Wo : NULL;
      for (int64_t oh = 0; oh < Ho; oh++)
        {
          const int64_t h0 = oh * p->stride_h - p->pad_top;
          int64_t klo, khi;
          taps (h0, p->dilation_h, p->kernel_h, H, &klo, &khi);
          for (int64_t ow = 0; ow < Wo; ow++)
            {
              const int64_t w0 = ow * p->stride_w - p->pad_left;
              int64_t llo, lhi;
              taps (w0, p->dilation_w, p->kernel_w, W, &llo, &lhi);
              float best = -INFINITY;
              int64_t bi = -1;
              for (int64_t ki = klo; ki < khi; ki++)
                {
                  const int64_t ih = h0 + ki * p->dilation_h;
                  for (int64_t kj = llo; kj < lhi; kj++)
                    {
                      const int64_t idx = ih * W + w0 + kj * p->dilation_w;
                      const float v = x[idx];
                      /* > keeps the first maximum; a NaN wins once seen, so it propagates */
                      if (bi < 0 || v > best || (isnan (v) && !isnan (best)))
                        {
                          best = v;
                          bi = idx;
                        }
                    }
                }
              /* A window entirely in the padding has no input: 0, no argmax. */
              y[oh * Wo + ow] = bi < 0 ? 0.0f : best;
              if (am)
                am[oh * Wo + ow] = bi;
            }
        }
    }
}

gboolean
tl_maxpool_forward (const tl_pool_params *p, const float *x, tl_shape4 xs, float *y,
                    tl_shape4 ys, int64_t *argmax, GError **error)
{
  g_return_val_if_fail (p && x && y, FALSE);
  if (!pool_check ("MaxPool", p, xs, ys, error))
    return FALSE;
  pool_ctx c = { p, x, y, argmax, NULL, xs, ys };
  tl_k_parallel (xs.n * xs.c, max_planes, &c);
  return TRUE;
}

static void
max_back_planes (void *data, int64_t begin, int64_t end)
{
  const pool_ctx *c = data;
  const int64_t HW = c->xs.h * c->xs.w, OHW = c->ys.h * c->ys.w;
  for (int64_t pl = begin; pl < end; pl++)
    {
      const float *dy = c->x + pl * OHW;
      const int64_t *am = c->cargmax + pl * OHW;
      float *dx = c->y + pl * HW;
      memset (dx, 0, sizeof (float) * HW);
      for (int64_t i = 0; i < OHW; i++)
        if (am[i] >= 0 && am[i] < HW)
          dx[am[i]] += dy[i];
    }
}

gboolean
tl_maxpool_backward (const tl_pool_params *p, const float *dy, tl_shape4 ys,
                     const int64_t *argmax, float *dx, tl_shape4 xs, GError **error)
{
  g_return_val_if_fail (p && dy && argmax && dx, FALSE);
  if (!pool_check ("MaxPool backward", p, xs, ys, error))
    return FALSE;
  pool_ctx c = { p, dy, dx, NULL, argmax, xs, ys };
  tl_k_parallel (xs.n * xs.c, max_back_planes, &c);
  return TRUE;
}

/* Divisor of one axis: taps inside the input (exclude pad) or inside the
 * padded input [-pb, in + pe) (include pad). */
static inline int64_t
avg_count (const tl_pool_params *p, int64_t start, int64_t d, int64_t k, int64_t in,
           int64_t pb, int64_t pe, int64_t lo, int64_t hi)
{
  if (!p->count_include_pad)
    return hi - lo;
  int64_t plo, phi;
  taps (start + pb, d, k, in + pb + pe, &plo, &phi);
  return phi - plo;
}

static void
avg_planes (void *data, int64_t begin, int64_t end, gboolean backward)
{
  const pool_ctx *c = data;
  const tl_pool_params *p = c->p;
  const int64_t H = c->xs.h, W = c->xs.w, Ho = c->ys.h, Wo = c->ys.w;
  for (int64_t pl = begin; pl < end; pl++)
    {
      /* forward: x -> y; backward: dy (c->x, Ho x Wo) -> dx (c->y, H x W) */
      const float *src = c->x + pl * (backward ? Ho * Wo : H * W);
      float *dst = c->y + pl * (backward ? H * W : Ho * Wo);
      if (backward)
        memset (dst, 0, sizeof (float) * H * W);
      for (int64_t oh = 0; oh < Ho; oh++)
        {
          const int64_t h0 = oh * p->stride_h - p->pad_top;
          int64_t klo, khi;
          taps (h0, p->dilation_h, p->kernel_h, H, &klo, &khi);
          const int64_t ch = avg_count (p, h0, p->dilation_h, p->kernel_h, H,
                                        p->pad_top, p->pad_bottom, klo, khi);
          for (int64_t ow = 0; ow < Wo; ow++)
            {
              const int64_t w0 = ow * p->stride_w - p->pad_left;
              int64_t llo, lhi;
              taps (w0, p->dilation_w, p->kernel_w, W, &llo, &lhi);
              const int64_t cw = avg_count (p, w0, p->dilation_w, p->kernel_w, W,
                                            p->pad_left, p->pad_right, llo, lhi);
              const int64_t cnt = ch * cw;
              const float inv = cnt > 0 ? 1.0f / (float) cnt : 0.0f;
              if (!backward)
                {
                  float s = 0.0f;
                  for (int64_t ki = klo; ki < khi; ki++)
                    for (int64_t kj = llo; kj < lhi; kj++)
                      s += src[(h0 + ki * p->dilation_h) * W + w0 + kj * p->dilation_w];
                  dst[oh * Wo + ow] = s * inv;
                }
              else
                {
                  const float g = src[oh * Wo + ow] * inv;
                  for (int64_t ki = klo; ki < khi; ki++)
                    for (int64_t kj = llo; kj < lhi; kj++)
                      dst[(h0 + ki * p->dilation_h) * W + w0 + kj * p->dilation_w] += g;
                }
            }
        }
    }
}

static void
avg_fwd_planes (void *data, int64_t begin, int64_t end)
{
  avg_planes (data, begin, end, FALSE);
}

static void
avg_back_planes (void *data, int64_t begin, int64_t end)
{
  avg_planes (data, begin, end, TRUE);
}

gboolean
tl_avgpool_forward (const tl_pool_params *p, const float *x, tl_shape4 xs, float *y,
                    tl_shape4 ys, GError **error)
{
  g_return_val_if_fail (p && x && y, FALSE);
  if (!pool_check ("AveragePool", p, xs, ys, error))
    return FALSE;
  pool_ctx c = { p, x, y, NULL, NULL, xs, ys };
  tl_k_parallel (xs.n * xs.c, avg_fwd_planes, &c);
  return TRUE;
}

gboolean
tl_avgpool_backward (const tl_pool_params *p, const float *dy, tl_shape4 ys,
                     float *dx, tl_shape4 xs, GError **error)
{
  g_return_val_if_fail (p && dy && dx, FALSE);
  if (!pool_check ("AveragePool backward", p, xs, ys, error))
    return FALSE;
  pool_ctx c = { p, dy, dx, NULL, NULL, xs, ys };
  tl_k_parallel (xs.n * xs.c, avg_back_planes, &c);
  return TRUE;
}

/* ---- global pools: one output value per plane */

typedef struct
{
  const float *x;
  float *y;
  int64_t hw;
} gap_ctx;

/* Planes [p0, p1). Four double partial sums (one chain of dependent adds
 * took 33 us on MobileNetV2's 1280 planes of 7x7, bound by the add's
 * latency); double, so that the order hardly matters for these sums. */
static void
gap_planes (void *data, int64_t p0, int64_t p1)
{
  const gap_ctx *c = data;
  for (int64_t pl = p0; pl < p1; pl++)
    {
      const float *xp = c->x + pl * c->hw;
      double s[4] = { 0, 0, 0, 0 };
      int64_t i = 0;
      for (; i + 4 <= c->hw; i += 4)
        for (int k = 0; k < 4; k++)
          s[k] += xp[i + k];
      for (; i < c->hw; i++)
        s[0] += xp[i];
      c->y[pl] = (float) (((s[0] + s[1]) + (s[2] + s[3])) / (double) c->hw);
    }
}

void
tl_global_avgpool_forward (const float *x, tl_shape4 xs, float *y)
{
  gap_ctx c = { x, y, xs.h * xs.w };
  tl_k_parallel (xs.n * xs.c, gap_planes, &c);
}

void
tl_global_avgpool_backward (const float *dy, float *dx, tl_shape4 xs)
{
  const int64_t hw = xs.h * xs.w;
  for (int64_t pl = 0; pl < xs.n * xs.c; pl++)
    {
      const float g = dy[pl] / (float) hw;
      for (int64_t i = 0; i < hw; i++)
        dx[pl * hw + i] = g;
    }
}

void
tl_global_maxpool_forward (const float *x, tl_shape4 xs, float *y, int64_t *argmax)
{
  const int64_t hw = xs.h * xs.w;
  for (int64_t pl = 0; pl < xs.n * xs.c; pl++)
    {
      const float *xp = x + pl * hw;
      int64_t bi = 0;
      for (int64_t i = 1; i < hw; i++)
        if (xp[i] > xp[bi] || (isnan (xp[i]) && !isnan (xp[bi])))
          bi = i;
      y[pl] = xp[bi];
      if (argmax)
        argmax[pl] = bi;
    }
}

void
tl_global_maxpool_backward (const float *dy, const int64_t *argmax, float *dx,
                            tl_shape4 xs)
{
  const int64_t hw = xs.h * xs.w;
  memset (dx, 0, sizeof (float) * xs.n * xs.c * hw);
  for (int64_t pl = 0; pl < xs.n * xs.c; pl++)
    if (argmax[pl] >= 0 && argmax[pl] < hw)
      dx[pl * hw + argmax[pl]] += dy[pl];
}
