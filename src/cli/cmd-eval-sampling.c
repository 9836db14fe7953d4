/* tensorlens eval-sampling: fit each sampler on a training bank, sample, and
 * measure the samples, with fit and sampling wall times; several seeds give
 * a mean and a spread. Two forms:
 *
 *   eval-sampling MODEL --test DATA [--feature-model F|none]
 *       an autoencoder: its latent bank is the training set, the held-out
 *       images DATA (IDX file or directory of images) are encoded into the
 *       held-out latents, and every sample set is also decoded and passed
 *       through the feature network (the card's autoencoder.feature_model
 *       unless F): FID, precision and recall against the held-out images;
 *   eval-sampling --latents TRAIN.npy --test TEST.npy
 *       latents only.
 *
 * Latent-space measures in both forms: sliced W2, mean W1, Fréchet distance,
 * k-NN precision/recall, memorisation. */
#include "ae-decode.h"
#include "ae-images.h"
#include "commands.h"
#include "error.h"
#include "evaluate.h"
#include "fid.h"
#include "model.h"
#include "npy.h"
#include "precision-recall.h"
#include "rng.h"
#include "sampler-options.h"
#include "sampler.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
  S_FIT, S_SAMPLE, S_W2, S_W1, S_FRECHET, S_PREC, S_REC, S_NN_S, S_NN_H, S_NN_Q05, S_BELOW,
  S_EM, S_FIT_CPU, S_SAMPLE_CPU, S_FID, S_FPREC, S_FREC, N_STATS
};
static const char *const stat_names[N_STATS] = {
  "fit_seconds", "sample_seconds", "sliced_w2", "mean_w1", "frechet", "precision", "recall",
  "nn_median_samples", "nn_median_heldout", "nn_q05_samples", "below_heldout_q05",
  "em_iterations", "fit_cpu_seconds", "sample_cpu_seconds",
  "fid", "feature_precision", "feature_recall",
};
#define N_LATENT_STATS S_FID   /* the image measures follow */

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

/* MODEL form: what turns samples into images and features. */
typedef struct {
  tl_model       *model;      /* the autoencoder, owned by the caller */
  tl_feature_net *features;   /* NULL: latent measures only */
  tl_tensor      *real;       /* features of the held-out images */
  double         *real_radius;/* their k-NN radii (k = 3), computed once */
} image_side;

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

/* FID, precision and recall of the decoded samples in feature space. */
static gboolean
image_measures (const image_side *im, const tl_tensor *samples, double *v, GError **error)
{
  const int64_t n = samples->shape[0];
  g_autoptr (tl_tensor) images = tl_ae_decode (im->model, samples->data, n, TL_AE_BATCH,
                                                 error);
  g_autoptr (tl_tensor) feats = images ? tl_feature_net_run (im->features, images, error)
                                       : NULL;
  if (!feats)
    return FALSE;
  const int64_t F = feats->shape[1], nr = im->real->shape[0];
  return tl_fid (feats->data, n, im->real->data, nr, F, &v[S_FID], error)
         && tl_precision_recall_cached (im->real->data, nr, im->real_radius, feats->data, n,
                                        F, TL_PRECISION_RECALL_DEFAULT_K, &v[S_FPREC],
                                        &v[S_FREC], error);
}

static gboolean
run_one (config *c, const tl_tensor *train, const tl_tensor *test, const image_side *im,
         int64_t count, uint64_t seed, gboolean tty, GError **error)
{
  double v[N_STATS] = { 0 };
  progress_state ps = { tty, FALSE, 0, c->label };
  g_autoptr (tl_tensor) samples = NULL;
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_seconds ();
  if (c->bank_copy)
    samples = bank_copy (train, count, seed, error);
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
      v[S_FIT] = (t1 - t0) / 1e6;
      v[S_FIT_CPU] = c1 - c0;
      c0 = c1;
      if (tl_sampler_gmm (s) && c->params.kind != TL_SAMPLER_PRIOR)
        v[S_EM] = tl_gmm_iterations (tl_sampler_gmm (s));
      t0 = t1;
      samples = tl_sampler_sample_tensor (s, seed, 0, count, error);
    }
  if (!samples)
    return FALSE;
  v[S_SAMPLE] = c->bank_copy ? 0 : (g_get_monotonic_time () - t0) / 1e6;
  v[S_SAMPLE_CPU] = c->bank_copy ? 0 : cpu_seconds () - c0;
  tl_latent_scores sc;
  if (!tl_latent_evaluate (samples->data, count, train->data, train->shape[0], test->data,
                           test->shape[0], train->shape[1], &sc, error))
    return FALSE;
  v[S_W2] = sc.sliced_w2;
  v[S_W1] = sc.mean_w1;
  v[S_FRECHET] = sc.frechet;
  v[S_PREC] = sc.precision;
  v[S_REC] = sc.recall;
  v[S_NN_S] = sc.memo.samples[2];
  v[S_NN_H] = sc.memo.heldout[2];
  v[S_NN_Q05] = sc.memo.samples[0];
  v[S_BELOW] = sc.memo.below_heldout_q05;
  if (im && im->features && !image_measures (im, samples, v, error))
    return FALSE;
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

