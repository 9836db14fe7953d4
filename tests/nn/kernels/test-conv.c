/* Conv and ConvTranspose kernels against the NumPy/torch fixtures of
 * tests/data/nn/kernels/make-kernel-refs.py, a finite-difference probe of
 * the input gradients, thread-count independence, and bad parameters. */
#include "kernel-test.h"

static tl_activation
act_of (JsonObject *p)
{
  const char *a = kt_str (p, "act");
  tl_activation act = { TL_ACT_NONE, (float) kt_double (p, "lo"), (float) kt_double (p, "hi") };
  if (!strcmp (a, "relu"))
    act.kind = TL_ACT_RELU;
  else if (!strcmp (a, "clip"))
    act.kind = TL_ACT_CLIP;
  else if (!strcmp (a, "hardswish"))
    act.kind = TL_ACT_HARDSWISH;
  return act;
}

static tl_conv_params
conv_params_of (JsonObject *p, const tl_tensor *w)
{
  tl_conv_params cp = tl_conv_default_params ();
  int64_t v[4];
  cp.kernel_h = w->shape[2];
  cp.kernel_w = w->shape[3];
  kt_ints (p, "strides", v, 2);
  cp.stride_h = v[0];
  cp.stride_w = v[1];
  kt_ints (p, "dilations", v, 2);
  cp.dilation_h = v[0];
  cp.dilation_w = v[1];
  kt_ints (p, "pads", v, 4);
  cp.pad_top = v[0];
  cp.pad_left = v[1];
  cp.pad_bottom = v[2];
  cp.pad_right = v[3];
  cp.groups = kt_int (p, "groups");
  return cp;
}

typedef struct
{
  const tl_conv_params *p;
  const tl_conv_transpose_params *tp;
  tl_shape4 xs, ws, ys;
  const float *w;
  float *scratch;
  size_t scratch_len;
} conv_fd_ctx;

static void
conv_fwd (void *data, const float *x, float *y)
{
  conv_fd_ctx *c = data;
  tl_activation none = { TL_ACT_NONE, 0, 0 };
  g_assert_true (tl_conv2d_forward (c->p, x, c->xs, c->w, c->ws, NULL, none, y, c->ys,
                                    c->scratch, c->scratch_len, NULL));
}

static void
convt_fwd (void *data, const float *x, float *y)
{
  conv_fd_ctx *c = data;
  tl_activation none = { TL_ACT_NONE, 0, 0 };
  g_assert_true (tl_conv_transpose2d_forward (c->tp, x, c->xs, c->w, c->ws, NULL, none,
                                              y, c->ys, c->scratch, c->scratch_len, NULL));
}

static void
test_conv_case (gconstpointer data)
{
  JsonObject *c = (JsonObject *) data, *p = kt_params (c);
  g_autoptr (tl_tensor) x = kt_tensor (c, "x");
  g_autoptr (tl_tensor) w = kt_tensor (c, "w");
  g_autoptr (tl_tensor) b = kt_tensor (c, "b");
  g_autoptr (tl_tensor) y = kt_tensor (c, "y");
  g_autoptr (tl_tensor) dy = kt_tensor (c, "dy");
  g_autoptr (tl_tensor) dx = kt_tensor (c, "dx");
  tl_conv_params cp = conv_params_of (p, w);
  tl_shape4 xs = kt_shape4 (x), ws = kt_shape4 (w), want = kt_shape4 (y), ys;
  GError *err = NULL;
  g_assert_true (tl_conv2d_output_shape (&cp, xs, ws.n, &ys, &err));
  g_assert_no_error (err);
  g_assert_true (ys.n == want.n && ys.c == want.c && ys.h == want.h && ys.w == want.w);

  size_t sl = tl_conv2d_scratch_size (&cp, xs, ys);
  float *scratch = g_new0 (float, sl + 1);
  g_autofree float *out = g_new (float, tl_tensor_numel (y));
  g_autofree float *gx = g_new (float, tl_tensor_numel (x));

  /* one thread, then two: identical bits (depthwise and im2col loops are ours,
   * GEMM splits never cut K in OpenBLAS, but only our loops are promised) */
  tl_kernels_set_threads (1);
  g_assert_true (tl_conv2d_forward (&cp, x->data, xs, w->data, ws, b ? b->data : NULL,
                                    act_of (p), out, ys, scratch, sl, &err));
  g_assert_no_error (err);
  kt_assert_rel ("forward", out, y->data, tl_tensor_numel (y), KT_FWD_TOL);
  g_assert_true (tl_conv2d_backward_input (&cp, dy->data, ys, w->data, ws, gx, xs,
                                           scratch, sl, &err));
  g_assert_no_error (err);
  kt_assert_rel ("backward", gx, dx->data, tl_tensor_numel (x), KT_BWD_TOL);

  if (cp.groups == xs.c && ys.c == xs.c)
    {
      g_autofree float *out2 = g_new (float, tl_tensor_numel (y));
      g_autofree float *gx2 = g_new (float, tl_tensor_numel (x));
      tl_kernels_set_threads (2);
      g_assert_true (tl_conv2d_forward (&cp, x->data, xs, w->data, ws, b ? b->data : NULL,
                                        act_of (p), out2, ys, scratch, sl, NULL));
      g_assert_true (tl_conv2d_backward_input (&cp, dy->data, ys, w->data, ws, gx2, xs,
                                               scratch, sl, NULL));
      tl_kernels_set_threads (1);
      g_assert_cmpmem (out, sizeof (float) * tl_tensor_numel (y), out2,
                       sizeof (float) * tl_tensor_numel (y));
      g_assert_cmpmem (gx, sizeof (float) * tl_tensor_numel (x), gx2,
                       sizeof (float) * tl_tensor_numel (x));
    }

  /* Finite differences of <dy, conv(x)> (conv is linear: eps = 0.25). */
  conv_fd_ctx fc = { &cp, NULL, xs, ws, ys, w->data, scratch, sl };
  kt_fd_check ("conv", conv_fwd, &fc, x->data, tl_tensor_numel (x), tl_tensor_numel (y),
               dy->data, gx, 0.25, 1e-3, 24);
  g_free (scratch);
}

