/* im2col and its adjoint col2im. Padding is handled by index ranges
 * (tl_k_valid_range) so the inner loops are branch-free copies: with
 * stride 1 a row segment is one memcpy. */
#include "kernels-private.h"

#include <string.h>

void
tl_k_im2col (const float *x, int64_t channels, int64_t in_h, int64_t in_w,
             const tl_conv_params *p, int64_t out_h, int64_t out_w, float *col)
{
  const int64_t kh = p->kernel_h, kw = p->kernel_w, sw = p->stride_w;
  const int64_t plane = out_h * out_w;
  for (int64_t c = 0; c < channels; c++)
    for (int64_t ki = 0; ki < kh; ki++)
      for (int64_t kj = 0; kj < kw; kj++)
        {
          float *row = col + ((c * kh + ki) * kw + kj) * plane;
          const int64_t off_w = kj * p->dilation_w - p->pad_left;
          const int64_t off_h = ki * p->dilation_h - p->pad_top;
          int64_t lo, hi, oh_lo, oh_hi;
          tl_k_valid_range (off_w, sw, in_w, out_w, &lo, &hi);
          tl_k_valid_range (off_h, p->stride_h, in_h, out_h, &oh_lo, &oh_hi);
          if (oh_lo > 0)
            memset (row, 0, sizeof (float) * oh_lo * out_w);
          for (int64_t oh = oh_lo; oh < oh_hi; oh++)
            {
              float *r = row + oh * out_w;
              const float *src = x + (c * in_h + oh * p->stride_h + off_h) * in_w;
              if (lo > 0)
                memset (r, 0, sizeof (float) * lo);
              if (sw == 1)
                memcpy (r + lo, src + lo + off_w, sizeof (float) * (hi - lo));
              else
                for (int64_t ow = lo; ow < hi; ow++)
                  r[ow] = src[ow * sw + off_w];
              if (hi < out_w)
                memset (r + hi, 0, sizeof (float) * (out_w - hi));
            }
          if (oh_hi < out_h)
            memset (row + oh_hi * out_w, 0, sizeof (float) * (out_h - oh_hi) * out_w);
        }
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
