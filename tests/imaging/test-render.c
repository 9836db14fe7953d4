/* Output modes on hand-computed cases (render.h states the formulas). */
#include "render.h"
#include "error.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>

/* matplotlib's jet starts at (0, 0, 0.5) and ends at (0.5, 0, 0) */
static void
test_jet_ends (void)
{
  const float *jet = tl_colormap_table (TL_COLORMAP_JET);
  float lo[3] = { 0, 0, 0.5f }, hi[3] = { 0.5f, 0, 0 };
  tl_assert_close (jet, lo, 3, 0.0);
  tl_assert_close (jet + 3 * 255, hi, 3, 0.0);
}

static tl_image *
rgb3 (void)
{
  tl_image *img = tl_image_new (3, 1, 3, NULL);
  float px[9] = { 0.2f, 0.4f, 0.6f, 1, 0, 0, 0, 1, 0.5f };
  memcpy (img->data, px, sizeof px);
  return img;
}

/* 0, 1, and values that must clamp: -2 -> 0, NaN -> 0, 7 -> 1 */
static const float map3[3] = { 0.0f, 1.0f, NAN };

static void
test_overlay (void)
{
  g_autoptr (tl_image) img = rgb3 ();
  tl_render_params p = tl_render_default_params ();
  g_assert_cmpint (p.mode, ==, TL_RENDER_OVERLAY);
  p.opacity = 0.25f;
  GError *e = NULL;
  g_autoptr (tl_image) out = tl_render (&p, img, map3, &e);
  g_assert_no_error (e);
  g_assert_cmpint (out->channels, ==, 3);
  /* 0.75 img + 0.25 jet(s) */
  float want[9] = { 0.15f, 0.3f, 0.575f, 0.875f, 0, 0, 0, 0.75f, 0.5f };
  tl_assert_close (out->data, want, 9, 1e-6);

  /* RGBA: alpha passes through; opacity 0 gives the image, 1 the heat map */
  g_autoptr (tl_image) rgba = tl_image_convert (img, 4, NULL);
  rgba->data[3] = 0.3f;
  p.opacity = 0.0f;
  g_autoptr (tl_image) o0 = tl_render (&p, rgba, map3, NULL);
  g_assert_cmpint (o0->channels, ==, 4);
  tl_assert_close (o0->data, rgba->data, 12, 0.0);
  p.opacity = 1.0f;
  g_autoptr (tl_image) o1 = tl_render (&p, rgba, map3, NULL);
  float w1[12] = { 0, 0, 0.5f, 0.3f, 0.5f, 0, 0, 1, 0, 0, 0.5f, 1 };
  tl_assert_close (o1->data, w1, 12, 0.0);

  /* grey + alpha: grey taken as R = G = B, output RGBA, alpha kept */
  g_autoptr (tl_image) ga = tl_image_new (2, 1, 2, NULL);
  float gpx[4] = { 0.4f, 0.25f, 1.0f, 0.75f };
  memcpy (ga->data, gpx, sizeof gpx);
  float gm[2] = { 1.0f, 0.0f };
  p.opacity = 0.5f;
  g_autoptr (tl_image) og = tl_render (&p, ga, gm, NULL);
  g_assert_cmpint (og->channels, ==, 4);
  float wg[8] = { 0.45f, 0.2f, 0.2f, 0.25f, 0.5f, 0.5f, 0.75f, 0.75f };
  tl_assert_close (og->data, wg, 8, 1e-7);
}

static void
test_heatmap_map_masked (void)
{
  g_autoptr (tl_image) img = rgb3 ();
  tl_render_params p = tl_render_default_params ();
  float map[3] = { -2.0f, 7.0f, 0.5f };

  p.mode = TL_RENDER_HEATMAP;
  p.colormap = TL_COLORMAP_GRAY;
  g_autoptr (tl_image) h = tl_render (&p, img, map, NULL);
  float wh[9] = { 0, 0, 0, 1, 1, 1, 0.5f, 0.5f, 0.5f };
  g_assert_cmpint (h->channels, ==, 3);
  tl_assert_close (h->data, wh, 9, 1e-6);

  p.mode = TL_RENDER_MAP;
  g_autoptr (tl_image) m = tl_render (&p, img, map, NULL);
  g_assert_cmpint (m->channels, ==, 1);
  float wm[3] = { 0, 1, 0.5f };
  tl_assert_close (m->data, wm, 3, 0.0);

  p.mode = TL_RENDER_MASKED;
  g_autoptr (tl_image) k = tl_render (&p, img, map, NULL);
  g_assert_cmpint (k->channels, ==, 3);
  float wk[9] = { 0, 0, 0, 1, 0, 0, 0, 0.5f, 0.25f };
  tl_assert_close (k->data, wk, 9, 0.0);

  /* grey + alpha stays grey + alpha when masked */
  g_autoptr (tl_image) ga = tl_image_new (2, 1, 2, NULL);
  float gpx[4] = { 0.8f, 0.5f, 0.4f, 1.0f };
  memcpy (ga->data, gpx, sizeof gpx);
  float gm[2] = { 0.5f, 0.25f };
  g_autoptr (tl_image) gk = tl_render (&p, ga, gm, NULL);
  g_assert_cmpint (gk->channels, ==, 2);
  float wgk[4] = { 0.4f, 0.5f, 0.1f, 1.0f };
  tl_assert_close (gk->data, wgk, 4, 0.0);
}