static void
test_conv_transpose_case (gconstpointer data)
{
  JsonObject *c = (JsonObject *) data, *p = kt_params (c);
  g_autoptr (tl_tensor) x = kt_tensor (c, "x");
  g_autoptr (tl_tensor) w = kt_tensor (c, "w");
  g_autoptr (tl_tensor) b = kt_tensor (c, "b");
  g_autoptr (tl_tensor) y = kt_tensor (c, "y");
  g_autoptr (tl_tensor) dy = kt_tensor (c, "dy");
  g_autoptr (tl_tensor) dx = kt_tensor (c, "dx");
  tl_conv_transpose_params tp = tl_conv_transpose_default_params ();
  tp.conv = conv_params_of (p, w);
  int64_t op[2];
  kt_ints (p, "output_padding", op, 2);
  tp.output_padding_h = op[0];
  tp.output_padding_w = op[1];
  tl_shape4 xs = kt_shape4 (x), ws = kt_shape4 (w), want = kt_shape4 (y), ys;
  GError *err = NULL;
  g_assert_true (tl_conv_transpose2d_output_shape (&tp, xs, want.c, &ys, &err));
  g_assert_no_error (err);
  g_assert_true (ys.n == want.n && ys.c == want.c && ys.h == want.h && ys.w == want.w);
  size_t sl = tl_conv_transpose2d_scratch_size (&tp, xs, ys);
  g_autofree float *scratch = g_new0 (float, sl);
  g_autofree float *out = g_new (float, tl_tensor_numel (y));
  g_autofree float *gx = g_new (float, tl_tensor_numel (x));
  g_assert_true (tl_conv_transpose2d_forward (&tp, x->data, xs, w->data, ws,
                                              b ? b->data : NULL, act_of (p), out, ys,
                                              scratch, sl, &err));
  g_assert_no_error (err);
  kt_assert_rel ("forward", out, y->data, tl_tensor_numel (y), KT_FWD_TOL);
  g_assert_true (tl_conv_transpose2d_backward_input (&tp, dy->data, ys, w->data, ws, gx,
                                                     xs, scratch, sl, &err));
  g_assert_no_error (err);
  kt_assert_rel ("backward", gx, dx->data, tl_tensor_numel (x), KT_BWD_TOL);
  conv_fd_ctx fc = { NULL, &tp, xs, ws, ys, w->data, scratch, sl };
  kt_fd_check ("conv_transpose", convt_fwd, &fc, x->data, tl_tensor_numel (x),
               tl_tensor_numel (y), dy->data, gx, 0.25, 1e-3, 24);
}

/* Direct convolution from the definition, accumulated in double: the
 * reference for convs too large for fixtures (column tiles that cut output
 * rows, threaded im2col, the depthwise fast path on wide rows). */
static void
naive_conv (const tl_conv_params *p, const float *x, tl_shape4 xs, const float *w,
            const float *b, double *y, tl_shape4 ys)
{
  const int64_t cg = xs.c / p->groups, og = ys.c / p->groups;
  for (int64_t n = 0; n < ys.n; n++)
    for (int64_t o = 0; o < ys.c; o++)
      for (int64_t i = 0; i < ys.h; i++)
        for (int64_t j = 0; j < ys.w; j++)
          {
            double acc = b ? b[o] : 0.0;
            const int64_t g = o / og;
            for (int64_t c = 0; c < cg; c++)
              for (int64_t ki = 0; ki < p->kernel_h; ki++)
                for (int64_t kj = 0; kj < p->kernel_w; kj++)
                  {
                    const int64_t ih = i * p->stride_h - p->pad_top + ki * p->dilation_h;
                    const int64_t iw = j * p->stride_w - p->pad_left + kj * p->dilation_w;
                    if (ih < 0 || ih >= xs.h || iw < 0 || iw >= xs.w)
                      continue;
                    acc += (double) x[((n * xs.c + g * cg + c) * xs.h + ih) * xs.w + iw]
                           * w[((o * cg + c) * p->kernel_h + ki) * p->kernel_w + kj];
                  }
            y[((n * ys.c + o) * ys.h + i) * ys.w + j] = acc;
          }
}

/* The adjoint of naive_conv, scattered in double. */
static void
naive_conv_back (const tl_conv_params *p, const float *dy, tl_shape4 ys, const float *w,
                 double *dx, tl_shape4 xs)
{
  const int64_t cg = xs.c / p->groups, og = ys.c / p->groups;
  memset (dx, 0, sizeof (double) * xs.n * xs.c * xs.h * xs.w);
  for (int64_t n = 0; n < ys.n; n++)
    for (int64_t o = 0; o < ys.c; o++)
      for (int64_t i = 0; i < ys.h; i++)
        for (int64_t j = 0; j < ys.w; j++)
          {
            const double g_ = dy[((n * ys.c + o) * ys.h + i) * ys.w + j];
            const int64_t g = o / og;
            for (int64_t c = 0; c < cg; c++)
              for (int64_t ki = 0; ki < p->kernel_h; ki++)
                for (int64_t kj = 0; kj < p->kernel_w; kj++)
                  {
                    const int64_t ih = i * p->stride_h - p->pad_top + ki * p->dilation_h;
                    const int64_t iw = j * p->stride_w - p->pad_left + kj * p->dilation_w;
                    if (ih < 0 || ih >= xs.h || iw < 0 || iw >= xs.w)
                      continue;
                    dx[((n * xs.c + g * cg + c) * xs.h + ih) * xs.w + iw]
                      += g_ * w[((o * cg + c) * p->kernel_h + ki) * p->kernel_w + kj];
                  }
          }
}

static void
assert_rel_d (const char *what, const float *got, const double *want, int64_t n)
{
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++)
    {
      num += ((double) got[i] - want[i]) * ((double) got[i] - want[i]);
      den += want[i] * want[i];
    }
  if (!(sqrt (num / den) <= KT_FWD_TOL))
    g_error ("%s: relative L2 error %.3g", what, sqrt (num / den));
}

