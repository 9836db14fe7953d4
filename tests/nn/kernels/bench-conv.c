/* Benchmark (not a test): GFLOP/s of tl_conv2d_forward(_packed, with the
 * weights packed where the engine packs them) against bare
 * cblas_sgemm on the same GEMM shapes, for ResNet-18 and MobileNetV2 layers.
 *   build-x/tests/nn/kernels/bench-conv [threads] [dw]
 * "conv" includes im2col (no bias, no activation: the same arithmetic as
 * the GEMM); "+b+relu" adds the fused bias + ReLU epilogue, extra work
 * the GEMM alone does not do. "ratio" = conv / sgemm GFLOP/s, which the
 * kernels aim to keep >= 0.8 for the GEMM paths. */
#include "kernels.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  const char *name;
  int64_t c, h, w, o, k, s, p, g;
} layer;

static const layer layers[] = {
  { "r18 conv1 7x7/2 3->64 @224", 3, 224, 224, 64, 7, 2, 3, 1 },
  { "r18 3x3 64->64 @56", 64, 56, 56, 64, 3, 1, 1, 1 },
  { "r18 3x3/2 64->128 @56", 64, 56, 56, 128, 3, 2, 1, 1 },
  { "r18 1x1/2 64->128 @56", 64, 56, 56, 128, 1, 2, 0, 1 },
  { "r18 3x3 128->128 @28", 128, 28, 28, 128, 3, 1, 1, 1 },
  { "r18 3x3 256->256 @14", 256, 14, 14, 256, 3, 1, 1, 1 },
  { "r18 3x3 512->512 @7", 512, 7, 7, 512, 3, 1, 1, 1 },
  { "mv2 3x3/2 3->32 @224", 3, 224, 224, 32, 3, 2, 1, 1 },
  { "mv2 pw 32->16 @112", 32, 112, 112, 16, 1, 1, 0, 1 },
  { "mv2 pw 16->96 @112", 16, 112, 112, 96, 1, 1, 0, 1 },
  { "mv2 pw 144->24 @56", 144, 56, 56, 24, 1, 1, 0, 1 },
  { "mv2 pw 24->144 @56", 24, 56, 56, 144, 1, 1, 0, 1 },
  { "mv2 pw 320->1280 @7", 320, 7, 7, 1280, 1, 1, 0, 1 },
  { "mv2 dw 3x3 32 @112", 32, 112, 112, 32, 3, 1, 1, 32 },
  { "mv2 dw 3x3/2 96 @112", 96, 112, 112, 96, 3, 2, 1, 96 },
  { "mv2 dw 3x3 960 @7", 960, 7, 7, 960, 3, 1, 1, 960 },
};

static double
now (void)
{
  return g_get_monotonic_time () * 1e-6;
}

/* Every depthwise layer of MobileNetV2 (224x224 input): C, H=W, stride. */
static const int64_t mv2_dw[][3] = {
  { 32, 112, 1 }, { 96, 112, 2 }, { 144, 56, 1 }, { 144, 56, 2 }, { 192, 28, 1 },
  { 192, 28, 1 }, { 192, 28, 2 }, { 384, 14, 1 }, { 384, 14, 1 }, { 384, 14, 1 },
  { 384, 14, 1 }, { 576, 14, 1 }, { 576, 14, 1 }, { 576, 14, 2 }, { 960, 7, 1 },
  { 960, 7, 1 }, { 960, 7, 1 },
};

/* best of `reps` runs, at least 0.2 s in total */
#define TIME_BEST(stmt, best)                                                 \
  do {                                                                        \
    best = 1e30;                                                              \
    double t_end = now () + 0.2;                                              \
    for (int r = 0; r < 3 || now () < t_end; r++)                             \
      {                                                                       \
        double t0 = now ();                                                   \
        stmt;                                                                 \
        double dt = now () - t0;                                              \
        if (dt < best)                                                        \
          best = dt;                                                          \
      }                                                                       \
  } while (0)

/* `bench-conv T dw`: time of each MobileNetV2 depthwise layer with its
 * fused bias + ReLU6 (as the network runs it) and their sum. */
