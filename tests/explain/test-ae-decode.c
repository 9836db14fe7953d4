/* tl_ae_decode / tl_ae_decode_each, the one decoding path (ae-decode.h):
 * against torch (decode-ref-*.npy from tests/data/generate/make-tiny-ae.py),
 * batched against one at a time with the pass count, the streaming
 * callback and progress, the per-batch-size decoder cache, a decoder that
 * cannot be re-batched (make-fixed-batch-ae.py), bad arguments, and cards
 * that do not fit their decoder. */
#include "ae-decode.h"

#include "error.h"
#include "npy.h"
#include "tl-test.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define N 37   /* two full batches of 16 and a padded partial one */

static tl_model *
load_model (const char *name)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *p = tl_test_data (name);
  tl_model *m = tl_model_get (p, &err);
  g_assert_no_error (err);
  return m;
}

/* The first N latents of tiny-ae's bank. */
static tl_tensor *
latents (void)
{
  tl_tensor *bank = tl_test_npy ("generate/tiny-ae-latents.npy");
  g_assert_cmpint (bank->shape[0], >=, N);
  g_assert_cmpint (bank->shape[1], ==, 4);
  return bank;
}

/* Decodes N latents batch per pass; checks the number of passes. */
static tl_tensor *
decode_counted (tl_model *m, const float *z, int batch, int64_t passes)
{
  g_autoptr (GError) err = NULL;
  int64_t n0 = tl_model_forward_count ();
  tl_tensor *t = tl_ae_decode (m, z, N, batch, &err);
  g_assert_no_error (err);
  g_assert_cmpint (tl_model_forward_count () - n0, ==, passes);
  g_assert_cmpint (t->ndim, ==, 4);
  g_assert_cmpint (t->shape[0], ==, N);
  g_assert_cmpint (t->shape[1], ==, 3);
  g_assert_cmpint (t->shape[2], ==, 8);
  g_assert_cmpint (t->shape[3], ==, 8);
  return t;
}

static double
max_diff (const tl_tensor *a, const tl_tensor *b)
{
  g_assert_cmpint (tl_tensor_numel (a), ==, tl_tensor_numel (b));
  double worst = 0;
  for (int64_t i = 0; i < tl_tensor_numel (a); i++)
    worst = fmax (worst, fabs (a->data[i] - b->data[i]));
  return worst;
}

/* The engine's decode is torch's (sigmoid outputs, card range [0,1], so the
 * mapping is the identity): 1e-5 as in test-generate. */
static void
test_matches_torch (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = load_model ("generate/tiny-ae.json");
  g_autoptr (tl_tensor) z = tl_test_npy ("generate/decode-ref-z.npy");
  g_autoptr (tl_tensor) want = tl_test_npy ("generate/decode-ref-image.npy");
  for (int batch = 1; batch <= 4; batch += 3)
    {
      g_autoptr (tl_tensor) got = tl_ae_decode (m, z->data, z->shape[0], batch, &err);
      g_assert_no_error (err);
      g_assert_cmpint (tl_tensor_numel (got), ==, tl_tensor_numel (want));
      tl_assert_close (got->data, want->data, tl_tensor_numel (want), 1e-5);
    }
}

/* Batches of 16 and 64 give the images of one at a time, in ceil(N / batch)
 * passes (1e-5: float rounding, see test-generate's /generate/batched). */
static void
test_batched (void)
{
  g_autoptr (tl_model) m = load_model ("generate/tiny-ae.json");
  g_autoptr (tl_tensor) z = latents ();
  g_autoptr (tl_tensor) single = decode_counted (m, z->data, 1, N);
  g_autoptr (tl_tensor) b16 = decode_counted (m, z->data, 16, 3);
  g_autoptr (tl_tensor) b64 = decode_counted (m, z->data, 64, 1);
  g_assert_cmpfloat (max_diff (b16, single), <=, 1e-5);
  g_assert_cmpfloat (max_diff (b64, single), <=, 1e-5);
  for (int64_t i = 0; i < tl_tensor_numel (single); i++)
    g_assert_true (single->data[i] >= 0 && single->data[i] <= 1);
}

typedef struct {
  int64_t next;         /* the first image the next call must start at */
  int     calls;
  int     stop_after;   /* fail on this call (0 = never) */
  double  fractions[8];
  int     n_progress;
  const tl_tensor *want;
} stream_state;