/* n floats uniform in [lo, hi) */
static float *
rand_floats (GRand *rnd, int64_t n, double lo, double hi)
{
  float *v = g_new (float, MAX (n, 1));
  for (int64_t i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (rnd, lo, hi);
  return v;
}

/* assert_rel_d, and every element within 1e-5 * (1 + |want|) */
static void
assert_each_close (const char *what, const float *got, const double *want, int64_t n)
{
  assert_rel_d (what, got, want, n);
  for (int64_t i = 0; i < n; i++)
    if (!(fabs (got[i] - want[i]) <= 1e-5 * (1 + fabs (want[i]))))
      g_error ("%s: element %" G_GINT64_FORMAT " is %.9g, want %.9g", what, i,
               (double) got[i], want[i]);
}

static void
test_conv_large (void)
{
  /* N, C, H, W, O, k, stride, dilation, pads t/l/b/r, groups */
  static const int64_t cfg[][13] = {
    { 1, 8, 33, 31, 6, 3, 1, 1, 1, 1, 1, 1, 1 },   /* im2col, tiles cut rows */
    { 2, 6, 40, 37, 4, 3, 2, 2, 1, 0, 2, 1, 2 },   /* strided, dilated, grouped */
    { 1, 16, 30, 30, 8, 1, 1, 1, 0, 0, 0, 0, 1 },  /* pointwise tiles */
    { 1, 3, 61, 60, 5, 7, 2, 1, 3, 3, 3, 3, 1 },   /* stem-like, K = 147 */
    { 1, 16, 30, 45, 8, 1, 2, 1, 0, 0, 0, 0, 1 },  /* 1x1/2 shortcut, odd width */
    { 2, 4, 20, 50, 4, 3, 1, 1, 1, 1, 1, 1, 4 },   /* depthwise, fused rows */
    { 1, 3, 21, 63, 3, 5, 2, 1, 2, 2, 2, 2, 3 },   /* depthwise 5x5 stride 2 */
    { 1, 2, 9, 40, 2, 3, 1, 2, 2, 2, 2, 2, 2 },    /* depthwise dilated */
    /* short outputs (8..256 columns), our own GEMM (gemm-small-n.c): column
     * tails of 1, 4 and 2 after 16- and 8-wide tiles, row blocks of 6 with
     * 1 or 0 rows left over, groups (bias offset), batch 2, 256 exactly */
    { 1, 20, 7, 7, 13, 1, 1, 1, 0, 0, 0, 0, 1 },   /* pointwise 7x7, N = 49 */
    { 1, 9, 14, 14, 7, 3, 1, 1, 1, 1, 1, 1, 1 },   /* im2col 3x3, N = 196 */
    { 2, 5, 6, 4, 6, 1, 1, 1, 0, 0, 0, 0, 1 },     /* N = 24 = 16 + 8 */
    { 1, 4, 5, 2, 3, 1, 1, 1, 0, 0, 0, 0, 1 },     /* N = 10, 3 single rows */
    { 1, 6, 16, 16, 12, 1, 1, 1, 0, 0, 0, 0, 1 },  /* N = 256 */
    { 1, 8, 9, 9, 12, 3, 1, 1, 1, 1, 1, 1, 2 },    /* grouped, N = 81 */
    { 1, 16, 14, 14, 8, 1, 2, 1, 0, 0, 0, 0, 1 },  /* 1x1/2 through im2col, N = 49 */
  };
  GRand *rnd = g_rand_new_with_seed (7);
  for (size_t t = 0; t < G_N_ELEMENTS (cfg); t++)
    {
      const int64_t *c = cfg[t];
      tl_conv_params p = tl_conv_default_params ();
      p.kernel_h = p.kernel_w = c[5];
      p.stride_h = p.stride_w = c[6];
      p.dilation_h = p.dilation_w = c[7];
      p.pad_top = c[8];
      p.pad_left = c[9];
      p.pad_bottom = c[10];
      p.pad_right = c[11];
      p.groups = c[12];
      tl_shape4 xs = { c[0], c[1], c[2], c[3] }, ys;
      tl_shape4 ws = { c[4], c[1] / c[12], c[5], c[5] };
      g_assert_true (tl_conv2d_output_shape (&p, xs, c[4], &ys, NULL));
      const int64_t nx = xs.n * xs.c * xs.h * xs.w, ny = ys.n * ys.c * ys.h * ys.w;
      const int64_t nw = ws.n * ws.c * ws.h * ws.w;
      g_autofree float *x = rand_floats (rnd, nx, -1, 1);
      g_autofree float *w = rand_floats (rnd, nw, -1, 1);
      g_autofree float *b = rand_floats (rnd, ys.c, -1, 1);
      g_autofree float *dy = rand_floats (rnd, ny, -1, 1);
      g_autofree double *yr = g_new (double, ny);
      g_autofree double *dxr = g_new (double, nx);
      naive_conv (&p, x, xs, w, b, yr, ys);
      naive_conv_back (&p, dy, ys, w, dxr, xs);
      size_t sl = tl_conv2d_scratch_size (&p, xs, ys);
      g_autofree float *s = g_new (float, sl + 1);
      g_autofree float *y = g_new (float, ny);
      g_autofree float *dx = g_new (float, nx);
      tl_activation none = { TL_ACT_NONE, 0, 0 };
      for (int threads = 1; threads <= 2; threads++)
        {
          tl_kernels_set_threads (threads);
          g_autofree char *what = g_strdup_printf ("large conv %zu, %d thread(s)", t, threads);
          g_assert_true (tl_conv2d_forward (&p, x, xs, w, ws, b, none, y, ys, s, sl, NULL));
          assert_rel_d (what, y, yr, ny);
          g_assert_true (tl_conv2d_backward_input (&p, dy, ys, w, ws, dx, xs, s, sl, NULL));
          assert_rel_d (what, dx, dxr, nx);
          /* the fused bias + ReLU6 epilogue, on every path */
          g_autofree double *yc = g_new (double, ny);
          for (int64_t i = 0; i < ny; i++)
            yc[i] = CLAMP (yr[i], 0.0, 0.5);
          tl_activation clip = { TL_ACT_CLIP, 0.0f, 0.5f };
          g_assert_true (tl_conv2d_forward (&p, x, xs, w, ws, b, clip, y, ys, s, sl, NULL));
          assert_rel_d (what, y, yc, ny);
        }
      tl_kernels_set_threads (1);
    }
  g_rand_free (rnd);
}

static float
act_ref (tl_activation a, double v)
{
  switch (a.kind)
    {
    case TL_ACT_RELU:
      return (float) (v > 0 ? v : 0);
    case TL_ACT_CLIP:
      return (float) (v < a.lo ? a.lo : (v > a.hi ? a.hi : v));
    case TL_ACT_HARDSWISH:
      return (float) (v * CLAMP (v + 3.0, 0.0, 6.0) / 6.0);
    default:
      return (float) v;
    }
}

/* The 3x3 depthwise kernel (depthwise3x3.c) on every form it takes: outputs
 * wider than its 8-float vectors (row by row, with an overlapping last
 * vector) and narrower (one flat run), small planes with one pixel of
 * padding (one guarded flat run, column edges masked), strides 1 and 2 on odd and even
 * widths, asymmetric and zero pads, every fused activation, batch 2, 1 and
 * 2 threads (identical bits), against the direct convolution in double.
 * Tolerance: relative L2 <= KT_FWD_TOL (1e-5; float32 sums of 10 terms)
 * and every element within 1e-5 * (1 + |ref|). */
static void
test_depthwise3x3 (void)
{
  /* N, C, H, W, stride, pads t/l/b/r */
  static const int64_t cfg[][9] = {
    { 1, 4, 112, 112, 1, 1, 1, 1, 1 }, /* MobileNetV2 shapes, fewer channels */
    { 1, 3, 112, 112, 2, 1, 1, 1, 1 },
    { 1, 3, 56, 56, 2, 1, 1, 1, 1 },
    { 1, 5, 14, 14, 1, 1, 1, 1, 1 },
    { 1, 5, 14, 14, 2, 1, 1, 1, 1 },
    { 2, 7, 7, 7, 1, 1, 1, 1, 1 },
    { 1, 3, 9, 17, 1, 1, 1, 1, 1 },   /* 17 wide: one vector plus overlap */
    { 1, 3, 8, 8, 1, 0, 0, 0, 0 },    /* 6 wide, no pads: flat */
    { 1, 3, 10, 10, 1, 0, 0, 0, 0 },  /* exactly 8 wide */
    { 1, 3, 19, 23, 2, 1, 1, 1, 1 },  /* odd sizes at stride 2 */
    { 1, 3, 20, 37, 2, 0, 1, 1, 0 },  /* asymmetric pads (SAME_LOWER-like) */
    { 1, 3, 21, 36, 2, 1, 0, 0, 1 },  /* asymmetric pads, odd pad_left 0 */
    { 2, 2, 11, 31, 1, 2, 2, 2, 2 },  /* pads 2: whole zero rows/columns */
    { 1, 2, 3, 3, 2, 1, 1, 1, 1 },    /* 2x2 output */
    { 1, 2, 1, 1, 1, 1, 1, 1, 1 },    /* 1x1 input */
    /* the flat path (stride 1, pads 1, at most 256 positions, under 16
     * wide): masks on vectors that start mid-row, the overlapping last
     * vector, planes of exactly 8 and 256 positions, 15 wide */
    { 1, 3, 5, 9, 1, 1, 1, 1, 1 },    /* 45 positions */
    { 1, 3, 3, 3, 1, 1, 1, 1, 1 },    /* 9 positions: two overlapping vectors */
    { 1, 3, 2, 4, 1, 1, 1, 1, 1 },    /* exactly one vector */
    { 2, 3, 17, 15, 1, 1, 1, 1, 1 },  /* 255 positions, 15 wide */
    { 1, 3, 16, 16, 1, 1, 1, 1, 1 },  /* 256: too wide for it (16), row path */
    { 1, 3, 32, 8, 1, 1, 1, 1, 1 },   /* 256 positions, 8 wide */
  };
  const tl_activation acts[] = { { TL_ACT_NONE, 0, 0 },
                                 { TL_ACT_RELU, 0, 0 },
                                 { TL_ACT_CLIP, 0, 6 },
                                 { TL_ACT_CLIP, -0.5f, 0.25f },
                                 { TL_ACT_HARDSWISH, 0, 0 } };
  GRand *rnd = g_rand_new_with_seed (11);
  for (size_t t = 0; t < G_N_ELEMENTS (cfg); t++)
    {
      const int64_t *c = cfg[t];
      tl_conv_params p = tl_conv_default_params ();
      p.kernel_h = p.kernel_w = 3;
      p.stride_h = p.stride_w = c[4];
      p.pad_top = c[5];
      p.pad_left = c[6];
      p.pad_bottom = c[7];
      p.pad_right = c[8];
      p.groups = c[1];
      tl_shape4 xs = { c[0], c[1], c[2], c[3] }, ws = { c[1], 1, 3, 3 }, ys;
      g_assert_true (tl_conv2d_output_shape (&p, xs, c[1], &ys, NULL));
      const int64_t nx = xs.n * xs.c * xs.h * xs.w, ny = ys.n * ys.c * ys.h * ys.w;
      g_autofree float *x = rand_floats (rnd, nx, -4, 4);
      g_autofree float *w = rand_floats (rnd, 9 * xs.c, -1, 1);
      g_autofree float *b = rand_floats (rnd, xs.c, -1, 1);
      g_autofree double *yr = g_new (double, ny);
      naive_conv (&p, x, xs, w, b, yr, ys);
      g_autofree float *y1 = g_new (float, ny);
      g_autofree float *y2 = g_new (float, ny);
      g_autofree double *ya = g_new (double, ny);
      for (size_t a = 0; a < G_N_ELEMENTS (acts); a++)
        {
          for (int64_t i = 0; i < ny; i++)
            ya[i] = act_ref (acts[a], yr[i]);
          tl_kernels_set_threads (1);
          g_assert_true (tl_conv2d_forward (&p, x, xs, w, ws, b, acts[a], y1, ys, NULL, 0,
                                            NULL));
          tl_kernels_set_threads (2);
          g_assert_true (tl_conv2d_forward (&p, x, xs, w, ws, b, acts[a], y2, ys, NULL, 0,
                                            NULL));
          tl_kernels_set_threads (1);
          g_autofree char *what = g_strdup_printf ("depthwise 3x3 case %zu, act %zu", t, a);
          assert_each_close (what, y1, ya, ny);
          g_assert_cmpmem (y1, sizeof (float) * ny, y2, sizeof (float) * ny);
        }
    }
  g_rand_free (rnd);
}

/* Weights packed in panels of output channels (gemm-panel.c, AVX-512):
 * the packed path must give the same bits as the unpacked one (and so the
 * direct convolution's values) on every tile form: N = 49 (four tiles of 12
 * and one of 1), 196 (16 of 12, one of 4), 25 and 8, channel counts that
 * leave a panel part-empty (45, 33, 7), im2col (3x3), batch 2, every fused
 * activation, 1 and 2 threads. Also: which convs get packed weights, and
 * packed weights handed to a conv without that path. */
static int64_t
numel4 (tl_shape4 s)
{
  return s.n * s.c * s.h * s.w;
}

static void
test_conv_packed (void)
{
  /* N, C, H, W, O, k, pad */
  static const int64_t cfg[][7] = {
    { 1, 160, 7, 7, 45, 1, 0 },   /* MobileNetV2-like 7x7, K = 160 */
    { 1, 130, 14, 14, 64, 1, 0 }, /* 14x14, N = 196 */
    { 2, 16, 5, 5, 33, 3, 1 },    /* im2col, K = 144, N = 25, batch 2 */
    { 1, 128, 2, 4, 7, 1, 0 },    /* N = 8, one part-filled panel */
  };
  const tl_activation acts[] = { { TL_ACT_NONE, 0, 0 },
                                 { TL_ACT_RELU, 0, 0 },
                                 { TL_ACT_CLIP, 0, 6 },
                                 { TL_ACT_CLIP, -0.5f, 0.25f },
                                 { TL_ACT_HARDSWISH, 0, 0 } };
  __builtin_cpu_init ();
  if (!__builtin_cpu_supports ("avx512f"))
    {
      g_test_skip ("this CPU has no AVX-512: no packed path to test");
      return;
    }
  GRand *rnd = g_rand_new_with_seed (13);
  for (size_t t = 0; t < G_N_ELEMENTS (cfg); t++)
    {
      const int64_t *c = cfg[t];
      tl_conv_params p = tl_conv_default_params ();
      p.kernel_h = p.kernel_w = c[5];
      p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = c[6];
      tl_shape4 xs = { c[0], c[1], c[2], c[3] }, ws = { c[4], c[1], c[5], c[5] }, ys;
      g_assert_true (tl_conv2d_output_shape (&p, xs, c[4], &ys, NULL));
      const int64_t nx = numel4 (xs), ny = numel4 (ys), nw = numel4 (ws);
      g_autofree float *x = rand_floats (rnd, nx, -1, 1);
      g_autofree float *w = rand_floats (rnd, nw, -0.2, 0.2);
      g_autofree float *b = rand_floats (rnd, ys.c, -1, 1);
      g_autofree float *packed = tl_conv2d_pack_weights (&p, xs, ys, w);
      g_assert_nonnull (packed);
      g_autofree double *yr = g_new (double, ny);
      g_autofree double *ya = g_new (double, ny);
      naive_conv (&p, x, xs, w, b, yr, ys);
      size_t sl = tl_conv2d_scratch_size (&p, xs, ys);
      g_autofree float *s = g_new (float, sl + 1);
      g_autofree float *y0 = g_new (float, ny);
      g_autofree float *y1 = g_new (float, ny);
      for (size_t a = 0; a < G_N_ELEMENTS (acts); a++)
        for (int threads = 1; threads <= 2; threads++)
          {
            tl_kernels_set_threads (threads);
            g_autofree char *what = g_strdup_printf ("packed conv %zu, act %zu, %d thread(s)",
                                                     t, a, threads);
            g_assert_true (tl_conv2d_forward (&p, x, xs, w, ws, b, acts[a], y0, ys, s, sl,
                                              NULL));
            g_assert_true (tl_conv2d_forward_packed (&p, x, xs, w, ws, packed, b, acts[a], y1,
                                                     ys, s, sl, NULL));
            for (int64_t i = 0; i < ny; i++)
              ya[i] = act_ref (acts[a], yr[i]);
            assert_rel_d (what, y1, ya, ny);
            if (memcmp (y0, y1, sizeof (float) * ny) != 0)
              g_error ("%s: not the same bits as without packing", what);
          }
      tl_kernels_set_threads (1);
    }
  g_rand_free (rnd);

  /* no packed path: K < 128, N > 256, two groups, depthwise */
  tl_conv_params p = tl_conv_default_params ();
  const float w[1] = { 0 };
  tl_shape4 xs = { 1, 64, 7, 7 }, ys = { 1, 32, 7, 7 };
  g_assert_null (tl_conv2d_pack_weights (&p, xs, ys, w));
  xs = (tl_shape4) { 1, 128, 17, 17 };
  ys = (tl_shape4) { 1, 32, 17, 17 };
  g_assert_null (tl_conv2d_pack_weights (&p, xs, ys, w));
  p.groups = 2;
  xs = (tl_shape4) { 1, 512, 7, 7 };
  g_assert_null (tl_conv2d_pack_weights (&p, xs, ys, w));
  p.groups = 512;
  ys = (tl_shape4) { 1, 512, 7, 7 };
  g_assert_null (tl_conv2d_pack_weights (&p, xs, ys, w));

  /* packed weights where the conv has no packed path: an error */
  tl_conv_params q = tl_conv_default_params ();
  tl_shape4 qx = { 1, 8, 7, 7 }, qw = { 4, 8, 1, 1 }, qy = { 1, 4, 7, 7 };
  g_autofree float *x = g_new0 (float, numel4 (qx));
  g_autofree float *wq = g_new0 (float, numel4 (qw));
  g_autofree float *y = g_new0 (float, numel4 (qy));
  tl_activation none = { TL_ACT_NONE, 0, 0 };
  GError *error = NULL;
  g_assert_false (tl_conv2d_forward_packed (&q, x, qx, wq, qw, wq, NULL, none, y, qy, NULL, 0,
                                            &error));
  g_assert_error (error, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "packed"));
  g_clear_error (&error);
}

