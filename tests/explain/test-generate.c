/* tl_generate against its pieces: the decoder against torch (fixture from
 * tests/data/generate/make-tiny-ae.py), the samples against the sampler's
 * own stream decoded by hand, the grid against the samples resized into
 * their cells; determinism per seed; bad parameters. */
#include "generate.h"

#include "error.h"
#include "npy.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>

static char *card_path;

static tl_model *
tiny_ae (void)
{
  g_autoptr (GError) err = NULL;
  tl_model *m = tl_model_get (card_path, &err);
  g_assert_no_error (err);
  return m;
}

/* The engine decodes as torch does (tolerance 1e-5 on sigmoid outputs). */
static void
test_decoder_matches_torch (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = tiny_ae ();
  g_assert_cmpint (tl_model_task (m), ==, TL_TASK_AUTOENCODER);
  tl_net *dec = tl_model_decoder (m, &err);
  g_assert_no_error (err);
  g_autoptr (tl_tensor) z = tl_test_npy ("generate/decode-ref-z.npy");
  g_autoptr (tl_tensor) want = tl_test_npy ("generate/decode-ref-image.npy");
  for (int k = 0; k < z->shape[0]; k++)
    {
      int64_t shape[2] = { 1, 4 };
      g_autoptr (tl_tensor) x = tl_tensor_view (z->data + k * 4, 2, shape);
      const tl_tensor *in[1] = { x };
      const char *taps[1] = { "image" };
      tl_net_result *r = tl_model_run (m, dec, in, 1, taps, 1, 0, &err);
      g_assert_no_error (err);
      const tl_tensor *y = tl_net_result_get (r, "image");
      g_assert_cmpint (tl_tensor_numel (y), ==, 3 * 8 * 8);
      tl_assert_close (y->data, want->data + k * 192, 192, 1e-5);
      tl_net_result_free (r);
    }
}

/* Sample k of the grid is sample k of the sampler's stream for the seed,
 * decoded: checked against the sampler fitted here by hand. */
static void
test_samples_match_sampler (gconstpointer data)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = tiny_ae ();
  tl_generate_params p = tl_generate_default_params ();
  g_assert_true (tl_sampler_kind_from_name (data, &p.sampler.kind, &err));
  p.sampler.gmm.components = 3;
  p.count = 5;
  p.seed = 7;
  int64_t n0 = tl_model_forward_count ();
  tl_image **imgs = tl_generate_samples (m, &p, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_cmpint (tl_model_forward_count () - n0, ==, 5);

  g_autoptr (tl_tensor) bank = tl_test_npy ("generate/tiny-ae-latents.npy");
  g_autoptr (tl_sampler) s = tl_sampler_fit (bank, &p.sampler, NULL, NULL, &err);
  g_assert_no_error (err);
  g_autoptr (tl_tensor) z = tl_sampler_sample_tensor (s, 7, 0, 5, &err);
  g_assert_no_error (err);
  tl_net *dec = tl_model_decoder (m, NULL);
  for (int k = 0; k < 5; k++)
    {
      int64_t shape[2] = { 1, 4 };
      g_autoptr (tl_tensor) x = tl_tensor_view (z->data + k * 4, 2, shape);
      const tl_tensor *in[1] = { x };
      const char *taps[1] = { "image" };
      tl_net_result *r = tl_net_run (dec, in, 1, taps, 1, 0, &err);
      const tl_tensor *y = tl_net_result_get (r, "image");
      g_assert_cmpint (imgs[k]->channels, ==, 3);
      for (int c = 0; c < 3; c++)
        for (int i = 0; i < 64; i++)   /* planar vs interleaved; range [0,1] already */
          g_assert_cmpfloat (imgs[k]->data[i * 3 + c], ==, y->data[c * 64 + i]);
      tl_net_result_free (r);
      tl_image_free (imgs[k]);
    }
  g_free (imgs);
}

