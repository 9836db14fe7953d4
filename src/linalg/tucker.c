#include "tucker.h"
#include "gram-svd.h"
#include "error.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Stop after sweep t when |f_t − f_{t−1}| ≤ TOL·f_{t−1} (methods.md). */
#define FIT_TOL 1e-9

/* out[j][i][k] = T[i][j][k] for T a×b×c: swaps the first two modes. */
static void
swap01 (const double *T, int64_t a, int64_t b, int64_t c, double *out)
{
  for (int64_t i = 0; i < a; i++)
    for (int64_t j = 0; j < b; j++)
      memcpy (out + (j * a + i) * c, T + (i * b + j) * c, sizeof (double) * (gsize) c);
}

void
tl_tucker_mode_product_t (const double *T, const int64_t dims[3], int mode,
                          const double *M, int r, double *out)
{
  int64_t d0 = dims[0], d1 = dims[1], d2 = dims[2];
  if (mode == 0)
    cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, r, (int) (d1 * d2), (int) d0,
                 1.0, M, r, T, (int) (d1 * d2), 0.0, out, (int) (d1 * d2));
  else if (mode == 2)
    cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) (d0 * d1), r, (int) d2,
                 1.0, T, (int) d2, M, r, 0.0, out, r);
  else if (d0 <= 8)
    {
      /* Few slices: one small GEMM each. */
      for (int64_t i = 0; i < d0; i++)
        cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, r, (int) d2, (int) d1,
                     1.0, M, r, T + i * d1 * d2, (int) d2, 0.0, out + i * r * d2, (int) d2);
    }
  else
    {
      /* Many slices (e.g. 2048 channels): bring mode 1 to the front so the
       * product is a single GEMM, then swap back. Two O(size) copies beat
       * thousands of 7×7 GEMM calls. */
      g_autofree double *tp = g_new (double, (gsize) (d0 * d1 * d2));
      g_autofree double *op = g_new (double, (gsize) (r * d0 * d2));
      swap01 (T, d0, d1, d2, tp);
      cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, r, (int) (d0 * d2), (int) d1,
                   1.0, M, r, tp, (int) (d0 * d2), 0.0, op, (int) (d0 * d2));
      swap01 (op, r, d0, d2, out);
    }
}

/* Leading k left singular vectors of the mode-`mode` unfolding of T
 * (dims d), into U (d[mode]×k, row-major). Returns the number kept, or -1. */
static int
mode_leading (const double *T, const int64_t d[3], int mode, int k, double *U,
              double *s, GError **error)
{
  int64_t m = d[mode], n = d[0] * d[1] * d[2] / d[mode];
  int r = 0;
  gboolean ok;
  if (mode == 0)
    ok = tl_linalg_svd_leading (T, m, n, false, k, s, U, NULL, &r, error);
  else if (mode == 2)
    ok = tl_linalg_svd_leading (T, m, n, true, k, s, U, NULL, &r, error);
  else
    {
      g_autofree double *tp = g_new (double, (gsize) (d[0] * d[1] * d[2]));
      swap01 (T, d[0], d[1], d[2], tp);
      ok = tl_linalg_svd_leading (tp, m, n, false, k, s, U, NULL, &r, error);
    }
  return ok ? r : -1;
}

/* Copies the first r columns of U (rows×ku) into a fresh rows×r matrix. */
static double *
first_columns (const double *U, int64_t rows, int ku, int r)
{
  double *out = g_new (double, (gsize) MAX (rows * r, 1));
  for (int64_t i = 0; i < rows; i++)
    memcpy (out + i * r, U + i * ku, sizeof (double) * (gsize) r);
  return out;
}

static double
norm2 (const double *x, int64_t n)
{
  double s = 0.0;
  for (int64_t i = 0; i < n; i++)
    s += x[i] * x[i];
  return sqrt (s);
}

/* Replaces *fac (rows×k) with its leading r ≤ k left singular vectors of the
 * unfolding of T along mode; *rank is updated to the number kept. */
static gboolean
update_factor (const double *T, const int64_t d[3], int mode, int64_t rows, int *rank,
               double **fac, GError **error)
{
  int k = *rank;
  g_autofree double *U = g_new (double, (gsize) (rows * k));
  g_autofree double *s = g_new (double, (gsize) k);
  int r = mode_leading (T, d, mode, k, U, s, error);
  if (r < 0)
    return FALSE;
  g_free (*fac);
  *fac = first_columns (U, rows, k, r);
  *rank = r;
  return TRUE;
}

/* Core G = F ×1 Aᵀ ×2 Bᵀ ×3 Dᵀ for the current factors. */
static void
core (const double *F, const int64_t dims[3], const tl_tucker *t, double *G)
{
  const int *R = t->ranks;
  g_autofree double *t1 = g_new (double, (gsize) (R[0] * dims[1] * dims[2]));
  g_autofree double *t2 = g_new (double, (gsize) (R[0] * R[1] * dims[2]));
  tl_tucker_mode_product_t (F, dims, 0, t->A, R[0], t1);
  int64_t d1[3] = { R[0], dims[1], dims[2] };
  tl_tucker_mode_product_t (t1, d1, 1, t->B, R[1], t2);
  int64_t d2[3] = { R[0], R[1], dims[2] };
  tl_tucker_mode_product_t (t2, d2, 2, t->D, R[2], G);
}

