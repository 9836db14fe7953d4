/* Saliency maps on cases computed by hand, invariances (the result never
 * depends on LAPACK's signs), and bad input (clear errors, never NaN). */
#include "error.h"
#include "finish.h"
#include "saliency.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>

static tl_tensor *
features (int64_t C, int64_t H, int64_t W, const double *x)
{
  int64_t shape[3] = { C, H, W };
  tl_tensor *t = tl_tensor_new (3, shape, NULL);
  for (int64_t i = 0; i < C * H * W; i++)
    t->data[i] = (float) x[i];
  return t;
}

static tl_tensor *
map_of (const tl_tensor *F, tl_saliency_method m, tl_saliency_weighting w,
        tl_saliency_report *rep)
{
  tl_saliency_params p = tl_saliency_default_params ();
  p.method = m;
  p.weighting = w;
  tl_tensor *map = NULL;
  GError *e = NULL;
  g_assert_true (tl_saliency_map_from_features_report (F, &p, &map, rep, &e));
  g_assert_no_error (e);
  int64_t n = tl_tensor_numel (map);
  for (int64_t i = 0; i < n; i++)
    g_assert_true (map->data[i] >= 0.0f && map->data[i] <= 1.0f);
  return map;
}

static const tl_saliency_method all_methods[] = {
  TL_SALIENCY_EIGENCAM, TL_SALIENCY_MULTIVEC_EIGENCAM, TL_SALIENCY_TSM, TL_SALIENCY_MTSM
};

/* Rank-1 features F[c,n] = a[c]·b[n] (a > 0, b ≥ 0). Centred, Xc = a·(b−b̄)ᵀ
 * and m − m̄ = ā·(b − b̄), so the sign rule picks +(b − b̄) and EigenCAM =
 * Multivec-EigenCAM (one component) = ReLU(b − b̄)/(max b − b̄). Uncentred,
 * a1ᵀX ∝ b with t = ā·N·var(b) > 0, so TSM = MTSM = (b − min b)/(max b − min b).
 * The Tucker ranks clamp to (1, 3, 3): b as a 3×4 matrix has rank 3. */
static void
test_rank1 (void)
{
  const int64_t C = 6, H = 3, W = 4, N = 12;
  double a[6] = { 0.5, 1, 2, 0.25, 3, 1.5 };
  double b[12] = { 0, 1, 4, 2, 0.5, 3, 3, 1, 0, 2, 5, 1 };
  double x[72];
  for (int c = 0; c < C; c++)
    for (int n = 0; n < N; n++)
      x[c * N + n] = a[c] * b[n];
  g_autoptr (tl_tensor) F = features (C, H, W, x);
  double bbar = 0, bmax = 0, bmin = 1e9;
  for (int n = 0; n < N; n++)
    {
      bbar += b[n] / N;
      bmax = MAX (bmax, b[n]);
      bmin = MIN (bmin, b[n]);
    }
  float eig[12], tsm[12];
  for (int n = 0; n < N; n++)
    {
      eig[n] = (float) (MAX (b[n] - bbar, 0.0) / (bmax - bbar));
      tsm[n] = (float) ((b[n] - bmin) / (bmax - bmin));
    }
  for (gsize i = 0; i < G_N_ELEMENTS (all_methods); i++)
    for (int w = 0; w < 3; w++)
      {
        tl_saliency_report rep;
        g_autoptr (tl_tensor) map = map_of (F, all_methods[i], w, &rep);
        bool tucker = all_methods[i] >= TL_SALIENCY_TSM;
        tl_assert_close (map->data, tucker ? tsm : eig, N, 2e-6);
        g_assert_cmpint (rep.components, ==, 1);
        if (tucker)
          {
            g_assert_cmpint (rep.ranks[0], ==, 1);
            g_assert_cmpint (rep.ranks[1], ==, 3);
            g_assert_cmpint (rep.ranks[2], ==, 3);
          }
      }
}

