/* Depthwise 3x3 convolution at stride 1 or 2 (dilation 1): the MobileNet
 * case, where this layer took a third of the network's time in the general
 * depthwise loops (depthwise.c) because it has almost no arithmetic per byte.
 *
 * Every output is computed in one pass (bias, nine taps, activation) and
 * stored once; the hot loop runs over 8 consecutive outputs with nine
 * unit-stride input streams, so it is all vector loads and FMAs:
 * - wide planes at stride 1 are read in place, row by row: rows above and
 *   below the input point at a zero row, and only the one or two edge
 *   columns of each side take the scalar path with bounds checks;
 * - stride 2, and small planes (14x14, 7x7, where an output row is too short
 *   for a vector), are first copied into a zero-padded buffer split into its
 *   four (row, column) parity phases. In that buffer tap (ki, kj) of output
 *   (oh, ow) sits at a fixed offset from oh * pitch + ow in phase
 *   (ki % S, kj % S), so the whole plane is one flat loop of nine streams;
 *   the few junk columns between rows are computed and dropped when the rows
 *   are copied out. The padding is written once per thread: the input lands
 *   on the same positions for every plane.
 * - small planes at stride 1 with one pixel of padding all round (MobileNet's
 *   7x7 and 14x14 layers) skip both: the plane is copied whole between zero
 *   guards and computed as one flat run of H*W outputs stored straight into
 *   y. A tap one row up or down lands in the guards or the neighbouring row
 *   as it should; a tap one column left or right would wrap into the
 *   previous or next row, so each kernel column's partial sum is masked off
 *   in the lanes at the left or right edge. Half the work of the padded
 *   path on 7x7 planes, where copying rows of 7 floats cost more than the
 *   taps.
 *
 * Vectors are GCC vector extensions (vec8.h), so the same source builds
 * for any target; an AVX2+FMA copy is picked at run time when the CPU has
 * it. Results therefore differ from the baseline build in the last bits
 * (FMA rounds once), never from one thread count to another. */
#include "kernels-private.h"

#include <math.h>
#include <string.h>

#include "vec8.h"

/* v < lo ? lo : v, then v > hi ? hi : v, elementwise (NaN stays NaN, as in
 * tl_k_bias_act) */
static inline __attribute__ ((always_inline)) v8
clamp8 (v8 v, v8 lo, v8 hi)
{
  v8i m = v < lo;
  v = (v8) (((v8i) lo & m) | ((v8i) v & ~m));
  m = v > hi;
  return (v8) (((v8i) hi & m) | ((v8i) v & ~m));
}

/* For each of `rows` rows j: out[j * opitch + i] = clamp(b + sum_t w[t] *
 * s[t][j * ipitch + i]) for i in [0, n), n >= VL. The last vector of a row
 * overlaps the one before when n is not a multiple of VL: it recomputes
 * the same values from the same inputs, so nothing is read or written
 * outside [0, n). One partial sum per kernel row keeps the FMA chains
 * short. */
static inline __attribute__ ((always_inline)) void
taps9 (float *out, int64_t opitch, const float *const *s, int64_t ipitch, int64_t rows,
       int64_t n, const float *w, float b, float lo, float hi)
{
  const v8 w0 = v8_splat (w[0]), w1 = v8_splat (w[1]), w2 = v8_splat (w[2]), w3 = v8_splat (w[3]);
  const v8 w4 = v8_splat (w[4]), w5 = v8_splat (w[5]), w6 = v8_splat (w[6]), w7 = v8_splat (w[7]);
  const v8 w8 = v8_splat (w[8]), bv = v8_splat (b), lov = v8_splat (lo), hiv = v8_splat (hi);
  for (int64_t j = 0; j < rows; j++)
    {
      const int64_t o = j * ipitch;
      const float *s0 = s[0] + o, *s1 = s[1] + o, *s2 = s[2] + o, *s3 = s[3] + o;
      const float *s4 = s[4] + o, *s5 = s[5] + o, *s6 = s[6] + o, *s7 = s[7] + o;
      const float *s8 = s[8] + o;
      float *y = out + j * opitch;
      for (int64_t i = 0;; i += VL)
        {
          if (i > n - VL)
            i = n - VL;
          v8 r0 = w0 * v8_ld (s0 + i) + w1 * v8_ld (s1 + i) + w2 * v8_ld (s2 + i);
          v8 r1 = w3 * v8_ld (s3 + i) + w4 * v8_ld (s4 + i) + w5 * v8_ld (s5 + i);
          v8 r2 = w6 * v8_ld (s6 + i) + w7 * v8_ld (s7 + i) + w8 * v8_ld (s8 + i);
          v8_st (y + i, clamp8 (bv + (r0 + r1 + r2), lov, hiv));
          if (i == n - VL)
            break;
        }
    }
}

