/* The shipped Fashion-MNIST models, run by our engine on the whole
 * Fashion-MNIST test set (Debian dataset-fashion-mnist), reach the figures
 * their cards state (metrics.*, measured in PyTorch at training time):
 *   - fmnist-classifier: test accuracy ≥ card − 0.1 percentage point;
 *   - fmnist-ae: per-pixel reconstruction MSE (encoder then decoder) on the
 *     padded 32×32 images and on their central 28×28, equal to the card's
 *     values within 0.1 % relative (the card rounds to 6 decimals, ~4e-5
 *     relative; float32 engine vs PyTorch differ by ~1e-6 relative).
 * Preprocessing follows the card: x = (pixel·scale − mean) / std with pixel
 * in 0..255, zero padding (card input.pad) around the 28×28 image.
 * Without the dataset (or with TL_FMNIST_DIR pointing elsewhere) the cases
 * are skipped. */
#include "card.h"
#include "idx.h"
#include "tl-net.h"
#include "tl-test.h"
#include "card-test.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"  /* Debian's, unless TL_FMNIST_DIR */
#define BATCH      500

/* metrics.<key> of a card (tl_card does not keep metrics: they are facts
 * about the model, not instructions for running it). */
static double
card_metric (const tl_card *k, const char *key)
{
  GError *e = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  json_parser_load_from_file (p, k->path, &e);
  g_assert_no_error (e);
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  JsonObject *m = json_object_get_object_member (o, "metrics");
  g_assert_nonnull (m);
  g_assert_true (json_object_has_member (m, key));
  return json_object_get_double_member (m, key);
}

/* Full path of a dataset file, or NULL (and the case skipped) when the
 * dataset is not installed. */
static char *
dataset_file (const char *name)
{
  const char *dir = g_getenv ("TL_FMNIST_DIR");
  char *p = g_build_filename (dir ? dir : FMNIST_DIR, name, NULL);
  if (g_file_test (p, G_FILE_TEST_EXISTS))
    return p;
  g_autofree char *msg = g_strdup_printf ("dataset-fashion-mnist is not installed (no %s)", p);
  g_test_skip (msg);
  g_free (p);
  return NULL;
}

/* The IDX1 label file (magic 0x00000801, count, then one byte per label),
 * gunzipped. tl_idx reads images only. */
static guint8 *
read_labels (const char *path, int *n)
{
  GError *e = NULL;
  g_autoptr (GFile) f = g_file_new_for_path (path);
  g_autoptr (GInputStream) raw = G_INPUT_STREAM (g_file_read (f, NULL, &e));
  g_assert_no_error (e);
  g_autoptr (GConverter) z = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP));
  g_autoptr (GInputStream) in = g_converter_input_stream_new (raw, z);
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &e);
  g_assert_no_error (e);
  gsize len = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out));
  const guint8 *d = g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out));
  g_assert_cmpuint (len, >=, 8);
  guint32 magic = GUINT32_FROM_BE (*(const guint32 *) d);
  guint32 count = GUINT32_FROM_BE (*(const guint32 *) (d + 4));
  g_assert_cmphex (magic, ==, 0x801);
  g_assert_cmpuint (len, ==, 8 + (gsize) count);
  *n = (int) count;
  return g_memdup2 (d + 8, count);
}

/* Writes image img into slot b of x (N×1×H×W) as the card says: the image
 * must already be the card's inner size (no resize), pixels 0..255 are
 * scaled and normalised, the padding stays zero. */
static void
put_image (const tl_card *k, const tl_image *img, tl_tensor *x, int b)
{
  int W = k->width, H = k->height;
  g_assert_cmpint (k->channels, ==, 1);
  g_assert_cmpint (img->channels, ==, 1);
  g_assert_cmpint (img->width, ==, W - k->pad[1] - k->pad[3]);
  g_assert_cmpint (img->height, ==, H - k->pad[0] - k->pad[2]);
  float *dst = x->data + (size_t) b * W * H;
  memset (dst, 0, sizeof (float) * W * H);
  for (int y = 0; y < img->height; y++)
    for (int i = 0; i < img->width; i++)
      {
        double pixel = round (img->data[y * img->width + i] * 255.0);
        dst[(y + k->pad[0]) * W + i + k->pad[1]]
          = (float) ((pixel * k->scale - k->mean[0]) / k->std[0]);
      }
}

/* Fills x with the next `want` images of r (want ≤ batch; the rest of the
 * batch stays as it was and is ignored by the caller). */
static void
fill_batch (const tl_card *k, tl_idx_reader *r, tl_tensor *x, int want)
{
  for (int b = 0; b < want; b++)
    {
      GError *e = NULL;
      g_autoptr (tl_image) img = tl_idx_next (r, &e);
      g_assert_no_error (e);
      put_image (k, img, x, b);
    }
}

