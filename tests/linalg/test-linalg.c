/* src/linalg: symmetric eigen, leading singular vectors from the small Gram,
 * and Tucker/HOOI, on cases computed by hand and on the defining
 * properties (reconstruction, orthonormality, monotone fit). */
#include "error.h"
#include "gram-svd.h"
#include "symeig.h"
#include "tucker.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>

static void
random_fill (GRand *r, double *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    x[i] = g_rand_double_range (r, -1.0, 1.0);
}

/* ‖QᵀQ − I‖_max for Q rows×k (row-major). */
static double
orthonormality_error (const double *Q, int64_t rows, int k)
{
  double e = 0.0;
  for (int a = 0; a < k; a++)
    for (int b = 0; b < k; b++)
      {
        double d = 0.0;
        for (int64_t i = 0; i < rows; i++)
          d += Q[i * k + a] * Q[i * k + b];
        e = MAX (e, fabs (d - (a == b)));
      }
  return e;
}

/* [[2,1,0],[1,2,0],[0,0,5]]: eigenvalues 5, 3, 1 with eigenvectors e3,
 * (1,1,0)/√2 and (1,−1,0)/√2 (up to sign). */
static void
test_symeig_hand (void)
{
  double A[9] = { 2, 1, 0, 1, 2, 0, 0, 0, 5 };
  double w[3], Z[9];
  GError *e = NULL;
  g_assert_true (tl_linalg_symeig_top (3, A, 3, w, Z, &e));
  g_assert_no_error (e);
  double want[3] = { 5, 3, 1 };
  tl_assert_close (w, want, 3, 1e-14);
  double r = 1 / sqrt (2.0);
  g_assert_cmpfloat (fabs (Z[2 * 3 + 0]), >, 1 - 1e-14);
  g_assert_cmpfloat (fabs (Z[0 * 3 + 1] * r + Z[1 * 3 + 1] * r), >, 1 - 1e-14);
  g_assert_cmpfloat (fabs (Z[0 * 3 + 2] * r - Z[1 * 3 + 2] * r), >, 1 - 1e-14);
  g_assert_cmpfloat (orthonormality_error (Z, 3, 3), <, 1e-14);

  /* Only the top one: the same value and vector. */
  double B[9] = { 2, 1, 0, 1, 2, 0, 0, 0, 5 }, w1, z1[3];
  g_assert_true (tl_linalg_symeig_top (3, B, 1, &w1, z1, NULL));
  g_assert_cmpfloat (fabs (w1 - 5), <, 1e-14);
  g_assert_cmpfloat (fabs (z1[2]), >, 1 - 1e-14);
}

/* M = [[0,3,0],[4,0,0]] (2×3): σ = 4, 3; u1 = e2, v1 = e1; u2 = e1, v2 = e2. */
static void
test_svd_hand (void)
{
  double Y[6] = { 0, 3, 0, 4, 0, 0 };
  double Yt[6] = { 0, 4, 3, 0, 0, 0 };   /* the same M given as Yᵀ (3×2) */
  for (int trans = 0; trans < 2; trans++)
    {
      double s[2], U[4], V[6];
      int r = -1;
      GError *e = NULL;
      g_assert_true (tl_linalg_svd_leading (trans ? Yt : Y, 2, 3, trans, 2, s, U, V, &r, &e));
      g_assert_no_error (e);
      g_assert_cmpint (r, ==, 2);
      double ws[2] = { 4, 3 };
      tl_assert_close (s, ws, 2, 1e-13);
      /* Column signs are LAPACK's choice, but u_k and v_k flip together. */
      g_assert_cmpfloat (fabs (U[1 * 2 + 0]), >, 1 - 1e-13);
      g_assert_cmpfloat (fabs (V[0 * 2 + 0]), >, 1 - 1e-13);
      g_assert_cmpfloat (U[1 * 2 + 0] * V[0 * 2 + 0], >, 0);
      g_assert_cmpfloat (U[0 * 2 + 1] * V[1 * 2 + 1], >, 1 - 1e-13);
      g_assert_cmpfloat (fabs (V[2 * 2 + 0]) + fabs (V[2 * 2 + 1]), <, 1e-13);
    }
}

/* Random tall and wide matrices, both storage orders: M = U Σ Vᵀ at full k,
 * orthonormal U and V. */
