/* PNG/JPEG decoding against the values PIL and our fixture script agree
 * on (tests/data/imaging/make-image-fixtures.py), PNG round trips, and
 * every kind of bad file. */
#include "image.h"
#include "npy.h"
#include "error.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

static char *
fixture (const char *name)
{
  g_autofree char *rel = g_build_filename ("imaging", name, NULL);
  return tl_test_data (rel);
}

static tl_image *
load_fixture (const char *name, GError **error)
{
  g_autofree char *p = fixture (name);
  return tl_image_load (p, error);
}

/* decoded image vs the expected H x W x C .npy, |diff| <= tol */
static void
check_against (const char *file, const char *npy, double tol)
{
  GError *e = NULL;
  g_autoptr (tl_image) img = load_fixture (file, &e);
  g_assert_no_error (e);
  g_autofree char *np = fixture (npy);
  g_autoptr (tl_tensor) want = tl_npy_load (np, &e);
  g_assert_no_error (e);
  g_assert_cmpint (want->ndim, ==, 3);
  g_assert_cmpint (img->height, ==, want->shape[0]);
  g_assert_cmpint (img->width, ==, want->shape[1]);
  g_assert_cmpint (img->channels, ==, want->shape[2]);
  tl_assert_close (img->data, want->data, tl_tensor_numel (want), tol);
}

static void
test_png_exact (void)
{
  const char *names[] = { "grey1", "grey2", "grey4", "grey8", "grey16", "greya8", "greya16",
                          "rgb8", "rgb16", "rgba8", "rgba16", "rgb8_interlaced", "pal1",
                          "pal2", "pal4", "pal8", "pal1_trns", "pal2_trns", "pal4_trns",
                          "pal8_trns", "grey8_trns", "rgb16_trns" };
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *png = g_strconcat (names[i], ".png", NULL);
      g_autofree char *npy = g_strconcat (names[i], ".npy", NULL);
      g_test_message ("%s", png);
      check_against (png, npy, 0.0);
    }
}

/* same libjpeg-turbo as PIL: allow one 8-bit step */
static void
test_jpeg_vs_pil (void)
{
  check_against ("jpeg_rgb.jpg", "jpeg_rgb.npy", 1.0 / 255 + 1e-7);
  check_against ("jpeg_rgb_progressive.jpg", "jpeg_rgb_progressive.npy", 1.0 / 255 + 1e-7);
  check_against ("jpeg_grey.jpg", "jpeg_grey.npy", 1.0 / 255 + 1e-7);
}

static void
test_sniff_by_content (void)
{
  check_against ("png_named.jpg", "rgb8.npy", 0.0);
  check_against ("jpeg_named.png", "jpeg_rgb.npy", 1.0 / 255 + 1e-7);
  const guint8 png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  const guint8 jpg[3] = { 0xff, 0xd8, 0xff };
  g_assert_cmpint (tl_image_sniff (png, 8), ==, TL_IMAGE_FORMAT_PNG);
  g_assert_cmpint (tl_image_sniff (png, 7), ==, TL_IMAGE_FORMAT_UNKNOWN);
  g_assert_cmpint (tl_image_sniff (jpg, 3), ==, TL_IMAGE_FORMAT_JPEG);
  g_assert_cmpint (tl_image_sniff (jpg, 2), ==, TL_IMAGE_FORMAT_UNKNOWN);
}

/* every value a 16-bit PNG can hold survives save + load exactly; 8-bit
 * saves round to the nearest step */
