#include "tucker.h"
#include "gram-svd.h"
#include "symeig.h"
#include "error.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

/* Stop after sweep t when |f_t − f_{t−1}| ≤ TOL·f_{t−1} (methods.md). */
#define FIT_TOL 1e-9

/* out[j][i][k] = T[i][j][k] for T a×b×c: swaps the first two modes. */
static void
swap01 (const double *T, int64_t a, int64_t b, int64_t c, double *out)
{
  /* The rows are short (a rank, often ≤ 16 doubles): an inline copy, not
   * one memcpy call each. */
  for (int64_t i = 0; i < a; i++)
    for (int64_t j = 0; j < b; j++)
      {
        double *restrict o = out + (j * a + i) * c;
        const double *restrict s = T + (i * b + j) * c;
        for (int64_t k = 0; k < c; k++)
          o[k] = s[k];
      }
}

void
tl_tucker_mode_product_t (const double *T, const int64_t dims[3], int mode,
                          const double *M, int r, double *out)
{
  int64_t d0 = dims[0], d1 = dims[1], d2 = dims[2];
  if (r < 1 || d0 < 1 || d1 < 1 || d2 < 1)
    return;   /* an empty result: BLAS would reject the zero leading dimensions */
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
  /* An earlier update in this sweep may have shrunk the other ranks. */
  int64_t n = d[0] * d[1] * d[2] / d[mode];
  int k = (int) MIN (*rank, MIN (rows, n));
  if (k < 1)
    {
      g_free (*fac);
      *fac = NULL;
      *rank = 0;
      return TRUE;
    }
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

/* Second half of a sweep, shared by both paths: from T1 = F ×1 Aᵀ
 * (R0×H×W) update B, then D, and compute the core G = T1 ×2 Bᵀ ×3 Dᵀ. */
static gboolean
update_bd_core (const double *t1, const int64_t dims[3], tl_tucker *t, GError **error)
{
  int *R = t->ranks;
  int64_t H = dims[1], W = dims[2];
  if (R[0] == 0)
    {
      R[1] = R[2] = 0;
      return TRUE;
    }
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
  g_free (t->G);
  t->G = g_new (double, (gsize) MAX (R[0] * R[1] * R[2], 1));
  tl_tucker_mode_product_t (y, dy, 2, t->D, R[2], t->G);
  return TRUE;
}

/* G = T1 ×2 Bᵀ ×3 Dᵀ for the current B and D (the HOSVD core). */
static void
core_from_t1 (const double *t1, const int64_t dims[3], tl_tucker *t)
{
  const int *R = t->ranks;
  int64_t d1[3] = { R[0], dims[1], dims[2] };
  g_autofree double *y = g_new (double, (gsize) MAX (R[0] * R[1] * dims[2], 1));
  tl_tucker_mode_product_t (t1, d1, 1, t->B, R[1], y);
  int64_t dy[3] = { R[0], R[1], dims[2] };
  g_free (t->G);
  t->G = g_new (double, (gsize) MAX (R[0] * R[1] * R[2], 1));
  tl_tucker_mode_product_t (y, dy, 2, t->D, R[2], t->G);
}

/* Direct path (C < H·W): A from F ×2 Bᵀ ×3 Dᵀ (C×R1×R2, mode 3 first: a
 * single GEMM), then T1 = F ×1 Aᵀ. */
static gboolean
update_a_direct (const double *F, const int64_t dims[3], tl_tucker *t, double **t1,
                 GError **error)
{
  int *R = t->ranks;
  int64_t C = dims[0], H = dims[1], W = dims[2];
  g_autofree double *t3 = g_new (double, (gsize) (C * H * R[2]));
  g_autofree double *y = g_new (double, (gsize) (C * R[1] * R[2]));
  tl_tucker_mode_product_t (F, dims, 2, t->D, R[2], t3);
  int64_t d3[3] = { C, H, R[2] };
  tl_tucker_mode_product_t (t3, d3, 1, t->B, R[1], y);
  int64_t dy[3] = { C, R[1], R[2] };
  if (!update_factor (y, dy, 0, C, &R[0], &t->A, error))
    return FALSE;
  *t1 = g_new (double, (gsize) MAX (R[0] * H * W, 1));
  tl_tucker_mode_product_t (F, dims, 0, t->A, R[0], *t1);
  return TRUE;
}

/* State of the Gram path (H·W ≤ C): every sweep works on Gx = XᵀX (N×N)
 * instead of F, so its cost does not depend on C; A = Y₍₁₎·V·Σ⁻¹ is formed
 * once at the end from the last A update's B, D, V and σ. */
typedef struct {
  double *Gx;            /* N×N, both triangles */
  double *V, *sig;       /* last A update: K×R0 eigenvectors, σ (R0) */
  double *Bold, *Dold;   /* the B, D that A update used */
  int     rb, rd, k;     /* their ranks, K = rb·rd */
  bool    chol;          /* last A update used the Cholesky basis: */
  double *M, *L;         /* its K×K Gram and Cholesky factor (lower) */
  double  fa2;           /* ‖Aᵀ·X·K‖² right after the last A update */
  bool    lazy_a;        /* the HOSVD's A (and so f_0) not computed yet */
} gram_state;

static void
gram_state_clear (gram_state *g)
{
  g_free (g->Gx);
  g_free (g->V);
  g_free (g->sig);
  g_free (g->Bold);
  g_free (g->Dold);
  g_free (g->M);
  g_free (g->L);
}

/* rcond₁ of M above which no eigenvalue can be numerically zero
 * (λ_min/λ_max ≤ 1e-12): κ₂ ≤ K·κ₁ < 1e12 with room for the estimator. */
#define CHOL_RCOND 1e-8

/* When the A update keeps all K = R2·R3 directions (R1 = R2·R3, the usual
 * default), A only has to span range(X·K): any orthonormal basis gives the
 * same B and D updates and the same fit. A = X·K·L⁻ᵀ from M = L·Lᵀ costs
 * K³/3 where the eigenbasis costs a K×K eigenproblem per sweep; the
 * eigenbasis is restored once, after the last sweep. Returns FALSE (and
 * leaves everything unchanged) when M is not clearly positive definite, so
 * that the eigen path decides what is numerically zero. */
static bool
try_cholesky (gram_state *g, const double *M, const double *Q, int64_t K, int64_t N,
              double **t1)
{
  double *L = g_memdup2 (M, sizeof (double) * (gsize) (K * K));
  double anorm = 0.0, rcond = 0.0;
  for (int64_t j = 0; j < K; j++)
    {
      double s = 0.0;
      for (int64_t i = 0; i < K; i++)
        s += fabs (M[i * K + j]);
      anorm = MAX (anorm, s);
    }
  if (LAPACKE_dpotrf (LAPACK_COL_MAJOR, 'U', (int) K, L, (int) K) != 0
      || LAPACKE_dpocon (LAPACK_COL_MAJOR, 'U', (int) K, L, (int) K, anorm, &rcond) != 0
      || !(rcond > CHOL_RCOND))
    {
      g_free (L);
      return false;
    }
  /* Column-major upper is row-major lower: clear the rest. */
  for (int64_t i = 0; i < K; i++)
    for (int64_t j = i + 1; j < K; j++)
      L[i * K + j] = 0.0;
  /* T1 = L⁻¹·Qᵀ (K×N). */
  double *T = g_new (double, (gsize) (K * N));
  for (int64_t n = 0; n < N; n++)
    for (int64_t k = 0; k < K; k++)
      T[k * N + n] = Q[n * K + k];
  cblas_dtrsm (CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int) K,
               (int) N, 1.0, L, (int) K, T, (int) N);
  *t1 = T;
  g_free (g->M);
  g_free (g->L);
  g->M = g_memdup2 (M, sizeof (double) * (gsize) (K * K));
  g->L = L;
  g->chol = true;
  return true;
}

