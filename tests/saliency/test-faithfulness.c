/* Faithfulness metrics and their Gaussian blur: hand-computed cases and
 * agreement with scipy.ndimage / NumPy (make_faith_fixtures.py). */
#include "error.h"
#include "faithfulness.h"
#include "gaussian-blur.h"
#include "npy.h"
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

static void
check_blur (const char *in, const char *ref, double sigma)
{
  g_autoptr (tl_tensor) x = fixture (in);
  g_autoptr (tl_tensor) want = fixture (ref);
  int C = (int) x->shape[0], H = (int) x->shape[1], W = (int) x->shape[2];
  g_autofree float *out = g_new (float, (gsize) C * H * W);
  GError *e = NULL;
  g_assert_true (tl_gaussian_blur (x->data, C, H, W, sigma, 4.0, out, &e));
  g_assert_no_error (e);
  tl_assert_close (out, want->data, C * H * W, 1e-6);
}

/* scipy.ndimage.gaussian_filter(mode='reflect', truncate=4): a radius
 * larger than the image (σ = 5 on 13×17), a small σ, a larger image. */
static void
test_blur_scipy (void)
{
  check_blur ("blur_in.npy", "blur_s5.npy", 5.0);
  check_blur ("blur_in.npy", "blur_s1_5.npy", 1.5);
  check_blur ("blur_big_in.npy", "blur_big_s5.npy", 5.0);
}

/* σ = 1, truncate = 1: radius ⌊1.5⌋ = 1, kernel (k1, k0, k1) with
 * k0 = 1/(1 + 2e^{−1/2}), k1 = e^{−1/2}·k0. On the 1×3 row (0, 3, 0) the
 * H pass is the identity (one row reflected onto itself) and the W pass
 * gives (3k1, 3k0, 3k1). On (1, 0, 0) reflection repeats the edge:
 * (k1 + k0, k1, 0). A constant image stays constant. */
static void
test_blur_hand (void)
{
  double k0 = 1 / (1 + 2 * exp (-0.5)), k1 = exp (-0.5) * k0;
  float a[3] = { 0, 3, 0 }, b[3] = { 1, 0, 0 }, out[3];
  g_assert_true (tl_gaussian_blur (a, 1, 1, 3, 1.0, 1.0, out, NULL));
  float wa[3] = { (float) (3 * k1), (float) (3 * k0), (float) (3 * k1) };
  tl_assert_close (out, wa, 3, 1e-7);
  g_assert_true (tl_gaussian_blur (b, 1, 1, 3, 1.0, 1.0, out, NULL));
  float wb[3] = { (float) (k1 + k0), (float) k1, 0 };
  tl_assert_close (out, wb, 3, 1e-7);
  float c[2 * 5 * 4], oc[2 * 5 * 4];
  for (int i = 0; i < 40; i++)
    c[i] = 0.25f;
  g_assert_true (tl_gaussian_blur (c, 2, 5, 4, 5.0, 4.0, oc, NULL));
  tl_assert_close (oc, c, 40, 1e-7);
  GError *e = NULL;
  g_assert_false (tl_gaussian_blur (c, 2, 5, 4, -1.0, 4.0, oc, &e));
  g_assert_nonnull (strstr (e->message, "sigma -1"));
  g_clear_error (&e);
}

/* f(x) = 12 − Σx: masking darkens, so the score rises. x = (1, 2, 3, 4)
 * (1×2×2), S = (0.5, 1, 0, 0.25): x ⊙ S = (0.5, 2, 0, 1), so f(x) = 2,
 * f(x ⊙ S) = 8.5: drop max(0, 2 − 8.5)/2 = 0, and an increase. */
static double
score_dark (const float *x, void *user)
{
  (void) user;
  return 12.0 - (x[0] + x[1] + x[2] + x[3]);
}

static void
test_increase (void)
{
  float x[4] = { 1, 2, 3, 4 }, map[4] = { 0.5f, 1, 0, 0.25f };
  tl_faith_scorer sc = { .score = score_dark };
  tl_faith_params p = tl_faith_default_params ();
  p.deletion = p.insertion = false;
  tl_faith_result r;
  g_assert_true (tl_faith_evaluate (x, 1, 2, 2, map, &sc, &p, &r, NULL));
  g_assert_cmpfloat (r.score_clean, ==, 2.0);
  g_assert_cmpfloat (r.score_masked, ==, 8.5);
  g_assert_cmpfloat (r.drop, ==, 0.0);
  g_assert_true (r.increase);
  g_assert_null (r.deletion_curve);
  tl_faith_accum acc = { 0 };
  tl_faith_accum_add (&acc, &r);
  tl_faith_summary s;
  tl_faith_accum_summary (&acc, &s);
  g_assert_cmpfloat (s.increase_pct, ==, 100.0);
  g_assert_cmpfloat (s.average_drop_pct, ==, 0.0);
}

