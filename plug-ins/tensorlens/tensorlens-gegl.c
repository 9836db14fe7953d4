/* GEGL helpers of the plug-in; see tensorlens-gegl.h. */
#include "tensorlens-gegl.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

gboolean
tlp_ensure_op (const char *op, const char *self, GError **error)
{
  if (gegl_has_operation (op))
    return TRUE;
  if (!g_getenv ("GEGL_PATH"))
    {
      /* a bundle <plug-ins>/tensorlens/{tensorlens,gegl-ops/} first, then
       * the directory the ops were installed to */
      g_autofree char *dir = g_path_get_dirname (self ? self : ".");
      g_autofree char *bundle = g_build_filename (dir, "gegl-ops", NULL);
      const char *dirs[] = { bundle, TL_GEGL_OPDIR };
      for (size_t i = 0; i < G_N_ELEMENTS (dirs) && !gegl_has_operation (op); i++)
        if (g_file_test (dirs[i], G_FILE_TEST_IS_DIR))
          gegl_load_module_directory (dirs[i]);
    }
  if (gegl_has_operation (op))
    return TRUE;
  g_set_error (error, TL_ERROR, TL_ERROR_IO,
               "the GEGL operation %s is not installed (looked in %s)", op,
               g_getenv ("GEGL_PATH") ? "GEGL_PATH" : TL_GEGL_OPDIR);
  return FALSE;
}

static gboolean
parse_bool (const char *v, gboolean *out)
{
  static const char *yes[] = { "true", "yes", "on", "1" }, *no[] = { "false", "no", "off", "0" };
  for (size_t i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      if (g_ascii_strcasecmp (v, yes[i]) == 0)
        return *out = TRUE, TRUE;
      if (g_ascii_strcasecmp (v, no[i]) == 0)
        return *out = FALSE, TRUE;
    }
  return FALSE;
}

static char *
enum_nicks (GEnumClass *ec)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < ec->n_values; i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "", ec->values[i].value_nick);
  return g_string_free (s, FALSE);
}

gboolean
tlp_set_property (GeglNode *node, const char *op, const char *key, const char *value,
                  GError **error)
{
  GParamSpec *ps = gegl_operation_find_property (op, key);
  if (!ps)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s has no property '%s'", op, key);
      return FALSE;
    }
  GValue v = G_VALUE_INIT;
  g_value_init (&v, ps->value_type);
  gboolean ok = TRUE;
  char *end = NULL;
  if (G_IS_PARAM_SPEC_ENUM (ps))
    {
      GEnumClass *ec = G_PARAM_SPEC_ENUM (ps)->enum_class;
      GEnumValue *ev = g_enum_get_value_by_nick (ec, value);
      if ((ok = ev != NULL))
        g_value_set_enum (&v, ev->value);
      else
        {
          g_autofree char *nicks = enum_nicks (ec);
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: '%s' is not one of %s", key,
                       value, nicks);
        }
    }
  else if (G_IS_PARAM_SPEC_INT (ps))
    {
      gint64 i = g_ascii_strtoll (value, &end, 10);
      ok = end != value && *end == '\0' && i >= G_PARAM_SPEC_INT (ps)->minimum
           && i <= G_PARAM_SPEC_INT (ps)->maximum;
      if (ok)
        g_value_set_int (&v, (int) i);
      else
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: '%s' is not an integer in %d..%d",
                     key, value, G_PARAM_SPEC_INT (ps)->minimum, G_PARAM_SPEC_INT (ps)->maximum);
    }
  else if (G_IS_PARAM_SPEC_DOUBLE (ps))
    {
      double d = g_ascii_strtod (value, &end);
      ok = end != value && *end == '\0' && d >= G_PARAM_SPEC_DOUBLE (ps)->minimum
           && d <= G_PARAM_SPEC_DOUBLE (ps)->maximum;
      if (ok)
        g_value_set_double (&v, d);
      else
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: '%s' is not a number in %g..%g",
                     key, value, G_PARAM_SPEC_DOUBLE (ps)->minimum,
                     G_PARAM_SPEC_DOUBLE (ps)->maximum);
    }
  else if (G_IS_PARAM_SPEC_BOOLEAN (ps))
    {
      gboolean b = FALSE;
      if ((ok = parse_bool (value, &b)))
        g_value_set_boolean (&v, b);
      else
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: '%s' is not true or false", key,
                     value);
    }
  else if (G_IS_PARAM_SPEC_STRING (ps))
    g_value_set_string (&v, value);
  else if (ps->value_type == GEGL_TYPE_COLOR)
    {
      /* GEGL parses CSS-like colours ("white", "#ff8000", "rgba(1,0,0,0.5)") */
      GeglColor *c = gegl_color_new (value);
      g_value_take_object (&v, c);
    }
  else if (G_IS_PARAM_SPEC_UINT (ps))
    {
      guint64 u = g_ascii_strtoull (value, &end, 10);
      ok = end != value && *end == '\0' && value[0] != '-' && u <= G_PARAM_SPEC_UINT (ps)->maximum;
      if (ok)
        g_value_set_uint (&v, (guint) u);
      else
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: '%s' is not an unsigned integer",
                     key, value);
    }
  else
    {
      ok = FALSE;
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED, "%s: cannot be set from text", key);
    }
  if (ok)
    gegl_node_set_property (node, key, &v);
  g_value_unset (&v);
  return ok;
}