/* Gram path A update: with K = B⊗D (N×K), Y₍₁₎ = X·K, so its small Gram is
 * Kᵀ·Gx·K and T1 = Aᵀ·X = Σ⁻¹·Vᵀ·(Gx·K)ᵀ. Gx·K is two mode products of Gx
 * seen as an N×H×W tensor. */
static gboolean
update_a_gram (const int64_t dims[3], tl_tucker *t, gram_state *g, bool allow_chol,
               double **t1, GError **error)
{
  int *R = t->ranks;
  int64_t H = dims[1], W = dims[2], N = H * W;
  int64_t K = (int64_t) R[1] * R[2];
  g_autofree double *q3 = g_new (double, (gsize) (N * H * R[2]));
  g_autofree double *Q = g_new (double, (gsize) (N * K));     /* Gx·K, N×R1×R2 */
  int64_t dg[3] = { N, H, W };
  tl_tucker_mode_product_t (g->Gx, dg, 2, t->D, R[2], q3);
  int64_t d3[3] = { N, H, R[2] };
  tl_tucker_mode_product_t (q3, d3, 1, t->B, R[1], Q);
  /* M = Kᵀ·Q: contract Q's rows (h, w) with B and D. */
  g_autofree double *m1 = g_new (double, (gsize) (R[1] * W * K));
  g_autofree double *M = g_new (double, (gsize) (K * K));
  int64_t dq[3] = { H, W, K };
  tl_tucker_mode_product_t (Q, dq, 0, t->B, R[1], m1);
  int64_t dm[3] = { R[1], W, K };
  tl_tucker_mode_product_t (m1, dm, 1, t->D, R[2], M);

  g_free (g->Bold);
  g_free (g->Dold);
  g->Bold = g_memdup2 (t->B, sizeof (double) * (gsize) (H * R[1]));
  g->Dold = g_memdup2 (t->D, sizeof (double) * (gsize) (W * R[2]));
  g->rb = R[1];
  g->rd = R[2];
  g->chol = false;
  /* Every direction kept: the fit right after this update is trace(M). */
  g->fa2 = 0.0;
  for (int64_t i = 0; i < K; i++)
    g->fa2 += M[i * K + i];
  if (allow_chol && R[0] >= K && try_cholesky (g, M, Q, K, N, t1))
    {
      R[0] = (int) K;
      return TRUE;
    }

  int k = (int) MIN (R[0], K);
  g_free (g->V);
  g_free (g->sig);
  g->V = g_new (double, (gsize) (K * k));
  g->sig = g_new (double, (gsize) k);
  if (!tl_linalg_symeig_top ((int) K, M, k, g->sig, g->V, error))
    return FALSE;
  for (int j = 0; j < k; j++)
    g->sig[j] = g->sig[j] > 0.0 ? sqrt (g->sig[j]) : 0.0;
  int r = tl_linalg_numerical_rank (g->sig, k);
  R[0] = r;
  g->k = k;
  g->fa2 = 0.0;
  for (int j = 0; j < r; j++)
    g->fa2 += g->sig[j] * g->sig[j];

  /* T1 (r×N) = Σ⁻¹·Vᵀ·Qᵀ over the r components kept. */
  *t1 = g_new (double, (gsize) MAX (r * N, 1));
  if (r > 0)
    cblas_dgemm (CblasRowMajor, CblasTrans, CblasTrans, r, (int) N, (int) K, 1.0, g->V, k,
                 Q, (int) K, 0.0, *t1, (int) N);
  for (int i = 0; i < r; i++)
    for (int64_t n = 0; n < N; n++)
      (*t1)[i * N + n] /= g->sig[i];
  return TRUE;
}

