/* tensorlens sample: fit a latent sampler and draw from it, in two forms
 * sharing one set of options (named as the library's parameters):
 *
 *   tensorlens sample MODEL ... --output GRID.png | LATENTS.npy | DIR/
 *       an autoencoder's latent bank -> sampler -> its decoder (tl_generate):
 *       a grid of decoded samples, the latents themselves, or one PNG per
 *       sample;
 *   tensorlens sample --latents Z.npy ... --output S.npy
 *       latents in, latents out. */
#include "commands.h"
#include "error.h"
#include "generate.h"
#include "npy.h"
#include "sampler-options.h"
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

static int
fail_usage (const char *message)
{
  fprintf (stderr, "tensorlens sample: %s\n(see tensorlens sample --help)\n", message);
  return 2;
}

typedef struct {
  gboolean tty, shown;
} decode_progress;

static void
on_decode_progress (double fraction, const char *stage, void *data)
{
  decode_progress *st = data;
  if (!st->tty)
    return;
  fprintf (stderr, "\r%3d%% %-24s", (int) (100 * fraction + 0.5), stage);
  fflush (stderr);
  st->shown = TRUE;
}

typedef enum { OUT_GRID, OUT_LATENTS, OUT_DIR } out_kind;

/* .png = grid, .npy = latents, a trailing slash or an existing directory =
 * one PNG per sample. The directory must exist and be writable. */
static gboolean
model_output_kind (const char *path, out_kind *k, GError **error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  g_autofree char *dir = NULL;
  if (g_str_has_suffix (path, "/") || g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      *k = OUT_DIR;
      dir = g_strdup (path);
    }
  else if (g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".npy"))
    {
      *k = g_str_has_suffix (lower, ".png") ? OUT_GRID : OUT_LATENTS;
      dir = g_path_get_dirname (path);
    }
  else
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "--output '%s': give GRID.png, LATENTS.npy or a directory DIR/", path);
      return FALSE;
    }
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR) || access (dir, W_OK) != 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO,
                   "--output '%s': the directory '%s' does not exist or is not writable", path,
                   dir);
      return FALSE;
    }
  return TRUE;
}

/* The latents tl_generate decodes: the same sampler, fitted on the card's
 * latent bank, and samples 0 .. count-1 of the seed's stream. */
static tl_tensor *
model_latents (tl_model *model, const tl_generate_params *gp, GError **error)
{
  const tl_card *card = tl_model_card (model);
  g_autoptr (tl_tensor) bank = tl_npy_load (card->latent_bank, error);
  if (!bank)
    return NULL;
  g_autoptr (tl_sampler) sampler = tl_sampler_fit (bank, &gp->sampler, NULL, NULL, error);
  if (!sampler)
    {
      g_prefix_error (error, "%s: ", card->latent_bank);
      return NULL;
    }
  return tl_sampler_sample_tensor (sampler, gp->seed, 0, gp->count, error);
}

static int
run_model (const char *name, const tl_sampler_params *params, uint64_t seed, gint64 count,
           int columns, int cell_size, int spacing, const char *output)
{
  GError *error = NULL;
  out_kind kind;
  if (!model_output_kind (output, &kind, &error))
    return tl_cli_fail (error);
  g_autoptr (tl_model) model = tl_model_get (name, &error);
  if (!model)
    return tl_cli_fail (error);
  if (tl_model_task (model) != TL_TASK_AUTOENCODER)
    {
      g_set_error (&error, TL_ERROR, TL_ERROR_INVALID,
                   "model '%s' is a %s, not an autoencoder: nothing to sample",
                   tl_model_name (model), tl_task_name (tl_model_task (model)));
      return tl_cli_fail (error);
    }
  tl_generate_params gp = tl_generate_default_params ();
  gp.sampler = *params;
  gp.seed = seed;
  if (count < 1 || count > TL_GENERATE_MAX_COUNT)
    {
      g_set_error (&error, TL_ERROR, TL_ERROR_INVALID, "--count %" G_GINT64_FORMAT
                   ": must be 1..%d", count, TL_GENERATE_MAX_COUNT);
      return tl_cli_fail (error);
    }
  gp.count = (int) count;
  if (columns != UNSET)
    gp.columns = columns;
  if (cell_size != UNSET)
    gp.cell_size = cell_size;
  if (spacing != UNSET)
    gp.spacing = spacing;
  int w = 0, h = 0;
  if (!tl_generate_grid_size (model, &gp, &w, &h, &error))
    return tl_cli_fail (error);

  decode_progress ps = { isatty (STDERR_FILENO), FALSE };
  const char *what = "";
  if (kind == OUT_LATENTS)
    {
      g_autoptr (tl_tensor) z = model_latents (model, &gp, &error);
      if (!z || !tl_npy_save (output, z, &error))
        return tl_cli_fail (error);
      what = "the latents of";
    }
  else if (kind == OUT_GRID)
    {
      g_autoptr (tl_image) grid = tl_generate_grid (model, &gp, on_decode_progress, &ps, &error);
      if (ps.shown)
        fputc ('\n', stderr);
      /* the background is opaque: RGB is the whole picture */
      g_autoptr (tl_image) rgb = grid ? tl_image_convert (grid, 3, &error) : NULL;
      if (!rgb || !tl_image_save_png (rgb, output, 8, &error))
        return tl_cli_fail (error);
      what = "a grid of";
    }
  else
    {
      tl_image **samples = tl_generate_samples (model, &gp, on_decode_progress, &ps, &error);
      if (ps.shown)
        fputc ('\n', stderr);
      if (!samples)
        return tl_cli_fail (error);
      gboolean ok = TRUE;
      for (int i = 0; i < gp.count; i++)
        {
          g_autofree char *file = g_strdup_printf ("sample-%04d.png", i);
          g_autofree char *path = g_build_filename (output, file, NULL);
          if (ok && !tl_image_save_png (samples[i], path, 8, &error))
            ok = FALSE;
          tl_image_free (samples[i]);
        }
      g_free (samples);
      if (!ok)
        return tl_cli_fail (error);
      what = "images of";
    }
  printf ("wrote %s %d samples of model %s to %s (sampler %s", what, gp.count,
          tl_model_name (model), output, tl_sampler_kind_name (params->kind));
  if (params->kind == TL_SAMPLER_PMF)
    printf (", levels %d, radius %d", params->pmf.levels, params->pmf.radius);
  if (params->kind == TL_SAMPLER_GMM)
    printf (", %d components", params->gmm.components);
  if (kind == OUT_GRID)
    printf (", %dx%d pixels", w, h);
  printf (", seed %" G_GUINT64_FORMAT ")\n", seed);
  return 0;
}

