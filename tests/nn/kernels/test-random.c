/* Property tests over a few hundred random geometries (fixed seed): conv,
 * conv-transpose and pooling against direct loops written from the ONNX
 * definitions in double, forward and input gradient, every kernel path
 * (pointwise, depthwise small/wide/tap-major, im2col with row-cutting
 * tiles, one and two threads). Geometries the parameters make invalid must
 * give an error, never a crash. */
#include "kernel-test.h"

#define TOL 1e-5

static double
rel (const float *got, const double *want, int64_t n)
{
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++)
    {
      num += ((double) got[i] - want[i]) * ((double) got[i] - want[i]);
      den += want[i] * want[i];
    }
  return den > 0 ? sqrt (num / den) : sqrt (num);
}

static void
fill (GRand *r, float *v, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (r, -1, 1);
}

/* x position of output o, tap k (may be outside [0, in)) */
static inline int64_t
pos (int64_t o, int64_t k, int64_t s, int64_t d, int64_t pad)
{
  return o * s - pad + k * d;
}

static void
conv_direct (const tl_conv_params *p, const float *x, tl_shape4 xs, const float *w,
             double *y, tl_shape4 ys, const float *dy, double *dx)
{
  const int64_t cg = xs.c / p->groups, og = ys.c / p->groups;
  memset (dx, 0, sizeof (double) * xs.n * xs.c * xs.h * xs.w);
  for (int64_t n = 0; n < ys.n; n++)
    for (int64_t o = 0; o < ys.c; o++)
      for (int64_t i = 0; i < ys.h; i++)
        for (int64_t j = 0; j < ys.w; j++)
          {
            const int64_t yi = ((n * ys.c + o) * ys.h + i) * ys.w + j;
            double acc = 0;
            for (int64_t c = 0; c < cg; c++)
              for (int64_t ki = 0; ki < p->kernel_h; ki++)
                for (int64_t kj = 0; kj < p->kernel_w; kj++)
                  {
                    const int64_t h = pos (i, ki, p->stride_h, p->dilation_h, p->pad_top);
                    const int64_t v = pos (j, kj, p->stride_w, p->dilation_w, p->pad_left);
                    if (h < 0 || h >= xs.h || v < 0 || v >= xs.w)
                      continue;
                    const int64_t xi = ((n * xs.c + o / og * cg + c) * xs.h + h) * xs.w + v;
                    const double wv = w[((o * cg + c) * p->kernel_h + ki) * p->kernel_w + kj];
                    acc += x[xi] * wv;
                    dx[xi] += dy[yi] * wv;
                  }
            y[yi] = acc;
          }
}

static int64_t
pick (GRand *r, int64_t lo, int64_t hi)
{
  return g_rand_int_range (r, (gint32) lo, (gint32) hi + 1);
}