/* After a last sweep done in the Cholesky basis: the eigenbasis of its M
 * (M = V·Σ²·Vᵀ) is A_e = A_c·R with R = Lᵀ·V·Σ⁻¹ orthogonal, so the core
 * becomes G_e₍₁₎ = Σ⁻¹·Vᵀ·L·G_c₍₁₎. Returns 0 when done, 1 when M turns out
 * to have a numerically zero direction (the sweep must be redone on the
 * eigen path), -1 on error. */
static int
chol_to_eigenbasis (tl_tucker *t, gram_state *g, GError **error)
{
  int K = g->rb * g->rd;
  g_autofree double *Mc = g_memdup2 (g->M, sizeof (double) * (gsize) K * K);
  g_free (g->V);
  g_free (g->sig);
  g->V = g_new (double, (gsize) K * K);
  g->sig = g_new (double, (gsize) K);
  g->k = K;
  if (!tl_linalg_symeig_top (K, Mc, K, g->sig, g->V, error))
    return -1;
  for (int j = 0; j < K; j++)
    g->sig[j] = g->sig[j] > 0.0 ? sqrt (g->sig[j]) : 0.0;
  if (tl_linalg_numerical_rank (g->sig, K) < K)
    return 1;
  g_autofree double *Rt = g_new (double, (gsize) K * K);   /* Σ⁻¹·Vᵀ·L */
  cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, K, K, 1.0, g->V, K, g->L, K, 0.0,
               Rt, K);
  for (int i = 0; i < K; i++)
    for (int j = 0; j < K; j++)
      Rt[i * K + j] /= g->sig[i];
  int64_t slice = (int64_t) t->ranks[1] * t->ranks[2];
  g_autofree double *Gc = t->G;
  t->G = g_new (double, (gsize) MAX (K * slice, 1));
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, K, (int) slice, K, 1.0, Rt, K, Gc,
               (int) slice, 0.0, t->G, (int) slice);
  g->chol = false;
  return 0;
}

