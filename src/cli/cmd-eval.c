/* tensorlens eval: faithfulness of saliency methods over a data set
 * (methods.md "Faithfulness metrics"): Average Drop, Increase in
 * Confidence, Deletion and Insertion AUC per method, through a model.
 *
 * For each image: the model-input pixels x in [0,1] (the same resize as
 * the explanation), the score f (classifier: softmax probability of the
 * class predicted on the clean image; embedding: max(0, cos) to the clean
 * image's embedding; detector: heat-map sum of the top class), each
 * method's map upsampled (bilinear, half-pixel) from feature resolution to
 * the model input, and tl_faith_evaluate with the perturbed inputs scored
 * in batches by a second copy of the network. */
#include "commands.h"
#include "error.h"
#include "explain-labelled.h"
#include "explain.h"
#include "faithfulness.h"
#include "idx.h"
#include "model-score.h"
#include "npy.h"
#include "resize.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  const char        *name;      /* the whole spec, e.g. "mtsm:rho=0.5:w=uniform" */
  gboolean           labelled;
  tl_saliency_method method;
  tl_labelled_method lmethod;
  tl_saliency_params params;    /* label-free methods */
  int                channels;  /* Score-CAM cap, 0 = all */
  tl_faith_accum     acc;
} eval_method;

/* A method spec NAME[:key=value]...: the parameters a comparison sweeps
 * (methods.md's (param)s) without one command per setting. Keys: rho,
 * ranks=R1xR2xR3, k (components), w (weighting), sign (on|off), centre
 * (on|off), sweeps, channels (Score-CAM). */
static gboolean
parse_method (const char *spec, eval_method *m, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (spec, ":", -1);
  m->name = spec;
  m->params = tl_saliency_default_params ();
  m->labelled = tl_labelled_method_lookup (parts[0], &m->lmethod);
  if (!m->labelled && !tl_saliency_method_from_name (parts[0], &m->method, error))
    return FALSE;
  m->params.method = m->method;
  for (char **kv = parts + 1; *kv; kv++)
    {
      const char *eq = strchr (*kv, '=');
      g_autofree char *key = eq ? g_strndup (*kv, (gsize) (eq - *kv)) : g_strdup (*kv);
      const char *val = eq ? eq + 1 : "";
      char *end = NULL;
      gboolean lf_only = TRUE, ok = TRUE;
      if (strcmp (key, "rho") == 0)
        {
          m->params.rho = g_ascii_strtod (val, &end);
          ok = end != val && *end == '\0' && m->params.rho > 0.0 && m->params.rho <= 1.0;
        }
      else if (strcmp (key, "ranks") == 0)
        {
          g_auto (GStrv) r = g_strsplit (val, "x", -1);
          ok = g_strv_length (r) == 3;
          for (int i = 0; ok && i < 3; i++)
            {
              gint64 v = g_ascii_strtoll (r[i], &end, 10);
              ok = end != r[i] && *end == '\0' && v >= 1 && v <= 1 << 20;
              m->params.ranks[i] = (int) v;
            }
        }
      else if (strcmp (key, "k") == 0 || strcmp (key, "sweeps") == 0
               || strcmp (key, "channels") == 0)
        {
          gint64 v = g_ascii_strtoll (val, &end, 10);
          ok = end != val && *end == '\0' && v >= 0 && v <= 1 << 20;
          if (key[0] == 'k')
            m->params.components = (int) v;
          else if (key[0] == 's')
            m->params.sweeps = (int) v;
          else
            m->channels = (int) v, lf_only = FALSE;
        }
      else if (strcmp (key, "w") == 0)
        ok = tl_saliency_weighting_from_name (val, &m->params.weighting, NULL);
      else if (strcmp (key, "sign") == 0 || strcmp (key, "centre") == 0)
        {
          gboolean on = strcmp (val, "on") == 0, autom = strcmp (val, "auto") == 0;
          ok = on || strcmp (val, "off") == 0 || (autom && key[0] == 'c');
          if (key[0] == 's')
            m->params.sign_rule = on;
          else
            m->params.centre = autom ? TL_SALIENCY_CENTRE_AUTO
                             : on ? TL_SALIENCY_CENTRE_ON : TL_SALIENCY_CENTRE_OFF;
        }
      else
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "--methods '%s': unknown key '%s' (rho, ranks, k, w, sign, centre, "
                       "sweeps, channels)", spec, key);
          return FALSE;
        }
      if (!ok || m->labelled == lf_only)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "--methods '%s': '%s' is not a valid setting for %s", spec, *kv,
                       parts[0]);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- the data set ---------------------------------------------------------- */

