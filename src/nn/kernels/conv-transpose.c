/* 2-D transposed convolution: the adjoint of Conv with the same geometry,
 * so forward = GEMM + col2im and the input gradient = im2col + GEMM. The
 * "conv input" of that adjoint pair is y (Ho x Wo) and its "conv output" is
 * x (H x W). */
#include "kernels-private.h"

#include <cblas.h>
#include <string.h>

tl_conv_transpose_params
tl_conv_transpose_default_params (void)
{
  return (tl_conv_transpose_params) { .conv = tl_conv_default_params () };
}

gboolean
tl_conv_transpose_resolve_output_size (tl_auto_pad mode, int64_t in,
                                       int64_t out_size, int64_t kernel,
                                       int64_t stride, int64_t dilation,
                                       int64_t output_padding, int64_t *pad_begin,
                                       int64_t *pad_end, GError **error)
{
  const char *op = "ConvTranspose output_shape";
  if (!tl_k_check_param (op, "input size", in, 1, error)
      || !tl_k_check_param (op, "output size", out_size, 1, error)
      || !tl_k_check_param (op, "kernel", kernel, 1, error)
      || !tl_k_check_param (op, "stride", stride, 1, error)
      || !tl_k_check_param (op, "dilation", dilation, 1, error)
      || !tl_k_check_param (op, "output_padding", output_padding, 0, error))
    return FALSE;
  const int64_t total = stride * (in - 1) + output_padding
                        + (kernel - 1) * dilation + 1 - out_size;
  if (total < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: output size %" G_GINT64_FORMAT " is larger than the %"
                   G_GINT64_FORMAT " the input can cover",
                   op, out_size, out_size + total);
      return FALSE;
    }
  if (mode == TL_AUTO_PAD_SAME_LOWER)
    {
      *pad_end = total / 2;
      *pad_begin = total - total / 2;
    }
  else
    {
      *pad_begin = total / 2;
      *pad_end = total - total / 2;
    }
  return TRUE;
}

static gboolean
ct_axis (const char *axis, int64_t in, int64_t k, int64_t s, int64_t d,
         int64_t pb, int64_t pe, int64_t op_, int64_t *out, GError **error)
{
  if (op_ >= s && op_ >= d)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "ConvTranspose: output_padding_%s = %" G_GINT64_FORMAT
                   " must be smaller than the stride (%" G_GINT64_FORMAT
                   ") or the dilation (%" G_GINT64_FORMAT ")",
                   axis, op_, s, d);
      return FALSE;
    }
  const int64_t full = s * (in - 1) + op_ + (k - 1) * d + 1;
  if (full - pb - pe < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "ConvTranspose: pads (%" G_GINT64_FORMAT " + %" G_GINT64_FORMAT
                   ") leave no output along %s (full size %" G_GINT64_FORMAT ")",
                   pb, pe, axis, full);
      return FALSE;
    }
  *out = full - pb - pe;
  return TRUE;
}

gboolean
tl_conv_transpose2d_output_shape (const tl_conv_transpose_params *p, tl_shape4 x,
                                  int64_t c_out, tl_shape4 *y, GError **error)
{
  g_return_val_if_fail (p != NULL && y != NULL, FALSE);
  const char *op = "ConvTranspose";
  const tl_conv_params *c = &p->conv;
  if (!tl_k_check_param (op, "kernel_h", c->kernel_h, 1, error)
      || !tl_k_check_param (op, "kernel_w", c->kernel_w, 1, error)
      || !tl_k_check_param (op, "stride_h", c->stride_h, 1, error)
      || !tl_k_check_param (op, "stride_w", c->stride_w, 1, error)
      || !tl_k_check_param (op, "dilation_h", c->dilation_h, 1, error)
      || !tl_k_check_param (op, "dilation_w", c->dilation_w, 1, error)
      || !tl_k_check_param (op, "pad_top", c->pad_top, 0, error)
      || !tl_k_check_param (op, "pad_left", c->pad_left, 0, error)
      || !tl_k_check_param (op, "pad_bottom", c->pad_bottom, 0, error)
      || !tl_k_check_param (op, "pad_right", c->pad_right, 0, error)
      || !tl_k_check_param (op, "groups", c->groups, 1, error)
      || !tl_k_check_param (op, "output_padding_h", p->output_padding_h, 0, error)
      || !tl_k_check_param (op, "output_padding_w", p->output_padding_w, 0, error)
      || !tl_k_check_param (op, "output channels", c_out, 1, error)
      || !tl_k_check_shape (op, "input", x, error))
    return FALSE;
  if (x.c % c->groups != 0 || c_out % c->groups != 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: groups = %" G_GINT64_FORMAT " does not divide the input (%"
                   G_GINT64_FORMAT ") and output (%" G_GINT64_FORMAT ") channels",
                   op, c->groups, x.c, c_out);
      return FALSE;
    }
  y->n = x.n;
  y->c = c_out;
  return ct_axis ("h", x.h, c->kernel_h, c->stride_h, c->dilation_h, c->pad_top,
                  c->pad_bottom, p->output_padding_h, &y->h, error)
         && ct_axis ("w", x.w, c->kernel_w, c->stride_w, c->dilation_w,
                     c->pad_left, c->pad_right, p->output_padding_w, &y->w, error)
         && tl_k_check_shape (op, "output", *y, error);
}

