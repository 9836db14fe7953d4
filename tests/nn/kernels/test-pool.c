/* MaxPool, AveragePool and global pools against the fixtures, the
 * ceil_mode output-size rule, finite differences, thread-count independence
 * and bad parameters. */
#include "kernel-test.h"

static tl_pool_params
pool_params_of (JsonObject *p)
{
  tl_pool_params pp = tl_pool_default_params ();
  int64_t v[4];
  kt_ints (p, "kernel", v, 2);
  pp.kernel_h = v[0];
  pp.kernel_w = v[1];
  kt_ints (p, "strides", v, 2);
  pp.stride_h = v[0];
  pp.stride_w = v[1];
  kt_ints (p, "dilations", v, 2);
  pp.dilation_h = v[0];
  pp.dilation_w = v[1];
  kt_ints (p, "pads", v, 4);
  pp.pad_top = v[0];
  pp.pad_left = v[1];
  pp.pad_bottom = v[2];
  pp.pad_right = v[3];
  pp.ceil_mode = kt_int (p, "ceil_mode") != 0;
  pp.count_include_pad = kt_int (p, "count_include_pad") != 0;
  return pp;
}

typedef struct
{
  const tl_pool_params *p;
  tl_shape4 xs, ys;
  gboolean max;
} pool_fd_ctx;

static void
pool_fwd (void *data, const float *x, float *y)
{
  pool_fd_ctx *c = data;
  if (c->max)
    g_assert_true (tl_maxpool_forward (c->p, x, c->xs, y, c->ys, NULL, NULL));
  else
    g_assert_true (tl_avgpool_forward (c->p, x, c->xs, y, c->ys, NULL));
}

static void
global_fwd (void *data, const float *x, float *y)
{
  pool_fd_ctx *c = data;
  if (c->max)
    tl_global_maxpool_forward (x, c->xs, y, NULL);
  else
    tl_global_avgpool_forward (x, c->xs, y);
}

/* forward + backward with the given thread count */
static void
run (const tl_pool_params *p, gboolean max, const tl_tensor *x, const tl_tensor *dy,
     tl_shape4 ys, float *out, float *gx, int64_t *am)
{
  tl_shape4 xs = kt_shape4 (x);
  GError *err = NULL;
  if (max)
    {
      g_assert_true (tl_maxpool_forward (p, x->data, xs, out, ys, am, &err));
      g_assert_true (tl_maxpool_backward (p, dy->data, ys, am, gx, xs, &err));
    }
  else
    {
      g_assert_true (tl_avgpool_forward (p, x->data, xs, out, ys, &err));
      g_assert_true (tl_avgpool_backward (p, dy->data, ys, gx, xs, &err));
    }
  g_assert_no_error (err);
}