static void
test_order (void)
{
  float map[7] = { 0.5f, 0.9f, 0.5f, 0.1f, 0.9f, 0.5f, 0.0f };
  int order[7], want[7] = { 1, 4, 0, 2, 5, 3, 6 };
  tl_faith_order (map, 7, order);
  for (int i = 0; i < 7; i++)
    g_assert_cmpint (order[i], ==, want[i]);
}

/* Linear toy scores: f(x) = Σ w·x (+ offset). */
typedef struct {
  const float *w;
  double offset, wsum;
  int size, calls;
} linear_score;

static double
score_one (const float *x, void *user)
{
  linear_score *s = user;
  double f = 0;
  for (int i = 0; i < s->size; i++)
    f += (double) s->w[i] * x[i];
  s->calls++;
  return s->offset + f / s->wsum;
}

static gboolean
score_batch (const float *x, int n, double *out, void *user, GError **error)
{
  (void) error;
  for (int i = 0; i < n; i++)
    out[i] = score_one (x + (gsize) i * ((linear_score *) user)->size, user);
  return TRUE;
}

/* x = (1,2,3,4) as 1×1×4, f = Σ w·x with w = (1,10,100,1000)/1000, so
 * f(x) = 4.321. Map (0.1, 0.9, 0.5, 0.9): order 1, 3 (tie: raster order), 2, 0.
 * x ⊙ S = (0.1, 1.8, 1.5, 3.6): f = 3.7681, drop = 0.5529/4.321, no increase.
 * Deletion, T = 4: f = 4.321, 4.301, 0.301, 0.001, 0 →
 *   AUC = ¼·(4.311 + 2.301 + 0.151 + 0.0005) = ¼·6.7635 = 1.690875.
 * T = 3 (⌊t·4/3⌋ = 0, 1, 2, 4): f = 4.321, 4.301, 0.301, 0 →
 *   AUC = ⅓·(4.311 + 2.301 + 0.1505) = 2.254166…
 * Insertion with σ = 0 (no blur): the curve is f(x) throughout. */
