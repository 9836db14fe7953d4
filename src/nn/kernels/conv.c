/* 2-D convolution, forward and input gradient. Three paths: 1x1 stride-1
 * unpadded (the input plane already is the GEMM operand), depthwise (direct
 * loop: a GEMM with K = kH*kW would be all overhead) and im2col + sgemm. */
#include "kernels-private.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

tl_conv_params
tl_conv_default_params (void)
{
  return (tl_conv_params) { .kernel_h = 1, .kernel_w = 1, .stride_h = 1,
                            .stride_w = 1, .dilation_h = 1, .dilation_w = 1,
                            .groups = 1 };
}

gboolean
tl_conv_resolve_auto_pad (tl_auto_pad mode, int64_t in, int64_t kernel,
                          int64_t stride, int64_t dilation, int64_t *pad_begin,
                          int64_t *pad_end, GError **error)
{
  const char *op = "auto_pad";
  if (!tl_k_check_param (op, "input size", in, 1, error)
      || !tl_k_check_param (op, "kernel", kernel, 1, error)
      || !tl_k_check_param (op, "stride", stride, 1, error)
      || !tl_k_check_param (op, "dilation", dilation, 1, error))
    return FALSE;
  const int64_t eff = (kernel - 1) * dilation + 1;
  int64_t total;
  switch (mode)
    {
    case TL_AUTO_PAD_NOTSET:
      return TRUE;
    case TL_AUTO_PAD_VALID:
      *pad_begin = *pad_end = 0;
      return TRUE;
    case TL_AUTO_PAD_SAME_UPPER:
    case TL_AUTO_PAD_SAME_LOWER:
      total = (tl_k_ceil_div (in, stride) - 1) * stride + eff - in;
      if (total < 0)
        total = 0;
      if (mode == TL_AUTO_PAD_SAME_UPPER)
        {
          *pad_begin = total / 2;
          *pad_end = total - total / 2;
        }
      else
        {
          *pad_end = total / 2;
          *pad_begin = total - total / 2;
        }
      return TRUE;
    }
  g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "auto_pad: unknown mode %d",
               (int) mode);
  return FALSE;
}

/* Validates the parameters against x; does not look at channels. */
static gboolean
check_geometry (const char *op, const tl_conv_params *p, GError **error)
{
  return tl_k_check_param (op, "kernel_h", p->kernel_h, 1, error)
         && tl_k_check_param (op, "kernel_w", p->kernel_w, 1, error)
         && tl_k_check_param (op, "stride_h", p->stride_h, 1, error)
         && tl_k_check_param (op, "stride_w", p->stride_w, 1, error)
         && tl_k_check_param (op, "dilation_h", p->dilation_h, 1, error)
         && tl_k_check_param (op, "dilation_w", p->dilation_w, 1, error)
         && tl_k_check_param (op, "pad_top", p->pad_top, 0, error)
         && tl_k_check_param (op, "pad_left", p->pad_left, 0, error)
         && tl_k_check_param (op, "pad_bottom", p->pad_bottom, 0, error)
         && tl_k_check_param (op, "pad_right", p->pad_right, 0, error)
         && tl_k_check_param (op, "groups", p->groups, 1, error);
}

static gboolean
conv_axis (const char *op, const char *axis, int64_t in, int64_t k, int64_t s,
           int64_t d, int64_t pb, int64_t pe, int64_t *out, GError **error)
{
  const int64_t eff = (k - 1) * d + 1, padded = in + pb + pe;
  if (eff > padded)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: the %s kernel spans %" G_GINT64_FORMAT
                   " (kernel %" G_GINT64_FORMAT ", dilation %" G_GINT64_FORMAT
                   "), more than the padded input (%" G_GINT64_FORMAT ")",
                   op, axis, eff, k, d, padded);
      return FALSE;
    }
  *out = (padded - eff) / s + 1;
  return TRUE;
}

