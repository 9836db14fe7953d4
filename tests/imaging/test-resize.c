/* Resizing against float64 NumPy references written from the definitions
 * (tests/data/imaging/make-resize-fixtures.py; half-pixel also agrees with
 * torch interpolate(bilinear, align_corners=False), area with
 * adaptive_avg_pool2d on integer ratios, half-pixel and tf-legacy with TF.js
 * resizeBilinear: check-resize-tfjs.js). Tolerance 1e-6. */
#include "resize.h"
#include "npy.h"
#include "error.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>

/* A fixture of tests/data/imaging. */
static tl_tensor *
load_npy (const char *name)
{
  g_autofree char *rel = g_build_filename ("imaging", name, NULL);
  return tl_test_npy (rel);
}

static const char *cases[] = { "up16", "down", "down_int", "mixed", "one", "same", "to_one" };

static void
check_mode (tl_resample_mode mode)
{
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *in_name = g_strdup_printf ("resize_%s_in.npy", cases[i]);
      g_autofree char *out_name = g_strdup_printf ("resize_%s_%s.npy", cases[i],
                                                   tl_resample_mode_name (mode));
      g_autoptr (tl_tensor) in = load_npy (in_name);
      g_autoptr (tl_tensor) want = load_npy (out_name);
      int h = (int) in->shape[0], w = (int) in->shape[1], c = (int) in->shape[2];
      int oh = (int) want->shape[0], ow = (int) want->shape[1];
      g_autofree float *got = g_new (float, (size_t) oh * ow * c);
      GError *e = NULL;
      g_test_message ("%s", out_name);
      g_assert_true (tl_resample (in->data, w, h, c, got, ow, oh, mode, &e));
      g_assert_no_error (e);
      tl_assert_close (got, want->data, (size_t) oh * ow * c, 1e-6);
    }
}

static void test_half_pixel (void) { check_mode (TL_RESAMPLE_HALF_PIXEL); }
static void test_tf_legacy (void) { check_mode (TL_RESAMPLE_TF_LEGACY); }
static void test_area (void) { check_mode (TL_RESAMPLE_AREA); }

static void
test_window (void)
{
  struct { const char *name; double x0, y0, w, h; } win[] = {
    { "resize_win_full.npy", 0, 0, 16, 16 },
    { "resize_win_band.npy", 0, 3.5, 16, 9 },
    { "resize_win_frac.npy", 2.25, 1.5, 11.5, 13 },
  };
  g_autoptr (tl_tensor) in = load_npy ("resize_up16_in.npy");
  for (size_t i = 0; i < G_N_ELEMENTS (win); i++)
    {
      g_autoptr (tl_tensor) want = load_npy (win[i].name);
      int oh = (int) want->shape[0], ow = (int) want->shape[1];
      g_autofree float *got = g_new (float, (size_t) oh * ow);
      GError *e = NULL;
      g_assert_true (tl_resample_window (in->data, 16, 16, 1, win[i].x0, win[i].y0, win[i].w,
                                         win[i].h, got, ow, oh, &e));
      g_assert_no_error (e);
      tl_assert_close (got, want->data, (size_t) oh * ow, 1e-6);
    }
}

/* the row sampler gives the very bytes of tl_resample_window */
static void
test_sampler (void)
{
  g_autoptr (tl_tensor) in = load_npy ("resize_up16_in.npy");
  g_autoptr (tl_tensor) want = load_npy ("resize_win_frac.npy");
  float full[17 * 20], row[20];
  g_assert_true (tl_resample_window (in->data, 16, 16, 1, 2.25, 1.5, 11.5, 13, full, 20, 17,
                                     NULL));
  GError *e = NULL;
  tl_map_sampler *s = tl_map_sampler_new (in->data, 16, 16, 2.25, 1.5, 11.5, 13, 20, 17, &e);
  g_assert_no_error (e);
  g_assert_cmpint (tl_map_sampler_width (s), ==, 20);
  g_assert_cmpint (tl_map_sampler_height (s), ==, 17);
  for (int y = 0; y < 17; y++)
    {
      tl_map_sampler_row (s, y, row);
      g_assert_cmpmem (row, sizeof row, full + 20 * y, sizeof row);
      tl_assert_close (row, want->data + 20 * y, 20, 1e-6);
    }
  tl_map_sampler_free (s);
  g_assert_null (tl_map_sampler_new (in->data, 16, 16, 0, 0, 0, 13, 20, 17, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
}

/* a constant image stays exactly constant in every mode (weights sum to 1
 * to float precision) */
static void
test_constant (void)
{
  float src[6 * 5];
  for (int i = 0; i < 30; i++)
    src[i] = 0.7f;
  float dst[13 * 3];
  for (int m = TL_RESAMPLE_HALF_PIXEL; m <= TL_RESAMPLE_AREA; m++)
    {
      g_assert_true (tl_resample (src, 6, 5, 1, dst, 13, 3, (tl_resample_mode) m, NULL));
      for (int i = 0; i < 39; i++)
        g_assert_cmpfloat (fabsf (dst[i] - 0.7f), <=, 1e-6f);
    }
}

static void
test_errors (void)
{
  float a[4] = { 0 }, b[4];
  GError *e = NULL;
  g_assert_false (tl_resample (a, 2, 2, 1, b, 0, 2, TL_RESAMPLE_AREA, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  g_assert_false (tl_resample (a, 2, 2, 5, b, 1, 1, TL_RESAMPLE_AREA, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  g_assert_false (tl_resample (a, 2, 2, 1, b, 100000, 100000, TL_RESAMPLE_AREA, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  g_assert_false (tl_resample (a, 2, 2, 1, b, 1, 1, (tl_resample_mode) 9, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  g_assert_false (tl_resample_window (a, 2, 2, 1, 0, 0, NAN, 1, b, 1, 1, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  g_assert_false (tl_resample_window (a, 2, 2, 1, 0, 0, 1, -1, b, 1, 1, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);

  tl_resample_mode m;
  g_assert_true (tl_resample_mode_from_name ("tf-legacy", &m, NULL));
  g_assert_cmpint (m, ==, TL_RESAMPLE_TF_LEGACY);
  g_assert_false (tl_resample_mode_from_name ("bicubic", &m, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "bicubic"));
  g_clear_error (&e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/resize/half-pixel", test_half_pixel);
  g_test_add_func ("/resize/tf-legacy", test_tf_legacy);
  g_test_add_func ("/resize/area", test_area);
  g_test_add_func ("/resize/window", test_window);
  g_test_add_func ("/resize/sampler", test_sampler);
  g_test_add_func ("/resize/constant", test_constant);
  g_test_add_func ("/resize/errors", test_errors);
  return g_test_run ();
}
