/* im2col and its adjoint col2im. Padding is handled by index ranges
 * (tl_k_valid_range) so the inner loops are branch-free copies: with
 * stride 1 a row segment is one memcpy. */
#include "kernels-private.h"

#include "vec8.h"

#include <string.h>

/* dst[i] = src[2 i] for i in [0, n): the row copy of every stride-2 conv
 * (ResNet's 7x7/2 stem and 1x1/2 shortcuts, MobileNet's stem), where a
 * scalar gather cost a fifth of the conv. Eight outputs per step from two
 * loads and one even-lane shuffle; the loop stops one step early so no
 * load reaches past src[2 (n - 1)]. Vector extensions (vec8.h): any target. */
static inline __attribute__ ((always_inline)) void
gather2 (float *restrict dst, const float *restrict src, int64_t n)
{
  int64_t i = 0;
  for (; i + 8 < n; i += 8)
    v8_st (dst + i, v8_even (v8_ld (src + 2 * i), v8_ld (src + 2 * i + 8)));
  for (; i < n; i++)
    dst[i] = src[2 * i];
}

/* Rows [r0, r1) of the column buffer, row r = (c * kH + ki) * kW + kj. */
/* AVX2 clone: gather2's shuffles become single vpermps pairs. */
__attribute__ ((target_clones ("avx2", "default"))) static void
im2col_rows (const float *x, int64_t in_h, int64_t in_w, const tl_conv_params *p,
             int64_t out_h, int64_t out_w, int64_t j0, int64_t j1, int64_t r0,
             int64_t r1, float *col)
{
  const int64_t kh = p->kernel_h, kw = p->kernel_w, sw = p->stride_w;
  const int64_t nc = j1 - j0;
  const int64_t oh_first = j0 / out_w, oh_last = (j1 - 1) / out_w;
  for (int64_t r = r0; r < r1; r++)
    {
      const int64_t c = r / (kh * kw), ki = r / kw % kh, kj = r % kw;
      float *row = col + r * nc;
      const int64_t off_w = kj * p->dilation_w - p->pad_left;
      const int64_t off_h = ki * p->dilation_h - p->pad_top;
      int64_t lo, hi, oh_lo, oh_hi;
      tl_k_valid_range (off_w, sw, in_w, out_w, &lo, &hi);
      tl_k_valid_range (off_h, p->stride_h, in_h, out_h, &oh_lo, &oh_hi);
      for (int64_t oh = oh_first; oh <= oh_last; oh++)
        {
          /* this output row's columns [a, b) inside [j0, j1); t[ow - a]
           * is column oh * out_w + ow of the tile */
          const int64_t base = oh * out_w;
          const int64_t a = MAX (j0 - base, 0), b = MIN (j1 - base, out_w);
          float *t = row + (base + a - j0);
          if (oh < oh_lo || oh >= oh_hi)
            {
              memset (t, 0, sizeof (float) * (b - a));
              continue;
            }
          const float *src = x + (c * in_h + oh * p->stride_h + off_h) * in_w;
          const int64_t l = CLAMP (lo, a, b), h = CLAMP (hi, l, b);
          if (l > a)
            memset (t, 0, sizeof (float) * (l - a));
          if (sw == 1)
            memcpy (t + (l - a), src + l + off_w, sizeof (float) * (h - l));
          else if (sw == 2)
            gather2 (t + (l - a), src + 2 * l + off_w, h - l);
          else
            for (int64_t ow = l; ow < h; ow++)
              t[ow - a] = src[ow * sw + off_w];
          if (b > h)
            memset (t + (h - a), 0, sizeof (float) * (b - h));
        }
    }
}

typedef struct
{
  const float *x;
  int64_t in_h, in_w, out_h, out_w, j0, j1;
  const tl_conv_params *p;
  float *col;
} im2col_ctx;

static void
im2col_task (void *data, int64_t r0, int64_t r1)
{
  const im2col_ctx *c = data;
  im2col_rows (c->x, c->in_h, c->in_w, c->p, c->out_h, c->out_w, c->j0, c->j1, r0, r1,
               c->col);
}

void
tl_k_im2col_cols (const float *x, int64_t channels, int64_t in_h, int64_t in_w,
                  const tl_conv_params *p, int64_t out_h, int64_t out_w, int64_t j0,
                  int64_t j1, float *col)
{
  const int64_t rows = channels * p->kernel_h * p->kernel_w;
  /* rows are independent: with threads, split them (each row is written by
   * one thread, so the buffer is the same whatever the count); a small
   * buffer is not worth waking threads for */
  if (tl_kernels_get_threads () > 1 && rows * (j1 - j0) >= 65536)
    {
      im2col_ctx c = { x, in_h, in_w, out_h, out_w, j0, j1, p, col };
      tl_k_parallel (rows, im2col_task, &c);
    }
  else
    im2col_rows (x, in_h, in_w, p, out_h, out_w, j0, j1, 0, rows, col);
}

void
tl_k_im2col (const float *x, int64_t channels, int64_t in_h, int64_t in_w,
             const tl_conv_params *p, int64_t out_h, int64_t out_w, float *col)
{
  tl_k_im2col_cols (x, channels, in_h, in_w, p, out_h, out_w, 0, out_h * out_w, col);
}

void
tl_k_col2im (const float *col, int64_t channels, int64_t in_h, int64_t in_w,
             const tl_conv_params *p, int64_t out_h, int64_t out_w, float *x)
{
  const int64_t kh = p->kernel_h, kw = p->kernel_w, sw = p->stride_w;
  const int64_t plane = out_h * out_w;
  for (int64_t c = 0; c < channels; c++)
    for (int64_t ki = 0; ki < kh; ki++)
      for (int64_t kj = 0; kj < kw; kj++)
        {
          const float *row = col + ((c * kh + ki) * kw + kj) * plane;
          const int64_t off_w = kj * p->dilation_w - p->pad_left;
          const int64_t off_h = ki * p->dilation_h - p->pad_top;
          int64_t lo, hi, oh_lo, oh_hi;
          tl_k_valid_range (off_w, sw, in_w, out_w, &lo, &hi);
          tl_k_valid_range (off_h, p->stride_h, in_h, out_h, &oh_lo, &oh_hi);
          for (int64_t oh = oh_lo; oh < oh_hi; oh++)
            {
              const float *r = row + oh * out_w;
              float *dst = x + (c * in_h + oh * p->stride_h + off_h) * in_w;
              for (int64_t ow = lo; ow < hi; ow++)
                dst[ow * sw + off_w] += r[ow];
            }
        }
}
