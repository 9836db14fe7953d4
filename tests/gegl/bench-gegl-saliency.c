/* bench-gegl-saliency RUNS [MODEL [WIDTH HEIGHT]]
 * Times tensorlens:saliency through the GEGL API on a WIDTHxHEIGHT photo
 * (default 4000x3000, the bundled coffee.jpg upscaled) with the op's
 * defaults (MODEL = the op's default model, EigenCAM, overlay, jet, 0.5), as
 * GIMP or the gegl CLI would run it: gegl:buffer-source -> op ->
 * gegl:buffer-sink, rendered with GEGL's configured threads.
 *
 * Per run, two renderings:
 *   cold: one pixel of the photo changes, so the op reads it, runs the
 *         network and renders; "beyond the forward pass" = the whole
 *         rendering minus the forward pass's own wall time, measured inside
 *         the op's copy of libtensorlens (tensorlens_saliency_forward_usec);
 *   warm: only the colormap changes: the op re-reads and re-hashes the photo,
 *         recalls the features, recomputes the map and renders; no network.
 * Prints a Markdown table of medians (and min/max) over the runs.
 * Not a test: timings depend on the machine and its load. */
#include "explain.h"

#include <gegl.h>
#include <gmodule.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* median, min, max of v[0..n) (sorts v) */
static void
stats (double *v, int n, double out[3])
{
  qsort (v, n, sizeof *v, cmp_double);
  out[0] = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  out[1] = v[0];
  out[2] = v[n - 1];
}