typedef struct
{
  const tl_conv_params *p;
  const float *x, *w, *bias;
  float *y;
  tl_shape4 xs, ys;
  tl_activation act;
  float lo, hi;     /* the clamp the activation reduces to (hardswish: none) */
  int64_t S;        /* stride */
  int64_t Q;        /* floats per phase row: ceil(padded width / S) */
  int64_t phase;    /* floats per phase */
  int64_t n_flat;   /* narrow outputs: computed per plane, junk columns included */
  int64_t buf_len;  /* floats of the phase buffer, slack included */
  int64_t off[9];   /* offset of tap t's stream in the buffer */
  /* the flat path (small planes, stride 1, pads 1): H*W floats between
   * guards of `guard` zeros; per output vector (at i * VL, the last at
   * H*W - VL), the lanes whose column is not the left / right edge */
  gboolean flat;
  int64_t guard, n_vec;
  v8i *mask_l, *mask_r;
} dw3_ctx;

/* dst[0, n) = src[0, n) */
static inline __attribute__ ((always_inline)) void
copy_floats (float *restrict dst, const float *restrict src, int64_t n)
{
  if (n < VL)
    {
      for (int64_t i = 0; i < n; i++)
        dst[i] = src[i];
      return;
    }
  for (int64_t i = 0;; i += VL)
    {
      if (i > n - VL)
        i = n - VL;
      v8_st (dst + i, v8_ld (src + i));
      if (i == n - VL)
        break;
    }
}

/* Puts input row src (W floats) into its padded row: with stride 1 at
 * dst + pad_left; with stride 2 padded column 2j + e goes to segment e
 * (dst + e * seg) at j. The padding around stays as it is (zero). */
static inline __attribute__ ((always_inline)) void
put_row (const dw3_ctx *c, float *dst, int64_t seg, const float *src)
{
  const int64_t W = c->xs.w, pl = c->p->pad_left;
  if (c->S == 1)
    {
      copy_floats (dst + pl, src, W);
      return;
    }
  /* input column 2k + e is padded column 2k + e + pl */
  float *ev = dst + (pl & 1) * seg + pl / 2;
  float *od = dst + ((pl + 1) & 1) * seg + (pl + 1) / 2;
  int64_t k = 0;
  for (; 2 * k + 2 * VL <= W; k += VL)
    {
      const v8 a = v8_ld (src + 2 * k), b = v8_ld (src + 2 * k + VL);
      v8_st (ev + k, v8_even (a, b));
      v8_st (od + k, v8_odd (a, b));
    }
  for (; 2 * k < W; k++)
    {
      ev[k] = src[2 * k];
      if (2 * k + 1 < W)
        od[k] = src[2 * k + 1];
    }
}

/* One plane by the flat path: buf holds guard zeros, the plane, guard
 * zeros (the guards are never written). */
