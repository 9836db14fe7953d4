/* Model cards: the shipped cards load, their checksums match the shipped
 * files, and every kind of bad card is refused with an error naming the
 * field. Bad cards are made by mutating one field of a good card. */
#include "card.h"
#include "error.h"
#include "tl-test.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <glib/gstdio.h>

static const char *good_classifier =
  "{\"schema\": \"tensorlens-card-1\", \"name\": \"t\", \"task\": \"classifier\","
  " \"model\": \"m.onnx\","
  " \"input\": {\"name\": \"x\", \"layout\": \"NCHW\", \"channels\": 1, \"height\": 64,"
  "   \"width\": 48, \"color\": \"gray\", \"gray_weights\": [0.2989, 0.587, 0.114],"
  "   \"resize\": \"tf_legacy_bilinear\", \"scale\": 0.00392156862745098, \"mean\": [0.5],"
  "   \"std\": [0.5], \"pad\": [0, 0, 0, 0]},"
  " \"outputs\": {\"logits\": \"lg\", \"probabilities\": \"sm\"},"
  " \"labels\": [\"a\", \"b\", \"c\"], \"target_layer\": \"blk/add\","
  " \"score\": {\"kind\": \"logit\", \"tensor\": \"lg\", \"probabilities\": \"sm\"},"
  " \"files\": [{\"path\": \"m.onnx\", \"sha256\": "
  "   \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\", \"bytes\": 10}],"
  " \"license\": \"MIT\", \"attribution\": \"us\"}";

static const char *good_ae =
  "{\"schema\": \"tensorlens-card-1\", \"name\": \"ae\", \"task\": \"autoencoder\", \"model\": null,"
  " \"input\": {\"name\": \"image\", \"layout\": \"NCHW\", \"channels\": 3, \"height\": 32,"
  "   \"width\": 32, \"color\": \"rgb\", \"resize\": \"half_pixel_bilinear\", \"scale\": 1,"
  "   \"mean\": [0, 0, 0], \"std\": [1, 1, 1], \"pad\": [2, 2, 2, 2]},"
  " \"outputs\": {}, \"labels\": [], \"target_layer\": null, \"score\": {\"kind\": \"none\"},"
  " \"autoencoder\": {\"latent_dim\": 16, \"encoder\": \"e.onnx\", \"encoder_output\": \"z\","
  "   \"decoder\": \"d.onnx\", \"decoder_input\": \"z\", \"decoder_output\": \"y\","
  "   \"output\": {\"channels\": 3, \"height\": 32, \"width\": 32, \"min\": 0, \"max\": 1},"
  "   \"latent_bank\": \"z.npy\", \"feature_model\": \"f.json\", \"feature_crop\": [2, 2, 28, 28]},"
  " \"files\": ["
  "   {\"path\": \"e.onnx\", \"sha256\": \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\", \"bytes\": 1},"
  "   {\"path\": \"d.onnx\", \"sha256\": \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\", \"bytes\": 1},"
  "   {\"path\": \"z.npy\", \"sha256\": \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\", \"bytes\": 1}],"
  " \"license\": \"MIT\", \"attribution\": \"us\"}";

/* ------------------------------------------------------------ good cards */