/* The Gram path's A (C×R0) = Y₍₁₎·V·Σ⁻¹ with Y = F ×2 Boldᵀ ×3 Doldᵀ. */
static void
final_a_gram (const double *F, const int64_t dims[3], tl_tucker *t, const gram_state *g)
{
  int64_t C = dims[0], H = dims[1];
  int R0 = t->ranks[0], K = g->rb * g->rd;
  g_autofree double *y = NULL;
  if (g->Bold)
    {
      g_autofree double *t3 = g_new (double, (gsize) (C * H * g->rd));
      y = g_new (double, (gsize) (C * K));
      tl_tucker_mode_product_t (F, dims, 2, g->Dold, g->rd, t3);
      int64_t d3[3] = { C, H, g->rd };
      tl_tucker_mode_product_t (t3, d3, 1, g->Bold, g->rb, y);
    }
  const double *Y = g->Bold ? y : F;   /* no A update yet: Y₍₁₎ = X */
  g_free (t->A);
  t->A = g_new (double, (gsize) MAX (C * R0, 1));
  if (R0 > 0)
    cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) C, R0, K, 1.0, Y, K,
                 g->V, g->k, 0.0, t->A, R0);
  for (int64_t i = 0; i < C; i++)
    for (int j = 0; j < R0; j++)
      t->A[i * R0 + j] /= g->sig[j];
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
  g_autofree double *A = t->A ? g_memdup2 (t->A, sizeof (double) * (gsize) (C * R0)) : NULL;
  g_autofree double *G = g_memdup2 (t->G, sizeof (double) * (gsize) (R0 * slice));
  g_autofree double *sg = g_memdup2 (t->sigma, sizeof (double) * (gsize) R0);
  for (int k = 0; k < R0; k++)
    {
      int o = order[k];
      t->sigma[k] = sg[o];
      for (int64_t i = 0; A && i < C; i++)
        t->A[i * R0 + k] = A[i * R0 + o];
      memcpy (t->G + k * slice, G + o * slice, sizeof (double) * (gsize) slice);
    }

  double *fac[3] = { t->A, t->B, t->D };
  int64_t rows[3] = { C, H, W };
  for (int mode = t->A ? 0 : 1; mode < 3; mode++)
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
          /* Flip the core slice that column j multiplies. */
          int lo[3] = { 0, 0, 0 }, hi[3] = { R0, R1, R2 };
          lo[mode] = j;
          hi[mode] = j + 1;
          for (int a = lo[0]; a < hi[0]; a++)
            for (int b = lo[1]; b < hi[1]; b++)
              for (int c = lo[2]; c < hi[2]; c++)
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

/* HOSVD, direct path: each unfolding's leading vectors from its small
 * Gram, computed fully once so the same eigenproblem gives its numerical
 * rank; then T1 = F ×1 Aᵀ. */
static gboolean
hosvd_direct (const double *F, const int64_t dims[3], tl_tucker *t, double **t1,
              GError **error)
{
  int64_t numel = dims[0] * dims[1] * dims[2];
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
      clamp_ranks (t->ranks, numrank);
      t->A = first_columns (U[0], dims[0], kfull[0], t->ranks[0]);
      t->B = first_columns (U[1], dims[1], kfull[1], t->ranks[1]);
      t->D = first_columns (U[2], dims[2], kfull[2], t->ranks[2]);
      *t1 = g_new (double, (gsize) (t->ranks[0] * dims[1] * dims[2]));
      tl_tucker_mode_product_t (F, dims, 0, t->A, t->ranks[0], *t1);
    }
  for (int mode = 0; mode < 3; mode++)
    g_free (U[mode]);
  return ok;
}

/* Top k eigenpairs of a copy of the n×n symmetric S as singular values
 * (σ = √λ) and vectors; returns the numerical rank among them, or -1. */
static int
gram_leading (const double *S, int n, int k, double *sig, double *Z, GError **error)
{
  g_autofree double *tmp = g_memdup2 (S, sizeof (double) * (gsize) n * n);
  if (!tl_linalg_symeig_top (n, tmp, k, sig, Z, error))
    return -1;
  for (int j = 0; j < k; j++)
    sig[j] = sig[j] > 0.0 ? sqrt (sig[j]) : 0.0;
  return tl_linalg_numerical_rank (sig, k);
}

/* HOSVD, Gram path (H·W ≤ C): Gx = XᵀX once; the mode-2 and mode-3 Grams
 * are its partial traces, and T1 = AᵀX = Σ·V1ᵀ for the leading
 * eigenvectors V1 of Gx. */
static void
gram_of (const double *F, const int64_t dims[3], gram_state *g)
{
  int64_t C = dims[0], N = dims[1] * dims[2];
  g->Gx = g_new (double, (gsize) (N * N));
  cblas_dsyrk (CblasRowMajor, CblasUpper, CblasTrans, (int) N, (int) C, 1.0, F, (int) N,
               0.0, g->Gx, (int) N);
  for (int64_t i = 0; i < N; i++)
    for (int64_t j = 0; j < i; j++)
      g->Gx[i * N + j] = g->Gx[j * N + i];
}

static double
trace (const double *S, int64_t n)
{
  double s = 0.0;
  for (int64_t i = 0; i < n; i++)
    s += S[i * n + i];
  return s;
}

/* The mode-2 and mode-3 Grams (H×H, W×W, zeroed by the caller) as
 * partial traces of Gx = XᵀX (N×N, N = H·W). */
static void
partial_traces (const double *Gx, int64_t H, int64_t W, double *G2, double *G3)
{
  int64_t N = H * W;
  for (int64_t h = 0; h < H; h++)
    for (int64_t w = 0; w < W; w++)
      {
        const double *row = Gx + (h * W + w) * N;
        for (int64_t h2 = 0; h2 < H; h2++)
          G2[h * H + h2] += row[h2 * W + w];
        for (int64_t w2 = 0; w2 < W; w2++)
          G3[w * W + w2] += row[h * W + w2];
      }
}

