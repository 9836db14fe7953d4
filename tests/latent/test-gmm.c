/* GMM: EM recovers a known mixture, matches scikit-learn's fit on the same
 * data (tests/data/latent/gmm_ref.py), and samples exactly as the Python
 * twin draws. */
#include "gmm.h"
#include "error.h"
#include "kmeans.h"
#include "npy.h"
#include "tl-test.h"

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

/* The numbers after `key` on its line of a *_ref.txt file. */
static GArray *
ref_vector (const char *file, const char *key)
{
  g_autofree char *rel = g_build_filename ("latent", file, NULL);
  g_autofree char *path = tl_test_data (rel);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GArray *v = g_array_new (FALSE, FALSE, sizeof (double));
  for (char **l = lines; *l; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, " ", -1);
      if (!f[0] || strcmp (f[0], key) != 0)
        continue;
      for (char **x = f + 1; *x; x++)
        {
          double val = g_ascii_strtod (*x, NULL);
          g_array_append_val (v, val);
        }
    }
  g_assert_cmpuint (v->len, >, 0);
  return v;
}

typedef struct { int calls_kmeans, calls_em; } progress_log;

static void
on_progress (const tl_latent_progress *p, gpointer data)
{
  progress_log *log = data;
  g_assert_cmpint (p->done, <=, p->total);
  if (strcmp (p->stage, "k-means") == 0)
    log->calls_kmeans++;
  else if (strcmp (p->stage, "EM") == 0)
    log->calls_em++;
}

static void
check_mixture (const char *data, const char *ref)
{
  g_autoptr (tl_tensor) z = load (data);
  const int64_t n = z->shape[0], d = z->shape[1];
  tl_gmm_params p = tl_gmm_default_params ();
  p.components = 3;
  progress_log log = { 0, 0 };
  GError *e = NULL;
  g_autoptr (tl_gmm) g = tl_gmm_fit (z->data, n, d, &p, on_progress, &log, &e);
  g_assert_no_error (e);
  g_assert_true (tl_gmm_converged (g));
  g_assert_cmpint (log.calls_em, ==, tl_gmm_iterations (g));
  g_assert_cmpint (log.calls_kmeans, >=, 1);

  g_autoptr (GArray) tw = ref_vector (ref, "true_weights");
  g_autoptr (GArray) tm = ref_vector (ref, "true_means");
  g_autoptr (GArray) sw = ref_vector (ref, "sklearn_weights");
  g_autoptr (GArray) sm = ref_vector (ref, "sklearn_means");
  g_autoptr (GArray) ss = ref_vector (ref, "sklearn_score");
  const double *w = tl_gmm_weights (g), *mu = tl_gmm_means (g);
  for (int t = 0; t < 3; t++)
    {
      /* The fitted component nearest the true mean t. */
      int best = 0;
      double bd = INFINITY;
      for (int c = 0; c < 3; c++)
        {
          double s = 0;
          for (int64_t j = 0; j < d; j++)
            s += pow (mu[c * d + j] - g_array_index (tm, double, t * d + j), 2);
          if (s < bd)
            bd = s, best = c;
        }
      /* Sampling error of a mean is ~0.1 here: 0.35 is ~3.5 sigma. */
      for (int64_t j = 0; j < d; j++)
        g_assert_cmpfloat (fabs (mu[best * d + j] - g_array_index (tm, double, t * d + j)),
                           <, 0.35);
      g_assert_cmpfloat (fabs (w[best] - g_array_index (tw, double, t)), <, 0.05);
      /* sklearn found the same optimum (its components sorted by weight). */
      for (int64_t j = 0; j < d; j++)
        g_assert_cmpfloat (fabs (mu[best * d + j] - g_array_index (sm, double, t * d + j)),
                           <, 0.02);
      g_assert_cmpfloat (fabs (w[best] - g_array_index (sw, double, t)), <, 0.005);
    }
  double score;
  g_assert_true (tl_gmm_score (g, z->data, n, &score, &e));
  g_assert_no_error (e);
  double sk = g_array_index (ss, double, 0);
  g_test_message ("%s: ours %.6f, sklearn %.6f, %d EM iterations", data, score, sk,
                  tl_gmm_iterations (g));
  g_assert_cmpfloat (score, >=, sk - 1e-3);
  g_assert_cmpfloat (score, <=, sk + 1e-2);
}

static void
test_recovers_2d (void)
{
  check_mixture ("gmm_2d.npy", "gmm_2d_ref.txt");
}

static void
test_recovers_5d (void)
{
  check_mixture ("gmm_5d.npy", "gmm_5d_ref.txt");
}

/* k-means alone (the GMM's start) against scikit-learn's KMeans(3,
 * n_init=1): the seeding draws differ, so the Lloyd fixed points may differ
 * by a few boundary points. On the separated sets the centres agree to 0.05
 * and the inertia to 0.1 %; on the hard set the inertia is no worse than
 * sklearn's by more than 1 %. */