static void
test_parse_good (void)
{
  GError *e = NULL;
  g_autoptr (tl_card) k = tl_card_parse (good_classifier, -1, "/cards/t.json", &e);
  g_assert_no_error (e);
  g_assert_nonnull (k);
  g_assert_cmpstr (k->name, ==, "t");
  g_assert_cmpint (k->task, ==, TL_TASK_CLASSIFIER);
  g_assert_cmpstr (k->model, ==, "/cards/m.onnx");
  g_assert_cmpint (k->channels, ==, 1);
  g_assert_cmpint (k->height, ==, 64);
  g_assert_cmpint (k->width, ==, 48);
  g_assert_cmpint (k->color, ==, TL_COLOR_GRAY);
  g_assert_cmpfloat (k->gray_weights[1], ==, 0.587);
  g_assert_cmpint (k->resize, ==, TL_RESIZE_TF_LEGACY_BILINEAR);
  g_assert_cmpfloat (k->scale, ==, 0.00392156862745098);
  g_assert_cmpfloat (k->mean[0], ==, 0.5);
  g_assert_cmpint (k->n_labels, ==, 3);
  g_assert_cmpstr (k->labels[2], ==, "c");
  g_assert_null (k->labels[3]);
  g_assert_cmpstr (k->target_layer, ==, "blk/add");
  g_assert_cmpint (k->score_kind, ==, TL_SCORE_LOGIT);
  g_assert_cmpstr (k->score_tensor, ==, "lg");
  g_assert_cmpstr (k->probabilities, ==, "sm");
  g_assert_cmpint (k->n_outputs, ==, 2);
  g_assert_cmpstr (k->output_keys[0], ==, "logits");
  g_assert_cmpstr (tl_card_output (k, "probabilities"), ==, "sm");
  g_assert_null (tl_card_output (k, "nope"));
  g_assert_cmpint (k->n_files, ==, 1);
  g_assert_cmpint (k->files[0].bytes, ==, 10);
  g_assert_cmpstr (tl_task_name (k->task), ==, "classifier");

  g_autoptr (tl_card) a = tl_card_parse (good_ae, -1, "rel/ae.json", &e);
  g_assert_no_error (e);
  g_assert_cmpint (a->task, ==, TL_TASK_AUTOENCODER);
  g_assert_null (a->model);
  g_assert_null (a->target_layer);
  g_assert_cmpint (a->score_kind, ==, TL_SCORE_NONE);
  g_assert_cmpint (a->latent_dim, ==, 16);
  g_assert_cmpstr (a->decoder, ==, "rel/d.onnx");
  g_assert_cmpstr (a->latent_bank, ==, "rel/z.npy");
  g_assert_cmpstr (a->feature_model, ==, "rel/f.json");
  g_assert_cmpint (a->pad[3], ==, 2);
  g_assert_cmpint (a->out_channels, ==, 3);
  g_assert_cmpint (a->feature_crop[2], ==, 28);
  g_assert_cmpfloat (a->out_max, ==, 1.0);
}

static char *
shipped (const char *name)
{
  const char *root = g_getenv ("TL_SOURCE_ROOT");
  g_autofree char *file = g_strconcat (name, ".json", NULL);
  return g_build_filename (root ? root : ".", "models", file, NULL);
}

/* The three converted models: the values the engine and docs rely on. */
static void
test_shipped_cards (void)
{
  GError *e = NULL;
  g_autofree char *p = shipped ("emotion");
  g_autoptr (tl_card) em = tl_card_load (p, &e);
  g_assert_no_error (e);
  g_assert_cmpint (em->task, ==, TL_TASK_CLASSIFIER);
  g_assert_cmpint (em->channels, ==, 1);
  g_assert_cmpint (em->height, ==, 64);
  g_assert_cmpint (em->color, ==, TL_COLOR_GRAY);
  g_assert_cmpfloat (em->gray_weights[0], ==, 0.2989);
  g_assert_cmpint (em->n_labels, ==, 7);
  g_assert_cmpstr (em->labels[3], ==, "happy");
  g_assert_cmpstr (em->target_layer, ==, "StatefulPartitionedCall/model_1/add_2/add");
  g_assert_true (g_str_has_suffix (em->model, "models/emotion.onnx"));

  g_autofree char *pc = shipped ("centernet");
  g_autoptr (tl_card) cn = tl_card_load (pc, &e);
  g_assert_no_error (e);
  g_assert_cmpint (cn->task, ==, TL_TASK_DETECTOR);
  g_assert_cmpint (cn->n_labels, ==, 80);
  g_assert_cmpstr (cn->labels[41], ==, "cup");
  g_assert_cmpint (cn->score_kind, ==, TL_SCORE_HEATMAP_SUM);
  g_assert_cmpstr (cn->score_tensor, ==, "tower_0/keypoints");
  g_assert_cmpstr (cn->target_layer, ==, "tower_0/extern1/hard_swish/mul_1");
  g_assert_cmpfloat (cn->scale, ==, 1.0);

  g_autofree char *pf = shipped ("faceres");
  g_autoptr (tl_card) fr = tl_card_load (pf, &e);
  g_assert_no_error (e);
  g_assert_cmpint (fr->task, ==, TL_TASK_EMBEDDING);
  g_assert_cmpint (fr->score_kind, ==, TL_SCORE_COSINE);
  g_assert_cmpstr (tl_card_output (fr, "embedding"), ==, "global_pooling/Mean");
}