static void
test_hand (void)
{
  float x[4] = { 1, 2, 3, 4 }, w[4] = { 1, 10, 100, 1000 };
  float map[4] = { 0.1f, 0.9f, 0.5f, 0.9f };
  linear_score ls = { w, 0.0, 1000.0, 4, 0 };
  tl_faith_scorer sc = { .score = score_one, .user = &ls };
  tl_faith_params p = tl_faith_default_params ();
  p.steps = 4;
  p.blur_sigma = 0.0;
  tl_faith_result r;
  GError *e = NULL;
  g_assert_true (tl_faith_evaluate (x, 1, 1, 4, map, &sc, &p, &r, &e));
  g_assert_no_error (e);
  g_assert_cmpfloat (fabs (r.score_clean - 4.321), <, 1e-12);
  g_assert_cmpfloat (fabs (r.score_masked - 3.7681), <, 1e-6);
  g_assert_cmpfloat (fabs (r.drop - 0.5529 / 4.321), <, 1e-6);
  g_assert_false (r.increase);
  double del[5] = { 4.321, 4.301, 0.301, 0.001, 0 };
  tl_assert_close (r.deletion_curve, del, 5, 1e-12);
  g_assert_cmpfloat (fabs (r.deletion_auc - 1.690875), <, 1e-12);
  for (int t = 0; t <= 4; t++)
    g_assert_cmpfloat (fabs (r.insertion_curve[t] - 4.321), <, 1e-12);
  g_assert_cmpfloat (fabs (r.insertion_auc - 4.321), <, 1e-12);
  g_assert_cmpint (ls.calls, ==, 2 + 5 + 5);
  tl_faith_result_clear (&r);

  p.steps = 3;
  p.insertion = false;
  g_assert_true (tl_faith_evaluate (x, 1, 1, 4, map, &sc, &p, &r, NULL));
  double del3[4] = { 4.321, 4.301, 0.301, 0 };
  tl_assert_close (r.deletion_curve, del3, 4, 1e-12);
  g_assert_cmpfloat (fabs (r.deletion_auc - 6.7625 / 3), <, 1e-12);
  g_assert_null (r.insertion_curve);
  tl_faith_result_clear (&r);

  /* Insertion from a hand-blurred start: σ = 1, truncate = 1 on (1,2,3,4):
   * b = (k1·1 + k0·1 + k1·2, k1·1 + k0·2 + k1·3, k1·2 + k0·3 + k1·4,
   *      k1·3 + k0·4 + k1·4); at T = 4 the pixels 1, 3, 2, 0 come back. */
  double k0 = 1 / (1 + 2 * exp (-0.5)), k1 = exp (-0.5) * k0;
  double b[4] = { k1 + k0 + 2 * k1, k1 + 2 * k0 + 3 * k1, 2 * k1 + 3 * k0 + 4 * k1,
                  3 * k1 + 4 * k0 + 4 * k1 };
  p = tl_faith_default_params ();
  p.steps = 4;
  p.blur_sigma = 1.0;
  p.blur_truncate = 1.0;
  p.deletion = false;
  g_assert_true (tl_faith_evaluate (x, 1, 1, 4, map, &sc, &p, &r, NULL));
  int order[4] = { 1, 3, 2, 0 };
  double cur[4] = { b[0], b[1], b[2], b[3] }, want[5], auc = 0;
  for (int t = 0; t <= 4; t++)
    {
      if (t > 0)
        cur[order[t - 1]] = x[order[t - 1]];
      want[t] = (cur[0] * 1 + cur[1] * 10 + cur[2] * 100 + cur[3] * 1000) / 1000;
      if (t > 0)
        auc += (want[t - 1] + want[t]) / 8;
    }
  tl_assert_close (r.insertion_curve, want, 5, 1e-6);
  g_assert_cmpfloat (fabs (r.insertion_auc - auc), <, 1e-6);
  tl_faith_result_clear (&r);
}

/* Against the NumPy/SciPy reference, one input at a time and batched
 * (a batch of 4 does not divide T + 1 = 51). */
static void
test_reference (void)
{
  g_autoptr (tl_tensor) x = fixture ("faith_x.npy");
  g_autoptr (tl_tensor) w = fixture ("faith_w.npy");
  g_autoptr (tl_tensor) map = fixture ("faith_map.npy");
  g_autoptr (tl_tensor) sc = fixture ("faith_scalars.npy");
  int C = (int) x->shape[0], H = (int) x->shape[1], W = (int) x->shape[2];
  double wsum = 0;
  for (int i = 0; i < C * H * W; i++)
    wsum += w->data[i];
  linear_score ls = { w->data, 0.05, wsum, C * H * W, 0 };
  for (int row = 0; row < 2; row++)
    for (int batched = 0; batched < 2; batched++)
      {
        const float *s = sc->data + row * 7;
        tl_faith_params p = tl_faith_default_params ();
        p.steps = (int) s[0];
        tl_faith_scorer scorer = { .user = &ls };
        if (batched)
          {
            scorer.score_batch = score_batch;
            scorer.batch = 4;
          }
        else
          scorer.score = score_one;
        tl_faith_result r;
        GError *e = NULL;
        g_assert_true (tl_faith_evaluate (x->data, C, H, W, map->data, &scorer, &p, &r, &e));
        g_assert_no_error (e);
        g_assert_cmpfloat (fabs (r.score_clean - s[1]), <, 1e-6);
        g_assert_cmpfloat (fabs (r.score_masked - s[2]), <, 1e-6);
        g_assert_cmpfloat (fabs (r.drop - s[3]), <, 1e-6);
        g_assert_cmpint (r.increase, ==, s[4] > 0.5f);
        g_assert_cmpfloat (fabs (r.deletion_auc - s[5]), <, 1e-6);
        g_assert_cmpfloat (fabs (r.insertion_auc - s[6]), <, 1e-6);
        g_autofree char *cn = g_strdup_printf ("faith_curves_T%d.npy", p.steps);
        g_autoptr (tl_tensor) curves = fixture (cn);
        tl_assert_close (r.deletion_curve, curves->data, p.steps + 1, 1e-6);
        tl_assert_close (r.insertion_curve, curves->data + p.steps + 1, p.steps + 1, 1e-6);
        tl_faith_result_clear (&r);
      }
}

