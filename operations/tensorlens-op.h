/* What the tensorlens GEGL ops share, compiled into each op module: the
 * class keys every op carries (GIMP 2.10's GEGL tool lists the op by its
 * categories; GIMP 3 puts it in its menus by gimp:menu-path), progress
 * from the library to GEGL, and warnings. A GIMP 3 port (where every op
 * is a filter) changes these keys and messages in one place. */
#pragma once
#include <gegl.h>
#include <gegl-plugin.h>

typedef struct {
  const char *name;          /* "tensorlens:..." */
  const char *title;
  const char *categories;    /* none that GIMP 2.10's GEGL tool hides */
  const char *menu_path;     /* gimp:menu-path */
  const char *menu_label;    /* gimp:menu-label */
  const char *description;
} tensorlens_op_keys;

void tensorlens_op_set_keys (GeglOperationClass *klass, const tensorlens_op_keys *keys,
                             gboolean position_dependent);

/* A tl_progress_func forwarding to the operation's GEGL progress. */
void tensorlens_op_progress (double fraction, const char *stage, void *operation);

/* g_warning "OP: message" (the plug-in turns it into an execution error);
 * with once, a message equal to the previous one of that op is not
 * repeated (for callbacks GEGL makes many times, like the bounding box). */
void tensorlens_op_warn (GeglOperation *operation, const char *message, gboolean once);
