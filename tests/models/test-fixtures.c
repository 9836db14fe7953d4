/* The ORT reference fixtures (tests/data/models/) load with our .npy reader
 * and are consistent with the cards and with each other: where a model's
 * output is a plain function of its target layer (global average pooling)
 * or of another output (softmax), that relation holds on the stored values.
 * The engine's "matches ORT" test will start from these files. */
#include "card.h"
#include "npy.h"
#include "tl-test.h"
#include "card-test.h"

#include <math.h>
#include <string.h>

static tl_tensor *
fixture (const char *model, const char *file)
{
  g_autofree char *rel = g_build_filename ("models", model, file, NULL);
  g_autofree char *p = tl_test_data (rel);
  GError *e = NULL;
  tl_tensor *t = tl_npy_load (p, &e);
  g_assert_no_error (e);
  for (int64_t i = 0; i < tl_tensor_numel (t); i++)
    g_assert_true (isfinite (t->data[i]));
  return t;
}

static void
assert_shape (const tl_tensor *t, int ndim, const int64_t *shape)
{
  g_assert_cmpint (t->ndim, ==, ndim);
  for (int i = 0; i < ndim; i++)
    g_assert_cmpint (t->shape[i], ==, shape[i]);
}

/* pooled[c] must equal the spatial mean of map[0,c,:,:] (relative to max |pooled|). */
static void
assert_gap (const tl_tensor *map, const tl_tensor *pooled, double tol)
{
  int64_t C = map->shape[1], HW = map->shape[2] * map->shape[3];
  g_assert_cmpint (tl_tensor_numel (pooled), ==, C);
  double scale = 0;
  for (int64_t c = 0; c < C; c++)
    scale = fmax (scale, fabs (pooled->data[c]));
  for (int64_t c = 0; c < C; c++)
    {
      double s = 0;
      for (int64_t i = 0; i < HW; i++)
        s += map->data[c * HW + i];
      if (fabs (s / (double) HW - pooled->data[c]) > tol * scale)
        g_error ("channel %" G_GINT64_FORMAT ": mean %.9g vs pooled %.9g", c, s / (double) HW,
                 (double) pooled->data[c]);
    }
}

static int
argmax (const float *x, int n)
{
  int best = 0;
  for (int i = 1; i < n; i++)
    if (x[i] > x[best])
      best = i;
  return best;
}

static void
test_emotion (void)
{
  g_autoptr (tl_card) k = tl_test_card ("emotion");
  g_autoptr (tl_tensor) x = fixture ("emotion", "input.npy");
  g_autoptr (tl_tensor) lg = fixture ("emotion", "logits.npy");
  g_autoptr (tl_tensor) pr = fixture ("emotion", "probabilities.npy");
  g_autoptr (tl_tensor) t = fixture ("emotion", "target.npy");
  assert_shape (x, 4, (int64_t[]) { 1, k->channels, k->height, k->width });
  assert_shape (lg, 2, (int64_t[]) { 1, k->n_labels });
  assert_shape (t, 4, (int64_t[]) { 1, 256, 8, 8 });
  /* Input range of (g/255 − 0.5)/0.5. */
  for (int64_t i = 0; i < tl_tensor_numel (x); i++)
    g_assert_true (x->data[i] >= -1.0f && x->data[i] <= 1.0f);
  /* probabilities = softmax(logits), computed here in double. */
  double m = lg->data[argmax (lg->data, 7)], z = 0;
  for (int i = 0; i < 7; i++)
    z += exp (lg->data[i] - m);
  for (int i = 0; i < 7; i++)
    g_assert_cmpfloat_with_epsilon (pr->data[i], exp (lg->data[i] - m) / z, 1e-6);
  g_assert_cmpstr (k->labels[argmax (pr->data, 7)], ==, "happy");
}

static void
test_faceres (void)
{
  g_autoptr (tl_card) k = tl_test_card ("faceres");
  g_autoptr (tl_tensor) x = fixture ("faceres", "input.npy");
  g_autoptr (tl_tensor) emb = fixture ("faceres", "embedding.npy");
  g_autoptr (tl_tensor) t = fixture ("faceres", "target.npy");
  assert_shape (x, 4, (int64_t[]) { 1, 3, k->height, k->width });
  assert_shape (emb, 2, (int64_t[]) { 1, 1024 });
  assert_shape (t, 4, (int64_t[]) { 1, 1024, 7, 7 });
  /* The descriptor is the global average of the target layer. */
  assert_gap (t, emb, 1e-5);
  for (int64_t i = 0; i < tl_tensor_numel (x); i++)
    g_assert_true (x->data[i] >= 0.0f && x->data[i] <= 255.0f);
}

