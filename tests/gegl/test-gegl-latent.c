/* tensorlens:latent-samples through the GEGL API: bounding box = grid,
 * pixels = the library's tl_generate_grid, deterministic per seed, decoder
 * runs counted (once per cell, none for a re-read of the cached grid), a
 * warning and nothing rendered for a bad model. Uses the tiny random-weight
 * autoencoder of tests/data/generate. */
#include "generate.h"
#include "tl-test.h"

#include <gegl.h>
#include <gmodule.h>
#include <math.h>
#include <string.h>

#define OP "tensorlens:latent-samples"

static char *card;
static gint64 (*op_forward_count) (void);

static GeglNode *
new_op (GeglNode *g, int seed, int count)
{
  GeglColor *bg = gegl_color_new ("rgba(0.2, 0.4, 0.6, 1.0)");
  GeglNode *op = gegl_node_new_child (g, "operation", OP, "model", card, "seed", seed,
                                      "count", count, "columns", 3, "cell-size", 16,
                                      "spacing", 2, "background", bg, NULL);
  g_object_unref (bg);
  return op;
}

/* The library's parameters for new_op (seed, count). */
static tl_generate_params
library_params (int seed, int count)
{
  tl_generate_params p = tl_generate_default_params ();
  p.seed = (uint64_t) seed;
  p.count = count;
  p.columns = 3;
  p.cell_size = 16;
  p.spacing = 2;
  p.background[0] = 0.2f;
  p.background[1] = 0.4f;
  p.background[2] = 0.6f;
  return p;
}