/* Whether every eigenvalue of the N×N Gram Gx is clearly above the
 * numerically-zero level 1e-12·λ1: then Gx − θ·I with θ = 2e-12·trace(Gx)
 * ≥ 2e-12·λ1 is positive definite, which a Cholesky factorisation (N³/3)
 * shows without any eigenvalue (its backward error, ~N·ε·λ1, is far below
 * the margin θ/2). FALSE means "not shown": the caller computes them.
 * In place (a copy of a large Gx costs more than the test): the factor
 * overwrites the upper triangle, which is restored from the lower one. */
static bool
gram_clearly_full_rank (double *Gx, int64_t N)
{
  double theta = 2.0 * TL_LINALG_ZERO_REL * TL_LINALG_ZERO_REL * trace (Gx, N);
  if (!(theta > 0.0))
    return false;
  g_autofree double *diag = g_new (double, (gsize) N);
  for (int64_t i = 0; i < N; i++)
    {
      diag[i] = Gx[i * N + i];
      Gx[i * N + i] -= theta;
    }
  /* Column-major lower = row-major upper. */
  bool ok = LAPACKE_dpotrf (LAPACK_COL_MAJOR, 'L', (int) N, Gx, (int) N) == 0;
  for (int64_t i = 0; i < N; i++)
    {
      Gx[i * N + i] = diag[i];
      for (int64_t j = i + 1; j < N; j++)
        Gx[i * N + j] = Gx[j * N + i];
    }
  return ok;
}

/* lazy (the maps path, sweeps ≥ 1, truncated spatial ranks): the HOSVD's
 * A serves only f_0, which the first sweep's stop test usually does not
 * need (see hosvd_fit_late), and the clamp only needs its numerical rank:
 * when Gx is clearly of full rank, A is not computed (*t1 = NULL). */
static gboolean
hosvd_gram (const int64_t dims[3], tl_tucker *t, gram_state *g, bool lazy, double **t1,
            GError **error)
{
  int64_t H = dims[1], W = dims[2], N = H * W;
  g_autofree double *G2 = g_new0 (double, (gsize) (H * H));
  g_autofree double *G3 = g_new0 (double, (gsize) (W * W));
  partial_traces (g->Gx, H, W, G2, G3);
  g_autofree double *U2 = g_new (double, (gsize) (H * H));
  g_autofree double *U3 = g_new (double, (gsize) (W * W));
  g_autofree double *s2 = g_new (double, (gsize) H);
  g_autofree double *s3 = g_new (double, (gsize) W);
  int k1 = (int) MIN (t->ranks[0], N);
  int numrank[3];
  numrank[1] = gram_leading (G2, (int) H, (int) H, s2, U2, error);
  numrank[2] = numrank[1] < 0 ? -1 : gram_leading (G3, (int) W, (int) W, s3, U3, error);
  if (numrank[2] < 0)
    return FALSE;
  if (lazy && gram_clearly_full_rank (g->Gx, N))
    {
      int R[3];
      memcpy (R, t->ranks, sizeof R);
      numrank[0] = k1;
      clamp_ranks (R, numrank);
      if (R[1] < H || R[2] < W)
        {
          memcpy (t->ranks, R, sizeof R);
          t->B = first_columns (U2, H, (int) H, t->ranks[1]);
          t->D = first_columns (U3, W, (int) W, t->ranks[2]);
          g->lazy_a = true;
          *t1 = NULL;
          return TRUE;
        }
    }
  g->V = g_new (double, (gsize) (N * k1));
  g->sig = g_new (double, (gsize) k1);
  g->k = k1;
  /* Asking for the top k1 = min(R1, N) only: their numerical rank is
   * min(R1, rank of X), all that the first clamp needs. */
  numrank[0] = gram_leading (g->Gx, (int) N, k1, g->sig, g->V, error);
  if (numrank[0] < 0)
    return FALSE;
  clamp_ranks (t->ranks, numrank);
  t->B = first_columns (U2, H, (int) H, t->ranks[1]);
  t->D = first_columns (U3, W, (int) W, t->ranks[2]);
  int R0 = t->ranks[0];
  *t1 = g_new (double, (gsize) MAX (R0 * N, 1));
  for (int i = 0; i < R0; i++)
    for (int64_t n = 0; n < N; n++)
      (*t1)[i * N + n] = g->sig[i] * g->V[n * k1 + i];
  g->rb = (int) H;   /* A = X·V1·Σ⁻¹ until a sweep replaces it (Bold = NULL) */
  g->rd = (int) W;
  return TRUE;
}

/* f_0 after the fact, for a lazy HOSVD: A0 = X·V1·Σ1⁻¹ from the top
 * R1 eigenpairs of Gx, so G0₍₁₎ = Σ1·V1ᵀ·(B0⊗D0), with the B0, D0 the
 * first A update used (g->Bold, g->Dold): the same numbers the eager
 * HOSVD computes. */
