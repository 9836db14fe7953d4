/* Latent-space quality measures: hand-computed cases and NumPy/SciPy
 * references (tests/data/latent/measures_ref.py). */
#include "error.h"
#include "fid.h"
#include "knn.h"
#include "memorisation.h"
#include "npy.h"
#include "precision-recall.h"
#include "tl-test.h"
#include "wasserstein.h"

#include <math.h>
#include <string.h>

static tl_tensor *
load (const char *name)
{
  g_autofree char *rel = g_build_filename ("latent", name, NULL);
  g_autofree char *p = tl_test_data (rel);
  GError *e = NULL;
  tl_tensor *t = tl_npy_load (p, &e);
  g_assert_no_error (e);
  return t;
}

static double
ref (const char *key, int index)
{
  g_autofree char *path = tl_test_data ("latent/measures_ref.txt");
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, " ", -1);
      if (f[0] && strcmp (f[0], key) == 0)
        {
          g_assert_cmpuint (g_strv_length (f), >, (guint) index + 1);
          return g_ascii_strtod (f[index + 1], NULL);
        }
    }
  g_error ("no %s in measures_ref.txt", key);
}

#define assert_rel(got, want, rtol)                                               \
  g_assert_cmpfloat (fabs ((got) - (want)), <=, (rtol) * MAX (1.0, fabs (want)))

static void
test_fid_self_zero (void)
{
  g_autoptr (tl_tensor) a = load ("meas_a.npy");
  double f = -1;
  GError *e = NULL;
  g_assert_true (tl_fid (a->data, a->shape[0], a->data, a->shape[0], a->shape[1], &f, &e));
  g_assert_no_error (e);
  g_assert_cmpfloat (f, >=, 0);
  g_assert_cmpfloat (f, <=, 1e-6);
}

/* Diagonal (commuting) covariances: FID = |μ1-μ2|² + Σ (√σ1 - √σ2)². */
static void
test_fid_closed_form (void)
{
  const double mu1[3] = { 0, 1, 2 }, mu2[3] = { 1, 1, 0 };
  const double c1[9] = { 4, 0, 0, 0, 1, 0, 0, 0, 9 };
  const double c2[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 0.25 };
  double f;
  g_assert_true (tl_frechet_distance (mu1, c1, mu2, c2, 3, &f, NULL));
  double want = 1 + 0 + 4 + 1 + 0 + 2.5 * 2.5;
  assert_rel (f, want, 1e-12);
  /* A rotated pair (non-commuting): equal covariances up to rotation.
   * Σ1 = diag(4, 1), Σ2 = R Σ1 Rᵀ with R a 90° rotation = diag(1, 4):
   * closed form tr Σ1 + tr Σ2 - 2 tr (Σ1^½ Σ2 Σ1^½)^½ = 10 - 2·(2 + 2) = 2. */
  const double z[2] = { 0, 0 }, d1[4] = { 4, 0, 0, 1 }, d2[4] = { 1, 0, 0, 4 };
  g_assert_true (tl_frechet_distance (z, d1, z, d2, 2, &f, NULL));
  assert_rel (f, 2.0, 1e-12);
  /* A general pair: Σ1 = [[2,1],[1,2]], Σ2 = I: tr sqrt(Σ1) = √3 + 1. */
  const double g1[4] = { 2, 1, 1, 2 }, id[4] = { 1, 0, 0, 1 };
  g_assert_true (tl_frechet_distance (z, g1, z, id, 2, &f, NULL));
  assert_rel (f, 4 + 2 - 2 * (sqrt (3) + 1), 1e-12);
}

static void
test_fid_matches_scipy (void)
{
  g_autoptr (tl_tensor) a = load ("meas_a.npy");
  g_autoptr (tl_tensor) b = load ("meas_b.npy");
  double f;
  g_assert_true (tl_fid (a->data, a->shape[0], b->data, b->shape[0], 4, &f, NULL));
  assert_rel (f, ref ("fid_ab", 0), 1e-9);
}

static void
test_w_1d_hand (void)
{
  const double a[3] = { 0, 1, 2 }, b[3] = { 5, 6, 7 };
  assert_rel (tl_wasserstein_1d_sorted (a, 3, b, 3, 1), 5.0, 1e-15);
  assert_rel (tl_wasserstein_1d_sorted (a, 3, b, 3, 2), 25.0, 1e-15);
  /* Unequal sizes: {0, 1} against {0, 0, 3}. The quantile functions differ
   * by 1 on [1/2, 2/3) and by 2 on [2/3, 1): W1 = 1/6 + 2/3,
   * W2² = 1/6 + 4/3. */
  const double c[2] = { 0, 1 }, e[3] = { 0, 0, 3 };
  assert_rel (tl_wasserstein_1d_sorted (c, 2, e, 3, 1), 5.0 / 6, 1e-15);
  assert_rel (tl_wasserstein_1d_sorted (c, 2, e, 3, 2), 1.5, 1e-15);
  assert_rel (tl_wasserstein_1d_sorted (e, 3, c, 2, 2), 1.5, 1e-15);
}

