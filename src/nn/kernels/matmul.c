/* ONNX MatMul (NumPy matmul): batched GEMMs over broadcast batch dims. */
#include "kernels-private.h"

#include <cblas.h>
#include <string.h>

#define MM_MAX 8

/* Both operands promoted to >= 2-D and their batch dims right-aligned to
 * the broadcast batch shape of the result. */
typedef struct
{
  int     nb;                 /* number of batch dims */
  int64_t batch[MM_MAX];      /* broadcast batch shape */
  int64_t a_bstride[MM_MAX];  /* element stride of each batch dim in A (0 = broadcast) */
  int64_t b_bstride[MM_MAX];
  int64_t nbatch;             /* prod(batch) */
  int64_t a_nbatch, b_nbatch; /* batch entries actually stored in A, B */
  int64_t m, k, n;
  int     y_ndim;
  int64_t y_shape[MM_MAX];
} mm_plan;

/* a*b*c <= TL_TENSOR_MAX_NUMEL, without overflowing on the way. */
static gboolean
numel_ok (int64_t a, int64_t b, int64_t c)
{
  int64_t ab, abc;
  return !__builtin_mul_overflow (a, b, &ab) && !__builtin_mul_overflow (ab, c, &abc)
         && abc <= TL_TENSOR_MAX_NUMEL;
}

static gboolean
mm_plan_make (int a_ndim, const int64_t *a_shape, int b_ndim,
              const int64_t *b_shape, mm_plan *pl, GError **error)
{
  const char *op = "MatMul";
  if (a_ndim < 1 || a_ndim > MM_MAX || b_ndim < 1 || b_ndim > MM_MAX)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: operands must have 1 to %d dimensions (A has %d, B has %d)",
                   op, MM_MAX, a_ndim, b_ndim);
      return FALSE;
    }
  for (int i = 0; i < a_ndim; i++)
    if (!tl_k_check_param (op, "a dimension of A", a_shape[i], 1, error))
      return FALSE;
  for (int i = 0; i < b_ndim; i++)
    if (!tl_k_check_param (op, "a dimension of B", b_shape[i], 1, error))
      return FALSE;
  int64_t as[MM_MAX], bs[MM_MAX];
  int an = a_ndim, bn = b_ndim;
  if (a_ndim == 1)
    {
      as[0] = 1;
      as[1] = a_shape[0];
      an = 2;
    }
  else
    memcpy (as, a_shape, sizeof (int64_t) * a_ndim);
  if (b_ndim == 1)
    {
      bs[0] = b_shape[0];
      bs[1] = 1;
      bn = 2;
    }
  else
    memcpy (bs, b_shape, sizeof (int64_t) * b_ndim);
  pl->m = as[an - 2];
  pl->k = as[an - 1];
  pl->n = bs[bn - 1];
  if (bs[bn - 2] != pl->k)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: inner dimensions differ (A has K = %" G_GINT64_FORMAT
                   ", B has K = %" G_GINT64_FORMAT ")",
                   op, pl->k, bs[bn - 2]);
      return FALSE;
    }
  const int anb = an - 2, bnb = bn - 2;
  pl->nb = MAX (anb, bnb);
  int64_t astr = pl->m * pl->k, bstr = pl->k * pl->n;
  pl->nbatch = pl->a_nbatch = pl->b_nbatch = 1;
  for (int i = pl->nb - 1; i >= 0; i--)
    {
      const int ai = i - (pl->nb - anb), bi = i - (pl->nb - bnb);
      const int64_t ad = ai >= 0 ? as[ai] : 1, bd = bi >= 0 ? bs[bi] : 1;
      if (ad != bd && ad != 1 && bd != 1)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "%s: batch dimensions %" G_GINT64_FORMAT " and %"
                       G_GINT64_FORMAT " do not broadcast", op, ad, bd);
          return FALSE;
        }
      pl->batch[i] = MAX (ad, bd);
      pl->a_bstride[i] = ad == 1 ? 0 : astr;
      pl->b_bstride[i] = bd == 1 ? 0 : bstr;
      astr *= ad;
      bstr *= bd;
      pl->nbatch *= pl->batch[i];
      pl->a_nbatch *= ad;
      pl->b_nbatch *= bd;
      if (pl->nbatch > TL_TENSOR_MAX_NUMEL)
        break;
    }
  if (!numel_ok (pl->nbatch, pl->m, pl->n) || !numel_ok (pl->a_nbatch, pl->m, pl->k)
      || !numel_ok (pl->b_nbatch, pl->k, pl->n))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: an operand or the result has more than %" G_GINT64_FORMAT
                   " elements", op, TL_TENSOR_MAX_NUMEL);
      return FALSE;
    }
  pl->y_ndim = 0;
  for (int i = 0; i < pl->nb; i++)
    pl->y_shape[pl->y_ndim++] = pl->batch[i];
  if (a_ndim > 1)
    pl->y_shape[pl->y_ndim++] = pl->m;
  if (b_ndim > 1)
    pl->y_shape[pl->y_ndim++] = pl->n;
  return TRUE;
}