gboolean
tlp_set_options (GeglNode *node, const char *op, const char *options,
                 const char *const *reserved, GError **error)
{
  if (!options)
    return TRUE;
  g_auto (GStrv) words = g_strsplit_set (options, " \t\n", -1);
  for (char **w = words; *w; w++)
    {
      if (!**w)
        continue;
      const char *eq = strchr (*w, '=');
      if (!eq || eq == *w)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "options: '%s' is not key=value", *w);
          return FALSE;
        }
      g_autofree char *key = g_strndup (*w, eq - *w);
      if (reserved && g_strv_contains (reserved, key))
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "options: '%s' is an argument of its own, not an option", key);
          return FALSE;
        }
      if (!tlp_set_property (node, op, key, eq + 1, error))
        {
          g_prefix_error (error, "options: ");
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- the op's warnings become errors --------------------------------- */

struct tlp_catch {
  char  *message;
  guint  handler;
};

static void
catch_warning (const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer user)
{
  tlp_catch *c = user;
  if (!c->message)
    c->message = g_strdup (message);
}

tlp_catch *
tlp_catch_begin (void)
{
  tlp_catch *c = g_new0 (tlp_catch, 1);
  c->handler = g_log_set_handler (NULL, G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL, catch_warning,
                                  c);
  return c;
}

gboolean
tlp_catch_end (tlp_catch *c, GError **error)
{
  g_log_remove_handler (NULL, c->handler);
  gboolean ok = c->message == NULL;
  if (!ok)
    g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s", c->message);
  g_free (c->message);
  g_free (c);
  return ok;
}

typedef struct {
  void (*progress) (gdouble, gpointer);
  gpointer data;
} run_state;

static void
on_progress (GeglNode *node, gdouble fraction, gpointer user)
{
  run_state *s = user;
  if (s->progress)
    s->progress (fraction, s->data);
}

gboolean
tlp_process (GeglNode *graph, GeglNode *node, GeglBuffer *input, GeglBuffer *output,
             void (*progress) (gdouble, gpointer), gpointer data, GError **error)
{
  run_state s = { progress, data };
  if (input)
    {
      GeglNode *src = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer",
                                           input, NULL);
      gegl_node_link (src, node);
    }
  GeglNode *sink = gegl_node_new_child (graph, "operation", "gegl:write-buffer", "buffer",
                                        output, NULL);
  gegl_node_link (node, sink);
  gulong sig = g_signal_connect (node, "progress", G_CALLBACK (on_progress), &s);
  tlp_catch *c = tlp_catch_begin ();
  gegl_node_process (sink);
  g_signal_handler_disconnect (node, sig);
  return tlp_catch_end (c, error);
}
