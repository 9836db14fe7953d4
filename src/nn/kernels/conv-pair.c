/* A pointwise convolution followed by a depthwise one (MobileNet's
 * "expand" 1x1 and its 3x3), run as one pass over channel groups.
 *
 * Why: the expanded tensor between them is the largest of the block (96 ×
 * 112 × 112 floats, 4.8 MB, in MobileNetV2's second block): written to
 * memory by the pointwise conv and read back by the depthwise one, it made
 * these two layers the slowest of the network. Output channel m of the
 * pointwise conv needs only row m of its weights, and depthwise channel m
 * only that channel: so a group of channels at a time is computed into a
 * per-thread buffer that stays in L2, and the depthwise conv reads it
 * there. Measured on that block with cold buffers (one core): 1.8 ms
 * separately, 0.95 ms fused; 56×56 blocks 0.77 -> 0.55 ms.
 *
 * The pointwise part is tl_k_gemm_small_n on the whole plane (one FMA per
 * k, like the column-tile sgemm path up to rounding), the depthwise part
 * tl_k_depthwise_forward on the group's channels: results agree with the
 * two separate convs to float rounding and do not depend on the thread
 * count (a channel is always computed the same way, by one thread). */
#include "kernels-private.h"

/* floats of the per-thread buffer a group of channels should fit in */
#define GROUP_FLOATS (128 * 1024)
#define GROUP_ALIGN 6 /* tl_k_gemm_small_n's rows per block */
/* floats of the pointwise conv's input (per image) the pair takes at most */
#define PAIR_INPUT_MAX (512 * 1024)

typedef struct
{
  const float *x, *wa, *ba, *wb, *bb;
  float *y;
  tl_shape4 xs, ys;
  int64_t mid, cg;
  tl_activation acta, actb;
  const tl_conv_params *pb;
} pair_job;

/* Channel groups [g0, g1) of every image: item = n · groups + group. */
static void
pair_groups (void *data, int64_t g0, int64_t g1)
{
  const pair_job *j = data;
  const int64_t hw = j->xs.h * j->xs.w, ohw = j->ys.h * j->ys.w, K = j->xs.c;
  const int64_t groups = tl_k_ceil_div (j->mid, j->cg);
  float *buf = g_new (float, j->cg * hw);
  for (int64_t it = g0; it < g1; it++)
    {
      const int64_t n = it / groups, c0 = it % groups * j->cg, nc = MIN (j->cg, j->mid - c0);
      tl_k_gemm_small_n (nc, hw, K, j->wa + c0 * K, j->x + n * K * hw, hw,
                         j->ba ? j->ba + c0 : NULL, j->acta, buf);
      const tl_shape4 bs = { 1, nc, j->xs.h, j->xs.w }, os = { 1, nc, j->ys.h, j->ys.w };
      tl_k_depthwise_forward (j->pb, buf, bs, j->wb + c0 * j->pb->kernel_h * j->pb->kernel_w,
                              j->bb ? j->bb + c0 : NULL, j->actb,
                              j->y + (n * j->mid + c0) * ohw, os);
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
tl_conv2d_pair_fits (tl_shape4 xs, int64_t mid, const tl_conv_params *pb)
{
  const int64_t hw = xs.h * xs.w;
  /* below 16×16 the expanded tensor fits the cache anyway. Above 512K
   * floats of input (2 MB: a 512×512 plane of 8 channels) the input would
   * stream from memory once per six channels, which costs more than the
   * expanded tensor saves. */
  return pb->groups == mid && mid > 1 && mid <= TL_KERNEL_MAX_DIM && hw > 256 && xs.c >= 1
         && xs.c <= PAIR_INPUT_MAX / hw;
}

gboolean
tl_conv2d_pair_forward (const float *x, tl_shape4 xs, const float *wa, int64_t mid,
                        const float *ba, tl_activation acta, const tl_conv_params *pb,
                        const float *wb, const float *bb, tl_activation actb, float *y,
                        tl_shape4 ys, GError **error)
{
  g_return_val_if_fail (x && wa && pb && wb && y, FALSE);
  tl_shape4 ms = { xs.n, mid, xs.h, xs.w }, want;
  if (!tl_k_check_shape ("Conv pair", "input", xs, error)
      || !tl_k_check_shape ("Conv pair", "expanded", ms, error)
      || !tl_conv2d_output_shape (pb, ms, mid, &want, error)
      || !tl_k_expect_shape ("Conv pair", "output", ys, want, error))
    return FALSE;
  if (!tl_conv2d_pair_fits (xs, mid, pb))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "Conv pair: not a pointwise conv followed by a depthwise one on %"
                   G_GINT64_FORMAT " channels of more than 256 positions", mid);
      return FALSE;
    }
  pair_job j = { .x = x, .wa = wa, .ba = ba, .wb = wb, .bb = bb, .y = y, .xs = xs, .ys = ys,
                 .mid = mid, .cg = group_channels (mid, xs.h * xs.w), .acta = acta,
                 .actb = actb, .pb = pb };
  tl_k_parallel (xs.n * tl_k_ceil_div (mid, j.cg), pair_groups, &j);
  return TRUE;
}