static gboolean
conv_shape (const char *op, const tl_conv_params *p, tl_shape4 x, int64_t c_out,
            tl_shape4 *y, GError **error)
{
  if (!check_geometry (op, p, error) || !tl_k_check_shape (op, "input", x, error)
      || !tl_k_check_param (op, "output channels", c_out, 1, error))
    return FALSE;
  if (x.c % p->groups != 0 || c_out % p->groups != 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: groups = %" G_GINT64_FORMAT " does not divide the input (%"
                   G_GINT64_FORMAT ") and output (%" G_GINT64_FORMAT ") channels",
                   op, p->groups, x.c, c_out);
      return FALSE;
    }
  y->n = x.n;
  y->c = c_out;
  return conv_axis (op, "height", x.h, p->kernel_h, p->stride_h, p->dilation_h,
                    p->pad_top, p->pad_bottom, &y->h, error)
         && conv_axis (op, "width", x.w, p->kernel_w, p->stride_w, p->dilation_w,
                       p->pad_left, p->pad_right, &y->w, error)
         && tl_k_check_shape (op, "output", *y, error);
}

gboolean
tl_conv2d_output_shape (const tl_conv_params *p, tl_shape4 x, int64_t c_out,
                        tl_shape4 *y, GError **error)
{
  g_return_val_if_fail (p != NULL && y != NULL, FALSE);
  return conv_shape ("Conv", p, x, c_out, y, error);
}

/* 1x1, stride 1, no pads (any dilation): the input plane is the GEMM
 * operand, no im2col. */
static gboolean
is_pointwise (const tl_conv_params *p)
{
  return p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1
         && p->stride_w == 1 && p->pad_top == 0 && p->pad_left == 0
         && p->pad_bottom == 0 && p->pad_right == 0;
}

const float *
tl_k_conv_columns (const tl_conv_params *p, const float *x, int64_t channels, int64_t in_h,
                   int64_t in_w, int64_t out_h, int64_t out_w, float *scratch, int64_t *ld)
{
  if (is_pointwise (p))
    {
      *ld = in_h * in_w;
      return x;
    }
  tl_k_im2col (x, channels, in_h, in_w, p, out_h, out_w, scratch);
  *ld = out_h * out_w;
  return scratch;
}

static gboolean
is_depthwise (const tl_conv_params *p, tl_shape4 x, tl_shape4 y)
{
  return p->groups == x.c && x.c == y.c && p->groups > 1;
}

size_t
tl_conv2d_scratch_size (const tl_conv_params *p, tl_shape4 x, tl_shape4 y)
{
  if (is_pointwise (p) || is_depthwise (p, x, y))
    return 0;
  if (p->groups < 1)
    return SIZE_MAX;
  return tl_k_mul5_sat (x.c / p->groups, p->kernel_h, p->kernel_w, y.h, y.w);
}

/* Checks everything a forward/backward call depends on. */
static gboolean
conv_check_call (const char *op, const tl_conv_params *p, tl_shape4 xs,
                 tl_shape4 ws, tl_shape4 ys, size_t scratch_len,
                 const float *scratch, GError **error)
{
  tl_shape4 want;
  if (!conv_shape (op, p, xs, ys.c, &want, error)
      || !tl_k_expect_shape (op, "output", ys, want, error))
    return FALSE;
  tl_shape4 wwant = { ys.c, xs.c / p->groups, p->kernel_h, p->kernel_w };
  if (!tl_k_expect_shape (op, "weight", ws, wwant, error))
    return FALSE;
  if (!tl_k_check_shape (op, "weight", ws, error))
    return FALSE;
  size_t need = tl_conv2d_scratch_size (p, xs, ys);
  if (need > (size_t) TL_TENSOR_MAX_NUMEL)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: the im2col buffer would need %zu floats", op, need);
      return FALSE;
    }
  if (need > scratch_len || (need > 0 && scratch == NULL))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: scratch holds %zu floats, %zu needed", op, scratch_len, need);
      return FALSE;
    }
  return TRUE;
}

