/* C = act(W·X + bias) for the convolutions with a short output (7×7 and
 * 14×14 planes), on CPUs with AVX-512, with W packed at load time.
 *
 * Why: with N = 49 output positions, tl_k_gemm_small_n (vectors along N)
 * computes 56 columns for 49 and reads six rows of W at once, i.e. six
 * streams from memory: 70-75 GFLOP/s on one core here, against the ~100
 * that ONNX Runtime reaches on MobileNetV2's 7×7 layers. Here the vectors
 * run along the output channels instead: W is packed once into panels of
 * 32 channels, [K][32] each, so a tile reads one contiguous stream of W
 * and broadcasts single elements of X (K×N, small, in L2). No lane is
 * wasted whatever N is; the price is a transposing store of each finished
 * 12×32 tile, which only pays off for K large enough (see
 * tl_k_gemm_panel_fits).
 *
 * Each element of C is one dot product over K in order, one FMA per k,
 * then + bias and the activation as tl_k_bias_act computes them: results
 * are the same bits as tl_k_gemm_small_n's, for any thread count. */
#include "kernels-private.h"

#include <immintrin.h>

#define PANEL 32 /* output channels per panel: two 16-float vectors */
#define RT 12    /* output positions per tile: 24 accumulators of 32 registers */

#define AVX512 __attribute__ ((target ("avx512f,fma")))

/* Within tl_k_gemm_small_n's shapes, so that a conv gets the same bits
 * with or without packed weights. K >= 128: below, the transposing store
 * costs what the better vectors gain (one core, against small-n: K = 64
 * at 14×14 0.96×, K = 144 0.99×, K = 160 at 7×7 1.19×, K = 320..960
 * 1.1-1.66×). */
gboolean
tl_k_gemm_panel_fits (int64_t M, int64_t N, int64_t K)
{
  return tl_k_have_avx512 () && tl_k_gemm_small_n_fits (M, N, K) && K >= 128;
}

size_t
tl_k_gemm_panel_packed_len (int64_t M, int64_t K)
{
  return (size_t) (tl_k_ceil_div (M, PANEL) * PANEL * K);
}

void
tl_k_gemm_panel_pack (int64_t M, int64_t K, const float *w, float *packed)
{
  const int64_t P = tl_k_ceil_div (M, PANEL);
  for (int64_t p = 0; p < P; p++)
    for (int64_t i = 0; i < PANEL; i++)
      {
        const int64_t m = p * PANEL + i;
        float *dst = packed + p * K * PANEL + i;
        for (int64_t k = 0; k < K; k++)
          dst[k * PANEL] = m < M ? w[m * K + k] : 0.0f;
      }
}

/* act(v + b) on 16 lanes, the same roundings and NaN behaviour as
 * tl_k_bias_act (max/min return their second operand for a NaN). */
static inline __attribute__ ((always_inline)) AVX512 __m512
bias_act16 (__m512 v, __m512 b, tl_activation act)
{
  v = _mm512_add_ps (v, b);
  const __m512 zero = _mm512_setzero_ps ();
  switch (act.kind)
    {
    case TL_ACT_NONE:
      return v;
    case TL_ACT_RELU: /* v > 0 ? v : 0 */
      return _mm512_max_ps (v, zero);
    case TL_ACT_CLIP: /* v < lo ? lo : v, then v > hi ? hi : v */
      v = _mm512_max_ps (_mm512_set1_ps (act.lo), v);
      return _mm512_min_ps (_mm512_set1_ps (act.hi), v);
    case TL_ACT_HARDSWISH:
      {
        __m512 r = _mm512_add_ps (v, _mm512_set1_ps (3.0f));
        r = _mm512_min_ps (_mm512_set1_ps (6.0f), _mm512_max_ps (zero, r));
        return _mm512_mul_ps (_mm512_mul_ps (v, r), _mm512_set1_ps (1.0f / 6.0f));
      }
    }
  return v;
}

typedef struct
{
  int64_t M, N, K, ldx, chunks;
  const float *packed, *x, *bias;
  float *c;
  tl_activation act;
} panel_job;

