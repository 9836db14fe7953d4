/* Grad-CAM, Grad-CAM++ and Score-CAM maths: cases by hand and agreement
 * with NumPy/PyTorch (tests/data/saliency/ref_baselines.py). */
#include "error.h"
#include "gradcam.h"
#include "npy.h"
#include "scorecam.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>

static tl_tensor *
fixture (const char *name)
{
  g_autofree char *rel = g_build_filename ("saliency", name, NULL);
  g_autofree char *p = tl_test_data (rel);
  GError *e = NULL;
  tl_tensor *t = tl_npy_load (p, &e);
  g_assert_no_error (e);
  return t;
}

static tl_tensor *
tensor3 (int64_t C, int64_t H, int64_t W, const float *x)
{
  int64_t s[3] = { C, H, W };
  tl_tensor *t = tl_tensor_new (3, s, NULL);
  memcpy (t->data, x, sizeof (float) * (gsize) (C * H * W));
  return t;
}

/* F0 = (1, 0), F1 = (0, 1) (2×1×2); dF0 = (.5, .5) → α0 = .5; dF1 = (−1, 0)
 * → α1 = −.5; S = (.5, −.5) → ReLU (.5, 0) → map (1, 0). */
static void
test_gradcam_hand (void)
{
  float f[4] = { 1, 0, 0, 1 }, g[4] = { .5f, .5f, -1, 0 };
  g_autoptr (tl_tensor) F = tensor3 (2, 1, 2, f);
  g_autoptr (tl_tensor) G = tensor3 (2, 1, 2, g);
  g_autoptr (tl_tensor) map = NULL;
  double w[2];
  g_assert_true (tl_gradcam_map (F, G, &map, w, NULL));
  double ww[2] = { .5, -.5 };
  tl_assert_close (w, ww, 2, 1e-15);
  float want[2] = { 1, 0 };
  tl_assert_close (map->data, want, 2, 0);
}

/* F0 = (1, 3) (A0 = 4), g0 = (1, 0): a = 1/(2 + 4 + 1e-6), α0 = 1/(6 + 1e-6)
 * (g = 0 contributes nothing). F1 = (2, 0) (A1 = 2), g1 = (−1, 2): the
 * negative gradient is clipped; at g = 2, a = 4/(8 + 2·8 + 1e-6), so
 * α1 = 2·4/(24 + 1e-6). S = α0·(1,3) + α1·(2,0) = (.8333, .5) → (1, 0). */
static void
test_gradcampp_hand (void)
{
  float f[4] = { 1, 3, 2, 0 }, g[4] = { 1, 0, -1, 2 };
  g_autoptr (tl_tensor) F = tensor3 (2, 1, 2, f);
  g_autoptr (tl_tensor) G = tensor3 (2, 1, 2, g);
  g_autoptr (tl_tensor) map = NULL;
  double w[2];
  g_assert_true (tl_gradcampp_map (F, G, &map, w, NULL));
  double ww[2] = { 1 / (6 + 1e-6), 8 / (24 + 1e-6) };
  tl_assert_close (w, ww, 2, 1e-15);
  float want[2] = { 1, 0 };
  tl_assert_close (map->data, want, 2, 1e-7);
}

/* Scores (0, ln 3): α = (1/4, 3/4). F0 = (4, 0), F1 = (0, 1):
 * S = (1, .75) → (1, 0). With the big offset 1000 the softmax must not overflow. */
