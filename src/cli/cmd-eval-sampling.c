/* tensorlens eval-sampling: fit each sampler on a training bank, sample, and
 * measure the samples against held-out latents in latent space (sliced W2,
 * mean W1, Fréchet distance, k-NN precision/recall, memorisation), with fit
 * and sampling wall times; several seeds give a mean and a spread. */
#include "commands.h"
#include "error.h"
#include "evaluate.h"
#include "npy.h"
#include "rng.h"
#include "sampler.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_STATS 14
static const char *const stat_names[N_STATS] = {
  "fit_seconds", "sample_seconds", "sliced_w2", "mean_w1", "frechet", "precision", "recall",
  "nn_median_samples", "nn_median_heldout", "nn_q05_samples", "below_heldout_q05",
  "em_iterations", "fit_cpu_seconds", "sample_cpu_seconds",
};

/* CPU seconds of this process: steadier than wall time on a shared machine. */
static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
  tl_sampler_params params;
  char label[64];
  gboolean bank_copy;   /* the reference row: a random subset of the bank itself */
  double sum[N_STATS], sumsq[N_STATS];
} config;

typedef struct {
  gboolean tty;
  gboolean shown;
  gint64   last;
  const char *label;
} progress_state;

static void
on_progress (const tl_latent_progress *p, gpointer data)
{
  progress_state *st = data;
  gint64 now = g_get_monotonic_time ();
  if (!st->tty || (st->shown && now - st->last < 100000 && p->done > 1))
    return;
  st->last = now;
  fprintf (stderr, "\r%s: %s iteration %" G_GINT64_FORMAT "        ", st->label, p->stage,
           p->done);
  fflush (stderr);
  st->shown = TRUE;
}

/* "20,50,100" → ints; each must parse and satisfy value >= min. */
static GArray *
parse_list (const char *text, const char *name, int min, GError **error)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (int));
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  for (char **p = parts; *p; p++)
    {
      gint64 v;
      if (!g_ascii_string_to_signed (g_strstrip (*p), 10, min, G_MAXINT, &v, NULL))
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "%s: '%s' is not an integer >= %d", name, *p, min);
          g_array_free (a, TRUE);
          return NULL;
        }
      int iv = (int) v;
      g_array_append_val (a, iv);
    }
  if (a->len == 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: empty list", name);
      g_array_free (a, TRUE);
      return NULL;
    }
  return a;
}

static tl_tensor *
load_2d (const char *path, GError **error)
{
  tl_tensor *t = tl_npy_load (path, error);
  if (t && t->ndim != 2)
    {
      char buf[128];
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: shape %s, need a 2-D array (latents x dimensions)", path,
                   tl_shape_str (t->ndim, t->shape, buf, sizeof buf));
      g_clear_pointer (&t, tl_tensor_free);
    }
  return t;
}

/* count rows of the bank, drawn uniformly with replacement by tl_rng(seed). */
static tl_tensor *
bank_copy (const tl_tensor *bank, int64_t count, uint64_t seed, GError **error)
{
  int64_t shape[2] = { count, bank->shape[1] };
  tl_tensor *t = tl_tensor_new (2, shape, error);
  if (!t)
    return NULL;
  tl_rng rng;
  tl_rng_init (&rng, seed);
  const int64_t n = bank->shape[0], d = bank->shape[1];
  for (int64_t k = 0; k < count; k++)
    {
      int64_t i = MIN ((int64_t) floor (tl_rng_uniform (&rng) * (double) n), n - 1);
      memcpy (t->data + k * d, bank->data + i * d, d * sizeof (float));
    }
  return t;
}