/* The 2×2×2 case by hand: F[0] = [[1,0],[0,0]], F[1] = [[0,0],[0,2]], so
 * X = [[1,0,0,0],[0,0,0,2]], m = (0.5,0,0,1), m − m̄ = (.125,−.375,−.375,.625).
 * Tucker (uncentred): X Xᵀ = diag(1,4), a1 = e2, a2 = e1, P1 = (0,0,0,2)
 * (σ1 = 2), P2 = (1,0,0,0) (σ2 = 1), both with t > 0, so
 *   TSM  = (0,0,0,1),
 *   MTSM = P1 + P2 = (1,0,0,2) → (.5,0,0,1)         [sigma, ω' = 1]
 *          2·P1 + P2 = (1,0,0,4) → (.25,0,0,1)      [sigma2, ω' = σ]
 *          P1/2 + P2 = (1,0,0,1) → (1,0,0,1)        [uniform, ω' = 1/σ].
 * EigenCAM: Xc = [[.75,−.25,−.25,−.25],[−.5,−.5,−.5,1.5]], Xc Xcᵀ =
 * [[.75,−.5],[−.5,3]], λ = (3.75 ± √(2.25² + 1))/2, v_k ∝ (−0.5, λ_k − .75),
 * p_k = Xcᵀ v_k (unit v_k): p1 ∝ (−1.553,−1.053,−1.053,3.659), t > 0, so
 * EigenCAM = (0,0,0,1); Multivec (sigma: Σ ReLU(p_k)) is computed below from
 * these closed forms. */
static void
test_hand_2x2x2 (void)
{
  double x[8] = { 1, 0, 0, 0, 0, 0, 0, 2 };
  g_autoptr (tl_tensor) F = features (2, 2, 2, x);
  float e_tsm[4] = { 0, 0, 0, 1 };
  float e_mtsm[3][4] = { { .5f, 0, 0, 1 }, { .25f, 0, 0, 1 }, { 1, 0, 0, 1 } };
  g_autoptr (tl_tensor) tsm = map_of (F, TL_SALIENCY_TSM, 0, NULL);
  tl_assert_close (tsm->data, e_tsm, 4, 1e-7);
  g_autoptr (tl_tensor) eig = map_of (F, TL_SALIENCY_EIGENCAM, 0, NULL);
  tl_assert_close (eig->data, e_tsm, 4, 1e-7);
  for (int w = 0; w < 3; w++)
    {
      g_autoptr (tl_tensor) m = map_of (F, TL_SALIENCY_MTSM, w, NULL);
      tl_assert_close (m->data, e_mtsm[w], 4, 1e-7);
    }

  double Xc[2][4] = { { .75, -.25, -.25, -.25 }, { -.5, -.5, -.5, 1.5 } };
  double mm[4] = { .125, -.375, -.375, .625 };
  double disc = sqrt (2.25 * 2.25 + 1);
  double S[3][4] = { { 0 } };
  for (int k = 0; k < 2; k++)
    {
      double lam = (3.75 + (k == 0 ? disc : -disc)) / 2;
      double v0 = -0.5, v1 = lam - .75, nv = hypot (v0, v1);
      double p[4], t = 0;
      for (int n = 0; n < 4; n++)
        {
          p[n] = (v0 * Xc[0][n] + v1 * Xc[1][n]) / nv;   /* σ_k·u_k */
          t += p[n] * mm[n];
        }
      double s = t > 0 ? 1 : -1, sigma = sqrt (lam);
      for (int n = 0; n < 4; n++)
        {
          double u = MAX (s * p[n] / sigma, 0.0);
          S[0][n] += sigma * u;
          S[1][n] += sigma * sigma * u;
          S[2][n] += u;
        }
    }
  for (int w = 0; w < 3; w++)
    {
      double lo = 1e9, hi = 0;
      for (int n = 0; n < 4; n++)
        lo = MIN (lo, S[w][n]), hi = MAX (hi, S[w][n]);
      float want[4];
      for (int n = 0; n < 4; n++)
        want[n] = (float) ((S[w][n] - lo) / (hi - lo));
      g_autoptr (tl_tensor) m = map_of (F, TL_SALIENCY_MULTIVEC_EIGENCAM, w, NULL);
      tl_assert_close (m->data, want, 4, 1e-6);
    }
}