/* A conv and the depthwise conv after it run as one (conv-pair.c) against
 * the two run one after the other: a pointwise first conv and a 3x3
 * stride-2 one (MobileNet's stem, through im2col), channel counts that are
 * not a multiple of the 6-channel groups, several groups per thread,
 * strides 1 and 2, 3x3 and 5x5 (the general depthwise loops), batch 2,
 * different activations on each conv, 1 and 2 threads (identical bits).
 * Tolerance: relative L2 <= KT_FWD_TOL, every element within
 * 1e-5 * (1 + |ref|) (the two paths sum in the same order, but the
 * separate first conv goes through cblas_sgemm). Then the refusals. */
static void
test_conv_pair (void)
{
  /* N, C, H, W, mid, first conv k/stride/pad, depthwise k/stride/pad */
  static const int64_t cfg[][11] = {
    { 1, 5, 23, 23, 13, 1, 1, 0, 3, 2, 1 },
    { 2, 16, 20, 17, 30, 1, 1, 0, 3, 1, 1 },
    { 1, 3, 17, 17, 8, 1, 1, 0, 5, 2, 2 },
    { 1, 8, 32, 40, 64, 1, 1, 0, 3, 1, 1 },
    { 2, 3, 45, 38, 16, 3, 2, 1, 3, 1, 1 }, /* stem-like: im2col, K = 27 */
    { 1, 4, 20, 20, 7, 3, 1, 1, 3, 2, 1 },  /* 3x3 stride 1, K = 36 */
    { 1, 6, 18, 18, 12, 1, 1, 0, 3, 1, 1 }, /* 1x1 with dilation 2 (below): no im2col */
  };
  const tl_activation clip = { TL_ACT_CLIP, 0, 6 }, hsw = { TL_ACT_HARDSWISH, 0, 0 };
  const tl_activation relu = { TL_ACT_RELU, 0, 0 }, none = { TL_ACT_NONE, 0, 0 };
  GRand *rnd = g_rand_new_with_seed (17);
  for (size_t t = 0; t < G_N_ELEMENTS (cfg); t++)
    {
      const int64_t *c = cfg[t], mid = c[4], ka = c[5], k = c[8];
      tl_conv_params pa = tl_conv_default_params (), pb = tl_conv_default_params ();
      pa.kernel_h = pa.kernel_w = ka;
      pa.stride_h = pa.stride_w = c[6];
      pa.pad_top = pa.pad_left = pa.pad_bottom = pa.pad_right = c[7];
      if (t == G_N_ELEMENTS (cfg) - 1)
        pa.dilation_h = pa.dilation_w = 2; /* a 1x1 conv all the same */
      pb.kernel_h = pb.kernel_w = k;
      pb.stride_h = pb.stride_w = c[9];
      pb.pad_top = pb.pad_left = pb.pad_bottom = pb.pad_right = c[10];
      pb.groups = mid;
      tl_shape4 xs = { c[0], c[1], c[2], c[3] }, was = { mid, c[1], ka, ka };
      tl_shape4 ms, wbs = { mid, 1, k, k }, ys;
      g_assert_true (tl_conv2d_output_shape (&pa, xs, mid, &ms, NULL));
      g_assert_true (tl_conv2d_output_shape (&pb, ms, mid, &ys, NULL));
      g_assert_true (tl_conv2d_pair_fits (&pa, xs, mid, &pb));
      const int64_t nx = numel4 (xs), nm = numel4 (ms), ny = numel4 (ys), nwa = numel4 (was);
      g_autofree float *x = rand_floats (rnd, nx, -1, 1);
      g_autofree float *wa = rand_floats (rnd, nwa, -1, 1);
      g_autofree float *wb = rand_floats (rnd, mid * k * k, -0.5, 0.5);
      g_autofree float *ba = g_new (float, mid);
      g_autofree float *bb = g_new (float, mid);
      for (int64_t i = 0; i < mid; i++)
        {
          ba[i] = (float) g_rand_double_range (rnd, -1, 1);
          bb[i] = (float) g_rand_double_range (rnd, -1, 1);
        }
      const size_t sl = tl_conv2d_scratch_size (&pa, xs, ms);
      g_autofree float *s = g_new (float, sl + 1);
      const tl_activation acts[][2] = { { clip, clip }, { relu, hsw }, { none, none } };
      g_autofree float *m = g_new (float, nm);
      g_autofree float *y0 = g_new (float, ny);
      g_autofree float *y1 = g_new (float, ny);
      g_autofree float *y2 = g_new (float, ny);
      for (size_t a = 0; a < G_N_ELEMENTS (acts); a++)
        {
          tl_kernels_set_threads (1);
          g_assert_true (tl_conv2d_forward (&pa, x, xs, wa, was, ba, acts[a][0], m, ms, s, sl,
                                            NULL));
          g_assert_true (tl_conv2d_forward (&pb, m, ms, wb, wbs, bb, acts[a][1], y0, ys, NULL, 0,
                                            NULL));
          g_assert_true (tl_conv2d_pair_forward (x, xs, &pa, wa, mid, ba, acts[a][0], &pb, wb,
                                                 bb, acts[a][1], y1, ys, s, sl, NULL));
          tl_kernels_set_threads (2);
          g_assert_true (tl_conv2d_pair_forward (x, xs, &pa, wa, mid, ba, acts[a][0], &pb, wb,
                                                 bb, acts[a][1], y2, ys, s, sl, NULL));
          tl_kernels_set_threads (1);
          g_autofree char *what = g_strdup_printf ("conv pair %zu, acts %zu", t, a);
          g_autofree double *yd = g_new (double, ny);
          for (int64_t i = 0; i < ny; i++)
            yd[i] = y0[i];
          assert_each_close (what, y1, yd, ny);
          g_assert_cmpmem (y1, sizeof (float) * ny, y2, sizeof (float) * ny);
        }
    }
  g_rand_free (rnd);

  /* refused: a plane of 256 positions or less, a second conv that is not
   * depthwise, a grouped first conv, a GEMM operand over 512K floats, too
   * little scratch for the im2col, an output of the wrong shape */
  tl_conv_params pa = tl_conv_default_params (), pb = tl_conv_default_params ();
  pb.kernel_h = pb.kernel_w = 3;
  pb.pad_top = pb.pad_left = pb.pad_bottom = pb.pad_right = 1;
  pb.groups = 4;
  static const float z[4 * 9 * 400] = { 0 };
  float y[4 * 400];
  tl_shape4 small = { 1, 2, 16, 16 }, big = { 1, 2, 20, 20 };
  GError *error = NULL;
  g_assert_false (tl_conv2d_pair_fits (&pa, small, 4, &pb));
  g_assert_false (tl_conv2d_pair_forward (z, small, &pa, z, 4, NULL, none, &pb, z, NULL, none,
                                          y, (tl_shape4) { 1, 4, 16, 16 }, NULL, 0, &error));
  g_assert_error (error, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&error);
  pb.groups = 2;
  g_assert_false (tl_conv2d_pair_fits (&pa, big, 4, &pb));
  pb.groups = 4;
  g_assert_true (tl_conv2d_pair_fits (&pa, big, 4, &pb));
  pa.groups = 2;
  g_assert_false (tl_conv2d_pair_fits (&pa, big, 4, &pb));
  pa.groups = 1;
  g_assert_false (tl_conv2d_pair_fits (&pa, (tl_shape4) { 1, 9, 256, 256 }, 4, &pb));
  g_assert_true (tl_conv2d_pair_fits (&pa, (tl_shape4) { 1, 8, 256, 256 }, 4, &pb));
  pa.kernel_h = pa.kernel_w = 3;
  pa.pad_top = pa.pad_left = pa.pad_bottom = pa.pad_right = 1;
  g_assert_true (tl_conv2d_pair_fits (&pa, big, 4, &pb));
  g_assert_false (tl_conv2d_pair_forward (z, big, &pa, z, 4, NULL, none, &pb, z, NULL, none, y,
                                          (tl_shape4) { 1, 4, 20, 20 }, (float *) y, 10,
                                          &error));
  g_assert_error (error, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "scratch"));
  g_clear_error (&error);
  g_assert_false (tl_conv2d_pair_forward (z, big, &pa, z, 4, NULL, none, &pb, z, NULL, none, y,
                                          (tl_shape4) { 1, 4, 10, 10 }, NULL, 0, &error));
  g_assert_error (error, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "output"));
  g_clear_error (&error);
}