/* Columns of the output per tile: about 16K floats, so that a tile's
 * im2col block and output block stay in L2 between im2col, GEMM and the
 * bias/activation epilogue instead of streaming through memory three times;
 * but at least 512, below which OpenBLAS's GEMM loses more than the cache
 * saves (tuned with tests/nn/kernels/bench-conv: 256 left ResNet's
 * 3x3 64->64 at 0.79-0.80 of bare sgemm at 2 threads, 512 gives 0.84). */
static int64_t
column_tile (int64_t k, int64_t og)
{
  return MAX (16384 / MAX (k, og), 512);
}

/* Below this many columns per thread a conv is split over its output
 * channels instead of its columns (a GEMM with a short N is inefficient). */
#define MIN_TILE_PARALLEL 256
/* At least this many tiles per thread: the threads claim them as they get
 * free, so a worker that starts late (a busy core) does not leave the
 * other one waiting with nothing to do. */
#define TILES_PER_THREAD 2

typedef struct
{
  const tl_conv_params *p;
  const float *xg, *wg, *bias, *packed;
  float *yg, *scratch;
  tl_shape4 xs, ys;
  tl_activation act;
  int64_t cg, og, k, hw, ohw, nb, tiles, g;
  gboolean pw;
} conv_tiles;

/* Tiles [t0, t1) of one (image, group): im2col of the tile into this
 * thread's piece of scratch, one single-threaded GEMM, then bias and
 * activation while the tile is still in cache. */
static void
conv_tile_task (void *data, int64_t t0, int64_t t1)
{
  const conv_tiles *c = data;
  float *col = c->scratch + (int64_t) tl_k_thread_slot () * c->k * c->nb;
  for (int64_t t = t0; t < t1; t++)
    {
      const int64_t j0 = t * c->nb, nc = MIN (c->nb, c->ohw - j0);
      const float *cols = c->xg + j0;
      int64_t ldb = c->hw;
      if (!c->pw)
        {
          tl_k_im2col_cols (c->xg, c->cg, c->xs.h, c->xs.w, c->p, c->ys.h, c->ys.w, j0,
                            j0 + nc, col);
          cols = col;
          ldb = nc;
        }
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) c->og, (int) nc, (int) c->k,
                   1.0f, c->wg, (int) c->k, cols, (int) ldb, 0.0f, c->yg + j0, (int) c->ohw);
      for (int64_t o = 0; o < c->og; o++)
        tl_k_bias_act (c->yg + o * c->ohw + j0, nc, c->bias ? c->bias[c->g * c->og + o] : 0.0f,
                       c->act);
    }
}

static void
conv_bias_task (void *data, int64_t o0, int64_t o1)
{
  const conv_tiles *c = data;
  for (int64_t o = o0; o < o1; o++)
    tl_k_bias_act (c->yg + o * c->ohw, c->ohw, c->bias ? c->bias[c->g * c->og + o] : 0.0f,
                   c->act);
}

/* The GEMM's right operand for all the columns at once. */
static const float *
whole_columns (const conv_tiles *c, int64_t *ld)
{
  return tl_k_conv_columns (c->p, c->xg, c->cg, c->xs.h, c->xs.w, c->ys.h, c->ys.w, c->scratch,
                            ld);
}

/* One (image, group). A short output (8..256 columns) goes to
 * tl_k_gemm_panel when the weights were packed for it, else to
 * tl_k_gemm_small_n. Otherwise, with T threads, the columns are cut into
 * at least 2T tiles, claimed by the threads as they get free; an output
 * with too few columns for that (ResNet's 7x7 layers, whose K is too large
 * for tl_k_gemm_small_n) is split over its output channels instead, after
 * a shared im2col. */