static gboolean
hosvd_fit_late (const int64_t dims[3], const tl_tucker *t, const gram_state *g, double normF,
                double *f0, GError **error)
{
  int64_t H = dims[1], W = dims[2], N = H * W;
  int k1 = (int) MIN (t->ranks_requested[0], N);
  int R0 = t->ranks_clamped[0];
  g_autofree double *V = g_new (double, (gsize) (N * k1));
  g_autofree double *sig = g_new (double, (gsize) k1);
  if (gram_leading (g->Gx, (int) N, k1, sig, V, error) < 0)
    return FALSE;
  g_autofree double *t1 = g_new (double, (gsize) MAX (R0 * N, 1));
  for (int i = 0; i < R0; i++)
    for (int64_t n = 0; n < N; n++)
      t1[i * N + n] = sig[i] * V[n * k1 + i];
  int64_t d1[3] = { R0, H, W };
  g_autofree double *y = g_new (double, (gsize) MAX (R0 * g->rb * W, 1));
  tl_tucker_mode_product_t (t1, d1, 1, g->Bold, g->rb, y);
  int64_t dy[3] = { R0, g->rb, W };
  g_autofree double *G0 = g_new (double, (gsize) MAX (R0 * g->rb * g->rd, 1));
  tl_tucker_mode_product_t (y, dy, 2, g->Dold, g->rd, G0);
  *f0 = norm2 (G0, (int64_t) R0 * g->rb * g->rd) / normF;
  return TRUE;
}

/* The argument checks shared by the public entry points. */
static gboolean
check_args (const int64_t dims[3], const int ranks[3], int sweeps, GError **error)
{
  for (int i = 0; i < 3; i++)
    {
      if (dims[i] < 1 || dims[i] > G_MAXINT)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "Tucker: dimension %d of the tensor is %" G_GINT64_FORMAT
                       " (must be 1..%d)", i + 1, (gint64) dims[i], G_MAXINT);
          return FALSE;
        }
      if (ranks[i] < 1)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "Tucker: rank R%d = %d is below 1", i + 1, ranks[i]);
          return FALSE;
        }
    }
  int64_t numel = dims[0] * dims[1] * dims[2];
  if (numel > G_MAXINT)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "Tucker: a tensor of %" G_GINT64_FORMAT " elements is too large "
                   "(limit %d)", (gint64) numel, G_MAXINT);
      return FALSE;
    }
  if (sweeps < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "Tucker: sweeps = %d is negative", sweeps);
      return FALSE;
    }

  return TRUE;
}

tl_tucker *
tl_tucker_hooi (const double *F, const int64_t dims[3], const int ranks[3], int sweeps,
                GError **error)
{
  return tl_tucker_hooi_full (F, dims, ranks, sweeps, true, error);
}

/* lazy: see hosvd_gram; fits[0] may then stay NaN (when no stop test
 * needed it). Only for callers that need neither A nor the fits. */
