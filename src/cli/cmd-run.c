/* tensorlens run MODEL --input IN.npy --output OUT.npy [--tap NAME=FILE.npy]:
 * one forward pass, outputs and any tapped tensor written as .npy. */
#include "commands.h"
#include "npy.h"
#include "tl-net.h"

#include <stdio.h>
#include <string.h>

/* A tensor name as a file name: path separators and colons become '_'. */
static char *
file_name_for (const char *dir, const char *tensor)
{
  char *s = g_strdup (tensor);
  for (char *p = s; *p; p++)
    if (*p == '/' || *p == '\\' || *p == ':')
      *p = '_';
  char *f = g_strconcat (s[0] == '_' ? s + 1 : s, ".npy", NULL);
  char *path = g_build_filename (dir, f, NULL);
  g_free (f);
  g_free (s);
  return path;
}

static tl_net *
load_for_input (const char *path, const tl_tensor *x, GError **error)
{
  tl_net *net = tl_net_load (path, error);
  if (!net || tl_net_n_inputs (net) != 1)
    return net;
  const tl_net_tensor_info *in = tl_net_input (net, 0);
  if (in->ndim == x->ndim && x->ndim > 0
      && memcmp (in->shape + 1, x->shape + 1, sizeof (int64_t) * (x->ndim - 1)) == 0
      && in->shape[0] != x->shape[0])
    {
      /* another batch size: reload with the input's shape */
      tl_net_free (net);
      int nd = x->ndim;
      int64_t shp[1][TL_MAX_DIMS];
      memcpy (shp[0], x->shape, sizeof shp[0]);
      net = tl_net_load_with_shapes (path, 1, &nd, (const int64_t (*)[TL_MAX_DIMS]) shp, error);
    }
  return net;
}

int
tl_cmd_run (int argc, char **argv)
{
  g_autofree char *output = NULL, *outdir = NULL;
  g_auto (GStrv) taps = NULL, inputs = NULL, shapes = NULL;
  int threads = 0;
  GOptionEntry entries[] = {
    { "input", 'i', 0, G_OPTION_ARG_FILENAME_ARRAY, &inputs,
      "Input tensor (.npy, float32); repeat for each input of a multi-input model", "IN.npy" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the first output here", "OUT.npy" },
    { "outputs", 0, 0, G_OPTION_ARG_FILENAME, &outdir, "Write every output into DIR", "DIR" },
    { "tap", 't', 0, G_OPTION_ARG_STRING_ARRAY, &taps,
      "Also write tensor NAME (repeatable)", "NAME=FILE.npy" },
    { "shape", 's', 0, G_OPTION_ARG_STRING_ARRAY, &shapes,
      "Input shape like 1x3x224x224, for models with symbolic dims (repeat per input)", "SHAPE" },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &threads,
      "Threads (default: $TENSORLENS_THREADS or the number of CPUs)", "T" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL.onnx");
  g_option_context_set_summary (ctx, "Run a model on a .npy tensor and write its outputs "
                                "(and any tapped intermediate tensor) as .npy.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!tl_cli_parse (ctx, &argc, &argv))
    return 2;
  if (argc != 2 || !inputs || (!output && !outdir && !taps))
    {
      fprintf (stderr, "tensorlens run: need MODEL, --input and --output, --outputs or "
               "--tap (see --help)\n");
      return 2;
    }
  if (threads < 0)
    {
      fprintf (stderr, "tensorlens run: --threads must be >= 0\n");
      return 2;
    }
  tl_nn_set_threads (threads);
  GError *error = NULL;
  int ni = (int) g_strv_length (inputs);
  if (ni > 16)
    {
      fprintf (stderr, "tensorlens run: at most 16 inputs\n");
      return 2;
    }
  tl_tensor *xs[16] = { NULL };
  for (int i = 0; i < ni; i++)
    if (!(xs[i] = tl_npy_load (inputs[i], &error)))
      {
        for (int k = 0; k < i; k++)
          tl_tensor_free (xs[k]);
        return tl_cli_fail (error);
      }
  tl_net *net = shapes ? tl_net_load_with_shape_strings (argv[1], (int) g_strv_length (shapes),
                                                         (const char *const *) shapes, &error)
                : ni == 1 ? load_for_input (argv[1], xs[0], &error) : tl_net_load (argv[1], &error);
  if (!net)
    {
      for (int k = 0; k < ni; k++)
        tl_tensor_free (xs[k]);
      return tl_cli_fail (error);
    }
  int nt = taps ? (int) g_strv_length (taps) : 0;
  const char **names = g_new0 (const char *, nt + 1);
  const char **files = g_new0 (const char *, nt + 1);
  int rc = 0;
  for (int i = 0; i < nt; i++)
    {
      char *eq = strrchr (taps[i], '=');
      if (!eq || eq == taps[i] || !eq[1])
        {
          fprintf (stderr, "tensorlens run: --tap wants NAME=FILE.npy, got '%s'\n", taps[i]);
          rc = 2;
          goto out;
        }
      *eq = '\0';
      names[i] = taps[i];
      files[i] = eq + 1;
    }
  tl_net_result *r = tl_net_run (net, (const tl_tensor *const *) xs, ni, names, nt, 0, &error);
  if (!r)
    {
      rc = tl_cli_fail (error);
      goto out;
    }
  if (output && !tl_npy_save (output, tl_net_result_output (r, 0), &error))
    rc = tl_cli_fail (error);
  if (outdir && rc == 0)
    {
      if (g_mkdir_with_parents (outdir, 0755) != 0)
        {
          fprintf (stderr, "tensorlens run: cannot create %s\n", outdir);
          rc = 1;
        }
      for (int i = 0; i < tl_net_n_outputs (net) && rc == 0; i++)
        {
          g_autofree char *f = file_name_for (outdir, tl_net_output (net, i)->name);
          if (!tl_npy_save (f, tl_net_result_output (r, i), &error))
            rc = tl_cli_fail (error);
        }
    }
  for (int i = 0; i < nt && rc == 0; i++)
    if (!tl_npy_save (files[i], tl_net_result_get (r, names[i]), &error))
      rc = tl_cli_fail (error);
  tl_net_result_free (r);
out:
  for (int k = 0; k < ni; k++)
    tl_tensor_free (xs[k]);
  g_free (names);
  g_free (files);
  tl_net_free (net);
  return rc;
}
