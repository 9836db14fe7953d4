/* The compute-heavy op kernels of the CNN engine: pure functions on plain,
 * C-contiguous float32 buffers with explicit shapes (llm.c / ggml style).
 *
 * Conventions shared by every kernel here:
 * - Activations are NCHW (tl_shape4), batch N >= 1. Conv weights are OIHW as
 *   ONNX stores them: [C_out, C_in/groups, kH, kW]; ConvTranspose weights are
 *   [C_in, C_out/groups, kH, kW] (ONNX layout).
 * - The caller allocates every output, and the scratch whose size depends
 *   on the shapes alone (ask tl_*_scratch_size(), sizes are in floats), so
 *   one workspace can be reused. Per-thread buffers are allocated by the
 *   kernels per call: Resize's two O(Ho + Wo) index tables, the padded
 *   plane of depthwise3x3.c, the channel group of conv-pair.c (~512 KB).
 * - Functions whose parameters can be invalid return gboolean and fill a
 *   GError (TL_ERROR_INVALID) naming the parameter: the output shape passed in
 *   must equal the one the parameters imply, every size is checked against
 *   sane limits before any arithmetic can overflow. Pointers are never
 *   checked beyond g_return_val_if_fail (that is a programming error).
 * - Backward kernels give the gradient with respect to the *input
 *   activations* only (what Grad-CAM needs). They OVERWRITE dx (they do not
 *   accumulate into it); the caller sums when a tensor feeds several ops.
 * - Threading: every parallel loop, GEMMs included, runs on the kernels'
 *   own tl_kernels_get_threads() threads (threads.c); OpenBLAS is kept at
 *   one thread. Direct loops (depthwise conv, pooling, resize, our own
 *   GEMMs) split whole planes or rows, so every element is computed by
 *   exactly one thread in the same order and their results do not depend
 *   on the thread count (tested bit for bit). Products cut into blocks of C
 *   for cblas_sgemm (sgemm.c, conv column tiles) agree across thread counts
 *   to float rounding only: a block ending inside OpenBLAS's micro-tile
 *   goes through its edge kernel.
 */
#pragma once
#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* Largest value accepted for any single spatial size, kernel size, stride,
 * dilation, pad or channel count: keeps every product of two in int64 range
 * and turns absurd model attributes into errors. */
#define TL_KERNEL_MAX_DIM ((int64_t) 1 << 24)

typedef struct
{
  int64_t n, c, h, w;
} tl_shape4;

/* ---------------------------------------------------------------- threads */

/* Sets the thread count of the kernels' own parallel loops, GEMMs included
 * (tl_k_sgemm splits them); OpenBLAS is set to one thread. n < 1 means 1. */
void tl_kernels_set_threads (int n);
int  tl_kernels_get_threads (void);

/* ------------------------------------------------------------ activation */

typedef enum
{
  TL_ACT_NONE = 0,
  TL_ACT_RELU,      /* max(x, 0) */
  TL_ACT_CLIP,      /* min(max(x, lo), hi) (ReLU6 is lo=0, hi=6) */
  TL_ACT_HARDSWISH, /* x * min(max(x + 3, 0), 6) / 6 (ONNX HardSwish) */
} tl_act_kind;

typedef struct
{
  tl_act_kind kind;
  float       lo, hi; /* only for TL_ACT_CLIP */
} tl_activation;

/* ------------------------------------------------------------------ conv */

typedef struct
{
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t dilation_h, dilation_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t groups;
} tl_conv_params;

/* ONNX auto_pad. NOTSET means "use the explicit pads". */
typedef enum
{
  TL_AUTO_PAD_NOTSET = 0,
  TL_AUTO_PAD_SAME_UPPER, /* out = ceil(in/stride), odd extra pad at the end */
  TL_AUTO_PAD_SAME_LOWER, /* out = ceil(in/stride), odd extra pad at the start */
  TL_AUTO_PAD_VALID,      /* no padding, out = ceil((in - eff_k + 1)/stride) */
} tl_auto_pad;