/* The sign rule by hand, including ties, and its symmetry: sign(−p) = −sign(p),
 * so s·p never depends on the sign an eigen-solver returns. */
static void
test_sign_rule (void)
{
  double m[3] = { 1, 2, 4 };          /* m − m̄ = (−4/3, −1/3, 5/3) */
  double p1[3] = { 0, 0, 1 };         /* t = 5/3 > 0 */
  g_assert_cmpint (tl_saliency_sign (p1, m, 3), ==, 1);
  double p2[3] = { 1, 0, 0 };         /* t = −4/3 */
  g_assert_cmpint (tl_saliency_sign (p2, m, 3), ==, -1);
  double flat[3] = { 2, 2, 2 };       /* m constant: t = 0, a tie */
  double p3[3] = { 1, -3, 2 };
  g_assert_cmpint (tl_saliency_sign (p3, flat, 3), ==, -1);
  double p4[3] = { -2, 2, 1 };        /* tie on magnitude: the first wins */
  g_assert_cmpint (tl_saliency_sign (p4, flat, 3), ==, -1);
  double p5[3] = { 2, -2, 1 };
  g_assert_cmpint (tl_saliency_sign (p5, flat, 3), ==, 1);
  double z[3] = { 0, 0, 0 };
  g_assert_cmpint (tl_saliency_sign (z, m, 3), ==, 1);
  /* t = 1·(−4/3) + 4·(−1/3) + ... exactly 0 within τ: p ⟂ (m − m̄). */
  double p6[3] = { 1, -4, 0 };        /* t = −4/3 + 4/3 = 0 */
  g_assert_cmpint (tl_saliency_sign (p6, m, 3), ==, -1);

  GRand *r = g_rand_new_with_seed (1);
  for (int it = 0; it < 1000; it++)
    {
      double p[7], q[7], mm[7];
      for (int i = 0; i < 7; i++)
        {
          p[i] = g_rand_double_range (r, -1, 1);
          q[i] = -p[i];
          mm[i] = it % 2 ? 1.0 : g_rand_double_range (r, 0, 1);  /* ties half the time */
        }
      g_assert_cmpint (tl_saliency_sign (p, mm, 7), ==, -tl_saliency_sign (q, mm, 7));
    }
  g_rand_free (r);
}

/* Finishing: ReLU, min–max; constant → zeros; never NaN. */
static void
test_finish (void)
{
  double s[4] = { -1, 0.5, 2, 1 };
  float out[4], want[4] = { 0, 0.25f, 1, 0.5f };
  g_assert_false (tl_saliency_finish (s, 4, out));
  tl_assert_close (out, want, 4, 1e-7);
  double neg[3] = { -1, -2, -3 };    /* max after ReLU is 0 */
  g_assert_true (tl_saliency_finish (neg, 3, out));
  double c[3] = { 5, 5, 5 + 4e-6 }; /* range ≤ 1e-6·max: constant */
  g_assert_true (tl_saliency_finish (c, 3, out));
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (out[i], ==, 0.0f);
  double nc[2] = { 5, 5 + 1e-4 };
  g_assert_false (tl_saliency_finish (nc, 2, out));
  g_assert_cmpfloat (out[1], ==, 1.0f);
}

static tl_tensor *
random_structured (GRand *r, int64_t C, int64_t H, int64_t W)
{
  g_autofree double *x = g_new (double, (gsize) (C * H * W));
  for (int64_t c = 0; c < C; c++)
    for (int64_t h = 0; h < H; h++)
      for (int64_t w = 0; w < W; w++)
        {
          double blob = exp (-((h - 1.5) * (h - 1.5) + (w - 2.0) * (w - 2.0)) / 3.0);
          x[(c * H + h) * W + w] = MAX (0.0, (1 + c % 3) * blob
                                            + 0.3 * g_rand_double_range (r, -1, 1));
        }
  return features (C, H, W, x);
}