static void
test_sliced_shift (void)
{
  /* B = A + s: every projection is shifted by θ·s, so SW2² = mean (θ·s)². */
  g_autoptr (tl_tensor) a = load ("meas_a.npy");
  const int64_t n = a->shape[0], d = 4;
  const double s[4] = { 1.0, -0.5, 0.25, 2.0 };
  g_autofree float *b = g_new (float, n * d);
  for (int64_t i = 0; i < n * d; i++)
    b[i] = a->data[i] + (float) s[i % d];
  g_autofree double *dirs = g_new (double, TL_SLICED_DIRECTIONS * d);
  tl_sliced_directions (d, TL_SLICED_DIRECTIONS, TL_SLICED_SEED, dirs);
  double want = 0;
  for (int c = 0; c < TL_SLICED_DIRECTIONS; c++)
    {
      double dot = 0, norm = 0;
      for (int j = 0; j < d; j++)
        {
          dot += dirs[c * d + j] * s[j];
          norm += dirs[c * d + j] * dirs[c * d + j];
        }
      assert_rel (norm, 1.0, 1e-14);
      want += dot * dot;
    }
  want = sqrt (want / TL_SLICED_DIRECTIONS);
  double got;
  g_assert_true (tl_sliced_w2 (a->data, n, b, n, d, &got, NULL));
  /* b is rounded to float32, so the shift is exact only to ~1e-7. */
  assert_rel (got, want, 1e-6);
  /* Mean W1 of a shifted set: the mean |s_j|. */
  g_assert_true (tl_mean_w1 (a->data, n, b, n, d, &got, NULL));
  assert_rel (got, (1.0 + 0.5 + 0.25 + 2.0) / 4, 1e-6);
}

static int
cmp (const void *x, const void *y)
{
  double p = *(const double *) x, q = *(const double *) y;
  return (p > q) - (p < q);
}

static void
test_wasserstein_matches_scipy (void)
{
  g_autoptr (tl_tensor) a = load ("meas_a.npy");
  g_autoptr (tl_tensor) b = load ("meas_b.npy");
  double got;
  g_assert_true (tl_sliced_w2 (a->data, 300, b->data, 200, 4, &got, NULL));
  assert_rel (got, ref ("sliced_w2_ab", 0), 1e-9);
  g_assert_true (tl_mean_w1 (a->data, 300, b->data, 200, 4, &got, NULL));
  assert_rel (got, ref ("mean_w1_ab", 0), 1e-9);
  double xa[300], xb[200];
  for (int i = 0; i < 300; i++)
    xa[i] = a->data[i * 4];
  for (int i = 0; i < 200; i++)
    xb[i] = b->data[i * 4];
  qsort (xa, 300, sizeof (double), cmp);
  qsort (xb, 200, sizeof (double), cmp);
  assert_rel (tl_wasserstein_1d_sorted (xa, 300, xb, 200, 2), ref ("w2sq_1d_ab_dim0", 0), 1e-12);
}

/* Reals 0..9 on a line; generated {0.5, 100..103}. With k = 3 the real
 * balls reach at most 3, so only 0.5 is inside: precision 1/5. The ball of
 * 0.5 reaches its 3rd generated neighbour, 101.5 away, and covers every
 * real: recall 1. */
static void
test_precision_recall_hand (void)
{
  float real[10], gen[5] = { 0.5f, 100, 101, 102, 103 };
  for (int i = 0; i < 10; i++)
    real[i] = (float) i;
  double p, r;
  GError *e = NULL;
  g_assert_true (tl_precision_recall (real, 10, gen, 5, 1, 3, &p, &r, &e));
  g_assert_no_error (e);
  g_assert_cmpfloat (p, ==, 0.2);
  g_assert_cmpfloat (r, ==, 1.0);
  /* A set against itself: every point lies in its own ball. */
  g_assert_true (tl_precision_recall (real, 10, real, 10, 1, 3, &p, &r, &e));
  g_assert_cmpfloat (p, ==, 1.0);
  g_assert_cmpfloat (r, ==, 1.0);
  double radius[10];
  g_assert_true (tl_knn_radii (real, 10, 1, 3, radius, &e));
  g_assert_cmpfloat (radius[0], ==, 3.0);
  g_assert_cmpfloat (radius[5], ==, 2.0);
  g_assert_cmpfloat (radius[9], ==, 3.0);
}