static void
test_svd_random (void)
{
  GRand *rng = g_rand_new_with_seed (7);
  int64_t shapes[][2] = { { 5, 40 }, { 40, 5 }, { 7, 7 }, { 1, 9 }, { 9, 1 } };
  for (gsize si = 0; si < G_N_ELEMENTS (shapes); si++)
    for (int trans = 0; trans < 2; trans++)
      {
        int64_t m = shapes[si][0], n = shapes[si][1];
        int k = (int) MIN (m, n);
        g_autofree double *Y = g_new (double, (gsize) (m * n));
        g_autofree double *M = g_new (double, (gsize) (m * n));
        random_fill (rng, Y, m * n);
        for (int64_t i = 0; i < m; i++)
          for (int64_t j = 0; j < n; j++)
            M[i * n + j] = trans ? Y[j * m + i] : Y[i * n + j];
        g_autofree double *s = g_new (double, (gsize) k);
        g_autofree double *U = g_new (double, (gsize) (m * k));
        g_autofree double *V = g_new (double, (gsize) (n * k));
        int r;
        g_assert_true (tl_linalg_svd_leading (Y, m, n, trans, k, s, U, V, &r, NULL));
        g_assert_cmpint (r, ==, k);
        if (!trans)
          for (int kk = 1; kk <= k; kk++)
            {
              /* the row layout: the same values, right vectors as rows, up
               * to round-off (the far side is a different GEMM) */
              g_autofree double *sr = g_new (double, (gsize) kk);
              g_autofree double *Vr = g_new (double, (gsize) (n * kk));
              int rr;
              g_assert_true (tl_linalg_svd_leading_rows (Y, m, n, kk, sr, Vr, &rr, NULL));
              g_assert_cmpint (rr, ==, kk);
              tl_assert_close (sr, s, kk, 1e-12 * s[0]);
              for (int c = 0; c < kk; c++)
                {
                  double d = 0.0;
                  for (int64_t j = 0; j < n; j++)
                    d += Vr[c * n + j] * V[j * k + c];
                  g_assert_cmpfloat (fabs (fabs (d) - 1), <, 1e-10);
                }
            }
        for (int j = 1; j < k; j++)
          g_assert_cmpfloat (s[j], <=, s[j - 1]);
        g_assert_cmpfloat (orthonormality_error (U, m, k), <, 1e-10);
        g_assert_cmpfloat (orthonormality_error (V, n, k), <, 1e-10);
        for (int64_t i = 0; i < m; i++)
          for (int64_t j = 0; j < n; j++)
            {
              double x = 0.0;
              for (int c = 0; c < k; c++)
                x += U[i * k + c] * s[c] * V[j * k + c];
              g_assert_cmpfloat (fabs (x - M[i * n + j]), <, 1e-10);
            }
      }
  g_rand_free (rng);
}

/* A rank-1 matrix keeps one component; the rest is numerically zero and
 * comes back as zeros, and an all-zero matrix has rank 0. */
static void
test_svd_rank_deficient (void)
{
  double Y[12];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++)
      Y[i * 4 + j] = (i + 1.0) * (j - 1.5);
  double s[3], U[9], V[12];
  int r;
  g_assert_true (tl_linalg_svd_leading (Y, 3, 4, false, 3, s, U, V, &r, NULL));
  g_assert_cmpint (r, ==, 1);
  g_assert_cmpfloat (fabs (s[0] - sqrt (14.0) * sqrt (5.0)), <, 1e-12);  /* ‖a‖·‖b‖ */
  g_assert_cmpfloat (s[1], ==, 0.0);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (V[i * 3 + 1], ==, 0.0);
  memset (Y, 0, sizeof Y);
  g_assert_true (tl_linalg_svd_leading (Y, 3, 4, false, 2, s, U, V, &r, NULL));
  g_assert_cmpint (r, ==, 0);
}

/* T ×_mode Mᵀ against the definition, for all modes and both code paths
 * of mode 2 (few and many slices). */
static void
test_mode_product (void)
{
  GRand *rng = g_rand_new_with_seed (3);
  int64_t shapes[][3] = { { 3, 4, 5 }, { 20, 4, 3 } };
  for (gsize si = 0; si < G_N_ELEMENTS (shapes); si++)
    for (int mode = 0; mode < 3; mode++)
      {
        int64_t *d = shapes[si];
        int r = 2;
        int64_t n = d[0] * d[1] * d[2];
        g_autofree double *T = g_new (double, (gsize) n);
        g_autofree double *M = g_new (double, (gsize) (d[mode] * r));
        random_fill (rng, T, n);
        random_fill (rng, M, d[mode] * r);
        int64_t o[3] = { d[0], d[1], d[2] };
        o[mode] = r;
        g_autofree double *out = g_new (double, (gsize) (o[0] * o[1] * o[2]));
        tl_tucker_mode_product_t (T, d, mode, M, r, out);
        for (int64_t a = 0; a < o[0]; a++)
          for (int64_t b = 0; b < o[1]; b++)
            for (int64_t c = 0; c < o[2]; c++)
              {
                int64_t idx[3] = { a, b, c };
                double x = 0.0;
                for (int64_t i = 0; i < d[mode]; i++)
                  {
                    int64_t j[3] = { a, b, c };
                    j[mode] = i;
                    x += M[i * r + idx[mode]] * T[(j[0] * d[1] + j[1]) * d[2] + j[2]];
                  }
                g_assert_cmpfloat (fabs (x - out[(a * o[1] + b) * o[2] + c]), <, 1e-12);
              }
      }
  g_rand_free (rng);
}

/* G ×1 A ×2 B ×3 D, the reconstruction. */
static double *
reconstruct (const tl_tucker *t)
{
  int64_t C = t->dims[0], H = t->dims[1], W = t->dims[2];
  const int *R = t->ranks;
  double *F = g_new0 (double, (gsize) (C * H * W));
  for (int64_t c = 0; c < C; c++)
    for (int64_t h = 0; h < H; h++)
      for (int64_t w = 0; w < W; w++)
        {
          double x = 0.0;
          for (int a = 0; a < R[0]; a++)
            for (int b = 0; b < R[1]; b++)
              for (int d = 0; d < R[2]; d++)
                x += t->G[((int64_t) a * R[1] + b) * R[2] + d] * t->A[c * R[0] + a]
                     * t->B[h * R[1] + b] * t->D[w * R[2] + d];
          F[(c * H + h) * W + w] = x;
        }
  return F;
}

/* tol: orthonormality; the Gram route loses about eps·(σ1/σk)² on weak
 * components, so ill-conditioned cases pass a looser one. */
