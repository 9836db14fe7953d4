/* Colormaps against matplotlib (tests/data/imaging/make-colormaps.py):
 * entries exactly, in-between values as the linear interpolation of the
 * neighbouring matplotlib entries. */
#include "colormap.h"
#include "npy.h"
#include "error.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>

static void
test_vs_matplotlib (void)
{
  g_autofree char *p = tl_test_data ("imaging/colormap_ref.npy");
  GError *e = NULL;
  g_autoptr (tl_tensor) ref = tl_npy_load (p, &e);
  g_assert_no_error (e);
  g_assert_cmpint (ref->shape[0], ==, TL_COLORMAP_N);
  int n = (int) ref->shape[1];
  for (int m = 0; m < TL_COLORMAP_N; m++)
    {
      const float *table = tl_colormap_table ((tl_colormap) m);
      for (int i = 0; i < n; i++)
        {
          const float *r = ref->data + ((size_t) m * n + i) * 4;
          float rgb[3];
          tl_colormap_lookup ((tl_colormap) m, r[0], rgb);
          tl_assert_close (rgb, r + 1, 3, 2e-6);
          if (i < TL_COLORMAP_SIZE) /* the table itself is matplotlib's */
            tl_assert_close (table + 3 * i, r + 1, 3, 0.0);
        }
    }
}

static void
test_clamp_and_nan (void)
{
  for (int m = 0; m < TL_COLORMAP_N; m++)
    {
      const float *table = tl_colormap_table ((tl_colormap) m);
      float rgb[3];
      tl_colormap_lookup ((tl_colormap) m, -3.0f, rgb);
      tl_assert_close (rgb, table, 3, 0.0);
      tl_colormap_lookup ((tl_colormap) m, NAN, rgb);
      tl_assert_close (rgb, table, 3, 0.0);
      tl_colormap_lookup ((tl_colormap) m, 7.0f, rgb);
      tl_assert_close (rgb, table + 3 * 255, 3, 0.0);
      tl_colormap_lookup ((tl_colormap) m, INFINITY, rgb);
      tl_assert_close (rgb, table + 3 * 255, 3, 0.0);
    }
}

static void
test_names (void)
{
  const char *names[] = { "turbo", "jet", "viridis", "inferno", "magma", "gray" };
  for (int i = 0; i < TL_COLORMAP_N; i++)
    {
      tl_colormap m;
      g_assert_true (tl_colormap_from_name (names[i], &m, NULL));
      g_assert_cmpint (m, ==, i);
      g_assert_cmpstr (tl_colormap_name (m), ==, names[i]);
    }
  GError *e = NULL;
  tl_colormap m;
  g_assert_false (tl_colormap_from_name ("rainbow", &m, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "rainbow"));
  g_assert_nonnull (strstr (e->message, "viridis"));
  g_clear_error (&e);
  g_assert_false (tl_colormap_from_name (NULL, &m, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/colormap/vs-matplotlib", test_vs_matplotlib);
  g_test_add_func ("/colormap/clamp-nan", test_clamp_and_nan);
  g_test_add_func ("/colormap/names", test_names);
  return g_test_run ();
}
