/* A user's ONNX file without a sidecar card: tl_card_defaults_for_model
 * reads defaults from the graph (card-defaults.h). Where the shipped card
 * says what the defaults would say (the Fashion-MNIST classifier, the emoji
 * autoencoder pair), every field must coincide; graphs the defaults cannot
 * describe give an error naming the file and the problem. */
#include "card-defaults.h"
#include "error.h"
#include "model.h"
#include "tl-test.h"

#include <string.h>
#include <glib/gstdio.h>

static char *
source_path (const char *rel)
{
  const char *root = g_getenv ("TL_SOURCE_ROOT");
  return g_build_filename (root ? root : ".", rel, NULL);
}

static void
copy_file (const char *from, const char *to)
{
  g_autofree char *buf = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (from, &buf, &len, NULL));
  g_assert_true (g_file_set_contents (to, buf, (gssize) len, NULL));
}

/* The input description of two cards agrees. */
static void
assert_same_input (const tl_card *a, const tl_card *b)
{
  g_assert_cmpstr (a->input_name, ==, b->input_name);
  g_assert_cmpint (a->channels, ==, b->channels);
  g_assert_cmpint (a->height, ==, b->height);
  g_assert_cmpint (a->width, ==, b->width);
  g_assert_cmpint (a->color, ==, b->color);
  g_assert_cmpint (a->resize, ==, b->resize);
  g_assert_cmpfloat_with_epsilon (a->scale, b->scale, 1e-15);
  for (int c = 0; c < a->channels; c++)
    {
      g_assert_cmpfloat (a->mean[c], ==, b->mean[c]);
      g_assert_cmpfloat (a->std[c], ==, b->std[c]);
    }
  if (a->color == TL_COLOR_GRAY)
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat (a->gray_weights[c], ==, b->gray_weights[c]);
  for (int i = 0; i < 4; i++)
    g_assert_cmpint (a->pad[i], ==, 0);
}

static void
test_classifier (void)
{
  g_autofree char *onnx = source_path ("models/fmnist-classifier.onnx");
  g_autofree char *json = source_path ("models/fmnist-classifier.json");
  GError *e = NULL;
  g_autoptr (tl_card) d = tl_card_defaults_for_model (onnx, &e);
  g_assert_no_error (e);
  g_autoptr (tl_card) k = tl_card_load (json, &e);
  g_assert_no_error (e);
  g_assert_cmpstr (d->name, ==, "fmnist-classifier");
  g_assert_cmpstr (d->model, ==, onnx);
  g_assert_cmpint (d->task, ==, TL_TASK_CLASSIFIER);
  assert_same_input (d, k);
  g_assert_cmpstr (d->target_layer, ==, k->target_layer);
  g_assert_cmpint (d->score_kind, ==, TL_SCORE_LOGIT);
  g_assert_cmpstr (d->score_tensor, ==, k->score_tensor);
  /* labels are the class indices: the graph cannot name them */
  g_assert_cmpint (d->n_labels, ==, 10);
  g_assert_cmpstr (d->labels[0], ==, "0");
  g_assert_cmpstr (d->labels[9], ==, "9");
  g_assert_null (d->labels[10]);
  /* both graph outputs, keyed by tensor name */
  g_assert_cmpint (d->n_outputs, ==, 2);
  g_assert_cmpstr (tl_card_output (d, "logits"), ==, "logits");
  g_assert_cmpstr (tl_card_output (d, "features"), ==, "features");
  g_assert_cmpint (d->n_files, ==, 0);
  g_assert_cmpstr (d->license, ==, "unknown");
  g_assert_true (tl_card_verify_files (d, NULL));
}

static void
test_embedding (void)
{
  g_autofree char *onnx = tl_test_data ("models/nocard/emb.onnx");
  GError *e = NULL;
  g_autoptr (tl_card) d = tl_card_defaults_for_model (onnx, &e);
  g_assert_no_error (e);
  /* a 4-D output is not [N, K] scores */
  g_assert_cmpint (d->task, ==, TL_TASK_EMBEDDING);
  g_assert_cmpint (d->score_kind, ==, TL_SCORE_COSINE);
  g_assert_cmpstr (d->score_tensor, ==, "features");
  g_assert_cmpstr (d->target_layer, ==, "features");
  g_assert_cmpint (d->color, ==, TL_COLOR_RGB);
  g_assert_cmpint (d->channels, ==, 3);
  g_assert_cmpint (d->height, ==, 8);
  g_assert_cmpint (d->width, ==, 8);
  g_assert_cmpfloat (d->scale, ==, 1.0 / 255.0);
  g_assert_cmpint (d->n_labels, ==, 0);
}

