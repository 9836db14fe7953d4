/* tl_model: finding models by name and path, cards -> preprocess params,
 * the shared cache, and every bad-model case. */
#include "model.h"

#include "error.h"
#include "tl-test.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static char *models_dir;

static void
test_find (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *p = tl_model_find ("centernet", &err);
  g_assert_no_error (err);
  g_autofree char *want = g_build_filename (models_dir, "centernet.json", NULL);
  g_assert_cmpstr (p, ==, want);

  /* a path is taken as is */
  g_autofree char *q = tl_model_find (want, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (q, ==, want);

  /* unknown name: the error names the model and the directories searched */
  g_assert_null (tl_model_find ("no-such-model", &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_IO);
  g_assert_nonnull (strstr (err->message, "no-such-model"));
  g_assert_nonnull (strstr (err->message, models_dir));
  g_clear_error (&err);

  g_assert_null (tl_model_find ("/nonexistent/x.onnx", &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_IO);
  g_clear_error (&err);
  g_assert_null (tl_model_find ("", &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
}

static void
test_list (void)
{
  g_auto (GStrv) all = tl_model_list (-1);
  g_assert_true (g_strv_contains ((const char *const *) all, "centernet"));
  g_assert_true (g_strv_contains ((const char *const *) all, "faceres"));
  g_assert_true (g_strv_contains ((const char *const *) all, "emotion"));
  for (int i = 1; all[i]; i++)
    g_assert_cmpint (strcmp (all[i - 1], all[i]), <, 0);   /* sorted, unique */
  g_auto (GStrv) det = tl_model_list (TL_TASK_DETECTOR);
  g_assert_true (g_strv_contains ((const char *const *) det, "centernet"));
  g_assert_false (g_strv_contains ((const char *const *) det, "emotion"));
}

/* Card values become preprocess params: pixels 0..255 -> 0..1 scales by 255. */
static void
test_card_to_preprocess (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = tl_model_load ("emotion", &err);
  g_assert_no_error (err);
  const tl_preprocess_params *p = tl_model_preprocess (m);
  const tl_card *c = tl_model_card (m);
  g_assert_cmpint (p->width, ==, 64);
  g_assert_cmpint (p->height, ==, 64);
  g_assert_cmpint (p->channels, ==, 1);
  g_assert_cmpint (p->resize_mode, ==, TL_RESAMPLE_TF_LEGACY);
  g_assert_cmpfloat_with_epsilon (p->scale, c->scale * 255.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (p->scale, 1.0, 1e-6);
  g_assert_cmpfloat (p->mean[0], ==, 0.5f);
  g_assert_cmpfloat (p->std[0], ==, 0.5f);
  g_assert_cmpfloat_with_epsilon (p->gray_weights[0], 0.2989, 1e-7);
  g_assert_cmpfloat_with_epsilon (p->gray_weights[1], 0.587, 1e-7);
  g_assert_cmpfloat_with_epsilon (p->gray_weights[2], 0.114, 1e-7);
  g_assert_cmpstr (tl_model_name (m), ==, "emotion");
  g_assert_cmpstr (tl_model_default_layer (m), ==, c->target_layer);
  g_assert_cmpint (tl_model_task (m), ==, TL_TASK_CLASSIFIER);
  g_assert_nonnull (tl_model_net (m, &err));
  g_assert_null (tl_model_decoder (m, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&err);

  g_autoptr (tl_model) cn = tl_model_load ("centernet", &err);
  g_assert_no_error (err);
  p = tl_model_preprocess (cn);
  g_assert_cmpint (p->width, ==, 512);
  g_assert_cmpint (p->channels, ==, 3);
  g_assert_cmpfloat (p->scale, ==, 255.0f);
  g_assert_cmpstr (tl_model_default_layer (cn), ==, "tower_0/extern1/hard_swish/mul_1");
}

/* The shared cache hands out one instance per file. */
static void
test_cache (void)
{
  g_autoptr (GError) err = NULL;
  tl_model *a = tl_model_get ("emotion", &err);
  g_assert_no_error (err);
  g_autofree char *path = g_build_filename (models_dir, "emotion.json", NULL);
  tl_model *b = tl_model_get (path, &err);
  g_assert_no_error (err);
  g_assert_true (a == b);
  tl_model_unref (b);
  tl_model_cache_clear ();
  tl_model *c = tl_model_get ("emotion", &err);   /* still alive through a */
  g_assert_no_error (err);
  g_assert_true (c != a);
  tl_model_unref (a);
  tl_model_unref (c);
  tl_model_cache_clear ();
}

/* A bare ONNX file (no sidecar card): the defaults read from the graph
 * (card-defaults.h): geometry from the network, the engine's default layer,
 * a classifier with numbered labels for its 1×7 output. */
static void
test_bare_onnx (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("tl-model-XXXXXX", &err);
  g_assert_no_error (err);
  g_autofree char *src = g_build_filename (models_dir, "emotion.onnx", NULL);
  g_autofree char *dst = g_build_filename (tmp, "fer.onnx", NULL);
  g_assert_cmpint (symlink (src, dst), ==, 0);
  g_autoptr (tl_model) m = tl_model_load (dst, &err);
  g_assert_no_error (err);
  const tl_card *card = tl_model_card (m);
  g_assert_nonnull (card);
  g_assert_cmpint (card->task, ==, TL_TASK_CLASSIFIER);
  g_assert_cmpint (card->n_labels, ==, 7);
  g_assert_cmpstr (card->labels[6], ==, "6");
  g_assert_cmpint (card->n_files, ==, 0);
  g_assert_cmpstr (tl_model_name (m), ==, "fer");
  const tl_preprocess_params *p = tl_model_preprocess (m);
  g_assert_cmpint (p->width, ==, 64);
  g_assert_cmpint (p->channels, ==, 1);
  g_assert_nonnull (tl_model_default_layer (m));
  g_assert_cmpstr (tl_model_default_layer (m), ==,
                   tl_net_default_target_layer (tl_model_net (m, NULL)));
  g_unlink (dst);
  g_rmdir (tmp);
}

/* Writes a copy of emotion.json with one textual substitution into dir. */
static char *
write_card (const char *dir, const char *name, const char *from, const char *to)
{
  g_autofree char *src = g_build_filename (models_dir, "emotion.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (src, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, from));
  g_autofree char *head = g_strndup (text, strstr (text, from) - text);
  g_autofree char *out = g_strconcat (head, to, strstr (text, from) + strlen (from), NULL);
  /* the card's files are relative to it: link the ONNX next to it */
  g_autofree char *onnx = g_build_filename (models_dir, "emotion.onnx", NULL);
  g_autofree char *link = g_build_filename (dir, "emotion.onnx", NULL);
  if (!g_file_test (link, G_FILE_TEST_EXISTS))
    g_assert_cmpint (symlink (onnx, link), ==, 0);
  char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, out, -1, NULL));
  return path;
}

static void
test_bad_models (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("tl-model-XXXXXX", &err);

  /* a target layer the network does not have */
  g_autofree char *c1 = write_card (tmp, "badlayer.json", "\"StatefulPartitionedCall/model_1/add_2/add\"",
                                    "\"no/such/layer\"");
  g_assert_null (tl_model_load (c1, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "no/such/layer"));
  g_clear_error (&err);

  /* a card whose input size disagrees with the network */
  g_autofree char *c2 = write_card (tmp, "badsize.json", "\"height\": 64", "\"height\": 65");
  g_assert_null (tl_model_load (c2, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "1x1x65x64"));
  g_clear_error (&err);

  /* padded inputs are refused by name */
  g_autofree char *c3 = write_card (tmp, "pad.json", "\"pad\": [\n      0,", "\"pad\": [\n      2,");
  g_assert_null (tl_model_load (c3, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (err->message, "input.pad"));
  g_clear_error (&err);

  /* not a card at all */
  g_autofree char *c4 = g_build_filename (tmp, "junk.json", NULL);
  g_assert_true (g_file_set_contents (c4, "{ nope", -1, NULL));
  g_assert_null (tl_model_load (c4, &err));
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err->message, "junk.json"));
  g_clear_error (&err);

  /* broken cards are left out of the list, good ones in extra dirs appear */
  g_autofree char *c5 = write_card (tmp, "emotion2.json", "\"name\": \"emotion\"",
                                    "\"name\": \"emotion2\"");
  g_autofree char *env = g_strconcat (tmp, ":", models_dir, NULL);
  g_setenv ("TENSORLENS_MODELS_DIR", env, TRUE);
  g_auto (GStrv) names = tl_model_list (-1);
  g_assert_true (g_strv_contains ((const char *const *) names, "emotion2"));
  g_assert_false (g_strv_contains ((const char *const *) names, "junk"));
  g_assert_false (g_strv_contains ((const char *const *) names, "pad"));   /* name mismatch */
  g_autoptr (tl_model) m = tl_model_load ("emotion2", &err);
  g_assert_no_error (err);
  g_setenv ("TENSORLENS_MODELS_DIR", models_dir, TRUE);

  g_autoptr (GDir) d = g_dir_open (tmp, 0, NULL);
  const char *f;
  while ((f = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (tmp, f, NULL);
      g_unlink (p);
    }
  g_rmdir (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *root = g_getenv ("TL_SOURCE_ROOT");
  models_dir = g_build_filename (root ? root : ".", "models", NULL);
  /* hermetic: never pick up an installed copy first */
  g_setenv ("TENSORLENS_MODELS_DIR", models_dir, TRUE);
  g_test_add_func ("/model/find", test_find);
  g_test_add_func ("/model/list", test_list);
  g_test_add_func ("/model/card-to-preprocess", test_card_to_preprocess);
  g_test_add_func ("/model/cache", test_cache);
  g_test_add_func ("/model/bare-onnx", test_bare_onnx);
  g_test_add_func ("/model/bad-models", test_bad_models);
  int r = g_test_run ();
  g_free (models_dir);
  return r;
}