static void
test_matches_library (void)
{
  g_autoptr (GError) err = NULL;
  g_assert_true (gegl_has_operation (OP));
  g_assert_cmpstr (gegl_operation_get_key (OP, "categories"), ==, "render");
  GeglNode *g = gegl_node_new ();
  GeglNode *op = new_op (g, 42, 7);
  GeglRectangle bb = gegl_node_get_bounding_box (op);
  g_assert_cmpint (bb.x, ==, 0);
  g_assert_cmpint (bb.width, ==, 3 * 16 + 4 * 2);
  g_assert_cmpint (bb.height, ==, 3 * 16 + 4 * 2);

  gint64 n0 = op_forward_count ();
  g_autofree float *px = g_new (float, (size_t) bb.width * bb.height * 4);
  gegl_node_blit (op, 1.0, &bb, babl_format ("R'G'B'A float"), px, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  g_assert_cmpint (op_forward_count () - n0, ==, 7);   /* one decoder run per cell */
  /* a second read comes from GEGL's cache of the whole grid */
  GeglRectangle part = { 10, 10, 20, 20 };
  g_autofree float *px2 = g_new (float, 20 * 20 * 4);
  gegl_node_blit (op, 1.0, &part, babl_format ("R'G'B'A float"), px2, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  g_assert_cmpint (op_forward_count () - n0, ==, 7);

  g_autoptr (tl_model) m = tl_model_get (card, &err);
  g_assert_no_error (err);
  tl_generate_params p = library_params (42, 7);
  g_autoptr (tl_image) ref = tl_generate_grid (m, &p, NULL, NULL, &err);
  g_assert_no_error (err);
  tl_assert_close (px, ref->data, (size_t) bb.width * bb.height * 4, 1e-6);
  for (int y = 0; y < 20; y++)
    tl_assert_close (px2 + y * 20 * 4, ref->data + ((size_t) (10 + y) * bb.width + 10) * 4,
                     20 * 4, 1e-6);

  /* another seed, another grid */
  gegl_node_set (op, "seed", 43, NULL);
  g_autofree float *px3 = g_new (float, (size_t) bb.width * bb.height * 4);
  gegl_node_blit (op, 1.0, &bb, babl_format ("R'G'B'A float"), px3, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  g_assert_cmpint (memcmp (px, px3, sizeof (float) * bb.width * bb.height * 4), !=, 0);
  g_object_unref (g);
}

/* sampler=gmm: the op's seed drives every random choice, the k-means++
 * initialisation of the mixture included, as `tensorlens sample --seed`
 * does (test-gegl-cli.sh compares with the CLI itself): the grid equals the
 * library's with init_seed = seed, and not the one with init_seed 0. */
static void
test_gmm_seed (void)
{
  g_autoptr (GError) err = NULL;
  GeglNode *g = gegl_node_new ();
  GeglNode *op = new_op (g, 7, 9);
  gegl_node_set (op, "sampler", 1 /* gmm */, "components", 3, NULL);
  GeglRectangle bb = gegl_node_get_bounding_box (op);
  size_t n = (size_t) bb.width * bb.height * 4;
  g_autofree float *px = g_new (float, n);
  gegl_node_blit (op, 1.0, &bb, babl_format ("R'G'B'A float"), px, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);

  g_autoptr (tl_model) m = tl_model_get (card, &err);
  g_assert_no_error (err);
  tl_generate_params p = library_params (7, 9);
  p.sampler.kind = TL_SAMPLER_GMM;
  p.sampler.gmm.components = 3;
  p.sampler.gmm.init_seed = 7;
  g_autoptr (tl_image) ref = tl_generate_grid (m, &p, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_cmpint (ref->width, ==, bb.width);
  tl_assert_close (px, ref->data, n, 1e-6);
  p.sampler.gmm.init_seed = 0;   /* the op's old, seed-blind initialisation */
  g_autoptr (tl_image) old = tl_generate_grid (m, &p, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_cmpint (memcmp (px, old->data, n * sizeof (float)), !=, 0);
  g_object_unref (g);
}

static int
default_int (const char *prop)
{
  GParamSpec *ps = gegl_operation_find_property (OP, prop);
  g_assert_nonnull (ps);
  return G_PARAM_SPEC_INT (ps)->default_value;
}

/* The op's defaults are the library's (one place for defaults). */
static void
test_defaults (void)
{
  tl_generate_params p = tl_generate_default_params ();
  g_assert_cmpint (default_int ("levels"), ==, p.sampler.pmf.levels);
  g_assert_cmpint (default_int ("radius"), ==, p.sampler.pmf.radius);
  g_assert_cmpint (default_int ("components"), ==, p.sampler.gmm.components);
  g_assert_cmpint (default_int ("count"), ==, p.count);
  g_assert_cmpint (default_int ("columns"), ==, p.columns);
  g_assert_cmpint (default_int ("cell-size"), ==, p.cell_size);
  g_assert_cmpint (default_int ("spacing"), ==, p.spacing);
}

static void
test_bad_model (void)
{
  GeglNode *g = gegl_node_new ();
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING, "*latent-samples: model 'nope'*");
  GeglNode *op = gegl_node_new_child (g, "operation", OP, "model", "nope", NULL);
  GeglRectangle bb = gegl_node_get_bounding_box (op);
  g_test_assert_expected_messages ();
  g_assert_cmpint (bb.width, ==, 0);
  /* not an autoencoder */
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING, "*not an autoencoder*");
  gegl_node_set (op, "model", "emotion", NULL);
  bb = gegl_node_get_bounding_box (op);
  g_test_assert_expected_messages ();
  g_assert_cmpint (bb.width, ==, 0);
  g_object_unref (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gegl_init (NULL, NULL);
  card = tl_test_data ("generate/tiny-ae.json");
  const char *dir = g_getenv ("TL_GEGL_OPS_DIR");
  g_autofree char *so = g_build_filename (dir ? dir : ".", "tensorlens-latent-samples.so", NULL);
  GModule *mod = g_module_open (so, G_MODULE_BIND_LAZY);
  g_assert_nonnull (mod);
  g_assert_true (g_module_symbol (mod, "tensorlens_latent_samples_forward_count",
                                  (gpointer *) &op_forward_count));
  g_test_add_func ("/gegl/latent-samples/matches-library", test_matches_library);
  g_test_add_func ("/gegl/latent-samples/gmm-seed", test_gmm_seed);
  g_test_add_func ("/gegl/latent-samples/defaults", test_defaults);
  g_test_add_func ("/gegl/latent-samples/bad-model", test_bad_model);
  int r = g_test_run ();
  g_module_close (mod);
  tl_generate_cache_clear ();
  tl_model_cache_clear ();
  gegl_exit ();
  g_free (card);
  return r;
}
