/* The PMF vicinity sampler against its Python twin
 * (tests/data/latent/ref_sampler.py): bit-identical samples, any batching. */
#include "pmf.h"
#include "error.h"
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

static tl_pmf *
fit_bank (const tl_tensor *z, int q, int r)
{
  tl_pmf_params p = { .levels = q, .radius = r };
  GError *e = NULL;
  tl_pmf *m = tl_pmf_fit (z->data, z->shape[0], z->shape[1], &p, &e);
  g_assert_no_error (e);
  return m;
}

static const struct { int q, r; const char *seed; int count; } cases[] = {
  { 8, 1, "42", 300 },
  { 3, 0, "7", 100 },
  { 16, 3, "18446744073709551615", 100 },
  { 50, 100, "1", 100 },
  { 1, 0, "99", 50 },
};

static void
test_matches_reference (void)
{
  g_autoptr (tl_tensor) z = load ("pmf_bank.npy");
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *name = g_strdup_printf ("pmf_q%d_r%d_s%s.npy", cases[c].q, cases[c].r,
                                               cases[c].seed);
      g_autoptr (tl_tensor) want = load (name);
      g_autoptr (tl_pmf) m = fit_bank (z, cases[c].q, cases[c].r);
      int64_t d = z->shape[1], count = cases[c].count;
      g_assert_cmpint (want->shape[0], ==, count);
      g_assert_cmpint (want->shape[1], ==, d);
      g_autofree float *got = g_new (float, count * d);
      tl_pmf_sample (m, g_ascii_strtoull (cases[c].seed, NULL, 10), 0, count, got);
      if (memcmp (got, want->data, count * d * sizeof (float)) != 0)
        tl_assert_close (got, want->data, count * d, 0.0);
      g_assert_cmpmem (got, count * d * sizeof (float), want->data,
                       count * d * sizeof (float));
    }
}

/* Any split of [0, count) into batches gives the same bits. */
static void
test_batching_independent (void)
{
  g_autoptr (tl_tensor) z = load ("pmf_bank.npy");
  g_autoptr (tl_pmf) m = fit_bank (z, 8, 1);
  const int64_t d = 5, count = 300;
  g_autofree float *whole = g_new (float, count * d);
  g_autofree float *parts = g_new (float, count * d);
  tl_pmf_sample (m, 42, 0, count, whole);
  const int64_t cuts[] = { 0, 1, 2, 37, 38, 150, 299, 300 };
  for (size_t c = 0; c + 1 < G_N_ELEMENTS (cuts); c++)
    tl_pmf_sample (m, 42, cuts[c], cuts[c + 1] - cuts[c], parts + cuts[c] * d);
  g_assert_cmpmem (whole, count * d * sizeof (float), parts, count * d * sizeof (float));
}

/* Every sample lies within r levels of some training latent in every
 * dimension, and a constant dimension stays constant. */
static void
test_vicinity_and_constant (void)
{
  g_autoptr (tl_tensor) z = load ("pmf_bank.npy");
  const int64_t n = z->shape[0], d = z->shape[1], count = 500;
  g_autoptr (tl_pmf) m = fit_bank (z, 10, 0);
  g_autofree float *s = g_new (float, count * d);
  tl_pmf_sample (m, 3, 0, count, s);
  double lo[5], hi[5];
  for (int64_t j = 0; j < d; j++)
    {
      lo[j] = hi[j] = z->data[j];
      for (int64_t i = 0; i < n; i++)
        {
          lo[j] = MIN (lo[j], z->data[i * d + j]);
          hi[j] = MAX (hi[j], z->data[i * d + j]);
        }
    }
  for (int64_t k = 0; k < count; k++)
    {
      g_assert_cmpfloat (s[k * d + 4], ==, 0.75f);
      /* r = 0: each coordinate lies in an occupied level of its dimension. */
      for (int64_t j = 0; j < 4; j++)
        {
          double delta = (hi[j] - lo[j]) / 10;
          int b = MIN ((int) floor ((s[k * d + j] - lo[j]) / delta), 9);
          gboolean occupied = FALSE;
          for (int64_t i = 0; i < n && !occupied; i++)
            occupied = MIN ((int) floor ((z->data[i * d + j] - lo[j]) / delta), 9) == b;
          g_assert_true (occupied);
        }
    }
}

/* Marginals: with q = 8, r = 1 the level of dimension j in a sample has
 * probability E(l) = (1/n) sum_i [l in W_i] p(l) / sum_{m in W_i} p(m)
 * (W_i = the window around latent i's level, p = the level histogram),
 * computed here straight from the bank. 200 000 samples must hit every
 * E(l) within 5 binomial standard deviations (a false alarm about once in
 * 10^5 runs per level; the seed is fixed, so the test is deterministic). */
