/* Shared sampler options of `sample` and `eval-sampling`; see
 * sampler-options.h. */
#include "sampler-options.h"

#include "error.h"

#include <string.h>

void
tl_sampler_options_add (tl_sampler_options *o, GOptionContext *ctx,
                        const char *default_samplers)
{
  memset (o, 0, sizeof *o);
  o->default_samplers = default_samplers;
  tl_sampler_params d = tl_sampler_default_params ();
  o->help[0] = g_strdup_printf ("Comma-separated samplers: pmf, gmm, gaussian (one component), "
                                "prior (N(0, I)) (%s)", default_samplers);
  o->help[1] = g_strdup_printf ("pmf: quantisation levels, one or a list (%d)", d.pmf.levels);
  o->help[2] = g_strdup_printf ("pmf: vicinity radius in levels, one or a list (%d)",
                                d.pmf.radius);
  o->help[3] = g_strdup_printf ("gmm: mixture components, one or a list (%d)",
                                d.gmm.components);
  GOptionEntry entries[] = {
    { "sampler", 0, 0, G_OPTION_ARG_STRING, &o->sampler, o->help[0], "NAME,..." },
    { "levels", 0, 0, G_OPTION_ARG_STRING, &o->levels, o->help[1], "Q,..." },
    { "radius", 0, 0, G_OPTION_ARG_STRING, &o->radius, o->help[2], "R,..." },
    { "components", 0, 0, G_OPTION_ARG_STRING, &o->components, o->help[3], "K,..." },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &o->seed,
      "Seed, 0 .. 2^64-1 (0): fixes the samples and the GMM's initialisation", "S" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_option_context_add_main_entries (ctx, entries, NULL);
}

void
tl_sampler_options_clear (tl_sampler_options *o)
{
  g_free (o->sampler);
  g_free (o->levels);
  g_free (o->radius);
  g_free (o->components);
  g_free (o->seed);
  for (int i = 0; i < 4; i++)
    g_free (o->help[i]);
  memset (o, 0, sizeof *o);
}

/* Decimal 0 .. 2^64-1; a sign or anything else is an error. */
gboolean
tl_sampler_options_seed (const tl_sampler_options *o, uint64_t *seed, GError **error)
{
  *seed = 0;
  if (!o->seed)
    return TRUE;
  if (o->seed[0] == '-')
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "seed: '%s' is negative; a seed is an integer 0 .. 18446744073709551615",
                   o->seed);
      return FALSE;
    }
  guint64 v;
  if (!g_ascii_string_to_unsigned (o->seed, 10, 0, G_MAXUINT64, &v, NULL))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "seed: '%s' is not an integer 0 .. 18446744073709551615", o->seed);
      return FALSE;
    }
  *seed = v;
  return TRUE;
}

/* "20,50,100" -> ints, each an integer >= min; NULL text gives {def}. */
static GArray *
int_list (const char *text, const char *name, int min, int def, GError **error)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (int));
  if (!text)
    {
      g_array_append_val (a, def);
      return a;
    }
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  for (char **p = parts; *p; p++)
    {
      gint64 v;
      if (!g_ascii_string_to_signed (g_strstrip (*p), 10, min, G_MAXINT, &v, NULL))
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: '%s' is not an integer >= %d",
                       name, *p, min);
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

void
tl_sampler_params_label (const tl_sampler_params *p, char *buf, size_t len)
{
  if (p->kind == TL_SAMPLER_PMF)
    g_snprintf (buf, len, "pmf levels=%d radius=%d", p->pmf.levels, p->pmf.radius);
  else if (p->kind == TL_SAMPLER_GMM)
    g_snprintf (buf, len, "gmm components=%d", p->gmm.components);
  else
    g_strlcpy (buf, tl_sampler_kind_name (p->kind), len);
}

GArray *
tl_sampler_options_configs (const tl_sampler_options *o, GError **error)
{
  const tl_sampler_params d = tl_sampler_default_params ();
  g_autoptr (GArray) lv = int_list (o->levels, "levels", 1, d.pmf.levels, error);
  g_autoptr (GArray) rv = lv ? int_list (o->radius, "radius", 0, d.pmf.radius, error) : NULL;
  g_autoptr (GArray) kv = rv ? int_list (o->components, "components", 1, d.gmm.components,
                                         error) : NULL;
  if (!kv)
    return NULL;
  g_auto (GStrv) names = g_strsplit (o->sampler ? o->sampler : o->default_samplers, ",", -1);
  g_autoptr (GArray) out = g_array_new (FALSE, TRUE, sizeof (tl_sampler_params));
  gboolean any_pmf = FALSE, any_gmm = FALSE;
  for (char **nm = names; *nm; nm++)
    {
      tl_sampler_params c = d;
      if (!tl_sampler_kind_from_name (g_strstrip (*nm), &c.kind, error))
        return NULL;
      if (c.kind == TL_SAMPLER_PMF)
        {
          any_pmf = TRUE;
          for (guint a = 0; a < lv->len; a++)
            for (guint r = 0; r < rv->len; r++)
              {
                c.pmf.levels = g_array_index (lv, int, a);
                c.pmf.radius = g_array_index (rv, int, r);
                g_array_append_val (out, c);
              }
        }
      else if (c.kind == TL_SAMPLER_GMM)
        {
          any_gmm = TRUE;
          for (guint a = 0; a < kv->len; a++)
            {
              c.gmm.components = g_array_index (kv, int, a);
              g_array_append_val (out, c);
            }
        }
      else
        g_array_append_val (out, c);
    }
  if (!any_pmf && (o->levels || o->radius))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "--levels and --radius apply to --sampler pmf only");
      return NULL;
    }
  if (!any_gmm && o->components)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "--components applies to --sampler gmm only");
      return NULL;
    }
  return g_steal_pointer (&out);
}
