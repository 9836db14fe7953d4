/* `tensorlens saliency MODEL IMAGE` writes exactly what the library
 * computes: the CLI is run as a child process and its .npy map is compared
 * with tl_explain_image / tl_explain_labelled + tl_explanation_full_map in
 * this process, its overlay PNG with tl_explanation_render. argv[1] (after
 * the GLib test options) is the tensorlens binary. */
#include "explain-labelled.h"
#include "explain.h"

#include "error.h"
#include "gradcam.h"
#include "resize.h"
#include "scorecam.h"
#include "npy.h"
#include "tl-test.h"

#include <glib/gstdio.h>

#include <math.h>
#include <string.h>

static const char *tensorlens;
static char *tmpdir;

typedef struct {
  const char *model;      /* path under tests/data, or a bundled name */
  const char *image;      /* path under tests/data, or under models/photos */
  const char *method;
  const char *extra;      /* more CLI options, space-separated, or NULL */
} cli_case;

static char *
resolve (const char *rel, gboolean photo)
{
  if (strchr (rel, '/') == NULL && !photo)
    return g_strdup (rel);   /* a bundled model name */
  if (photo && strchr (rel, '/') == NULL)
    return g_build_filename (g_getenv ("TL_SOURCE_ROOT"), "models", "photos", rel, NULL);
  return tl_test_data (rel);
}

/* Runs the CLI, returns the map it wrote (image size). */
static tl_tensor *
run_cli (const cli_case *c, const char *model, const char *image, const char *overlay)
{
  g_autofree char *out = g_build_filename (tmpdir, "map.npy", NULL);
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) tensorlens);
  g_ptr_array_add (argv, "saliency");
  g_ptr_array_add (argv, (char *) model);
  g_ptr_array_add (argv, (char *) image);
  g_ptr_array_add (argv, "--method");
  g_ptr_array_add (argv, (char *) c->method);
  g_ptr_array_add (argv, "--output");
  g_ptr_array_add (argv, out);
  g_auto (GStrv) extra = g_strsplit (c->extra ? c->extra : "", " ", -1);
  for (char **e = extra; *e; e++)
    if (**e)
      g_ptr_array_add (argv, *e);
  if (overlay)
    {
      g_ptr_array_add (argv, "--overlay");
      g_ptr_array_add (argv, (char *) overlay);
    }
  g_ptr_array_add (argv, NULL);
  g_autofree char *err_text = NULL;
  int status = 0;
  g_autoptr (GError) err = NULL;
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                NULL, &err_text, &status, &err);
  g_ptr_array_free (argv, TRUE);
  g_assert_no_error (err);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("tensorlens failed: %s", err_text);
  tl_tensor *map = tl_npy_load (out, &err);
  g_assert_no_error (err);
  return map;
}

static void
test_cli_equals_library (gconstpointer data)
{
  const cli_case *c = data;
  g_autoptr (GError) err = NULL;
  g_autofree char *model_path = resolve (c->model, FALSE);
  g_autofree char *image_path = resolve (c->image, TRUE);
  g_autofree char *overlay = g_build_filename (tmpdir, "overlay.png", NULL);
  g_autoptr (tl_tensor) cli = run_cli (c, model_path, image_path, overlay);

  g_autoptr (tl_model) model = tl_model_load (model_path, &err);
  g_assert_no_error (err);
  g_autoptr (tl_image) img = tl_image_load (image_path, &err);
  g_assert_no_error (err);
  g_autoptr (tl_explanation) ex = NULL;
  tl_labelled_method lm;
  if (tl_labelled_method_lookup (c->method, &lm) && lm != TL_LABELLED_SCORECAM)
    {
      /* Grad-CAM(++) on classifiers and detectors: tl_explain's */
      tl_explain_params p = tl_explain_default_params ();
      p.kind = lm == TL_LABELLED_GRADCAM ? TL_EXPLAIN_GRADCAM : TL_EXPLAIN_GRADCAM_PLUS_PLUS;
      ex = tl_explain_image (model, img, &p, NULL, NULL, NULL, &err);
    }
  else if (tl_labelled_method_lookup (c->method, &lm))
    {
      tl_labelled_params lp = tl_labelled_default_params ();
      lp.method = lm;
      ex = tl_explain_labelled (model, img, &lp, NULL, NULL, NULL, &err);
    }
  else
    {
      tl_explain_params p = tl_explain_default_params ();
      g_assert_true (tl_saliency_method_from_name (c->method, &p.saliency.method, NULL));
      if (c->extra && strstr (c->extra, "--ranks 6,5,6"))
        p.saliency.ranks[0] = 6, p.saliency.ranks[1] = 5, p.saliency.ranks[2] = 6;
      ex = tl_explain_image (model, img, &p, NULL, NULL, NULL, &err);
    }
  g_assert_no_error (err);
  g_autofree float *full = tl_explanation_full_map (ex, &err);
  g_assert_no_error (err);

  g_assert_cmpint (cli->ndim, ==, 2);
  g_assert_cmpint (cli->shape[0], ==, img->height);
  g_assert_cmpint (cli->shape[1], ==, img->width);
  size_t n = (size_t) img->width * img->height;
  g_assert_cmpmem (cli->data, n * sizeof (float), full, n * sizeof (float));
  float mx = 0;
  for (size_t i = 0; i < n; i++)
    mx = fmaxf (mx, full[i]);
  g_assert_cmpfloat (mx, >, 0.5f);   /* a real map, not an empty one */

  /* the overlay: 8-bit PNG of tl_explanation_render */
  tl_render_params rp = tl_render_default_params ();
  g_autoptr (tl_image) want = tl_explanation_render (ex, img, &rp, &err);
  g_assert_no_error (err);
  g_autoptr (tl_image) got = tl_image_load (overlay, &err);
  g_assert_no_error (err);
  g_assert_cmpint (got->channels, ==, want->channels);
  g_assert_cmpint (got->width, ==, want->width);
  for (size_t i = 0; i < n * want->channels; i++)
    if (fabsf (got->data[i] - roundf (want->data[i] * 255.0f) / 255.0f) > 0.5f / 255.0f + 1e-6f)
      g_error ("overlay sample %zu: %g vs %g", i, got->data[i], want->data[i]);
}