/* Every card in models/ parses and its listed files match their checksums. */
static void
test_shipped_checksums (void)
{
  const char *root = g_getenv ("TL_SOURCE_ROOT");
  g_autofree char *dir = g_build_filename (root ? root : ".", "models", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  int n = 0;
  const char *f;
  while ((f = g_dir_read_name (d)))
    {
      if (!g_str_has_suffix (f, ".json"))
        continue;
      g_autofree char *p = g_build_filename (dir, f, NULL);
      GError *e = NULL;
      g_autoptr (tl_card) k = tl_card_load (p, &e);
      g_assert_no_error (e);
      g_assert_true (tl_card_verify_files (k, &e));
      g_assert_no_error (e);
      n++;
    }
  g_assert_cmpint (n, >=, 3);
}

/* ------------------------------------------------------------ bad cards */

typedef struct {
  const char *base;     /* "c" classifier or "a" autoencoder */
  const char *path;     /* dotted path, array indices as numbers */
  const char *value;    /* JSON text, or NULL to delete the member */
  int         code;
  const char *msg;      /* substring the error must contain */
} mutation;

static const mutation bad[] = {
  { "c", "task", NULL, TL_ERROR_FORMAT, "task: missing" },
  { "c", "task", "\"segmenter\"", TL_ERROR_UNSUPPORTED, "task: unknown value 'segmenter'" },
  { "c", "task", "3", TL_ERROR_FORMAT, "task: expected a string, got a number" },
  { "c", "schema", "\"tensorlens-card-2\"", TL_ERROR_UNSUPPORTED, "schema: 'tensorlens-card-2' is not supported" },
  { "c", "schema", NULL, TL_ERROR_FORMAT, "schema: missing" },
  { "c", "name", "\"\"", TL_ERROR_INVALID, "name: empty string" },
  { "c", "model", NULL, TL_ERROR_FORMAT, "model: missing" },
  { "c", "model", "\"/etc/passwd\"", TL_ERROR_INVALID, "model: '/etc/passwd' is absolute" },
  { "c", "model", "\"../m.onnx\"", TL_ERROR_INVALID, "leaves the card's directory" },
  { "c", "model", "\"other.onnx\"", TL_ERROR_INVALID, "is not listed in files[]" },
  { "c", "input", NULL, TL_ERROR_FORMAT, "input: missing (need an object)" },
  { "c", "input", "[]", TL_ERROR_FORMAT, "input: expected an object, got an array" },
  { "c", "input.name", NULL, TL_ERROR_FORMAT, "input.name: missing" },
  { "c", "input.layout", "\"NHWC\"", TL_ERROR_UNSUPPORTED, "input.layout: unknown value 'NHWC'" },
  { "c", "input.height", "\"64\"", TL_ERROR_FORMAT, "input.height: expected an integer, got a string" },
  { "c", "input.height", "64.5", TL_ERROR_FORMAT, "input.height: expected an integer, got a number" },
  { "c", "input.height", "100000", TL_ERROR_INVALID, "input.height: 100000 is outside 1..8192" },
  { "c", "input.width", "0", TL_ERROR_INVALID, "input.width: 0 is outside" },
  { "c", "input.width", "-5", TL_ERROR_INVALID, "input.width: -5 is outside" },
  { "c", "input.width", "99999999999999", TL_ERROR_INVALID, "input.width: 99999999999999 is outside" },
  { "c", "input.channels", "2", TL_ERROR_INVALID, "input.channels: 2 channels do not fit" },
  { "c", "input.channels", "4", TL_ERROR_INVALID, "input.channels: 4 is outside 1..3" },
  { "c", "input.color", "\"cmyk\"", TL_ERROR_UNSUPPORTED, "input.color: unknown value 'cmyk'" },
  { "c", "input.color", "\"rgb\"", TL_ERROR_INVALID, "1 channels do not fit color 'rgb'" },
  { "c", "input.gray_weights", NULL, TL_ERROR_FORMAT, "input.gray_weights: missing" },
  { "c", "input.gray_weights", "[1, 2]", TL_ERROR_INVALID, "input.gray_weights: has 2 entries, expected 3" },
  { "c", "input.gray_weights.1", "\"g\"", TL_ERROR_FORMAT, "input.gray_weights[1]: expected a number, got a string" },
  { "c", "input.resize", "\"nearest\"", TL_ERROR_UNSUPPORTED, "input.resize: unknown value 'nearest'" },
  { "c", "input.scale", "0", TL_ERROR_INVALID, "input.scale: must not be 0" },
  { "c", "input.scale", "null", TL_ERROR_FORMAT, "input.scale: missing" },
  { "c", "input.mean", "[0.5, 0.5]", TL_ERROR_INVALID, "input.mean: has 2 entries, expected 1" },
  { "c", "input.mean", "0.5", TL_ERROR_FORMAT, "input.mean: expected an array, got a number" },
  { "c", "input.std", "[0]", TL_ERROR_INVALID, "input.std: entry 0 is 0; must be > 0" },
  { "c", "input.std", "[-1]", TL_ERROR_INVALID, "input.std: entry 0 is -1" },
  { "c", "input.pad", "[40, 0, 40, 0]", TL_ERROR_INVALID, "input.pad: padding 40,0,40,0 leaves no image" },
  { "c", "input.pad", "[0, 0, -1, 0]", TL_ERROR_INVALID, "input.pad[2]: -1 is outside" },
  { "c", "outputs", "[]", TL_ERROR_FORMAT, "outputs: expected an object" },
  { "c", "outputs.logits", "7", TL_ERROR_FORMAT, "outputs.logits: expected a string, got a number" },
  { "c", "labels", "\"happy\"", TL_ERROR_FORMAT, "labels: expected an array, got a string" },
  { "c", "labels", "[1, 2]", TL_ERROR_FORMAT, "labels: entry 0: expected a string, got a number" },
  { "c", "labels", "[\"one\"]", TL_ERROR_INVALID, "labels: has 1 entries, expected 2..100000" },
  { "c", "target_layer", NULL, TL_ERROR_FORMAT, "target_layer: missing" },
  { "c", "target_layer", "{}", TL_ERROR_FORMAT, "target_layer: expected a string, got an object" },
  { "c", "score", NULL, TL_ERROR_FORMAT, "score: missing" },
  { "c", "score.kind", "\"cosine\"", TL_ERROR_INVALID, "score.kind: 'cosine' does not fit task 'classifier'" },
  { "c", "score.kind", "\"entropy\"", TL_ERROR_UNSUPPORTED, "score.kind: unknown value 'entropy'" },
  { "c", "score.tensor", NULL, TL_ERROR_FORMAT, "score.tensor: missing" },
  { "c", "files", "[]", TL_ERROR_INVALID, "files: has 0 entries" },
  { "c", "files", NULL, TL_ERROR_FORMAT, "files: missing" },
  { "c", "files.0", "\"m.onnx\"", TL_ERROR_FORMAT, "files[0]: expected an object, got a string" },
  { "c", "files.0.sha256", "\"xyz\"", TL_ERROR_INVALID, "files[0].sha256: expected 64 lower-case hex digits" },
  { "c", "files.0.bytes", "-1", TL_ERROR_FORMAT, "files[0].bytes: expected a non-negative integer" },
  { "c", "files.0.path", "\"/abs\"", TL_ERROR_INVALID, "files[0].path: '/abs' is absolute" },
  { "c", "license", NULL, TL_ERROR_FORMAT, "license: missing" },
  { "c", "attribution", "false", TL_ERROR_FORMAT, "attribution: expected a string, got a boolean" },
  { "a", "autoencoder", NULL, TL_ERROR_FORMAT, "autoencoder: missing" },
  { "a", "model", "\"e.onnx\"", TL_ERROR_INVALID, "model: an autoencoder names encoder and decoder" },
  { "a", "autoencoder.latent_dim", "0", TL_ERROR_INVALID, "autoencoder.latent_dim: 0 is outside 1..65536" },
  { "a", "autoencoder.latent_dim", "1000000", TL_ERROR_INVALID, "autoencoder.latent_dim: 1000000 is outside" },
  { "a", "autoencoder.latent_dim", NULL, TL_ERROR_FORMAT, "autoencoder.latent_dim: missing" },
  { "a", "autoencoder.decoder", NULL, TL_ERROR_FORMAT, "autoencoder.decoder: missing" },
  { "a", "autoencoder.latent_bank", "\"bank.npy\"", TL_ERROR_INVALID, "autoencoder.latent_bank: '" },
  { "a", "autoencoder.output.height", "0", TL_ERROR_INVALID, "autoencoder.output.height: 0 is outside" },
  { "a", "autoencoder.output.channels", "2", TL_ERROR_INVALID, "autoencoder.output.channels: 2 channels" },
  { "a", "autoencoder.output.max", "0", TL_ERROR_INVALID, "autoencoder.output: min 0 is not below max 0" },
  { "a", "autoencoder.feature_crop", "[2, 2, 40, 28]", TL_ERROR_INVALID, "autoencoder.feature_crop: box 2,2 40x28 is not inside" },
  { "a", "score.kind", "\"logit\"", TL_ERROR_INVALID, "score.kind: 'logit' does not fit task 'autoencoder'" },
  { "a", "input.channels", "1", TL_ERROR_INVALID, "input.channels: 1 channels do not fit color 'rgb'" },
};

/* Sets (or deletes, value == NULL) the member at a dotted path. */
static void
mutate (JsonNode *root, const char *path, const char *value)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  JsonNode *n = root;
  int last = (int) g_strv_length (parts) - 1;
  for (int i = 0; i <= last; i++)
    {
      gboolean is_index = g_ascii_isdigit (parts[i][0]);
      if (i < last)
        {
          n = is_index ? json_array_get_element (json_node_get_array (n), atoi (parts[i]))
                       : json_object_get_member (json_node_get_object (n), parts[i]);
          g_assert_nonnull (n);
          continue;
        }
      JsonNode *v = value ? json_from_string (value, NULL) : NULL;
      if (value)
        g_assert_nonnull (v);
      if (is_index)
        {
          JsonArray *a = json_node_get_array (n);
          guint idx = (guint) atoi (parts[i]);
          /* JsonArray has no setter: rebuild it. */
          JsonArray *b = json_array_new ();
          for (guint j = 0; j < json_array_get_length (a); j++)
            if (j != idx)
              json_array_add_element (b, json_node_copy (json_array_get_element (a, j)));
            else if (v)
              json_array_add_element (b, v);
          json_node_take_array (n, b);
        }
      else if (v)
        json_object_set_member (json_node_get_object (n), parts[i], v);
      else
        json_object_remove_member (json_node_get_object (n), parts[i]);
    }
}

