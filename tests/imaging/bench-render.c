/* Image-pipeline timings for docs/benchmarks.md ("Image pipeline"); a
 * program, not a test. For a 4000x3000 RGB image:
 *   preprocess to 512x512 (each resize mode), upsample a 16x16 map to
 *   4000x3000, colormap + overlay, and the fused tl_render_unmap (upsample
 *   row by row + overlay), with 1 and 2 threads where it applies.
 * Usage: bench-render [repeats]
 * Prints per step the minimum and median wall time and the minimum CPU time
 * of the process (all threads), in ms. The totals add the minimum wall
 * times: on a shared machine the minimum is the run least disturbed by
 * other processes, and CPU time shows the cost without the waiting. */
#include "preprocess.h"
#include "render.h"
#include "resize.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define W 4000
#define H 3000

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define TIME(label, reps, stmt)                                                \
  ({                                                                           \
    double t_[64], c_ = 1e300;                                                 \
    for (int r_ = 0; r_ < (reps); r_++)                                        \
      {                                                                        \
        double cpu_ = cpu_ms ();                                               \
        gint64 a_ = g_get_monotonic_time ();                                   \
        stmt;                                                                  \
        t_[r_] = (g_get_monotonic_time () - a_) / 1000.0;                      \
        c_ = MIN (c_, cpu_ms () - cpu_);                                       \
      }                                                                        \
    double m_ = median (t_, (reps));                                           \
    printf ("%-46s %8.1f %8.1f %8.1f\n", (label), t_[0], m_, c_);              \
    t_[0];                                                                     \
  })

int
main (int argc, char **argv)
{
  int reps = argc > 1 ? atoi (argv[1]) : 5;
  reps = CLAMP (reps, 1, 64);
  g_autoptr (tl_image) img = tl_image_new (W, H, 3, NULL);
  for (size_t i = 0; i < (size_t) W * H * 3; i++)
    img->data[i] = (float) ((i * 2654435761u) >> 24) / 255.0f;
  float map16[16 * 16];
  for (int i = 0; i < 256; i++)
    map16[i] = (float) ((i * 37) % 256) / 255.0f;
  float *map = g_new (float, (size_t) W * H);

  printf ("image %dx%d RGB float, %d runs\n%-46s %8s %8s %8s\n", W, H, reps, "step (ms)",
          "min", "median", "min CPU");
  tl_preprocess_params pp = tl_preprocess_default_params ();
  pp.width = pp.height = 512;
  double t_pre = 0;
  for (int m = TL_RESAMPLE_HALF_PIXEL; m <= TL_RESAMPLE_AREA; m++)
    {
      pp.resize_mode = (tl_resample_mode) m;
      char label[64];
      g_snprintf (label, sizeof label, "preprocess -> 512x512 (%s)", tl_resample_mode_name (m));
      double t = TIME (label, reps, {
        tl_tensor *x = tl_preprocess (&pp, img, NULL, NULL);
        tl_tensor_free (x);
      });
      if (m == TL_RESAMPLE_AREA)
        t_pre = t;
    }
  tl_preprocess_geometry g = tl_preprocess_geometry_for (&pp, W, H);
  double t_up = TIME ("upsample map 16x16 -> 4000x3000", reps,
                      tl_preprocess_unmap (&g, map16, 16, 16, map, NULL));
  tl_render_params rp = tl_render_default_params ();
  double t_r1 = TIME ("overlay (jet, 0.5), 1 thread", reps, {
    tl_image *o = tl_render (&rp, img, map, NULL);
    tl_image_free (o);
  });
  rp.n_threads = 2;
  double t_r2 = TIME ("overlay (jet, 0.5), 2 threads", reps, {
    tl_image *o = tl_render (&rp, img, map, NULL);
    tl_image_free (o);
  });
  rp.n_threads = 1;
  double t_f1 = TIME ("fused unmap + overlay, 1 thread", reps, {
    tl_image *o = tl_render_unmap (&rp, img, &g, map16, 16, 16, NULL);
    tl_image_free (o);
  });
  rp.n_threads = 2;
  double t_f2 = TIME ("fused unmap + overlay, 2 threads", reps, {
    tl_image *o = tl_render_unmap (&rp, img, &g, map16, 16, 16, NULL);
    tl_image_free (o);
  });
  printf ("%-46s %8.1f\n", "total: area preprocess + upsample + overlay 1T",
          t_pre + t_up + t_r1);
  printf ("%-46s %8.1f\n", "total: same, overlay 2T", t_pre + t_up + t_r2);
  printf ("%-46s %8.1f\n", "total: area preprocess + fused 1T", t_pre + t_f1);
  printf ("%-46s %8.1f\n", "total: area preprocess + fused 2T", t_pre + t_f2);
  g_free (map);
  return 0;
}