static inline __attribute__ ((always_inline)) void
flat_plane (const dw3_ctx *c, const float *x, const float *w, float b, float *y, float *buf)
{
  const int64_t W = c->xs.w, n = c->xs.h * W;
  float *in = buf + c->guard;
  copy_floats (in, x, n);
  const v8 w0 = v8_splat (w[0]), w1 = v8_splat (w[1]), w2 = v8_splat (w[2]), w3 = v8_splat (w[3]);
  const v8 w4 = v8_splat (w[4]), w5 = v8_splat (w[5]), w6 = v8_splat (w[6]), w7 = v8_splat (w[7]);
  const v8 w8 = v8_splat (w[8]), bv = v8_splat (b), lov = v8_splat (c->lo), hiv = v8_splat (c->hi);
  for (int64_t v = 0; v < c->n_vec; v++)
    {
      const int64_t i = MIN (v * VL, n - VL);
      const float *s = in + i;
      /* kernel columns 0, 1, 2: taps one row up, same row, one row down */
      const v8 cl = w0 * v8_ld (s - W - 1) + w3 * v8_ld (s - 1) + w6 * v8_ld (s + W - 1);
      const v8 cc = w1 * v8_ld (s - W) + w4 * v8_ld (s) + w7 * v8_ld (s + W);
      const v8 cr = w2 * v8_ld (s - W + 1) + w5 * v8_ld (s + 1) + w8 * v8_ld (s + W + 1);
      const v8 sum = (v8) ((v8i) cl & c->mask_l[v]) + cc + (v8) ((v8i) cr & c->mask_r[v]);
      v8_st (y + i, clamp8 (bv + sum, lov, hiv));
    }
}

/* The padded plane goes into buf as its phases (row parity, column
 * parity) of Q-float rows: tap t of output (oh, ow) is then buf + off[t] at
 * oh * Q + ow. Outputs at least VL wide are computed row by row straight
 * into y; narrower ones (7x7) as one flat run over oh * Q + ow into out,
 * junk columns included, whose rows are then copied out. */
static inline __attribute__ ((always_inline)) void
plane (const dw3_ctx *c, const float *x, const float *w, float b, float *y, float *buf,
       float *out)
{
  const int64_t H = c->xs.h, W = c->xs.w, Ho = c->ys.h, Wo = c->ys.w;
  const int64_t S = c->S, Q = c->Q, pt = c->p->pad_top;
  for (int64_t ih = 0; ih < H; ih++)
    {
      const int64_t r = ih + pt;
      put_row (c, buf + (r % S) * S * c->phase + (r / S) * Q, c->phase, x + ih * W);
    }
  const float *s[9];
  for (int t = 0; t < 9; t++)
    s[t] = buf + c->off[t];
  if (Wo >= VL)
    {
      taps9 (y, Wo, s, Q, Ho, Wo, w, b, c->lo, c->hi);
      return;
    }
  taps9 (out, 0, s, 0, 1, c->n_flat, w, b, c->lo, c->hi);
  for (int64_t oh = 0; oh < Ho; oh++)
    copy_floats (y + oh * Wo, out + oh * Q, Wo);
}

static inline __attribute__ ((always_inline)) void
planes (const dw3_ctx *c, int64_t begin, int64_t end)
{
  const int64_t hw = c->xs.h * c->xs.w, ohw = c->ys.h * c->ys.w;
  /* the phase buffer, then the flat outputs; or the guarded plane */
  const int64_t len = c->flat ? 2 * c->guard + hw : c->buf_len + c->n_flat;
  float *buf = g_malloc0 (sizeof (float) * len);
  for (int64_t pl = begin; pl < end; pl++)
    {
      const int64_t ch = pl % c->xs.c;
      const float *w = c->w + ch * 9;
      const float b = c->bias ? c->bias[ch] : 0.0f;
      float *y = c->y + pl * ohw;
      if (c->flat)
        flat_plane (c, c->x + pl * hw, w, b, y, buf);
      else
        plane (c, c->x + pl * hw, w, b, y, buf, buf + c->buf_len);
      if (c->act.kind == TL_ACT_HARDSWISH)
        tl_k_bias_act (y, ohw, 0.0f, c->act);
    }
  g_free (buf);
}