static void
check_structure_tol (const tl_tucker *t, double tol)
{
  double *fac[3] = { t->A, t->B, t->D };
  for (int m = 0; m < 3; m++)
    {
      int r = t->ranks[m];
      g_assert_cmpfloat (orthonormality_error (fac[m], t->dims[m], r), <, tol);
      /* TensorLy's sign rule: the largest-magnitude entry of each column is positive. */
      for (int j = 0; j < r; j++)
        {
          double best = 0.0;
          for (int64_t i = 0; i < t->dims[m]; i++)
            if (fabs (fac[m][i * r + j]) > fabs (best))
              best = fac[m][i * r + j];
          g_assert_cmpfloat (best, >, 0.0);
        }
    }
  for (int k = 1; k < t->ranks[0]; k++)
    g_assert_cmpfloat (t->sigma[k], <=, t->sigma[k - 1]);
  for (int k = 0; k < t->ranks[0]; k++)
    {
      double s = 0.0;
      for (int64_t i = 0; i < (int64_t) t->ranks[1] * t->ranks[2]; i++)
        s += pow (t->G[k * t->ranks[1] * t->ranks[2] + i], 2);
      g_assert_cmpfloat (fabs (sqrt (s) - t->sigma[k]), <, 1e-12 * t->sigma[0]);
    }
}

static void
check_structure (const tl_tucker *t)
{
  check_structure_tol (t, 1e-10);
}

/* Full ranks: HOOI stops after one sweep, equals the HOSVD and
 * reconstructs F exactly; on both Gram sides (C > H·W and C < H·W). */
static void
test_tucker_full (void)
{
  GRand *rng = g_rand_new_with_seed (11);
  int64_t shapes[][3] = { { 30, 3, 4 }, { 5, 6, 7 }, { 1, 1, 1 }, { 4, 1, 6 } };
  for (gsize si = 0; si < G_N_ELEMENTS (shapes); si++)
    {
      int64_t *d = shapes[si];
      int64_t n = d[0] * d[1] * d[2];
      g_autofree double *F = g_new (double, (gsize) n);
      random_fill (rng, F, n);
      int ranks[3] = { 1000, 1000, 1000 };   /* too large: clamped */
      GError *e = NULL;
      g_autoptr (tl_tucker) t = tl_tucker_hooi (F, d, ranks, 20, &e);
      g_assert_no_error (e);
      /* Full = each unfolding's rank, min(d_i, numel/d_i) for random data. */
      for (int m = 0; m < 3; m++)
        g_assert_cmpint (t->ranks[m], ==, MIN (d[m], n / d[m]));
      g_assert_cmpint (t->sweeps_run, ==, 1);
      g_assert_cmpfloat (fabs (t->fit - 1.0), <, 1e-12);
      check_structure (t);
      g_autofree double *Fr = reconstruct (t);
      tl_assert_close (Fr, F, n, 1e-10);
    }
  g_rand_free (rng);
}

/* Truncated ranks: the fit never decreases from sweep to sweep, never
 * exceeds 1, and the sweep cap is honoured. */
/* G = F ×1 Aᵀ ×2 Bᵀ ×3 Dᵀ, checked elementwise (ties A to the core). */
static void
check_core (const double *F, const tl_tucker *t)
{
  int64_t C = t->dims[0], H = t->dims[1], W = t->dims[2];
  const int *R = t->ranks;
  for (int a = 0; a < R[0]; a++)
    for (int b = 0; b < R[1]; b++)
      for (int c = 0; c < R[2]; c++)
        {
          double x = 0;
          for (int64_t i = 0; i < C; i++)
            for (int64_t h = 0; h < H; h++)
              for (int64_t w = 0; w < W; w++)
                x += F[(i * H + h) * W + w] * t->A[i * R[0] + a] * t->B[h * R[1] + b]
                     * t->D[w * R[2] + c];
          g_assert_cmpfloat (fabs (x - t->G[((int64_t) a * R[1] + b) * R[2] + c]), <,
                             1e-8 * MAX (1.0, t->sigma[0]));
        }
}

/* R1 = R2·R3 on the Gram path (H·W ≤ C): the sweeps run in a Cholesky
 * basis and the eigenbasis is restored at the end. Also with an
 * ill-conditioned F (singular values down to 3e-5, κ(M) ≈ 1e9 > 1e8),
 * where the Cholesky basis is refused and the eigen path runs. Either way
 * the result must be a proper HOOI state: orthonormal factors, the core
 * equal to F ×1 Aᵀ ×2 Bᵀ ×3 Dᵀ, fits non-decreasing, and a run capped at
 * 2 sweeps must reproduce the first fits of the long run. (The maps of
 * this path are checked against NumPy in test-saliency-ref.) */