/* Both halves of the emoji pair give the card's autoencoder description. */
static void
test_pair (void)
{
  g_autofree char *json = source_path ("models/emoji-ae.json");
  GError *e = NULL;
  g_autoptr (tl_card) k = tl_card_load (json, &e);
  g_assert_no_error (e);
  const char *halves[] = { "models/emoji-ae-encoder.onnx", "models/emoji-ae-decoder.onnx" };
  for (int h = 0; h < 2; h++)
    {
      g_autofree char *onnx = source_path (halves[h]);
      g_autoptr (tl_card) d = tl_card_defaults_for_model (onnx, &e);
      g_assert_no_error (e);
      g_assert_cmpstr (d->name, ==, "emoji-ae");
      g_assert_cmpint (d->task, ==, TL_TASK_AUTOENCODER);
      g_assert_cmpint (d->score_kind, ==, TL_SCORE_NONE);
      g_assert_null (d->model);
      g_assert_null (d->target_layer);
      assert_same_input (d, k);
      g_assert_cmpint (d->latent_dim, ==, k->latent_dim);
      g_assert_cmpstr (d->encoder, ==, k->encoder);
      g_assert_cmpstr (d->decoder, ==, k->decoder);
      g_assert_cmpstr (d->latent_bank, ==, k->latent_bank);
      g_assert_cmpstr (d->encoder_output, ==, k->encoder_output);
      g_assert_cmpstr (d->decoder_input, ==, k->decoder_input);
      g_assert_cmpstr (d->decoder_output, ==, k->decoder_output);
      g_assert_cmpint (d->out_channels, ==, k->out_channels);
      g_assert_cmpint (d->out_height, ==, k->out_height);
      g_assert_cmpint (d->out_width, ==, k->out_width);
      g_assert_cmpfloat (d->out_min, ==, k->out_min);
      g_assert_cmpfloat (d->out_max, ==, k->out_max);
      for (int i = 0; i < 4; i++)
        g_assert_cmpint (d->feature_crop[i], ==, k->feature_crop[i]);
    }
  g_autofree char *plain = source_path ("models/emotion.onnx");
  g_assert_null (tl_card_pair_stem (plain));
  g_autofree char *stem = tl_card_pair_stem ("/a/b-c-decoder.onnx");
  g_assert_cmpstr (stem, ==, "/a/b-c");
  g_assert_null (tl_card_pair_stem ("/a/-decoder.onnx"));
}

/* tl_model: an ONNX file without a sidecar gets the defaults; the halves of
 * a bundled pair find its card "s.json". */
static void
test_model_load (void)
{
  g_autofree char *dir = g_dir_make_tmp ("tl-nocard-XXXXXX", NULL);
  g_autofree char *src = source_path ("models/fmnist-classifier.onnx");
  g_autofree char *copy = g_build_filename (dir, "mine.onnx", NULL);
  copy_file (src, copy);
  GError *e = NULL;
  g_assert_null (tl_model_sidecar (copy));
  g_autoptr (tl_model) m = tl_model_load (copy, &e);
  g_assert_no_error (e);
  g_assert_cmpstr (tl_model_name (m), ==, "mine");
  g_assert_cmpint (tl_model_task (m), ==, TL_TASK_CLASSIFIER);
  g_assert_nonnull (tl_model_card (m));
  g_assert_cmpint (tl_model_card (m)->n_labels, ==, 10);
  g_assert_cmpstr (tl_model_default_layer (m), ==, "/net/c4/c4.2/Relu_output_0");
  const tl_preprocess_params *p = tl_model_preprocess (m);
  g_assert_cmpint (p->channels, ==, 1);
  g_assert_cmpint (p->width, ==, 28);
  g_assert_cmpfloat_with_epsilon (p->scale, 1.0, 1e-6);

  g_autofree char *dec = source_path ("models/emoji-ae-decoder.onnx");
  g_autofree char *json = source_path ("models/emoji-ae.json");
  g_autofree char *side = tl_model_sidecar (dec);
  g_assert_cmpstr (side, ==, json);
  g_autoptr (tl_model) ae = tl_model_load (dec, &e);
  g_assert_no_error (e);
  g_assert_cmpstr (tl_model_name (ae), ==, "emoji-ae");
  g_assert_cmpstr (tl_model_path (ae), ==, json);
  g_assert_nonnull (tl_model_decoder (ae, &e));
  g_assert_no_error (e);
  g_unlink (copy);
  g_rmdir (dir);
}