/* the row API writes whatever channel count the caller asks for */
static void
test_row_channels (void)
{
  tl_render_params p = tl_render_default_params ();
  p.mode = TL_RENDER_HEATMAP;
  float map[2] = { 0.0f, 1.0f };
  float out4[8], out2[4];
  tl_render_row (&p, NULL, 3, map, out4, 4, 2);
  float w4[8] = { 0, 0, 0.5f, 1, 0.5f, 0, 0, 1 };
  tl_assert_close (out4, w4, 8, 0.0);
  tl_render_row (&p, NULL, 3, map, out2, 2, 2);
  float w2[4] = { 0.114f * 0.5f, 1, 0.299f * 0.5f, 1 };
  tl_assert_close (out2, w2, 4, 1e-7);
}

/* bands on threads give the same bytes as one thread */
static void
test_threads_deterministic (void)
{
  g_autoptr (tl_image) img = tl_image_new (53, 37, 4, NULL);
  g_autofree float *map = g_new (float, 53 * 37);
  for (int i = 0; i < 53 * 37 * 4; i++)
    img->data[i] = (float) ((i * 37) % 101) / 100.0f;
  for (int i = 0; i < 53 * 37; i++)
    map[i] = (float) ((i * 13) % 97) / 96.0f;
  tl_render_params p = tl_render_default_params ();
  p.colormap = TL_COLORMAP_TURBO;
  g_autoptr (tl_image) a = tl_render (&p, img, map, NULL);
  p.n_threads = 3;
  g_autoptr (tl_image) b = tl_render (&p, img, map, NULL);
  p.n_threads = 0;
  g_autoptr (tl_image) c = tl_render (&p, img, map, NULL);
  g_assert_cmpmem (a->data, 53 * 37 * 4 * sizeof (float), b->data, 53 * 37 * 4 * sizeof (float));
  g_assert_cmpmem (a->data, 53 * 37 * 4 * sizeof (float), c->data, 53 * 37 * 4 * sizeof (float));
}

/* rendering from the low-resolution map equals unmap + render, bit for bit,
 * on a letterboxed geometry, with one and two threads */
static void
test_render_unmap (void)
{
  g_autoptr (tl_image) img = tl_image_new (41, 23, 3, NULL);
  for (int i = 0; i < 41 * 23 * 3; i++)
    img->data[i] = (float) ((i * 53) % 89) / 88.0f;
  float low[5 * 4];
  for (int i = 0; i < 20; i++)
    low[i] = (float) ((i * 7) % 20) / 19.0f;
  tl_preprocess_params pp = tl_preprocess_default_params ();
  pp.width = 32, pp.height = 32, pp.letterbox = true;
  tl_preprocess_geometry g = tl_preprocess_geometry_for (&pp, 41, 23);
  g_assert_cmpfloat (g.y0, >, 0);
  float full[41 * 23];
  g_assert_true (tl_preprocess_unmap (&g, low, 5, 4, full, NULL));
  tl_render_params p = tl_render_default_params ();
  p.colormap = TL_COLORMAP_VIRIDIS;
  for (int nt = 1; nt <= 2; nt++)
    {
      p.n_threads = nt;
      GError *e = NULL;
      g_autoptr (tl_image) a = tl_render (&p, img, full, &e);
      g_autoptr (tl_image) b = tl_render_unmap (&p, img, &g, low, 5, 4, &e);
      g_assert_no_error (e);
      g_assert_cmpmem (a->data, 41 * 23 * 3 * sizeof (float), b->data,
                       41 * 23 * 3 * sizeof (float));
    }
  GError *e = NULL;
  g.image_width = 40;
  g_assert_null (tl_render_unmap (&p, img, &g, low, 5, 4, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "geometry"));
  g_clear_error (&e);
}

static void
test_errors (void)
{
  g_autoptr (tl_image) img = rgb3 ();
  tl_render_params p = tl_render_default_params ();
  GError *e = NULL;
  p.opacity = 1.5f;
  g_assert_null (tl_render (&p, img, map3, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "opacity"));
  g_clear_error (&e);
  p.opacity = NAN;
  g_assert_null (tl_render (&p, img, map3, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  p = tl_render_default_params ();
  p.n_threads = -1;
  g_assert_null (tl_render (&p, img, map3, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
  p = tl_render_default_params ();
  tl_image view = { .width = 3, .height = 1, .channels = 5, .data = img->data };
  g_assert_null (tl_render (&p, &view, map3, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "5 channels"));
  g_clear_error (&e);
  tl_render_mode m;
  g_assert_true (tl_render_mode_from_name ("masked", &m, NULL));
  g_assert_cmpint (m, ==, TL_RENDER_MASKED);
  g_assert_cmpstr (tl_render_mode_name (TL_RENDER_HEATMAP), ==, "heatmap");
  g_assert_false (tl_render_mode_from_name ("blend", &m, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (e->message, "blend"));
  g_clear_error (&e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/render/jet-ends", test_jet_ends);
  g_test_add_func ("/render/overlay", test_overlay);
  g_test_add_func ("/render/heatmap-map-masked", test_heatmap_map_masked);
  g_test_add_func ("/render/row-channels", test_row_channels);
  g_test_add_func ("/render/threads", test_threads_deterministic);
  g_test_add_func ("/render/unmap", test_render_unmap);
  g_test_add_func ("/render/errors", test_errors);
  return g_test_run ();
}