static void
test_tucker_cholesky_basis (void)
{
  GRand *rng = g_rand_new_with_seed (17);
  int64_t d[3] = { 30, 4, 4 };
  int64_t n = 30 * 16;
  double sv[2][5] = { { 1, 0.8, 0.5, 0.3, 0.2 }, { 1, 1e-2, 1e-3, 3e-5, 0 } };
  for (int v = 0; v < 2; v++)
    {
      /* F = Σ_k sv_k·u_k ∘ s_k with random (non-orthogonal) u_k, s_k, plus noise
       * in the first case. */
      g_autofree double *F = g_new0 (double, (gsize) n);
      for (int k = 0; k < 5; k++)
        {
          double u[30], sp[16];
          random_fill (rng, u, 30);
          random_fill (rng, sp, 16);
          for (int c = 0; c < 30; c++)
            for (int q = 0; q < 16; q++)
              F[c * 16 + q] += sv[v][k] * u[c] * sp[q];
        }
      if (v == 0)
        for (int64_t i = 0; i < n; i++)
          F[i] += 0.05 * g_rand_double_range (rng, -1, 1);
      int ranks[3] = { 4, 2, 2 };
      g_autoptr (tl_tucker) t = tl_tucker_hooi (F, d, ranks, 30, NULL);
      /* The ill-conditioned case may lose its weakest direction in B⊗D's span. */
      g_assert_cmpint (t->ranks[0], <=, 4);
      g_assert_cmpint (t->ranks[0], >=, v == 0 ? 4 : 3);
      check_structure_tol (t, v == 0 ? 1e-10 : 1e-6);
      check_core (F, t);
      for (int s = 1; s <= t->sweeps_run; s++)
        g_assert_cmpfloat (t->fits[s], >=, t->fits[s - 1] * (1 - 1e-12));
      /* Sweep-capped runs agree with the longer run's prefix of fits. */
      g_autoptr (tl_tucker) t2 = tl_tucker_hooi (F, d, ranks, 2, NULL);
      g_assert_cmpint (t2->sweeps_run, <=, 2);
      for (int s = 0; s <= t2->sweeps_run; s++)
        g_assert_cmpfloat (fabs (t2->fits[s] - t->fits[s]), <, 1e-12);
      check_core (F, t2);
    }
  g_rand_free (rng);
}

static void
test_tucker_truncated (gconstpointer data)
{
  GRand *rng = g_rand_new_with_seed (5);
  const int64_t *d = data;
  int64_t n = d[0] * d[1] * d[2];
  g_autofree double *F = g_new (double, (gsize) n);
  random_fill (rng, F, n);
  int ranks[3] = { 3, 2, 2 };
  g_autoptr (tl_tucker) t = tl_tucker_hooi (F, d, ranks, 50, NULL);
  g_assert_cmpint (t->ranks[0], ==, 3);
  /* A is what the core says: G = F ×1 Aᵀ ×2 Bᵀ ×3 Dᵀ. */
  {
    int64_t C = d[0], H = d[1], W = d[2];
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 2; b++)
        for (int c = 0; c < 2; c++)
          {
            double x = 0;
            for (int64_t i = 0; i < C; i++)
              for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++)
                  x += F[(i * H + h) * W + w] * t->A[i * 3 + a] * t->B[h * 2 + b]
                       * t->D[w * 2 + c];
            g_assert_cmpfloat (fabs (x - t->G[(a * 2 + b) * 2 + c]), <, 1e-10);
          }
  }
  g_assert_cmpint (t->sweeps_run, >=, 2);
  for (int s = 1; s <= t->sweeps_run; s++)
    g_assert_cmpfloat (t->fits[s], >=, t->fits[s - 1] * (1 - 1e-12));
  g_assert_cmpfloat (t->fit, <, 1.0);
  check_structure (t);
  /* ‖G‖ = ‖F ×1 Aᵀ ×2 Bᵀ ×3 Dᵀ‖ is the fit times ‖F‖ */
  double nf = 0, ng = 0;
  for (int64_t i = 0; i < n; i++)
    nf += F[i] * F[i];
  for (int i = 0; i < 12; i++)
    ng += t->G[i] * t->G[i];
  g_assert_cmpfloat (fabs (sqrt (ng / nf) - t->fit), <, 1e-12);

  g_autoptr (tl_tucker) t3 = tl_tucker_hooi (F, d, ranks, 3, NULL);
  g_assert_cmpint (t3->sweeps_run, <=, 3);
  /* Without A, the same B, D and |G|. */
  g_autoptr (tl_tucker) tn = tl_tucker_hooi_full (F, d, ranks, 50, false, NULL);
  g_assert_cmpint (tn->sweeps_run, ==, t->sweeps_run);
  tl_assert_close (tn->B, t->B, d[1] * 2, 1e-12);
  tl_assert_close (tn->D, t->D, d[2] * 2, 1e-12);
  tl_assert_close (tn->sigma, t->sigma, 3, 1e-12);
  g_autoptr (tl_tucker) t0 = tl_tucker_hooi (F, d, ranks, 0, NULL);
  g_assert_cmpint (t0->sweeps_run, ==, 0);
  g_assert_cmpfloat (t0->fit, <=, t->fit);
  g_rand_free (rng);
}

/* Hand case, 2×2×2: F = 2·e1∘e1∘e1 + 1·e2∘e2∘e2 (a "diagonal" tensor).
 * Every unfolding is diag(2,1)-like, so A = B = D = I (after the sign rule),
 * G = F, sigma = (2, 1). At ranks (1,1,1): G = [2], fit = 2/√5. */
static void
test_tucker_hand_2x2x2 (void)
{
  double F[8] = { 0 };
  F[0] = 2;   /* [0,0,0] */
  F[7] = 1;   /* [1,1,1] */
  int64_t d[3] = { 2, 2, 2 };
  int full[3] = { 2, 2, 2 };
  g_autoptr (tl_tucker) t = tl_tucker_hooi (F, d, full, 20, NULL);
  double I[4] = { 1, 0, 0, 1 };
  tl_assert_close (t->A, I, 4, 1e-14);
  tl_assert_close (t->B, I, 4, 1e-14);
  tl_assert_close (t->D, I, 4, 1e-14);
  tl_assert_close (t->G, F, 8, 1e-14);
  double sig[2] = { 2, 1 };
  tl_assert_close (t->sigma, sig, 2, 1e-14);

  int one[3] = { 1, 1, 1 };
  g_autoptr (tl_tucker) t1 = tl_tucker_hooi (F, d, one, 20, NULL);
  g_assert_cmpfloat (fabs (t1->G[0] - 2), <, 1e-14);
  g_assert_cmpfloat (fabs (t1->fit - 2 / sqrt (5.0)), <, 1e-14);
  double e1[2] = { 1, 0 };
  tl_assert_close (t1->A, e1, 2, 1e-14);
}