static tl_tucker *
hooi_impl (const double *F, const int64_t dims[3], const int ranks[3], int sweeps,
           bool want_a, bool lazy, GError **error)
{
  g_return_val_if_fail (F && dims && ranks, NULL);
  if (!check_args (dims, ranks, sweeps, error))
    return NULL;
  g_autoptr (tl_tucker) t = g_new0 (tl_tucker, 1);
  memcpy (t->dims, dims, sizeof t->dims);
  memcpy (t->ranks_requested, ranks, sizeof t->ranks_requested);
  t->fits = g_new0 (double, (gsize) sweeps + 1);
  int64_t H = dims[1], W = dims[2], numel = dims[0] * H * W;
  bool gram = H * W <= dims[0];
  gram_state g = { 0 };
  g_autofree double *t1 = NULL;
  memcpy (t->ranks, ranks, sizeof t->ranks);
  /* The Gram path gets ‖F‖² as trace(Gx) for free. */
  gboolean ok = TRUE;
  if (gram)
    gram_of (F, dims, &g);
  double normF = gram ? sqrt (trace (g.Gx, H * W)) : norm2 (F, numel);
  if (normF == 0.0)
    {
      /* Rank 0 reconstructs the zero tensor exactly. */
      t->fits[0] = t->fit = 1.0;
      memset (t->ranks, 0, sizeof t->ranks);
      gram_state_clear (&g);
      return g_steal_pointer (&t);
    }

  lazy = lazy && !want_a && sweeps > 0;
  ok = gram ? hosvd_gram (dims, t, &g, lazy, &t1, error)
            : hosvd_direct (F, dims, t, &t1, error);
  if (ok)
    memcpy (t->ranks_clamped, t->ranks, sizeof t->ranks_clamped);
  if (ok && !g.lazy_a)
    {
      core_from_t1 (t1, dims, t);
      t->fits[0] = norm2 (t->G, (int64_t) t->ranks[0] * t->ranks[1] * t->ranks[2]) / normF;
    }
  else if (ok)
    t->fits[0] = NAN;
  /* With untruncated spatial ranks the HOSVD is already HOOI's fixed point
   * (the A update sees X times an orthogonal matrix: the same leading
   * subspace; B and D span everything), so sweep 1 would return
   * f_1 = f_0 and stop (methods.md): no need to run it. */
  bool fixed = t->ranks[1] == H && t->ranks[2] == W;
  for (int s = 1; ok && s <= sweeps; s++)
    {
      t->sweeps_run = s;
      if (fixed)
        {
          t->fits[s] = t->fits[s - 1];
          break;
        }
      g_clear_pointer (&t1, g_free);
      int r0 = t->ranks[0];
      ok = gram ? update_a_gram (dims, t, &g, true, &t1, error)
                : update_a_direct (F, dims, t, &t1, error);
      ok = ok && update_bd_core (t1, dims, t, error);
      if (!ok)
        break;
      t->fits[s] = norm2 (t->G, (int64_t) t->ranks[0] * t->ranks[1] * t->ranks[2]) / normF;
      if (g.lazy_a)
        {
          /* f_0 ≤ f_a (the fit right after this sweep's A update: the best
           * A for the HOSVD's B, D) ≤ f_1. When f_1 − f_a alone exceeds
           * the tolerance (margins for rounding), the stop test fails
           * whatever f_0 is; otherwise f_0 is computed now. */
          double fa = sqrt (g.fa2) / normF * (1 + 1e-12);
          g.lazy_a = false;
          if (!(t->fits[s] - fa > FIT_TOL * fa)
              && !hosvd_fit_late (dims, t, &g, normF, &t->fits[0], error))
            {
              ok = FALSE;
              break;
            }
        }
      bool last = s == sweeps || fabs (t->fits[s] - t->fits[s - 1]) <= FIT_TOL * t->fits[s - 1];
      if (last && g.chol)
        {
          int rc = chol_to_eigenbasis (t, &g, error);
          if (rc == 1)
            {
              /* Rare: redo this sweep on the eigen path from its start. */
              g_free (t->B);
              g_free (t->D);
              t->B = g_memdup2 (g.Bold, sizeof (double) * (gsize) (H * g.rb));
              t->D = g_memdup2 (g.Dold, sizeof (double) * (gsize) (W * g.rd));
              t->ranks[0] = r0;
              t->ranks[1] = g.rb;
              t->ranks[2] = g.rd;
              g_clear_pointer (&t1, g_free);
              ok = update_a_gram (dims, t, &g, false, &t1, error)
                   && update_bd_core (t1, dims, t, error);
              if (ok)
                t->fits[s] = norm2 (t->G, (int64_t) t->ranks[0] * t->ranks[1] * t->ranks[2])
                             / normF;
            }
          else
            ok = rc == 0;
        }
      /* A projection with nothing left (possible only in degenerate data)
       * ends the iteration: there is no subspace to refine. */
      if (!ok || last || t->ranks[0] == 0 || t->ranks[1] == 0 || t->ranks[2] == 0)
        break;
    }
  if (ok && gram && want_a)
    final_a_gram (F, dims, t, &g);
  gram_state_clear (&g);
  if (!ok)
    return NULL;
  t->fit = t->fits[t->sweeps_run];
  normalise (t);
  return g_steal_pointer (&t);
}

void
tl_tucker_maps_free (tl_tucker_maps *m)
{
  if (!m)
    return;
  g_free (m->sigma);
  g_free (m->P);
  g_free (m);
}

/* P (H×W) = B (H×R1) · Gk (R1×R2) · Dᵀ (R2×W). */
static void
spatial_map (const tl_tucker *t, int k, double *P)
{
  int64_t H = t->dims[1], W = t->dims[2];
  int R1 = t->ranks[1], R2 = t->ranks[2];
  g_autofree double *tmp = g_new (double, (gsize) (R1 * W));
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, R1, (int) W, R2, 1.0,
               t->G + (int64_t) k * R1 * R2, R2, t->D, R2, 0.0, tmp, (int) W);
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) H, (int) W, R1, 1.0,
               t->B, R1, tmp, (int) W, 0.0, P, (int) W);
}

/* The HOSVD fixed point on the Gram path (see tucker.h). Returns 1 when
 * done, 0 when the clamp truncated a spatial rank (not the fixed point:
 * the caller runs HOOI), -1 on error. */