static void
test_png_roundtrip (void)
{
  g_autofree char *dir = g_dir_make_tmp ("tl-image-XXXXXX", NULL);
  for (int ch = 1; ch <= 4; ch++)
    for (int depth = 8; depth <= 16; depth += 8)
      {
        GError *e = NULL;
        int maxv = depth == 8 ? 255 : 65535;
        g_autoptr (tl_image) img = tl_image_new (13, 7, ch, &e);
        g_assert_no_error (e);
        size_t n = 13 * 7 * ch;
        for (size_t i = 0; i < n; i++)
          img->data[i] = (float) ((i * 7919u) % (maxv + 1)) / (float) maxv;
        g_autofree char *p = g_strdup_printf ("%s/rt%d_%d.png", dir, ch, depth);
        g_assert_true (tl_image_save_png (img, p, depth, &e));
        g_assert_no_error (e);
        g_autoptr (tl_image) back = tl_image_load (p, &e);
        g_assert_no_error (e);
        g_assert_cmpint (back->channels, ==, ch);
        g_assert_cmpint (back->width, ==, 13);
        g_assert_cmpint (back->height, ==, 7);
        tl_assert_close (back->data, img->data, n, 0.0);
        g_unlink (p);
      }
  /* out-of-range and NaN are clamped, halves rounded to nearest */
  g_autoptr (tl_image) img = tl_image_new (5, 1, 1, NULL);
  float v[5] = { -0.5f, 2.0f, NAN, 0.5f / 255.0f + 1e-6f, 100.4f / 255.0f };
  memcpy (img->data, v, sizeof v);
  g_autofree char *p = g_build_filename (dir, "clamp.png", NULL);
  g_assert_true (tl_image_save_png (img, p, 8, NULL));
  g_autoptr (tl_image) back = tl_image_load (p, NULL);
  float want[5] = { 0.0f, 1.0f, 0.0f, 1.0f / 255.0f, 100.0f / 255.0f };
  tl_assert_close (back->data, want, 5, 0.0);
  g_unlink (p);
  g_rmdir (dir);
}

