/* tensorlens explain IMAGE --model M [...] --output OUT.png: the whole
 * pipeline on a photo (tl_explain_image: resize to the model input,
 * forward pass with a tap, saliency map, back onto the image, render), the
 * same one the GEGL op tensorlens:saliency and the GIMP plug-in run. */
#include "commands.h"
#include "error.h"
#include "explain.h"
#include "npy.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  char    *model, *layer, *method, *ranks, *weighting, *sign_rule, *mode, *colormap, *output,
          *map;
  int      target, components, sweeps, bits;
  double   opacity;
  gboolean print_params;
} options;

/* "R1,R2,R3", each >= 0 (0 = automatic). */
static gboolean
parse_ranks (const char *s, int ranks[3], GError **error)
{
  g_auto (GStrv) parts = g_strsplit (s, ",", -1);
  gboolean ok = g_strv_length (parts) == 3;
  for (int i = 0; ok && i < 3; i++)
    {
      char *end = NULL;
      gint64 v = g_ascii_strtoll (parts[i], &end, 10);
      ok = end != parts[i] && *end == '\0' && v >= 0 && v <= G_MAXINT;
      ranks[i] = ok ? (int) v : 0;
    }
  if (!ok)
    g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                 "--ranks '%s': expected three integers R1,R2,R3 >= 0 (0 = automatic)", s);
  return ok;
}

static gboolean
build_params (const options *o, tl_explain_params *ep, tl_render_params *rp, GError **error)
{
  *ep = tl_explain_default_params ();
  *rp = tl_render_default_params ();
  tl_saliency_params *p = &ep->saliency;
  if ((o->method && !tl_explain_method_from_name (o->method, ep, error))
      || (o->ranks && !parse_ranks (o->ranks, p->ranks, error))
      || (o->weighting && !tl_saliency_weighting_from_name (o->weighting, &p->weighting, error))
      || (o->mode && !tl_render_mode_from_name (o->mode, &rp->mode, error))
      || (o->colormap && !tl_colormap_from_name (o->colormap, &rp->colormap, error)))
    return FALSE;
  if (o->sign_rule)
    {
      if (strcmp (o->sign_rule, "on") != 0 && strcmp (o->sign_rule, "off") != 0)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "--sign-rule '%s': expected on or off",
                       o->sign_rule);
          return FALSE;
        }
      p->sign_rule = strcmp (o->sign_rule, "on") == 0;
    }
  p->layer = o->layer;
  p->target = o->target;
  p->components = o->components;
  p->sweeps = o->sweeps;
  rp->opacity = (float) o->opacity;
  if (o->bits != 8 && o->bits != 16)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "--bits %d: expected 8 or 16", o->bits);
      return FALSE;
    }
  return tl_render_params_check (rp, error);
}

int
tl_cmd_explain (int argc, char **argv)
{
  tl_explain_params dp = tl_explain_default_params ();
  options o = { .target = -1, .components = dp.saliency.components,
                .sweeps = dp.saliency.sweeps, .bits = 8,
                .opacity = tl_render_default_params ().opacity };
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &o.model,
      "Bundled model name (centernet, faceres, emotion, ...) or a card/ONNX path", "M" },
    { "layer", 0, 0, G_OPTION_ARG_STRING, &o.layer, "Feature tensor (default: the card's)", "L" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &o.method,
      "eigencam (default), multivec-eigencam, tsm, mtsm, gradcam, gradcam-plus-plus", "NAME" },
    { "target", 0, 0, G_OPTION_ARG_INT, &o.target,
      "Class for gradcam/gradcam-plus-plus (default -1: the predicted one)", "C" },
    { "ranks", 0, 0, G_OPTION_ARG_STRING, &o.ranks, "Tucker ranks, 0 = automatic", "R1,R2,R3" },
    { "components", 0, 0, G_OPTION_ARG_INT, &o.components,
      "Cap on Multivec-EigenCAM components (0: all)", "K" },
    { "weighting", 0, 0, G_OPTION_ARG_STRING, &o.weighting, "sigma, sigma2 or uniform", "W" },
    { "sign-rule", 0, 0, G_OPTION_ARG_STRING, &o.sign_rule, "EigenCAM sign rule", "on|off" },
    { "sweeps", 0, 0, G_OPTION_ARG_INT, &o.sweeps, "HOOI sweep cap", "N" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &o.mode, "overlay (default), heatmap, map, masked",
      "MODE" },
    { "colormap", 0, 0, G_OPTION_ARG_STRING, &o.colormap,
      "jet (default), turbo, viridis, inferno, magma, gray", "NAME" },
    { "opacity", 0, 0, G_OPTION_ARG_DOUBLE, &o.opacity, "Overlay opacity in [0,1]", "A" },
    { "bits", 0, 0, G_OPTION_ARG_INT, &o.bits, "PNG bit depth, 8 (default) or 16", "B" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output, "Rendered image (.png)", "OUT.png" },
    { "map", 0, 0, G_OPTION_ARG_FILENAME, &o.map,
      "Also write the map at the image's size (.npy, H x W in [0,1])", "MAP.npy" },
    { "print-params", 0, 0, G_OPTION_ARG_NONE, &o.print_params,
      "Print the layer, target and feature shape used", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("IMAGE --model M --output OUT.png");
  g_option_context_set_summary (ctx,
      "Saliency of a photo: where a CNN looks (the pipeline of the GEGL op\n"
      "tensorlens:saliency and the GIMP plug-in).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  int rc = 1;
  GError *error = NULL;
  tl_explain_params ep;
  tl_render_params rp;
  g_autoptr (tl_image) img = NULL;
  g_autoptr (tl_model) model = NULL;
  g_autoptr (tl_explanation) ex = NULL;
  g_autoptr (tl_image) out = NULL;
  g_autofree float *full = NULL;

  if (!tl_cli_parse (ctx, &argc, &argv))
    goto done;
  if (argc != 2 || !o.model || (!o.output && !o.map))
    {
      fprintf (stderr, "tensorlens explain: give one IMAGE, --model and --output and/or --map "
                       "(see --help)\n");
      goto done;
    }
  if (!build_params (&o, &ep, &rp, &error)
      || !(img = tl_image_load (argv[1], &error))
      || !(model = tl_model_get (o.model, &error))
      || !(ex = tl_explain_image (model, img, &ep, NULL, NULL, NULL, &error))
      || (o.output && (!(out = tl_explanation_render (ex, img, &rp, &error))
                       || !tl_image_save_png (out, o.output, o.bits, &error))))
    {
      rc = tl_cli_fail (error);
      goto done;
    }
  if (o.map)
    {
      int64_t shape[2] = { img->height, img->width };
      full = tl_explanation_full_map (ex, &error);
      g_autoptr (tl_tensor) t = full ? tl_tensor_view (full, 2, shape) : NULL;
      if (!t || !tl_npy_save (o.map, t, &error))
        {
          rc = tl_cli_fail (error);
          goto done;
        }
    }
  if (o.print_params)
    printf ("model: %s\nlayer: %s\ntarget: %d\nmap: %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "\n",
            tl_model_name (model), ex->layer, ex->target, (gint64) ex->map->shape[0],
            (gint64) ex->map->shape[1]);
  rc = 0;
done:
  g_free (o.model);
  g_free (o.layer);
  g_free (o.method);
  g_free (o.ranks);
  g_free (o.weighting);
  g_free (o.sign_rule);
  g_free (o.mode);
  g_free (o.colormap);
  g_free (o.output);
  g_free (o.map);
  return rc;
}
