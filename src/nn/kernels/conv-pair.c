/* A convolution followed by a depthwise one on its output (MobileNet's
 * "expand" 1x1 and its 3x3, or the 3x3 stem and the first depthwise conv),
 * run as one pass over channel groups.
 *
 * Why: the tensor between them is the largest of the block (96 × 112 ×
 * 112 floats, 4.8 MB, in MobileNetV2's second block): written to memory
 * by the first conv and read back by the depthwise one, it made these two
 * layers the slowest of the network. Output channel m of the first conv
 * needs only row m of its weights, and depthwise channel m only that
 * channel: so a group of channels at a time is computed into a per-thread
 * buffer that stays in L2, and the depthwise conv reads it there. Measured
 * with cold buffers (one core): 1.8 ms separately, 0.95 ms fused on that
 * block; 56×56 blocks 0.77 -> 0.55 ms; the stem with its depthwise conv
 * 0.95 -> 0.75 ms.
 *
 * The first conv is tl_k_gemm_small_n over the input itself (pointwise) or
 * over its im2col, built once per image in the caller's scratch (one FMA
 * per k, like the column-tile sgemm path up to rounding); the depthwise
 * part is tl_k_depthwise_forward on the group's channels. Results agree
 * with the two separate convs to float rounding and do not depend on the
 * thread count (a channel is always computed the same way, by one
 * thread). */
#include "kernels-private.h"

/* floats of the per-thread buffer a group of channels should fit in */
#define GROUP_FLOATS (128 * 1024)
#define GROUP_ALIGN 6 /* tl_k_gemm_small_n's rows per block */
/* floats of the first conv's GEMM operand (its input, or its im2col) per
 * image that the pair takes at most */
#define PAIR_INPUT_MAX (512 * 1024)

typedef struct
{
  const float *cols, *wa, *ba, *wb, *bb; /* cols: one image's GEMM operand, K×hw, ld */
  float *y;                              /* one image's output */
  tl_shape4 ms, ys;                      /* the tensor between, the output */
  int64_t K, cg, ld;
  tl_activation acta, actb;
  const tl_conv_params *pb;
} pair_job;

/* Channel groups [g0, g1) of one image. */
static void
pair_groups (void *data, int64_t g0, int64_t g1)
{
  const pair_job *j = data;
  const int64_t hw = j->ms.h * j->ms.w, ohw = j->ys.h * j->ys.w, mid = j->ms.c;
  float *buf = g_new (float, j->cg * hw);
  for (int64_t g = g0; g < g1; g++)
    {
      const int64_t c0 = g * j->cg, nc = MIN (j->cg, mid - c0);
      tl_k_gemm_small_n (nc, hw, j->K, j->wa + c0 * j->K, j->cols, j->ld,
                         j->ba ? j->ba + c0 : NULL, j->acta, buf);
      const tl_shape4 bs = { 1, nc, j->ms.h, j->ms.w }, os = { 1, nc, j->ys.h, j->ys.w };
      tl_k_depthwise_forward (j->pb, buf, bs, j->wb + c0 * j->pb->kernel_h * j->pb->kernel_w,
                              j->bb ? j->bb + c0 : NULL, j->actb, j->y + c0 * ohw, os);
    }
  g_free (buf);
}

/* Channels per group: as many as fit GROUP_FLOATS, a multiple of
 * GROUP_ALIGN, but small enough for two groups per thread. */
static int64_t
group_channels (int64_t mid, int64_t hw)
{
  const int64_t nt = tl_kernels_get_threads ();
  int64_t cg = MAX (GROUP_FLOATS / hw / GROUP_ALIGN, 1) * GROUP_ALIGN;
  const int64_t share = tl_k_ceil_div (tl_k_ceil_div (mid, 2 * nt), GROUP_ALIGN) * GROUP_ALIGN;
  return MIN (MIN (cg, share), mid);
}

gboolean
tl_conv2d_pair_fits (const tl_conv_params *pa, tl_shape4 xs, int64_t mid,
                     const tl_conv_params *pb)
{
  tl_shape4 ms;
  if (pa->groups != 1 || pb->groups != mid || mid < 2 || mid > TL_KERNEL_MAX_DIM
      || !tl_conv2d_output_shape (pa, xs, mid, &ms, NULL))
    return FALSE;
  const int64_t hw = ms.h * ms.w, K = xs.c * pa->kernel_h * pa->kernel_w;
  /* below 16×16 the tensor between fits the cache anyway. Above 512K
   * floats of GEMM operand (2 MB: a 512×512 plane of 8 channels) it would
   * stream from memory once per group of channels, which costs more than
   * the tensor between saves. */
  return hw > 256 && K <= PAIR_INPUT_MAX / hw;
}

gboolean
tl_conv2d_pair_forward (const float *x, tl_shape4 xs, const tl_conv_params *pa,
                        const float *wa, int64_t mid, const float *ba, tl_activation acta,
                        const tl_conv_params *pb, const float *wb, const float *bb,
                        tl_activation actb, float *y, tl_shape4 ys, float *scratch,
                        size_t scratch_len, GError **error)
{
  g_return_val_if_fail (x && pa && wa && pb && wb && y, FALSE);
  tl_shape4 ms, want;
  if (!tl_k_check_shape ("Conv pair", "input", xs, error)
      || !tl_conv2d_output_shape (pa, xs, mid, &ms, error)
      || !tl_conv2d_output_shape (pb, ms, mid, &want, error)
      || !tl_k_expect_shape ("Conv pair", "output", ys, want, error))
    return FALSE;
  if (!tl_conv2d_pair_fits (pa, xs, mid, pb))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "Conv pair: not a one-group conv followed by a depthwise one on %"
                   G_GINT64_FORMAT " channels of more than 256 positions", mid);
      return FALSE;
    }
  const size_t need = tl_conv2d_scratch_size (pa, xs, ms);
  if (need > 0 && (scratch == NULL || scratch_len < need))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "Conv pair: scratch holds %zu floats, %zu needed", scratch_len, need);
      return FALSE;
    }
  const int64_t hw = ms.h * ms.w, K = xs.c * pa->kernel_h * pa->kernel_w;
  pair_job j = { .wa = wa, .ba = ba, .wb = wb, .bb = bb, .ms = ms, .ys = ys, .K = K,
                 .cg = group_channels (mid, hw), .acta = acta, .actb = actb, .pb = pb };
  for (int64_t n = 0; n < xs.n; n++)
    {
      j.cols = tl_k_conv_columns (pa, x + n * xs.c * xs.h * xs.w, xs.c, xs.h, xs.w, ms.h, ms.w,
                                  scratch, &j.ld);
      j.y = y + n * mid * ys.h * ys.w;
      tl_k_parallel (tl_k_ceil_div (mid, j.cg), pair_groups, &j);
    }
  return TRUE;
}
