/* Every shipped model (models/<name>.json) loads in our engine (tl_net), runs on
 * the committed reference input and matches ONNX Runtime's committed
 * outputs and default-target-layer activations (tests/data/models/, made by
 * tools/ref/models-verify*.py with onnxruntime-node 1.30).
 *
 * Tolerance: relative L2 error ‖ours − ORT‖₂ / ‖ORT‖₂ ≤ 1e-4 for every
 * tensor (float32 with a different summation order drifts by ~1e-6; a wrong
 * op, padding or layout gives errors of order 1). The measured error of each
 * tensor is printed with g_test_message. */
#include "card.h"
#include "image.h"
#include "npy.h"
#include "tl-net.h"
#include "tl-test.h"
#include "card-test.h"

#include <math.h>
#include <string.h>

#define REL_L2_TOL 1e-4

static tl_tensor *
fixture (const char *model, const char *file)
{
  g_autofree char *rel = g_build_filename ("models", model, file, NULL);
  g_autofree char *p = tl_test_data (rel);
  GError *e = NULL;
  tl_tensor *t = tl_npy_load (p, &e);
  g_assert_no_error (e);
  return t;
}

static tl_net *
load_net (const char *path)
{
  GError *e = NULL;
  tl_net *net = tl_net_load (path, &e);
  g_assert_no_error (e);
  g_assert_nonnull (net);
  return net;
}

/* ‖a − b‖₂ / ‖b‖₂ over n floats (double accumulation). */
static double
rel_l2 (const float *a, const float *b, int64_t n)
{
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++)
    {
      double d = (double) a[i] - (double) b[i];
      num += d * d;
      den += (double) b[i] * (double) b[i];
    }
  return sqrt (num) / fmax (sqrt (den), 1e-30);
}

/* got must have ref's shape and be within REL_L2_TOL of it. */
static void
assert_matches (const char *model, const char *what, const tl_tensor *got,
                const tl_tensor *ref)
{
  char gs[64], rs[64];
  g_assert_nonnull (got);
  if (!tl_tensor_same_shape (got, ref))
    g_error ("%s %s: engine shape %s, ORT shape %s", model, what,
             tl_shape_str (got->ndim, got->shape, gs, sizeof gs),
             tl_shape_str (ref->ndim, ref->shape, rs, sizeof rs));
  int64_t n = tl_tensor_numel (ref);
  g_autofree float *g = g_new (float, n);
  g_autofree float *r = g_new (float, n);
  tl_tensor_gather (got, g);
  tl_tensor_gather (ref, r);
  for (int64_t i = 0; i < n; i++)
    g_assert_true (isfinite (g[i]));
  double err = rel_l2 (g, r, n);
  g_test_message ("%s %s %s: relative L2 error vs ORT %.3g (tol %g)", model, what,
                  tl_shape_str (ref->ndim, ref->shape, rs, sizeof rs), err, REL_L2_TOL);
  if (!(err <= REL_L2_TOL))
    g_error ("%s %s: relative L2 error %.3g > %g", model, what, err, REL_L2_TOL);
}

/* Runs a one-input net, tapping the given tensors; the caller frees. */
static tl_net_result *
run (tl_net *net, const tl_tensor *x, const char *const *taps, int n_taps)
{
  GError *e = NULL;
  tl_net_result *r = tl_net_run1 (net, x, taps, n_taps, TL_NET_RUN_DEFAULT, &e);
  g_assert_no_error (e);
  g_assert_nonnull (r);
  return r;
}

/* A classifier-like model: one input fixture, named outputs and the card's
 * target layer checked against their fixtures. */
typedef struct {
  const char *key;   /* card output key, or NULL for the target layer */
  const char *file;  /* fixture */
} check;

static void
check_model (const char *name, const check *checks, int n_checks)
{
  g_autoptr (tl_card) k = tl_test_card (name);
  tl_net *net = load_net (k->model);
  g_assert_nonnull (tl_net_find_tensor (net, k->target_layer));
  g_autoptr (tl_tensor) x = fixture (name, "input.npy");
  const char *taps[8];
  g_assert_cmpint (n_checks, <=, 8);
  for (int i = 0; i < n_checks; i++)
    {
      taps[i] = checks[i].key ? tl_card_output (k, checks[i].key) : k->target_layer;
      g_assert_nonnull (taps[i]);
    }
  tl_net_result *r = run (net, x, taps, n_checks);
  for (int i = 0; i < n_checks; i++)
    {
      g_autoptr (tl_tensor) ref = fixture (name, checks[i].file);
      assert_matches (name, taps[i], tl_net_result_get (r, taps[i]), ref);
    }
  tl_net_result_free (r);
  tl_net_free (net);
}

static void
test_emotion (void)
{
  static const check c[] = { { "logits", "logits.npy" },
                             { "probabilities", "probabilities.npy" },
                             { NULL, "target.npy" } };
  check_model ("emotion", c, G_N_ELEMENTS (c));
}

static void
test_faceres (void)
{
  static const check c[] = { { "embedding", "embedding.npy" }, { NULL, "target.npy" } };
  check_model ("faceres", c, G_N_ELEMENTS (c));
}

static void
test_fmnist_classifier (void)
{
  static const check c[] = { { "logits", "logits.npy" },
                             { "features", "features.npy" },
                             { NULL, "target.npy" } };
  check_model ("fmnist-classifier", c, G_N_ELEMENTS (c));
}

/* CenterNet's input (camera.png replicated to 3 channels, 0..255) is not
 * stored (3 MB): it is rebuilt here from the shipped photo. Of the 80-class
 * heat-map only per-class sums and maxima and class 0's map are stored. */