static void
test_grid (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = tiny_ae ();
  tl_generate_params p = tl_generate_default_params ();
  p.count = 7;
  p.columns = 3;
  p.cell_size = 12;
  p.spacing = 3;
  p.background[0] = 0.25f;
  p.background[3] = 0.5f;
  int W, H;
  g_assert_true (tl_generate_grid_size (m, &p, &W, &H, &err));
  g_assert_cmpint (W, ==, 3 * 12 + 4 * 3);
  g_assert_cmpint (H, ==, 3 * 12 + 4 * 3);
  g_autoptr (tl_image) grid = tl_generate_grid (m, &p, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_cmpint (grid->width, ==, W);
  g_assert_cmpint (grid->channels, ==, 4);

  tl_image **imgs = tl_generate_samples (m, &p, NULL, NULL, &err);
  g_assert_no_error (err);
  float cell[12 * 12 * 3];
  for (int k = 0; k < 7; k++)
    {
      g_assert_true (tl_resample (imgs[k]->data, 8, 8, 3, cell, 12, 12, TL_RESAMPLE_HALF_PIXEL, &err));
      int x0 = 3 + (k % 3) * 15, y0 = 3 + (k / 3) * 15;
      for (int y = 0; y < 12; y++)
        for (int x = 0; x < 12; x++)
          {
            const float *g = grid->data + ((size_t) (y0 + y) * W + x0 + x) * 4;
            tl_assert_close (g, cell + (y * 12 + x) * 3, 3, 0);
            g_assert_cmpfloat (g[3], ==, 1.0f);
          }
      tl_image_free (imgs[k]);
    }
  g_free (imgs);
  /* spacing and the two empty cells of the last row are background */
  const float *corner = grid->data;
  tl_assert_close (corner, p.background, 4, 0);
  const float *empty = grid->data + ((size_t) (3 + 2 * 15 + 5) * W + 3 + 2 * 15 + 5) * 4;
  tl_assert_close (empty, p.background, 4, 0);

  /* same seed, same grid; another seed, another grid */
  g_autoptr (tl_image) again = tl_generate_grid (m, &p, NULL, NULL, &err);
  g_assert_cmpint (memcmp (again->data, grid->data, sizeof (float) * W * H * 4), ==, 0);
  p.seed = 1;
  g_autoptr (tl_image) other = tl_generate_grid (m, &p, NULL, NULL, &err);
  g_assert_cmpint (memcmp (other->data, grid->data, sizeof (float) * W * H * 4), !=, 0);

  /* automatic columns and cell size: ceil(sqrt(count)), the decoder's width */
  p.columns = 0;
  p.cell_size = 0;
  p.spacing = 0;
  g_assert_true (tl_generate_grid_size (m, &p, &W, &H, &err));
  g_assert_cmpint (W, ==, 3 * 8);
  g_assert_cmpint (H, ==, 3 * 8);
}

static void
test_bad (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_model) m = tiny_ae ();
  tl_generate_params p = tl_generate_default_params ();
  int W, H;
  p.count = 0;
  g_assert_false (tl_generate_grid_size (m, &p, &W, &H, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "count"));
  g_clear_error (&err);
  p.count = TL_GENERATE_MAX_COUNT + 1;
  g_assert_null (tl_generate_grid (m, &p, NULL, NULL, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&err);
  p = tl_generate_default_params ();
  p.background[1] = NAN;
  g_assert_null (tl_generate_grid (m, &p, NULL, NULL, &err));
  g_assert_nonnull (strstr (err->message, "background"));
  g_clear_error (&err);
  p = tl_generate_default_params ();
  p.cell_size = 5000;
  g_assert_null (tl_generate_grid (m, &p, NULL, NULL, &err));
  g_assert_nonnull (strstr (err->message, "cell-size"));
  g_clear_error (&err);
  p = tl_generate_default_params ();
  p.sampler.pmf.levels = 0;
  g_assert_null (tl_generate_grid (m, &p, NULL, NULL, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);

  /* not an autoencoder */
  const char *root = g_getenv ("TL_SOURCE_ROOT");
  g_autofree char *emo = g_build_filename (root ? root : ".", "models", "emotion.json", NULL);
  g_autoptr (tl_model) e = tl_model_get (emo, &err);
  g_assert_no_error (err);
  p = tl_generate_default_params ();
  g_assert_null (tl_generate_grid (e, &p, NULL, NULL, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "not an autoencoder"));
}

/* Batched decoding (16 latents per pass) gives the images of
 * one-at-a-time decoding, in ceil(count / 16) passes instead of count: on
 * the tiny fixture and on the two shipped autoencoders (37 samples: two
 * full batches and a padded partial one). decode_batch out of range is an
 * error. */
static void
test_batched (gconstpointer data)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *path = NULL;
  if (strcmp (data, "tiny-ae") == 0)
    path = g_strdup (card_path);
  else
    path = g_build_filename (g_getenv ("TL_SOURCE_ROOT"), "models", data, NULL);
  g_autoptr (tl_model) m = tl_model_get (path, &err);
  g_assert_no_error (err);
  tl_generate_params p = tl_generate_default_params ();
  g_assert_cmpint (p.decode_batch, ==, TL_GENERATE_DECODE_BATCH);
  p.decode_batch = 16;
  p.count = 37;
  p.seed = 11;
  int64_t n0 = tl_model_forward_count ();
  tl_image **batched = tl_generate_samples (m, &p, NULL, NULL, &err);
  g_assert_no_error (err);
  int64_t n1 = tl_model_forward_count ();
  g_assert_cmpint (n1 - n0, ==, 3);
  p.decode_batch = 1;
  tl_image **single = tl_generate_samples (m, &p, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_cmpint (tl_model_forward_count () - n1, ==, 37);
  double worst = 0;
  for (int k = 0; k < p.count; k++)
    {
      size_t n = (size_t) single[k]->width * single[k]->height * single[k]->channels;
      g_assert_cmpint (batched[k]->width, ==, single[k]->width);
      g_assert_cmpint (batched[k]->channels, ==, single[k]->channels);
      for (size_t i = 0; i < n; i++)
        worst = fmax (worst, fabs (batched[k]->data[i] - single[k]->data[i]));
      tl_image_free (batched[k]);
      tl_image_free (single[k]);
    }
  g_free (batched);
  g_free (single);
  g_test_message ("%s: max |batched - single| = %g", (const char *) data, worst);
  /* pixels in [0, 1]: 1e-5 is float rounding (a batch splits its GEMMs
   * over the threads differently from a single latent; measured 1.1e-6),
   * 400 times below one 8-bit level */
  g_assert_cmpfloat (worst, <=, 1e-5);

  p.decode_batch = 0;
  g_assert_null (tl_generate_samples (m, &p, NULL, NULL, &err));
  g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "decode batch 0"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  card_path = tl_test_data ("generate/tiny-ae.json");
  g_test_add_func ("/generate/decoder-matches-torch", test_decoder_matches_torch);
  g_test_add_data_func ("/generate/samples-match-sampler/pmf", "pmf", test_samples_match_sampler);
  g_test_add_data_func ("/generate/samples-match-sampler/gmm", "gmm", test_samples_match_sampler);
  g_test_add_data_func ("/generate/samples-match-sampler/prior", "prior",
                        test_samples_match_sampler);
  g_test_add_func ("/generate/grid", test_grid);
  g_test_add_data_func ("/generate/batched/tiny-ae", "tiny-ae", test_batched);
  g_test_add_data_func ("/generate/batched/fmnist-ae", "fmnist-ae.json", test_batched);
  g_test_add_data_func ("/generate/batched/emoji-ae", "emoji-ae.json", test_batched);
  g_test_add_func ("/generate/bad", test_bad);
  int r = g_test_run ();
  tl_generate_cache_clear ();
  tl_model_cache_clear ();
  g_free (card_path);
  return r;
}