/* Clamping: to each unfolding's numerical rank, then R_i ≤ R_j·R_k. */
static void
test_tucker_clamp (void)
{
  GRand *rng = g_rand_new_with_seed (9);
  /* Rank-1 tensor a∘b∘d: every numerical rank is 1. */
  double a[4], b[3], dd[5], F[60];
  random_fill (rng, a, 4);
  random_fill (rng, b, 3);
  random_fill (rng, dd, 5);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 5; k++)
        F[(i * 3 + j) * 5 + k] = a[i] * b[j] * dd[k];
  int64_t d[3] = { 4, 3, 5 };
  int ranks[3] = { 4, 3, 5 };
  g_autoptr (tl_tucker) t = tl_tucker_hooi (F, d, ranks, 20, NULL);
  g_assert_cmpint (t->ranks_clamped[0], ==, 1);
  g_assert_cmpint (t->ranks_clamped[1], ==, 1);
  g_assert_cmpint (t->ranks_clamped[2], ==, 1);
  g_autofree double *Fr = reconstruct (t);
  tl_assert_close (Fr, F, 60, 1e-12);

  /* Product rule: 9×2×2 at (9,2,1) → R2·R3 = 2 caps R1, then R1·R3 = 2
   * leaves R2 = 2 and R1·R2 = 4 leaves R3 = 1: (2, 2, 1). */
  double F2[36];
  random_fill (rng, F2, 36);
  int64_t d2[3] = { 9, 2, 2 };
  int r2[3] = { 9, 2, 1 };
  g_autoptr (tl_tucker) t2 = tl_tucker_hooi (F2, d2, r2, 20, NULL);
  g_assert_cmpint (t2->ranks_clamped[0], ==, 2);
  g_assert_cmpint (t2->ranks_clamped[1], ==, 2);
  g_assert_cmpint (t2->ranks_clamped[2], ==, 1);
  /* (1,3,2) on 9×3×3: R2 = 3 > R1·R3 = 2 → (1,2,2), which then holds. */
  double F3[81];
  random_fill (rng, F3, 81);
  int64_t d3[3] = { 9, 3, 3 };
  int r3[3] = { 1, 3, 2 };
  g_autoptr (tl_tucker) t3 = tl_tucker_hooi (F3, d3, r3, 20, NULL);
  g_assert_cmpint (t3->ranks_clamped[0], ==, 1);
  g_assert_cmpint (t3->ranks_clamped[1], ==, 2);
  g_assert_cmpint (t3->ranks_clamped[2], ==, 2);
  g_rand_free (rng);
}


/* Symmetric n×n (row-major) Q·diag(lam)·Qᵀ with a random orthogonal Q. */
static void
sym_with_spectrum (GRand *r, int n, const double *lam, double *A)
{
  g_autofree double *Q = g_new (double, (gsize) n * n);
  random_fill (r, Q, (int64_t) n * n);
  /* Gram–Schmidt on the columns. */
  for (int j = 0; j < n; j++)
    for (int pass = 0; pass < 2; pass++)
      {
        for (int l = 0; l < j; l++)
          {
            double d = 0.0;
            for (int i = 0; i < n; i++)
              d += Q[i * n + j] * Q[i * n + l];
            for (int i = 0; i < n; i++)
              Q[i * n + j] -= d * Q[i * n + l];
          }
        double nn = 0.0;
        for (int i = 0; i < n; i++)
          nn += Q[i * n + j] * Q[i * n + j];
        for (int i = 0; i < n; i++)
          Q[i * n + j] /= sqrt (nn);
      }
  for (int a = 0; a < n; a++)
    for (int b = 0; b < n; b++)
      {
        double v = 0.0;
        for (int l = 0; l < n; l++)
          v += Q[a * n + l] * lam[l] * Q[b * n + l];
        A[a * n + b] = v;
      }
}

/* tl_linalg_symeig_top_count against the full decomposition: the same top
 * pairs, the count above rel·λ1 and the sums, on both of its routes
 * (k ≤ n/6: Sturm count; more: full spectrum) and every sum branch. */