/* One HOOI sweep: A, then B, then D, then the core. */
static gboolean
sweep (const double *F, const int64_t dims[3], tl_tucker *t, double **G, GError **error)
{
  int *R = t->ranks;
  int64_t C = dims[0], H = dims[1], W = dims[2];

  /* A from F ×2 Bᵀ ×3 Dᵀ (C×R1×R2); mode 3 first: a single GEMM. */
  {
    g_autofree double *t3 = g_new (double, (gsize) (C * H * R[2]));
    g_autofree double *y = g_new (double, (gsize) (C * R[1] * R[2]));
    tl_tucker_mode_product_t (F, dims, 2, t->D, R[2], t3);
    int64_t d3[3] = { C, H, R[2] };
    tl_tucker_mode_product_t (t3, d3, 1, t->B, R[1], y);
    int64_t dy[3] = { C, R[1], R[2] };
    if (!update_factor (y, dy, 0, C, &R[0], &t->A, error))
      return FALSE;
  }
  /* T1 = F ×1 Aᵀ (R0×H×W) serves both B and D. */
  g_autofree double *t1 = g_new (double, (gsize) MAX (R[0] * H * W, 1));
  tl_tucker_mode_product_t (F, dims, 0, t->A, R[0], t1);
  int64_t d1[3] = { R[0], H, W };
  {
    g_autofree double *y = g_new (double, (gsize) MAX (R[0] * H * R[2], 1));
    tl_tucker_mode_product_t (t1, d1, 2, t->D, R[2], y);
    int64_t dy[3] = { R[0], H, R[2] };
    if (!update_factor (y, dy, 1, H, &R[1], &t->B, error))
      return FALSE;
  }
  g_autofree double *y = g_new (double, (gsize) MAX (R[0] * R[1] * W, 1));
  tl_tucker_mode_product_t (t1, d1, 1, t->B, R[1], y);
  int64_t dy[3] = { R[0], R[1], W };
  if (!update_factor (y, dy, 2, W, &R[2], &t->D, error))
    return FALSE;
  g_free (*G);
  *G = g_new (double, (gsize) MAX (R[0] * R[1] * R[2], 1));
  tl_tucker_mode_product_t (y, dy, 2, t->D, R[2], *G);
  return TRUE;
}

/* Clamp order of methods.md: numerical ranks first, then the product rule
 * R_i ≤ R_j·R_k repeated until nothing changes. */
static void
clamp_ranks (int R[3], const int numrank[3])
{
  for (int i = 0; i < 3; i++)
    R[i] = MIN (R[i], numrank[i]);
  gboolean changed = TRUE;
  while (changed)
    {
      changed = FALSE;
      for (int i = 0; i < 3; i++)
        {
          int64_t p = (int64_t) R[(i + 1) % 3] * R[(i + 2) % 3];
          if (R[i] > p)
            {
              R[i] = (int) p;
              changed = TRUE;
            }
        }
    }
}

/* Sorts the mode-1 components by sigma (decreasing, stable) and makes every
 * factor column's largest-magnitude entry positive, flipping the core to
 * match so that the reconstruction is unchanged. */
static void
normalise (tl_tucker *t)
{
  int R0 = t->ranks[0], R1 = t->ranks[1], R2 = t->ranks[2];
  int64_t C = t->dims[0], H = t->dims[1], W = t->dims[2];
  int64_t slice = (int64_t) R1 * R2;
  t->sigma = g_new (double, (gsize) MAX (R0, 1));
  for (int k = 0; k < R0; k++)
    t->sigma[k] = norm2 (t->G + k * slice, slice);

  g_autofree int *order = g_new (int, (gsize) MAX (R0, 1));
  for (int k = 0; k < R0; k++)
    {
      int j = k;
      while (j > 0 && t->sigma[order[j - 1]] < t->sigma[k])
        {
          order[j] = order[j - 1];
          j--;
        }
      order[j] = k;
    }
  g_autofree double *A = g_memdup2 (t->A, sizeof (double) * (gsize) (C * R0));
  g_autofree double *G = g_memdup2 (t->G, sizeof (double) * (gsize) (R0 * slice));
  g_autofree double *sg = g_memdup2 (t->sigma, sizeof (double) * (gsize) R0);
  for (int k = 0; k < R0; k++)
    {
      int o = order[k];
      t->sigma[k] = sg[o];
      for (int64_t i = 0; i < C; i++)
        t->A[i * R0 + k] = A[i * R0 + o];
      memcpy (t->G + k * slice, G + o * slice, sizeof (double) * (gsize) slice);
    }

  double *fac[3] = { t->A, t->B, t->D };
  int64_t rows[3] = { C, H, W };
  for (int mode = 0; mode < 3; mode++)
    {
      int r = t->ranks[mode];
      for (int j = 0; j < r; j++)
        {
          double best = 0.0;
          for (int64_t i = 0; i < rows[mode]; i++)
            {
              double v = fac[mode][i * r + j];
              if (fabs (v) > fabs (best))
                best = v;
            }
          if (best >= 0.0)
            continue;
          for (int64_t i = 0; i < rows[mode]; i++)
            fac[mode][i * r + j] = -fac[mode][i * r + j];
          for (int a = 0; a < R0; a++)
            for (int b = 0; b < R1; b++)
              for (int c = 0; c < R2; c++)
                if ((mode == 0 && a == j) || (mode == 1 && b == j) || (mode == 2 && c == j))
                  t->G[((int64_t) a * R1 + b) * R2 + c] *= -1.0;
        }
    }
}