static void
test_conv_random (void)
{
  GRand *r = g_rand_new_with_seed (20261126);
  int valid = 0, invalid = 0;
  for (int t = 0; t < 300; t++)
    {
      tl_conv_params p = tl_conv_default_params ();
      const int kind = t % 4; /* 0 general, 1 depthwise, 2 pointwise, 3 wide depthwise */
      int64_t g = kind == 0 ? pick (r, 1, 3) : 1;
      int64_t cg = pick (r, 1, 3), og = pick (r, 1, 3);
      if (kind == 1 || kind == 3)
        {
          g = pick (r, 2, 4);
          cg = og = 1;
        }
      tl_shape4 xs = { pick (r, 1, 2), g * cg, pick (r, 1, kind == 3 ? 8 : 12),
                       pick (r, 1, kind == 3 ? 70 : 14) };
      p.groups = g;
      if (kind != 2)
        {
          p.kernel_h = pick (r, 1, 5);
          p.kernel_w = kind == 3 ? 3 + 2 * pick (r, 0, 1) : pick (r, 1, 5);
          p.stride_h = pick (r, 1, 3);
          p.stride_w = pick (r, 1, 3);
          p.dilation_h = pick (r, 1, 3);
          p.dilation_w = pick (r, 1, 2);
          p.pad_top = pick (r, 0, 3);
          p.pad_left = pick (r, 0, 3);
          p.pad_bottom = pick (r, 0, 3);
          p.pad_right = pick (r, 0, 3);
        }
      const int64_t c_out = g * og;
      tl_shape4 ys;
      GError *err = NULL;
      if (!tl_conv2d_output_shape (&p, xs, c_out, &ys, &err))
        {
          /* only a kernel wider than the padded input may be refused here */
          g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);
          g_assert_nonnull (strstr (err->message, "padded input"));
          g_clear_error (&err);
          invalid++;
          continue;
        }
      valid++;
      tl_shape4 ws = { c_out, cg, p.kernel_h, p.kernel_w };
      const int64_t nx = xs.n * xs.c * xs.h * xs.w, ny = ys.n * ys.c * ys.h * ys.w;
      const int64_t nw = ws.n * ws.c * ws.h * ws.w;
      g_autofree float *x = g_new (float, nx);
      g_autofree float *w = g_new (float, nw);
      g_autofree float *dy = g_new (float, ny);
      fill (r, x, nx);
      fill (r, w, nw);
      fill (r, dy, ny);
      g_autofree double *yr = g_new (double, ny);
      g_autofree double *dxr = g_new (double, nx);
      conv_direct (&p, x, xs, w, yr, ys, dy, dxr);
      const size_t sl = tl_conv2d_scratch_size (&p, xs, ys);
      g_autofree float *s = g_new (float, sl + 1);
      g_autofree float *y = g_new (float, ny);
      g_autofree float *dx = g_new (float, nx);
      const tl_activation none = { TL_ACT_NONE, 0, 0 };
      tl_kernels_set_threads (1 + t % 2);
      g_assert_true (tl_conv2d_forward (&p, x, xs, w, ws, NULL, none, y, ys, s, sl, &err));
      g_assert_true (tl_conv2d_backward_input (&p, dy, ys, w, ws, dx, xs, s, sl, &err));
      g_assert_no_error (err);
      if (!(rel (y, yr, ny) <= TOL && rel (dx, dxr, nx) <= TOL))
        g_error ("case %d: x %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                 "x%" G_GINT64_FORMAT " k %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                 " g %" G_GINT64_FORMAT ": forward %.3g backward %.3g", t, xs.n, xs.c, xs.h,
                 xs.w, p.kernel_h, p.kernel_w, g, rel (y, yr, ny), rel (dx, dxr, nx));
    }
  tl_kernels_set_threads (1);
  g_test_message ("%d valid geometries, %d refused", valid, invalid);
  g_assert_cmpint (valid, >, 200);
  g_rand_free (r);
}

/* ConvTranspose from its definition: every input pixel scatters w into the
 * full output, which pads then crop. */
static void
convt_direct (const tl_conv_transpose_params *tp, const float *x, tl_shape4 xs,
              const float *w, double *y, tl_shape4 ys, const float *dy, double *dx)
{
  const tl_conv_params *p = &tp->conv;
  const int64_t cg = xs.c / p->groups, og = ys.c / p->groups;
  memset (y, 0, sizeof (double) * ys.n * ys.c * ys.h * ys.w);
  memset (dx, 0, sizeof (double) * xs.n * xs.c * xs.h * xs.w);
  for (int64_t n = 0; n < xs.n; n++)
    for (int64_t c = 0; c < xs.c; c++)
      for (int64_t i = 0; i < xs.h; i++)
        for (int64_t j = 0; j < xs.w; j++)
          {
            const int64_t xi = ((n * xs.c + c) * xs.h + i) * xs.w + j;
            for (int64_t o = 0; o < og; o++)
              for (int64_t ki = 0; ki < p->kernel_h; ki++)
                for (int64_t kj = 0; kj < p->kernel_w; kj++)
                  {
                    const int64_t h = pos (i, ki, p->stride_h, p->dilation_h, p->pad_top);
                    const int64_t v = pos (j, kj, p->stride_w, p->dilation_w, p->pad_left);
                    if (h < 0 || h >= ys.h || v < 0 || v >= ys.w)
                      continue;
                    const int64_t yi = ((n * ys.c + c / cg * og + o) * ys.h + h) * ys.w + v;
                    const double wv = w[((c * og + o) * p->kernel_h + ki) * p->kernel_w + kj];
                    y[yi] += x[xi] * wv;
                    dx[xi] += dy[yi] * wv;
                  }
          }
}