static gboolean
on_images (const float *images, int64_t first, int64_t n, void *user, GError **error)
{
  stream_state *s = user;
  g_assert_cmpint (first, ==, s->next);
  g_assert_cmpint (n, ==, MIN (16, N - first));
  tl_assert_close (images, s->want->data + first * 192, n * 192, 0);
  s->next = first + n;
  if (++s->calls == s->stop_after)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "stopped after %d", s->calls);
      return FALSE;
    }
  return TRUE;
}

static void
on_progress (double fraction, const char *stage, void *user)
{
  stream_state *s = user;
  g_assert_cmpstr (stage, ==, "decoding samples");
  g_assert_cmpint (s->n_progress, <, 8);
  s->fractions[s->n_progress++] = fraction;
}

/* tl_ae_decode_each hands each pass's images on in order (the same images
 * tl_ae_decode gives), reports progress after each pass, and stops at the
 * pass its callback refuses, with that error. */
static void
test_stream (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = load_model ("generate/tiny-ae.json");
  g_autoptr (tl_tensor) z = latents ();
  g_autoptr (tl_tensor) want = tl_ae_decode (m, z->data, N, 16, &err);
  g_assert_no_error (err);
  stream_state s = { .want = want };
  g_assert_true (tl_ae_decode_each (m, z->data, N, 16, on_images, &s, on_progress, &s, &err));
  g_assert_no_error (err);
  g_assert_cmpint (s.calls, ==, 3);
  g_assert_cmpint (s.next, ==, N);
  g_assert_cmpint (s.n_progress, ==, 3);
  g_assert_cmpfloat (fabs (s.fractions[0] - 16.0 / N), <, 1e-12);
  g_assert_cmpfloat (fabs (s.fractions[1] - 32.0 / N), <, 1e-12);
  g_assert_cmpfloat (s.fractions[2], ==, 1.0);

  stream_state stop = { .want = want, .stop_after = 2 };
  int64_t n0 = tl_model_forward_count ();
  g_assert_false (tl_ae_decode_each (m, z->data, N, 16, on_images, &stop, NULL, NULL, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_assert_cmpstr (err->message, ==, "stopped after 2");
  g_assert_cmpint (tl_model_forward_count () - n0, ==, 2);
}

/* A decoder per batch size, each loaded once and kept: asking again gives
 * the same net, other sizes live beside it, batch 1 is the plain decoder. */
static void
test_cache (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = load_model ("generate/tiny-ae.json");
  tl_net *d16 = tl_model_decoder_batch (m, 16, &err);
  g_assert_no_error (err);
  g_assert_cmpint (tl_net_input (d16, 0)->shape[0], ==, 16);
  tl_net *d8 = tl_model_decoder_batch (m, 8, &err);
  g_assert_no_error (err);
  g_assert_cmpint (tl_net_input (d8, 0)->shape[0], ==, 8);
  g_assert_true (d8 != d16);
  g_assert_true (tl_model_decoder_batch (m, 16, &err) == d16);
  g_assert_true (tl_model_decoder_batch (m, 8, &err) == d8);
  g_assert_true (tl_model_decoder_batch (m, 1, &err) == tl_model_decoder (m, &err));
  g_assert_no_error (err);
}

/* A decoder whose Reshape fixes batch 1 cannot be loaded for 16: that is
 * an error of tl_model_decoder_batch (the same, remembered, on asking
 * again), and decoding falls back to one latent per pass, giving the
 * images of tiny-ae (the same weights). */
static void
test_fixed_batch (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = load_model ("generate/tiny-ae-fixed.json");
  g_assert_null (tl_model_decoder_batch (m, 16, &err));
  g_assert_nonnull (err);
  g_autofree char *first = g_strdup (err->message);
  g_test_message ("batch 16: %s", first);
  g_clear_error (&err);
  g_assert_null (tl_model_decoder_batch (m, 16, &err));
  g_assert_cmpstr (err->message, ==, first);
  g_clear_error (&err);

  g_autoptr (tl_model) ref = load_model ("generate/tiny-ae.json");
  g_autoptr (tl_tensor) z = latents ();
  g_autoptr (tl_tensor) want = decode_counted (ref, z->data, 1, N);
  g_autoptr (tl_tensor) got = decode_counted (m, z->data, 16, N);
  g_assert_cmpfloat (max_diff (got, want), ==, 0);
}

static void
test_bad (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = load_model ("generate/tiny-ae.json");
  g_autoptr (tl_tensor) z = latents ();
  g_assert_null (tl_ae_decode (m, z->data, 0, 1, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "decode: 0 latents, need 1.."));
  g_clear_error (&err);
  g_assert_null (tl_ae_decode (m, z->data, TL_AE_MAX_IMAGES + 1, 1, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&err);
  for (int b = 0; b <= TL_AE_DECODE_MAX_BATCH + 1; b += TL_AE_DECODE_MAX_BATCH + 1)
    {
      g_assert_null (tl_ae_decode (m, z->data, N, b, &err));
      g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
      g_autofree char *want = g_strdup_printf ("decode batch %d is out of range 1..%d", b,
                                               TL_AE_DECODE_MAX_BATCH);
      g_assert_cmpstr (err->message, ==, want);
      g_clear_error (&err);
    }

  const char *root = g_getenv ("TL_SOURCE_ROOT");
  g_autofree char *emo = g_build_filename (root ? root : ".", "models", "emotion.json", NULL);
  g_autoptr (tl_model) e = tl_model_get (emo, &err);
  g_assert_no_error (err);
  g_assert_null (tl_ae_decode (e, z->data, 1, 1, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "not an autoencoder"));
}

/* tiny-ae.json with autoencoder.<key> set to value (an int if it parses as
 * one, else a string), written into dir next to copies of its files (card
 * paths are relative to the card). */
static char *
bad_card (const char *dir, const char *key, const char *value)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *src = tl_test_data ("generate/tiny-ae.json");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_file (parser, src, &err));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonObject *ae = json_object_get_object_member (root, "autoencoder");
  JsonArray *files = json_object_get_array_member (root, "files");
  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      const char *f = json_object_get_string_member (json_array_get_object_element (files, i),
                                                     "path");
      g_autofree char *rel = g_build_filename ("generate", f, NULL);
      g_autofree char *from = tl_test_data (rel);
      g_autofree char *to = g_build_filename (dir, f, NULL);
      g_autofree char *bytes = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (from, &bytes, &len, &err));
      g_assert_true (g_file_set_contents (to, bytes, len, &err));
    }
  char *end;
  gint64 v = g_ascii_strtoll (value, &end, 10);
  JsonObject *target = g_str_has_prefix (key, "output.")
                         ? json_object_get_object_member (ae, "output") : ae;
  const char *name = g_str_has_prefix (key, "output.") ? key + 7 : key;
  if (*end)
    json_object_set_string_member (target, name, value);
  else
    json_object_set_int_member (target, name, v);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, json_parser_get_root (parser));
  g_autofree char *base = g_strdup_printf ("bad-%s.json", name);
  char *path = g_build_filename (dir, base, NULL);
  g_assert_true (json_generator_to_file (gen, path, &err));
  return path;
}