size_t
tl_conv_transpose2d_scratch_size (const tl_conv_transpose_params *p, tl_shape4 x,
                                  tl_shape4 y)
{
  if (p->conv.groups < 1)
    return SIZE_MAX;
  return tl_k_mul5_sat (y.c / p->conv.groups, p->conv.kernel_h, p->conv.kernel_w, x.h, x.w);
}

static gboolean
ct_check_call (const char *op, const tl_conv_transpose_params *p, tl_shape4 xs,
               tl_shape4 ws, tl_shape4 ys, const float *scratch,
               size_t scratch_len, GError **error)
{
  tl_shape4 want;
  if (!tl_conv_transpose2d_output_shape (p, xs, ys.c, &want, error)
      || !tl_k_expect_shape (op, "output", ys, want, error))
    return FALSE;
  tl_shape4 wwant = { xs.c, ys.c / p->conv.groups, p->conv.kernel_h,
                      p->conv.kernel_w };
  if (!tl_k_expect_shape (op, "weight", ws, wwant, error))
    return FALSE;
  if (!tl_k_check_shape (op, "weight", ws, error))
    return FALSE;
  size_t need = tl_conv_transpose2d_scratch_size (p, xs, ys);
  if (need > (size_t) TL_TENSOR_MAX_NUMEL)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: the column buffer would need %zu floats", op, need);
      return FALSE;
    }
  if (need > scratch_len || scratch == NULL)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: scratch holds %zu floats, %zu needed", op, scratch_len, need);
      return FALSE;
    }
  return TRUE;
}

gboolean
tl_conv_transpose2d_forward (const tl_conv_transpose_params *p, const float *x,
                             tl_shape4 xs, const float *w, tl_shape4 ws,
                             const float *bias, tl_activation act, float *y,
                             tl_shape4 ys, float *scratch, size_t scratch_len,
                             GError **error)
{
  g_return_val_if_fail (p && x && w && y, FALSE);
  if (!ct_check_call ("ConvTranspose", p, xs, ws, ys, scratch, scratch_len, error))
    return FALSE;
  const tl_conv_params *c = &p->conv;
  const int64_t G = c->groups, cg = xs.c / G, og = ys.c / G;
  const int64_t hw = xs.h * xs.w, ohw = ys.h * ys.w;
  const int64_t k = og * c->kernel_h * c->kernel_w;
  for (int64_t n = 0; n < xs.n; n++)
    for (int64_t g = 0; g < G; g++)
      {
        const float *xg = x + (n * xs.c + g * cg) * hw;
        const float *wg = w + g * cg * k;
        float *yg = y + (n * ys.c + g * og) * ohw;
        /* col[k, hw] = W_g^T x_g, W_g being [cg, k] */
        tl_k_sgemm (CblasTrans, CblasNoTrans, k, hw, cg, 1.0f, wg,
                     k, xg, hw, 0.0f, scratch, hw);
        memset (yg, 0, sizeof (float) * og * ohw);
        tl_k_col2im (scratch, og, ys.h, ys.w, c, xs.h, xs.w, yg);
      }
  for (int64_t n = 0; n < ys.n; n++)
    for (int64_t o = 0; o < ys.c; o++)
      tl_k_bias_act (y + (n * ys.c + o) * ohw, ohw, bias ? bias[o] : 0.0f, act);
  return TRUE;
}

gboolean
tl_conv_transpose2d_backward_input (const tl_conv_transpose_params *p,
                                    const float *dy, tl_shape4 ys, const float *w,
                                    tl_shape4 ws, float *dx, tl_shape4 xs,
                                    float *scratch, size_t scratch_len,
                                    GError **error)
{
  g_return_val_if_fail (p && dy && w && dx, FALSE);
  if (!ct_check_call ("ConvTranspose backward", p, xs, ws, ys, scratch,
                      scratch_len, error))
    return FALSE;
  const tl_conv_params *c = &p->conv;
  const int64_t G = c->groups, cg = xs.c / G, og = ys.c / G;
  const int64_t hw = xs.h * xs.w, ohw = ys.h * ys.w;
  const int64_t k = og * c->kernel_h * c->kernel_w;
  for (int64_t n = 0; n < xs.n; n++)
    for (int64_t g = 0; g < G; g++)
      {
        float *dxg = dx + (n * xs.c + g * cg) * hw;
        const float *wg = w + g * cg * k;
        const float *dyg = dy + (n * ys.c + g * og) * ohw;
        tl_k_im2col (dyg, og, ys.h, ys.w, c, xs.h, xs.w, scratch);
        tl_k_sgemm (CblasNoTrans, CblasNoTrans, cg, hw, k, 1.0f, wg,
                     k, scratch, hw, 0.0f, dxg, hw);
      }
  return TRUE;
}