void
tl_tucker_free (tl_tucker *t)
{
  if (!t)
    return;
  g_free (t->fits);
  g_free (t->A);
  g_free (t->B);
  g_free (t->D);
  g_free (t->G);
  g_free (t->sigma);
  g_free (t);
}

tl_tucker *
tl_tucker_hooi (const double *F, const int64_t dims[3], const int ranks[3], int sweeps,
                GError **error)
{
  g_return_val_if_fail (F && dims && ranks, NULL);
  for (int i = 0; i < 3; i++)
    {
      if (dims[i] < 1 || dims[i] > G_MAXINT)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "Tucker: dimension %d of the tensor is %" G_GINT64_FORMAT
                       " (must be 1..%d)", i + 1, (gint64) dims[i], G_MAXINT);
          return NULL;
        }
      if (ranks[i] < 1)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "Tucker: rank R%d = %d is below 1", i + 1, ranks[i]);
          return NULL;
        }
    }
  int64_t numel = dims[0] * dims[1] * dims[2];
  if (numel > G_MAXINT)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "Tucker: a tensor of %" G_GINT64_FORMAT " elements is too large "
                   "(limit %d)", (gint64) numel, G_MAXINT);
      return NULL;
    }
  if (sweeps < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "Tucker: sweeps = %d is negative", sweeps);
      return NULL;
    }

  g_autoptr (tl_tucker) t = g_new0 (tl_tucker, 1);
  memcpy (t->dims, dims, sizeof t->dims);
  memcpy (t->ranks_requested, ranks, sizeof t->ranks_requested);
  t->fits = g_new0 (double, (gsize) sweeps + 1);
  double normF = norm2 (F, numel);
  if (normF == 0.0)
    {
      /* Rank 0 reconstructs the zero tensor exactly. */
      t->fits[0] = t->fit = 1.0;
      return g_steal_pointer (&t);
    }

  /* Truncated HOSVD: each unfolding's leading vectors, computed fully once
   * so that the same eigenproblem gives the numerical rank. */
  double *U[3] = { NULL, NULL, NULL };
  int numrank[3], kfull[3];
  gboolean ok = TRUE;
  for (int mode = 0; mode < 3 && ok; mode++)
    {
      kfull[mode] = (int) MIN (dims[mode], numel / dims[mode]);
      U[mode] = g_new (double, (gsize) (dims[mode] * kfull[mode]));
      g_autofree double *s = g_new (double, (gsize) kfull[mode]);
      numrank[mode] = mode_leading (F, dims, mode, kfull[mode], U[mode], s, error);
      ok = numrank[mode] >= 0;
    }
  if (ok)
    {
      memcpy (t->ranks, ranks, sizeof t->ranks);
      clamp_ranks (t->ranks, numrank);
      memcpy (t->ranks_clamped, t->ranks, sizeof t->ranks_clamped);
      t->A = first_columns (U[0], dims[0], kfull[0], t->ranks[0]);
      t->B = first_columns (U[1], dims[1], kfull[1], t->ranks[1]);
      t->D = first_columns (U[2], dims[2], kfull[2], t->ranks[2]);
    }
  for (int mode = 0; mode < 3; mode++)
    g_free (U[mode]);
  if (!ok)
    return NULL;

  t->G = g_new (double, (gsize) (t->ranks[0] * t->ranks[1] * t->ranks[2]));
  core (F, dims, t, t->G);
  t->fits[0] = norm2 (t->G, (int64_t) t->ranks[0] * t->ranks[1] * t->ranks[2]) / normF;

  for (int s = 1; s <= sweeps; s++)
    {
      if (!sweep (F, dims, t, &t->G, error))
        return NULL;
      t->sweeps_run = s;
      t->fits[s] = norm2 (t->G, (int64_t) t->ranks[0] * t->ranks[1] * t->ranks[2]) / normF;
      if (fabs (t->fits[s] - t->fits[s - 1]) <= FIT_TOL * t->fits[s - 1])
        break;
    }
  t->fit = t->fits[t->sweeps_run];
  normalise (t);
  return g_steal_pointer (&t);
}