static void
check_kmeans (const char *data, const char *ref, gboolean same_partition)
{
  g_autoptr (tl_tensor) z = load (data);
  const int64_t n = z->shape[0], d = z->shape[1];
  g_autofree double *x = g_new (double, n * d);
  for (int64_t i = 0; i < n * d; i++)
    x[i] = z->data[i];
  g_autofree int32_t *labels = g_new (int32_t, n);
  g_autofree double *c = g_new (double, 3 * d);
  tl_rng rng;
  tl_rng_init (&rng, 0);
  tl_kmeans (x, n, d, 3, 300, &rng, NULL, NULL, labels, c);
  double inertia = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < d; j++)
      inertia += pow (x[i * d + j] - c[labels[i] * d + j], 2);
  g_autoptr (GArray) si = ref_vector (ref, "sklearn_kmeans_inertia");
  g_autoptr (GArray) sc = ref_vector (ref, "sklearn_kmeans_centres");
  double want = g_array_index (si, double, 0);
  g_test_message ("%s: k-means inertia %.6f, sklearn %.6f", data, inertia, want);
  if (!same_partition)
    {
      g_assert_cmpfloat (inertia, <=, want * 1.01);
      return;
    }
  g_assert_cmpfloat (fabs (inertia - want), <=, 1e-3 * want);
  /* Sort our centres' rows lexicographically, like the fixture's. */
  int order[3] = { 0, 1, 2 };
  for (int a = 0; a < 3; a++)
    for (int b = a + 1; b < 3; b++)
      {
        int64_t j = 0;
        while (j < d && c[order[a] * d + j] == c[order[b] * d + j])
          j++;
        if (j < d && c[order[a] * d + j] > c[order[b] * d + j])
          {
            int t = order[a];
            order[a] = order[b];
            order[b] = t;
          }
      }
  for (int a = 0; a < 3; a++)
    for (int64_t j = 0; j < d; j++)
      g_assert_cmpfloat (fabs (c[order[a] * d + j] - g_array_index (sc, double, a * d + j)),
                         <=, 0.05);
}

static void
test_kmeans (void)
{
  check_kmeans ("gmm_2d.npy", "gmm_2d_ref.txt", TRUE);
  check_kmeans ("gmm_5d.npy", "gmm_5d_ref.txt", TRUE);
  check_kmeans ("gmm_hard.npy", "gmm_hard_ref.txt", FALSE);
}

/* Heavily overlapping components: EM runs a dozen iterations; its optimum
 * may sit elsewhere than sklearn's, so only the likelihood is compared. */
static void
test_hard_likelihood (void)
{
  g_autoptr (tl_tensor) z = load ("gmm_hard.npy");
  tl_gmm_params p = tl_gmm_default_params ();
  p.components = 3;
  GError *e = NULL;
  g_autoptr (tl_gmm) g = tl_gmm_fit (z->data, z->shape[0], z->shape[1], &p, NULL, NULL, &e);
  g_assert_no_error (e);
  double score;
  g_assert_true (tl_gmm_score (g, z->data, z->shape[0], &score, &e));
  g_autoptr (GArray) ss = ref_vector ("gmm_hard_ref.txt", "sklearn_score");
  g_test_message ("hard: ours %.6f, sklearn %.6f, %d EM iterations", score,
                  g_array_index (ss, double, 0), tl_gmm_iterations (g));
  g_assert_cmpint (tl_gmm_iterations (g), >, 3);
  g_assert_cmpfloat (score, >=, g_array_index (ss, double, 0) - 1e-3);
}

/* k = 1 is the maximum-likelihood Gaussian: mean, biased covariance + reg. */
static void
test_single_gaussian (void)
{
  g_autoptr (tl_tensor) z = load ("gmm_5d.npy");
  const int64_t n = z->shape[0], d = z->shape[1];
  tl_gmm_params p = tl_gmm_default_params ();
  p.components = 1;
  GError *e = NULL;
  g_autoptr (tl_gmm) g = tl_gmm_fit (z->data, n, d, &p, NULL, NULL, &e);
  g_assert_no_error (e);
  double mean[5] = { 0 };
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < d; j++)
      mean[j] += z->data[i * d + j] / (double) n;
  tl_assert_close (tl_gmm_means (g), mean, d, 1e-9);
  for (int64_t a = 0; a < d; a++)
    for (int64_t b = 0; b < d; b++)
      {
        double s = 0;
        for (int64_t i = 0; i < n; i++)
          s += (z->data[i * d + a] - mean[a]) * (z->data[i * d + b] - mean[b]);
        double want = s / n + (a == b ? 1e-6 : 0);
        g_assert_cmpfloat (fabs (tl_gmm_covariances (g)[a * d + b] - want), <, 1e-8);
      }
  g_assert_cmpfloat (tl_gmm_weights (g)[0], ==, 1.0);
}