/* Permuting channels (m unchanged, LAPACK's signs free to change) or
 * scaling by a positive constant (also to 2^±100) never changes any map. */
static void
test_invariances (void)
{
  GRand *r = g_rand_new_with_seed (42);
  /* c → 3c+1 mod C is a permutation when C is prime to 3. */
  int64_t shapes[][3] = { { 40, 5, 6 }, { 7, 5, 6 } };
  for (gsize si = 0; si < G_N_ELEMENTS (shapes); si++)
    {
      int64_t C = shapes[si][0], H = shapes[si][1], W = shapes[si][2], N = H * W;
      g_autoptr (tl_tensor) F = random_structured (r, C, H, W);
      g_autoptr (tl_tensor) P = tl_tensor_copy (F, NULL);
      g_autoptr (tl_tensor) S = tl_tensor_copy (F, NULL);
      g_autoptr (tl_tensor) Big = tl_tensor_copy (F, NULL);
      g_autoptr (tl_tensor) Tiny = tl_tensor_copy (F, NULL);
      for (int64_t i = 0; i < C * N; i++)
        {
          Big->data[i] = ldexpf (F->data[i], 100);    /* ~1e30: Grams ~1e62, fine in double */
          Tiny->data[i] = ldexpf (F->data[i], -100);  /* ~1e-30 */
        }
      for (int64_t c = 0; c < C; c++)
        memcpy (P->data + c * N, F->data + ((c * 3 + 1) % C) * N, sizeof (float) * N);
      for (int64_t i = 0; i < C * N; i++)
        S->data[i] = F->data[i] * 4.0f;   /* exact in binary */
      for (gsize i = 0; i < G_N_ELEMENTS (all_methods); i++)
        {
          g_autoptr (tl_tensor) a = map_of (F, all_methods[i], 0, NULL);
          g_autoptr (tl_tensor) b = map_of (P, all_methods[i], 0, NULL);
          g_autoptr (tl_tensor) c = map_of (S, all_methods[i], 0, NULL);
          tl_assert_close (a->data, b->data, N, 1e-6);
          tl_assert_close (a->data, c->data, N, 1e-6);
          g_autoptr (tl_tensor) big = map_of (Big, all_methods[i], 0, NULL);
          g_autoptr (tl_tensor) tiny = map_of (Tiny, all_methods[i], 0, NULL);
          tl_assert_close (a->data, big->data, N, 1e-6);
          tl_assert_close (a->data, tiny->data, N, 1e-6);
        }
    }
  g_rand_free (r);
}

/* Power iteration on X Xᵀ: the leading left singular vector, computed
 * without LAPACK. */
static void
leading_left (const float *X, int64_t C, int64_t N, double *a)
{
  g_autofree double *y = g_new (double, (gsize) N);
  for (int64_t c = 0; c < C; c++)
    a[c] = 1.0 + 0.01 * c;
  for (int it = 0; it < 2000; it++)
    {
      for (int64_t n = 0; n < N; n++)
        {
          y[n] = 0;
          for (int64_t c = 0; c < C; c++)
            y[n] += a[c] * X[c * N + n];
        }
      double nrm = 0;
      for (int64_t c = 0; c < C; c++)
        {
          a[c] = 0;
          for (int64_t n = 0; n < N; n++)
            a[c] += X[c * N + n] * y[n];
          nrm += a[c] * a[c];
        }
      for (int64_t c = 0; c < C; c++)
        a[c] /= sqrt (nrm);
    }
}

/* methods.md: with untruncated spatial ranks, P1 = a1ᵀX, i.e. TSM is an
 * uncentred EigenCAM, whatever R1. */