static void
test_symeig_count (void)
{
  GRand *rng = g_rand_new_with_seed (31);
  const int n = 40;
  double lam[40];
  for (int pass = 0; pass < 2; pass++)
    {
      /* pass 0: full rank; pass 1: 7 eigenvalues at 1e-14·λ1 or below 0. */
      for (int i = 0; i < n; i++)
        lam[i] = 100.0 / (1 + i) + (i % 3) * 0.01;
      int want_above = n;
      if (pass == 1)
        {
          for (int i = 33; i < n; i++)
            lam[i] = (i % 2 ? 1e-14 : -1e-13) * lam[0];
          want_above = 33;
        }
      g_autofree double *A = g_new (double, (gsize) n * n);
      sym_with_spectrum (rng, n, lam, A);
      g_autofree double *Af = g_memdup2 (A, sizeof (double) * n * n);
      double wf[40];
      g_autofree double *Zf = g_new (double, (gsize) n * n);
      g_assert_true (tl_linalg_symeig_top (n, Af, n, wf, Zf, NULL));
      int ks[2] = { 2, 12 };   /* 6k ≤ n and 6k > n */
      int caps[3] = { 1, n, 20 };
      for (int ik = 0; ik < 2; ik++)
        for (int ic = 0; ic < 3; ic++)
          {
            int k = ks[ik], above = -1;
            double w[12], sum = -1.0;
            g_autofree double *Ak = g_memdup2 (A, sizeof (double) * n * n);
            g_autofree double *Z = g_new (double, (gsize) n * k);
            GError *e = NULL;
            g_assert_true (tl_linalg_symeig_top_count (n, Ak, k, w, Z, 1e-12, &above, caps[ic],
                                                       &sum, &e));
            g_assert_no_error (e);
            g_assert_cmpint (above, ==, want_above);
            tl_assert_close (w, wf, k, 1e-12 * wf[0]);
            for (int j = 0; j < k; j++)
              {
                double d = 0.0;
                for (int i = 0; i < n; i++)
                  d += Z[i * k + j] * Zf[i * n + j];
                g_assert_cmpfloat (fabs (fabs (d) - 1), <, 1e-10);
              }
            double want = 0.0;
            for (int j = 0; j < MIN (caps[ic], want_above); j++)
              want += lam[j] > 0 ? wf[j] : 0.0;
            g_assert_cmpfloat (fabs (sum - want), <, 1e-12 * wf[0] * n);

            /* the row layout: the same numbers, vector j as row j */
            int above_r = -1;
            double wr[12], sum_r = -1.0;
            g_autofree double *Ar = g_memdup2 (A, sizeof (double) * n * n);
            g_autofree double *Zr = g_new (double, (gsize) n * k);
            g_assert_true (tl_linalg_symeig_top_count_rows (n, Ar, k, wr, Zr, 1e-12, &above_r,
                                                            caps[ic], &sum_r, NULL));
            g_assert_cmpint (above_r, ==, above);
            g_assert_cmpfloat (sum_r, ==, sum);
            for (int j = 0; j < k; j++)
              {
                g_assert_cmpfloat (wr[j], ==, w[j]);
                for (int i = 0; i < n; i++)
                  g_assert_cmpfloat (Zr[j * n + i], ==, Z[i * k + j]);
              }
          }
      /* every pair as rows (the k = n route writes Z directly) */
      g_autofree double *Aa = g_memdup2 (A, sizeof (double) * n * n);
      g_autofree double *Za = g_new (double, (gsize) n * n);
      double wa[40], suma;
      int abovea;
      g_assert_true (tl_linalg_symeig_top_count_rows (n, Aa, n, wa, Za, 1e-12, &abovea, n, &suma,
                                                      NULL));
      g_assert_cmpint (abovea, ==, want_above);
      for (int j = 0; j < n; j++)
        {
          g_assert_cmpfloat (wa[j], ==, wf[j]);
          for (int i = 0; i < n; i++)
            g_assert_cmpfloat (Za[j * n + i], ==, Zf[i * n + j]);
        }
    }
  g_rand_free (rng);
}


/* Regression: the few-pairs route handed dstein a work array of n
 * eigenvalues of which dstebz had written only k; LAPACKE checks all n for
 * NaN, so stale heap contents made it fail ("LAPACK info -6") at random
 * (seen on a faceres image in the evaluation). Freed NaN-filled blocks of
 * the same sizes come back from the allocator, reproducing it. */
static void
test_symeig_count_dirty_heap (void)
{
  GRand *rng = g_rand_new_with_seed (5);
  const int n = 49;
  double lam[49];
  for (int i = 0; i < n; i++)
    lam[i] = 50.0 / (1 + i);
  g_autofree double *A = g_new (double, (gsize) n * n);
  sym_with_spectrum (rng, n, lam, A);
  for (int round = 0; round < 20; round++)
    {
      double *junk[16];
      for (int i = 0; i < 16; i++)
        {
          int len = n - 1 + i % 2;
          junk[i] = g_new (double, (gsize) len);
          for (int j = 0; j < len; j++)
            junk[i][j] = NAN;
        }
      for (int i = 15; i >= 0; i--)
        g_free (junk[i]);
      g_autofree double *Ak = g_memdup2 (A, sizeof (double) * n * n);
      double w[2], Z[2 * 49], sum;
      int above;
      GError *e = NULL;
      g_assert_true (tl_linalg_symeig_top_count (n, Ak, 2, w, Z, 1e-12, &above, n, &sum, &e));
      g_assert_no_error (e);
      g_assert_cmpfloat (fabs (w[0] - lam[0]), <, 1e-10 * lam[0]);
      g_assert_cmpint (above, ==, n);
    }
  g_rand_free (rng);
}

/* Lanczos top pair against LAPACK's and the spectrum it was built from;
 * a double top eigenvalue; FALSE (LAPACK's turn) for a 1×1 matrix and for
 * a zero matrix. */
