/* Resize (every nearest_mode x coordinate_transformation_mode, bilinear,
 * sizes and scales) against the fixtures, finite differences of the
 * adjoint, thread-count independence, Upsample mapping and bad parameters. */
#include "kernel-test.h"

static int
lookup (const char *s, const char *const *names, int n)
{
  for (int i = 0; i < n; i++)
    if (!strcmp (s, names[i]))
      return i;
  g_error ("unknown mode %s", s);
  return -1;
}

static tl_resize_params
resize_params_of (JsonObject *p)
{
  static const char *const modes[] = { "nearest", "linear" };
  static const char *const coords[] = { "half_pixel", "pytorch_half_pixel", "asymmetric",
                                        "align_corners", "tf_half_pixel_for_nn" };
  static const char *const nearest[] = { "round_prefer_floor", "round_prefer_ceil", "floor",
                                         "ceil", "simple" };
  tl_resize_params r = tl_resize_default_params ();
  r.mode = lookup (kt_str (p, "mode"), modes, 2);
  r.coord = lookup (kt_str (p, "coord"), coords, 5);
  r.nearest = lookup (kt_str (p, "nearest"), nearest, 5);
  r.scale_h = kt_ith_double (p, "scales", 0);
  r.scale_w = kt_ith_double (p, "scales", 1);
  return r;
}

typedef struct
{
  const tl_resize_params *p;
  tl_shape4 xs, ys;
} rs_ctx;

static void
rs_fwd (void *data, const float *x, float *y)
{
  rs_ctx *c = data;
  g_assert_true (tl_resize_forward (c->p, x, c->xs, y, c->ys, NULL));
}

static void
test_resize_case (gconstpointer data)
{
  JsonObject *c = (JsonObject *) data;
  g_autoptr (tl_tensor) x = kt_tensor (c, "x");
  g_autoptr (tl_tensor) y = kt_tensor (c, "y");
  g_autoptr (tl_tensor) dy = kt_tensor (c, "dy");
  g_autoptr (tl_tensor) dx = kt_tensor (c, "dx");
  tl_resize_params p = resize_params_of (kt_params (c));
  if (json_object_has_member (kt_params (c), "legacy_op"))
    /* ONNX Runtime's Upsample-9 / Resize-10: the engine's helper must match */
    p = tl_resize_upsample_params (p.mode, p.scale_h, p.scale_w);
  tl_shape4 xs = kt_shape4 (x), ys = kt_shape4 (y);
  const int64_t nx = tl_tensor_numel (x), ny = tl_tensor_numel (y);
  g_autofree float *out = g_new (float, ny);
  g_autofree float *gx = g_new (float, nx);
  g_autofree float *out2 = g_new (float, ny);
  g_autofree float *gx2 = g_new (float, nx);
  GError *err = NULL;
  tl_kernels_set_threads (1);
  g_assert_true (tl_resize_forward (&p, x->data, xs, out, ys, &err));
  g_assert_true (tl_resize_backward (&p, dy->data, ys, gx, xs, &err));
  g_assert_no_error (err);
  kt_assert_rel ("forward", out, y->data, ny, KT_FWD_TOL);
  kt_assert_rel ("backward", gx, dx->data, nx, KT_BWD_TOL);
  tl_kernels_set_threads (2);
  g_assert_true (tl_resize_forward (&p, x->data, xs, out2, ys, &err));
  g_assert_true (tl_resize_backward (&p, dy->data, ys, gx2, xs, &err));
  tl_kernels_set_threads (1);
  g_assert_cmpmem (out, sizeof (float) * ny, out2, sizeof (float) * ny);
  g_assert_cmpmem (gx, sizeof (float) * nx, gx2, sizeof (float) * nx);
  rs_ctx fc = { &p, xs, ys };
  kt_fd_check ("resize", rs_fwd, &fc, x->data, nx, ny, dy->data, gx, 0.25, 1e-3, 24);
}

/* Upsample-9 nearest x2 is pixel replication; linear x2 asymmetric
 * interpolates towards the right neighbour and repeats the last one. */
