/* BatchNormalization (inference) and Softmax against the fixtures, finite
 * differences of the Softmax gradient, stability and bad parameters. */
#include "kernel-test.h"

typedef struct
{
  int64_t outer, len, inner;
} sm_ctx;

static void
sm_fwd (void *data, const float *x, float *y)
{
  sm_ctx *c = data;
  g_assert_true (tl_softmax_forward (x, c->outer, c->len, c->inner, y, NULL));
}

static void
test_norm_case (gconstpointer data)
{
  JsonObject *c = (JsonObject *) data, *p = kt_params (c);
  const char *kind = kt_str (p, "kind");
  GError *err = NULL;
  if (!strcmp (kind, "conv_bn"))
    return; /* used by test-conv's folding test */
  g_autoptr (tl_tensor) x = kt_tensor (c, "x");
  g_autoptr (tl_tensor) y = kt_tensor (c, "y");
  g_autoptr (tl_tensor) dy = kt_tensor (c, "dy");
  g_autoptr (tl_tensor) dx = kt_tensor (c, "dx");
  const int64_t n = tl_tensor_numel (x);
  g_autofree float *out = g_new (float, n);
  g_autofree float *gx = g_new (float, n);
  if (!strcmp (kind, "batchnorm"))
    {
      g_autoptr (tl_tensor) gamma = kt_tensor (c, "gamma");
      g_autoptr (tl_tensor) beta = kt_tensor (c, "beta");
      g_autoptr (tl_tensor) mean = kt_tensor (c, "mean");
      g_autoptr (tl_tensor) var = kt_tensor (c, "var");
      const float eps = (float) kt_double (p, "eps");
      tl_shape4 xs = kt_shape4 (x);
      g_assert_true (tl_batchnorm_forward (x->data, xs, gamma->data, beta->data, mean->data,
                                           var->data, eps, out, &err));
      kt_assert_rel ("forward", out, y->data, n, KT_FWD_TOL);
      g_assert_true (tl_batchnorm_backward (dy->data, xs, gamma->data, var->data, eps, gx,
                                            &err));
      kt_assert_rel ("backward", gx, dx->data, n, KT_BWD_TOL);
      /* in place */
      memcpy (out, x->data, sizeof (float) * n);
      g_assert_true (tl_batchnorm_forward (out, xs, gamma->data, beta->data, mean->data,
                                           var->data, eps, out, &err));
      kt_assert_rel ("in place", out, y->data, n, KT_FWD_TOL);
      float bad[16];
      memcpy (bad, var->data, sizeof (float) * xs.c);
      bad[2] = -eps;
      kt_assert_invalid (tl_batchnorm_forward (x->data, xs, gamma->data, beta->data,
                                               mean->data, bad, eps, out, &err),
                         err, "channel 2");
      bad[2] = NAN;
      kt_assert_invalid (tl_batchnorm_backward (dy->data, xs, gamma->data, bad, eps, gx,
                                                &err), err, "channel 2");
      kt_assert_invalid (tl_batchnorm_forward (x->data, xs, gamma->data, beta->data,
                                               mean->data, var->data, -1.0f, out, &err),
                         err, "epsilon");
      tl_shape4 zero = { 0, 3, 4, 5 };
      kt_assert_invalid (tl_batchnorm_forward (x->data, zero, gamma->data, beta->data,
                                               mean->data, var->data, eps, out, &err),
                         err, "input shape");
      g_assert_no_error (err);
      return;
    }
  sm_ctx sc = { kt_int (p, "outer"), kt_int (p, "len"), kt_int (p, "inner") };
  g_assert_true (tl_softmax_forward (x->data, sc.outer, sc.len, sc.inner, out, &err));
  kt_assert_rel ("forward", out, y->data, n, KT_FWD_TOL);
  g_assert_true (tl_softmax_backward (out, dy->data, sc.outer, sc.len, sc.inner, gx, &err));
  g_assert_no_error (err);
  /* Every case: the error is small against the gradient flowing in,
   * max |dx - ref| <= 1e-6 max |dy|. The relative L2 bound (1e-5) holds
   * too except for sm_big (logits ~ N(0, 60^2)): it is saturated, its
   * y_max rounds to 1 in float32 and dx = y (dy - <dy, y>) is a cancellation
   * whose tiny exact value float32 y cannot carry (measured 1e-4 .. 5e-4). */
  double maxdy = 0, maxerr = 0;
  for (int64_t i = 0; i < n; i++)
    {
      maxdy = fmax (maxdy, fabs (dy->data[i]));
      maxerr = fmax (maxerr, fabs ((double) gx[i] - dx->data[i]));
    }
  if (!(maxerr <= 1e-6 * maxdy))
    g_error ("%s: max error %.3g > 1e-6 * %.3g", g_test_get_path (), maxerr, maxdy);
  if (strcmp (kt_name (c), "sm_big") != 0)
    kt_assert_rel ("backward", gx, dx->data, n, KT_BWD_TOL);
  /* nonlinear: small eps, the O(eps^2) truncation stays far below tol */
  kt_fd_check ("softmax", sm_fwd, &sc, x->data, n, n, dy->data, gx, 1e-3, 1e-3, 24);
}

static void
test_softmax_extreme (void)
{
  float x[4] = { 1e30f, -1e30f, 88.0f, 89.0f }, y[4];
  GError *err = NULL;
  g_assert_true (tl_softmax_forward (x, 1, 4, 1, y, &err));
  g_assert_cmpfloat (y[0], ==, 1.0f);
  for (int i = 1; i < 4; i++)
    g_assert_cmpfloat (y[i], ==, 0.0f);
  kt_assert_invalid (tl_softmax_forward (x, 1, 0, 1, y, &err), err, "axis length");
  kt_assert_invalid (tl_softmax_forward (x, -1, 4, 1, y, &err), err, "outer");
  kt_assert_invalid (tl_softmax_backward (y, x, 1 << 20, 1 << 20, 1 << 10, y, &err), err,
                     "elements");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  JsonParser *pn;
  JsonArray *cases = kt_cases ("norm", &pn);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      if (!strcmp (kt_name (c), "conv_bn"))
        continue;
      g_autofree char *path = g_strdup_printf ("/kernels/norm/%s", kt_name (c));
      g_test_add_data_func (path, c, test_norm_case);
    }
  g_test_add_func ("/kernels/norm/softmax-extreme", test_softmax_extreme);
  int rc = g_test_run ();
  g_object_unref (pn);
  return rc;
}