static gboolean
run_one (config *c, const tl_tensor *train, const tl_tensor *test, int64_t count, uint64_t seed,
         gboolean tty, GError **error)
{
  double v[N_STATS] = { 0 };
  progress_state ps = { tty, FALSE, 0, c->label };
  g_autoptr (tl_tensor) samples = NULL;
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_seconds ();
  if (c->bank_copy)
    {
      samples = bank_copy (train, count, seed, error);
      v[0] = 0;
    }
  else
    {
      tl_sampler_params p = c->params;
      p.gmm.init_seed = seed;
      g_autoptr (tl_sampler) s = tl_sampler_fit (train, &p, on_progress, &ps, error);
      if (ps.shown)
        fputc ('\n', stderr);
      if (!s)
        return FALSE;
      gint64 t1 = g_get_monotonic_time ();
      double c1 = cpu_seconds ();
      v[0] = (t1 - t0) / 1e6;
      v[12] = c1 - c0;
      c0 = c1;
      if (tl_sampler_gmm (s) && c->params.kind != TL_SAMPLER_PRIOR)
        v[11] = tl_gmm_iterations (tl_sampler_gmm (s));
      t0 = t1;
      samples = tl_sampler_sample_tensor (s, seed, 0, count, error);
    }
  if (!samples)
    return FALSE;
  v[1] = c->bank_copy ? 0 : (g_get_monotonic_time () - t0) / 1e6;
  v[13] = c->bank_copy ? 0 : cpu_seconds () - c0;
  tl_latent_scores sc;
  if (!tl_latent_evaluate (samples->data, count, train->data, train->shape[0], test->data,
                           test->shape[0], train->shape[1], &sc, error))
    return FALSE;
  v[2] = sc.sliced_w2;
  v[3] = sc.mean_w1;
  v[4] = sc.frechet;
  v[5] = sc.precision;
  v[6] = sc.recall;
  v[7] = sc.memo.samples[2];
  v[8] = sc.memo.heldout[2];
  v[9] = sc.memo.samples[0];
  v[10] = sc.memo.below_heldout_q05;
  for (int i = 0; i < N_STATS; i++)
    {
      c->sum[i] += v[i];
      c->sumsq[i] += v[i] * v[i];
    }
  return TRUE;
}

static double
mean_of (const config *c, int i, int seeds)
{
  return c->sum[i] / seeds;
}

static double
sd_of (const config *c, int i, int seeds)
{
  if (seeds < 2)
    return 0;
  double m = c->sum[i] / seeds;
  return sqrt (MAX (0.0, (c->sumsq[i] - seeds * m * m) / (seeds - 1)));
}