static void
test_bad_card (gconstpointer data)
{
  const mutation *m = data;
  JsonNode *root = json_from_string (m->base[0] == 'c' ? good_classifier : good_ae, NULL);
  g_assert_nonnull (root);
  mutate (root, m->path, m->value);
  g_autofree char *text = json_to_string (root, FALSE);
  json_node_unref (root);
  GError *e = NULL;
  tl_card *k = tl_card_parse (text, -1, "cards/bad.json", &e);
  g_assert_null (k);
  g_assert_error (e, TL_ERROR, m->code);
  if (!strstr (e->message, m->msg) || !g_str_has_prefix (e->message, "cards/bad.json: "))
    g_error ("message \"%s\" lacks \"%s\"", e->message, m->msg);
  g_error_free (e);
}

static void
expect_parse_error (const char *text, gssize len, int code, const char *msg)
{
  GError *e = NULL;
  g_assert_null (tl_card_parse (text, len, "x.json", &e));
  g_assert_error (e, TL_ERROR, code);
  if (!strstr (e->message, msg))
    g_error ("message \"%s\" lacks \"%s\"", e->message, msg);
  g_error_free (e);
}

static void
test_bad_documents (void)
{
  expect_parse_error ("{", -1, TL_ERROR_FORMAT, "x.json: not valid JSON");
  expect_parse_error ("", 0, TL_ERROR_FORMAT, "x.json: ");
  expect_parse_error ("[]", -1, TL_ERROR_FORMAT, "expected a JSON object, got an array");
  expect_parse_error ("\"card\"", -1, TL_ERROR_FORMAT, "expected a JSON object, got a string");
  /* 1e400 overflows to infinity in the JSON parser; it must not reach the card. */
  g_autofree char *inf = g_strdup (good_classifier);
  char *at = strstr (inf, "0.00392156862745098");
  g_assert_nonnull (at);
  memcpy (at, "1e400              ", 19);
  expect_parse_error (inf, -1, TL_ERROR_INVALID, "input.scale: not a finite number");
  /* Absurd size: refused before parsing. */
  gsize big = TL_CARD_MAX_FILE_BYTES + 10;
  g_autofree char *huge = g_malloc (big);
  memset (huge, ' ', big);
  expect_parse_error (huge, (gssize) big, TL_ERROR_INVALID, "a card is at most");
}