/* 1x1 kernel, stride 1, dilation 1, no pads, 1 group. */
tl_conv_params tl_conv_default_params (void);

/* Resolves one spatial axis of ONNX auto_pad for Conv / pooling: given the
 * input length, kernel, stride and dilation, writes the begin/end pads.
 * With NOTSET the pads are left untouched. Errors on non-positive sizes. */
gboolean tl_conv_resolve_auto_pad (tl_auto_pad mode, int64_t in, int64_t kernel,
                                   int64_t stride, int64_t dilation,
                                   int64_t *pad_begin, int64_t *pad_end,
                                   GError **error);

/* Output shape [N, c_out, Ho, Wo] of a convolution of x with these params,
 * Ho = floor((H + pt + pb - ((kH-1)*dH + 1)) / sH) + 1. Checks every
 * parameter (positive kernel/stride/dilation, non-negative pads, channels
 * divisible by groups, effective kernel fits in the padded input). */
gboolean tl_conv2d_output_shape (const tl_conv_params *p, tl_shape4 x,
                                 int64_t c_out, tl_shape4 *y, GError **error);

/* Scratch (floats) tl_conv2d_forward / _backward_input need for these
 * shapes: C_in/groups * kH * kW * Ho * Wo for the im2col path, 0 for 1x1
 * stride-1 unpadded and depthwise convolutions. Meant for valid shapes;
 * absurd ones saturate at SIZE_MAX rather than overflow. */
size_t tl_conv2d_scratch_size (const tl_conv_params *p, tl_shape4 x, tl_shape4 y);

/* y = act(conv(x, w) + bias). x: xs (NCHW); w: ws (OIHW, ws.n = C_out,
 * ws.c = C_in/groups, ws.h = kernel_h, ws.w = kernel_w); bias: C_out floats
 * or NULL; y: ys, which must equal tl_conv2d_output_shape(). scratch holds
 * scratch_len floats (may be NULL when the size is 0).
 * Paths: depthwise (groups == C_in == C_out > 1) -> direct loop (vectorised
 * rows for 3x3 and 5x5 kernels at strides 1 and 2); a short output (8..256
 * positions) -> our own GEMM over the whole image (gemm-small-n.c, or
 * gemm-panel.c with packed weights); otherwise the output columns are cut
 * into cache-sized tiles shared by the threads, each getting its im2col
 * (none for 1x1 stride-1 unpadded), a cblas_sgemm and the fused
 * bias + activation while it is in L2. */
gboolean tl_conv2d_forward (const tl_conv_params *p,
                            const float *x, tl_shape4 xs,
                            const float *w, tl_shape4 ws,
                            const float *bias, tl_activation act,
                            float *y, tl_shape4 ys,
                            float *scratch, size_t scratch_len,
                            GError **error);

/* The weights w of this conv rearranged for a faster forward path on this
 * CPU (panels of output channels, gemm-panel.c), to be made once when the
 * weights are final (after folding BatchNormalization) and handed to
 * tl_conv2d_forward_packed; g_free it. NULL when this conv (shapes, groups)
 * or this CPU has no such path: then there is nothing to pass. */
float *tl_conv2d_pack_weights (const tl_conv_params *p, tl_shape4 xs, tl_shape4 ys,
                               const float *w);

/* tl_conv2d_forward with the packed weights from tl_conv2d_pack_weights
 * for the same p, xs, ys and w (or NULL, which is tl_conv2d_forward). The
 * results are the same bits either way. */
gboolean tl_conv2d_forward_packed (const tl_conv_params *p,
                                   const float *x, tl_shape4 xs,
                                   const float *w, tl_shape4 ws, const float *packed,
                                   const float *bias, tl_activation act,
                                   float *y, tl_shape4 ys,
                                   float *scratch, size_t scratch_len,
                                   GError **error);