static void
test_scorecam_hand (void)
{
  float f[4] = { 4, 0, 0, 1 };
  g_autoptr (tl_tensor) F = tensor3 (2, 1, 2, f);
  int ch[2] = { 0, 1 };
  double y[2] = { 1000, 1000 + log (3.0) }, a[2];
  g_autoptr (tl_tensor) map = NULL;
  g_assert_true (tl_scorecam_map (F, ch, y, 2, &map, a, NULL));
  double wa[2] = { .25, .75 };
  tl_assert_close (a, wa, 2, 1e-12);
  float want[2] = { 1, 0 };
  tl_assert_close (map->data, want, 2, 1e-7);

  /* Masks without upsampling: min–max per channel; a constant channel → 0. */
  float f2[6] = { 1, 3, 2, 5, 5, 5 };
  g_autoptr (tl_tensor) F2 = tensor3 (2, 1, 3, f2);
  float m[6], wm[6] = { 0, 1, .5f, 0, 0, 0 };
  g_assert_true (tl_scorecam_masks (F2, ch, 2, 1, 3, NULL, NULL, m, NULL));
  tl_assert_close (m, wm, 6, 1e-7);
}

static void
check_rel (const double *a, const float *b, int n, double tol)
{
  for (int i = 0; i < n; i++)
    if (!(fabs (a[i] - b[i]) <= tol * MAX (1.0, fabs ((double) b[i]))))
      g_error ("index %d: %.9g vs %.9g", i, a[i], (double) b[i]);
}

static void
test_reference (void)
{
  g_autoptr (tl_tensor) F = fixture ("base_F.npy");
  g_autoptr (tl_tensor) G = fixture ("base_G.npy");
  g_autoptr (tl_tensor) y = fixture ("base_scores.npy");
  g_autoptr (tl_tensor) maps = fixture ("base_maps.npy");
  g_autoptr (tl_tensor) wts = fixture ("base_weights.npy");
  g_autoptr (tl_tensor) top = fixture ("base_top5.npy");
  int C = (int) F->shape[0], N = (int) (F->shape[1] * F->shape[2]);
  double w[64];
  g_autoptr (tl_tensor) gc = NULL;
  g_autoptr (tl_tensor) pp = NULL;
  g_autoptr (tl_tensor) sc = NULL;
  g_autoptr (tl_tensor) sc5 = NULL;
  g_assert_true (tl_gradcam_map (F, G, &gc, w, NULL));
  tl_assert_close (gc->data, maps->data, N, 1e-6);
  check_rel (w, wts->data, C, 1e-6);
  g_assert_true (tl_gradcampp_map (F, G, &pp, w, NULL));
  tl_assert_close (pp->data, maps->data + N, N, 1e-6);
  check_rel (w, wts->data + C, C, 1e-6);

  int ch[64];
  double scores[64];
  g_assert_cmpint (tl_scorecam_select_channels (F, 0, ch, NULL), ==, C);
  for (int k = 0; k < C; k++)
    {
      g_assert_cmpint (ch[k], ==, k);
      scores[k] = y->data[k];
    }
  g_assert_true (tl_scorecam_map (F, ch, scores, C, &sc, w, NULL));
  tl_assert_close (sc->data, maps->data + 2 * N, N, 1e-6);
  check_rel (w, wts->data + 2 * C, C, 1e-6);

  g_assert_cmpint (tl_scorecam_select_channels (F, 5, ch, NULL), ==, 5);
  for (int k = 0; k < 5; k++)
    {
      g_assert_cmpint (ch[k], ==, (int) top->data[k]);
      scores[k] = y->data[ch[k]];
    }
  g_assert_true (tl_scorecam_map (F, ch, scores, 5, &sc5, NULL, NULL));
  tl_assert_close (sc5->data, maps->data + 3 * N, N, 1e-6);
}

/* A plain bilinear resize with half-pixel centres (PyTorch
 * align_corners=False), standing in for the imaging code's tl_resize. */
static gboolean
bilinear (const float *src, int sw, int sh, float *dst, int dw, int dh, void *user,
          GError **error)
{
  (void) error;
  (*(int *) user)++;
  for (int i = 0; i < dh; i++)
    for (int j = 0; j < dw; j++)
      {
        double sy = MAX (0.0, (i + 0.5) * sh / dh - 0.5);
        double sx = MAX (0.0, (j + 0.5) * sw / dw - 0.5);
        int y0 = (int) sy, x0 = (int) sx;
        int y1 = MIN (y0 + 1, sh - 1), x1 = MIN (x0 + 1, sw - 1);
        double fy = sy - y0, fx = sx - x0;
        dst[i * dw + j] = (float) ((1 - fy) * ((1 - fx) * src[y0 * sw + x0] + fx * src[y0 * sw + x1])
                                   + fy * ((1 - fx) * src[y1 * sw + x0] + fx * src[y1 * sw + x1]));
      }
  return TRUE;
}