static void
conv_group (conv_tiles *c)
{
  const int64_t nt = tl_kernels_get_threads ();
  if (c->packed || tl_k_gemm_small_n_fits (c->og, c->ohw, c->k))
    {
      /* a short output: our own GEMM, which streams the weights once
       * (packed weights: one group, so no bias offset) */
      int64_t ldx;
      const float *cols = whole_columns (c, &ldx);
      if (c->packed)
        tl_k_gemm_panel (c->og, c->ohw, c->k, c->packed, cols, ldx, c->bias, c->act, c->yg);
      else
        tl_k_gemm_small_n (c->og, c->ohw, c->k, c->wg, cols, ldx,
                           c->bias ? c->bias + c->g * c->og : NULL, c->act, c->yg);
      return;
    }
  if (nt <= 1)
    {
      c->nb = MIN (column_tile (c->k, c->og), c->ohw);
      c->tiles = tl_k_ceil_div (c->ohw, c->nb);
      conv_tile_task (c, 0, c->tiles);
      return;
    }
  if (c->ohw >= nt * MIN_TILE_PARALLEL)
    {
      /* at least TILES_PER_THREAD * nt tiles of nb columns (rounded
       * down, so that the nt threads' im2col tiles fit the scratch of one
       * whole im2col), plus one short tile for the remainder */
      const int64_t want = column_tile (c->k, c->og);
      c->nb = c->ohw / (nt * MAX (TILES_PER_THREAD, c->ohw / (nt * want)));
      if (c->nb > 16)
        c->nb = c->nb / 16 * 16; /* tiles never share a cache line of y */
      c->tiles = tl_k_ceil_div (c->ohw, c->nb);
      tl_k_parallel (c->tiles, conv_tile_task, c);
      return;
    }
  int64_t ldb;
  const float *cols = whole_columns (c, &ldb);
  tl_k_sgemm (CblasNoTrans, CblasNoTrans, c->og, c->ohw, c->k, 1.0f, c->wg, c->k, cols, ldb,
              0.0f, c->yg, c->ohw);
  tl_k_parallel (c->og, conv_bias_task, c);
}

/* Whether the packed-panel path takes this conv: one group (the panels
 * hold the whole of W), a short output, a K worth the transposing store. */
static gboolean
panel_path (const tl_conv_params *p, tl_shape4 xs, tl_shape4 ys)
{
  return p->groups == 1
         && tl_k_gemm_panel_fits (ys.c, ys.h * ys.w, xs.c * p->kernel_h * p->kernel_w);
}

float *
tl_conv2d_pack_weights (const tl_conv_params *p, tl_shape4 xs, tl_shape4 ys, const float *w)
{
  g_return_val_if_fail (p && w, NULL);
  if (!panel_path (p, xs, ys))
    return NULL;
  const int64_t k = xs.c * p->kernel_h * p->kernel_w;
  float *packed = g_new (float, tl_k_gemm_panel_packed_len (ys.c, k));
  tl_k_gemm_panel_pack (ys.c, k, w, packed);
  return packed;
}

gboolean
tl_conv2d_forward (const tl_conv_params *p, const float *x, tl_shape4 xs,
                   const float *w, tl_shape4 ws, const float *bias,
                   tl_activation act, float *y, tl_shape4 ys, float *scratch,
                   size_t scratch_len, GError **error)
{
  return tl_conv2d_forward_packed (p, x, xs, w, ws, NULL, bias, act, y, ys, scratch,
                                   scratch_len, error);
}