static void
test_tsm_full_spatial (void)
{
  GRand *r = g_rand_new_with_seed (8);
  const int64_t C = 24, H = 4, W = 5, N = 20;
  g_autoptr (tl_tensor) F = random_structured (r, C, H, W);
  double a[24], p[20], m[20];
  leading_left (F->data, C, N, a);
  for (int64_t n = 0; n < N; n++)
    {
      p[n] = m[n] = 0;
      for (int64_t c = 0; c < C; c++)
        {
          p[n] += a[c] * F->data[c * N + n];
          m[n] += F->data[c * N + n] / C;
        }
    }
  int s = tl_saliency_sign (p, m, N);
  for (int64_t n = 0; n < N; n++)
    p[n] *= s;
  float want[20];
  tl_saliency_finish (p, N, want);
  int r1s[] = { 0, 1, 3, 20 };
  for (gsize i = 0; i < G_N_ELEMENTS (r1s); i++)
    {
      tl_saliency_params prm = tl_saliency_default_params ();
      prm.method = TL_SALIENCY_TSM;
      prm.ranks[0] = r1s[i];
      prm.ranks[1] = (int) H;
      prm.ranks[2] = (int) W;
      g_autoptr (tl_tensor) map = NULL;
      g_assert_true (tl_saliency_map_from_features (F, &prm, &map, NULL));
      tl_assert_close (map->data, want, N, 1e-6);
    }

  /* centre = on (the proposed fix): the same p, its mean subtracted before
   * the sign rule. s·p was used above; the sign is chosen afresh. */
  double pc[20], mean = 0;
  for (int64_t n = 0; n < N; n++)
    mean += p[n] / N;
  for (int64_t n = 0; n < N; n++)
    pc[n] = p[n] - mean;
  s = tl_saliency_sign (pc, m, N);
  for (int64_t n = 0; n < N; n++)
    pc[n] *= s;
  tl_saliency_finish (pc, N, want);
  tl_saliency_params prm = tl_saliency_default_params ();
  prm.method = TL_SALIENCY_TSM;
  prm.centre = TL_SALIENCY_CENTRE_ON;
  g_autoptr (tl_tensor) map = NULL;
  g_assert_true (tl_saliency_map_from_features (F, &prm, &map, NULL));
  tl_assert_close (map->data, want, N, 1e-6);

  /* centre = auto: off while the signed map keeps more positive than
   * negative mass (this one: s·p is a positive combination here), on once
   * a large negative offset in every channel (as hard-swish features have)
   * makes the uncentred map single-signed and below zero. */
  double pos = 0, neg = 0;
  for (int64_t n = 0; n < N; n++)
    {
      if (p[n] > 0)
        pos += p[n];
      else
        neg -= p[n];
    }
  g_assert_cmpfloat (pos, >, neg);
  tl_saliency_finish (p, N, want);
  prm.centre = TL_SALIENCY_CENTRE_AUTO;
  g_autoptr (tl_tensor) map_auto = NULL;
  g_assert_true (tl_saliency_map_from_features (F, &prm, &map_auto, NULL));
  tl_assert_close (map_auto->data, want, N, 1e-6);

  for (int64_t i = 0; i < C * N; i++)
    F->data[i] -= 50.0f;
  prm.centre = TL_SALIENCY_CENTRE_OFF;
  g_autoptr (tl_tensor) map_off = NULL;
  tl_saliency_report rep;
  g_assert_true (tl_saliency_map_from_features_report (F, &prm, &map_off, &rep, NULL));
  g_assert_true (rep.constant);                      /* methods.md: emptied by the ReLU */
  prm.centre = TL_SALIENCY_CENTRE_ON;
  g_autoptr (tl_tensor) map_on = NULL;
  g_assert_true (tl_saliency_map_from_features (F, &prm, &map_on, NULL));
  prm.centre = TL_SALIENCY_CENTRE_AUTO;
  g_autoptr (tl_tensor) map_auto2 = NULL;
  g_assert_true (tl_saliency_map_from_features_report (F, &prm, &map_auto2, &rep, NULL));
  g_assert_false (rep.constant);
  tl_assert_close (map_auto2->data, map_on->data, N, 0.0);
  g_rand_free (r);
}

/* Degenerate but valid features give well-defined maps (zeros when
 * constant), never NaN; bad tensors and parameters give clear errors. */