gboolean
tl_matmul_output_shape (int a_ndim, const int64_t *a_shape, int b_ndim,
                        const int64_t *b_shape, int *y_ndim, int64_t *y_shape,
                        GError **error)
{
  g_return_val_if_fail (a_shape && b_shape && y_ndim && y_shape, FALSE);
  mm_plan pl;
  if (!mm_plan_make (a_ndim, a_shape, b_ndim, b_shape, &pl, error))
    return FALSE;
  *y_ndim = pl.y_ndim;
  memcpy (y_shape, pl.y_shape, sizeof (int64_t) * pl.y_ndim);
  return TRUE;
}

static gboolean
mm_plan_call (const char *op, int a_ndim, const int64_t *a_shape, int b_ndim,
              const int64_t *b_shape, int y_ndim, const int64_t *y_shape,
              mm_plan *pl, GError **error)
{
  if (!mm_plan_make (a_ndim, a_shape, b_ndim, b_shape, pl, error))
    return FALSE;
  gboolean same = y_ndim == pl->y_ndim && (y_ndim == 0 || y_shape != NULL);
  for (int i = 0; same && i < y_ndim; i++)
    same = y_shape[i] == pl->y_shape[i];
  if (!same)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: the output shape (%d dims) differs from the %d-dim shape "
                   "the operands imply", op, y_ndim, pl->y_ndim);
      return FALSE;
    }
  return TRUE;
}

/* Offsets in A and B of batch entry `idx` (row-major over pl->batch). */
static void
mm_offsets (const mm_plan *pl, int64_t idx, int64_t *ao, int64_t *bo)
{
  int64_t a = 0, b = 0;
  for (int i = pl->nb - 1; i >= 0; i--)
    {
      const int64_t j = idx % pl->batch[i];
      idx /= pl->batch[i];
      a += j * pl->a_bstride[i];
      b += j * pl->b_bstride[i];
    }
  *ao = a;
  *bo = b;
}

gboolean
tl_matmul (const float *a, int a_ndim, const int64_t *a_shape, const float *b,
           int b_ndim, const int64_t *b_shape, float *y, int y_ndim,
           const int64_t *y_shape, GError **error)
{
  g_return_val_if_fail (a && b && y && a_shape && b_shape, FALSE);
  mm_plan pl;
  if (!mm_plan_call ("MatMul", a_ndim, a_shape, b_ndim, b_shape, y_ndim, y_shape,
                     &pl, error))
    return FALSE;
  const int64_t m = pl.m, k = pl.k, n = pl.n;
  if (pl.b_nbatch == 1 && pl.a_nbatch == pl.nbatch)
    {
      /* x @ W: the batch folds into the rows of one GEMM. */
      tl_k_sgemm (CblasNoTrans, CblasNoTrans, pl.nbatch * m, n, k,
                   1.0f, a, k, b, n, 0.0f, y, n);
      return TRUE;
    }
  for (int64_t i = 0; i < pl.nbatch; i++)
    {
      int64_t ao, bo;
      mm_offsets (&pl, i, &ao, &bo);
      tl_k_sgemm (CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a + ao,
                   k, b + bo, n, 0.0f, y + i * m * n, n);
    }
  return TRUE;
}

gboolean
tl_matmul_backward (const float *a, int a_ndim, const int64_t *a_shape,
                    const float *b, int b_ndim, const int64_t *b_shape,
                    const float *dy, int y_ndim, const int64_t *y_shape, float *da,
                    float *db, GError **error)
{
  g_return_val_if_fail (a && b && dy && a_shape && b_shape, FALSE);
  mm_plan pl;
  if (!mm_plan_call ("MatMul backward", a_ndim, a_shape, b_ndim, b_shape, y_ndim,
                     y_shape, &pl, error))
    return FALSE;
  const int64_t m = pl.m, k = pl.k, n = pl.n;
  if (da)
    memset (da, 0, sizeof (float) * pl.a_nbatch * m * k);
  if (db)
    memset (db, 0, sizeof (float) * pl.b_nbatch * k * n);
  /* Accumulate batch entry by batch entry in index order: deterministic. */
  for (int64_t i = 0; i < pl.nbatch; i++)
    {
      int64_t ao, bo;
      mm_offsets (&pl, i, &ao, &bo);
      const float *dyi = dy + i * m * n;
      if (da) /* dA_i += dY_i B_i^T */
        tl_k_sgemm (CblasNoTrans, CblasTrans, m, k, n, 1.0f, dyi, n,
                     b + bo, n, 1.0f, da + ao, k);
      if (db) /* dB_i += A_i^T dY_i */
        tl_k_sgemm (CblasTrans, CblasNoTrans, k, n, m, 1.0f, a + ao,
                     k, dyi, n, 1.0f, db + bo, n);
    }
  return TRUE;
}
