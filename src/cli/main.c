/* tensorlens: command-line front end of libtensorlens. */
#include "commands.h"
#include "tl-config.h"

#include <stdio.h>
#include <string.h>

static const tl_command commands[] = {
  { "render", "Draw a saliency map over an image (heatmap, map, overlay, masked)", tl_cmd_render },
  { "saliency", "Saliency map from a feature tensor (EigenCAM, TSM, ...)", tl_cmd_saliency },
  { "sample", "Sample latents like a latent bank (PMF vicinity, GMM, Gaussian, prior)", tl_cmd_sample },
  { "bench-saliency", "Time the saliency maths per method (for docs/benchmarks.md)", tl_cmd_bench_saliency },
  { "eval", "Faithfulness of saliency methods over a data set (AD, IC, deletion, insertion)", tl_cmd_eval },
  { "eval-sampling", "Measure latent samplers against held-out latents (W2, W1, memorisation, time)", tl_cmd_eval_sampling },
  { "info", "Show a model's inputs, outputs, layers and default target layer", tl_cmd_info },
  { "run", "Run a model on a .npy tensor; write outputs and taps as .npy", tl_cmd_run },
  { "bench", "Time a model's forward pass (median_ms=...)", tl_cmd_bench },
  { NULL, NULL, NULL },
};

gboolean
tl_cli_parse (GOptionContext *ctx, int *argc, char ***argv)
{
  GError *error = NULL;
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      fprintf (stderr, "tensorlens: %s\n(see --help)\n", error->message);
      g_error_free (error);
      return FALSE;
    }
  return TRUE;
}

int
tl_cli_fail (GError *error)
{
  fprintf (stderr, "tensorlens: %s\n", error ? error->message : "failed");
  g_clear_error (&error);
  return 1;
}

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage: tensorlens COMMAND [OPTIONS...]\n"
           "       tensorlens --version | --help\n\n"
           "Label-free CNN saliency and autoencoder latent sampling.\n\n"
           "Commands:\n");
  for (const tl_command *c = commands; c->name; c++)
    fprintf (out, "  %-16s %s\n", c->name, c->summary);
  fprintf (out, "\nRun 'tensorlens COMMAND --help' for a command's options.\n");
}

int
main (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("tensorlens %s\n", TL_VERSION);
      return 0;
    }
  for (const tl_command *c = commands; c->name; c++)
    if (strcmp (argv[1], c->name) == 0)
      return c->run (argc - 1, argv + 1);
  fprintf (stderr, "tensorlens: unknown command '%s'\n\n", argv[1]);
  usage (stderr);
  return 2;
}