static int
maps_fixed_point (const double *F, const int64_t dims[3], int sweeps, int kmax,
                  tl_tucker_maps *m, GError **error)
{
  int64_t H = dims[1], W = dims[2], N = H * W;
  gram_state g = { 0 };
  gram_of (F, dims, &g);
  g_autofree double *Gx = g.Gx;
  double normF2 = trace (Gx, N);
  int *R = m->ranks;
  if (normF2 == 0.0)
    {
      memset (R, 0, sizeof m->ranks);
      m->fit = 1.0;
      return 1;
    }
  g_autofree double *G2 = g_new0 (double, (gsize) (H * H));
  g_autofree double *G3 = g_new0 (double, (gsize) (W * W));
  partial_traces (Gx, H, W, G2, G3);
  g_autofree double *U2 = g_new (double, (gsize) (H * H));
  g_autofree double *U3 = g_new (double, (gsize) (W * W));
  g_autofree double *s2 = g_new (double, (gsize) H);
  g_autofree double *s3 = g_new (double, (gsize) W);
  int numrank[3];
  numrank[1] = gram_leading (G2, (int) H, (int) H, s2, U2, error);
  numrank[2] = numrank[1] < 0 ? -1 : gram_leading (G3, (int) W, (int) W, s3, U3, error);
  if (numrank[2] < 0)
    return -1;

  /* Mode 1: only the top min(kmax, k1) eigenpairs of Gx, a count of the
   * numerically non-zero eigenvalues and the sum of the kept ones. */
  int k1 = (int) MIN (R[0], N);
  int kv = MIN (kmax, k1);
  g_autofree double *lam = g_new (double, (gsize) kv);
  g_autofree double *V = g_new (double, (gsize) (N * kv));   /* eigenvectors as rows */
  int above = 0;
  double sum = 0.0;
  /* TSM at full rank (the usual case): the top pair by Lanczos, the count
   * by a Cholesky (every eigenvalue clearly above the zero level), the sum
   * of all eigenvalues as the trace. Else the tridiagonal route. */
  if (kv == 1 && k1 == N && gram_clearly_full_rank (Gx, N)
      && tl_linalg_symeig_top1_krylov ((int) N, Gx, lam, V))
    {
      above = (int) N;
      sum = normF2;
    }
  else if (!tl_linalg_symeig_top_count_rows ((int) N, Gx, kv, lam, V,
                                             TL_LINALG_ZERO_REL * TL_LINALG_ZERO_REL, &above,
                                             k1, &sum, error))
    return -1;
  numrank[0] = MIN (k1, above);
  clamp_ranks (R, numrank);
  if (R[1] != H || R[2] != W)
    return 0;

  /* R[0] = min(k1, above): every kept component is above the threshold,
   * and sum is Σ λ_k over exactly them, = ‖G‖². */
  m->fit = sqrt (sum) / sqrt (normF2);
  m->sweeps_run = sweeps > 0 ? 1 : 0;
  m->r = R[0];
  m->n = MIN (kv, R[0]);
  m->sigma = g_new (double, (gsize) MAX (m->n, 1));
  m->P = g_new (double, (gsize) MAX (m->n * N, 1));
  for (int k = 0; k < m->n; k++)
    {
      m->sigma[k] = lam[k] > 0.0 ? sqrt (lam[k]) : 0.0;
      for (int64_t i = 0; i < N; i++)
        m->P[k * N + i] = m->sigma[k] * V[k * N + i];
    }
  return 1;
}

tl_tucker_maps *
tl_tucker_spatial_maps (const double *F, const int64_t dims[3], const int ranks[3],
                        int sweeps, int kmax, GError **error)
{
  g_return_val_if_fail (F && dims && ranks && kmax >= 1, NULL);
  if (!check_args (dims, ranks, sweeps, error))
    return NULL;
  g_autoptr (tl_tucker_maps) m = g_new0 (tl_tucker_maps, 1);
  memcpy (m->ranks_requested, ranks, sizeof m->ranks_requested);
  memcpy (m->ranks, ranks, sizeof m->ranks);
  int64_t H = dims[1], W = dims[2], N = H * W;
  if (N <= dims[0] && ranks[1] >= H && ranks[2] >= W)
    {
      int rc = maps_fixed_point (F, dims, sweeps, kmax, m, error);
      if (rc < 0)
        return NULL;
      if (rc == 1)
        return g_steal_pointer (&m);
      memcpy (m->ranks, ranks, sizeof m->ranks);
    }

  g_autoptr (tl_tucker) t = hooi_impl (F, dims, ranks, sweeps, false, true, error);
  if (!t)
    return NULL;
  memcpy (m->ranks, t->ranks, sizeof m->ranks);
  m->sweeps_run = t->sweeps_run;
  m->fit = t->fit;
  m->r = t->ranks[0] > 0 ? tl_linalg_numerical_rank (t->sigma, t->ranks[0]) : 0;
  m->n = MIN (kmax, m->r);
  m->sigma = g_new (double, (gsize) MAX (m->n, 1));
  m->P = g_new (double, (gsize) MAX (m->n * N, 1));
  for (int k = 0; k < m->n; k++)
    {
      m->sigma[k] = t->sigma[k];
      spatial_map (t, k, m->P + k * N);
    }
  return g_steal_pointer (&m);
}

tl_tucker *
tl_tucker_hooi_full (const double *F, const int64_t dims[3], const int ranks[3], int sweeps,
                     bool want_a, GError **error)
{
  return hooi_impl (F, dims, ranks, sweeps, want_a, false, error);
}
