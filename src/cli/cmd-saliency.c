/* tensorlens saliency --features F.npy: a saliency map from a feature
 * tensor the user already has (e.g. dumped from PyTorch), at feature
 * resolution. The MODEL IMAGE form joins this file once the engine lands;
 * both share parse_method_options() and the params struct. */
#include "commands.h"
#include "error.h"
#include "npy.h"
#include "saliency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char    *method, *ranks, *weighting, *sign_rule, *features, *output;
  int      components, sweeps;
  gboolean print_params;
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
to_params (const opts *o, tl_saliency_params *p, GError **error)
{
  *p = tl_saliency_default_params ();
  if (o->method && !tl_saliency_method_from_name (o->method, &p->method, error))
    return FALSE;
  if (o->weighting && !tl_saliency_weighting_from_name (o->weighting, &p->weighting, error))
    return FALSE;
  if (o->ranks && !parse_ranks (o->ranks, p->ranks, error))
    return FALSE;
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

int
tl_cmd_saliency (int argc, char **argv)
{
  opts o = { .components = 0, .sweeps = tl_saliency_default_params ().sweeps };
  GOptionEntry entries[] = {
    { "features", 0, 0, G_OPTION_ARG_FILENAME, &o.features,
      "Feature tensor C×H×W or 1×C×H×W (.npy, float32)", "F.npy" },
    { "method", 0, 0, G_OPTION_ARG_STRING, &o.method,
      "eigencam (default), multivec-eigencam, tsm or mtsm", "NAME" },
    { "ranks", 0, 0, G_OPTION_ARG_STRING, &o.ranks,
      "Tucker ranks (TSM/MTSM); default full: min(C,H·W),H,W", "R1,R2,R3" },
    { "components", 0, 0, G_OPTION_ARG_INT, &o.components,
      "Cap on Multivec-EigenCAM components (default: all non-zero)", "K" },
    { "weighting", 0, 0, G_OPTION_ARG_STRING, &o.weighting,
      "Multivector weighting: sigma (default), sigma2 or uniform", "W" },
    { "sign-rule", 0, 0, G_OPTION_ARG_STRING, &o.sign_rule,
      "EigenCAM sign rule: on (default) or off (LAPACK's sign)", "on|off" },
    { "sweeps", 0, 0, G_OPTION_ARG_INT, &o.sweeps, "HOOI sweep cap (default 20)", "N" },
    { "print-params", 0, 0, G_OPTION_ARG_NONE, &o.print_params,
      "Print the parameters actually used (clamped ranks, sweeps run, ...)", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output,
      "Output map H×W float32 in [0,1] (.npy)", "OUT.npy" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("--features F.npy --output OUT.npy");
  g_option_context_set_summary (ctx,
      "Label-free saliency map (after sign rule, ReLU and min–max; no upsampling)\n"
      "from a layer's feature tensor.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  int rc = 1;
  GError *error = NULL;
  tl_saliency_params p;
  tl_saliency_report rep;
  g_autoptr (tl_tensor) F = NULL;
  g_autoptr (tl_tensor) map = NULL;

  if (!tl_cli_parse (ctx, &argc, &argv))
    goto out;
  if (argc > 1)
    {
      fprintf (stderr, "tensorlens saliency: unexpected argument '%s' (see --help)\n", argv[1]);
      goto out;
    }
  if (!o.features || !o.output)
    {
      fprintf (stderr, "tensorlens saliency: --features and --output are required (see --help)\n");
      goto out;
    }
  if (!to_params (&o, &p, &error))
    {
      rc = tl_cli_fail (error);
      goto out;
    }
  F = tl_npy_load (o.features, &error);
  if (!F || !tl_saliency_map_from_features_report (F, &p, &map, &rep, &error)
      || !tl_npy_save (o.output, map, &error))
    {
      if (error && F && !map)
        g_prefix_error (&error, "%s: ", o.features);
      rc = tl_cli_fail (error);
      goto out;
    }
  if (o.print_params)
    print_params (&p, &rep);
  rc = 0;
out:
  g_free (o.method);
  g_free (o.ranks);
  g_free (o.weighting);
  g_free (o.sign_rule);
  g_free (o.features);
  g_free (o.output);
  return rc;
}