static void
test_save_errors (void)
{
  g_autoptr (tl_image) img = tl_image_new (2, 2, 3, NULL);
  memset (img->data, 0, 12 * sizeof (float));
  GError *e = NULL;
  g_assert_false (tl_image_save_png (img, "/nonexistent-dir/x.png", 8, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_IO);
  g_assert_nonnull (strstr (e->message, "/nonexistent-dir/x.png"));
  g_clear_error (&e);
  g_assert_false (tl_image_save_png (img, "x.png", 12, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
}

static void
expect_bad (const char *name, int code, const char *needle)
{
  GError *e = NULL;
  g_autofree char *p = fixture (name);
  tl_image *img = tl_image_load (p, &e);
  g_assert_null (img);
  g_assert_nonnull (e);
  g_test_message ("%s -> %s", name, e->message);
  g_assert_error (e, TL_ERROR, code);
  g_assert_nonnull (strstr (e->message, name));
  if (needle && !strstr (e->message, needle))
    g_error ("%s: message '%s' lacks '%s'", name, e->message, needle);
  g_error_free (e);
}

static void
test_bad_files (void)
{
  expect_bad ("bad_empty.png", TL_ERROR_FORMAT, "empty");
  expect_bad ("bad_garbage.png", TL_ERROR_FORMAT, "not a PNG or JPEG");
  expect_bad ("bad_text.jpg", TL_ERROR_FORMAT, "not a PNG or JPEG");
  expect_bad ("bad_truncated.png", TL_ERROR_FORMAT, "truncated");
  expect_bad ("bad_truncated_sig.png", TL_ERROR_FORMAT, NULL);
  expect_bad ("bad_truncated.jpg", TL_ERROR_FORMAT, "truncated");
  expect_bad ("bad_jpeg_soi_only.jpg", TL_ERROR_FORMAT, NULL);
  expect_bad ("bad_huge.png", TL_ERROR_INVALID, "100000x100000");
  expect_bad ("bad_lying_size.png", TL_ERROR_FORMAT, "can hold");
  expect_bad ("bad_crc.png", TL_ERROR_FORMAT, "CRC");
  expect_bad ("bad_huge.jpg", TL_ERROR_INVALID, "60000x60000");
  expect_bad ("bad_lying_size.jpg", TL_ERROR_FORMAT, "can hold");
  expect_bad ("bad_cmyk.jpg", TL_ERROR_UNSUPPORTED, "CMYK");
  expect_bad ("does-not-exist.png", TL_ERROR_IO, "cannot open");
  GError *e = NULL;
  g_autofree char *dir = tl_test_data ("imaging");
  g_assert_null (tl_image_load (dir, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_IO);
  g_clear_error (&e);
}

/* the pixel limit is checked before allocating; a 6000x4000 photo is fine */
static void
test_new_limits (void)
{
  GError *e = NULL;
  g_assert_null (tl_image_new (100000, 100000, 3, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  g_assert_null (tl_image_new (0, 5, 3, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  g_assert_null (tl_image_new (5, 5, 5, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  g_autoptr (tl_image) photo = tl_image_new (6000, 4000, 3, &e);
  g_assert_no_error (e);
  g_assert_nonnull (photo);
}

/* a 6000 x 4000 photo (24 MP) decodes; uniform grey 128 */
static void
test_big_photo (void)
{
  const char *names[] = { "big_6000x4000.png", "big_6000x4000.jpg" };
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GError *e = NULL;
      g_autoptr (tl_image) img = load_fixture (names[i], &e);
      g_assert_no_error (e);
      g_assert_cmpint (img->width, ==, 6000);
      g_assert_cmpint (img->height, ==, 4000);
      g_assert_cmpint (img->channels, ==, 1);
      double tol = i == 0 ? 0.0 : 1.0 / 255 + 1e-7;
      for (size_t k = 0; k < (size_t) 6000 * 4000; k += 4999)
        g_assert_cmpfloat (fabs (img->data[k] - 128.0f / 255.0f), <=, tol);
      g_assert_cmpfloat (fabs (img->data[(size_t) 6000 * 4000 - 1] - 128.0f / 255.0f), <=, tol);
    }
}

static void
test_convert_and_chw (void)
{
  g_autoptr (tl_image) rgba = tl_image_new (2, 1, 4, NULL);
  float px[8] = { 0.2f, 0.4f, 0.6f, 0.5f, 1, 0, 0, 1 };
  memcpy (rgba->data, px, sizeof px);
  g_autoptr (tl_image) g = tl_image_convert (rgba, 1, NULL);
  float wg[2] = { 0.299f * 0.2f + 0.587f * 0.4f + 0.114f * 0.6f, 0.299f };
  tl_assert_close (g->data, wg, 2, 1e-7);
  g_autoptr (tl_image) ga = tl_image_convert (rgba, 2, NULL);
  g_assert_cmpfloat (ga->data[1], ==, 0.5f);
  g_autoptr (tl_image) rgb = tl_image_convert (g, 3, NULL);
  float wr[6] = { wg[0], wg[0], wg[0], wg[1], wg[1], wg[1] };
  tl_assert_close (rgb->data, wr, 6, 0.0);
  g_autoptr (tl_image) rgba2 = tl_image_convert (rgb, 4, NULL);
  g_assert_cmpfloat (rgba2->data[3], ==, 1.0f);
  g_autoptr (tl_tensor) t = tl_image_to_chw (rgba, NULL);
  g_assert_cmpint (t->shape[1], ==, 4);
  float wt[8] = { 0.2f, 1, 0.4f, 0, 0.6f, 0, 0.5f, 1 };
  tl_assert_close (t->data, wt, 8, 0.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image/png-exact", test_png_exact);
  g_test_add_func ("/image/jpeg-vs-pil", test_jpeg_vs_pil);
  g_test_add_func ("/image/sniff-by-content", test_sniff_by_content);
  g_test_add_func ("/image/png-roundtrip", test_png_roundtrip);
  g_test_add_func ("/image/save-errors", test_save_errors);
  g_test_add_func ("/image/bad-files", test_bad_files);
  g_test_add_func ("/image/new-limits", test_new_limits);
  g_test_add_func ("/image/big-photo", test_big_photo);
  g_test_add_func ("/image/convert-chw", test_convert_and_chw);
  return g_test_run ();
}
