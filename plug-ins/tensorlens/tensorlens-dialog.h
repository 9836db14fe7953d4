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
  gdouble opacity;        /* the new layers' opacity, 0..100 */
  gchar   options[512];
  gchar   layer_mode[16];  /* the new layers' blend mode (tlp_layer_modes); last, so an
                            * older remembered blob still fills the fields above */
} TlpSaliencyVals;

/* Blend modes offered for the new layers, NULL-terminated: normal, multiply,
 * screen, overlay, soft-light, hard-light. */
extern const char *const tlp_layer_modes[];

TlpSaliencyVals tlp_saliency_defaults (void);
/* TRUE if the user pressed OK; v is updated. */
gboolean        tlp_saliency_dialog (TlpSaliencyVals *v);

/* Values of plug-in-tensorlens-latent-samples. */
typedef struct {
  gchar   model[256];
  gchar   sampler[16];
  guint32 seed;           /* 0..G_MAXINT (the op's seed range) */
  gint32  count;
  gint32  columns;
  gint32  cell_size;
  gint32  new_image;      /* 1 = a new image, 0 = a new layer in this one */
  gchar   options[512];
} TlpLatentVals;

TlpLatentVals tlp_latent_defaults (void);
gboolean      tlp_latent_dialog (TlpLatentVals *v);