static void
test_pool_case (gconstpointer data)
{
  JsonObject *c = (JsonObject *) data, *pj = kt_params (c);
  g_autoptr (tl_tensor) x = kt_tensor (c, "x");
  g_autoptr (tl_tensor) y = kt_tensor (c, "y");
  g_autoptr (tl_tensor) dy = kt_tensor (c, "dy");
  g_autoptr (tl_tensor) dx = kt_tensor (c, "dx");
  const char *kind = kt_str (pj, "kind");
  const gboolean max = !strcmp (kind, "max") || !strcmp (kind, "global_max");
  tl_shape4 xs = kt_shape4 (x), ys = kt_shape4 (y);
  const int64_t nx = tl_tensor_numel (x), ny = tl_tensor_numel (y);
  g_autofree float *out = g_new (float, ny);
  g_autofree float *gx = g_new (float, nx);
  g_autofree int64_t *am = g_new (int64_t, ny);
  pool_fd_ctx fc = { NULL, xs, ys, max };

  if (g_str_has_prefix (kind, "global"))
    {
      if (max)
        {
          tl_global_maxpool_forward (x->data, xs, out, am);
          tl_global_maxpool_backward (dy->data, am, gx, xs);
        }
      else
        {
          tl_global_avgpool_forward (x->data, xs, out);
          tl_global_avgpool_backward (dy->data, gx, xs);
        }
      kt_assert_rel ("forward", out, y->data, ny, KT_FWD_TOL);
      kt_assert_rel ("backward", gx, dx->data, nx, KT_BWD_TOL);
      kt_fd_check (kind, global_fwd, &fc, x->data, nx, ny, dy->data, gx, 1e-3, 1e-3, 24);
      return;
    }

  tl_pool_params p = pool_params_of (pj);
  tl_shape4 got;
  GError *err = NULL;
  g_assert_true (tl_pool_output_shape (&p, xs, &got, &err));
  g_assert_no_error (err);
  g_assert_true (got.n == ys.n && got.c == ys.c && got.h == ys.h && got.w == ys.w);

  tl_kernels_set_threads (1);
  run (&p, max, x, dy, ys, out, gx, am);
  kt_assert_rel ("forward", out, y->data, ny, KT_FWD_TOL);
  kt_assert_rel ("backward", gx, dx->data, nx, KT_BWD_TOL);
  if (max)
    {
      /* without argmax MaxPool may take its tap-major path: same bits, also
       * with NaNs (which win their windows) */
      g_autofree float *fast = g_new (float, ny);
      g_assert_true (tl_maxpool_forward (&p, x->data, xs, fast, ys, NULL, &err));
      g_assert_cmpmem (fast, sizeof (float) * ny, out, sizeof (float) * ny);
      g_autofree float *xn = g_memdup2 (x->data, sizeof (float) * nx);
      for (int64_t i = 0; i < nx; i += 7)
        xn[i] = NAN;
      g_autofree float *slow = g_new (float, ny);
      g_assert_true (tl_maxpool_forward (&p, xn, xs, fast, ys, NULL, &err));
      g_assert_true (tl_maxpool_forward (&p, xn, xs, slow, ys, am, &err));
      for (int64_t i = 0; i < ny; i++)
        g_assert_true ((isnan (fast[i]) && isnan (slow[i])) || fast[i] == slow[i]);
      /* recompute the argmax of the clean input for the thread check below */
      run (&p, max, x, dy, ys, out, gx, am);
    }

  g_autofree float *out2 = g_new (float, ny);
  g_autofree float *gx2 = g_new (float, nx);
  tl_kernels_set_threads (2);
  run (&p, max, x, dy, ys, out2, gx2, am);
  tl_kernels_set_threads (1);
  g_assert_cmpmem (out, sizeof (float) * ny, out2, sizeof (float) * ny);
  g_assert_cmpmem (gx, sizeof (float) * nx, gx2, sizeof (float) * nx);

  /* inputs are spaced 1/64 apart, so eps = 1e-3 never reorders a window;
   * averages are linear, so a larger eps only reduces rounding noise */
  fc.p = &p;
  kt_fd_check (kind, pool_fwd, &fc, x->data, nx, ny, dy->data, gx, max ? 1e-3 : 0.25, 1e-3,
               32);
}

/* Output-size rule, worked by hand. */
static void
test_output_size (void)
{
  int64_t o;
  GError *err = NULL;
  /* in 8, k 3, s 2, floor: (8-3)/2+1 = 3; ceil: ceil(5/2)+1 = 4 */
  g_assert_true (tl_pool_output_size (8, 3, 2, 1, 0, 0, FALSE, &o, &err));
  g_assert_cmpint (o, ==, 3);
  g_assert_true (tl_pool_output_size (8, 3, 2, 1, 0, 0, TRUE, &o, &err));
  g_assert_cmpint (o, ==, 4);
  /* in 5, k 2, s 2, pad 1/1, ceil: ceil(5/2)+1 = 4, but window 3 starts at
   * 6 - 1 = 5 >= in: dropped -> 3 */
  g_assert_true (tl_pool_output_size (5, 2, 2, 1, 1, 1, TRUE, &o, &err));
  g_assert_cmpint (o, ==, 3);
  /* in 6, k 2, s 2, pad 1/1, ceil: span 6 -> 4; last starts at 6-1 = 5 < 6: kept */
  g_assert_true (tl_pool_output_size (6, 2, 2, 1, 1, 1, TRUE, &o, &err));
  g_assert_cmpint (o, ==, 4);
  /* dilation: in 9, k 3, d 2 (eff 5), s 1 -> 5 */
  g_assert_true (tl_pool_output_size (9, 3, 1, 2, 0, 0, FALSE, &o, &err));
  g_assert_cmpint (o, ==, 5);
  g_assert_no_error (err);
}