/* A one-group conv pa (mid output channels, weights wa [mid][xs.c][kH][kW],
 * bias ba or NULL, activation acta) followed by a depthwise conv pb on its
 * output (weights wb [mid][1][kH][kW], bias bb, activation actb), without
 * the tensor in between ever being stored whole: y (ys) = the depthwise
 * conv's output, equal to the two convs run one after the other up to
 * float rounding (conv-pair.c). scratch: tl_conv2d_scratch_size of pa
 * (0 for a pointwise pa). tl_conv2d_pair_fits says for which shapes:
 * planes over 256 positions between the two, where that tensor would not
 * stay in cache, and a first-conv GEMM operand (input or im2col) of at
 * most 512K floats, which stays in cache while each group reads it. */
gboolean tl_conv2d_pair_fits (const tl_conv_params *pa, tl_shape4 xs, int64_t mid,
                              const tl_conv_params *pb);
gboolean tl_conv2d_pair_forward (const float *x, tl_shape4 xs, const tl_conv_params *pa,
                                 const float *wa, int64_t mid, const float *ba,
                                 tl_activation acta, const tl_conv_params *pb,
                                 const float *wb, const float *bb, tl_activation actb,
                                 float *y, tl_shape4 ys, float *scratch, size_t scratch_len,
                                 GError **error);

/* dx = d(conv(x, w))/dx^T dy (col2im of W^T dy). Same shapes and scratch as
 * the forward call. dx (xs) is overwritten. No activation: the caller
 * backpropagates through the activation first. */
gboolean tl_conv2d_backward_input (const tl_conv_params *p,
                                   const float *dy, tl_shape4 ys,
                                   const float *w, tl_shape4 ws,
                                   float *dx, tl_shape4 xs,
                                   float *scratch, size_t scratch_len,
                                   GError **error);

/* Folds inference BatchNormalization that follows a conv into the conv:
 * w[o,...] *= s[o], bias[o] = (bias[o] - mean[o]) * s[o] + beta[o],
 * s = gamma / sqrt(var + eps). w holds c_out * per_out floats; bias_in may
 * be NULL (zero); bias_out receives c_out floats (may alias bias_in).
 * Errors (nothing changed) if some var + eps is not positive. */
gboolean tl_conv_fold_batchnorm (float *w, int64_t c_out, int64_t per_out,
                                 const float *bias_in, float *bias_out,
                                 const float *gamma, const float *beta,
                                 const float *mean, const float *var, float eps,
                                 GError **error);

/* -------------------------------------------------------- conv transpose */

typedef struct
{
  tl_conv_params conv;   /* kernel, strides, dilations, pads, groups */
  int64_t output_padding_h, output_padding_w;
} tl_conv_transpose_params;

tl_conv_transpose_params tl_conv_transpose_default_params (void);

/* Ho = sH*(H-1) + output_padding_h + ((kH-1)*dH + 1) - pt - pb (ONNX).
 * output_padding must be < stride or < dilation (as ONNX/PyTorch require). */
gboolean tl_conv_transpose2d_output_shape (const tl_conv_transpose_params *p,
                                           tl_shape4 x, int64_t c_out,
                                           tl_shape4 *y, GError **error);

/* Resolves ONNX ConvTranspose's output_shape attribute for one axis into
 * pads: total = s*(in-1) + output_padding + ((k-1)*d+1) - out_size; with
 * SAME_UPPER (and NOTSET, as ONNX says) begin = total/2, end = total - begin;
 * with SAME_LOWER the odd pad goes to the begin. Errors if total < 0. */
gboolean tl_conv_transpose_resolve_output_size (tl_auto_pad mode, int64_t in,
                                                int64_t out_size, int64_t kernel,
                                                int64_t stride, int64_t dilation,
                                                int64_t output_padding,
                                                int64_t *pad_begin,
                                                int64_t *pad_end,
                                                GError **error);

/* Floats of scratch: C_out/groups * kH * kW * H * W (the column buffer). */
size_t tl_conv_transpose2d_scratch_size (const tl_conv_transpose_params *p,
                                         tl_shape4 x, tl_shape4 y);