int
tl_cmd_sample (int argc, char **argv)
{
  g_autofree char *latents = NULL, *output = NULL;
  int columns = UNSET, cell_size = UNSET, spacing = UNSET;
  gint64 count = -1;
  GOptionEntry entries[] = {
    { "latents", 0, 0, G_OPTION_ARG_FILENAME, &latents,
      "Latent bank: .npy float32, latents x dimensions (required)", "Z.npy" },
    { "count", 0, 0, G_OPTION_ARG_INT64, &count, "Number of samples (required)", "N" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "With --latents: samples, .npy float32, N x d. With MODEL: GRID.png, LATENTS.npy or "
      "DIR/ (one PNG per sample)", "OUT" },
    { "columns", 0, 0, G_OPTION_ARG_INT, &columns,
      "MODEL grid: cells per row (4; 0 = ceil(sqrt(N)))", "C" },
    { "cell-size", 0, 0, G_OPTION_ARG_INT, &cell_size,
      "MODEL grid: cell side in pixels (64; 0 = the decoder's output width)", "PX" },
    { "spacing", 0, 0, G_OPTION_ARG_INT, &spacing,
      "MODEL grid: pixels between and around cells (2)", "PX" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL | --latents Z.npy");
  g_option_context_set_summary (ctx,
    "MODEL (an autoencoder: a bundled name such as fmnist-ae, or a card): fits the sampler\n"
    "on the model's latent bank and decodes N samples into a grid (GRID.png), one PNG per\n"
    "sample (DIR/), or writes the latents (LATENTS.npy).\n"
    "--latents Z.npy: fits a sampler on the latent bank and writes N samples (latents).\n"
    "The same seed gives the same samples, bit for bit, however they are batched.\n"
    "At most 2 GiB of samples (N x d x 4 bytes) are written at once.\n"
    "The sampler options are eval-sampling's, with one value each.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_auto (tl_sampler_options) so = { 0 };
  tl_sampler_options_add (&so, ctx, "pmf");
  if (!tl_cli_parse (ctx, &argc, &argv))
    return 2;
  if (argc > 2 || (argc == 2 && latents))
    return fail_usage ("give either MODEL or --latents Z.npy, not both");
  if ((argc != 2 && !latents) || !output || count == -1)
    return fail_usage ("MODEL (or --latents Z.npy), --count and --output are required");
  if (latents && (columns != UNSET || cell_size != UNSET || spacing != UNSET))
    return fail_usage ("--columns, --cell-size and --spacing apply to MODEL only");

  GError *error = NULL;
  g_autoptr (GArray) configs = tl_sampler_options_configs (&so, &error);
  if (!configs)
    return tl_cli_fail (error);
  if (configs->len != 1)
    return fail_usage ("sample draws from one sampler: give one value of --sampler, "
                       "--levels, --radius and --components");
  tl_sampler_params params = g_array_index (configs, tl_sampler_params, 0);
  gboolean pmf = params.kind == TL_SAMPLER_PMF;
  uint64_t seed = 0;
  if (!tl_sampler_options_seed (&so, &seed, &error))
    return tl_cli_fail (error);
  params.gmm.init_seed = seed;
  if (!latents)
    return run_model (argv[1], &params, seed, count, columns, cell_size, spacing, output);

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