static void
test_pool_bad (void)
{
  float x[2 * 3 * 6 * 6] = { 0 }, y[2 * 3 * 6 * 6];
  int64_t am[2 * 3 * 6 * 6];
  tl_shape4 xs = { 2, 3, 6, 6 }, ys = { 2, 3, 3, 3 }, os;
  tl_pool_params p = tl_pool_default_params ();
  p.kernel_h = p.kernel_w = 2;
  p.stride_h = p.stride_w = 2;
  GError *err = NULL;
  g_assert_true (tl_maxpool_forward (&p, x, xs, y, ys, am, &err));
  g_assert_no_error (err);
  tl_shape4 bad = { 2, 3, 3, 4 };
  kt_assert_invalid (tl_maxpool_forward (&p, x, xs, y, bad, am, &err), err, "output shape");
  kt_assert_invalid (tl_avgpool_forward (&p, x, xs, y, bad, &err), err, "output shape");
  kt_assert_invalid (tl_maxpool_backward (&p, y, bad, am, x, xs, &err), err, "output shape");
  kt_assert_invalid (tl_avgpool_backward (&p, y, bad, x, xs, &err), err, "output shape");
  tl_pool_params q = p;
  q.stride_h = 0;
  kt_assert_invalid (tl_pool_output_shape (&q, xs, &os, &err), err, "stride");
  q = p;
  q.stride_w = -1;
  kt_assert_invalid (tl_maxpool_forward (&q, x, xs, y, ys, am, &err), err, "stride");
  q = p;
  q.kernel_h = 0;
  kt_assert_invalid (tl_pool_output_shape (&q, xs, &os, &err), err, "kernel");
  q = p;
  q.kernel_h = 9; /* 9 > 6 */
  kt_assert_invalid (tl_pool_output_shape (&q, xs, &os, &err), err, "padded input");
  q.pad_top = 2;
  q.pad_bottom = 1;
  g_assert_true (tl_pool_output_shape (&q, xs, &os, &err));
  g_assert_cmpint (os.h, ==, 1);
  q = p;
  q.pad_left = -1;
  kt_assert_invalid (tl_pool_output_shape (&q, xs, &os, &err), err, "pad");
  q = p;
  q.dilation_w = (int64_t) 1 << 50;
  kt_assert_invalid (tl_pool_output_shape (&q, xs, &os, &err), err, "dilation");
  tl_shape4 huge = { 1 << 20, 1 << 20, 1 << 20, 2 };
  kt_assert_invalid (tl_pool_output_shape (&p, huge, &os, &err), err, "elements");

  /* a window lying entirely in the padding: 0, no argmax, no NaN */
  q = p;
  q.kernel_h = q.kernel_w = 2;
  q.stride_h = q.stride_w = 1;
  q.pad_top = 3;
  tl_shape4 s1 = { 1, 1, 6, 6 }, o1;
  g_assert_true (tl_pool_output_shape (&q, s1, &o1, &err));
  float xx[36], yy[64];
  for (int i = 0; i < 36; i++)
    xx[i] = (float) i - 40.0f;
  g_assert_true (tl_maxpool_forward (&q, xx, s1, yy, o1, am, &err));
  g_assert_cmpfloat (yy[0], ==, 0.0f);
  g_assert_cmpint (am[0], ==, -1);
  g_assert_cmpfloat (yy[o1.w], ==, 0.0f);
  g_assert_cmpint (am[o1.w], ==, -1);
  /* output row 2 covers padded rows -1 and 0: max(x[0][0], x[0][1]) */
  g_assert_cmpfloat (yy[2 * o1.w], ==, -39.0f);
  for (int i = 0; i < o1.h * o1.w; i++)
    g_assert_true (isfinite (yy[i]));
  float gx[36], gy[64];
  for (int i = 0; i < 64; i++)
    gy[i] = 1.0f;
  g_assert_true (tl_maxpool_backward (&q, gy, o1, am, gx, s1, &err));
  g_assert_no_error (err);
}

static void
add_cases (const char *kernel, GTestDataFunc fn, JsonParser **parser)
{
  JsonArray *cases = kt_cases (kernel, parser);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      g_autofree char *path = g_strdup_printf ("/kernels/%s/%s", kernel, kt_name (c));
      g_test_add_data_func (path, c, fn);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  JsonParser *pp;
  add_cases ("pool", test_pool_case, &pp);
  g_test_add_func ("/kernels/pool/output-size", test_output_size);
  g_test_add_func ("/kernels/pool/bad-params", test_pool_bad);
  int rc = g_test_run ();
  g_object_unref (pp);
  return rc;
}
