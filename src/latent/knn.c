#include "knn.h"
#include "check.h"
#include "error.h"

#include <cblas.h>
#include <math.h>

/* Rows of q per block, so that a block of squared distances stays ~32 MB. */
static int64_t
block_rows (int64_t nr)
{
  return MAX ((int64_t) 1, ((int64_t) 4 << 20) / MAX (nr, (int64_t) 1));
}

typedef struct {
  int64_t nq, nr, d;
  double *q, *r;           /* double copies */
  double *qn, *rn;         /* squared norms */
  double *block;           /* block_rows × nr */
  int64_t rows;
} pairs;

static gboolean
pairs_init (pairs *p, const float *q, int64_t nq, const float *r, int64_t nr, int64_t d,
            GError **error)
{
  if (!tl_latent_check_bank (q, nq, d, 1, "query set", error)
      || !tl_latent_check_bank (r, nr, d, 1, "reference set", error))
    return FALSE;
  p->rows = MIN (block_rows (nr), nq);
  if (!tl_latent_check_alloc (((double) (nq + nr) * (d + 1) + (double) p->rows * nr)
                              * sizeof (double), "distance computation", error))
    return FALSE;
  p->nq = nq;
  p->nr = nr;
  p->d = d;
  p->q = g_new (double, nq * d);
  p->r = g_new (double, nr * d);
  p->qn = g_new0 (double, nq);
  p->rn = g_new0 (double, nr);
  p->block = g_new (double, p->rows * nr);
  for (int64_t i = 0; i < nq * d; i++)
    {
      p->q[i] = q[i];
      p->qn[i / d] += p->q[i] * p->q[i];
    }
  for (int64_t i = 0; i < nr * d; i++)
    {
      p->r[i] = r[i];
      p->rn[i / d] += p->r[i] * p->r[i];
    }
  return TRUE;
}

static void
pairs_clear (pairs *p)
{
  g_free (p->q);
  g_free (p->r);
  g_free (p->qn);
  g_free (p->rn);
  g_free (p->block);
}

/* Squared distances of query rows [i0, i0 + m) to every ref row. */
static void
pairs_block (pairs *p, int64_t i0, int64_t m)
{
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) m, (int) p->nr, (int) p->d, -2.0,
               p->q + i0 * p->d, (int) p->d, p->r, (int) p->d, 0.0, p->block, (int) p->nr);
  for (int64_t a = 0; a < m; a++)
    for (int64_t b = 0; b < p->nr; b++)
      {
        double *v = p->block + a * p->nr + b;
        *v = MAX (*v + p->qn[i0 + a] + p->rn[b], 0.0);
      }
}

gboolean
tl_knn_radii (const float *x, int64_t n, int64_t d, int k, double *radius, GError **error)
{
  if (k < 1 || k > TL_KNN_MAX_K || k >= n)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "k-NN: k = %d needs 1 <= k < n = %" G_GINT64_FORMAT " (and k <= %d)", k, n,
                   TL_KNN_MAX_K);
      return FALSE;
    }
  pairs p;
  if (!pairs_init (&p, x, n, x, n, d, error))
    return FALSE;
  double *best = g_new (double, k);   /* the k smallest, ascending */
  for (int64_t i0 = 0; i0 < n; i0 += p.rows)
    {
      int64_t m = MIN (p.rows, n - i0);
      pairs_block (&p, i0, m);
      for (int64_t a = 0; a < m; a++)
        {
          int have = 0;
          for (int64_t b = 0; b < n; b++)
            {
              if (b == i0 + a)
                continue;
              double v = p.block[a * n + b];
              if (have == k && v >= best[k - 1])
                continue;
              int pos = have < k ? have++ : k - 1;
              while (pos > 0 && best[pos - 1] > v)
                {
                  best[pos] = best[pos - 1];
                  pos--;
                }
              best[pos] = v;
            }
          radius[i0 + a] = sqrt (best[k - 1]);
        }
    }
  g_free (best);
  pairs_clear (&p);
  return TRUE;
}

gboolean
tl_nn_distances (const float *q, int64_t nq, const float *ref, int64_t nr, int64_t d,
                 double *dist, GError **error)
{
  pairs p;
  if (!pairs_init (&p, q, nq, ref, nr, d, error))
    return FALSE;
  for (int64_t i0 = 0; i0 < nq; i0 += p.rows)
    {
      int64_t m = MIN (p.rows, nq - i0);
      pairs_block (&p, i0, m);
      for (int64_t a = 0; a < m; a++)
        {
          double mn = INFINITY;
          for (int64_t b = 0; b < nr; b++)
            mn = MIN (mn, p.block[a * nr + b]);
          dist[i0 + a] = sqrt (mn);
        }
    }
  pairs_clear (&p);
  return TRUE;
}

gboolean
tl_knn_covered (const float *q, int64_t nq, const float *ref, int64_t nr, int64_t d,
                const double *radius, gboolean *covered, GError **error)
{
  pairs p;
  if (!pairs_init (&p, q, nq, ref, nr, d, error))
    return FALSE;
  double *r2 = g_new (double, nr);
  for (int64_t b = 0; b < nr; b++)
    r2[b] = radius[b] * radius[b];
  for (int64_t i0 = 0; i0 < nq; i0 += p.rows)
    {
      int64_t m = MIN (p.rows, nq - i0);
      pairs_block (&p, i0, m);
      for (int64_t a = 0; a < m; a++)
        {
          gboolean c = FALSE;
          for (int64_t b = 0; b < nr && !c; b++)
            c = p.block[a * nr + b] <= r2[b];
          covered[i0 + a] = c;
        }
    }
  g_free (r2);
  pairs_clear (&p);
  return TRUE;
}
