/* tensorlens bench-saliency: times the saliency maths alone (feature tensor
 * in, map at feature resolution out) per method, for docs/benchmarks.md.
 * Not a test: timings depend on the machine and its load. */
#include "commands.h"
#include "error.h"
#include "npy.h"
#include "saliency.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU time of this process in ms: less disturbed than wall time when
 * other jobs share the cores (OpenBLAS runs on this thread only). */
static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* Low-rank + noise, non-negative (post-ReLU-like) features, deterministic. */
static tl_tensor *
synthetic (int64_t C, int64_t H, int64_t W)
{
  int64_t s[3] = { C, H, W };
  tl_tensor *t = tl_tensor_new (3, s, NULL);
  GRand *r = g_rand_new_with_seed (2024);
  const int K = 4;
  double cy[4], cx[4];
  for (int k = 0; k < K; k++)
    cy[k] = g_rand_double_range (r, 0, H), cx[k] = g_rand_double_range (r, 0, W);
  for (int64_t c = 0; c < C; c++)
    {
      double a[4];
      for (int k = 0; k < K; k++)
        a[k] = fabs (g_rand_double_range (r, -1, 1)) * (K - k);
      for (int64_t h = 0; h < H; h++)
        for (int64_t w = 0; w < W; w++)
          {
            double v = 0.3 * g_rand_double (r);
            for (int k = 0; k < K; k++)
              v += a[k] * exp (-((h - cy[k]) * (h - cy[k]) + (w - cx[k]) * (w - cx[k]))
                               / (0.1 * (H * H + W * W)));
            t->data[(c * H + h) * W + w] = (float) v;
          }
    }
  g_rand_free (r);
  return t;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int
tl_cmd_bench_saliency (int argc, char **argv)
{
  char *shape = NULL, *features = NULL, *only = NULL;
  int repeat = 50, threads = 1;
  GOptionEntry entries[] = {
    { "shape", 0, 0, G_OPTION_ARG_STRING, &shape,
      "Synthetic low-rank + noise features of this shape (default 2048x7x7)", "CxHxW" },
    { "features", 0, 0, G_OPTION_ARG_FILENAME, &features,
      "Time on this feature tensor instead (.npy)", "F.npy" },
    { "repeat", 0, 0, G_OPTION_ARG_INT, &repeat, "Runs per method; the median is shown (default 50)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "OpenBLAS threads (default 1)", "N" },
    { "only", 0, 0, G_OPTION_ARG_STRING, &only, "Run only the rows whose label starts with this", "LABEL" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("");
  g_option_context_set_summary (ctx, "Median time of each saliency method's maths, in ms.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  int rc = 1;
  double *t = NULL, *tc = NULL;
  GError *error = NULL;
  g_autoptr (tl_tensor) F = NULL;
  if (!tl_cli_parse (ctx, &argc, &argv))
    goto out;
  if (repeat < 1 || threads < 1)
    {
      fprintf (stderr, "tensorlens bench-saliency: --repeat and --threads must be at least 1\n");
      goto out;
    }
  openblas_set_num_threads (threads);
  t = g_new (double, (gsize) repeat);
  tc = g_new (double, (gsize) repeat);
  if (features)
    {
      F = tl_npy_load (features, &error);
      if (!F)
        {
          rc = tl_cli_fail (error);
          goto out;
        }
    }
  else
    {
      long long C = 2048, H = 7, W = 7;
      if (shape && (sscanf (shape, "%lldx%lldx%lld", &C, &H, &W) != 3 || C < 1 || H < 1
                    || W < 1 || C * H * W > (1 << 26)))
        {
          fprintf (stderr, "tensorlens bench-saliency: --shape '%s': expected CxHxW "
                   "(at most 2^26 elements)\n", shape);
          goto out;
        }
      F = synthetic (C, H, W);
    }
  int64_t off = F->ndim == 4 ? 1 : 0;
  int64_t H = F->shape[off + 1], W = F->shape[off + 2];
  struct {
    const char *label;
    tl_saliency_method m;
    double rho;   /* spatial rank ratio, 0 = automatic (full) */
  } runs[] = {
    { "eigencam", TL_SALIENCY_EIGENCAM, 0 },
    { "multivec-eigencam", TL_SALIENCY_MULTIVEC_EIGENCAM, 0 },
    { "tsm (full ranks)", TL_SALIENCY_TSM, 0 },
    { "tsm (rho 0.5)", TL_SALIENCY_TSM, 0.5 },
    { "mtsm (full ranks)", TL_SALIENCY_MTSM, 0 },
    { "mtsm (rho 0.5)", TL_SALIENCY_MTSM, 0.5 },
  };
  printf ("# %s, %d OpenBLAS thread(s), median of %d runs: wall and CPU time\n",
          tl_shape_str (F->ndim, F->shape, (char[64]) { 0 }, 64), threads, repeat);
  for (gsize i = 0; i < G_N_ELEMENTS (runs); i++)
    {
      if (only && !g_str_has_prefix (runs[i].label, only))
        continue;
      tl_saliency_params p = tl_saliency_default_params ();
      p.method = runs[i].m;
      if (runs[i].rho > 0)
        {
          p.ranks[1] = (int) ceil (runs[i].rho * H);
          p.ranks[2] = (int) ceil (runs[i].rho * W);
        }
      tl_saliency_report rep;
      for (int k = 0; k < repeat; k++)
        {
          tl_tensor *map = NULL;
          gint64 t0 = g_get_monotonic_time ();
          double c0 = cpu_ms ();
          if (!tl_saliency_map_from_features_report (F, &p, &map, &rep, &error))
            {
              rc = tl_cli_fail (error);
              goto out;
            }
          t[k] = (g_get_monotonic_time () - t0) / 1000.0;
          tc[k] = cpu_ms () - c0;
          tl_tensor_free (map);
        }
      qsort (t, (size_t) repeat, sizeof (double), cmp_double);
      qsort (tc, (size_t) repeat, sizeof (double), cmp_double);
      printf ("%-20s %9.3f ms %9.3f ms-cpu", runs[i].label, t[repeat / 2], tc[repeat / 2]);
      if (runs[i].m >= TL_SALIENCY_TSM)
        printf ("   ranks %d,%d,%d, %d sweep(s)", rep.ranks[0], rep.ranks[1], rep.ranks[2],
                rep.sweeps_run);
      printf ("\n");
    }
  rc = 0;
out:
  g_free (t);
  g_free (tc);
  g_free (shape);
  g_free (features);
  g_free (only);
  return rc;
}