static void
test_accumulate (void)
{
  tl_faith_accum acc = { 0 };
  tl_faith_summary s;
  tl_faith_accum_summary (&acc, &s);
  g_assert_cmpfloat (s.average_drop_pct, ==, 0.0);
  double c1[2] = { 1, 0 }, c2[2] = { 1, 1 };
  tl_faith_result a = { .drop = 0.5, .increase = false, .deletion_curve = c1,
                        .deletion_auc = 0.2, .insertion_curve = c2, .insertion_auc = 0.8 };
  tl_faith_result b = { .drop = 0.0, .increase = true, .deletion_curve = c1,
                        .deletion_auc = 0.4 };
  tl_faith_accum_add (&acc, &a);
  tl_faith_accum_add (&acc, &b);
  tl_faith_accum_summary (&acc, &s);
  g_assert_cmpfloat (fabs (s.average_drop_pct - 25.0), <, 1e-12);
  g_assert_cmpfloat (fabs (s.increase_pct - 50.0), <, 1e-12);
  g_assert_cmpfloat (fabs (s.deletion_auc - 0.3), <, 1e-12);
  g_assert_cmpfloat (fabs (s.insertion_auc - 0.8), <, 1e-12);
}

static double
score_zero (const float *x, void *user)
{
  (void) x;
  (void) user;
  return 0.0;
}

static double
score_nan (const float *x, void *user)
{
  (void) user;
  return x[0] < 1.0f ? NAN : 1.0;
}

static gboolean
score_fail (const float *x, int n, double *out, void *user, GError **error)
{
  (void) x, (void) n, (void) out, (void) user;
  g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "model forward failed");
  return FALSE;
}

static void
test_errors (void)
{
  float x[4] = { 1, 1, 1, 1 }, map[4] = { 0.5f, 1, 0, 0.2f };
  tl_faith_params p = tl_faith_default_params ();
  tl_faith_result r;
  GError *e = NULL;
  tl_faith_scorer z = { .score = score_zero };
  g_assert_false (tl_faith_evaluate (x, 1, 2, 2, map, &z, &p, &r, &e));
  g_assert_nonnull (strstr (e->message, "needs f(x) > 0"));
  g_clear_error (&e);
  tl_faith_scorer n = { .score = score_nan };
  g_assert_false (tl_faith_evaluate (x, 1, 2, 2, map, &n, &p, &r, &e));
  g_assert_nonnull (strstr (e->message, "returned nan"));
  g_assert_null (r.deletion_curve);
  g_clear_error (&e);
  tl_faith_scorer f = { .score_batch = score_fail, .batch = 8 };
  g_assert_false (tl_faith_evaluate (x, 1, 2, 2, map, &f, &p, &r, &e));
  g_assert_nonnull (strstr (e->message, "model forward failed"));
  g_clear_error (&e);
  float bad[4] = { 0, NAN, 0, 0 };
  tl_faith_scorer ok = { .score = score_nan };
  g_assert_false (tl_faith_evaluate (x, 1, 2, 2, bad, &ok, &p, &r, &e));
  g_assert_nonnull (strstr (e->message, "row 0, column 1"));
  g_clear_error (&e);
  p.steps = 0;
  g_assert_false (tl_faith_evaluate (x, 1, 2, 2, map, &ok, &p, &r, &e));
  g_assert_nonnull (strstr (e->message, "steps = 0"));
  g_clear_error (&e);
  p = tl_faith_default_params ();
  g_assert_false (tl_faith_evaluate (x, 0, 2, 2, map, &ok, &p, &r, &e));
  g_assert_nonnull (strstr (e->message, "out of range"));
  g_clear_error (&e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/faithfulness/blur-scipy", test_blur_scipy);
  g_test_add_func ("/faithfulness/blur-hand", test_blur_hand);
  g_test_add_func ("/faithfulness/order", test_order);
  g_test_add_func ("/faithfulness/hand", test_hand);
  g_test_add_func ("/faithfulness/increase", test_increase);
  g_test_add_func ("/faithfulness/reference", test_reference);
  g_test_add_func ("/faithfulness/accumulate", test_accumulate);
  g_test_add_func ("/faithfulness/errors", test_errors);
  return g_test_run ();
}