/* Kernels run from several threads at once (two nets in two GEGL workers):
 * one caller gets the parked worker pool, the others start threads of their
 * own; every caller must get the single-threaded answer, bit for bit. */
typedef struct
{
  const tl_conv_params *p;
  const float *x, *w, *b;
  tl_shape4 xs, ws, ys;
  float *y;
} dw_job;

static gpointer
dw_job_run (gpointer data)
{
  dw_job *j = data;
  const tl_activation act = { TL_ACT_CLIP, 0, 6 };
  for (int r = 0; r < 20; r++)
    g_assert_true (tl_conv2d_forward (j->p, j->x, j->xs, j->w, j->ws, j->b, act, j->y, j->ys,
                                      NULL, 0, NULL));
  return NULL;
}

static void
test_parallel_callers (void)
{
  tl_conv_params p = tl_conv_default_params ();
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.groups = 24;
  tl_shape4 xs = { 1, 24, 30, 30 }, ws = { 24, 1, 3, 3 }, ys;
  g_assert_true (tl_conv2d_output_shape (&p, xs, 24, &ys, NULL));
  const int64_t nx = 24 * 30 * 30, ny = ys.c * ys.h * ys.w;
  g_autofree float *x = g_new (float, nx);
  g_autofree float *w = g_new (float, 9 * 24);
  g_autofree float *b = g_new (float, 24);
  for (int64_t i = 0; i < nx; i++)
    x[i] = (float) ((i * 7919) % 101) * 0.1f - 5.0f;
  for (int64_t i = 0; i < 9 * 24; i++)
    w[i] = (float) (i % 11) * 0.1f - 0.5f;
  for (int64_t i = 0; i < 24; i++)
    b[i] = (float) i * 0.05f;
  g_autofree float *want = g_new (float, ny);
  dw_job one = { &p, x, w, b, xs, ws, ys, want };
  tl_kernels_set_threads (1);
  dw_job_run (&one);
  tl_kernels_set_threads (2);
  enum { CALLERS = 4 };
  dw_job jobs[CALLERS];
  GThread *t[CALLERS];
  for (int i = 0; i < CALLERS; i++)
    {
      jobs[i] = one;
      jobs[i].y = g_new (float, ny);
      t[i] = g_thread_new ("caller", dw_job_run, &jobs[i]);
    }
  for (int i = 0; i < CALLERS; i++)
    {
      g_thread_join (t[i]);
      g_assert_cmpmem (jobs[i].y, sizeof (float) * ny, want, sizeof (float) * ny);
      g_free (jobs[i].y);
    }
  tl_kernels_set_threads (1);
}