static void
test_symeig_krylov (void)
{
  GRand *rng = g_rand_new_with_seed (5);
  const int n = 50;
  double lam[50];
  g_autofree double *A = g_new (double, n * n);
  for (int c = 0; c < 3; c++)
    {
      /* c = 0: well separated; 1: a 1 % gap above a slowly decaying
       * spectrum; 2: an indefinite matrix (a negative tail). */
      for (int i = 0; i < n; i++)
        lam[i] = c == 0 ? 10.0 / (1 + i * i) : c == 1 ? 1.0 - 0.01 * (i > 0) - 0.001 * i
                                               : 5.0 - i * 0.2;
      sym_with_spectrum (rng, n, lam, A);
      double w, z[50], wl;
      g_autofree double *Z = g_new (double, n);
      g_autofree double *Ac = g_memdup2 (A, sizeof (double) * n * n);
      g_assert_true (tl_linalg_symeig_top1_krylov (n, A, &w, z));
      g_assert_true (tl_linalg_symeig_top (n, Ac, 1, &wl, Z, NULL));
      g_assert_cmpfloat (fabs (w - wl), <, 1e-12 * wl);
      double d = 0.0;
      for (int i = 0; i < n; i++)
        d += z[i] * Z[i];
      g_assert_cmpfloat (fabs (fabs (d) - 1), <, 1e-12);
      g_assert_cmpfloat (fabs (w - lam[0]), <, 1e-12 * lam[0]);
    }
  /* A double top eigenvalue: no vector is "the" top one; like LAPACK the
   * Krylov route may return any unit vector of that eigenspace. */
  for (int i = 0; i < n; i++)
    lam[i] = i < 2 ? 3.0 : 1.0 / (1 + i);
  sym_with_spectrum (rng, n, lam, A);
  double w, z[50];
  if (tl_linalg_symeig_top1_krylov (n, A, &w, z))
    {
      g_autofree double *Ac = g_memdup2 (A, sizeof (double) * n * n);
      double wl[2];
      g_autofree double *Z2 = g_new (double, 2 * n);
      g_assert_true (tl_linalg_symeig_top (n, Ac, 2, wl, Z2, NULL));
      double p0 = 0.0, p1 = 0.0;
      for (int i = 0; i < n; i++)
        {
          p0 += z[i] * Z2[i * 2];
          p1 += z[i] * Z2[i * 2 + 1];
        }
      g_assert_cmpfloat (fabs (p0 * p0 + p1 * p1 - 1), <, 1e-12);
      g_assert_cmpfloat (fabs (w - 3.0), <, 1e-12);
    }
  double one = 2.0, zero[4] = { 0 };
  g_assert_false (tl_linalg_symeig_top1_krylov (1, &one, &w, z));
  g_assert_false (tl_linalg_symeig_top1_krylov (2, zero, &w, z));
  g_rand_free (rng);
}

/* tl_tucker_spatial_maps against B·G[k]·Dᵀ of tl_tucker_hooi: on the Gram
 * path's fixed point (kmax 1 and all, a cap on R1), after a clamp that
 * truncates a spatial rank (HOOI runs), truncated ranks and the direct
 * path. Maps agree up to sign (the mode-1 signs differ by design). */
static void
check_maps (const double *F, const int64_t d[3], const int ranks[3], int kmax)
{
  GError *e = NULL;
  g_autoptr (tl_tucker_maps) m = tl_tucker_spatial_maps (F, d, ranks, 20, kmax, &e);
  g_assert_no_error (e);
  g_autoptr (tl_tucker) t = tl_tucker_hooi (F, d, ranks, 20, NULL);
  int64_t H = d[1], W = d[2], N = H * W;
  int R1 = t->ranks[1], R2 = t->ranks[2];
  for (int i = 0; i < 3; i++)
    g_assert_cmpint (m->ranks[i], ==, t->ranks[i]);
  g_assert_cmpint (m->sweeps_run, ==, t->sweeps_run);
  g_assert_cmpfloat (fabs (m->fit - t->fit), <, 1e-12);
  int r = tl_linalg_numerical_rank (t->sigma, t->ranks[0]);
  g_assert_cmpint (m->r, ==, r);
  g_assert_cmpint (m->n, ==, MIN (kmax, r));
  for (int k = 0; k < m->n; k++)
    {
      g_assert_cmpfloat (fabs (m->sigma[k] - t->sigma[k]), <, 1e-12 * t->sigma[0]);
      double dot = 0.0;
      for (int64_t h = 0; h < H; h++)
        for (int64_t w = 0; w < W; w++)
          {
            double p = 0.0;
            for (int b = 0; b < R1; b++)
              for (int c = 0; c < R2; c++)
                p += t->B[h * R1 + b] * t->G[((int64_t) k * R1 + b) * R2 + c] * t->D[w * R2 + c];
            dot += p * m->P[k * N + h * W + w];
          }
      g_assert_cmpfloat (fabs (fabs (dot) - t->sigma[k] * t->sigma[k]), <,
                         1e-9 * t->sigma[0] * t->sigma[0]);
    }
}