static void
test_classifier_accuracy (void)
{
  g_autofree char *images = dataset_file ("t10k-images-idx3-ubyte.gz");
  g_autofree char *labels_path = dataset_file ("t10k-labels-idx1-ubyte.gz");
  if (!images || !labels_path)
    return;
  g_autoptr (tl_card) k = tl_test_card ("fmnist-classifier");
  double stated = card_metric (k, "test_accuracy");
  int n_labels;
  g_autofree guint8 *labels = read_labels (labels_path, &n_labels);
  GError *e = NULL;
  g_autoptr (tl_idx_reader) r = tl_idx_open (images, &e);
  g_assert_no_error (e);
  int n = tl_idx_count (r);
  g_assert_cmpint (n, ==, n_labels);
  g_assert_cmpint (n, ==, 10000);

  tl_net *net = tl_net_load_batch (k->model, BATCH, &e);
  g_assert_no_error (e);
  const char *logits = tl_card_output (k, "logits");
  int64_t shape[4] = { BATCH, 1, k->height, k->width };
  g_autoptr (tl_tensor) x = tl_tensor_new (4, shape, &e);
  g_assert_no_error (e);
  int correct = 0;
  for (int start = 0; start < n; start += BATCH)
    {
      int m = MIN (BATCH, n - start);
      fill_batch (k, r, x, m);
      tl_net_result *res = tl_net_run1 (net, x, &logits, 1, TL_NET_RUN_DEFAULT, &e);
      g_assert_no_error (e);
      const tl_tensor *y = tl_net_result_get (res, logits);
      g_assert_nonnull (y);
      g_assert_cmpint (tl_tensor_numel (y), ==, (int64_t) BATCH * k->n_labels);
      g_autofree float *yd = g_new (float, tl_tensor_numel (y));
      tl_tensor_gather (y, yd);
      for (int b = 0; b < m; b++)
        {
          const float *row = yd + (size_t) b * k->n_labels;
          int best = 0;
          for (int c = 1; c < k->n_labels; c++)
            best = row[c] > row[best] ? c : best;
          g_assert_true (isfinite (row[best]));
          correct += best == labels[start + b];
        }
      tl_net_result_free (res);
    }
  tl_net_free (net);
  double acc = (double) correct / n;
  g_test_message ("fmnist-classifier on the %d Fashion-MNIST test images, run by tl_net: "
                  "accuracy %.4f (%d correct); card states %.4f, floor %.4f",
                  n, acc, correct, stated, stated - 0.001);
  g_assert_cmpfloat (acc, >=, stated - 0.001);
}

static void
test_autoencoder_mse (void)
{
  g_autofree char *images = dataset_file ("t10k-images-idx3-ubyte.gz");
  if (!images)
    return;
  g_autoptr (tl_card) k = tl_test_card ("fmnist-ae");
  double stated32 = card_metric (k, "test_reconstruction_mse");
  double stated28 = card_metric (k, "test_reconstruction_mse_28x28");
  GError *e = NULL;
  g_autoptr (tl_idx_reader) r = tl_idx_open (images, &e);
  g_assert_no_error (e);
  int n = tl_idx_count (r);
  g_assert_cmpint (n, ==, 10000);

  tl_net *enc = tl_net_load_batch (k->encoder, BATCH, &e);
  g_assert_no_error (e);
  tl_net *dec = tl_net_load_batch (k->decoder, BATCH, &e);
  g_assert_no_error (e);
  int W = k->width, H = k->height;
  g_assert_cmpint (k->out_width, ==, W);
  g_assert_cmpint (k->out_height, ==, H);
  int64_t shape[4] = { BATCH, 1, H, W };
  g_autoptr (tl_tensor) x = tl_tensor_new (4, shape, &e);
  g_assert_no_error (e);
  const char *zname = k->encoder_output, *yname = k->decoder_output;
  double se32 = 0, se28 = 0;
  for (int start = 0; start < n; start += BATCH)
    {
      int m = MIN (BATCH, n - start);
      fill_batch (k, r, x, m);
      tl_net_result *rz = tl_net_run1 (enc, x, &zname, 1, TL_NET_RUN_DEFAULT, &e);
      g_assert_no_error (e);
      const tl_tensor *z = tl_net_result_get (rz, zname);
      g_assert_nonnull (z);
      tl_net_result *ry = tl_net_run1 (dec, z, &yname, 1, TL_NET_RUN_DEFAULT, &e);
      g_assert_no_error (e);
      const tl_tensor *y = tl_net_result_get (ry, yname);
      g_assert_nonnull (y);
      g_assert_cmpint (tl_tensor_numel (y), ==, tl_tensor_numel (x));
      g_autofree float *yd = g_new (float, tl_tensor_numel (y));
      tl_tensor_gather (y, yd);
      for (int b = 0; b < m; b++)
        for (int i = 0; i < H; i++)
          for (int j = 0; j < W; j++)
            {
              size_t o = ((size_t) b * H + i) * W + j;
              g_assert_true (isfinite (yd[o]));
              double d = (double) yd[o] - (double) x->data[o];
              se32 += d * d;
              if (i >= k->pad[0] && i < H - k->pad[2] && j >= k->pad[1] && j < W - k->pad[3])
                se28 += d * d;
            }
      tl_net_result_free (ry);
      tl_net_result_free (rz);
    }
  tl_net_free (dec);
  tl_net_free (enc);
  int ih = H - k->pad[0] - k->pad[2], iw = W - k->pad[1] - k->pad[3];
  double mse32 = se32 / ((double) n * H * W), mse28 = se28 / ((double) n * ih * iw);
  g_test_message ("fmnist-ae on the %d test images, run by tl_net: reconstruction MSE per pixel "
                  "%.7f on %dx%d (card %.6f), %.7f on the central %dx%d (card %.6f); tol 0.1%% "
                  "relative", n, mse32, H, W, stated32, mse28, ih, iw, stated28);
  g_assert_cmpfloat (fabs (mse32 - stated32), <=, 1e-3 * stated32);
  g_assert_cmpfloat (fabs (mse28 - stated28), <=, 1e-3 * stated28);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fmnist-testset/classifier-accuracy", test_classifier_accuracy);
  g_test_add_func ("/fmnist-testset/autoencoder-mse", test_autoencoder_mse);
  return g_test_run ();
}