static tl_gmm *
sample_gmm (void)
{
  const double w[2] = { 0.25, 0.75 };
  const double mu[6] = { 1, -2, 0.5, -3, 0, 2 };
  const double cov[18] = { 2, 0.3, 0, 0.3, 1, -0.2, 0, -0.2, 0.5,
                           0.5, 0, 0.1, 0, 0.5, 0, 0.1, 0, 1.5 };
  GError *e = NULL;
  tl_gmm *g = tl_gmm_new (2, 3, w, mu, cov, &e);
  g_assert_no_error (e);
  return g;
}

static void
test_sample_matches_reference (void)
{
  g_autoptr (tl_gmm) g = sample_gmm ();
  g_autoptr (tl_tensor) want = load ("gmm_sample_ref.npy");
  g_autofree float *got = g_new (float, 600);
  tl_gmm_sample (g, 2024, 0, 200, got);
  /* Same draws; only libm and LAPACK round-off may differ. */
  tl_assert_close (got, want->data, 600, 1e-5);
  /* Any batching gives the same bits. */
  g_autofree float *parts = g_new (float, 600);
  tl_gmm_sample (g, 2024, 0, 77, parts);
  tl_gmm_sample (g, 2024, 77, 123, parts + 77 * 3);
  g_assert_cmpmem (got, 600 * sizeof (float), parts, 600 * sizeof (float));
}

static void
test_prior_moments (void)
{
  GError *e = NULL;
  g_autoptr (tl_gmm) g = tl_gmm_new_prior (4, &e);
  g_assert_no_error (e);
  const int64_t n = 50000;
  g_autofree float *s = g_new (float, n * 4);
  tl_gmm_sample (g, 9, 0, n, s);
  for (int j = 0; j < 4; j++)
    {
      double m = 0, v = 0;
      for (int64_t i = 0; i < n; i++)
        m += s[i * 4 + j];
      m /= n;
      for (int64_t i = 0; i < n; i++)
        v += (s[i * 4 + j] - m) * (s[i * 4 + j] - m);
      v /= n;
      /* sd of the mean 0.0045, of the variance 0.0063: ~4.5 sigma. */
      g_assert_cmpfloat (fabs (m), <, 0.02);
      g_assert_cmpfloat (fabs (v - 1), <, 0.03);
    }
}

static void
test_bad_input (void)
{
  float z[8] = { 0, 1, 1, 0, 2, 2, 3, 1 };
  tl_gmm_params p = tl_gmm_default_params ();
  GError *e = NULL;
  g_assert_cmpint (p.components, ==, 10);

  g_assert_null (tl_gmm_fit (z, 4, 2, &p, NULL, NULL, &e));   /* k = 10 > n = 4 */
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "components: 10 is more than the 4 latents"));
  g_clear_error (&e);

  p.components = 0;
  g_assert_null (tl_gmm_fit (z, 4, 2, &p, NULL, NULL, &e));
  g_assert_nonnull (strstr (e->message, "components: 0"));
  g_clear_error (&e);

  p.components = 1;
  g_assert_null (tl_gmm_fit (z, 1, 2, &p, NULL, NULL, &e));
  g_assert_nonnull (strstr (e->message, "need at least 2"));
  g_clear_error (&e);

  z[5] = NAN;
  g_assert_null (tl_gmm_fit (z, 4, 2, &p, NULL, NULL, &e));
  g_assert_nonnull (strstr (e->message, "row 2, column 1 is NaN"));
  g_clear_error (&e);
  z[5] = 2;

  /* Two identical points at 0 and reg 0: a zero covariance, a clear error. */
  float same[4] = { 0, 0, 0, 0 };
  p.reg_covar = 0;
  g_assert_null (tl_gmm_fit (same, 2, 2, &p, NULL, NULL, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "not positive definite"));
  g_clear_error (&e);
  /* With the default regularisation the same data fits. */
  p.reg_covar = 1e-6;
  g_autoptr (tl_gmm) ok = tl_gmm_fit (same, 2, 2, &p, NULL, NULL, &e);
  g_assert_no_error (e);

  const double w = 1, mu[2] = { 0, 0 }, bad[4] = { 1, 2, 2, 1 };
  g_assert_null (tl_gmm_new (1, 2, &w, mu, bad, &e));
  g_assert_nonnull (strstr (e->message, "not positive definite"));
  g_clear_error (&e);

  g_assert_null (tl_gmm_new_prior (0, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/latent/gmm/recovers-2d", test_recovers_2d);
  g_test_add_func ("/latent/gmm/recovers-5d", test_recovers_5d);
  g_test_add_func ("/latent/gmm/kmeans-matches-sklearn", test_kmeans);
  g_test_add_func ("/latent/gmm/hard-likelihood", test_hard_likelihood);
  g_test_add_func ("/latent/gmm/single-gaussian", test_single_gaussian);
  g_test_add_func ("/latent/gmm/sample-matches-reference", test_sample_matches_reference);
  g_test_add_func ("/latent/gmm/prior-moments", test_prior_moments);
  g_test_add_func ("/latent/gmm/bad-input", test_bad_input);
  return g_test_run ();
}
