/* The explanation pipeline against its pieces' own outputs: preprocess ->
 * tl_net_run with a tap -> tl_saliency_map_from_features -> unmap; the
 * feature cache (forward passes counted); bad input. */
#include "explain.h"

#include "error.h"
#include "gradcam.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>

static char *models_dir;

static tl_image *
load_photo (const char *name)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *p = g_build_filename (models_dir, "photos", name, NULL);
  tl_image *img = tl_image_load (p, &err);
  g_assert_no_error (err);
  return img;
}

/* The same computation done by hand with the pieces. */
static tl_tensor *
reference_map (tl_model *m, const tl_image *img, const tl_saliency_params *params,
               const char *layer)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_tensor) x = tl_preprocess (tl_model_preprocess (m), img, NULL, &err);
  g_assert_no_error (err);
  const tl_tensor *in[1] = { x };
  const char *taps[1] = { layer };
  tl_net_result *r = tl_net_run (tl_model_net (m, NULL), in, 1, taps, 1, 0, &err);
  g_assert_no_error (err);
  tl_tensor *map = NULL;
  tl_saliency_params p = *params;
  g_assert_true (tl_saliency_map_from_features (tl_net_result_get (r, layer), &p, &map, &err));
  g_assert_no_error (err);
  tl_net_result_free (r);
  return map;
}

static double
max_abs_diff (const float *a, const float *b, size_t n)
{
  double d = 0;
  for (size_t i = 0; i < n; i++)
    d = fmax (d, fabs ((double) a[i] - b[i]));
  return d;
}

/* Strip-wise resizing is the separable resize in another order: the inputs
 * agree to float rounding, and so do the maps. Checked for every method on a
 * non-square photo (the resize is a real downscale on both axes). */
static void
test_matches_pieces (gconstpointer data)
{
  const char *model = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = tl_model_load (model, &err);
  g_assert_no_error (err);
  g_autoptr (tl_image) img = load_photo ("coffee.jpg");
  for (int method = TL_SALIENCY_EIGENCAM; method <= TL_SALIENCY_MTSM; method++)
    {
      tl_explain_params p = tl_explain_default_params ();
      p.saliency.method = method;
      g_autoptr (tl_explanation) ex = tl_explain_image (m, img, &p, NULL, NULL, NULL, &err);
      g_assert_no_error (err);
      g_assert_cmpstr (ex->layer, ==, tl_model_default_layer (m));
      g_assert_false (ex->from_cache);
      g_autoptr (tl_tensor) ref = reference_map (m, img, &p.saliency, ex->layer);
      g_assert_true (tl_tensor_same_shape (ref, ex->map));
      double d = max_abs_diff (ref->data, ex->map->data, tl_tensor_numel (ref));
      if (g_test_verbose ())
        g_printerr ("%s %s: max |map - reference| = %.3g\n", model,
                    tl_saliency_method_name (method), d);
      g_assert_cmpfloat (d, <=, 1e-6);

      /* full-size map = the pieces' unmap of the map */
      g_autofree float *full = tl_explanation_full_map (ex, &err);
      g_assert_no_error (err);
      g_autofree float *want = g_new (float, (size_t) img->width * img->height);
      tl_preprocess_geometry g = tl_preprocess_geometry_for (tl_model_preprocess (m),
                                                             img->width, img->height);
      g_assert_true (tl_preprocess_unmap (&g, ex->map->data, (int) ex->map->shape[1],
                                          (int) ex->map->shape[0], want, &err));
      g_assert_cmpfloat (max_abs_diff (full, want, (size_t) img->width * img->height), ==, 0);
      for (size_t i = 0; i < (size_t) img->width * img->height; i++)
        g_assert_true (full[i] >= 0 && full[i] <= 1);
    }
}