TL_K_AVX2_RANGE_FN (planes)

/* Largest plane buffer (floats) per thread; bigger planes go to the
 * general loops of depthwise.c. */
#define DW3_FLAT_MAX ((int64_t) 1 << 22)

/* Sets up the buffer geometry; FALSE if the plane is too big for it. */
static gboolean
plan (dw3_ctx *c)
{
  const int64_t S = c->S;
  const int64_t Hq = tl_k_ceil_div (c->xs.h + c->p->pad_top + c->p->pad_bottom, S);
  if (Hq > DW3_FLAT_MAX / c->Q / (S * S))
    return FALSE;
  c->phase = Hq * c->Q;
  /* at least VL outputs, so that taps9's vectors fit: the streams may then
   * run past the last real output into zeroed slack, never outside buf */
  c->n_flat = MAX ((c->ys.h - 1) * c->Q + c->ys.w, VL);
  int64_t need = S * S * c->phase;
  for (int t = 0; t < 9; t++)
    {
      const int64_t ki = t / 3, kj = t % 3;
      c->off[t] = ((ki % S) * S + kj % S) * c->phase + (ki / S) * c->Q + kj / S;
      need = MAX (need, c->off[t] + c->n_flat);
    }
  c->buf_len = need;
  return TRUE;
}

/* Largest plane (floats) the flat path takes: its masks live on the
 * caller's stack. */
#define DW3_SMALL_MAX 256

/* Sets up the flat path if this geometry takes it (see the header). */
static void
plan_flat (dw3_ctx *c, v8i *mask_l, v8i *mask_r)
{
  const tl_conv_params *p = c->p;
  const int64_t W = c->xs.w, n = c->xs.h * W;
  c->flat = c->S == 1 && p->pad_top == 1 && p->pad_left == 1 && p->pad_bottom == 1
            && p->pad_right == 1 && n >= VL && n <= DW3_SMALL_MAX && W < 2 * VL;
  if (!c->flat)
    return;
  c->guard = W + 1 + VL; /* taps reach W + 1 floats past either end; VL of slack */
  c->n_vec = tl_k_ceil_div (n, VL);
  for (int64_t v = 0; v < c->n_vec; v++)
    {
      const int64_t i = MIN (v * VL, n - VL);
      for (int l = 0; l < VL; l++)
        {
          const int64_t col = (i + l) % W;
          mask_l[v][l] = col != 0 ? -1 : 0;
          mask_r[v][l] = col != W - 1 ? -1 : 0;
        }
    }
  c->mask_l = mask_l;
  c->mask_r = mask_r;
}

gboolean
tl_k_depthwise3x3_forward (const tl_conv_params *p, const float *x, tl_shape4 xs,
                           const float *w, const float *bias, tl_activation act, float *y,
                           tl_shape4 ys)
{
  if (p->kernel_h != 3 || p->kernel_w != 3 || p->dilation_h != 1 || p->dilation_w != 1
      || p->stride_h != p->stride_w || (p->stride_w != 1 && p->stride_w != 2))
    return FALSE;
  dw3_ctx c = { .p = p, .x = x, .w = w, .bias = bias, .y = y, .xs = xs, .ys = ys,
                .act = act, .lo = -INFINITY, .hi = INFINITY, .S = p->stride_w };
  if (act.kind == TL_ACT_RELU)
    c.lo = 0.0f;
  else if (act.kind == TL_ACT_CLIP)
    {
      c.lo = act.lo;
      c.hi = act.hi;
    }
  c.Q = tl_k_ceil_div (xs.w + p->pad_left + p->pad_right, c.S);
  if (!plan (&c))
    return FALSE;
  v8i mask_l[DW3_SMALL_MAX / VL], mask_r[DW3_SMALL_MAX / VL];
  plan_flat (&c, mask_l, mask_r);
  tl_k_parallel (xs.n * xs.c, pick_planes (), &c);
  return TRUE;
}
