/* tensorlens sample: fit a latent sampler on a bank of latents and write
 * samples, latents in and latents out (decoding them needs the CNN engine). */
#include "commands.h"
#include "error.h"
#include "npy.h"
#include "sampler.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define UNSET G_MININT

typedef struct {
  gboolean tty;
  gboolean shown;
  gint64   last;   /* monotonic µs of the last line drawn */
} progress_state;

/* A one-line progress display on a terminal, redrawn at most 10 times a
 * second; silence otherwise. */
static void
on_progress (const tl_latent_progress *p, gpointer data)
{
  progress_state *st = data;
  gint64 now = g_get_monotonic_time ();
  if (!st->tty || (st->shown && now - st->last < 100000 && p->done > 1))
    return;
  st->last = now;
  if (strcmp (p->stage, "EM") == 0)
    fprintf (stderr, "\rfitting: EM iteration %" G_GINT64_FORMAT " (at most %" G_GINT64_FORMAT
             "), mean log-likelihood %.6f   ", p->done, p->total, p->value);
  else
    fprintf (stderr, "\rfitting: %s iteration %" G_GINT64_FORMAT " (at most %" G_GINT64_FORMAT
             "), %.0f labels changed   ", p->stage, p->done, p->total, p->value);
  fflush (stderr);
  st->shown = TRUE;
}

/* Decimal 0 .. 2^64-1; a sign or anything else is an error. */
static gboolean
parse_seed (const char *text, uint64_t *seed, GError **error)
{
  if (text[0] == '-')
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "seed: '%s' is negative; a seed is an integer 0 .. 18446744073709551615",
                   text);
      return FALSE;
    }
  guint64 v;
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &v, NULL))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "seed: '%s' is not an integer 0 .. 18446744073709551615", text);
      return FALSE;
    }
  *seed = v;
  return TRUE;
}

static int
fail_usage (const char *message)
{
  fprintf (stderr, "tensorlens sample: %s\n(see tensorlens sample --help)\n", message);
  return 2;
}

int
tl_cmd_sample (int argc, char **argv)
{
  g_autofree char *latents = NULL, *output = NULL, *sampler_name = NULL, *seed_text = NULL;
  int levels = UNSET, radius = UNSET, components = UNSET;
  gint64 count = -1;
  tl_sampler_params defaults = tl_sampler_default_params ();
  g_autofree char *levels_help = g_strdup_printf ("pmf: quantisation levels (%d)",
                                                  defaults.pmf.levels);
  g_autofree char *radius_help = g_strdup_printf ("pmf: vicinity radius in levels (%d)",
                                                  defaults.pmf.radius);
  g_autofree char *components_help = g_strdup_printf ("gmm: mixture components (%d)",
                                                      defaults.gmm.components);
  GOptionEntry entries[] = {
    { "latents", 0, 0, G_OPTION_ARG_FILENAME, &latents,
      "Latent bank: .npy float32, latents x dimensions (required)", "Z.npy" },
    { "sampler", 0, 0, G_OPTION_ARG_STRING, &sampler_name,
      "pmf (default), gmm, gaussian (one component) or prior (N(0, I))", "NAME" },
    { "levels", 0, 0, G_OPTION_ARG_INT, &levels, levels_help, "Q" },
    { "radius", 0, 0, G_OPTION_ARG_INT, &radius, radius_help, "R" },
    { "components", 0, 0, G_OPTION_ARG_INT, &components, components_help, "K" },
    { "count", 0, 0, G_OPTION_ARG_INT64, &count, "Number of samples (required)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &seed_text,
      "Seed, 0 .. 2^64-1 (0): fixes the samples and the GMM's initialisation", "S" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Samples: .npy float32, N x d (required)",
      "S.npy" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- sample latents like a latent bank");
  g_option_context_set_summary (ctx,
    "Fits a sampler on the latent bank and writes N samples (latents, not images).\n"
    "The same seed gives the same samples, bit for bit, however they are batched.\n"
    "At most 2 GiB of samples (N x d x 4 bytes) are written at once.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!tl_cli_parse (ctx, &argc, &argv))
    return 2;
  if (argc > 1)
    return fail_usage ("unexpected argument");
  if (!latents || !output || count == -1)
    return fail_usage ("--latents, --count and --output are required");

  GError *error = NULL;
  tl_sampler_params params = defaults;
  if (sampler_name && !tl_sampler_kind_from_name (sampler_name, &params.kind, &error))
    return tl_cli_fail (error);
  gboolean pmf = params.kind == TL_SAMPLER_PMF, gmm = params.kind == TL_SAMPLER_GMM;
  if (!pmf && (levels != UNSET || radius != UNSET))
    return fail_usage ("--levels and --radius apply to --sampler pmf only");
  if (!gmm && components != UNSET)
    return fail_usage ("--components applies to --sampler gmm only");
  if (levels != UNSET)
    params.pmf.levels = levels;
  if (radius != UNSET)
    params.pmf.radius = radius;
  if (components != UNSET)
    params.gmm.components = components;
  uint64_t seed = 0;
  if (seed_text && !parse_seed (seed_text, &seed, &error))
    return tl_cli_fail (error);
  params.gmm.init_seed = seed;

  g_autoptr (tl_tensor) bank = tl_npy_load (latents, &error);
  if (!bank)
    return tl_cli_fail (error);
  if (bank->ndim != 2)
    {
      char buf[128];
      g_set_error (&error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: shape %s, need a 2-D array (latents x dimensions)", latents,
                   tl_shape_str (bank->ndim, bank->shape, buf, sizeof buf));
      return tl_cli_fail (error);
    }
  /* Refuse an unwritable output before a long fit. */
  g_autofree char *outdir = g_path_get_dirname (output);
  if (!g_file_test (outdir, G_FILE_TEST_IS_DIR) || access (outdir, W_OK) != 0)
    {
      g_set_error (&error, TL_ERROR, TL_ERROR_IO,
                   "%s: the directory '%s' does not exist or is not writable", output, outdir);
      return tl_cli_fail (error);
    }
  /* Refuse an impossible count before a long fit. */
  if (!tl_sampler_check_output_size (count, bank->shape[1], &error))
    return tl_cli_fail (error);

  progress_state ps = { isatty (STDERR_FILENO), FALSE, 0 };
  g_autoptr (tl_sampler) sampler = tl_sampler_fit (bank, &params, on_progress, &ps, &error);
  if (ps.shown)
    fputc ('\n', stderr);
  if (!sampler)
    {
      g_prefix_error (&error, "%s: ", latents);
      return tl_cli_fail (error);
    }
  g_autoptr (tl_tensor) samples = tl_sampler_sample_tensor (sampler, seed, 0, count, &error);
  if (!samples || !tl_npy_save (output, samples, &error))
    return tl_cli_fail (error);

  printf ("wrote %" G_GINT64_FORMAT " samples of dimension %" G_GINT64_FORMAT " to %s "
          "(sampler %s", count, bank->shape[1], output, tl_sampler_kind_name (params.kind));
  if (pmf)
    printf (", levels %d, radius %d", params.pmf.levels, params.pmf.radius);
  const tl_gmm *g = tl_sampler_gmm (sampler);
  if (params.kind == TL_SAMPLER_GMM || params.kind == TL_SAMPLER_GAUSSIAN)
    printf (", %d component(s), %d EM iterations%s", tl_gmm_components (g),
            tl_gmm_iterations (g), tl_gmm_converged (g) ? "" : ", NOT converged");
  printf (", seed %" G_GUINT64_FORMAT ")\n", seed);
  return 0;
}
