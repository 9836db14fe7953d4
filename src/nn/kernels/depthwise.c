/* Depthwise convolution (groups == C_in == C_out): a direct loop per (n, c)
 * plane, planes split over threads. A GEMM would have K = kH*kW, all
 * overhead. Three forms, chosen per call from the geometry:
 * - small planes (MobileNet's 14x14, 7x7): copied into a zero-padded stack
 *   buffer, then every window is whole and needs no edge handling;
 * - 3x3 / 5x5 kernels at strides 1-2 on wide rows: row by row; the columns
 *   where every tap lies inside the input (the interior) take all taps of a
 *   kernel row (for 3x3 output rows with all input rows present: all nine
 *   taps) in one vectorized pass, the few edge columns go tap by tap;
 * - anything else: tap-major, one loop over the valid columns per tap. */
#include "kernels-private.h"

#include <string.h>

typedef struct
{
  const tl_conv_params *p;
  const float *x, *w, *bias;
  float *y;
  tl_shape4 xs, ys;
  tl_activation act;
} dw_ctx;

/* yr[L..H) += sum_kj w[kj] * xr[ow*S + off + kj*D]: all taps inside.
 * Inlined with constant KW and S so each variant is one vector loop. */
static inline __attribute__ ((always_inline)) void
interior (float *restrict yr, const float *restrict xr, const float *w, int64_t L,
          int64_t H, int64_t off, int64_t D, const int KW, const int64_t S)
{
  if (KW == 3)
    {
      const float w0 = w[0], w1 = w[1], w2 = w[2];
      for (int64_t ow = L; ow < H; ow++)
        {
          const int64_t i = ow * S + off;
          yr[ow] += w0 * xr[i] + w1 * xr[i + D] + w2 * xr[i + 2 * D];
        }
    }
  else if (KW == 5)
    {
      const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4];
      for (int64_t ow = L; ow < H; ow++)
        {
          const int64_t i = ow * S + off;
          yr[ow] += w0 * xr[i] + w1 * xr[i + D] + w2 * xr[i + 2 * D] + w3 * xr[i + 3 * D]
                    + w4 * xr[i + 4 * D];
        }
    }
}

/* Column ranges of one kernel row, the same for every output row. */
#define DW_MAX_KW 16
typedef struct
{
  int64_t lo[DW_MAX_KW], hi[DW_MAX_KW]; /* valid columns of tap kj */
  int64_t L, H;                         /* interior: all taps valid */
  gboolean fused;                       /* interior done by interior() */
} dw_plan;

static void
plan_make (const tl_conv_params *p, int64_t W, int64_t Wo, dw_plan *pl)
{
  const int64_t kw = p->kernel_w, sw = p->stride_w;
  pl->L = 0;
  pl->H = Wo;
  for (int64_t kj = 0; kj < kw; kj++)
    {
      tl_k_valid_range (kj * p->dilation_w - p->pad_left, sw, W, Wo, &pl->lo[kj], &pl->hi[kj]);
      pl->L = MAX (pl->L, pl->lo[kj]);
      pl->H = MIN (pl->H, pl->hi[kj]);
    }
  if (pl->L >= pl->H)
    pl->L = pl->H = Wo; /* no interior: everything is edge */
  /* narrow rows (7x7 planes) spend more in vector prologues than they gain */
  pl->fused = (kw == 3 || kw == 5) && (sw == 1 || sw == 2) && pl->H - pl->L >= 16;
}

/* One kernel row (kw taps w) applied to input row xr, accumulated into the
 * output row yr; only for plans with fused = TRUE (so an interior exists). Inlined into the plane loop so that its vector loops get
 * the plane loop's target (see forward_planes). */
