/* bench-generate [MODEL [RUNS [BATCH]]]: wall time of a 64-image grid
 * (tl_generate_grid, 8 columns, 64-pixel cells) decoded one latent per pass
 * (decode_batch 1, the default) and BATCH (16) per pass, interleaved,
 * medians of RUNS (default 7) after one warm-up each. Not a test: timings
 * depend on the machine and its load. */
#include "generate.h"

#include <stdio.h>
#include <stdlib.h>

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int
main (int argc, char **argv)
{
  const char *name = argc > 1 ? argv[1] : "fmnist-ae";
  int runs = argc > 2 ? atoi (argv[2]) : 7;
  if (runs < 1 || runs > 100)
    return 2;
  GError *e = NULL;
  tl_model *m = tl_model_get (name, &e);
  if (!m)
    {
      fprintf (stderr, "bench-generate: %s\n", e->message);
      return 1;
    }
  const int bs[2] = { 1, argc > 3 ? atoi (argv[3]) : 16 };
  double t[2][100];
  for (int rep = -1; rep < runs; rep++)
    for (int j = 0; j < 2; j++)
      {
        tl_generate_params p = tl_generate_default_params ();
        p.count = 64;
        p.columns = 8;
        p.decode_batch = bs[j];
        p.seed = (uint64_t) rep + 1;
        gint64 t0 = g_get_monotonic_time ();
        tl_image *g = tl_generate_grid (m, &p, NULL, NULL, &e);
        gint64 t1 = g_get_monotonic_time ();
        if (!g)
          {
            fprintf (stderr, "bench-generate: %s\n", e->message);
            return 1;
          }
        tl_image_free (g);
        if (rep >= 0)
          t[j][rep] = (t1 - t0) / 1e3;
      }
  for (int j = 0; j < 2; j++)
    qsort (t[j], runs, sizeof (double), cmp_double);
  double m1 = t[0][runs / 2], m16 = t[1][runs / 2];
  printf ("| %s, 64-image grid | %.1f ms | %d | %.1f ms | %.2fx |\n", name, m1, bs[1], m16,
          m1 / m16);
  tl_model_unref (m);
  return 0;
}