typedef struct {
  const char *model, *feature_model, *feature_tensor, *test;
  int64_t     ntrain, ntest, d, count, feature_dim;
  int         seeds;
  uint64_t    seed;
} run_info;

static gboolean
write_json (const char *path, GArray *configs, const run_info *ri, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "seeds");
  json_builder_add_int_value (b, ri->seeds);
  /* A string: JSON numbers cannot hold every 64-bit seed exactly. */
  g_autofree char *seed_str = g_strdup_printf ("%" G_GUINT64_FORMAT, ri->seed);
  json_builder_set_member_name (b, "first_seed");
  json_builder_add_string_value (b, seed_str);
  json_builder_set_member_name (b, "count");
  json_builder_add_int_value (b, ri->count);
  json_builder_set_member_name (b, "train");
  json_builder_add_int_value (b, ri->ntrain);
  json_builder_set_member_name (b, "heldout");
  json_builder_add_int_value (b, ri->ntest);
  json_builder_set_member_name (b, "dim");
  json_builder_add_int_value (b, ri->d);
  if (ri->model)
    {
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, ri->model);
      json_builder_set_member_name (b, "test");
      json_builder_add_string_value (b, ri->test);
    }
  if (ri->feature_model)
    {
      json_builder_set_member_name (b, "feature_model");
      json_builder_add_string_value (b, ri->feature_model);
      json_builder_set_member_name (b, "feature_tensor");
      json_builder_add_string_value (b, ri->feature_tensor);
      json_builder_set_member_name (b, "feature_dim");
      json_builder_add_int_value (b, ri->feature_dim);
    }
  const int n_stats = ri->feature_model ? N_STATS : N_LATENT_STATS;
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
      for (int i = 0; i < n_stats; i++)
        {
          json_builder_set_member_name (b, stat_names[i]);
          json_builder_add_double_value (b, mean_of (c, i, ri->seeds));
          g_autofree char *sd = g_strconcat (stat_names[i], "_sd", NULL);
          json_builder_set_member_name (b, sd);
          json_builder_add_double_value (b, sd_of (c, i, ri->seeds));
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
print_row (const char *label, const config *c, double (*f) (const config *, int, int),
           int seeds, gboolean images)
{
  printf ("%-28s %9.2f %9.2f %9.4f %9.4f %9.4f %6.3f %6.3f %9.4f %9.4f %7.3f", label,
          1e3 * f (c, S_FIT, seeds), 1e3 * f (c, S_SAMPLE, seeds), f (c, S_W2, seeds),
          f (c, S_W1, seeds), f (c, S_FRECHET, seeds), f (c, S_PREC, seeds),
          f (c, S_REC, seeds), f (c, S_NN_S, seeds), f (c, S_NN_H, seeds),
          f (c, S_BELOW, seeds));
  if (images)
    printf (" %9.3f %6.3f %6.3f", f (c, S_FID, seeds), f (c, S_FPREC, seeds),
            f (c, S_FREC, seeds));
  putchar ('\n');
}

static void
print_table (GArray *configs, int seeds, gboolean images)
{
  printf ("%-28s %9s %9s %9s %9s %9s %6s %6s %9s %9s %7s", "sampler", "fit ms", "sample ms",
          "slicedW2", "meanW1", "Frechet", "prec", "recall", "nn-med", "nn-heldout", "<q05");
  if (images)
    printf (" %9s %6s %6s", "FID", "f-prec", "f-rec");
  putchar ('\n');
  for (guint k = 0; k < configs->len; k++)
    {
      const config *c = &g_array_index (configs, config, k);
      print_row (c->label, c, mean_of, seeds, images);
      if (seeds > 1)
        print_row ("  (sd)", c, sd_of, seeds, images);
    }
}

static int
fail_usage (const char *message)
{
  fprintf (stderr, "tensorlens eval-sampling: %s\n(see tensorlens eval-sampling --help)\n",
           message);
  return 2;
}

/* MODEL form: the bank, the held-out latents (encoded DATA) and, unless
 * feature_model is "none", the feature network and the held-out features. */
static gboolean
load_model_side (const char *name, const char *data, int64_t test_count,
                 const char *feature_model, tl_model **model, tl_tensor **train,
                 tl_tensor **test, image_side *im, GError **error)
{
  *model = tl_model_get (name, error);
  if (!*model)
    return FALSE;
  const tl_card *card = tl_model_card (*model);
  if (!card || card->task != TL_TASK_AUTOENCODER)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "model '%s' is not an autoencoder: it has no latent space to sample", name);
      return FALSE;
    }
  im->model = *model;
  *train = load_2d (card->latent_bank, error);
  if (!*train)
    return FALSE;
  if ((*train)->shape[1] != card->latent_dim)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: latents of dimension %"
                   G_GINT64_FORMAT ", the card says %d", card->latent_bank, (*train)->shape[1],
                   card->latent_dim);
      return FALSE;
    }
  g_autoptr (tl_tensor) images = tl_ae_load_images (card, data, test_count, error);
  if (!images || images->shape[0] < 4)
    {
      if (images)
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: %" G_GINT64_FORMAT
                     " images; need at least 4 (k-NN with k = 3)", data, images->shape[0]);
      return FALSE;
    }
  *test = tl_ae_encode (card, images, error);
  if (!*test)
    return FALSE;
  const char *fm = feature_model ? feature_model : card->feature_model;
  if (!fm || strcmp (fm, "none") == 0)
    return TRUE;
  im->features = tl_feature_net_new (fm, card->feature_crop, error);
  if (im->features)
    im->real = tl_feature_net_run (im->features, images, error);
  if (im->real)
    im->real_radius = tl_precision_recall_radii (im->real->data, im->real->shape[0],
                                                 im->real->shape[1],
                                                 TL_PRECISION_RECALL_DEFAULT_K, error);
  return im->real_radius != NULL;
}