/* A card that does not fit its decoder is refused with the field named. */
static void
test_bad_card (void)
{
  const struct { const char *key, *value; int batch; const char *want; } cases[] = {
    { "latent_dim", "5", 1, "the decoder needs one input of 1 x 5 values (latent_dim)" },
    { "latent_dim", "5", 16, "the decoder needs one input of 16 x 5 values (latent_dim)" },
    { "decoder_output", "nope", 1, "no tensor 'nope' (decoder_output)" },
    { "output.channels", "1", 1, "decoder output 'image' does not have the card's shape "
                                 "1x1x8x8" },
    { "output.height", "4", 16, "decoder output 'image' does not have the card's shape "
                                "16x3x4x8" },
  };
  g_autoptr (GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("tl-ae-decode-XXXXXX", &err);
  g_assert_no_error (err);
  g_autoptr (tl_tensor) z = latents ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *card = bad_card (dir, cases[i].key, cases[i].value);
      g_autoptr (tl_model) m = tl_model_load (card, &err);
      g_assert_no_error (err);
      g_assert_null (tl_ae_decode (m, z->data, 3, cases[i].batch, &err));
      g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
      g_test_message ("%s = %s: %s", cases[i].key, cases[i].value, err->message);
      g_assert_nonnull (strstr (err->message, cases[i].want));
      g_clear_error (&err);
      g_remove (card);
    }
  const char *files[] = { "tiny-ae-encoder.onnx", "tiny-ae-decoder.onnx", "tiny-ae-latents.npy" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *f = g_build_filename (dir, files[i], NULL);
      g_remove (f);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ae-decode/matches-torch", test_matches_torch);
  g_test_add_func ("/ae-decode/batched", test_batched);
  g_test_add_func ("/ae-decode/stream", test_stream);
  g_test_add_func ("/ae-decode/cache", test_cache);
  g_test_add_func ("/ae-decode/fixed-batch", test_fixed_batch);
  g_test_add_func ("/ae-decode/bad", test_bad);
  g_test_add_func ("/ae-decode/bad-card", test_bad_card);
  int r = g_test_run ();
  tl_model_cache_clear ();
  return r;
}