static void
test_degenerate (void)
{
  double zero[24] = { 0 };
  double cst[24];
  double perch[24];     /* each channel constant over space: Xc = 0 */
  for (int i = 0; i < 24; i++)
    {
      cst[i] = 3.5;
      perch[i] = 1.0 + i / 6;
    }
  const double *cases[] = { zero, cst, perch };
  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr (tl_tensor) F = features (4, 2, 3, cases[k]);
      for (gsize i = 0; i < G_N_ELEMENTS (all_methods); i++)
        for (int w = 0; w < 3; w++)
          {
            tl_saliency_report rep;
            g_autoptr (tl_tensor) map = map_of (F, all_methods[i], w, &rep);
            g_assert_true (rep.constant);
            for (int n = 0; n < 6; n++)
              g_assert_cmpfloat (map->data[n], ==, 0.0f);
          }
    }
  /* 1×1 spatial map: constant by definition. */
  double one[5] = { 1, 2, 3, 4, 5 };
  g_autoptr (tl_tensor) F1 = features (5, 1, 1, one);
  for (gsize i = 0; i < G_N_ELEMENTS (all_methods); i++)
    {
      g_autoptr (tl_tensor) map = map_of (F1, all_methods[i], 0, NULL);
      g_assert_cmpint (map->shape[0], ==, 1);
      g_assert_cmpfloat (map->data[0], ==, 0.0f);
    }
  /* One channel, one row: still fine. */
  double row[6] = { 0, 1, 5, 2, 0, 1 };
  g_autoptr (tl_tensor) F2 = features (1, 1, 6, row);
  for (gsize i = 0; i < G_N_ELEMENTS (all_methods); i++)
    {
      g_autoptr (tl_tensor) map = map_of (F2, all_methods[i], 0, NULL);
      g_assert_cmpfloat (map->data[2], ==, 1.0f);
    }
}

/* 1×C×H×W equals C×H×W, and strided views are read correctly. */
static void
test_layouts (void)
{
  GRand *r = g_rand_new_with_seed (4);
  g_autoptr (tl_tensor) F = random_structured (r, 6, 4, 5);
  int64_t s4[4] = { 1, 6, 4, 5 };
  g_autoptr (tl_tensor) F4 = tl_tensor_view (F->data, 4, s4);
  /* The same tensor stored W-major, seen through strides. */
  g_autofree float *buf = g_new (float, 120);
  for (int c = 0; c < 6; c++)
    for (int h = 0; h < 4; h++)
      for (int w = 0; w < 5; w++)
        buf[(c * 5 + w) * 4 + h] = F->data[(c * 4 + h) * 5 + w];
  int64_t s3[3] = { 6, 4, 5 };
  g_autoptr (tl_tensor) Fs = tl_tensor_view (buf, 3, s3);
  Fs->strides[1] = 1;
  Fs->strides[2] = 4;
  for (gsize i = 0; i < G_N_ELEMENTS (all_methods); i++)
    {
      g_autoptr (tl_tensor) a = map_of (F, all_methods[i], 0, NULL);
      g_autoptr (tl_tensor) b = map_of (F4, all_methods[i], 0, NULL);
      g_autoptr (tl_tensor) c = map_of (Fs, all_methods[i], 0, NULL);
      tl_assert_close (a->data, b->data, 20, 0.0);
      tl_assert_close (a->data, c->data, 20, 0.0);
    }
  g_rand_free (r);
}

static void
expect_error (const tl_tensor *F, const tl_saliency_params *p, const char *want)
{
  tl_tensor *map = (tl_tensor *) 0x1;
  GError *e = NULL;
  g_assert_false (tl_saliency_map_from_features (F, p, &map, &e));
  g_assert_null (map);
  g_assert_nonnull (e);
  if (!strstr (e->message, want))
    g_error ("message '%s' should say '%s'", e->message, want);
  g_clear_error (&e);
}

