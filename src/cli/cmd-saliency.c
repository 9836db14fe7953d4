/* tensorlens saliency: a saliency map, in two forms sharing one set of
 * options (named as the library's parameters):
 *
 *   tensorlens saliency MODEL IMAGE --method M ... --output MAP.png|MAP.npy
 *       the map of an image through a model, at the image's size
 *       (tl_explain for the label-free methods, tl_explain_labelled for
 *       Grad-CAM, Grad-CAM++ and Score-CAM), optionally drawn over the
 *       image (--overlay, rendered as an overlay, heat map, grey map or
 *       masked image with --mode, 8- or 16-bit with --bits: the rendering
 *       of the GEGL op tensorlens:saliency);
 *   tensorlens saliency --features F.npy --method M ... --output OUT.npy
 *       the map of a feature tensor the user already has (e.g. dumped with
 *       `tensorlens run --tap` or from PyTorch), at feature resolution. */
#include "commands.h"
#include "error.h"
#include "explain-labelled.h"
#include "explain.h"
#include "npy.h"
#include "saliency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  char    *method, *ranks, *weighting, *sign_rule, *centre, *features, *output, *layer;
  char    *overlay, *colormap, *reference, *mode;
  int      components, sweeps, target, channels, batch, threads, bits;
  double   opacity, rho;
  gboolean print_params, letterbox;
} opts;
/* "R1,R2,R3", each ≥ 1. */
static gboolean
parse_ranks (const char *s, int ranks[3], GError **error)
{
  g_auto (GStrv) parts = g_strsplit (s, ",", -1);
  if (g_strv_length (parts) != 3)
    goto bad;
  for (int i = 0; i < 3; i++)
    {
      char *end = NULL;
      gint64 v = g_ascii_strtoll (parts[i], &end, 10);
      if (end == parts[i] || *end != '\0')
        goto bad;
      if (v < 1 || v > G_MAXINT)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "--ranks: R%d = %s is out of range (must be at least 1)", i + 1, parts[i]);
          return FALSE;
        }
      ranks[i] = (int) v;
    }
  return TRUE;
bad:
  g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
               "--ranks '%s': expected three integers R1,R2,R3", s);
  return FALSE;
}

static gboolean
to_params (const opts *o, gboolean labelled, tl_saliency_params *p, GError **error)
{
  *p = tl_saliency_default_params ();
  if (o->method && !labelled && !tl_saliency_method_from_name (o->method, &p->method, error))
    return FALSE;
  if (o->weighting && !tl_saliency_weighting_from_name (o->weighting, &p->weighting, error))
    return FALSE;
  if (o->ranks && !parse_ranks (o->ranks, p->ranks, error))
    return FALSE;
  if (!(o->rho > 0.0 && o->rho <= 1.0))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "--rho %g: must be in (0, 1] (fraction of H and W kept by the automatic ranks)",
                   o->rho);
      return FALSE;
    }
  p->rho = o->rho;
  if (o->centre)
    {
      if (strcmp (o->centre, "on") == 0)
        p->centre = TL_SALIENCY_CENTRE_ON;
      else if (strcmp (o->centre, "auto") == 0)
        p->centre = TL_SALIENCY_CENTRE_AUTO;
      else if (strcmp (o->centre, "off") == 0)
        p->centre = TL_SALIENCY_CENTRE_OFF;
      else
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "--centre '%s': expected off, on or auto", o->centre);
          return FALSE;
        }
    }
  if (o->sign_rule)
    {
      if (strcmp (o->sign_rule, "on") != 0 && strcmp (o->sign_rule, "off") != 0)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "--sign-rule '%s': expected on or off", o->sign_rule);
          return FALSE;
        }
      p->sign_rule = strcmp (o->sign_rule, "on") == 0;
    }
  if (o->components < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "--components %d: must be at least 1 (omit it for all)", o->components);
      return FALSE;
    }
  p->components = o->components;
  if (o->sweeps < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "--sweeps %d: must be 0 or more",
                   o->sweeps);
      return FALSE;
    }
  p->sweeps = o->sweeps;
  return TRUE;
}