static void
test_centernet (void)
{
  g_autoptr (tl_card) k = tl_test_card ("centernet");
  const char *root = g_getenv ("TL_SOURCE_ROOT");
  g_autofree char *png = g_build_filename (root ? root : ".", "models", "photos",
                                           "camera.png", NULL);
  GError *e = NULL;
  tl_image *img = tl_image_load (png, &e);
  g_assert_no_error (e);
  g_assert_cmpint (img->channels, ==, 1);
  g_assert_cmpint (img->width, ==, 512);
  g_assert_cmpint (img->height, ==, 512);
  int64_t shape[4] = { 1, 3, 512, 512 };
  g_autoptr (tl_tensor) x = tl_tensor_new (4, shape, &e);
  g_assert_no_error (e);
  for (int c = 0; c < 3; c++)
    for (int64_t i = 0; i < 512 * 512; i++)
      x->data[c * 512 * 512 + i] = roundf (img->data[i] * 255.0f);
  tl_image_free (img);

  tl_net *net = load_net (k->model);
  const char *heat = tl_card_output (k, "heatmap"), *wh = tl_card_output (k, "size");
  const char *taps[] = { heat, wh, k->target_layer };
  tl_net_result *r = run (net, x, taps, 3);

  g_autoptr (tl_tensor) ref_t = fixture ("centernet", "target.npy");
  assert_matches ("centernet", k->target_layer, tl_net_result_get (r, k->target_layer), ref_t);
  g_autoptr (tl_tensor) ref_wh = fixture ("centernet", "wh.npy");
  assert_matches ("centernet", wh, tl_net_result_get (r, wh), ref_wh);

  const tl_tensor *h = tl_net_result_get (r, heat);
  g_assert_nonnull (h);
  g_assert_cmpint (h->ndim, ==, 4);
  g_assert_cmpint (h->shape[0], ==, 1);
  g_assert_cmpint (h->shape[1], ==, 80);
  int64_t C = h->shape[1], HW = h->shape[2] * h->shape[3];
  g_autofree float *hd = g_new (float, C * HW);
  tl_tensor_gather (h, hd);
  int64_t s2[2] = { 1, C }, s4[4] = { 1, 1, h->shape[2], h->shape[3] };
  g_autoptr (tl_tensor) sum = tl_tensor_new (2, s2, &e);
  g_autoptr (tl_tensor) max = tl_tensor_new (2, s2, &e);
  g_assert_no_error (e);
  for (int64_t c = 0; c < C; c++)
    {
      double s = 0;
      float m = -INFINITY;
      for (int64_t i = 0; i < HW; i++)
        {
          s += hd[c * HW + i];
          m = fmaxf (m, hd[c * HW + i]);
        }
      sum->data[c] = (float) s;
      max->data[c] = m;
    }
  g_autoptr (tl_tensor) class0 = tl_tensor_view (hd, 4, s4);
  g_autoptr (tl_tensor) ref_sum = fixture ("centernet", "keypoints_sum.npy");
  g_autoptr (tl_tensor) ref_max = fixture ("centernet", "keypoints_max.npy");
  g_autoptr (tl_tensor) ref_c0 = fixture ("centernet", "keypoints_class0.npy");
  assert_matches ("centernet", "keypoints sum_yx", sum, ref_sum);
  assert_matches ("centernet", "keypoints max_yx", max, ref_max);
  assert_matches ("centernet", "keypoints[class 0]", class0, ref_c0);

  tl_net_result_free (r);
  tl_net_free (net);
}

/* Autoencoders: the encoder on the input fixture gives ORT's latent; the
 * decoder on ORT's stored decoder input gives ORT's decoded image. */
static void
check_autoencoder (const char *name)
{
  g_autoptr (tl_card) k = tl_test_card (name);
  g_assert_cmpint (k->task, ==, TL_TASK_AUTOENCODER);

  tl_net *enc = load_net (k->encoder);
  g_autoptr (tl_tensor) x = fixture (name, "input.npy");
  const char *etap[] = { k->encoder_output };
  tl_net_result *r = run (enc, x, etap, 1);
  g_autoptr (tl_tensor) ref_z = fixture (name, "latent.npy");
  assert_matches (name, "encoder latent", tl_net_result_get (r, k->encoder_output), ref_z);
  tl_net_result_free (r);
  tl_net_free (enc);

  tl_net *dec = load_net (k->decoder);
  g_assert_cmpstr (tl_net_input (dec, 0)->name, ==, k->decoder_input);
  g_autoptr (tl_tensor) z = fixture (name, "decoder_input.npy");
  const char *dtap[] = { k->decoder_output };
  r = run (dec, z, dtap, 1);
  g_autoptr (tl_tensor) ref_y = fixture (name, "decoded.npy");
  assert_matches (name, "decoder image", tl_net_result_get (r, k->decoder_output), ref_y);
  tl_net_result_free (r);
  tl_net_free (dec);
}

static void
test_fmnist_ae (void)
{
  check_autoencoder ("fmnist-ae");
}

static void
test_emoji_ae (void)
{
  check_autoencoder ("emoji-ae");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/models-engine/emotion", test_emotion);
  g_test_add_func ("/models-engine/faceres", test_faceres);
  g_test_add_func ("/models-engine/fmnist-classifier", test_fmnist_classifier);
  g_test_add_func ("/models-engine/centernet", test_centernet);
  g_test_add_func ("/models-engine/fmnist-ae", test_fmnist_ae);
  g_test_add_func ("/models-engine/emoji-ae", test_emoji_ae);
  return g_test_run ();
}