typedef struct {
  tl_idx_reader *idx;     /* an IDX file ... */
  char         **files;   /* ... or image files, sorted */
  int            n, next;
} dataset;

static gint
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static gboolean
dataset_open (dataset *d, const char *path, int limit, GError **error)
{
  memset (d, 0, sizeof *d);
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      GDir *dir = g_dir_open (path, 0, error);
      if (!dir)
        return FALSE;
      GPtrArray *files = g_ptr_array_new ();
      const char *f;
      while ((f = g_dir_read_name (dir)))
        {
          g_autofree char *lower = g_ascii_strdown (f, -1);
          if (g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".jpg")
              || g_str_has_suffix (lower, ".jpeg"))
            g_ptr_array_add (files, g_build_filename (path, f, NULL));
        }
      g_dir_close (dir);
      g_ptr_array_sort (files, cmp_str);
      d->n = (int) files->len;
      g_ptr_array_add (files, NULL);
      d->files = (char **) g_ptr_array_free (files, FALSE);
      if (d->n == 0)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "--data %s: no .png or .jpg files",
                       path);
          return FALSE;
        }
    }
  else
    {
      d->idx = tl_idx_open (path, error);
      if (!d->idx)
        return FALSE;
      d->n = tl_idx_count (d->idx);
    }
  if (limit > 0 && limit < d->n)
    d->n = limit;
  return TRUE;
}

static tl_image *
dataset_next (dataset *d, char **name, GError **error)
{
  int i = d->next++;
  if (d->idx)
    {
      *name = g_strdup_printf ("%d", i);
      return tl_idx_next (d->idx, error);
    }
  *name = g_path_get_basename (d->files[i]);
  return tl_image_load (d->files[i], error);
}

static void
dataset_close (dataset *d)
{
  tl_idx_close (d->idx);
  g_strfreev (d->files);
}

/* ---- scoring ----------------------------------------------------------------- */

typedef struct {
  tl_model_batch *batch;
  tl_model_score  spec;
} scorer_ctx;

static gboolean
score_batch (const float *x, int n, double *scores, void *user, GError **error)
{
  scorer_ctx *s = user;
  return tl_model_batch_scores (s->batch, x, n, &s->spec, scores, error);
}

/* The clean image's target (top-1 class) and, for embeddings, its embedding. */
static gboolean
clean_reference (tl_model *model, const tl_tensor *pixels, const char *tensor, int *target,
                 float **reference, int64_t *k, GError **error)
{
  g_autoptr (tl_tensor) x = tl_tensor_copy (pixels, error);
  if (!x || !tl_preprocess_normalize (tl_model_preprocess (model), x->data, 1, error))
    return FALSE;
  const tl_tensor *in[1] = { x };
  const char *taps[1] = { tensor };
  tl_net_result *r = tl_model_run (model, tl_model_net (model, NULL), in, 1, taps, 1,
                                   TL_NET_RUN_DEFAULT, error);
  if (!r)
    return FALSE;
  const tl_tensor *out = tl_net_result_get (r, tensor);
  *target = tl_model_score_top1 (model, out);
  g_free (*reference);
  *k = tl_tensor_numel (out);
  *reference = g_new (float, *k);
  tl_tensor_gather (out, *reference);
  tl_net_result_free (r);
  return TRUE;
}