static void
print_params (const tl_saliency_params *p, const tl_saliency_report *r)
{
  printf ("method: %s\n", tl_saliency_method_name (p->method));
  printf ("features: %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "\n",
          (gint64) r->shape[0], (gint64) r->shape[1], (gint64) r->shape[2]);
  switch (p->method)
    {
    case TL_SALIENCY_EIGENCAM:
      printf ("sign-rule: %s\nsign: %+d\n", p->sign_rule ? "on" : "off", r->sign);
      break;
    case TL_SALIENCY_MULTIVEC_EIGENCAM:
      printf ("weighting: %s\ncomponents-cap: %d\n", tl_saliency_weighting_name (p->weighting),
              p->components);
      break;
    case TL_SALIENCY_TSM:
    case TL_SALIENCY_MTSM:
      printf ("rho: %g\ncentre: %s\n", p->rho,
              p->centre == TL_SALIENCY_CENTRE_AUTO ? "auto" : p->centre ? "on" : "off");
      printf ("ranks-requested: %d,%d,%d\nranks: %d,%d,%d\nsweeps: %d\nsweeps-run: %d\nfit: %.9g\n",
              r->ranks_requested[0], r->ranks_requested[1], r->ranks_requested[2],
              r->ranks[0], r->ranks[1], r->ranks[2], p->sweeps, r->sweeps_run, r->fit);
      if (p->method == TL_SALIENCY_MTSM)
        printf ("weighting: %s\n", tl_saliency_weighting_name (p->weighting));
      else
        printf ("sign: %+d\n", r->sign);
      break;
    }
  printf ("components: %d\nsigma1: %.9g\nconstant-map: %s\n", r->components, r->sigma1,
          r->constant ? "yes" : "no");
}

/* ---- output ------------------------------------------------------------- */

typedef enum { OUT_NPY, OUT_PNG } out_kind;

static gboolean
output_kind (const char *path, const char *option, gboolean png_ok, out_kind *k,
             GError **error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  if (g_str_has_suffix (lower, ".npy"))
    *k = OUT_NPY;
  else if (png_ok && g_str_has_suffix (lower, ".png"))
    *k = OUT_PNG;
  else
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s '%s': the name must end in %s",
                   option, path, png_ok ? ".png (8-bit grey) or .npy (float32)" : ".npy");
      return FALSE;
    }
  /* refuse an unwritable output before the work */
  g_autofree char *dir = g_path_get_dirname (path);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR) || access (dir, W_OK) != 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO,
                   "%s '%s': the directory '%s' does not exist or is not writable", option,
                   path, dir);
      return FALSE;
    }
  return TRUE;
}

/* A w × h map in [0,1] as float32 .npy or 8-bit grey PNG. */
static gboolean
write_map (const char *path, out_kind kind, float *map, int w, int h, GError **error)
{
  if (kind == OUT_NPY)
    {
      int64_t shape[2] = { h, w };
      g_autoptr (tl_tensor) t = tl_tensor_view (map, 2, shape);
      return tl_npy_save (path, t, error);
    }
  tl_image img = { .width = w, .height = h, .channels = 1, .data = map };
  return tl_image_save_png (&img, path, 8, error);
}

/* ---- progress ----------------------------------------------------------- */

typedef struct {
  gboolean tty, shown;
} progress_state;

static void
on_progress (double fraction, const char *stage, void *data)
{
  progress_state *st = data;
  if (!st->tty)
    return;
  fprintf (stderr, "\r%3d%% %-32s", (int) (100 * fraction + 0.5), stage);
  fflush (stderr);
  st->shown = TRUE;
}

static void
progress_end (progress_state *st)
{
  if (st->shown)
    fputc ('\n', stderr);
  st->shown = FALSE;
}

/* ---- the two forms ------------------------------------------------------ */

static int
run_features (const opts *o, const tl_saliency_params *p)
{
  GError *error = NULL;
  out_kind kind;
  if (!output_kind (o->output, "--output", TRUE, &kind, &error))
    return tl_cli_fail (error);
  tl_saliency_report rep;
  g_autoptr (tl_tensor) map = NULL;
  g_autoptr (tl_tensor) F = tl_npy_load (o->features, &error);
  if (!F || !tl_saliency_map_from_features_report (F, p, &map, &rep, &error))
    {
      if (F)
        g_prefix_error (&error, "%s: ", o->features);
      return tl_cli_fail (error);
    }
  if (!write_map (o->output, kind, map->data, (int) map->shape[1], (int) map->shape[0], &error))
    return tl_cli_fail (error);
  if (o->print_params)
    print_params (p, &rep);
  return 0;
}