static int
bench_dw (void)
{
  double total = 0;
  printf ("%-24s %9s %9s\n", "mv2 depthwise layer", "us", "GFLOP/s");
  for (size_t i = 0; i < G_N_ELEMENTS (mv2_dw); i++)
    {
      const int64_t c = mv2_dw[i][0], h = mv2_dw[i][1], s = mv2_dw[i][2];
      tl_conv_params p = tl_conv_default_params ();
      p.kernel_h = p.kernel_w = 3;
      p.stride_h = p.stride_w = s;
      p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
      p.groups = c;
      tl_shape4 xs = { 1, c, h, h }, ws = { c, 1, 3, 3 }, ys;
      if (!tl_conv2d_output_shape (&p, xs, c, &ys, NULL))
        return 1;
      float *x = g_new (float, c * h * h), *w = g_new (float, c * 9);
      float *b = g_new0 (float, c), *y = g_new (float, c * ys.h * ys.w);
      for (int64_t j = 0; j < c * h * h; j++)
        x[j] = (float) (j % 13) * 0.1f;
      for (int64_t j = 0; j < c * 9; j++)
        w[j] = (float) (j % 7) * 0.01f;
      tl_activation act = { TL_ACT_CLIP, 0, 6 };
      double t;
      TIME_BEST (tl_conv2d_forward (&p, x, xs, w, ws, b, act, y, ys, NULL, 0, NULL), t);
      total += t;
      char name[64];
      g_snprintf (name, sizeof name, "dw %" G_GINT64_FORMAT " @%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                  c, h, s);
      printf ("%-24s %9.1f %9.2f\n", name, t * 1e6, 18.0 * c * ys.h * ys.w / t * 1e-9);
      g_free (x);
      g_free (w);
      g_free (b);
      g_free (y);
    }
  printf ("%-24s %9.1f\n", "total", total * 1e6);
  return 0;
}

int
main (int argc, char **argv)
{
  int threads = argc > 1 ? atoi (argv[1]) : 1;
  tl_kernels_set_threads (threads);
  if (argc > 2 && !strcmp (argv[2], "dw"))
    return bench_dw ();
  printf ("threads %d, GFLOP/s\n%-30s %9s %9s %9s %6s\n", threads, "layer", "conv",
          "+b+relu", "sgemm", "ratio");
  for (size_t i = 0; i < G_N_ELEMENTS (layers); i++)
    {
      const layer *L = &layers[i];
      tl_conv_params p = tl_conv_default_params ();
      p.kernel_h = p.kernel_w = L->k;
      p.stride_h = p.stride_w = L->s;
      p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = L->p;
      p.groups = L->g;
      tl_shape4 xs = { 1, L->c, L->h, L->w }, ys;
      tl_shape4 ws = { L->o, L->c / L->g, L->k, L->k };
      if (!tl_conv2d_output_shape (&p, xs, L->o, &ys, NULL))
        return 1;
      size_t sl = tl_conv2d_scratch_size (&p, xs, ys);
      float *x = g_new (float, L->c * L->h * L->w);
      float *w = g_new (float, ws.n * ws.c * ws.h * ws.w);
      float *b = g_new0 (float, L->o);
      float *y = g_new (float, ys.c * ys.h * ys.w);
      float *s = g_new (float, sl > 0 ? sl : 1);
      for (int64_t j = 0; j < L->c * L->h * L->w; j++)
        x[j] = (float) (j % 13) * 0.1f;
      for (int64_t j = 0; j < ws.n * ws.c * ws.h * ws.w; j++)
        w[j] = (float) (j % 7) * 0.01f;
      tl_activation act = { TL_ACT_RELU, 0, 0 };
      const int64_t m = L->o / L->g, k = ws.c * L->k * L->k, n = ys.h * ys.w;
      const double flops = 2.0 * L->o * k * n;
      const tl_activation none = { TL_ACT_NONE, 0, 0 };
      double tc = 1e30, tf = 1e30, tg = 1e30;
      /* Best of each over 4 rounds of (conv and conv + bias/ReLU timed in
       * turn for 0.25 s, then the bare sgemm for 0.25 s on OpenBLAS's own
       * T threads; the engine keeps OpenBLAS at 1 and splits GEMMs itself).
       * Rounds, so that the noisy periods of a shared 2-core VM hit both
       * sides alike; the sgemm is not interleaved call by call because
       * OpenBLAS's threads spin for a long while after each call and would
       * take the core from the conv (hence also the pause after it). */
      float *bm = sl > 0 ? s : x;
      /* the weights as the engine holds them: packed where it packs them */
      float *pk = tl_conv2d_pack_weights (&p, xs, ys, w);
      for (int round = 0; round < 4; round++)
        {
          double t_end = now () + 0.25;
          for (int r = 0; r < 3 || now () < t_end; r++)
            {
              double t0 = now ();
              tl_conv2d_forward_packed (&p, x, xs, w, ws, pk, NULL, none, y, ys, s, sl, NULL);
              double t1 = now ();
              tl_conv2d_forward_packed (&p, x, xs, w, ws, pk, b, act, y, ys, s, sl, NULL);
              double t2 = now ();
              tc = MIN (tc, t1 - t0);
              tf = MIN (tf, t2 - t1);
            }
          if (L->g != 1)
            continue;
          openblas_set_num_threads (threads);
          t_end = now () + 0.25;
          for (int r = 0; r < 3 || now () < t_end; r++)
            {
              double t2 = now ();
              cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, w, k, bm,
                           n, 0.0f, y, n);
              tg = MIN (tg, now () - t2);
            }
          tl_kernels_set_threads (threads); /* OpenBLAS back to 1 */
          g_usleep (200000);                /* let its threads go idle */
        }
      if (L->g == 1) /* sgemm: the same GEMM on ready-made operands */
        printf ("%-30s %9.2f %9.2f %9.2f %6.2f\n", L->name, flops / tc * 1e-9,
                flops / tf * 1e-9, flops / tg * 1e-9, tg / tc);
      else
        printf ("%-30s %9.2f %9.2f %9s %6s\n", L->name, flops / tc * 1e-9,
                flops / tf * 1e-9, "-", "-");
      g_free (x);
      g_free (w);
      g_free (pk);
      g_free (b);
      g_free (y);
      g_free (s);
    }
  return 0;
}