/* y = conv_transpose(x, w) + bias. x: xs [N, C_in, H, W]; w: ws
 * [C_in, C_out/groups, kH, kW]; bias: C_out or NULL; y: ys. GEMM + col2im. */
gboolean tl_conv_transpose2d_forward (const tl_conv_transpose_params *p,
                                      const float *x, tl_shape4 xs,
                                      const float *w, tl_shape4 ws,
                                      const float *bias, tl_activation act,
                                      float *y, tl_shape4 ys,
                                      float *scratch, size_t scratch_len,
                                      GError **error);

/* dx (xs) = im2col(dy) contracted with w: the forward conv of dy. */
gboolean tl_conv_transpose2d_backward_input (const tl_conv_transpose_params *p,
                                             const float *dy, tl_shape4 ys,
                                             const float *w, tl_shape4 ws,
                                             float *dx, tl_shape4 xs,
                                             float *scratch, size_t scratch_len,
                                             GError **error);

/* ------------------------------------------------------------ gemm/matmul */

typedef struct
{
  float    alpha, beta;
  gboolean trans_a, trans_b;
} tl_gemm_params;

/* alpha 1, beta 1, no transposes (ONNX Gemm defaults). */
tl_gemm_params tl_gemm_default_params (void);

/* ONNX Gemm: Y[M,N] = alpha * op(A) op(B) + beta * C.
 * A is [a_rows, a_cols] (= [M,K], or [K,M] with trans_a); B likewise
 * [K,N] or [N,K]. C (may be NULL) is unidirectionally broadcast to [M,N]:
 * c_ndim 0 (scalar), 1 ([N]) or 2 ([1|M, 1|N]). y is [M,N] (m, n given). */
gboolean tl_gemm (const tl_gemm_params *p,
                  const float *a, int64_t a_rows, int64_t a_cols,
                  const float *b, int64_t b_rows, int64_t b_cols,
                  const float *c, int c_ndim, const int64_t *c_shape,
                  float *y, int64_t m, int64_t n, GError **error);

/* Gradients of tl_gemm: da (shape of A, i.e. [a_rows, a_cols]) and/or db
 * (shape of B); either may be NULL. dy is [M, N]. */
gboolean tl_gemm_backward (const tl_gemm_params *p,
                           const float *a, int64_t a_rows, int64_t a_cols,
                           const float *b, int64_t b_rows, int64_t b_cols,
                           const float *dy, int64_t m, int64_t n,
                           float *da, float *db, GError **error);

/* NumPy matmul shape rule (ONNX MatMul): A [..., M, K] times B [..., K, N]
 * with broadcast batch dims; a 1-D A is [1,K] with the M axis dropped from
 * the result, a 1-D B is [K,1] with the N axis dropped. Up to 8 dims. */
gboolean tl_matmul_output_shape (int a_ndim, const int64_t *a_shape,
                                 int b_ndim, const int64_t *b_shape,
                                 int *y_ndim, int64_t *y_shape, GError **error);

/* y = A @ B (one cblas_sgemm per batch entry; when B has no batch dims the
 * batch is folded into M: a single GEMM). y_shape must match. */
gboolean tl_matmul (const float *a, int a_ndim, const int64_t *a_shape,
                    const float *b, int b_ndim, const int64_t *b_shape,
                    float *y, int y_ndim, const int64_t *y_shape,
                    GError **error);

/* da = dy @ B^T and/or db = A^T @ dy, summed over the batch dims each input
 * was broadcast along; either output may be NULL. Overwritten. */
gboolean tl_matmul_backward (const float *a, int a_ndim, const int64_t *a_shape,
                             const float *b, int b_ndim, const int64_t *b_shape,
                             const float *dy, int y_ndim, const int64_t *y_shape,
                             float *da, float *db, GError **error);

/* --------------------------------------------------------------- pooling */