static int
run_image (const opts *o, const char *model_name, const char *image_path, gboolean labelled,
           tl_labelled_method lmethod, const tl_saliency_params *p)
{
  GError *error = NULL;
  out_kind kind, okind;
  tl_render_params rp = tl_render_default_params ();
  if (o->threads)
    rp.n_threads = o->threads;
  if (!output_kind (o->output, "--output", TRUE, &kind, &error))
    return tl_cli_fail (error);
  if (o->overlay)
    {
      if ((o->colormap && !tl_colormap_from_name (o->colormap, &rp.colormap, &error))
          || (o->mode && !tl_render_mode_from_name (o->mode, &rp.mode, &error)))
        return tl_cli_fail (error);
      if (o->bits != 8 && o->bits != 16)
        {
          g_set_error (&error, TL_ERROR, TL_ERROR_INVALID, "--bits %d: expected 8 or 16",
                       o->bits);
          return tl_cli_fail (error);
        }
      rp.opacity = (float) o->opacity;
      if (!tl_render_params_check (&rp, &error))
        return tl_cli_fail (error);
      g_autofree char *lower = g_ascii_strdown (o->overlay, -1);
      if (!g_str_has_suffix (lower, ".png"))
        {
          g_set_error (&error, TL_ERROR, TL_ERROR_INVALID,
                       "--overlay '%s': the name must end in .png", o->overlay);
          return tl_cli_fail (error);
        }
      if (!output_kind (o->overlay, "--overlay", TRUE, &okind, &error))
        return tl_cli_fail (error);
    }
  else if (o->colormap || o->mode)
    {
      fprintf (stderr, "tensorlens saliency: --colormap, --mode and --opacity need --overlay\n");
      return 2;
    }

  /* letterboxing changes the model's geometry, so it gets its own copy */
  g_autoptr (tl_model) model = o->letterbox ? tl_model_load (model_name, &error)
                                            : tl_model_get (model_name, &error);
  if (!model)
    return tl_cli_fail (error);
  if (o->letterbox)
    tl_model_set_letterbox (model, true);
  g_autoptr (tl_image) img = tl_image_load (image_path, &error);
  if (!img)
    return tl_cli_fail (error);
  g_autoptr (tl_image) ref = NULL;
  if (o->reference && !(ref = tl_image_load (o->reference, &error)))
    return tl_cli_fail (error);

  const tl_card *card = tl_model_card (model);
  if (ref && tl_model_task (model) != TL_TASK_EMBEDDING)
    {
      g_set_error (&error, TL_ERROR, TL_ERROR_INVALID,
                   "--reference: model '%s' is a %s; a reference image is for embeddings",
                   tl_model_name (model), tl_task_name (tl_model_task (model)));
      return tl_cli_fail (error);
    }
  /* Grad-CAM(++) on a class score goes through tl_explain, the pipeline the
   * GEGL op and the plug-in share; Score-CAM and embeddings through
   * tl_explain_labelled. */
  gboolean via_explain = !labelled
                         || (lmethod != TL_LABELLED_SCORECAM && card
                             && (card->score_kind == TL_SCORE_LOGIT
                                 || card->score_kind == TL_SCORE_HEATMAP_SUM));
  progress_state ps = { isatty (STDERR_FILENO), FALSE };
  g_autoptr (tl_explanation) ex = NULL;
  tl_labelled_report lrep = { .target = -1 };
  if (via_explain)
    {
      tl_explain_params ep = tl_explain_default_params ();
      ep.saliency = *p;
      if (labelled)
        ep.kind = lmethod == TL_LABELLED_GRADCAM ? TL_EXPLAIN_GRADCAM
                                                 : TL_EXPLAIN_GRADCAM_PLUS_PLUS;
      ex = tl_explain_image (model, img, &ep, NULL, on_progress, &ps, &error);
      if (ex)
        {
          lrep.target = ex->target;
          memcpy (lrep.shape, ex->report.shape, sizeof lrep.shape);
        }
    }
  else
    {
      tl_labelled_params lp = tl_labelled_default_params ();
      lp.method = lmethod;
      lp.layer = o->layer;
      lp.target = o->target;
      lp.channels = o->channels;
      if (o->batch)
        lp.batch = o->batch;
      lp.reference = ref;
      ex = tl_explain_labelled (model, img, &lp, &lrep, on_progress, &ps, &error);
    }
  progress_end (&ps);
  if (!ex)
    {
      g_prefix_error (&error, "%s: ", image_path);
      return tl_cli_fail (error);
    }
  g_autofree float *full = tl_explanation_full_map (ex, &error);
  if (!full || !write_map (o->output, kind, full, img->width, img->height, &error))
    return tl_cli_fail (error);
  if (o->overlay)
    {
      g_autoptr (tl_image) over = tl_explanation_render (ex, img, &rp, &error);
      if (!over || !tl_image_save_png (over, o->overlay, o->bits, &error))
        return tl_cli_fail (error);
    }
  if (o->print_params)
    {
      printf ("model: %s\nimage: %s (%dx%d)\nresize: %s\nlayer: %s\n", tl_model_name (model),
              image_path, img->width, img->height, o->letterbox ? "letterbox" : "stretch",
              ex->layer);
      if (labelled)
        {
          printf ("method: %s\n", tl_labelled_method_name (lmethod));
          if (lrep.shape[0] > 0)
            printf ("features: %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                    "\n", (gint64) lrep.shape[0], (gint64) lrep.shape[1],
                    (gint64) lrep.shape[2]);
          if (lrep.target >= 0)
            printf ("target: %d%s%s\n", lrep.target,
                    card && lrep.target < card->n_labels ? " " : "",
                    card && lrep.target < card->n_labels ? card->labels[lrep.target] : "");
          if (!via_explain)
            printf ("score: %.9g\n", lrep.score);
          if (lmethod == TL_LABELLED_SCORECAM)
            printf ("channels: %d\n", lrep.channels);
        }
      else
        print_params (p, &ex->report);
    }
  return 0;
}