static inline __attribute__ ((always_inline)) void
dw_row (float *yr, const float *xr, const float *w, const tl_conv_params *p,
        const dw_plan *pl)
{
  const int64_t kw = p->kernel_w, sw = p->stride_w, dw = p->dilation_w;
  const int64_t off0 = -p->pad_left, L = pl->L, H = pl->H;
  for (int64_t kj = 0; kj < kw; kj++)
    {
      const int64_t off = off0 + kj * dw, lo = pl->lo[kj], hi = pl->hi[kj];
      const float wv = w[kj];
      for (int64_t ow = lo; ow < MIN (hi, L); ow++)
        yr[ow] += wv * xr[ow * sw + off];
      for (int64_t ow = MAX (lo, H); ow < hi; ow++)
        yr[ow] += wv * xr[ow * sw + off];
    }
  if (kw == 3 && sw == 1)
    interior (yr, xr, w, L, H, off0, dw, 3, 1);
  else if (kw == 3)
    interior (yr, xr, w, L, H, off0, dw, 3, 2);
  else if (sw == 1)
    interior (yr, xr, w, L, H, off0, dw, 5, 1);
  else
    interior (yr, xr, w, L, H, off0, dw, 5, 2);
}

static inline __attribute__ ((always_inline)) void
interior_2d3 (float *restrict yr, const float *restrict r0, const float *restrict r1,
              const float *restrict r2, const float *w, int64_t L, int64_t H, int64_t off,
              int64_t D, const int64_t S)
{
  const float a0 = w[0], a1 = w[1], a2 = w[2], b0 = w[3], b1 = w[4], b2 = w[5];
  const float c0 = w[6], c1 = w[7], c2 = w[8];
  for (int64_t ow = L; ow < H; ow++)
    {
      const int64_t i = ow * S + off;
      yr[ow] += (a0 * r0[i] + a1 * r0[i + D] + a2 * r0[i + 2 * D])
                + (b0 * r1[i] + b1 * r1[i + D] + b2 * r1[i + 2 * D])
                + (c0 * r2[i] + c1 * r2[i + D] + c2 * r2[i + 2 * D]);
    }
}

static inline __attribute__ ((always_inline)) void
dw_full_row3 (float *yr, const float *const *rows, const float *wk,
              const tl_conv_params *p, const dw_plan *pl)
{
  const int64_t sw = p->stride_w, dw = p->dilation_w;
  const int64_t off0 = -p->pad_left, L = pl->L, H = pl->H;
  for (int64_t ki = 0; ki < 3; ki++)
    for (int64_t kj = 0; kj < 3; kj++)
      {
        const int64_t off = off0 + kj * dw, lo = pl->lo[kj], hi = pl->hi[kj];
        const float wv = wk[ki * 3 + kj];
        const float *xr = rows[ki];
        for (int64_t ow = lo; ow < MIN (hi, L); ow++)
          yr[ow] += wv * xr[ow * sw + off];
        for (int64_t ow = MAX (lo, H); ow < hi; ow++)
          yr[ow] += wv * xr[ow * sw + off];
      }
  if (sw == 1)
    interior_2d3 (yr, rows[0], rows[1], rows[2], wk, L, H, off0, dw, 1);
  else
    interior_2d3 (yr, rows[0], rows[1], rows[2], wk, L, H, off0, dw, 2);
}

/* Planes that fit (padded) in this many floats are copied into a zero-
 * padded stack buffer first: then every tap of every window is inside, and
 * the window sum needs no edge handling at all. That suits the small,
 * many-channel planes of a MobileNet's last layers (14x14, 7x7: 2x faster),
 * where per-row edge bookkeeping costs more than the arithmetic; from
 * 28x28 on the row-wise vector loops win. */
#define DW_PAD_MAX 576

static inline __attribute__ ((always_inline)) void
dw_plane_padded_k (float *y, const float *xp, int64_t Wp, const float *wk, int64_t Ho,
                   int64_t Wo, int64_t sh, int64_t dh, int64_t dw, const int K,
                   const int64_t S)
{
  for (int64_t oh = 0; oh < Ho; oh++)
    {
      float *restrict yr = y + oh * Wo;
      const float *restrict r = xp + oh * sh * Wp;
      for (int64_t ow = 0; ow < Wo; ow++)
        {
          float acc = 0.0f;
          for (int ki = 0; ki < K; ki++)
            for (int kj = 0; kj < K; kj++)
              acc += wk[ki * K + kj] * r[ki * dh * Wp + ow * S + kj * dw];
          yr[ow] = acc;
        }
    }
}

