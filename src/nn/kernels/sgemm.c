/* cblas_sgemm and cblas_sgemv split over the kernels' own threads.
 *
 * OpenBLAS runs single-threaded here (threads.c says why), so a large
 * product is cut into one block of C per thread, each an ordinary
 * single-threaded cblas call. K is never split, so every element of C is
 * the same dot product whatever the thread count; only its rounding may
 * differ (by ~1e-7 relative), because a block ending inside one of
 * OpenBLAS's micro-tiles goes through its edge kernel, which adds the
 * products in another order. */
#include "kernels-private.h"

/* Below this many multiply-adds a product is not worth waking a thread
 * for (~20 us of work on one core). */
#define PAR_MIN_MACS (1 << 18)
/* Blocks start at multiples of this many rows / columns: whole SIMD
 * vectors and whole micro-tiles of OpenBLAS's kernels. */
#define PAR_ALIGN 16

typedef struct
{
  gboolean        by_rows;      /* split M, else split N */
  int64_t         parts, len;   /* blocks, and the length of the split dim */
  CBLAS_TRANSPOSE ta, tb;
  int64_t         m, n, k, lda, ldb, ldc;
  float           alpha, beta;
  const float    *a, *b;
  float          *c;
} sgemm_job;

/* [lo, hi) of block i out of parts over len, aligned to PAR_ALIGN. */
static void
block_range (int64_t i, int64_t parts, int64_t len, int64_t *lo, int64_t *hi)
{
  const int64_t units = tl_k_ceil_div (len, PAR_ALIGN);
  *lo = MIN (units * i / parts * PAR_ALIGN, len);
  *hi = MIN (units * (i + 1) / parts * PAR_ALIGN, len);
}

static void
sgemm_task (void *data, int64_t i0, int64_t i1)
{
  const sgemm_job *j = data;
  for (int64_t i = i0; i < i1; i++)
    {
      int64_t lo, hi;
      block_range (i, j->parts, j->len, &lo, &hi);
      if (hi <= lo)
        continue;
      if (j->by_rows)
        {
          /* rows lo..hi of op(A): rows of A, or columns of a transposed A */
          const float *a = j->a + (j->ta == CblasNoTrans ? lo * j->lda : lo);
          cblas_sgemm (CblasRowMajor, j->ta, j->tb, (int) (hi - lo), (int) j->n, (int) j->k,
                       j->alpha, a, (int) j->lda, j->b, (int) j->ldb, j->beta,
                       j->c + lo * j->ldc, (int) j->ldc);
        }
      else
        {
          const float *b = j->b + (j->tb == CblasNoTrans ? lo : lo * j->ldb);
          cblas_sgemm (CblasRowMajor, j->ta, j->tb, (int) j->m, (int) (hi - lo), (int) j->k,
                       j->alpha, j->a, (int) j->lda, b, (int) j->ldb, j->beta, j->c + lo,
                       (int) j->ldc);
        }
    }
}

void
tl_k_sgemm (CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k,
            float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
            float beta, float *c, int64_t ldc)
{
  const int64_t nt = tl_kernels_get_threads ();
  if (nt <= 1 || m * n * k < PAR_MIN_MACS || (m < 2 * PAR_ALIGN && n < 2 * PAR_ALIGN))
    {
      cblas_sgemm (CblasRowMajor, ta, tb, (int) m, (int) n, (int) k, alpha, a, (int) lda, b,
                   (int) ldb, beta, c, (int) ldc);
      return;
    }
  /* Split the longer side: each thread then packs the whole of the other
   * operand, which is the smaller one. */
  sgemm_job j = { .by_rows = m > n, .ta = ta, .tb = tb, .m = m, .n = n, .k = k,
                  .lda = lda, .ldb = ldb, .ldc = ldc, .alpha = alpha, .beta = beta,
                  .a = a, .b = b, .c = c };
  j.len = j.by_rows ? m : n;
  j.parts = MIN (nt, tl_k_ceil_div (j.len, PAR_ALIGN));
  tl_k_parallel (j.parts, sgemm_task, &j);
}

typedef struct
{
  CBLAS_TRANSPOSE ta;
  int64_t         rows, cols, lda, parts, len;
  float           alpha, beta;
  const float    *a, *x;
  float          *y;
} sgemv_job;

static void
sgemv_task (void *data, int64_t i0, int64_t i1)
{
  const sgemv_job *j = data;
  for (int64_t i = i0; i < i1; i++)
    {
      int64_t lo, hi;
      block_range (i, j->parts, j->len, &lo, &hi);
      if (hi <= lo)
        continue;
      /* y[lo..hi) depends on rows lo..hi of A (NoTrans) or on its columns
       * lo..hi (Trans) */
      if (j->ta == CblasNoTrans)
        cblas_sgemv (CblasRowMajor, CblasNoTrans, (int) (hi - lo), (int) j->cols, j->alpha,
                     j->a + lo * j->lda, (int) j->lda, j->x, 1, j->beta, j->y + lo, 1);
      else
        cblas_sgemv (CblasRowMajor, CblasTrans, (int) j->rows, (int) (hi - lo), j->alpha,
                     j->a + lo, (int) j->lda, j->x, 1, j->beta, j->y + lo, 1);
    }
}

void
tl_k_sgemv (CBLAS_TRANSPOSE ta, int64_t rows, int64_t cols, float alpha, const float *a,
            int64_t lda, const float *x, float beta, float *y)
{
  const int64_t nt = tl_kernels_get_threads ();
  const int64_t len = ta == CblasNoTrans ? rows : cols;
  if (nt <= 1 || rows * cols < PAR_MIN_MACS || len < 2 * PAR_ALIGN)
    {
      cblas_sgemv (CblasRowMajor, ta, (int) rows, (int) cols, alpha, a, (int) lda, x, 1, beta,
                   y, 1);
      return;
    }
  sgemv_job j = { .ta = ta, .rows = rows, .cols = cols, .lda = lda, .len = len,
                  .alpha = alpha, .beta = beta, .a = a, .x = x, .y = y };
  j.parts = MIN (nt, tl_k_ceil_div (len, PAR_ALIGN));
  tl_k_parallel (j.parts, sgemv_task, &j);
}