static void
test_conv_transpose_random (void)
{
  GRand *r = g_rand_new_with_seed (11);
  int valid = 0;
  for (int t = 0; t < 150; t++)
    {
      tl_conv_transpose_params tp = tl_conv_transpose_default_params ();
      tl_conv_params *p = &tp.conv;
      const int64_t g = pick (r, 1, 3), cg = pick (r, 1, 3), og = pick (r, 1, 3);
      tl_shape4 xs = { pick (r, 1, 2), g * cg, pick (r, 1, 7), pick (r, 1, 7) };
      p->groups = g;
      p->kernel_h = pick (r, 1, 4);
      p->kernel_w = pick (r, 1, 4);
      p->stride_h = pick (r, 1, 3);
      p->stride_w = pick (r, 1, 3);
      p->dilation_h = pick (r, 1, 2);
      p->dilation_w = pick (r, 1, 2);
      p->pad_top = pick (r, 0, 2);
      p->pad_left = pick (r, 0, 2);
      p->pad_bottom = pick (r, 0, 2);
      p->pad_right = pick (r, 0, 2);
      tp.output_padding_h = pick (r, 0, MAX (p->stride_h, p->dilation_h) - 1);
      tp.output_padding_w = pick (r, 0, MAX (p->stride_w, p->dilation_w) - 1);
      tl_shape4 ys;
      GError *err = NULL;
      if (!tl_conv_transpose2d_output_shape (&tp, xs, g * og, &ys, &err))
        {
          g_assert_nonnull (strstr (err->message, "no output"));
          g_clear_error (&err);
          continue;
        }
      valid++;
      tl_shape4 ws = { xs.c, og, p->kernel_h, p->kernel_w };
      const int64_t nx = xs.n * xs.c * xs.h * xs.w, ny = ys.n * ys.c * ys.h * ys.w;
      const int64_t nw = ws.n * ws.c * ws.h * ws.w;
      g_autofree float *x = g_new (float, nx);
      g_autofree float *w = g_new (float, nw);
      g_autofree float *dy = g_new (float, ny);
      fill (r, x, nx);
      fill (r, w, nw);
      fill (r, dy, ny);
      g_autofree double *yr = g_new (double, ny);
      g_autofree double *dxr = g_new (double, nx);
      convt_direct (&tp, x, xs, w, yr, ys, dy, dxr);
      const size_t sl = tl_conv_transpose2d_scratch_size (&tp, xs, ys);
      g_autofree float *s = g_new (float, sl + 1);
      g_autofree float *y = g_new (float, ny);
      g_autofree float *dx = g_new (float, nx);
      const tl_activation none = { TL_ACT_NONE, 0, 0 };
      g_assert_true (tl_conv_transpose2d_forward (&tp, x, xs, w, ws, NULL, none, y, ys, s, sl,
                                                  &err));
      g_assert_true (tl_conv_transpose2d_backward_input (&tp, dy, ys, w, ws, dx, xs, s, sl,
                                                         &err));
      g_assert_no_error (err);
      if (!(rel (y, yr, ny) <= TOL && rel (dx, dxr, nx) <= TOL))
        g_error ("case %d: forward %.3g backward %.3g", t, rel (y, yr, ny), rel (dx, dxr, nx));
    }
  g_assert_cmpint (valid, >, 100);
  g_rand_free (r);
}

/* Pooling from the definition: taps enumerated, max skips padding, average
 * divides by the taps inside the input (or the padded input). */