static void
test_bad_input (void)
{
  tl_saliency_params p = tl_saliency_default_params ();
  double x[24];
  for (int i = 0; i < 24; i++)
    x[i] = i % 5;
  g_autoptr (tl_tensor) F = features (4, 2, 3, x);

  F->data[7] = NAN;                   /* channel 1, row 0, column 1 */
  expect_error (F, &p, "NaN at channel 1, row 0, column 1");
  F->data[7] = INFINITY;
  expect_error (F, &p, "an infinity at channel 1");
  F->data[7] = 2;

  int64_t s2[2] = { 4, 6 };
  g_autoptr (tl_tensor) F2 = tl_tensor_view (F->data, 2, s2);
  expect_error (F2, &p, "features tensor has shape 4x6: expected C×H×W or 1×C×H×W");
  int64_t sb[4] = { 2, 2, 2, 3 };
  g_autoptr (tl_tensor) Fb = tl_tensor_view (F->data, 4, sb);
  expect_error (Fb, &p, "shape 2x2x2x3");
  int64_t s0[3] = { 4, 0, 3 };
  g_autoptr (tl_tensor) F0 = tl_tensor_view (F->data, 3, s0);
  expect_error (F0, &p, "every dimension must be at least 1");

  tl_saliency_params q = p;
  q.method = TL_SALIENCY_TSM;
  q.ranks[1] = -2;
  expect_error (F, &q, "rank R2 = -2 is below 1");
  q = p;
  q.method = TL_SALIENCY_TSM;
  q.rho = 0.0;
  expect_error (F, &q, "rho = 0 is out of range");
  q.rho = 1.5;
  expect_error (F, &q, "rho = 1.5 is out of range");
  q.rho = NAN;
  expect_error (F, &q, "rho = nan is out of range");
  q = p;
  q.method = TL_SALIENCY_TSM;
  q.centre = (tl_saliency_centre) 7;
  expect_error (F, &q, "centre 7 is not valid");
  q = p;
  q.components = -1;
  expect_error (F, &q, "components = -1");
  q = p;
  q.sweeps = -1;
  expect_error (F, &q, "sweeps = -1");
  q = p;
  q.method = (tl_saliency_method) 9;
  expect_error (F, &q, "method 9");

  /* Automatic spatial ranks keep ⌈rho·H⌉, ⌈rho·W⌉ and R1 = min(C, R2·R3);
   * explicit ranks win over rho. */
  {
    g_autofree double *v = g_new (double, 40 * 7 * 6);
    for (int i = 0; i < 40 * 7 * 6; i++)
      v[i] = sin (0.37 * i) + (double) ((i * 7919) % 13) / 13.0;
    g_autoptr (tl_tensor) Fr = features (40, 7, 6, v);
    const double rhos[3] = { 1.0, 0.75, 0.5 };
    const int want[3][3] = { { 40, 7, 6 }, { 30, 6, 5 }, { 12, 4, 3 } };
    for (int i = 0; i < 3; i++)
      {
        tl_tensor *mr = NULL;
        tl_saliency_report rr;
        q = p;
        q.method = TL_SALIENCY_MTSM;
        q.rho = rhos[i];
        g_assert_true (tl_saliency_map_from_features_report (Fr, &q, &mr, &rr, NULL));
        for (int k = 0; k < 3; k++)
          g_assert_cmpint (rr.ranks_requested[k], ==, want[i][k]);
        tl_tensor_free (mr);
      }
    tl_tensor *mr = NULL;
    tl_saliency_report rr;
    q.ranks[0] = 5, q.ranks[1] = 2, q.ranks[2] = 0;
    g_assert_true (tl_saliency_map_from_features_report (Fr, &q, &mr, &rr, NULL));
    g_assert_cmpint (rr.ranks_requested[0], ==, 5);
    g_assert_cmpint (rr.ranks_requested[1], ==, 2);
    g_assert_cmpint (rr.ranks_requested[2], ==, 3);
    tl_tensor_free (mr);
  }

  /* Too large ranks are clamped, and the report says to what. */
  q = p;
  q.method = TL_SALIENCY_MTSM;
  q.ranks[0] = q.ranks[1] = q.ranks[2] = 100;
  tl_tensor *map = NULL;
  tl_saliency_report rep;
  g_assert_true (tl_saliency_map_from_features_report (F, &q, &map, &rep, NULL));
  g_assert_cmpint (rep.ranks_requested[0], ==, 100);
  g_assert_cmpint (rep.ranks[1], <=, 2);
  g_assert_cmpint (rep.ranks[2], <=, 3);
  g_assert_cmpint (rep.ranks[0], <=, 4);
  tl_tensor_free (map);

  tl_saliency_method m;
  GError *e = NULL;
  g_assert_false (tl_saliency_method_from_name ("gradcam", &m, &e));
  g_assert_nonnull (strstr (e->message, "unknown saliency method 'gradcam'"));
  g_clear_error (&e);
  tl_saliency_weighting w;
  g_assert_false (tl_saliency_weighting_from_name ("sigma3", &w, &e));
  g_assert_nonnull (strstr (e->message, "sigma3"));
  g_clear_error (&e);
  for (int i = 0; i < 4; i++)
    {
      g_assert_true (tl_saliency_method_from_name (tl_saliency_method_name (i), &m, NULL));
      g_assert_cmpint (m, ==, i);
    }
}