/* R positions n .. n + R of panel p: R×32 accumulators over the whole of
 * K, then bias and activation, then stored transposed into C's rows. */
#define PANEL_TILE(R)                                                                   \
  static inline __attribute__ ((always_inline)) AVX512 void                          \
  tile_##R (const panel_job *j, int64_t p, int64_t n, const __m512 bias[2])           \
  {                                                                                   \
    const float *pw = j->packed + p * j->K * PANEL, *x = j->x + n;                    \
    __m512 acc[R][2];                                                                 \
    _Pragma ("GCC unroll 12") for (int r = 0; r < R; r++)                              \
      acc[r][0] = acc[r][1] = _mm512_setzero_ps ();                                   \
    for (int64_t k = 0; k < j->K; k++)                                                \
      {                                                                               \
        const __m512 w0 = _mm512_loadu_ps (pw + k * PANEL);                           \
        const __m512 w1 = _mm512_loadu_ps (pw + k * PANEL + 16);                      \
        const float *xk = x + k * j->ldx;                                             \
        _Pragma ("GCC unroll 12") for (int r = 0; r < R; r++)                          \
          {                                                                           \
            const __m512 b = _mm512_set1_ps (xk[r]);                                  \
            acc[r][0] = _mm512_fmadd_ps (b, w0, acc[r][0]);                           \
            acc[r][1] = _mm512_fmadd_ps (b, w1, acc[r][1]);                           \
          }                                                                           \
      }                                                                               \
    float t[R][PANEL];                                                                \
    _Pragma ("GCC unroll 12") for (int r = 0; r < R; r++)                              \
      {                                                                               \
        _mm512_storeu_ps (t[r], bias_act16 (acc[r][0], bias[0], j->act));             \
        _mm512_storeu_ps (t[r] + 16, bias_act16 (acc[r][1], bias[1], j->act));        \
      }                                                                               \
    const int64_t m0 = p * PANEL, mv = MIN (PANEL, j->M - m0);                        \
    for (int64_t i = 0; i < mv; i++)                                                  \
      {                                                                               \
        float *c = j->c + (m0 + i) * j->N + n;                                        \
        _Pragma ("GCC unroll 12") for (int r = 0; r < R; r++)                          \
          c[r] = t[r][i];                                                             \
      }                                                                               \
  }

PANEL_TILE (12)
PANEL_TILE (4)
PANEL_TILE (1)

/* Work items [b, e): item = panel · chunks + chunk, a chunk being RT
 * positions (the last one the N % RT left, as tiles of 4 and 1). */
static AVX512 void
panel_items (void *ctx, int64_t b, int64_t e)
{
  const panel_job *j = ctx;
  for (int64_t it = b; it < e; it++)
    {
      const int64_t p = it / j->chunks, n0 = it % j->chunks * RT;
      float bb[PANEL] = { 0 };
      for (int64_t i = 0; i < PANEL && j->bias && p * PANEL + i < j->M; i++)
        bb[i] = j->bias[p * PANEL + i];
      const __m512 bias[2] = { _mm512_loadu_ps (bb), _mm512_loadu_ps (bb + 16) };
      int64_t n = n0;
      const int64_t end = MIN (n0 + RT, j->N);
      if (end - n == RT)
        tile_12 (j, p, n, bias);
      else
        {
          for (; n + 4 <= end; n += 4)
            tile_4 (j, p, n, bias);
          for (; n < end; n++)
            tile_1 (j, p, n, bias);
        }
    }
}

void
tl_k_gemm_panel (int64_t M, int64_t N, int64_t K, const float *packed, const float *x,
                 int64_t ldx, const float *bias, tl_activation act, float *c)
{
  panel_job j = { .M = M, .N = N, .K = K, .ldx = ldx, .chunks = tl_k_ceil_div (N, RT),
                  .packed = packed, .x = x, .bias = bias, .c = c, .act = act };
  tl_k_parallel (tl_k_ceil_div (M, PANEL) * j.chunks, panel_items, &j);
}
