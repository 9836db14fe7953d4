/* tl_rng against the Python-integer reference (tests/data/latent/ref_sampler.py,
 * rng_kat.txt) and against splitmix64's published outputs. */
#include "rng.h"
#include "tl-test.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Vigna's splitmix64 from seed 1234567: the widely quoted first outputs. */
static void
test_splitmix64_published (void)
{
  uint64_t s = 1234567;
  g_assert_cmpuint (tl_splitmix64_next (&s), ==, UINT64_C (6457827717110365317));
  g_assert_cmpuint (tl_splitmix64_next (&s), ==, UINT64_C (3203168211198807973));
  g_assert_cmpuint (tl_splitmix64_next (&s), ==, UINT64_C (9817491932198370423));
}

static void
test_known_answers (void)
{
  g_autofree char *path = tl_test_data ("latent/rng_kat.txt");
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  tl_rng rng;
  int seeds = 0, values = 0;
  for (char **l = lines; *l; l++)
    {
      if (**l == '#' || **l == '\0')
        continue;
      if (g_str_has_prefix (*l, "seed "))
        {
          tl_rng_init (&rng, g_ascii_strtoull (*l + 5, NULL, 10));
          seeds++;
          continue;
        }
      char *end;
      uint64_t want = g_ascii_strtoull (*l, &end, 10);
      double want_u = g_ascii_strtod (end, NULL);
      tl_rng copy = rng;
      g_assert_cmpuint (tl_rng_next (&rng), ==, want);
      /* The uniform is the same draw: check it on a copy of the state. */
      g_assert_cmpfloat (tl_rng_uniform (&copy), ==, want_u);
      values++;
    }
  g_assert_cmpint (seeds, ==, 5);
  g_assert_cmpint (values, ==, 40);
}

static void
test_uniform_range_and_discard (void)
{
  tl_rng a, b;
  tl_rng_init (&a, 5);
  tl_rng_init (&b, 5);
  double sum = 0;
  for (int i = 0; i < 100000; i++)
    {
      double u = tl_rng_uniform (&a);
      g_assert_true (u >= 0.0 && u < 1.0);
      sum += u;
    }
  /* Mean of 1e5 uniforms: sd 0.0009, so 0.005 is over five sigma. */
  g_assert_cmpfloat (fabs (sum / 100000 - 0.5), <, 0.005);
  tl_rng_discard (&b, 100000);
  g_assert_cmpuint (tl_rng_next (&a), ==, tl_rng_next (&b));
}

static void
test_normal_moments (void)
{
  tl_rng rng;
  tl_rng_init (&rng, 11);
  double s1 = 0, s2 = 0;
  const int n = 200000;
  for (int i = 0; i < n / 2; i++)
    {
      double z[2];
      tl_rng_normal_pair (&rng, z);
      g_assert_true (isfinite (z[0]) && isfinite (z[1]));
      s1 += z[0] + z[1];
      s2 += z[0] * z[0] + z[1] * z[1];
    }
  /* mean sd 1/sqrt(n) = 0.0022, variance sd sqrt(2/n) = 0.0032. */
  g_assert_cmpfloat (fabs (s1 / n), <, 0.012);
  g_assert_cmpfloat (fabs (s2 / n - 1.0), <, 0.016);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/latent/rng/splitmix64-published", test_splitmix64_published);
  g_test_add_func ("/latent/rng/known-answers", test_known_answers);
  g_test_add_func ("/latent/rng/uniform-range-discard", test_uniform_range_and_discard);
  g_test_add_func ("/latent/rng/normal-moments", test_normal_moments);
  return g_test_run ();
}