/* The rendering helpers agree with the row sampler. */
static void
test_render (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = tl_model_load ("emotion", &err);
  g_autoptr (tl_image) img = load_photo ("chelsea.jpg");
  tl_explain_params p = tl_explain_default_params ();
  p.saliency.method = TL_SALIENCY_TSM;
  g_autoptr (tl_explanation) ex = tl_explain_image (m, img, &p, NULL, NULL, NULL, &err);
  g_assert_no_error (err);
  tl_render_params rp = tl_render_default_params ();
  rp.mode = TL_RENDER_MAP;
  g_autoptr (tl_image) out = tl_explanation_render (ex, img, &rp, &err);
  g_assert_no_error (err);
  g_assert_cmpint (out->channels, ==, 1);
  tl_map_sampler *s = tl_explanation_sampler (ex, &err);
  g_assert_no_error (err);
  g_autofree float *row = g_new (float, img->width);
  for (int y = 0; y < img->height; y += 37)
    {
      tl_map_sampler_row (s, y, row);
      tl_assert_close (out->data + (size_t) y * img->width, row, img->width, 1e-6);
    }
  tl_map_sampler_free (s);

  g_autoptr (tl_image) small = tl_image_new (10, 10, 3, NULL);
  g_assert_null (tl_explanation_render (ex, small, &rp, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
}

static int n_progress;
static double last_fraction;

static void
progress (double f, const char *stage, void *user)
{
  g_assert_true (user == &n_progress);
  g_assert_nonnull (stage);
  g_assert_cmpfloat (f, >=, last_fraction);
  g_assert_cmpfloat (f, <=, 1.0);
  last_fraction = f;
  n_progress++;
}

/* Features are cached by (image content, model, layer): the method and its
 * parameters can change without a forward pass; a one-pixel change or
 * another layer needs one. */
static void
test_cache (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = tl_model_load ("emotion", &err);
  g_autoptr (tl_image) img = load_photo ("chelsea.jpg");
  tl_explain_cache *cache = tl_explain_cache_new (2);
  tl_explain_params p = tl_explain_default_params ();

  int64_t n0 = tl_model_forward_count ();
  n_progress = 0;
  last_fraction = 0;
  tl_explanation *a = tl_explain_image (m, img, &p, cache, progress, &n_progress, &err);
  g_assert_no_error (err);
  g_assert_cmpint (tl_model_forward_count (), ==, n0 + 1);
  g_assert_cmpint (n_progress, >, 2);
  g_assert_cmpfloat (last_fraction, ==, 1.0);

  p.saliency.method = TL_SALIENCY_MTSM;
  p.saliency.ranks[0] = 4;
  tl_explanation *b = tl_explain_image (m, img, &p, cache, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_true (b->from_cache);
  g_assert_cmpint (tl_model_forward_count (), ==, n0 + 1);
  g_assert_true (a->digest[0] == b->digest[0] && a->digest[1] == b->digest[1]);

  /* same answer as without the cache */
  tl_explanation *c = tl_explain_image (m, img, &p, NULL, NULL, NULL, &err);
  g_assert_cmpint (tl_model_forward_count (), ==, n0 + 2);
  g_assert_cmpfloat (max_abs_diff (b->map->data, c->map->data, tl_tensor_numel (c->map)), ==, 0);

  img->data[12345] = img->data[12345] > 0.5f ? 0.0f : 1.0f;
  tl_explanation *d = tl_explain_image (m, img, &p, cache, NULL, NULL, &err);
  g_assert_false (d->from_cache);
  g_assert_cmpint (tl_model_forward_count (), ==, n0 + 3);
  g_assert_true (d->digest[0] != a->digest[0] || d->digest[1] != a->digest[1]);
  g_assert_cmpint (tl_explain_cache_size (cache), ==, 2);

  /* another layer of the same image */
  p.saliency.layer = "StatefulPartitionedCall/model_1/add_1/add";
  tl_explanation *e = tl_explain_image (m, img, &p, cache, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_false (e->from_cache);
  g_assert_cmpstr (e->layer, ==, p.saliency.layer);
  g_assert_cmpint (tl_model_forward_count (), ==, n0 + 4);
  g_assert_cmpint (tl_explain_cache_size (cache), ==, 2);   /* capacity holds */

  tl_explanation_free (a);
  tl_explanation_free (b);
  tl_explanation_free (c);
  tl_explanation_free (d);
  tl_explanation_free (e);
  tl_explain_cache_free (cache);
}

/* Grad-CAM / Grad-CAM++ by hand: forward with backward, the card's score
 * (a logit, or a class's heat-map sum), the engine's gradient, the
 * saliency module's baseline maths. */
static tl_tensor *
reference_gradcam (tl_model *m, const tl_image *img, const char *layer, int target,
                   gboolean plus_plus)
{
  g_autoptr (GError) err = NULL;
  const tl_card *card = tl_model_card (m);
  g_autoptr (tl_tensor) x = tl_preprocess (tl_model_preprocess (m), img, NULL, &err);
  g_assert_no_error (err);
  const tl_tensor *in[1] = { x };
  const char *taps[2] = { layer, card->score_tensor };
  tl_net_result *r = tl_net_run (tl_model_net (m, NULL), in, 1, taps, 2, TL_NET_RUN_BACKWARD,
                                 &err);
  g_assert_no_error (err);
  const tl_tensor *S = tl_net_result_get (r, card->score_tensor);
  g_autoptr (tl_tensor) dF = NULL;
  if (card->score_kind == TL_SCORE_LOGIT)
    dF = tl_net_result_grad_logit (r, layer, card->score_tensor, target, &err);
  else
    {
      g_autoptr (tl_tensor) dy = tl_tensor_new (S->ndim, S->shape, &err);
      int64_t plane = S->shape[2] * S->shape[3];
      for (int64_t i = 0; i < plane; i++)
        dy->data[target * plane + i] = 1.0f;
      dF = tl_net_result_grad (r, layer, card->score_tensor, dy, &err);
    }
  g_assert_no_error (err);
  tl_tensor *map = NULL;
  const tl_tensor *F = tl_net_result_get (r, layer);
  g_assert_true (plus_plus ? tl_gradcampp_map (F, dF, &map, NULL, &err)
                           : tl_gradcam_map (F, dF, &map, NULL, &err));
  tl_net_result_free (r);
  return map;
}

static void
test_gradcam (gconstpointer data)
{
  const char *model = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = tl_model_load (model, &err);
  g_assert_no_error (err);
  g_autoptr (tl_image) img = load_photo ("astronaut.jpg");
  const char *layer = tl_model_default_layer (m);
  tl_explain_cache *cache = tl_explain_cache_new (4);
  int64_t n0 = tl_model_forward_count ();

  tl_explain_params p = tl_explain_default_params ();
  g_assert_true (tl_explain_method_from_name ("gradcam", &p, &err));
  g_assert_cmpint (p.kind, ==, TL_EXPLAIN_GRADCAM);
  tl_explanation *a = tl_explain_image (m, img, &p, cache, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_cmpint (a->target, >=, 0);   /* the predicted class */
  g_autoptr (tl_tensor) ref = reference_gradcam (m, img, layer, a->target, FALSE);
  g_assert_true (tl_tensor_same_shape (ref, a->map));
  tl_assert_close (a->map->data, ref->data, tl_tensor_numel (ref), 1e-6);
  g_assert_cmpint (tl_model_forward_count () - n0, ==, 1);

  /* Grad-CAM++ of the same class reuses features and gradient */
  g_assert_true (tl_explain_method_from_name ("gradcam-plus-plus", &p, &err));
  tl_explanation *b = tl_explain_image (m, img, &p, cache, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_true (b->from_cache);
  g_assert_cmpint (b->target, ==, a->target);
  g_assert_cmpint (tl_model_forward_count () - n0, ==, 1);
  g_autoptr (tl_tensor) refpp = reference_gradcam (m, img, layer, a->target, TRUE);
  tl_assert_close (b->map->data, refpp->data, tl_tensor_numel (refpp), 1e-6);

  /* another class: another backward pass, another map */
  p.saliency.target = a->target == 0 ? 1 : 0;
  tl_explanation *c = tl_explain_image (m, img, &p, cache, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_false (c->from_cache);
  g_assert_cmpint (c->target, ==, p.saliency.target);
  g_assert_cmpint (tl_model_forward_count () - n0, ==, 2);
  g_autoptr (tl_tensor) refc = reference_gradcam (m, img, layer, c->target, TRUE);
  tl_assert_close (c->map->data, refc->data, tl_tensor_numel (refc), 1e-6);

  /* a class the model does not have */
  p.saliency.target = 100000;
  g_assert_null (tl_explain_image (m, img, &p, cache, NULL, NULL, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "target 100000"));
  g_clear_error (&err);

  tl_explanation_free (a);
  tl_explanation_free (b);
  tl_explanation_free (c);
  tl_explain_cache_free (cache);
}

/* An embedding model has no class score: a clear refusal. */
static void
test_gradcam_embedding (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = tl_model_load ("faceres", &err);
  g_assert_no_error (err);
  g_autoptr (tl_image) img = load_photo ("chelsea.jpg");
  tl_explain_params p = tl_explain_default_params ();
  p.kind = TL_EXPLAIN_GRADCAM;
  g_assert_null (tl_explain_image (m, img, &p, NULL, NULL, NULL, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (err->message, "faceres"));
  g_clear_error (&err);
  g_assert_false (tl_explain_method_from_name ("scorecam", &p, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
}

static gboolean
failing_rows (void *user, int y, int n, float *rgb, GError **error)
{
  (void) user; (void) n;
  memset (rgb, 0, sizeof (float) * 3);
  if (y >= 64)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "row %d: read failed", y);
      return FALSE;
    }
  return TRUE;
}

static gboolean
nan_rows (void *user, int y, int n, float *rgb, GError **error)
{
  (void) user; (void) y; (void) error;
  for (int i = 0; i < 100 * n * 3; i++)
    rgb[i] = (i % 7) ? NAN : (float) (i % 13) / 6.0f;   /* NaN and values above 1 */
  return TRUE;
}

static void
test_bad_input (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = tl_model_load ("emotion", &err);
  g_autoptr (tl_image) img = load_photo ("chelsea.jpg");
  tl_explain_params p = tl_explain_default_params ();

  p.saliency.layer = "no/such/layer";
  g_assert_null (tl_explain_image (m, img, &p, NULL, NULL, NULL, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "no/such/layer"));
  g_assert_nonnull (strstr (err->message, "emotion"));
  g_clear_error (&err);

  /* the logits are 2-D: nothing spatial to explain */
  p.saliency.layer = tl_card_output (tl_model_card (m), "logits");
  g_assert_null (tl_explain_image (m, img, &p, NULL, NULL, NULL, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "H, W > 1"));
  g_clear_error (&err);

  p = tl_explain_default_params ();
  p.saliency.sweeps = -3;
  g_assert_null (tl_explain_image (m, img, &p, NULL, NULL, NULL, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);

  p = tl_explain_default_params ();
  g_assert_null (tl_explain_rows (m, 100, 200, failing_rows, NULL, &p, NULL, NULL, NULL, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_IO);
  g_assert_nonnull (strstr (err->message, "row 64"));
  g_clear_error (&err);

  g_assert_null (tl_explain_rows (m, 0, 200, failing_rows, NULL, &p, NULL, NULL, NULL, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&err);
  g_assert_null (tl_explain_rows (m, 1 << 20, 1 << 20, failing_rows, NULL, &p, NULL, NULL, NULL,
                                  &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&err);

  /* NaN and out-of-range pixels are cleaned, never propagated */
  g_autoptr (tl_explanation) ex = tl_explain_rows (m, 100, 80, nan_rows, NULL, &p, NULL, NULL,
                                                   NULL, &err);
  g_assert_no_error (err);
  for (int64_t i = 0; i < tl_tensor_numel (ex->map); i++)
    g_assert_true (ex->map->data[i] >= 0 && ex->map->data[i] <= 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *root = g_getenv ("TL_SOURCE_ROOT");
  models_dir = g_build_filename (root ? root : ".", "models", NULL);
  g_setenv ("TENSORLENS_MODELS_DIR", models_dir, TRUE);
  g_test_add_data_func ("/explain/matches-pieces/emotion", "emotion", test_matches_pieces);
  g_test_add_data_func ("/explain/matches-pieces/centernet", "centernet", test_matches_pieces);
  g_test_add_func ("/explain/render", test_render);
  g_test_add_func ("/explain/cache", test_cache);
  g_test_add_func ("/explain/bad-input", test_bad_input);
  g_test_add_data_func ("/explain/gradcam/emotion", "emotion", test_gradcam);
  g_test_add_data_func ("/explain/gradcam/centernet", "centernet", test_gradcam);
  g_test_add_func ("/explain/gradcam/embedding", test_gradcam_embedding);
  int r = g_test_run ();
  g_free (models_dir);
  return r;
}