gboolean
tl_conv2d_forward_packed (const tl_conv_params *p, const float *x, tl_shape4 xs,
                          const float *w, tl_shape4 ws, const float *packed,
                          const float *bias, tl_activation act, float *y, tl_shape4 ys,
                          float *scratch, size_t scratch_len, GError **error)
{
  g_return_val_if_fail (p && x && w && y, FALSE);
  if (!conv_check_call ("Conv", p, xs, ws, ys, scratch_len, scratch, error))
    return FALSE;
  if (packed && !panel_path (p, xs, ys))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "Conv: packed weights given for a convolution without a packed path");
      return FALSE;
    }

  if (is_depthwise (p, xs, ys))
    {
      tl_k_depthwise_forward (p, x, xs, w, bias, act, y, ys);
      return TRUE;
    }

  const int64_t G = p->groups, cg = xs.c / G, og = ys.c / G;
  conv_tiles c = { .p = p, .bias = bias, .xs = xs, .ys = ys, .act = act, .cg = cg, .og = og,
                   .k = cg * p->kernel_h * p->kernel_w, .hw = xs.h * xs.w,
                   .ohw = ys.h * ys.w, .pw = is_pointwise (p), .scratch = scratch,
                   .packed = packed };
  for (int64_t n = 0; n < xs.n; n++)
    for (int64_t g = 0; g < G; g++)
      {
        c.g = g;
        c.xg = x + (n * xs.c + g * cg) * c.hw;
        c.wg = w + g * og * c.k;
        c.yg = y + (n * ys.c + g * og) * c.ohw;
        conv_group (&c);
      }
  return TRUE;
}

gboolean
tl_conv2d_backward_input (const tl_conv_params *p, const float *dy, tl_shape4 ys,
                          const float *w, tl_shape4 ws, float *dx, tl_shape4 xs,
                          float *scratch, size_t scratch_len, GError **error)
{
  g_return_val_if_fail (p && dy && w && dx, FALSE);
  if (!conv_check_call ("Conv backward", p, xs, ws, ys, scratch_len, scratch, error))
    return FALSE;

  if (is_depthwise (p, xs, ys))
    {
      tl_k_depthwise_backward (p, dy, ys, w, dx, xs);
      return TRUE;
    }

  const int64_t G = p->groups, cg = xs.c / G, og = ys.c / G;
  const int64_t hw = xs.h * xs.w, ohw = ys.h * ys.w;
  const int64_t k = cg * p->kernel_h * p->kernel_w;
  const gboolean pw = is_pointwise (p);
  for (int64_t n = 0; n < xs.n; n++)
    for (int64_t g = 0; g < G; g++)
      {
        float *dxg = dx + (n * xs.c + g * cg) * hw;
        const float *wg = w + g * og * k;
        const float *dyg = dy + (n * ys.c + g * og) * ohw;
        if (pw)
          {
            tl_k_sgemm (CblasTrans, CblasNoTrans, cg, hw, og, 1.0f,
                         wg, k, dyg, ohw, 0.0f, dxg, hw);
            continue;
          }
        tl_k_sgemm (CblasTrans, CblasNoTrans, k, ohw, og, 1.0f, wg,
                     k, dyg, ohw, 0.0f, scratch, ohw);
        memset (dxg, 0, sizeof (float) * cg * hw);
        tl_k_col2im (scratch, cg, xs.h, xs.w, p, ys.h, ys.w, dxg);
      }
  return TRUE;
}

gboolean
tl_conv_fold_batchnorm (float *w, int64_t c_out, int64_t per_out,
                        const float *bias_in, float *bias_out, const float *gamma,
                        const float *beta, const float *mean, const float *var,
                        float eps, GError **error)
{
  g_return_val_if_fail (w && bias_out && gamma && beta && mean && var, FALSE);
  for (int64_t o = 0; o < c_out; o++)
    if (!(eps >= 0.0f) || !((double) var[o] + eps > 0.0) || !isfinite (var[o]))
      {
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                     "BatchNormalization: variance %g + epsilon %g of channel %"
                     G_GINT64_FORMAT " is not a positive number",
                     (double) var[o], (double) eps, o);
        return FALSE;
      }
  for (int64_t o = 0; o < c_out; o++)
    {
      const double s = gamma[o] / sqrt ((double) var[o] + eps);
      for (int64_t i = 0; i < per_out; i++)
        w[o * per_out + i] = (float) (w[o * per_out + i] * s);
      const double b = bias_in ? bias_in[o] : 0.0;
      bias_out[o] = (float) ((b - mean[o]) * s + beta[o]);
    }
  return TRUE;
}