static void
test_masks_reference (void)
{
  g_autoptr (tl_tensor) F = fixture ("base_F.npy");
  g_autoptr (tl_tensor) want = fixture ("base_masks.npy");
  int C = (int) F->shape[0];
  int ch[64], calls = 0;
  tl_scorecam_select_channels (F, 0, ch, NULL);
  g_autofree float *m = g_new (float, (gsize) C * 10 * 13);
  GError *e = NULL;
  g_assert_true (tl_scorecam_masks (F, ch, C, 10, 13, bilinear, &calls, m, &e));
  g_assert_no_error (e);
  g_assert_cmpint (calls, ==, C);
  tl_assert_close (m, want->data, C * 130, 1e-6);
}

static void
expect (gboolean ok, GError *e, const char *want)
{
  g_assert_false (ok);
  g_assert_nonnull (e);
  if (!strstr (e->message, want))
    g_error ("message '%s' should say '%s'", e->message, want);
  g_error_free (e);
}

static void
test_errors (void)
{
  float f[6] = { 1, 2, 3, 4, 5, 6 }, g[4] = { 1, 2, 3, 4 };
  g_autoptr (tl_tensor) F = tensor3 (2, 1, 3, f);
  g_autoptr (tl_tensor) G = tensor3 (2, 1, 2, g);
  tl_tensor *map = NULL;
  GError *e = NULL;
  gboolean ok = tl_gradcam_map (F, G, &map, NULL, &e);
  expect (ok, e, "gradient tensor is 2x1x2 but the activations are 2x1x3");
  e = NULL;
  int64_t s2[2] = { 2, 3 };
  g_autoptr (tl_tensor) F2 = tl_tensor_view (f, 2, s2);
  ok = tl_gradcampp_map (F2, F2, &map, NULL, &e);
  expect (ok, e, "activations tensor has shape 2x3");
  e = NULL;
  float gn[6] = { 0, 0, NAN, 0, 0, 0 };
  g_autoptr (tl_tensor) GN = tensor3 (2, 1, 3, gn);
  ok = tl_gradcam_map (F, GN, &map, NULL, &e);
  expect (ok, e, "gradient tensor holds NaN at channel 0, row 0, column 2");
  e = NULL;
  int ch[2] = { 0, 2 };
  double y[2] = { 1, 2 };
  ok = tl_scorecam_map (F, ch, y, 2, &map, NULL, &e);
  expect (ok, e, "channel 2 is outside 0..1");
  e = NULL;
  ok = tl_scorecam_map (F, ch, y, 0, &map, NULL, &e);
  expect (ok, e, "no channels");
  e = NULL;
  int ch2[2] = { 0, 1 };
  double yn[2] = { 1, INFINITY };
  ok = tl_scorecam_map (F, ch2, yn, 2, &map, NULL, &e);
  expect (ok, e, "score of channel 1 is inf");
  e = NULL;
  float m[100];
  ok = tl_scorecam_masks (F, ch2, 2, 4, 5, NULL, NULL, m, &e);
  expect (ok, e, "need an upsampling function");
  g_assert_null (map);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/baselines/gradcam-hand", test_gradcam_hand);
  g_test_add_func ("/baselines/gradcampp-hand", test_gradcampp_hand);
  g_test_add_func ("/baselines/scorecam-hand", test_scorecam_hand);
  g_test_add_func ("/baselines/reference", test_reference);
  g_test_add_func ("/baselines/scorecam-masks-reference", test_masks_reference);
  g_test_add_func ("/baselines/errors", test_errors);
  return g_test_run ();
}