/* The method's map upsampled to the model input (W × H floats). */
static float *
input_map (tl_model *model, const tl_image *img, eval_method *m, int target, int W, int H,
           tl_explain_cache *cache, GError **error)
{
  g_autoptr (tl_explanation) ex = NULL;
  const tl_card *card = tl_model_card (model);
  /* as the saliency command: Grad-CAM(++) on a class score through
   * tl_explain, Score-CAM and embeddings through tl_explain_labelled */
  if (m->labelled && m->lmethod != TL_LABELLED_SCORECAM && card
      && (card->score_kind == TL_SCORE_LOGIT || card->score_kind == TL_SCORE_HEATMAP_SUM))
    {
      tl_explain_params ep = tl_explain_default_params ();
      ep.kind = m->lmethod == TL_LABELLED_GRADCAM ? TL_EXPLAIN_GRADCAM
                                                  : TL_EXPLAIN_GRADCAM_PLUS_PLUS;
      ep.saliency.target = target;
      ex = tl_explain_image (model, img, &ep, NULL, NULL, NULL, error);
    }
  else if (m->labelled)
    {
      tl_labelled_params lp = tl_labelled_default_params ();
      lp.method = m->lmethod;
      lp.target = target;
      lp.channels = m->channels;
      ex = tl_explain_labelled (model, img, &lp, NULL, NULL, NULL, error);
    }
  else
    {
      tl_explain_params ep = tl_explain_default_params ();
      ep.saliency = m->params;
      /* the label-free methods share one forward pass per image */
      ex = tl_explain_image (model, img, &ep, cache, NULL, NULL, error);
    }
  if (!ex)
    return NULL;
  float *out = g_new (float, (size_t) W * H);
  if (!tl_resample (ex->map->data, (int) ex->map->shape[1], (int) ex->map->shape[0], 1, out, W,
                    H, TL_RESAMPLE_HALF_PIXEL, error))
    {
      g_free (out);
      return NULL;
    }
  return out;
}

/* ---- output ------------------------------------------------------------------ */

static gboolean
write_summary (const char *prefix, eval_method *methods, int n_methods, gboolean ad, gboolean ic,
               gboolean del, gboolean ins, const char *model, const char *data, int steps,
               GError **error)
{
  GString *csv = g_string_new ("method,images");
  GString *md = g_string_new (NULL);
  g_string_append_printf (md, "Faithfulness of saliency maps: model `%s`, data `%s`, %d steps.\n\n"
                          "| method | images |", model, data, steps);
  if (ad)
    g_string_append (csv, ",average_drop_pct"), g_string_append (md, " Average Drop % ↓ |");
  if (ic)
    g_string_append (csv, ",increase_pct"), g_string_append (md, " Increase in Confidence % ↑ |");
  if (del)
    g_string_append (csv, ",deletion_auc"), g_string_append (md, " Deletion AUC ↓ |");
  if (ins)
    g_string_append (csv, ",insertion_auc"), g_string_append (md, " Insertion AUC ↑ |");
  g_string_append (csv, "\n");
  g_string_append (md, "\n|---|---:|");
  for (int i = 0; i < ad + ic + del + ins; i++)
    g_string_append (md, "---:|");
  g_string_append (md, "\n");
  printf ("%-20s %7s", "method", "images");
  if (ad)
    printf (" %10s", "AD%");
  if (ic)
    printf (" %10s", "IC%");
  if (del)
    printf (" %10s", "deletion");
  if (ins)
    printf (" %10s", "insertion");
  printf ("\n");
  for (int m = 0; m < n_methods; m++)
    {
      tl_faith_summary s;
      tl_faith_accum_summary (&methods[m].acc, &s);
      g_string_append_printf (csv, "%s,%d", methods[m].name, methods[m].acc.n);
      g_string_append_printf (md, "| %s | %d |", methods[m].name, methods[m].acc.n);
      printf ("%-20s %7d", methods[m].name, methods[m].acc.n);
      double v[4] = { s.average_drop_pct, s.increase_pct, s.deletion_auc, s.insertion_auc };
      gboolean on[4] = { ad, ic, del, ins };
      for (int j = 0; j < 4; j++)
        if (on[j])
          {
            g_string_append_printf (csv, ",%.9g", v[j]);
            g_string_append_printf (md, " %.4f |", v[j]);
            printf (" %10.4f", v[j]);
          }
      g_string_append (csv, "\n");
      g_string_append (md, "\n");
      printf ("\n");
    }
  g_autofree char *csv_path = g_strconcat (prefix, ".csv", NULL);
  g_autofree char *md_path = g_strconcat (prefix, ".md", NULL);
  gboolean ok = g_file_set_contents (csv_path, csv->str, -1, error)
                && g_file_set_contents (md_path, md->str, -1, error);
  g_string_free (csv, TRUE);
  g_string_free (md, TRUE);
  if (ok)
    printf ("wrote %s, %s and %s-images.csv\n", csv_path, md_path, prefix);
  return ok;
}

/* ---- the command ----------------------------------------------------------- */

static int
usage_error (const char *msg)
{
  fprintf (stderr, "tensorlens eval: %s\n(see tensorlens eval --help)\n", msg);
  return 2;
}

