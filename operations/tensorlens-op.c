/* See tensorlens-op.h. */
#include "tensorlens-op.h"

#include <string.h>

void
tensorlens_op_set_keys (GeglOperationClass *klass, const tensorlens_op_keys *k,
                        gboolean position_dependent)
{
  gegl_operation_class_set_keys (klass,
    "name", k->name,
    "title", k->title,
    "categories", k->categories,
    "gimp:menu-path", k->menu_path,
    "gimp:menu-label", k->menu_label,
    "description", k->description,
    NULL);
  if (position_dependent)
    gegl_operation_class_set_key (klass, "position-dependent", "true");
}

void
tensorlens_op_progress (double fraction, const char *stage, void *operation)
{
  gegl_operation_progress (GEGL_OPERATION (operation), fraction, (gchar *) stage);
}

void
tensorlens_op_warn (GeglOperation *operation, const char *message, gboolean once)
{
  /* one module = one op, so one remembered message per module */
  static char *last;
  G_LOCK_DEFINE_STATIC (last);
  const char *name = gegl_operation_get_name (operation);
  G_LOCK (last);
  gboolean repeat = once && last && strcmp (last, message) == 0;
  if (!repeat)
    {
      g_free (last);
      last = g_strdup (message);
    }
  G_UNLOCK (last);
  if (!repeat)
    g_warning ("%s: %s", name, message);
}