typedef struct
{
  int64_t  kernel_h, kernel_w;
  int64_t  stride_h, stride_w;
  int64_t  dilation_h, dilation_w;
  int64_t  pad_top, pad_left, pad_bottom, pad_right;
  gboolean ceil_mode;
  gboolean count_include_pad; /* AveragePool only */
} tl_pool_params;

/* kernel 1x1, stride 1, dilation 1, no pads, floor mode, exclude pads. */
tl_pool_params tl_pool_default_params (void);

/* Output length of one pooled axis. floor mode: floor((in + pb + pe -
 * eff_k) / s) + 1; ceil mode: ceil(...) + 1, minus one if that last window
 * would start past the input plus the begin pad (the rule of PyTorch and of
 * the ONNX reference, so no window lies entirely in the padding).
 * Errors on bad parameters or if eff_k > in + pb + pe. */
gboolean tl_pool_output_size (int64_t in, int64_t kernel, int64_t stride,
                              int64_t dilation, int64_t pad_begin,
                              int64_t pad_end, gboolean ceil_mode,
                              int64_t *out, GError **error);

gboolean tl_pool_output_shape (const tl_pool_params *p, tl_shape4 x,
                               tl_shape4 *y, GError **error);

/* MaxPool. Padded positions never win (they are -inf). argmax (may be NULL)
 * receives, per output element, the index h*W + w of the winning input
 * element within its (n, c) plane (first maximum in row-major window order). */
gboolean tl_maxpool_forward (const tl_pool_params *p,
                             const float *x, tl_shape4 xs,
                             float *y, tl_shape4 ys, int64_t *argmax,
                             GError **error);

/* dx = scatter-add of dy at argmax (from tl_maxpool_forward). */
gboolean tl_maxpool_backward (const tl_pool_params *p,
                              const float *dy, tl_shape4 ys,
                              const int64_t *argmax,
                              float *dx, tl_shape4 xs, GError **error);

/* AveragePool. count_include_pad = 0: divide by the number of window taps
 * inside the input. 1: divide by the taps inside the padded input
 * [-pb, in + pe) (taps that ceil_mode pushes beyond it are not counted,
 * as in PyTorch and ONNX Runtime). */
gboolean tl_avgpool_forward (const tl_pool_params *p,
                             const float *x, tl_shape4 xs,
                             float *y, tl_shape4 ys, GError **error);

gboolean tl_avgpool_backward (const tl_pool_params *p,
                              const float *dy, tl_shape4 ys,
                              float *dx, tl_shape4 xs, GError **error);

/* Global pools: y is [N, C, 1, 1] (N*C floats). argmax as for MaxPool. */
void tl_global_avgpool_forward (const float *x, tl_shape4 xs, float *y);
void tl_global_avgpool_backward (const float *dy, float *dx, tl_shape4 xs);
void tl_global_maxpool_forward (const float *x, tl_shape4 xs, float *y,
                                int64_t *argmax);
void tl_global_maxpool_backward (const float *dy, const int64_t *argmax,
                                 float *dx, tl_shape4 xs);

/* ---------------------------------------------------------------- resize */

typedef enum
{
  TL_RESIZE_NEAREST = 0,
  TL_RESIZE_LINEAR, /* bilinear over H, W */
} tl_resize_mode;

typedef enum
{
  TL_RESIZE_HALF_PIXEL = 0,   /* (x + 0.5) / scale - 0.5 */
  TL_RESIZE_PYTORCH_HALF_PIXEL, /* as half_pixel, but 0 when out length is 1 */
  TL_RESIZE_ASYMMETRIC,       /* x / scale */
  TL_RESIZE_ALIGN_CORNERS,    /* x * (in - 1) / (out - 1), 0 when out is 1 */
  TL_RESIZE_TF_HALF_PIXEL_FOR_NN, /* (x + 0.5) / scale */
} tl_resize_coord;