static void
test_marginals (void)
{
  g_autoptr (tl_tensor) z = load ("pmf_bank.npy");
  const int64_t n = z->shape[0], d = z->shape[1], count = 200000;
  const int q = 8, r = 1;
  g_autoptr (tl_pmf) m = fit_bank (z, q, r);
  g_autofree float *s = g_new (float, count * d);
  tl_pmf_sample (m, 12345, 0, count, s);
  for (int64_t j = 0; j < d; j++)
    {
      double lo = z->data[j], hi = z->data[j];
      for (int64_t i = 0; i < n; i++)
        {
          lo = MIN (lo, z->data[i * d + j]);
          hi = MAX (hi, z->data[i * d + j]);
        }
      if (hi == lo)
        continue;   /* the constant dimension: test_vicinity_and_constant */
      const double delta = (hi - lo) / q;
      int level[4096], hist[8] = { 0 }, got[8] = { 0 };
      g_assert_cmpint (n, <=, 4096);
      for (int64_t i = 0; i < n; i++)
        {
          level[i] = CLAMP ((int) floor ((z->data[i * d + j] - lo) / delta), 0, q - 1);
          hist[level[i]]++;
        }
      double expect[8] = { 0 };
      for (int64_t i = 0; i < n; i++)
        {
          int a = MAX (level[i] - r, 0), b = MIN (level[i] + r, q - 1);
          double mass = 0;
          for (int l = a; l <= b; l++)
            mass += hist[l];
          for (int l = a; l <= b; l++)
            expect[l] += hist[l] / mass / n;
        }
      for (int64_t k = 0; k < count; k++)
        got[CLAMP ((int) floor ((s[k * d + j] - lo) / delta), 0, q - 1)]++;
      for (int l = 0; l < q; l++)
        {
          double f = (double) got[l] / count;
          double bound = 5 * sqrt (expect[l] * (1 - expect[l]) / count) + 1e-4;
          if (fabs (f - expect[l]) > bound)
            g_error ("dimension %" G_GINT64_FORMAT " level %d: frequency %.5f, expected %.5f "
                     "(bound %.5f)", j, l, f, expect[l], bound);
        }
    }
}

static void
test_bad_input (void)
{
  tl_pmf_params p = tl_pmf_default_params ();
  g_assert_cmpint (p.levels, ==, 50);   /* docs/sampling.md chose them */
  g_assert_cmpint (p.radius, ==, 2);
  float z[6] = { 0, 1, 2, 3, 4, 5 };
  GError *e = NULL;

  g_assert_null (tl_pmf_fit (z, 1, 6, &p, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "1 latent(s), need at least 2"));
  g_clear_error (&e);

  g_assert_null (tl_pmf_fit (z, 0, 6, &p, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);

  z[3] = NAN;
  g_assert_null (tl_pmf_fit (z, 3, 2, &p, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "row 1, column 1 is NaN"));
  g_clear_error (&e);
  z[3] = INFINITY;
  g_assert_null (tl_pmf_fit (z, 3, 2, &p, &e));
  g_assert_nonnull (strstr (e->message, "infinite"));
  g_clear_error (&e);
  z[3] = 3;

  p.levels = TL_PMF_MAX_LEVELS + 1;
  g_assert_null (tl_pmf_fit (z, 3, 2, &p, &e));
  g_assert_nonnull (strstr (e->message, "levels: 65536 is out of range (1 .. 65535)"));
  g_clear_error (&e);

  p.levels = 0;
  g_assert_null (tl_pmf_fit (z, 3, 2, &p, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "levels: 0"));
  g_clear_error (&e);

  p = tl_pmf_default_params ();
  p.radius = -1;
  g_assert_null (tl_pmf_fit (z, 3, 2, &p, &e));
  g_assert_nonnull (strstr (e->message, "radius: -1"));
  g_clear_error (&e);

  /* A table too large to allocate is refused from the sizes alone. */
  p = tl_pmf_default_params ();
  p.levels = TL_PMF_MAX_LEVELS;
  g_assert_null (tl_pmf_fit (z, 2, (int64_t) 1 << 14, &p, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_NOMEM);
  g_clear_error (&e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/latent/pmf/matches-reference", test_matches_reference);
  g_test_add_func ("/latent/pmf/batching-independent", test_batching_independent);
  g_test_add_func ("/latent/pmf/vicinity-and-constant", test_vicinity_and_constant);
  g_test_add_func ("/latent/pmf/marginals", test_marginals);
  g_test_add_func ("/latent/pmf/bad-input", test_bad_input);
  return g_test_run ();
}