static void
test_centernet (void)
{
  g_autoptr (tl_card) k = tl_test_card ("centernet");
  g_autoptr (tl_tensor) t = fixture ("centernet", "target.npy");
  g_autoptr (tl_tensor) sum = fixture ("centernet", "keypoints_sum.npy");
  g_autoptr (tl_tensor) mx = fixture ("centernet", "keypoints_max.npy");
  g_autoptr (tl_tensor) p0 = fixture ("centernet", "keypoints_class0.npy");
  g_autoptr (tl_tensor) wh = fixture ("centernet", "wh.npy");
  assert_shape (t, 4, (int64_t[]) { 1, 480, 16, 16 });
  assert_shape (sum, 2, (int64_t[]) { 1, k->n_labels });
  assert_shape (p0, 4, (int64_t[]) { 1, 1, 128, 128 });
  assert_shape (wh, 4, (int64_t[]) { 1, 4, 128, 128 });
  /* The person channel is stored whole: its sum and max are the stored ones. */
  double s = 0, m = 0;
  for (int i = 0; i < 128 * 128; i++)
    {
      g_assert_true (p0->data[i] > 0.0f && p0->data[i] < 1.0f);   /* sigmoid */
      s += p0->data[i];
      m = fmax (m, p0->data[i]);
    }
  g_assert_cmpfloat_with_epsilon (s, sum->data[0], 1e-5 * s);
  g_assert_cmpfloat (m, ==, mx->data[0]);
  /* camera.png shows a man: person is the strongest class. */
  g_assert_cmpstr (k->labels[argmax (mx->data, 80)], ==, "person");
}

static void
test_fmnist_classifier (void)
{
  g_autofree char *p = tl_test_data ("models/fmnist-classifier/target.npy");
  if (!g_file_test (p, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no fmnist-classifier fixtures");
      return;
    }
  g_autoptr (tl_card) k = tl_test_card ("fmnist-classifier");
  g_autoptr (tl_tensor) x = fixture ("fmnist-classifier", "input.npy");
  g_autoptr (tl_tensor) t = fixture ("fmnist-classifier", "target.npy");
  g_autoptr (tl_tensor) f = fixture ("fmnist-classifier", "features.npy");
  g_autoptr (tl_tensor) lg = fixture ("fmnist-classifier", "logits.npy");
  assert_shape (x, 4, (int64_t[]) { 1, 1, 28, 28 });
  assert_shape (lg, 2, (int64_t[]) { 1, 10 });
  /* features = GAP(target layer). */
  assert_gap (t, f, 1e-5);
  g_assert_cmpint (k->n_labels, ==, 10);
}

static void
test_autoencoders (void)
{
  const char *names[] = { "fmnist-ae", "emoji-ae" };
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *rel = g_build_filename ("models", names[i], "decoded.npy", NULL);
      g_autofree char *p = tl_test_data (rel);
      if (!g_file_test (p, G_FILE_TEST_EXISTS))
        continue;
      g_autoptr (tl_card) k = tl_test_card (names[i]);
      g_autoptr (tl_tensor) x = fixture (names[i], "input.npy");
      g_autoptr (tl_tensor) z = fixture (names[i], "latent.npy");
      g_autoptr (tl_tensor) zi = fixture (names[i], "decoder_input.npy");
      g_autoptr (tl_tensor) y = fixture (names[i], "decoded.npy");
      assert_shape (x, 4, (int64_t[]) { 1, k->channels, k->height, k->width });
      assert_shape (z, 2, (int64_t[]) { 1, k->latent_dim });
      assert_shape (zi, 2, (int64_t[]) { 1, k->latent_dim });
      assert_shape (y, 4, (int64_t[]) { 1, k->out_channels, k->out_height, k->out_width });
      for (int64_t j = 0; j < tl_tensor_numel (y); j++)
        g_assert_true (y->data[j] >= k->out_min && y->data[j] <= k->out_max);
      /* A trained AE reconstructs its input: MSE well below the input's variance. */
      double mse = 0, mean = 0, var = 0;
      int64_t n = tl_tensor_numel (x);
      for (int64_t j = 0; j < n; j++)
        mean += x->data[j] / (double) n;
      for (int64_t j = 0; j < n; j++)
        {
          mse += (y->data[j] - x->data[j]) * (y->data[j] - x->data[j]) / (double) n;
          var += (x->data[j] - mean) * (x->data[j] - mean) / (double) n;
        }
      g_assert_cmpfloat (mse, <, 0.25 * var);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fixtures/emotion", test_emotion);
  g_test_add_func ("/fixtures/faceres", test_faceres);
  g_test_add_func ("/fixtures/centernet", test_centernet);
  g_test_add_func ("/fixtures/fmnist-classifier", test_fmnist_classifier);
  g_test_add_func ("/fixtures/autoencoders", test_autoencoders);
  return g_test_run ();
}