static void
test_upsample (void)
{
  float x[6] = { 1, 2, 3, 4, 5, 6 }, y[24];
  tl_shape4 xs = { 1, 1, 2, 3 }, ys = { 1, 1, 4, 6 };
  tl_resize_params p = tl_resize_upsample_params (TL_RESIZE_NEAREST, 2.0, 2.0);
  GError *err = NULL;
  g_assert_true (tl_resize_forward (&p, x, xs, y, ys, &err));
  const float want[24] = { 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3,
                           4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6 };
  g_assert_cmpmem (y, sizeof y, want, sizeof want);
  p = tl_resize_upsample_params (TL_RESIZE_LINEAR, 2.0, 2.0);
  g_assert_true (tl_resize_forward (&p, x, xs, y, ys, &err));
  const float wl[6] = { 1, 1.5, 2, 2.5, 3, 3 };
  g_assert_cmpmem (y, sizeof wl, wl, sizeof wl);
  g_assert_cmpfloat (y[6], ==, 2.5f); /* row 0.5: (1 + 4) / 2 */
  g_assert_cmpfloat (y[18], ==, 4.0f); /* row 1.5 clamps to row 1 */
  g_assert_no_error (err);
}

/* ORT's float32 output length (ONNX shape inference would say 91 and 27). */
static void
test_output_size (void)
{
  g_assert_cmpint (tl_resize_output_size (40, 2.3f), ==, 92);
  g_assert_cmpint (tl_resize_output_size (40, 0.7f), ==, 28);
  g_assert_cmpint (tl_resize_output_size (5, 2.5f), ==, 12);
  g_assert_cmpint (tl_resize_output_size (7, 0.1f), ==, 0);
  g_assert_cmpint (tl_resize_output_size (7, -2.0f), ==, -1);
  g_assert_cmpint (tl_resize_output_size (7, NAN), ==, -1);
  g_assert_cmpint (tl_resize_output_size (1 << 20, 1e9f), ==, -1);
}

static void
test_resize_bad (void)
{
  float x[16] = { 0 }, y[64];
  tl_shape4 xs = { 1, 1, 4, 4 }, ys = { 1, 1, 8, 8 };
  tl_resize_params p = tl_resize_default_params ();
  GError *err = NULL;
  g_assert_true (tl_resize_forward (&p, x, xs, y, ys, &err));
  tl_shape4 bad = { 1, 2, 4, 4 };
  kt_assert_invalid (tl_resize_forward (&p, x, xs, y, bad, &err), err, "only H and W");
  tl_shape4 zero = { 1, 1, 0, 4 };
  kt_assert_invalid (tl_resize_forward (&p, x, xs, y, zero, &err), err, "output shape");
  tl_shape4 huge = { 1, 1, (int64_t) 1 << 30, 4 };
  kt_assert_invalid (tl_resize_backward (&p, y, huge, x, xs, &err), err, "output shape");
  p.scale_h = -2.0;
  kt_assert_invalid (tl_resize_forward (&p, x, xs, y, ys, &err), err, "scales");
  p.scale_h = NAN;
  kt_assert_invalid (tl_resize_forward (&p, x, xs, y, ys, &err), err, "scales");
  p.scale_h = 1e-50; /* not a float32 */
  kt_assert_invalid (tl_resize_forward (&p, x, xs, y, ys, &err), err, "scales");
  p.scale_h = 1e300;
  kt_assert_invalid (tl_resize_forward (&p, x, xs, y, ys, &err), err, "scales");
  p = tl_resize_default_params ();
  p.mode = (tl_resize_mode) 7;
  kt_assert_invalid (tl_resize_forward (&p, x, xs, y, ys, &err), err, "mode");
  /* a tiny scale that puts source coordinates far outside: clamped, finite */
  p = tl_resize_default_params ();
  p.coord = TL_RESIZE_ASYMMETRIC;
  p.scale_h = p.scale_w = 1e-30;
  for (int i = 0; i < 16; i++)
    x[i] = (float) i;
  g_assert_true (tl_resize_forward (&p, x, xs, y, ys, &err));
  g_assert_cmpfloat (y[0], ==, 0.0f);
  g_assert_cmpfloat (y[63], ==, 15.0f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  JsonParser *pr;
  JsonArray *cases = kt_cases ("resize", &pr);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      g_autofree char *path = g_strdup_printf ("/kernels/resize/%s", kt_name (c));
      g_test_add_data_func (path, c, test_resize_case);
    }
  g_test_add_func ("/kernels/resize/upsample", test_upsample);
  g_test_add_func ("/kernels/resize/output-size", test_output_size);
  g_test_add_func ("/kernels/resize/bad-params", test_resize_bad);
  int rc = g_test_run ();
  g_object_unref (pr);
  return rc;
}