typedef struct {
  const char *file;     /* under tests/data/models/nocard */
  const char *message;  /* a substring of the error */
} bad_case;

static const bad_case bad[] = {
  { "nhwc.onnx", "input 'image' is 1x8x8x3, not an N×C×H×W image with C = 1 or 3 (it looks NHWC" },
  { "twoch.onnx", "input 'image' is 1x2x8x8, not an N×C×H×W image" },
  { "vector.onnx", "input 'x' is 1x16, not an N×C×H×W image" },
  { "twoin.onnx", "its 2 graph inputs cannot be guessed" },
  { "nomap.onnx", "no 4-D feature map (N×C×H×W with H, W > 1) to explain" },
};

static void
test_bad (gconstpointer data)
{
  const bad_case *c = data;
  g_autofree char *rel = g_build_filename ("models", "nocard", c->file, NULL);
  g_autofree char *onnx = tl_test_data (rel);
  GError *e = NULL;
  g_autoptr (tl_card) d = tl_card_defaults_for_model (onnx, &e);
  g_assert_null (d);
  g_assert_error (e, TL_ERROR, TL_ERROR_UNSUPPORTED);
  g_assert_true (g_str_has_prefix (e->message, onnx));
  g_assert_nonnull (strstr (e->message, "no model card"));
  if (!strstr (e->message, c->message))
    g_error ("%s: message '%s' lacks '%s'", c->file, e->message, c->message);
  g_clear_error (&e);
  /* the model layer passes the same error on */
  g_autoptr (tl_model) m = tl_model_load (onnx, &e);
  g_assert_null (m);
  g_assert_error (e, TL_ERROR, TL_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (e->message, c->message));
  g_clear_error (&e);
}

/* An autoencoder half needs its partner and the latent bank next to it. */
static void
test_bad_pair (void)
{
  g_autofree char *dir = g_dir_make_tmp ("tl-nocard-XXXXXX", NULL);
  g_autofree char *src_e = tl_test_data ("generate/tiny-ae-encoder.onnx");
  g_autofree char *src_d = tl_test_data ("generate/tiny-ae-decoder.onnx");
  g_autofree char *enc = g_build_filename (dir, "t-encoder.onnx", NULL);
  g_autofree char *dec = g_build_filename (dir, "t-decoder.onnx", NULL);
  copy_file (src_e, enc);
  GError *e = NULL;
  tl_card *d = tl_card_defaults_for_model (enc, &e);
  g_assert_null (d);
  g_assert_error (e, TL_ERROR, TL_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (e->message, "an autoencoder needs both"));
  g_assert_nonnull (strstr (e->message, "t-decoder.onnx"));
  g_clear_error (&e);
  copy_file (src_d, dec);
  d = tl_card_defaults_for_model (dec, &e);
  g_assert_null (d);
  g_assert_error (e, TL_ERROR, TL_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (e->message, "has no latent bank"));
  g_assert_nonnull (strstr (e->message, "t-latents.npy"));
  g_clear_error (&e);
  g_unlink (enc);
  g_unlink (dec);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/card-defaults/classifier", test_classifier);
  g_test_add_func ("/card-defaults/embedding", test_embedding);
  g_test_add_func ("/card-defaults/pair", test_pair);
  g_test_add_func ("/card-defaults/model-load", test_model_load);
  g_test_add_func ("/card-defaults/bad-pair", test_bad_pair);
  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *name = g_strdup_printf ("/card-defaults/bad/%s", bad[i].file);
      g_test_add_data_func (name, &bad[i], test_bad);
    }
  return g_test_run ();
}