static void
test_load_errors (void)
{
  GError *e = NULL;
  g_assert_null (tl_card_load ("/nonexistent/dir/card.json", &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_IO);
  g_assert_nonnull (strstr (e->message, "/nonexistent/dir/card.json"));
  g_clear_error (&e);

  g_autofree char *dir = g_dir_make_tmp ("tl-card-XXXXXX", NULL);
  g_autofree char *big = g_build_filename (dir, "big.json", NULL);
  FILE *f = fopen (big, "wb");
  g_assert_nonnull (f);
  g_assert_cmpint (fseek (f, TL_CARD_MAX_FILE_BYTES + 1, SEEK_SET), ==, 0);
  fputc ('}', f);
  fclose (f);
  g_assert_null (tl_card_load (big, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  g_unlink (big);
  g_rmdir (dir);
}

/* A card whose listed file is missing, has the wrong size or the wrong hash. */
static void
test_verify_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("tl-card-XXXXXX", NULL);
  g_autofree char *m = g_build_filename (dir, "m.onnx", NULL);
  g_autofree char *card = g_build_filename (dir, "t.json", NULL);
  GError *e = NULL;
  g_autoptr (tl_card) k = tl_card_parse (good_classifier, -1, card, &e);
  g_assert_no_error (e);

  g_assert_false (tl_card_verify_files (k, &e));          /* missing */
  g_assert_error (e, TL_ERROR, TL_ERROR_IO);
  g_clear_error (&e);

  g_assert_true (g_file_set_contents (m, "0123456789", 10, NULL));
  g_assert_false (tl_card_verify_files (k, &e));          /* right size, wrong hash */
  g_assert_error (e, TL_ERROR, TL_ERROR_FORMAT);
  g_assert_nonnull (strstr (e->message, "has sha256 84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882"));
  g_clear_error (&e);

  /* sha256("0123456789") from coreutils sha256sum. */
  memcpy (k->files[0].sha256, "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882", 65);
  g_assert_true (tl_card_verify_files (k, &e));
  g_assert_no_error (e);

  g_assert_true (g_file_set_contents (m, "01234567890", 11, NULL));
  g_assert_false (tl_card_verify_files (k, &e));          /* wrong size */
  g_assert_error (e, TL_ERROR, TL_ERROR_FORMAT);
  g_assert_nonnull (strstr (e->message, "has 11 bytes, the card says 10"));
  g_clear_error (&e);
  g_unlink (m);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/card/parse-good", test_parse_good);
  g_test_add_func ("/card/shipped", test_shipped_cards);
  g_test_add_func ("/card/shipped-checksums", test_shipped_checksums);
  g_test_add_func ("/card/bad-documents", test_bad_documents);
  g_test_add_func ("/card/load-errors", test_load_errors);
  g_test_add_func ("/card/verify-files", test_verify_files);
  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *name = g_strdup_printf ("/card/bad/%02zu-%s-%s", i, bad[i].path,
                                               bad[i].value ? "set" : "missing");
      g_test_add_data_func (name, &bad[i], test_bad_card);
    }
  return g_test_run ();
}