static inline __attribute__ ((always_inline)) void
dw_plane_padded (float *y, const float *x, const float *wk, const tl_conv_params *p,
                 int64_t H, int64_t W, int64_t Ho, int64_t Wo, float *buf)
{
  const int64_t Wp = W + p->pad_left + p->pad_right;
  const int64_t Hp = H + p->pad_top + p->pad_bottom;
  memset (buf, 0, sizeof (float) * Hp * Wp);
  for (int64_t h = 0; h < H; h++)
    memcpy (buf + (h + p->pad_top) * Wp + p->pad_left, x + h * W, sizeof (float) * W);
  const int64_t k = p->kernel_h, s = p->stride_w;
  if (k == 3 && s == 1)
    dw_plane_padded_k (y, buf, Wp, wk, Ho, Wo, p->stride_h, p->dilation_h, p->dilation_w, 3, 1);
  else if (k == 3)
    dw_plane_padded_k (y, buf, Wp, wk, Ho, Wo, p->stride_h, p->dilation_h, p->dilation_w, 3, 2);
  else if (s == 1)
    dw_plane_padded_k (y, buf, Wp, wk, Ho, Wo, p->stride_h, p->dilation_h, p->dilation_w, 5, 1);
  else
    dw_plane_padded_k (y, buf, Wp, wk, Ho, Wo, p->stride_h, p->dilation_h, p->dilation_w, 5, 2);
}

static gboolean
padded_ok (const tl_conv_params *p, int64_t H, int64_t W)
{
  return p->kernel_h == p->kernel_w && (p->kernel_w == 3 || p->kernel_w == 5)
         && (p->stride_w == 1 || p->stride_w == 2)
         && (H + p->pad_top + p->pad_bottom) * (W + p->pad_left + p->pad_right) <= DW_PAD_MAX;
}

/* Tap-major form for narrow rows, wide kernels and other strides: one
 * loop over the valid columns per (tap, output row). */
static inline __attribute__ ((always_inline)) void
dw_plane_taps (float *y, const float *x, const float *wk, const tl_conv_params *p,
               int64_t H, int64_t W, int64_t Ho, int64_t Wo)
{
  const int64_t kh = p->kernel_h, kw = p->kernel_w, sw = p->stride_w;
  for (int64_t ki = 0; ki < kh; ki++)
    {
      const int64_t off_h = ki * p->dilation_h - p->pad_top;
      int64_t oh_lo, oh_hi;
      tl_k_valid_range (off_h, p->stride_h, H, Ho, &oh_lo, &oh_hi);
      for (int64_t kj = 0; kj < kw; kj++)
        {
          const int64_t off_w = kj * p->dilation_w - p->pad_left;
          const float wv = wk[ki * kw + kj];
          int64_t lo, hi;
          tl_k_valid_range (off_w, sw, W, Wo, &lo, &hi);
          for (int64_t oh = oh_lo; oh < oh_hi; oh++)
            {
              const float *xr = x + (oh * p->stride_h + off_h) * W;
              float *yr = y + oh * Wo;
              if (sw == 1)
                for (int64_t ow = lo; ow < hi; ow++)
                  yr[ow] += wv * xr[ow + off_w];
              else
                for (int64_t ow = lo; ow < hi; ow++)
                  yr[ow] += wv * xr[ow * sw + off_w];
            }
        }
    }
}

/* The hot loop of MobileNets: built for AVX2 as well as the baseline, the
 * loader picks by CPU (glibc ifunc). The AVX2 target has no FMA, so both
 * clones do the same roundings in the same order: identical results. */