int
tl_cmd_saliency (int argc, char **argv)
{
  opts o = { .components = 0, .sweeps = tl_saliency_default_params ().sweeps, .target = -1,
             .rho = tl_saliency_default_params ().rho,
             .opacity = tl_render_default_params ().opacity, .bits = 8 };
  GOptionEntry entries[] = {
    { "features", 0, 0, G_OPTION_ARG_FILENAME, &o.features,
      "Feature tensor C×H×W or 1×C×H×W (.npy, float32) instead of MODEL IMAGE", "F.npy" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &o.method,
      "eigencam (default), multivec-eigencam, tsm, mtsm; with MODEL IMAGE also gradcam, "
      "gradcam++, scorecam", "NAME" },
    { "layer", 0, 0, G_OPTION_ARG_STRING, &o.layer,
      "Target layer (a 4-D tensor of the model; default: the card's)", "NAME" },
    { "target", 0, 0, G_OPTION_ARG_INT, &o.target,
      "Class (heat-map channel) the label-dependent methods explain; -1 = top-1 (default)",
      "CLASS" },
    { "ranks", 0, 0, G_OPTION_ARG_STRING, &o.ranks,
      "Tucker ranks (TSM/MTSM); 0 = automatic (default): min(C,R2·R3),⌈ρH⌉,⌈ρW⌉", "R1,R2,R3" },
    { "centre", 0, 0, G_OPTION_ARG_STRING, &o.centre,
      "TSM/MTSM: on = subtract each component map's mean before the sign rule, auto = only "
      "when the sign rule leaves more negative than positive mass (proposed fixes, see "
      "docs/evaluation.md); off (default) = methods.md", "off|on|auto" },
    { "rho", 0, 0, G_OPTION_ARG_DOUBLE, &o.rho,
      "Fraction of H and W kept by the automatic spatial ranks, in (0,1]", "RHO" },
    { "components", 0, 0, G_OPTION_ARG_INT, &o.components,
      "Cap on Multivec-EigenCAM components (default: all non-zero)", "K" },
    { "weighting", 0, 0, G_OPTION_ARG_STRING, &o.weighting,
      "Multivector weighting: sigma (default), sigma2 or uniform", "W" },
    { "sign-rule", 0, 0, G_OPTION_ARG_STRING, &o.sign_rule,
      "EigenCAM sign rule: on (default) or off (LAPACK's sign)", "on|off" },
    { "sweeps", 0, 0, G_OPTION_ARG_INT, &o.sweeps, "HOOI sweep cap (default 20)", "N" },
    { "channels", 0, 0, G_OPTION_ARG_INT, &o.channels,
      "Score-CAM: use the N channels with the largest mean activation (default: all)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &o.batch,
      "Score-CAM: masked inputs per forward pass (default 8)", "B" },
    { "reference", 0, 0, G_OPTION_ARG_FILENAME, &o.reference,
      "Embeddings: explain the similarity to this image's embedding (Grad-CAM needs it)",
      "IMAGE" },
    { "letterbox", 0, 0, G_OPTION_ARG_NONE, &o.letterbox,
      "Letterbox IMAGE into the model input (aspect kept, borders filled) instead of "
      "stretching it; the map still comes back at IMAGE's size", NULL },
    { "print-params", 0, 0, G_OPTION_ARG_NONE, &o.print_params,
      "Print the parameters actually used (layer, target, clamped ranks, sweeps run, ...)",
      NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output,
      "The map in [0,1]: .png (8-bit grey) or .npy (float32); at the image's size, or at "
      "feature resolution with --features", "MAP" },
    { "overlay", 0, 0, G_OPTION_ARG_FILENAME, &o.overlay,
      "Also render the map with the image (PNG; an overlay unless --mode says otherwise)",
      "OUT.png" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &o.mode,
      "--overlay rendering: overlay (default), heatmap, map, masked", "MODE" },
    { "bits", 0, 0, G_OPTION_ARG_INT, &o.bits, "--overlay PNG bit depth: 8 (default) or 16",
      "B" },
    { "colormap", 0, 0, G_OPTION_ARG_STRING, &o.colormap,
      "Overlay colormap: turbo, jet (default), viridis, inferno, magma, gray", "NAME" },
    { "opacity", 0, 0, G_OPTION_ARG_DOUBLE, &o.opacity, "Overlay opacity in [0,1] (0.5)", "A" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &o.threads,
      "Threads for the network and rendering (default: TENSORLENS_THREADS or all cores)",
      "T" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx
      = g_option_context_new ("MODEL IMAGE --output MAP | --features F.npy --output MAP");
  g_option_context_set_summary (ctx,
      "Saliency map of IMAGE through MODEL (a bundled model name such as emotion, faceres,\n"
      "centernet, or an .onnx file with an optional sidecar card), at the image's size;\n"
      "or, with --features, of a feature tensor at feature resolution. Maps are finished\n"
      "(sign rule, ReLU, min–max to [0,1]) and upsampled bilinearly (half-pixel centres).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  int rc = 2;
  GError *error = NULL;
  tl_saliency_params p;
  tl_labelled_method lmethod = TL_LABELLED_GRADCAM;
  gboolean labelled;

  if (!tl_cli_parse (ctx, &argc, &argv))
    goto out;
  if (o.features ? argc != 1 : argc != 3)
    {
      if (o.features && argc > 1)
        fprintf (stderr, "tensorlens saliency: unexpected argument '%s' with --features "
                 "(see --help)\n", argv[1]);
      else if (argc > 3)
        fprintf (stderr, "tensorlens saliency: unexpected argument '%s' (see --help)\n",
                 argv[3]);
      else
        fprintf (stderr, "tensorlens saliency: give MODEL IMAGE or --features F.npy "
                 "(see --help)\n");
      goto out;
    }
  if (!o.output)
    {
      fprintf (stderr, "tensorlens saliency: --output is required (see --help)\n");
      goto out;
    }
  labelled = o.method && tl_labelled_method_lookup (o.method, &lmethod);
  if (!to_params (&o, labelled, &p, &error))
    {
      rc = tl_cli_fail (error);
      goto out;
    }
  p.layer = o.layer;
  p.target = o.target;
  if (o.threads < 0 || o.channels < 0 || o.batch < 0)
    {
      fprintf (stderr, "tensorlens saliency: --threads, --channels and --batch must not be "
               "negative\n");
      goto out;
    }
  if (o.threads)
    tl_nn_set_threads (o.threads);
  if (o.features)
    {
      if (labelled)
        {
          fprintf (stderr, "tensorlens saliency: --method %s needs MODEL IMAGE (it runs the "
                   "model), not --features\n", o.method);
          rc = 1;
          goto out;
        }
      if (o.overlay || o.mode || o.layer || o.reference || o.letterbox)
        {
          fprintf (stderr, "tensorlens saliency: --overlay, --mode, --layer, --reference and "
                   "--letterbox need MODEL IMAGE, not --features\n");
          goto out;
        }
      rc = run_features (&o, &p);
    }
  else
    rc = run_image (&o, argv[1], argv[2], labelled, lmethod, &p);
out:
  g_free (o.method);
  g_free (o.ranks);
  g_free (o.weighting);
  g_free (o.centre);
  g_free (o.sign_rule);
  g_free (o.features);
  g_free (o.output);
  g_free (o.layer);
  g_free (o.overlay);
  g_free (o.colormap);
  g_free (o.mode);
  g_free (o.reference);
  return rc;
}