int
tl_cmd_eval_sampling (int argc, char **argv)
{
  g_autofree char *latents = NULL, *test_path = NULL, *json = NULL, *feature_model = NULL;
  gint64 count = 10000, test_count = 0;
  int seeds = 1;
  gboolean no_reference = FALSE;
  GOptionEntry entries[] = {
    { "latents", 0, 0, G_OPTION_ARG_FILENAME, &latents,
      "Without MODEL: training latent bank, .npy float32, n x d", "TRAIN.npy" },
    { "test", 0, 0, G_OPTION_ARG_FILENAME, &test_path,
      "Held-out data (required): with MODEL an IDX image file or a directory of PNG/JPEG "
      "images; else latents, .npy float32, m x d", "DATA" },
    { "test-count", 0, 0, G_OPTION_ARG_INT64, &test_count,
      "MODEL: use the first M held-out images (0 = all)", "M" },
    { "feature-model", 0, 0, G_OPTION_ARG_FILENAME, &feature_model,
      "MODEL: feature network for FID/precision/recall (the card's feature_model; "
      "'none' = latent measures only)", "F" },
    { "count", 0, 0, G_OPTION_ARG_INT64, &count, "Samples per run (10000)", "N" },
    { "seeds", 0, 0, G_OPTION_ARG_INT, &seeds, "Runs with seeds S .. S+K-1 (1)", "K" },
    { "no-reference", 0, 0, G_OPTION_ARG_NONE, &no_reference,
      "Leave out the bank-copy reference row", NULL },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Also write the results as JSON", "FILE" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL --test DATA | --latents "
                                                         "TRAIN.npy --test TEST.npy");
  g_option_context_set_summary (ctx,
    "Fits each sampler on the training bank, draws N samples and measures them against\n"
    "held-out data. In latent space: sliced W2 and mean per-dimension W1, the Frechet\n"
    "distance of Gaussian fits, k-NN precision/recall (k = 3, held-out as the real set),\n"
    "and memorisation (median distance to the nearest training latent, for samples and\n"
    "for held-out latents; <q05 = fraction of samples nearer than the held-out 5% quantile).\n"
    "MODEL (an autoencoder): the bank is the card's latent bank, DATA are held-out images\n"
    "(encoded for the latent measures), and the decoded samples also get FID, precision\n"
    "and recall (k = 3) in the feature network's space against DATA.\n"
    "The 'bank copy' row resamples the bank itself (decoded: reconstructions of training\n"
    "images): the floor of W2/W1 at this N, and what pure memorisation looks like.\n"
    "Times are wall-clock milliseconds (seconds in the JSON).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_auto (tl_sampler_options) so = { 0 };
  tl_sampler_options_add (&so, ctx, "pmf,gmm,gaussian");
  if (!tl_cli_parse (ctx, &argc, &argv))
    return 2;
  if (argc > 2 || (argc == 2 && latents))
    return fail_usage ("give either MODEL or --latents TRAIN.npy, not both");
  if ((argc != 2 && !latents) || !test_path)
    return fail_usage ("MODEL (or --latents) and --test are required");
  if (latents && (feature_model || test_count))
    return fail_usage ("--feature-model and --test-count apply to MODEL only");
  if (seeds < 1 || seeds > 1000)
    return fail_usage ("--seeds must be 1 .. 1000");

  GError *error = NULL;
  uint64_t seed = 0;
  if (!tl_sampler_options_seed (&so, &seed, &error))
    return tl_cli_fail (error);
  if (seed > G_MAXUINT64 - (uint64_t) seeds)
    return fail_usage ("--seed + --seeds passes 2^64");
  g_autoptr (GArray) params = tl_sampler_options_configs (&so, &error);
  if (!params)
    return tl_cli_fail (error);
  if (!tl_sampler_check_output_size (count, 1, &error))
    return tl_cli_fail (error);
  if (count < 4)
    return fail_usage ("--count must be at least 4 (k-NN with k = 3)");

  g_autoptr (tl_model) model = NULL;
  g_autoptr (tl_tensor) train = NULL, test = NULL;
  image_side im = { 0 };
  if (!latents)
    {
      if (count > TL_AE_MAX_IMAGES)
        return fail_usage ("--count: at most 262144 decoded samples per run");
      gboolean ok = load_model_side (argv[1], test_path, test_count, feature_model, &model,
                                     &train, &test, &im, &error);
      if (!ok)
        {
          tl_feature_net_free (im.features);
          tl_tensor_free (im.real);
          g_free (im.real_radius);
          return tl_cli_fail (error);
        }
    }
  else
    {
      train = load_2d (latents, &error);
      test = train ? load_2d (test_path, &error) : NULL;
      if (!test)
        return tl_cli_fail (error);
      if (test->shape[1] != train->shape[1])
        {
          g_set_error (&error, TL_ERROR, TL_ERROR_INVALID,
                       "%s: latents of dimension %" G_GINT64_FORMAT ", but the bank %s has %"
                       G_GINT64_FORMAT, test_path, test->shape[1], latents, train->shape[1]);
          return tl_cli_fail (error);
        }
    }
  if (!tl_sampler_check_output_size (count, train->shape[1], &error))
    return tl_cli_fail (error);

  g_autoptr (GArray) configs = g_array_new (FALSE, TRUE, sizeof (config));
  if (!no_reference)
    {
      config c = { .bank_copy = TRUE };
      g_strlcpy (c.label, "bank copy (reference)", sizeof c.label);
      g_array_append_val (configs, c);
    }
  for (guint k = 0; k < params->len; k++)
    {
      config c = { .params = g_array_index (params, tl_sampler_params, k) };
      tl_sampler_params_label (&c.params, c.label, sizeof c.label);
      g_array_append_val (configs, c);
    }

  gboolean tty = isatty (STDERR_FILENO), ok = TRUE;
  for (guint k = 0; ok && k < configs->len; k++)
    for (int s = 0; ok && s < seeds; s++)
      {
        config *c = &g_array_index (configs, config, k);
        ok = run_one (c, train, test, latents ? NULL : &im, count, seed + (uint64_t) s, tty,
                      &error);
        if (!ok)
          g_prefix_error (&error, "%s (seed %" G_GUINT64_FORMAT "): ", c->label,
                          seed + (uint64_t) s);
      }
  run_info ri = { .model = model ? tl_model_path (model) : NULL, .test = test_path,
                  .ntrain = train->shape[0], .ntest = test->shape[0], .d = train->shape[1],
                  .count = count, .seeds = seeds, .seed = seed };
  if (ok && im.features)
    {
      ri.feature_model = tl_feature_net_name (im.features);
      ri.feature_tensor = tl_feature_net_tensor (im.features);
      ri.feature_dim = tl_feature_net_dim (im.features);
    }
  if (ok)
    {
      printf ("%" G_GINT64_FORMAT " training latents, %" G_GINT64_FORMAT " held-out, d = %"
              G_GINT64_FORMAT ", %" G_GINT64_FORMAT " samples per run, %d seed(s) from %"
              G_GUINT64_FORMAT "%s\n", ri.ntrain, ri.ntest, ri.d, count, seeds, seed,
              seeds > 1 ? "; mean, then (sd)" : "");
      if (im.features)
        printf ("FID, f-prec, f-rec: %" G_GINT64_FORMAT "-d features '%s' of %s on the decoded "
                "samples against the %" G_GINT64_FORMAT " held-out images\n", ri.feature_dim,
                ri.feature_tensor, ri.feature_model, ri.ntest);
      print_table (configs, seeds, im.features != NULL);
      if (json)
        ok = write_json (json, configs, &ri, &error);
    }
  tl_feature_net_free (im.features);
  tl_tensor_free (im.real);
  g_free (im.real_radius);
  return ok ? 0 : tl_cli_fail (error);
}
