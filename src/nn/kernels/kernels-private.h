/* Helpers shared by the kernel sources; not part of the public API. */
#pragma once
#include "kernels.h"
#include "error.h"
#include "tensor.h"

#include <cblas.h>

/* Runs fn(ctx, begin, end) over [0, count) split into at most
 * tl_kernels_get_threads() contiguous chunks, one per thread (the caller's
 * thread takes the first). Each index is handled by exactly one call, so
 * results do not depend on the thread count. */
typedef void (*tl_k_range_fn) (void *ctx, int64_t begin, int64_t end);
void tl_k_parallel (int64_t count, tl_k_range_fn fn, void *ctx);
/* Inside fn: which of the tl_kernels_get_threads() threads runs this chunk,
 * 0 .. threads - 1 (two chunks running at once never share a slot), e.g. to
 * pick a per-thread piece of scratch. 0 outside a parallel loop. A loop
 * started inside fn runs inline on the calling thread. */
int  tl_k_thread_slot (void);

/* Row-major cblas_sgemm / cblas_sgemv (unit strides), split over the
 * kernels' threads when large enough (sgemm.c). Results for any thread
 * count agree to float rounding, not always bit for bit. */
void tl_k_sgemm (CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k,
                 float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                 float beta, float *c, int64_t ldc);
/* C (M×N, row-major, ld N) = act(W·X + bias) for W M×K (ld K) and X K×N
 * (ld ldx), split over the threads by rows; for the shapes that
 * tl_k_gemm_small_n_fits accepts (gemm-small-n.c). bias may be NULL. */
gboolean tl_k_gemm_small_n_fits (int64_t M, int64_t N, int64_t K);
void     tl_k_gemm_small_n (int64_t M, int64_t N, int64_t K, const float *w, const float *x,
                            int64_t ldx, const float *bias, tl_activation act, float *c);
/* The same product for W packed once by tl_k_gemm_panel_pack (into
 * tl_k_gemm_panel_packed_len floats), vectorised along the output channels
 * (gemm-panel.c, AVX-512 only): faster than tl_k_gemm_small_n where
 * tl_k_gemm_panel_fits, with the same results bit for bit. */
gboolean tl_k_gemm_panel_fits (int64_t M, int64_t N, int64_t K);
size_t   tl_k_gemm_panel_packed_len (int64_t M, int64_t K);
void     tl_k_gemm_panel_pack (int64_t M, int64_t K, const float *w, float *packed);
void     tl_k_gemm_panel (int64_t M, int64_t N, int64_t K, const float *packed, const float *x,
                          int64_t ldx, const float *bias, tl_activation act, float *c);
void tl_k_sgemv (CBLAS_TRANSPOSE ta, int64_t rows, int64_t cols, float alpha, const float *a,
                 int64_t lda, const float *x, float beta, float *y);

/* lo <= v <= TL_KERNEL_MAX_DIM, else an error naming op and name. */
gboolean tl_k_check_param (const char *op, const char *name, int64_t v,
                           int64_t lo, GError **error);
/* Every dim in [1, TL_KERNEL_MAX_DIM] and numel <= TL_TENSOR_MAX_NUMEL. */
gboolean tl_k_check_shape (const char *op, const char *what, tl_shape4 s,
                           GError **error);
/* got == want, else an error showing both. */
gboolean tl_k_expect_shape (const char *op, const char *what, tl_shape4 got,
                            tl_shape4 want, GError **error);

static inline int64_t
tl_k_numel (tl_shape4 s)
{
  return s.n * s.c * s.h * s.w;
}

/* a*b*c*d*e of non-negative sizes, saturated at SIZE_MAX instead of
 * overflowing (scratch sizes are asked before shapes are fully trusted). */
static inline size_t
tl_k_mul5_sat (int64_t a, int64_t b, int64_t c, int64_t d, int64_t e)
{
  const int64_t f[5] = { a, b, c, d, e };
  uint64_t r = 1;
  for (int i = 0; i < 5; i++)
    if (f[i] < 0 || __builtin_mul_overflow (r, (uint64_t) f[i], &r) || r > SIZE_MAX)
      return SIZE_MAX;
  return (size_t) r;
}

static inline int64_t
tl_k_ceil_div (int64_t a, int64_t b)
{
  return (a + b - 1) / b;
}