typedef enum
{
  TL_RESIZE_ROUND_PREFER_FLOOR = 0,
  TL_RESIZE_ROUND_PREFER_CEIL,
  TL_RESIZE_FLOOR,
  TL_RESIZE_CEIL,
  /* ONNX Runtime's rule for Upsample-7/9 and Resize-10 (opsets that have no
   * nearest_mode): floor on an axis that is upsampled (scale >= 1), ceil on
   * one that is downsampled. */
  TL_RESIZE_SIMPLE,
} tl_resize_nearest;

typedef struct
{
  tl_resize_mode    mode;
  tl_resize_coord   coord;
  tl_resize_nearest nearest;
  /* ONNX "scales" for H and W (float32 in the model; they are used as
   * float). 0 means derive from the sizes (out / in), which is what ONNX
   * does when "sizes" is given. When scales are given, the caller computes
   * out with tl_resize_output_size() and passes both. */
  double scale_h, scale_w;
} tl_resize_params;

/* Output length for a given "scales" entry as ONNX Runtime computes it:
 * floor(scale * in) with the product in float32 (so 40 * 2.3f gives 92,
 * where double arithmetic and ONNX shape inference give 91). -1 if the
 * result is negative, NaN or above TL_KERNEL_MAX_DIM. */
int64_t tl_resize_output_size (int64_t in, float scale);

/* nearest, half_pixel, round_prefer_floor, scales from sizes (ONNX defaults). */
tl_resize_params tl_resize_default_params (void);

/* ONNX Upsample (opset 7/9) and Resize-10 as ONNX Runtime runs them:
 * asymmetric coordinates, nearest rounds with TL_RESIZE_SIMPLE, linear is
 * bilinear; the scales are given (out = floor(in * scale)). */
tl_resize_params tl_resize_upsample_params (tl_resize_mode mode,
                                            double scale_h, double scale_w);

/* y (ys: same N, C as xs, any H, W >= 1) = resize(x). An axis whose
 * size and scale stay the same is copied (ONNX Runtime's behaviour; it only
 * differs from the formula for tf_half_pixel_for_nn). Source coordinates
 * are computed in float32 exactly as ONNX Runtime writes each formula, so
 * nearest neighbour picks the same pixels; linear taps outside [0, in-1]
 * repeat the edge. */
gboolean tl_resize_forward (const tl_resize_params *p,
                            const float *x, tl_shape4 xs,
                            float *y, tl_shape4 ys, GError **error);

/* dx = adjoint of the (linear) resize applied to dy. Overwritten. */
gboolean tl_resize_backward (const tl_resize_params *p,
                             const float *dy, tl_shape4 ys,
                             float *dx, tl_shape4 xs, GError **error);

/* ------------------------------------------------------ batchnorm/softmax */

/* Inference BatchNormalization over NCHW: y = gamma * (x - mean) /
 * sqrt(var + eps) + beta per channel. y may alias x. Errors on eps < 0 or
 * var + eps <= 0. */
gboolean tl_batchnorm_forward (const float *x, tl_shape4 xs,
                               const float *gamma, const float *beta,
                               const float *mean, const float *var,
                               float eps, float *y, GError **error);

/* dx = dy * gamma / sqrt(var + eps) (inference mode: statistics are constants). */
gboolean tl_batchnorm_backward (const float *dy, tl_shape4 xs,
                                const float *gamma, const float *var,
                                float eps, float *dx, GError **error);

/* Softmax along an axis of a tensor viewed as [outer, len, inner]
 * (opset >= 13: outer = prod(shape[:axis]), len = shape[axis],
 * inner = prod(shape[axis+1:]); opset < 13 flattens: len =
 * prod(shape[axis:]), inner = 1). Max-subtracted, so no overflow. y may alias x. */
gboolean tl_softmax_forward (const float *x, int64_t outer, int64_t len,
                             int64_t inner, float *y, GError **error);

/* dx = y * (dy - sum(dy * y)) along the axis; y is the forward output. */
gboolean tl_softmax_backward (const float *y, const float *dy, int64_t outer,
                              int64_t len, int64_t inner, float *dx,
                              GError **error);