static void
test_pool_random (void)
{
  GRand *r = g_rand_new_with_seed (5);
  int valid = 0;
  for (int t = 0; t < 300; t++)
    {
      tl_pool_params p = tl_pool_default_params ();
      tl_shape4 xs = { pick (r, 1, 2), pick (r, 1, 3), pick (r, 1, 12), pick (r, 1, 12) };
      p.kernel_h = pick (r, 1, 4);
      p.kernel_w = pick (r, 1, 4);
      p.stride_h = pick (r, 1, 3);
      p.stride_w = pick (r, 1, 3);
      p.dilation_h = t % 3 ? 1 : pick (r, 1, 2);
      p.dilation_w = t % 3 ? 1 : pick (r, 1, 2);
      /* pads up to kernel + 1: some windows lie entirely in the padding */
      p.pad_top = pick (r, 0, p.kernel_h + 1);
      p.pad_left = pick (r, 0, p.kernel_w + 1);
      p.pad_bottom = pick (r, 0, p.kernel_h + 1);
      p.pad_right = pick (r, 0, p.kernel_w + 1);
      p.ceil_mode = pick (r, 0, 1);
      p.count_include_pad = pick (r, 0, 1);
      tl_shape4 ys;
      GError *err = NULL;
      if (!tl_pool_output_shape (&p, xs, &ys, &err))
        {
          g_clear_error (&err);
          continue;
        }
      valid++;
      const int64_t nx = xs.n * xs.c * xs.h * xs.w, ny = ys.n * ys.c * ys.h * ys.w;
      g_autofree float *x = g_new (float, nx);
      /* distinct values: a unique maximum per window */
      for (int64_t i = 0; i < nx; i++)
        x[i] = (float) ((i * 7919) % nx) / (float) nx;
      g_autofree float *dy = g_new (float, ny);
      fill (r, dy, ny);
      g_autofree double *ymax = g_new0 (double, ny);
      g_autofree double *yavg = g_new0 (double, ny);
      g_autofree double *dmax = g_new0 (double, nx);
      g_autofree double *davg = g_new0 (double, nx);
      for (int64_t pl = 0; pl < xs.n * xs.c; pl++)
        for (int64_t i = 0; i < ys.h; i++)
          for (int64_t j = 0; j < ys.w; j++)
            {
              const int64_t yi = (pl * ys.h + i) * ys.w + j;
              double best = -INFINITY, sum = 0;
              int64_t bi = -1, cnt = 0, cnt_pad = 0;
              for (int64_t ki = 0; ki < p.kernel_h; ki++)
                for (int64_t kj = 0; kj < p.kernel_w; kj++)
                  {
                    const int64_t h = pos (i, ki, p.stride_h, p.dilation_h, p.pad_top);
                    const int64_t v = pos (j, kj, p.stride_w, p.dilation_w, p.pad_left);
                    if (h >= -p.pad_top && h < xs.h + p.pad_bottom && v >= -p.pad_left
                        && v < xs.w + p.pad_right)
                      cnt_pad++;
                    if (h < 0 || h >= xs.h || v < 0 || v >= xs.w)
                      continue;
                    const int64_t xi = (pl * xs.h + h) * xs.w + v;
                    cnt++;
                    sum += x[xi];
                    if (x[xi] > best)
                      {
                        best = x[xi];
                        bi = xi;
                      }
                  }
              const int64_t div = p.count_include_pad ? cnt_pad : cnt;
              ymax[yi] = bi < 0 ? 0 : best;
              yavg[yi] = div ? sum / div : 0;
              if (bi >= 0)
                dmax[bi] += dy[yi];
              for (int64_t ki = 0; div && ki < p.kernel_h; ki++)
                for (int64_t kj = 0; kj < p.kernel_w; kj++)
                  {
                    const int64_t h = pos (i, ki, p.stride_h, p.dilation_h, p.pad_top);
                    const int64_t v = pos (j, kj, p.stride_w, p.dilation_w, p.pad_left);
                    if (h >= 0 && h < xs.h && v >= 0 && v < xs.w)
                      davg[(pl * xs.h + h) * xs.w + v] += dy[yi] / div;
                  }
            }
      g_autofree float *y = g_new (float, ny);
      g_autofree float *y2 = g_new (float, ny);
      g_autofree float *dx = g_new (float, nx);
      g_autofree int64_t *am = g_new (int64_t, ny);
      tl_kernels_set_threads (1 + t % 2);
      g_assert_true (tl_maxpool_forward (&p, x, xs, y, ys, am, &err));
      g_assert_true (tl_maxpool_forward (&p, x, xs, y2, ys, NULL, &err));
      g_assert_cmpmem (y, sizeof (float) * ny, y2, sizeof (float) * ny);
      g_assert_true (tl_maxpool_backward (&p, dy, ys, am, dx, xs, &err));
      if (!(rel (y, ymax, ny) <= TOL && rel (dx, dmax, nx) <= TOL))
        g_error ("max case %d: %.3g %.3g", t, rel (y, ymax, ny), rel (dx, dmax, nx));
      g_assert_true (tl_avgpool_forward (&p, x, xs, y, ys, &err));
      g_assert_true (tl_avgpool_backward (&p, dy, ys, dx, xs, &err));
      g_assert_no_error (err);
      if (!(rel (y, yavg, ny) <= TOL && rel (dx, davg, nx) <= TOL))
        g_error ("avg case %d: %.3g %.3g", t, rel (y, yavg, ny), rel (dx, davg, nx));
    }
  tl_kernels_set_threads (1);
  g_assert_cmpint (valid, >, 200);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/random/conv", test_conv_random);
  g_test_add_func ("/kernels/random/conv-transpose", test_conv_transpose_random);
  g_test_add_func ("/kernels/random/pool", test_pool_random);
  return g_test_run ();
}