/* Many small random shapes, ranks, sweep caps and degenerate data (rank
 * deficient, repeated channels, zeros): always a map in [0,1], never NaN,
 * never a critical (G_DEBUG=fatal-criticals makes those fatal here). */
static void
test_random_shapes (void)
{
  GRand *r = g_rand_new_with_seed (99);
  for (int it = 0; it < 400; it++)
    {
      int64_t C = g_rand_int_range (r, 1, 14), H = g_rand_int_range (r, 1, 7),
              W = g_rand_int_range (r, 1, 7), n = C * H * W;
      g_autofree double *x = g_new (double, (gsize) n);
      int kind = it % 4;
      for (int64_t i = 0; i < n; i++)
        {
          int64_t c = i / (H * W), sp = i % (H * W);
          switch (kind)
            {
            case 0: x[i] = g_rand_double (r); break;
            case 1: x[i] = (1 + c % 2) * (sp % 3); break;            /* rank ≤ 2 */
            case 2: x[i] = c == 0 ? g_rand_double (r) : x[sp]; break; /* repeated channel */
            default: x[i] = g_rand_int_range (r, 0, 3) == 0 ? g_rand_double (r) : 0; break;
            }
        }
      g_autoptr (tl_tensor) F = features (C, H, W, x);
      tl_saliency_params p = tl_saliency_default_params ();
      p.method = (tl_saliency_method) (it % 4);
      p.weighting = (tl_saliency_weighting) g_rand_int_range (r, 0, 3);
      p.components = g_rand_int_range (r, 0, 4);
      p.sweeps = g_rand_int_range (r, 0, 6);
      for (int k = 0; k < 3; k++)
        p.ranks[k] = g_rand_int_range (r, 0, 9);
      g_autoptr (tl_tensor) map = NULL;
      GError *e = NULL;
      tl_saliency_report rep;
      if (!tl_saliency_map_from_features_report (F, &p, &map, &rep, &e))
        g_error ("%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " %s: %s",
                 C, H, W, tl_saliency_method_name (p.method), e->message);
      for (int64_t i = 0; i < H * W; i++)
        g_assert_true (map->data[i] >= 0.0f && map->data[i] <= 1.0f);
      for (int k = 0; k < 3; k++)
        g_assert_cmpint (rep.ranks[k], <=, rep.shape[k]);
    }
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/saliency/rank1-closed-form", test_rank1);
  g_test_add_func ("/saliency/hand-2x2x2", test_hand_2x2x2);
  g_test_add_func ("/saliency/sign-rule", test_sign_rule);
  g_test_add_func ("/saliency/finish", test_finish);
  g_test_add_func ("/saliency/invariances", test_invariances);
  g_test_add_func ("/saliency/tsm-full-spatial-is-uncentred-eigencam", test_tsm_full_spatial);
  g_test_add_func ("/saliency/degenerate", test_degenerate);
  g_test_add_func ("/saliency/layouts", test_layouts);
  g_test_add_func ("/saliency/bad-input", test_bad_input);
  g_test_add_func ("/saliency/random-shapes", test_random_shapes);
  return g_test_run ();
}