/* Whether this CPU runs the kernels' AVX2+FMA copies, and their AVX-512
 * ones (gemm-panel.c; implies AVX2+FMA). */
gboolean tl_k_have_avx2_fma (void);
gboolean tl_k_have_avx512 (void);

/* For a hand-vectorised loop body(ctx, begin, end) (always inline): defines
 * body_avx2 and body_base, the body compiled for AVX2+FMA and for the
 * baseline, and pick_body() returning the one for this CPU, to hand to
 * tl_k_parallel. Not target_clones: clang (the fuzzer's compiler) only
 * dispatches calls that see the clones' declaration. */
#define TL_K_AVX2_RANGE_FN(body)                                                  \
  __attribute__ ((target ("avx2,fma"))) static void body##_avx2 (void *ctx, int64_t b, \
                                                                 int64_t e)       \
  {                                                                               \
    body (ctx, b, e);                                                             \
  }                                                                               \
  static void body##_base (void *ctx, int64_t b, int64_t e) { body (ctx, b, e); }  \
  static tl_k_range_fn pick_##body (void)                                         \
  {                                                                               \
    return tl_k_have_avx2_fma () ? body##_avx2 : body##_base;                     \
  }

/* Applies y = act(y + b) over len floats. */
void tl_k_bias_act (float *y, int64_t len, float b, tl_activation act);

/* The range [lo, hi) of output positions o for which o*stride + off lies in
 * [0, in), clamped to [0, out). Lets im2col, pooling and depthwise loops
 * handle padding by ranges rather than per-element branches. */
static inline void
tl_k_valid_range (int64_t off, int64_t stride, int64_t in, int64_t out,
                  int64_t *lo, int64_t *hi)
{
  int64_t l = off >= 0 ? 0 : tl_k_ceil_div (-off, stride);
  int64_t h = (in - 1 - off) < 0 ? 0 : (in - 1 - off) / stride + 1;
  if (h > out)
    h = out;
  if (l > h)
    l = h;
  *lo = l;
  *hi = h;
}

/* im2col / col2im for one group: channels planes of in_h x in_w, the conv
 * geometry of p, columns of out_h x out_w. col is [channels*kH*kW, out_h*out_w].
 * col2im ADDS into x (the caller zeroes it). */
void tl_k_im2col (const float *x, int64_t channels, int64_t in_h, int64_t in_w,
                  const tl_conv_params *p, int64_t out_h, int64_t out_w,
                  float *col);
/* im2col of the output columns [j0, j1) only (a tile of the GEMM's N):
 * col is [channels*kH*kW, j1 - j0]. */
void tl_k_im2col_cols (const float *x, int64_t channels, int64_t in_h, int64_t in_w,
                       const tl_conv_params *p, int64_t out_h, int64_t out_w,
                       int64_t j0, int64_t j1, float *col);
void tl_k_col2im (const float *col, int64_t channels, int64_t in_h, int64_t in_w,
                  const tl_conv_params *p, int64_t out_h, int64_t out_w,
                  float *x);

/* The GEMM operand of a conv on one (image, group) of `channels` planes:
 * x itself for a 1x1 stride-1 unpadded conv, else its im2col built in
 * scratch (tl_conv2d_scratch_size floats). *ld = the operand's row length. */
const float *tl_k_conv_columns (const tl_conv_params *p, const float *x, int64_t channels,
                                int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                                float *scratch, int64_t *ld);

/* Depthwise conv on all (n, c) planes (shapes already validated). */
void tl_k_depthwise_forward (const tl_conv_params *p, const float *x, tl_shape4 xs,
                             const float *w, const float *bias, tl_activation act,
                             float *y, tl_shape4 ys);
/* The 3x3, dilation 1, stride 1 or 2 case of tl_k_depthwise_forward
 * (depthwise3x3.c); FALSE (nothing written) for any other geometry. */
gboolean tl_k_depthwise3x3_forward (const tl_conv_params *p, const float *x, tl_shape4 xs,
                                    const float *w, const float *bias, tl_activation act,
                                    float *y, tl_shape4 ys);
void tl_k_depthwise_backward (const tl_conv_params *p, const float *dy, tl_shape4 ys,
                              const float *w, float *dx, tl_shape4 xs);