/* ONNX auto_pad examples worked by hand from the spec's formulas. */
static void
test_auto_pad (void)
{
  int64_t b = -1, e = -1;
  GError *err = NULL;
  /* in 7, k 3, s 2: out 4, total = 3*2 + 3 - 7 = 2 -> 1/1 */
  g_assert_true (tl_conv_resolve_auto_pad (TL_AUTO_PAD_SAME_UPPER, 7, 3, 2, 1, &b, &e, &err));
  g_assert_cmpint (b, ==, 1);
  g_assert_cmpint (e, ==, 1);
  /* in 8, k 3, s 2: out 4, total = 6 + 3 - 8 = 1 -> upper 0/1, lower 1/0 */
  g_assert_true (tl_conv_resolve_auto_pad (TL_AUTO_PAD_SAME_UPPER, 8, 3, 2, 1, &b, &e, &err));
  g_assert_cmpint (b, ==, 0);
  g_assert_cmpint (e, ==, 1);
  g_assert_true (tl_conv_resolve_auto_pad (TL_AUTO_PAD_SAME_LOWER, 8, 3, 2, 1, &b, &e, &err));
  g_assert_cmpint (b, ==, 1);
  g_assert_cmpint (e, ==, 0);
  /* dilation 2, k 3 -> eff 5, in 10, s 1: total 4 -> 2/2 */
  g_assert_true (tl_conv_resolve_auto_pad (TL_AUTO_PAD_SAME_UPPER, 10, 3, 1, 2, &b, &e, &err));
  g_assert_cmpint (b, ==, 2);
  g_assert_cmpint (e, ==, 2);
  /* stride larger than kernel: in 9, k 1, s 4: out 3, total = 8 + 1 - 9 = 0 */
  g_assert_true (tl_conv_resolve_auto_pad (TL_AUTO_PAD_SAME_LOWER, 9, 1, 4, 1, &b, &e, &err));
  g_assert_cmpint (b, ==, 0);
  g_assert_cmpint (e, ==, 0);
  /* in 10, k 1, s 4: out 3, total = 8 + 1 - 10 < 0 -> 0 */
  g_assert_true (tl_conv_resolve_auto_pad (TL_AUTO_PAD_SAME_UPPER, 10, 1, 4, 1, &b, &e, &err));
  g_assert_cmpint (b + e, ==, 0);
  b = e = 5;
  g_assert_true (tl_conv_resolve_auto_pad (TL_AUTO_PAD_VALID, 10, 3, 1, 1, &b, &e, &err));
  g_assert_cmpint (b + e, ==, 0);
  b = e = 5;
  g_assert_true (tl_conv_resolve_auto_pad (TL_AUTO_PAD_NOTSET, 10, 3, 1, 1, &b, &e, &err));
  g_assert_cmpint (b + e, ==, 10);
  g_assert_no_error (err);
  kt_assert_invalid (tl_conv_resolve_auto_pad (TL_AUTO_PAD_SAME_UPPER, 10, 3, 0, 1, &b, &e,
                                               &err), err, "stride");

  /* ConvTranspose output_shape: in 4, s 2, k 3, want 8: total = 6 + 0 + 3 - 8 = 1 */
  g_assert_true (tl_conv_transpose_resolve_output_size (TL_AUTO_PAD_SAME_UPPER, 4, 8, 3, 2, 1,
                                                        0, &b, &e, &err));
  g_assert_cmpint (b, ==, 0);
  g_assert_cmpint (e, ==, 1);
  g_assert_true (tl_conv_transpose_resolve_output_size (TL_AUTO_PAD_SAME_LOWER, 4, 8, 3, 2, 1,
                                                        0, &b, &e, &err));
  g_assert_cmpint (b, ==, 1);
  g_assert_cmpint (e, ==, 0);
  kt_assert_invalid (tl_conv_transpose_resolve_output_size (TL_AUTO_PAD_NOTSET, 4, 20, 3, 2,
                                                            1, 0, &b, &e, &err),
                     err, "output size");
}

