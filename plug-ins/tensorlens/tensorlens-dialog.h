/* Dialogs and remembered values of the plug-in (GTK 2 via libgimpui-2.0;
 * kept apart so that a GIMP 3 port replaces this file by a
 * GimpProcedureDialog). */
#pragma once
#include <glib.h>

/* Values of plug-in-tensorlens-saliency, stored with gimp_set_data as a
 * flat blob (fixed-size strings). */
typedef struct {
  gchar   model[256];
  gchar   layer[256];
  gchar   method[32];
  gchar   output[16];
  gchar   colormap[16];
  gdouble opacity;        /* 0..100 */
  gchar   options[512];
} TlpSaliencyVals;

TlpSaliencyVals tlp_saliency_defaults (void);
/* TRUE if the user pressed OK; v is updated. */
gboolean        tlp_saliency_dialog (TlpSaliencyVals *v);