int
tl_cmd_eval (int argc, char **argv)
{
  g_autofree char *data = NULL, *methods_s = NULL, *metrics_s = NULL, *prefix = NULL;
  g_autofree char *save_maps = NULL;
  gboolean letterbox = FALSE;
  int limit = 0, steps = tl_faith_default_params ().steps, batch = 16, threads = 0;
  GOptionEntry entries[] = {
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data,
      "A directory of .png/.jpg images (sorted by name) or an IDX image file (.gz ok)", "PATH" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "Use the first N images (default: all)", "N" },
    { "methods", 0, 0, G_OPTION_ARG_STRING, &methods_s,
      "Comma-separated: eigencam, multivec-eigencam, tsm, mtsm, gradcam, gradcam++, scorecam "
      "(default: eigencam,tsm), each optionally with :key=value settings: rho=F, ranks=R1xR2xR3, "
      "k=K, w=sigma|sigma2|uniform, sign=on|off, centre=off|on|auto, sweeps=N (label-free), "
      "channels=N (scorecam)",
      "M1,M2" },
    { "metrics", 0, 0, G_OPTION_ARG_STRING, &metrics_s,
      "Comma-separated: ad, ic, deletion, insertion (default: all)", "LIST" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Deletion/insertion steps T (default 50)", "T" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Perturbed inputs per forward pass (16)", "B" },
    { "output-prefix", 'o', 0, G_OPTION_ARG_FILENAME, &prefix,
      "Write P.csv, P.md (per method) and P-images.csv (per image and method)", "P" },
    { "save-maps", 0, 0, G_OPTION_ARG_FILENAME, &save_maps,
      "Also write each map at the model's input size as DIR/IMAGEINDEX-METHOD.npy", "DIR" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads for the network", "T" },
    { "letterbox", 0, 0, G_OPTION_ARG_NONE, &letterbox,
      "Letterbox each image into the model input instead of stretching it", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL --data PATH --output-prefix P");
  g_option_context_set_summary (ctx,
      "Faithfulness of saliency methods through MODEL over a data set (methods.md):\n"
      "Average Drop %, Increase in Confidence %, Deletion and Insertion AUC. The score is\n"
      "the softmax probability of the class predicted on the clean image (classifiers),\n"
      "max(0, cos) to the clean embedding (embeddings) or the top class's heat-map sum\n"
      "(detectors); masking acts on the model-input pixels in [0,1].");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!tl_cli_parse (ctx, &argc, &argv))
    return 2;
  if (argc != 2)
    return usage_error ("give one MODEL");
  if (!data || !prefix)
    return usage_error ("--data and --output-prefix are required");
  if (limit < 0 || steps < 1 || steps > 10000 || batch < 1 || batch > 64 || threads < 0)
    return usage_error ("--limit ≥ 0, --steps 1..10000, --batch 1..64, --threads ≥ 0");
  if (threads)
    tl_nn_set_threads (threads);

  GError *error = NULL;
  g_auto (GStrv) mnames = g_strsplit (methods_s ? methods_s : "eigencam,tsm", ",", -1);
  int n_methods = (int) g_strv_length (mnames);
  g_autofree eval_method *methods = g_new0 (eval_method, n_methods);
  for (int i = 0; i < n_methods; i++)
    if (!parse_method (mnames[i], &methods[i], &error))
      return tl_cli_fail (error);
  gboolean ad = FALSE, ic = FALSE, del = FALSE, ins = FALSE;
  g_auto (GStrv) metrics = g_strsplit (metrics_s ? metrics_s : "ad,ic,deletion,insertion", ",",
                                       -1);
  for (char **m = metrics; *m; m++)
    {
      if (strcmp (*m, "ad") == 0)
        ad = TRUE;
      else if (strcmp (*m, "ic") == 0)
        ic = TRUE;
      else if (strcmp (*m, "deletion") == 0)
        del = TRUE;
      else if (strcmp (*m, "insertion") == 0)
        ins = TRUE;
      else
        {
          g_set_error (&error, TL_ERROR, TL_ERROR_INVALID,
                       "--metrics: unknown metric '%s' (ad, ic, deletion, insertion)", *m);
          return tl_cli_fail (error);
        }
    }
  g_autofree char *prefix_dir = g_path_get_dirname (prefix);
  if (!g_file_test (prefix_dir, G_FILE_TEST_IS_DIR) || access (prefix_dir, W_OK) != 0
      || (save_maps && !g_file_test (save_maps, G_FILE_TEST_IS_DIR)))
    {
      g_set_error (&error, TL_ERROR, TL_ERROR_IO, "the directory '%s' does not exist or is not "
                   "writable", save_maps && !g_file_test (save_maps, G_FILE_TEST_IS_DIR)
                                   ? save_maps : prefix_dir);
      return tl_cli_fail (error);
    }

  /* letterboxing changes the model's geometry, so it gets its own copy */
  g_autoptr (tl_model) model = letterbox ? tl_model_load (argv[1], &error)
                                         : tl_model_get (argv[1], &error);
  if (model && letterbox)
    tl_model_set_letterbox (model, true);
  const char *tensor = model ? tl_model_score_tensor (model, &error) : NULL;
  if (!tensor)
    return tl_cli_fail (error);
  dataset ds;
  if (!dataset_open (&ds, data, limit, &error))
    {
      dataset_close (&ds);
      return tl_cli_fail (error);
    }
  scorer_ctx sc = { tl_model_batch_new (model, batch, &error),
                    { TL_MODEL_SCORE_FAITH, 0, NULL, 0 } };
  tl_faith_scorer scorer = { NULL, score_batch, batch, &sc };
  tl_faith_params fp = tl_faith_default_params ();
  fp.steps = steps;
  fp.deletion = del;
  fp.insertion = ins;
  g_autofree float *reference = NULL;
  g_autofree char *images_path = g_strconcat (prefix, "-images.csv", NULL);
  GString *rows = g_string_new ("image,method,target,score_clean,score_masked,drop,increase,"
                                "deletion_auc,insertion_auc\n");
  gboolean tty = isatty (STDERR_FILENO);
  tl_explain_cache *cache = tl_explain_cache_new (1);
  int rc = 1;
  if (!sc.batch)
    goto out;
  for (int i = 0; i < ds.n; i++)
    {
      g_autofree char *name = NULL;
      g_autoptr (tl_image) img = dataset_next (&ds, &name, &error);
      tl_preprocess_geometry g;
      g_autoptr (tl_tensor) px = img ? tl_model_pixels (model, img, &g, &error) : NULL;
      int target = -1;
      int64_t k = 0;
      if (!px || !clean_reference (model, px, tensor, &target, &reference, &k, &error))
        {
          g_prefix_error (&error, "image %s: ", name ? name : "?");
          goto out;
        }
      sc.spec.target = target;
      sc.spec.reference = reference;
      sc.spec.k = k;
      const int C = (int) px->shape[1], H = (int) px->shape[2], W = (int) px->shape[3];
      for (int m = 0; m < n_methods; m++)
        {
          if (tty)
            fprintf (stderr, "\rimage %d/%d, %-20s", i + 1, ds.n, methods[m].name);
          g_autofree float *map = input_map (model, img, &methods[m], target, W, H, cache,
                                             &error);
          tl_faith_result r = { 0 };
          if (!map || !tl_faith_evaluate (px->data, C, H, W, map, &scorer, &fp, &r, &error))
            {
              if (tty)
                fputc ('\n', stderr);
              g_prefix_error (&error, "image %s, %s: ", name, methods[m].name);
              goto out;
            }
          if (save_maps)
            {
              g_autofree char *f = g_strdup_printf ("%04d-%s.npy", i, methods[m].name);
              g_autofree char *p = g_build_filename (save_maps, f, NULL);
              int64_t shape[2] = { H, W };
              g_autoptr (tl_tensor) t = tl_tensor_view (map, 2, shape);
              if (!tl_npy_save (p, t, &error))
                {
                  tl_faith_result_clear (&r);
                  goto out;
                }
            }
          tl_faith_accum_add (&methods[m].acc, &r);
          g_string_append_printf (rows, "%s,%s,%d,%.9g,%.9g,%.9g,%d,%.9g,%.9g\n", name,
                                  methods[m].name, target, r.score_clean, r.score_masked, r.drop,
                                  r.increase ? 1 : 0, del ? r.deletion_auc : 0.0,
                                  ins ? r.insertion_auc : 0.0);
          tl_faith_result_clear (&r);
        }
    }
  if (tty)
    fputc ('\n', stderr);
  if (g_file_set_contents (images_path, rows->str, -1, &error)
      && write_summary (prefix, methods, n_methods, ad, ic, del, ins, tl_model_name (model),
                        data, steps, &error))
    rc = 0;
out:
  g_string_free (rows, TRUE);
  tl_model_batch_free (sc.batch);
  tl_explain_cache_free (cache);
  dataset_close (&ds);
  return rc ? tl_cli_fail (error) : 0;
}