/* Every kind of bad parameter gives TL_ERROR_INVALID naming it, no crash. */
static void
test_conv_bad (void)
{
  float x[2 * 3 * 5 * 5] = { 0 }, w[4 * 3 * 3 * 3] = { 0 }, y[2 * 4 * 5 * 5], s[1000];
  tl_shape4 xs = { 2, 3, 5, 5 }, ws = { 4, 3, 3, 3 }, ys = { 2, 4, 5, 5 };
  tl_activation none = { TL_ACT_NONE, 0, 0 };
  tl_conv_params p = tl_conv_default_params ();
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  GError *err = NULL;
  g_assert_true (tl_conv2d_forward (&p, x, xs, w, ws, NULL, none, y, ys, s, 1000, &err));
  g_assert_no_error (err);

  tl_shape4 bad_y = { 2, 4, 5, 4 };
  kt_assert_invalid (tl_conv2d_forward (&p, x, xs, w, ws, NULL, none, y, bad_y, s, 1000, &err),
                     err, "output shape");
  tl_shape4 bad_w = { 4, 2, 3, 3 };
  kt_assert_invalid (tl_conv2d_forward (&p, x, xs, w, bad_w, NULL, none, y, ys, s, 1000, &err),
                     err, "weight shape");
  kt_assert_invalid (tl_conv2d_forward (&p, x, xs, w, ws, NULL, none, y, ys, s, 10, &err),
                     err, "scratch");
  kt_assert_invalid (tl_conv2d_forward (&p, x, xs, w, ws, NULL, none, y, ys, NULL, 0, &err),
                     err, "scratch");
  kt_assert_invalid (tl_conv2d_backward_input (&p, y, ys, w, ws, x, xs, s, 10, &err),
                     err, "scratch");

  tl_conv_params q = p;
  q.stride_h = 0;
  kt_assert_invalid (tl_conv2d_forward (&q, x, xs, w, ws, NULL, none, y, ys, s, 1000, &err),
                     err, "stride_h");
  q = p;
  q.stride_w = -2;
  kt_assert_invalid (tl_conv2d_forward (&q, x, xs, w, ws, NULL, none, y, ys, s, 1000, &err),
                     err, "stride_w");
  q = p;
  q.dilation_h = 0;
  kt_assert_invalid (tl_conv2d_backward_input (&q, y, ys, w, ws, x, xs, s, 1000, &err),
                     err, "dilation_h");
  q = p;
  q.pad_left = -1;
  kt_assert_invalid (tl_conv2d_forward (&q, x, xs, w, ws, NULL, none, y, ys, s, 1000, &err),
                     err, "pad_left");
  q = p;
  q.groups = 2; /* 3 input channels */
  kt_assert_invalid (tl_conv2d_forward (&q, x, xs, w, ws, NULL, none, y, ys, s, 1000, &err),
                     err, "groups");
  q = p;
  q.groups = 0;
  kt_assert_invalid (tl_conv2d_forward (&q, x, xs, w, ws, NULL, none, y, ys, s, 1000, &err),
                     err, "groups");

  /* kernel larger than the padded input (5 + 2 < 9) */
  tl_shape4 os;
  q = p;
  q.kernel_h = q.kernel_w = 9;
  kt_assert_invalid (tl_conv2d_output_shape (&q, xs, 4, &os, &err), err, "padded input");
  q.dilation_h = q.dilation_w = 1;
  q.kernel_h = q.kernel_w = 3;
  q.dilation_h = 4; /* eff 9 */
  kt_assert_invalid (tl_conv2d_output_shape (&q, xs, 4, &os, &err), err, "padded input");

  /* absurd sizes: refused before any arithmetic can overflow */
  q = p;
  q.kernel_h = (int64_t) 1 << 40;
  kt_assert_invalid (tl_conv2d_output_shape (&q, xs, 4, &os, &err), err, "kernel_h");
  q = p;
  q.pad_bottom = INT64_MAX;
  kt_assert_invalid (tl_conv2d_output_shape (&q, xs, 4, &os, &err), err, "pad_bottom");
  tl_shape4 huge = { 1 << 20, 1 << 20, 1 << 20, 1 << 20 };
  kt_assert_invalid (tl_conv2d_output_shape (&p, huge, 4, &os, &err), err, "elements");
  tl_shape4 neg = { 1, -3, 5, 5 };
  kt_assert_invalid (tl_conv2d_output_shape (&p, neg, 4, &os, &err), err, "input shape");
  tl_shape4 zero = { 0, 3, 5, 5 };
  kt_assert_invalid (tl_conv2d_output_shape (&p, zero, 4, &os, &err), err, "input shape");
  kt_assert_invalid (tl_conv2d_output_shape (&p, xs, 0, &os, &err), err, "output channels");

  /* valid shapes whose im2col buffer would exceed the element limit: refused
   * before anything is read (the buffers here are dummies) */
  q = p;
  q.kernel_h = q.kernel_w = 9;
  q.pad_top = q.pad_left = q.pad_bottom = q.pad_right = 4;
  tl_shape4 bigx = { 1, 256, 1024, 1024 }, bigy = { 1, 256, 1024, 1024 };
  tl_shape4 bigw = { 256, 256, 9, 9 };
  g_assert_true (tl_conv2d_output_shape (&q, bigx, 256, &os, &err));
  g_assert_cmpuint (tl_conv2d_scratch_size (&q, bigx, bigy), >, (size_t) TL_TENSOR_MAX_NUMEL);
  kt_assert_invalid (tl_conv2d_forward (&q, x, bigx, w, bigw, NULL, none, y, bigy, s, 1000,
                                        &err), err, "im2col buffer");
  /* scratch size of absurd parameters saturates instead of overflowing */
  q.kernel_h = q.kernel_w = TL_KERNEL_MAX_DIM;
  tl_shape4 hx = { 1, TL_KERNEL_MAX_DIM, 1, 1 }, hy = { 1, 1, TL_KERNEL_MAX_DIM, TL_KERNEL_MAX_DIM };
  g_assert_cmpuint (tl_conv2d_scratch_size (&q, hx, hy), ==, SIZE_MAX);

  /* ConvTranspose */
  tl_conv_transpose_params tp = tl_conv_transpose_default_params ();
  tp.conv.kernel_h = tp.conv.kernel_w = 3;
  tp.conv.stride_h = tp.conv.stride_w = 2;
  tp.output_padding_h = 2;
  kt_assert_invalid (tl_conv_transpose2d_output_shape (&tp, xs, 4, &os, &err), err,
                     "output_padding_h");
  tp.output_padding_h = 0;
  tp.conv.pad_top = 6;
  tp.conv.pad_bottom = 6; /* full size 2*4 + 3 = 11 */
  kt_assert_invalid (tl_conv_transpose2d_output_shape (&tp, xs, 4, &os, &err), err,
                     "no output");
  tp.conv.pad_top = tp.conv.pad_bottom = 1;
  tp.conv.stride_w = 0;
  kt_assert_invalid (tl_conv_transpose2d_output_shape (&tp, xs, 4, &os, &err), err,
                     "stride_w");
  tp.conv.stride_w = 2;
  g_assert_true (tl_conv_transpose2d_output_shape (&tp, xs, 4, &os, &err));
  tl_shape4 tws = { 3, 4, 3, 3 };
  kt_assert_invalid (tl_conv_transpose2d_forward (&tp, x, xs, w, tws, NULL, none, y, ys, s,
                                                  1000, &err), err, "output shape");
  tl_shape4 tws_bad = { 4, 4, 3, 3 };
  kt_assert_invalid (tl_conv_transpose2d_forward (&tp, x, xs, w, tws_bad, NULL, none, y, os,
                                                  s, 1000, &err), err, "weight shape");
}