/* tl_explain_labelled against the pieces: engine forward + backward of the
 * cosine to the reference's embedding, tl_gradcam_map / tl_gradcampp_map,
 * and for Score-CAM tl_scorecam_masks + the engine's scores of x ⊙ M_k +
 * tl_scorecam_map: the saliency module's own maths on the engine's
 * tensors. The images are at the input size, so no resize is involved. */
static tl_tensor *
input_of (tl_model *m, const char *rel, gboolean normalise)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *path = tl_test_data (rel);
  g_autoptr (tl_image) img = tl_image_load (path, &err);
  g_assert_no_error (err);
  tl_tensor *x = tl_model_pixels (m, img, NULL, &err);
  g_assert_no_error (err);
  if (normalise)
    g_assert_true (tl_preprocess_normalize (tl_model_preprocess (m), x->data, 1, NULL));
  return x;
}

static gboolean
up1 (const float *src, int sw, int sh, float *dst, int dw, int dh, void *user, GError **error)
{
  (void) user;
  return tl_resample (src, sw, sh, 1, dst, dw, dh, TL_RESAMPLE_HALF_PIXEL, error);
}

static void
test_labelled_pieces (gconstpointer data)
{
  tl_labelled_method method = GPOINTER_TO_INT (data);
  g_autoptr (GError) err = NULL;
  g_autofree char *card = tl_test_data ("cli/tinyemb.json");
  g_autoptr (tl_model) m = tl_model_load (card, &err);
  g_assert_no_error (err);
  tl_net *net = tl_model_net (m, NULL);
  const char *layer = tl_model_default_layer (m), *out = "embedding";
  g_autoptr (tl_tensor) x = input_of (m, "cli/photo.png", TRUE);
  g_autoptr (tl_tensor) xr = input_of (m, "cli/ref.png", TRUE);
  const char *taps[2] = { layer, out };
  tl_net_result *rr = tl_net_run1 (net, xr, taps + 1, 1, 0, &err);
  g_assert_no_error (err);
  float v[10];
  g_assert_cmpint (tl_tensor_numel (tl_net_result_get (rr, out)), ==, 10);
  tl_tensor_gather (tl_net_result_get (rr, out), v);
  tl_net_result_free (rr);
  tl_net_result *r = tl_net_run1 (net, x, taps, 2, TL_NET_RUN_BACKWARD, &err);
  g_assert_no_error (err);
  const tl_tensor *F = tl_net_result_get (r, layer);
  g_autoptr (tl_tensor) want = NULL;
  if (method == TL_LABELLED_SCORECAM)
    {
      /* Score-CAM compares with the image's own embedding */
      float v0[10];
      tl_tensor_gather (tl_net_result_get (r, out), v0);
      int C = (int) F->shape[1], ch[64];
      g_assert_cmpint (tl_scorecam_select_channels (F, 0, ch, &err), ==, C);
      g_autoptr (tl_tensor) px = input_of (m, "cli/photo.png", FALSE);
      g_autofree float *masks = g_new (float, (size_t) C * 32 * 32);
      g_assert_true (tl_scorecam_masks (F, ch, C, 32, 32, up1, NULL, masks, &err));
      double y[64];
      for (int k = 0; k < C; k++)
        {
          g_autoptr (tl_tensor) xk = tl_tensor_copy (px, NULL);
          for (int i = 0; i < 3 * 32 * 32; i++)
            xk->data[i] *= masks[k * 1024 + i % 1024];
          tl_preprocess_normalize (tl_model_preprocess (m), xk->data, 1, NULL);
          tl_net_result *rk = tl_net_run1 (net, xk, taps + 1, 1, 0, &err);
          g_assert_no_error (err);
          float e[10];
          tl_tensor_gather (tl_net_result_get (rk, out), e);
          double ab = 0, aa = 0, bb = 0;
          for (int i = 0; i < 10; i++)
            ab += (double) e[i] * v0[i], aa += (double) e[i] * e[i], bb += (double) v0[i] * v0[i];
          y[k] = ab / (sqrt (aa) * sqrt (bb));
          tl_net_result_free (rk);
        }
      g_assert_true (tl_scorecam_map (F, ch, y, C, &want, NULL, &err));
    }
  else
    {
      g_autoptr (tl_tensor) dF = tl_net_result_grad_cosine (r, layer, out, v, 10, NULL, &err);
      g_assert_no_error (err);
      if (method == TL_LABELLED_GRADCAM)
        g_assert_true (tl_gradcam_map (F, dF, &want, NULL, &err));
      else
        g_assert_true (tl_gradcampp_map (F, dF, &want, NULL, &err));
    }
  g_assert_no_error (err);
  tl_net_result_free (r);

  g_autofree char *img_path = tl_test_data ("cli/photo.png");
  g_autofree char *ref_path = tl_test_data ("cli/ref.png");
  g_autoptr (tl_image) img = tl_image_load (img_path, NULL);
  g_autoptr (tl_image) ref = tl_image_load (ref_path, NULL);
  tl_labelled_params lp = tl_labelled_default_params ();
  lp.method = method;
  lp.reference = method == TL_LABELLED_SCORECAM ? NULL : ref;
  lp.batch = 5;   /* a short last batch */
  g_autoptr (tl_explanation) ex = tl_explain_labelled (m, img, &lp, NULL, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_cmpint (tl_tensor_numel (ex->map), ==, tl_tensor_numel (want));
  float mx = 0;
  for (int64_t i = 0; i < tl_tensor_numel (want); i++)
    mx = fmaxf (mx, want->data[i]);
  g_assert_cmpfloat (mx, ==, 1.0f);
  tl_assert_close (ex->map->data, want->data, tl_tensor_numel (want), 1e-6);
}

static const cli_case cases[] = {
  { "cli/tinycls.json", "cli/wide.png", "eigencam", NULL },
  { "cli/tinycls.json", "cli/wide.png", "multivec-eigencam", NULL },
  { "cli/tinycls.json", "cli/wide.png", "tsm", "--ranks 6,5,6" },
  { "cli/tinycls.json", "cli/wide.png", "mtsm", NULL },
  { "cli/tinycls.json", "cli/wide.png", "gradcam", NULL },
  { "cli/tinydet.json", "cli/wide.png", "gradcam++", NULL },
  { "cli/tinycls.json", "cli/wide.png", "scorecam", NULL },
  { "emotion", "astronaut.jpg", "tsm", NULL },
  { "emotion", "astronaut.jpg", "gradcam", NULL },
};

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    g_error ("usage: test-cli-explain [--tap] TENSORLENS");
  tensorlens = argv[1];
  tmpdir = g_dir_make_tmp ("tl-cli-explain-XXXXXX", NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/cli/saliency/%s/%s", cases[i].model,
                                               cases[i].method);
      g_test_add_data_func (path, &cases[i], test_cli_equals_library);
    }
  g_test_add_data_func ("/labelled/pieces/gradcam", GINT_TO_POINTER (TL_LABELLED_GRADCAM),
                        test_labelled_pieces);
  g_test_add_data_func ("/labelled/pieces/gradcam++", GINT_TO_POINTER (TL_LABELLED_GRADCAMPP),
                        test_labelled_pieces);
  g_test_add_data_func ("/labelled/pieces/scorecam", GINT_TO_POINTER (TL_LABELLED_SCORECAM),
                        test_labelled_pieces);
  int rc = g_test_run ();
  g_autofree char *m = g_build_filename (tmpdir, "map.npy", NULL);
  g_autofree char *o = g_build_filename (tmpdir, "overlay.png", NULL);
  g_remove (m);
  g_remove (o);
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return rc;
}