static void
test_tucker_maps (void)
{
  GRand *rng = g_rand_new_with_seed (77);
  int64_t dg[3] = { 60, 4, 5 }, dd[3] = { 12, 6, 7 };
  g_autofree double *F = g_new (double, 60 * 20);
  random_fill (rng, F, 60 * 20);
  int full[3] = { 60, 4, 5 }, cap[3] = { 7, 4, 5 }, trunc[3] = { 6, 3, 2 };
  check_maps (F, dg, full, 1);
  check_maps (F, dg, full, G_MAXINT);
  check_maps (F, dg, cap, 1);
  check_maps (F, dg, cap, G_MAXINT);
  check_maps (F, dg, trunc, G_MAXINT);
  check_maps (F, dd, full, 1);
  check_maps (F, dd, trunc, G_MAXINT);
  /* Channel rank 2 (F = a1∘S1 + a2∘S2 with S_j 2×5): the mode-3 unfolding
   * has rank ≤ 4 < W = 5, so the clamp truncates R3 and HOOI runs. */
  int64_t d2[3] = { 30, 2, 5 };
  g_autofree double *F2 = g_new0 (double, 30 * 10);
  double a[2][30], S[2][10];
  for (int j = 0; j < 2; j++)
    {
      random_fill (rng, a[j], 30);
      random_fill (rng, S[j], 10);
    }
  for (int c = 0; c < 30; c++)
    for (int n = 0; n < 10; n++)
      F2[c * 10 + n] = a[0][c] * S[0][n] + a[1][c] * S[1][n];
  int full2[3] = { 30, 2, 5 };
  g_autoptr (tl_tucker_maps) m2 = tl_tucker_spatial_maps (F2, d2, full2, 20, 1, NULL);
  g_assert_cmpint (m2->ranks[0], ==, 2);
  g_assert_cmpint (m2->ranks[2], ==, 4);
  check_maps (F2, d2, full2, 1);
  check_maps (F2, d2, full2, G_MAXINT);
  /* Multilinear rank (2,2,2) plus 1e-5 noise (so XᵀX is clearly of full rank) at ranks (4,2,2): the HOSVD's
   * B, D are already optimal, so sweep 1 changes the fit by far less than
   * the tolerance; the maps path must then compute the HOSVD fit it had
   * skipped, and stop after one sweep exactly as tl_tucker_hooi does. */
  g_autofree double *F3 = g_new (double, 60 * 20);
  double Ua[60][2], Ub[4][2], Ud[5][2], core[8];
  random_fill (rng, &Ua[0][0], 120);
  random_fill (rng, &Ub[0][0], 8);
  random_fill (rng, &Ud[0][0], 10);
  random_fill (rng, core, 8);
  for (int c = 0; c < 60; c++)
    for (int h = 0; h < 4; h++)
      for (int w = 0; w < 5; w++)
        {
          double v = 1e-5 * g_rand_double_range (rng, -1, 1);
          for (int i = 0; i < 8; i++)
            v += core[i] * Ua[c][i >> 2] * Ub[h][(i >> 1) & 1] * Ud[w][i & 1];
          F3[(c * 4 + h) * 5 + w] = v;
        }
  int r3[3] = { 4, 2, 2 };
  g_autoptr (tl_tucker_maps) m3 = tl_tucker_spatial_maps (F3, dg, r3, 20, G_MAXINT, NULL);
  g_assert_cmpint (m3->sweeps_run, ==, 1);
  check_maps (F3, dg, r3, G_MAXINT);
  /* The zero tensor: nothing. */
  g_autofree double *Z = g_new0 (double, 60 * 20);
  g_autoptr (tl_tucker_maps) mz = tl_tucker_spatial_maps (Z, dg, full, 20, 1, NULL);
  g_assert_cmpint (mz->n, ==, 0);
  g_assert_cmpint (mz->ranks[0], ==, 0);
  g_rand_free (rng);
}

static void
test_tucker_bad (void)
{
  double F[8] = { 0 };
  int64_t d[3] = { 2, 2, 2 };
  int bad[3] = { 1, 0, 1 };
  GError *e = NULL;
  g_assert_null (tl_tucker_hooi (F, d, bad, 20, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "R2 = 0 is below 1"));
  g_clear_error (&e);
  int ok[3] = { 1, 1, 1 };
  g_assert_null (tl_tucker_hooi (F, d, ok, -1, &e));
  g_assert_nonnull (strstr (e->message, "sweeps"));
  g_clear_error (&e);
  /* The zero tensor: rank 0, nothing to decompose. */
  g_autoptr (tl_tucker) t = tl_tucker_hooi (F, d, ok, 20, &e);
  g_assert_no_error (e);
  g_assert_cmpint (t->ranks[0], ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/linalg/symeig-hand", test_symeig_hand);
  g_test_add_func ("/linalg/symeig-count", test_symeig_count);
  g_test_add_func ("/linalg/symeig-count-dirty-heap", test_symeig_count_dirty_heap);
  g_test_add_func ("/linalg/symeig-krylov", test_symeig_krylov);
  g_test_add_func ("/linalg/svd-hand", test_svd_hand);
  g_test_add_func ("/linalg/svd-random", test_svd_random);
  g_test_add_func ("/linalg/svd-rank-deficient", test_svd_rank_deficient);
  g_test_add_func ("/linalg/mode-product", test_mode_product);
  g_test_add_func ("/linalg/tucker-full", test_tucker_full);
  /* H·W > C (direct path) and H·W ≤ C (the Gram path). */
  static const int64_t direct[3] = { 12, 6, 7 }, gram[3] = { 60, 4, 5 };
  g_test_add_data_func ("/linalg/tucker-truncated/direct", direct, test_tucker_truncated);
  g_test_add_data_func ("/linalg/tucker-truncated/gram", gram, test_tucker_truncated);
  g_test_add_func ("/linalg/tucker-hand-2x2x2", test_tucker_hand_2x2x2);
  g_test_add_func ("/linalg/tucker-clamp", test_tucker_clamp);
  g_test_add_func ("/linalg/tucker-cholesky-basis", test_tucker_cholesky_basis);
  g_test_add_func ("/linalg/tucker-maps", test_tucker_maps);
  g_test_add_func ("/linalg/tucker-bad", test_tucker_bad);
  return g_test_run ();
}