static void
row (const char *name, double *v, int n)
{
  double s[3];
  stats (v, n, s);
  printf ("| %s | %.1f | %.1f | %.1f |\n", name, s[0], s[1], s[2]);
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: bench-gegl-saliency RUNS [MODEL [WIDTH HEIGHT]]\n");
      return 2;
    }
  int runs = atoi (argv[1]);
  const char *model = argc > 2 ? argv[2] : NULL;
  int W = argc > 4 ? atoi (argv[3]) : 4000, H = argc > 4 ? atoi (argv[4]) : 3000;
  if (runs < 1 || runs > 100 || W < 1 || H < 1)
    {
      fprintf (stderr, "bench-gegl-saliency: RUNS 1..100, positive size\n");
      return 2;
    }
  gegl_init (&argc, &argv);
  const char *dir = g_getenv ("TL_GEGL_OPS_DIR");
  g_autofree char *so = g_build_filename (dir ? dir : ".", "tensorlens-saliency.so", NULL);
  GModule *mod = g_module_open (so, G_MODULE_BIND_LAZY);
  gint64 (*fwd_usec) (void) = NULL;
  if (!mod || !g_module_symbol (mod, "tensorlens_saliency_forward_usec", (gpointer *) &fwd_usec)
      || !gegl_has_operation ("tensorlens:saliency"))
    {
      fprintf (stderr, "bench-gegl-saliency: cannot load the op from %s (set TL_GEGL_OPS_DIR "
               "and GEGL_PATH)\n", so);
      return 1;
    }

  GError *err = NULL;
  g_autofree char *photo = g_build_filename (g_getenv ("TL_SOURCE_ROOT") ?: ".", "models",
                                             "photos", "coffee.jpg", NULL);
  g_autoptr (tl_image) small = tl_image_load (photo, &err);
  g_autoptr (tl_image) rgb = small ? tl_image_convert (small, 4, &err) : NULL;
  g_autoptr (tl_image) img = rgb ? tl_image_resize (rgb, W, H, TL_RESAMPLE_HALF_PIXEL, &err)
                                 : NULL;
  if (!img)
    {
      fprintf (stderr, "bench-gegl-saliency: %s\n", err->message);
      return 1;
    }
  for (size_t i = 0; i < (size_t) W * H; i++)
    img->data[i * 4 + 3] = 1.0f;
  const Babl *fmt = babl_format ("R'G'B'A float");
  GeglRectangle r = { 0, 0, W, H };
  GeglBuffer *src = gegl_buffer_new (&r, fmt);
  gegl_buffer_set (src, &r, 0, fmt, img->data, GEGL_AUTO_ROWSTRIDE);

  GeglNode *g = gegl_node_new ();
  GeglNode *s = gegl_node_new_child (g, "operation", "gegl:buffer-source", "buffer", src, NULL);
  GeglNode *op = gegl_node_new_child (g, "operation", "tensorlens:saliency", NULL);
  if (model)
    gegl_node_set (op, "model", model, NULL);
  GeglBuffer *out = NULL;
  GeglNode *sink = gegl_node_new_child (g, "operation", "gegl:buffer-sink", "buffer", &out,
                                        "format", fmt, NULL);
  gegl_node_link_many (s, op, sink, NULL);
  gchar *model_name = NULL;
  gint threads = 0;
  gegl_node_get (op, "model", &model_name, NULL);
  g_object_get (gegl_config (), "threads", &threads, NULL);

  /* one unmeasured rendering: loads the model, warms caches and pools */
  gegl_node_process (sink);
  g_clear_object (&out);

  double *total = g_new (double, runs), *fwd = g_new (double, runs);
  double *beyond = g_new (double, runs), *warm = g_new (double, runs);
  double *warm_cpu = g_new (double, runs);
  for (int i = 0; i < runs; i++)
    {
      /* a new photo (one pixel differs): the feature cache misses */
      float px[4] = { (float) (i + 1) / (runs + 2), 0.5f, 0.5f, 1.0f };
      GeglRectangle one = { i, 0, 1, 1 };
      gegl_buffer_set (src, &one, 0, fmt, px, GEGL_AUTO_ROWSTRIDE);
      gegl_node_set (s, "buffer", src, NULL);
      gegl_node_set (op, "colormap", 1 /* jet */, NULL);
      gint64 f0 = fwd_usec (), t0 = g_get_monotonic_time ();
      gegl_node_process (sink);
      gint64 t1 = g_get_monotonic_time (), f1 = fwd_usec ();
      g_clear_object (&out);
      total[i] = (t1 - t0) / 1e3;
      fwd[i] = (f1 - f0) / 1e3;
      beyond[i] = total[i] - fwd[i];

      /* the same photo, another colormap: features from the cache */
      gegl_node_set (op, "colormap", 0 /* turbo */, NULL);
      double c0 = cpu_ms ();
      f0 = fwd_usec ();
      t0 = g_get_monotonic_time ();
      gegl_node_process (sink);
      t1 = g_get_monotonic_time ();
      warm_cpu[i] = cpu_ms () - c0;
      if (fwd_usec () != f0)
        fprintf (stderr, "bench-gegl-saliency: warm run %d ran the network\n", i);
      g_clear_object (&out);
      warm[i] = (t1 - t0) / 1e3;
    }

  double load[3] = { 0, 0, 0 };
  FILE *la = fopen ("/proc/loadavg", "r");
  if (la)
    {
      if (fscanf (la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
        load[0] = load[1] = load[2] = 0;
      fclose (la);
    }
  printf ("tensorlens:saliency through the GEGL API: %dx%d RGBA float photo, model %s, op "
          "defaults (EigenCAM, overlay), GEGL threads %d, %d runs; load average %.1f %.1f %.1f "
          "at the end\n\n", W, H, model_name, threads, runs, load[0], load[1], load[2]);
  printf ("| per rendering (ms) | median | min | max |\n|---|---:|---:|---:|\n");
  row ("cold: whole rendering (process(), network included)", total, runs);
  row ("cold: forward pass (inside the op)", fwd, runs);
  row ("**cold: beyond the forward pass** (read + resize in, hash, map, upsample, colour, "
       "blend out)", beyond, runs);
  row ("warm (colormap change): whole rendering, no network", warm, runs);
  row ("warm: process CPU time, all threads", warm_cpu, runs);

  g_free (model_name);
  g_free (total);
  g_free (fwd);
  g_free (beyond);
  g_free (warm);
  g_free (warm_cpu);
  g_object_unref (g);
  g_object_unref (src);
  g_module_close (mod);
  gegl_exit ();
  return 0;
}