static void
test_precision_recall_matches_numpy (void)
{
  g_autoptr (tl_tensor) a = load ("meas_a.npy");
  g_autoptr (tl_tensor) b = load ("meas_b.npy");
  double p, r;
  g_assert_true (tl_precision_recall (a->data, 300, b->data, 200, 4, 3, &p, &r, NULL));
  assert_rel (p, ref ("precision_real_a_gen_b", 0), 1e-12);
  assert_rel (r, ref ("recall_real_a_gen_b", 0), 1e-12);
  /* the real set's radii computed once give the same numbers, twice over */
  g_autofree double *radius = tl_precision_recall_radii (a->data, 300, 4, 3, NULL);
  g_assert_nonnull (radius);
  for (int rep = 0; rep < 2; rep++)
    {
      double pc = -1, rc = -1;
      g_assert_true (tl_precision_recall_cached (a->data, 300, radius, b->data, 200, 4, 3, &pc,
                                                 &rc, NULL));
      assert_rel (pc, ref ("precision_real_a_gen_b", 0), 1e-12);
      assert_rel (rc, ref ("recall_real_a_gen_b", 0), 1e-12);
    }
}

static void
test_memorisation_matches_numpy (void)
{
  g_autoptr (tl_tensor) a = load ("meas_a.npy");
  g_autoptr (tl_tensor) b = load ("meas_b.npy");
  g_autoptr (tl_tensor) t = load ("meas_train.npy");
  tl_memorisation m;
  GError *e = NULL;
  g_assert_true (tl_memorisation_measure (t->data, 400, b->data, 200, a->data, 300, 4, &m, &e));
  g_assert_no_error (e);
  for (int q = 0; q < TL_MEMO_QUANTILES; q++)
    {
      assert_rel (m.samples[q], ref ("memo_samples_b", q), 1e-9);
      assert_rel (m.heldout[q], ref ("memo_heldout_a", q), 1e-9);
    }
  assert_rel (m.below_heldout_q05, ref ("memo_below_q05", 0), 1e-12);
  /* Samples that are copies of the bank sit at distance 0. */
  g_assert_true (tl_memorisation_measure (t->data, 400, t->data, 400, a->data, 300, 4, &m, &e));
  g_assert_cmpfloat (m.samples[4], <=, 1e-6);
  g_assert_cmpfloat (m.below_heldout_q05, ==, 1.0);
}

static void
test_bad_input (void)
{
  float x[6] = { 0, 1, 2, 3, 4, NAN };
  double out;
  GError *e = NULL;
  g_assert_false (tl_fid (x, 3, x, 2, 2, &out, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "row 2, column 1 is NaN"));
  g_clear_error (&e);
  x[5] = 5;
  g_assert_false (tl_fid (x, 1, x, 3, 2, &out, &e));   /* ddof = 1 needs 2 rows */
  g_assert_nonnull (strstr (e->message, "need at least 2"));
  g_clear_error (&e);
  double p, r;
  g_assert_false (tl_precision_recall (x, 3, x, 3, 2, 3, &p, &r, &e));   /* k >= n */
  g_assert_nonnull (strstr (e->message, "k = 3 needs 1 <= k < n = 3"));
  g_clear_error (&e);
  g_assert_false (tl_sliced_w2 (x, 0, x, 3, 2, &out, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  g_assert_false (tl_mean_w1 (x, 3, x, 3, 0, &out, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/latent/measures/fid-self-zero", test_fid_self_zero);
  g_test_add_func ("/latent/measures/fid-closed-form", test_fid_closed_form);
  g_test_add_func ("/latent/measures/fid-matches-scipy", test_fid_matches_scipy);
  g_test_add_func ("/latent/measures/w-1d-hand", test_w_1d_hand);
  g_test_add_func ("/latent/measures/sliced-shift", test_sliced_shift);
  g_test_add_func ("/latent/measures/wasserstein-matches-scipy", test_wasserstein_matches_scipy);
  g_test_add_func ("/latent/measures/precision-recall-hand", test_precision_recall_hand);
  g_test_add_func ("/latent/measures/precision-recall-matches-numpy",
                   test_precision_recall_matches_numpy);
  g_test_add_func ("/latent/measures/memorisation-matches-numpy", test_memorisation_matches_numpy);
  g_test_add_func ("/latent/measures/bad-input", test_bad_input);
  return g_test_run ();
}