static gboolean
write_json (const char *path, GArray *configs, int seeds, uint64_t seed, int64_t count,
            GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "seeds");
  json_builder_add_int_value (b, seeds);
  /* A string: JSON numbers cannot hold every 64-bit seed exactly. */
  g_autofree char *seed_str = g_strdup_printf ("%" G_GUINT64_FORMAT, seed);
  json_builder_set_member_name (b, "first_seed");
  json_builder_add_string_value (b, seed_str);
  json_builder_set_member_name (b, "count");
  json_builder_add_int_value (b, count);
  json_builder_set_member_name (b, "results");
  json_builder_begin_array (b);
  for (guint k = 0; k < configs->len; k++)
    {
      const config *c = &g_array_index (configs, config, k);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "sampler");
      json_builder_add_string_value (b, c->bank_copy ? "bank-copy"
                                                     : tl_sampler_kind_name (c->params.kind));
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, c->label);
      if (!c->bank_copy && c->params.kind == TL_SAMPLER_PMF)
        {
          json_builder_set_member_name (b, "levels");
          json_builder_add_int_value (b, c->params.pmf.levels);
          json_builder_set_member_name (b, "radius");
          json_builder_add_int_value (b, c->params.pmf.radius);
        }
      if (!c->bank_copy && c->params.kind == TL_SAMPLER_GMM)
        {
          json_builder_set_member_name (b, "components");
          json_builder_add_int_value (b, c->params.gmm.components);
        }
      for (int i = 0; i < N_STATS; i++)
        {
          json_builder_set_member_name (b, stat_names[i]);
          json_builder_add_double_value (b, mean_of (c, i, seeds));
          g_autofree char *sd = g_strconcat (stat_names[i], "_sd", NULL);
          json_builder_set_member_name (b, sd);
          json_builder_add_double_value (b, sd_of (c, i, seeds));
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  if (!json_generator_to_file (gen, path, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

static void
print_table (GArray *configs, int seeds)
{
  printf ("%-28s %9s %9s %9s %9s %9s %6s %6s %9s %9s %7s\n", "sampler", "fit ms", "sample ms",
          "slicedW2", "meanW1", "Frechet", "prec", "recall", "nn-med", "nn-heldout", "<q05");
  for (guint k = 0; k < configs->len; k++)
    {
      const config *c = &g_array_index (configs, config, k);
      printf ("%-28s %9.2f %9.2f %9.4f %9.4f %9.4f %6.3f %6.3f %9.4f %9.4f %7.3f\n", c->label,
              1e3 * mean_of (c, 0, seeds), 1e3 * mean_of (c, 1, seeds), mean_of (c, 2, seeds),
              mean_of (c, 3, seeds), mean_of (c, 4, seeds), mean_of (c, 5, seeds),
              mean_of (c, 6, seeds), mean_of (c, 7, seeds), mean_of (c, 8, seeds),
              mean_of (c, 10, seeds));
      if (seeds > 1)
        printf ("%-28s %9.2f %9.2f %9.4f %9.4f %9.4f %6.3f %6.3f %9.4f %9.4f %7.3f\n", "  (sd)",
                1e3 * sd_of (c, 0, seeds), 1e3 * sd_of (c, 1, seeds), sd_of (c, 2, seeds),
                sd_of (c, 3, seeds), sd_of (c, 4, seeds), sd_of (c, 5, seeds),
                sd_of (c, 6, seeds), sd_of (c, 7, seeds), sd_of (c, 8, seeds),
                sd_of (c, 10, seeds));
    }
}

static int
fail_usage (const char *message)
{
  fprintf (stderr, "tensorlens eval-sampling: %s\n(see tensorlens eval-sampling --help)\n",
           message);
  return 2;
}

int
tl_cmd_eval_sampling (int argc, char **argv)
{
  g_autofree char *latents = NULL, *test_path = NULL, *samplers = NULL, *levels = NULL;
  g_autofree char *radius = NULL, *components = NULL, *seed_text = NULL, *json = NULL;
  gint64 count = 10000;
  int seeds = 1;
  gboolean no_reference = FALSE;
  tl_sampler_params defaults = tl_sampler_default_params ();
  g_autofree char *def_levels = g_strdup_printf ("%d", defaults.pmf.levels);
  g_autofree char *def_radius = g_strdup_printf ("%d", defaults.pmf.radius);
  g_autofree char *def_components = g_strdup_printf ("%d", defaults.gmm.components);
  g_autofree char *levels_help = g_strdup_printf ("pmf: levels to try (%s)", def_levels);
  g_autofree char *radius_help = g_strdup_printf ("pmf: radii to try (%s)", def_radius);
  g_autofree char *components_help = g_strdup_printf ("gmm: components to try (%s)",
                                                      def_components);
  GOptionEntry entries[] = {
    { "latents", 0, 0, G_OPTION_ARG_FILENAME, &latents,
      "Training latent bank: .npy float32, n x d (required)", "TRAIN.npy" },
    { "test", 0, 0, G_OPTION_ARG_FILENAME, &test_path,
      "Held-out latents: .npy float32, m x d (required)", "TEST.npy" },
    { "sampler", 0, 0, G_OPTION_ARG_STRING, &samplers,
      "Comma-separated samplers (pmf,gmm,gaussian); prior is also accepted", "LIST" },
    { "levels", 0, 0, G_OPTION_ARG_STRING, &levels, levels_help, "Q,..." },
    { "radius", 0, 0, G_OPTION_ARG_STRING, &radius, radius_help, "R,..." },
    { "components", 0, 0, G_OPTION_ARG_STRING, &components, components_help, "K,..." },
    { "count", 0, 0, G_OPTION_ARG_INT64, &count, "Samples per run (10000)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &seed_text, "First seed (0)", "S" },
    { "seeds", 0, 0, G_OPTION_ARG_INT, &seeds, "Runs with seeds S .. S+K-1 (1)", "K" },
    { "no-reference", 0, 0, G_OPTION_ARG_NONE, &no_reference,
      "Leave out the bank-copy reference row", NULL },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Also write the results as JSON", "FILE" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- measure latent samplers");
  g_option_context_set_summary (ctx,
    "Fits each sampler on the training bank, draws N samples and measures them against\n"
    "held-out latents, in latent space: sliced W2 and mean per-dimension W1, the Frechet\n"
    "distance of Gaussian fits, k-NN precision/recall (k = 3, held-out as the real set),\n"
    "and memorisation (median distance to the nearest training latent, for samples and\n"
    "for held-out latents; <q05 = fraction of samples nearer than the held-out 5% quantile).\n"
    "The 'bank copy' row resamples the bank itself: the floor of W2/W1 at this N, and what\n"
    "pure memorisation looks like. Times are wall-clock milliseconds (seconds in the JSON).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!tl_cli_parse (ctx, &argc, &argv))
    return 2;
  if (argc > 1)
    return fail_usage ("unexpected argument");
  if (!latents || !test_path)
    return fail_usage ("--latents and --test are required");
  if (seeds < 1 || seeds > 1000)
    return fail_usage ("--seeds must be 1 .. 1000");

  GError *error = NULL;
  uint64_t seed = 0;
  if (seed_text)
    {
      guint64 v;
      if (seed_text[0] == '-' || !g_ascii_string_to_unsigned (seed_text, 10, 0, G_MAXUINT64, &v,
                                                              NULL))
        {
          g_set_error (&error, TL_ERROR, TL_ERROR_INVALID,
                       "seed: '%s' is not an integer 0 .. 18446744073709551615", seed_text);
          return tl_cli_fail (error);
        }
      seed = v;
    }
  if (seed > G_MAXUINT64 - (uint64_t) seeds)
    return fail_usage ("--seed + --seeds passes 2^64");
  g_autoptr (GArray) lv = parse_list (levels ? levels : def_levels, "levels", 1, &error);
  g_autoptr (GArray) rv = lv ? parse_list (radius ? radius : def_radius, "radius", 0, &error) : NULL;
  g_autoptr (GArray) kv = rv ? parse_list (components ? components : def_components,
                                           "components", 1, &error) : NULL;
  if (!kv)
    return tl_cli_fail (error);

  g_autoptr (tl_tensor) train = load_2d (latents, &error);
  if (!train)
    return tl_cli_fail (error);
  g_autoptr (tl_tensor) test = load_2d (test_path, &error);
  if (!test)
    return tl_cli_fail (error);
  if (test->shape[1] != train->shape[1])
    {
      g_set_error (&error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: latents of dimension %" G_GINT64_FORMAT ", but the bank %s has %"
                   G_GINT64_FORMAT, test_path, test->shape[1], latents, train->shape[1]);
      return tl_cli_fail (error);
    }
  if (!tl_sampler_check_output_size (count, train->shape[1], &error))
    return tl_cli_fail (error);
  if (count < 4)
    return fail_usage ("--count must be at least 4 (k-NN with k = 3)");

  g_autoptr (GArray) configs = g_array_new (FALSE, TRUE, sizeof (config));
  if (!no_reference)
    {
      config c = { .bank_copy = TRUE };
      g_strlcpy (c.label, "bank copy (reference)", sizeof c.label);
      g_array_append_val (configs, c);
    }
  g_auto (GStrv) names = g_strsplit (samplers ? samplers : "pmf,gmm,gaussian", ",", -1);
  for (char **nm = names; *nm; nm++)
    {
      config c = { .params = tl_sampler_default_params () };
      if (!tl_sampler_kind_from_name (g_strstrip (*nm), &c.params.kind, &error))
        return tl_cli_fail (error);
      if (c.params.kind == TL_SAMPLER_PMF)
        for (guint a = 0; a < lv->len; a++)
          for (guint r = 0; r < rv->len; r++)
            {
              c.params.pmf.levels = g_array_index (lv, int, a);
              c.params.pmf.radius = g_array_index (rv, int, r);
              g_snprintf (c.label, sizeof c.label, "pmf levels=%d radius=%d",
                          c.params.pmf.levels, c.params.pmf.radius);
              g_array_append_val (configs, c);
            }
      else if (c.params.kind == TL_SAMPLER_GMM)
        for (guint a = 0; a < kv->len; a++)
          {
            c.params.gmm.components = g_array_index (kv, int, a);
            g_snprintf (c.label, sizeof c.label, "gmm components=%d", c.params.gmm.components);
            g_array_append_val (configs, c);
          }
      else
        {
          g_strlcpy (c.label, tl_sampler_kind_name (c.params.kind), sizeof c.label);
          g_array_append_val (configs, c);
        }
    }

  gboolean tty = isatty (STDERR_FILENO);
  for (guint k = 0; k < configs->len; k++)
    for (int s = 0; s < seeds; s++)
      {
        config *c = &g_array_index (configs, config, k);
        if (!run_one (c, train, test, count, seed + (uint64_t) s, tty, &error))
          {
            g_prefix_error (&error, "%s (seed %" G_GUINT64_FORMAT "): ", c->label,
                            seed + (uint64_t) s);
            return tl_cli_fail (error);
          }
      }
  printf ("%" G_GINT64_FORMAT " training latents, %" G_GINT64_FORMAT " held-out, d = %"
          G_GINT64_FORMAT ", %" G_GINT64_FORMAT " samples per run, %d seed(s) from %"
          G_GUINT64_FORMAT "%s\n", train->shape[0], test->shape[0], train->shape[1], count,
          seeds, seed, seeds > 1 ? "; mean, then (sd)" : "");
  print_table (configs, seeds);
  if (json && !write_json (json, configs, seeds, seed, count, &error))
    return tl_cli_fail (error);
  return 0;
}