__attribute__ ((target_clones ("avx2", "default"))) static void
forward_planes (void *data, int64_t begin, int64_t end)
{
  const dw_ctx *c = data;
  const tl_conv_params *p = c->p;
  const int64_t H = c->xs.h, W = c->xs.w, Ho = c->ys.h, Wo = c->ys.w;
  const int64_t kh = p->kernel_h, kw = p->kernel_w;
  dw_plan pl = { .fused = FALSE };
  if (kw <= DW_MAX_KW)
    plan_make (p, W, Wo, &pl);
  const gboolean padded = padded_ok (p, H, W);
  float buf[DW_PAD_MAX];
  for (int64_t plane = begin; plane < end; plane++)
    {
      const int64_t ch = plane % c->xs.c;
      const float *x = c->x + plane * H * W;
      const float *wk = c->w + ch * kh * kw;
      float *y = c->y + plane * Ho * Wo;
      if (padded)
        {
          dw_plane_padded (y, x, wk, p, H, W, Ho, Wo, buf);
          tl_k_bias_act (y, Ho * Wo, c->bias ? c->bias[ch] : 0.0f, c->act);
          continue;
        }
      memset (y, 0, sizeof (float) * Ho * Wo);
      if (!pl.fused)
        dw_plane_taps (y, x, wk, p, H, W, Ho, Wo);
      else
        for (int64_t oh = 0; oh < Ho; oh++)
          {
            const int64_t h0 = oh * p->stride_h - p->pad_top;
            if (kh == 3 && kw == 3 && h0 >= 0 && h0 + 2 * p->dilation_h < H)
              {
                const float *rows[3] = { x + h0 * W, x + (h0 + p->dilation_h) * W,
                                         x + (h0 + 2 * p->dilation_h) * W };
                dw_full_row3 (y + oh * Wo, rows, wk, p, &pl);
                continue;
              }
            for (int64_t ki = 0; ki < kh; ki++)
              {
                const int64_t ih = h0 + ki * p->dilation_h;
                if (ih >= 0 && ih < H)
                  dw_row (y + oh * Wo, x + ih * W, wk + ki * kw, p, &pl);
              }
          }
      tl_k_bias_act (y, Ho * Wo, c->bias ? c->bias[ch] : 0.0f, c->act);
    }
}

/* dx plane = adjoint of the plane conv: scatter w * dy (here c->x is dy,
 * c->y is dx). Only Grad-CAM needs it, so the plain per-tap form. */
static void
backward_planes (void *data, int64_t begin, int64_t end)
{
  const dw_ctx *c = data;
  const tl_conv_params *p = c->p;
  const int64_t H = c->xs.h, W = c->xs.w, Ho = c->ys.h, Wo = c->ys.w;
  const int64_t kh = p->kernel_h, kw = p->kernel_w, sw = p->stride_w;
  for (int64_t pl = begin; pl < end; pl++)
    {
      const int64_t ch = pl % c->xs.c;
      const float *dy = c->x + pl * Ho * Wo;
      const float *wk = c->w + ch * kh * kw;
      float *dx = c->y + pl * H * W;
      memset (dx, 0, sizeof (float) * H * W);
      for (int64_t ki = 0; ki < kh; ki++)
        {
          const int64_t off_h = ki * p->dilation_h - p->pad_top;
          int64_t oh_lo, oh_hi;
          tl_k_valid_range (off_h, p->stride_h, H, Ho, &oh_lo, &oh_hi);
          for (int64_t kj = 0; kj < kw; kj++)
            {
              const int64_t off_w = kj * p->dilation_w - p->pad_left;
              const float wv = wk[ki * kw + kj];
              int64_t lo, hi;
              tl_k_valid_range (off_w, sw, W, Wo, &lo, &hi);
              for (int64_t oh = oh_lo; oh < oh_hi; oh++)
                {
                  float *xr = dx + (oh * p->stride_h + off_h) * W;
                  const float *yr = dy + oh * Wo;
                  for (int64_t ow = lo; ow < hi; ow++)
                    xr[ow * sw + off_w] += wv * yr[ow];
                }
            }
        }
    }
}

void
tl_k_depthwise_forward (const tl_conv_params *p, const float *x, tl_shape4 xs,
                        const float *w, const float *bias, tl_activation act, float *y,
                        tl_shape4 ys)
{
  if (tl_k_depthwise3x3_forward (p, x, xs, w, bias, act, y, ys))
    return;
  dw_ctx c = { p, x, w, bias, y, xs, ys, act };
  tl_k_parallel (xs.n * xs.c, forward_planes, &c);
}

void
tl_k_depthwise_backward (const tl_conv_params *p, const float *dy, tl_shape4 ys,
                         const float *w, float *dx, tl_shape4 xs)
{
  dw_ctx c = { p, dy, w, NULL, dx, xs, ys, { TL_ACT_NONE, 0, 0 } };
  tl_k_parallel (xs.n * xs.c, backward_planes, &c);
}