/* BN folding: conv(x, w', b') == BN(conv(x, w, b)). */
static void
test_fold_batchnorm (void)
{
  JsonParser *parser;
  JsonArray *cases = kt_cases ("norm", &parser);
  JsonObject *c = NULL;
  for (guint i = 0; i < json_array_get_length (cases); i++)
    if (!strcmp (kt_name (json_array_get_object_element (cases, i)), "conv_bn"))
      c = json_array_get_object_element (cases, i);
  g_assert_nonnull (c);
  g_autoptr (tl_tensor) x = kt_tensor (c, "x");
  g_autoptr (tl_tensor) w = kt_tensor (c, "w");
  g_autoptr (tl_tensor) b = kt_tensor (c, "b");
  g_autoptr (tl_tensor) gamma = kt_tensor (c, "gamma");
  g_autoptr (tl_tensor) beta = kt_tensor (c, "beta");
  g_autoptr (tl_tensor) mean = kt_tensor (c, "mean");
  g_autoptr (tl_tensor) var = kt_tensor (c, "var");
  g_autoptr (tl_tensor) y = kt_tensor (c, "y");
  const float eps = (float) kt_double (kt_params (c), "eps");
  tl_shape4 xs = kt_shape4 (x), ws = kt_shape4 (w), ys = kt_shape4 (y);
  GError *err = NULL;
  float bias[16];
  g_assert_true (tl_conv_fold_batchnorm (w->data, ws.n, ws.c * ws.h * ws.w, b->data, bias,
                                         gamma->data, beta->data, mean->data, var->data,
                                         eps, &err));
  g_assert_no_error (err);
  tl_conv_params p = tl_conv_default_params ();
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  size_t sl = tl_conv2d_scratch_size (&p, xs, ys);
  g_autofree float *s = g_new (float, sl);
  g_autofree float *out = g_new (float, tl_tensor_numel (y));
  tl_activation none = { TL_ACT_NONE, 0, 0 };
  g_assert_true (tl_conv2d_forward (&p, x->data, xs, w->data, ws, bias, none, out, ys, s, sl,
                                    &err));
  kt_assert_rel ("folded conv", out, y->data, tl_tensor_numel (y), KT_FWD_TOL);
  float badvar[16];
  memcpy (badvar, var->data, sizeof (float) * ws.n);
  badvar[1] = -1.0f;
  kt_assert_invalid (tl_conv_fold_batchnorm (w->data, ws.n, ws.c * ws.h * ws.w, b->data, bias,
                                             gamma->data, beta->data, mean->data, badvar,
                                             eps, &err), err, "channel 1");
  g_object_unref (parser);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  JsonParser *pc, *pt;
  JsonArray *cc = kt_cases ("conv", &pc), *ct = kt_cases ("conv_transpose", &pt);
  for (guint i = 0; i < json_array_get_length (cc); i++)
    {
      JsonObject *c = json_array_get_object_element (cc, i);
      g_autofree char *path = g_strdup_printf ("/kernels/conv/%s", kt_name (c));
      g_test_add_data_func (path, c, test_conv_case);
    }
  for (guint i = 0; i < json_array_get_length (ct); i++)
    {
      JsonObject *c = json_array_get_object_element (ct, i);
      g_autofree char *path = g_strdup_printf ("/kernels/conv-transpose/%s", kt_name (c));
      g_test_add_data_func (path, c, test_conv_transpose_case);
    }
  g_test_add_func ("/kernels/conv/large-vs-direct", test_conv_large);
  g_test_add_func ("/kernels/conv/depthwise3x3-vs-direct", test_depthwise3x3);
  g_test_add_func ("/kernels/conv/packed-vs-unpacked", test_conv_packed);
  g_test_add_func ("/kernels/conv/pair-vs-separate", test_conv_pair);
  g_test_add_func ("/kernels/conv/parallel-callers", test_parallel_callers);
  g_test_add_func ("/kernels/conv/auto-pad", test_auto_pad);
  g_test_add_func ("/kernels/conv/bad-params", test_conv_bad);
  g_test_add_func ("/kernels/conv/fold-batchnorm", test_fold_batchnorm);
  int rc = g_test_run ();
  g_object_unref (pc);
  g_object_unref (pt);
  return rc;
}
