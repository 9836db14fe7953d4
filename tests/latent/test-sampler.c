/* The sampler front door: each kind fits and samples like its own module,
 * batches stream the same samples, and sizes are refused before any
 * allocation. */
#include "error.h"
#include "npy.h"
#include "sampler.h"
#include "tl-test.h"

#include <string.h>

static tl_tensor *
bank (void)
{
  g_autofree char *p = tl_test_data ("latent/pmf_bank.npy");
  GError *e = NULL;
  tl_tensor *t = tl_npy_load (p, &e);
  g_assert_no_error (e);
  return t;
}

static void
test_kind_names (void)
{
  tl_sampler_kind k;
  const char *names[] = { "pmf", "gmm", "gaussian", "prior" };
  for (int i = 0; i < 4; i++)
    {
      g_assert_true (tl_sampler_kind_from_name (names[i], &k, NULL));
      g_assert_cmpstr (tl_sampler_kind_name (k), ==, names[i]);
    }
  GError *e = NULL;
  g_assert_false (tl_sampler_kind_from_name ("vae", &k, &e));
  g_assert_nonnull (strstr (e->message, "'vae' is not one of pmf, gmm, gaussian, prior"));
  g_clear_error (&e);
}

/* The PMF front door gives the reference fixture's bits. */
static void
test_pmf_through_front_door (void)
{
  g_autoptr (tl_tensor) z = bank ();
  tl_sampler_params p = tl_sampler_default_params ();
  p.pmf.levels = 8;
  p.pmf.radius = 1;
  GError *e = NULL;
  g_autoptr (tl_sampler) s = tl_sampler_fit (z, &p, NULL, NULL, &e);
  g_assert_no_error (e);
  g_autoptr (tl_tensor) got = tl_sampler_sample_tensor (s, 42, 0, 300, &e);
  g_assert_no_error (e);
  g_autofree char *path = tl_test_data ("latent/pmf_q8_r1_s42.npy");
  g_autoptr (tl_tensor) want = tl_npy_load (path, &e);
  g_assert_cmpmem (got->data, 1500 * sizeof (float), want->data, 1500 * sizeof (float));
}

typedef struct { float *all; int64_t d, calls, next; } collect;

static gboolean
on_batch (const float *z, int64_t first, int64_t count, int64_t d, gpointer data, GError **error)
{
  collect *c = data;
  g_assert_cmpint (first, ==, c->next);
  memcpy (c->all + (first - 10) * d, z, count * d * sizeof (float));
  c->next = first + count;
  c->calls++;
  (void) error;
  return TRUE;
}

static gboolean
on_batch_fail (const float *z, int64_t first, int64_t count, int64_t d, gpointer data,
               GError **error)
{
  (void) z, (void) first, (void) count, (void) d, (void) data;
  g_set_error (error, TL_ERROR, TL_ERROR_IO, "decoder said no");
  return FALSE;
}

/* Every kind: batches of 7 from index 10 equal one call for [10, 110). */
static void
test_batches_equal_whole (void)
{
  g_autoptr (tl_tensor) z = bank ();
  for (int kind = TL_SAMPLER_PMF; kind <= TL_SAMPLER_PRIOR; kind++)
    {
      tl_sampler_params p = tl_sampler_default_params ();
      p.kind = kind;
      p.gmm.components = 3;
      GError *e = NULL;
      g_autoptr (tl_sampler) s = tl_sampler_fit (z, &p, NULL, NULL, &e);
      g_assert_no_error (e);
      g_assert_cmpint (tl_sampler_dim (s), ==, 5);
      g_assert_true ((tl_sampler_gmm (s) == NULL) == (kind == TL_SAMPLER_PMF));
      if (kind == TL_SAMPLER_GAUSSIAN)
        g_assert_cmpint (tl_gmm_components (tl_sampler_gmm (s)), ==, 1);
      g_autoptr (tl_tensor) whole = tl_sampler_sample_tensor (s, 5, 10, 100, &e);
      g_assert_no_error (e);
      collect c = { g_new (float, 500), 5, 0, 10 };
      g_assert_true (tl_sampler_sample_batches (s, 5, 10, 100, 7, on_batch, &c, &e));
      g_assert_no_error (e);
      g_assert_cmpint (c.calls, ==, 15);
      g_assert_cmpmem (c.all, 500 * sizeof (float), whole->data, 500 * sizeof (float));
      g_free (c.all);
      g_assert_false (tl_sampler_sample_batches (s, 5, 0, 100, 7, on_batch_fail, NULL, &e));
      g_assert_error (e, TL_ERROR, TL_ERROR_IO);
      g_clear_error (&e);
    }
}

static void
test_bad_input (void)
{
  g_autoptr (tl_tensor) z = bank ();
  tl_sampler_params p = tl_sampler_default_params ();
  GError *e = NULL;
  g_autoptr (tl_sampler) s = tl_sampler_fit (z, &p, NULL, NULL, &e);
  g_assert_no_error (e);

  /* A billion samples of d = 5 is 20 GB: refused before allocating. */
  g_assert_null (tl_sampler_sample_tensor (s, 1, 0, 1000000000, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_NOMEM);
  g_assert_nonnull (strstr (e->message, "count: 1000000000 samples"));
  g_clear_error (&e);
  g_assert_null (tl_sampler_sample_tensor (s, 1, 0, 0, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  g_assert_null (tl_sampler_sample_tensor (s, 1, G_MAXINT64 / 2, 10, &e));
  g_assert_nonnull (strstr (e->message, "too far into the stream"));
  g_clear_error (&e);
  g_assert_false (tl_sampler_sample_batches (s, 1, 0, 10, 0, on_batch_fail, NULL, &e));
  g_assert_nonnull (strstr (e->message, "batch: 0"));
  g_clear_error (&e);

  int64_t shape[3] = { 2, 3, 4 };
  g_autoptr (tl_tensor) cube = tl_tensor_new (3, shape, NULL);
  g_assert_null (tl_sampler_fit (cube, &p, NULL, NULL, &e));
  g_assert_nonnull (strstr (e->message, "need a contiguous 2-D array"));
  g_clear_error (&e);

  p.kind = TL_SAMPLER_GMM;
  p.gmm.components = 500;   /* k > n = 200 */
  g_assert_null (tl_sampler_fit (z, &p, NULL, NULL, &e));
  g_assert_nonnull (strstr (e->message, "components: 500 is more than the 200 latents"));
  g_clear_error (&e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/latent/sampler/kind-names", test_kind_names);
  g_test_add_func ("/latent/sampler/pmf-through-front-door", test_pmf_through_front_door);
  g_test_add_func ("/latent/sampler/batches-equal-whole", test_batches_equal_whole);
  g_test_add_func ("/latent/sampler/bad-input", test_bad_input);
  return g_test_run ();
}
