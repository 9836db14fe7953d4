/* Dialogs of the plug-in; see tensorlens-dialog.h. */
#include "tensorlens-dialog.h"

#include "model.h"

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <string.h>

#define PLUG_IN_BINARY "tensorlens"
#define PLUG_IN_ROLE   "tensorlens-saliency"

const char *const tlp_layer_modes[] = { "normal", "multiply", "screen", "overlay",
                                        "soft-light", "hard-light", NULL };

TlpSaliencyVals
tlp_saliency_defaults (void)
{
  TlpSaliencyVals v;
  memset (&v, 0, sizeof v);
  g_strlcpy (v.model, "centernet", sizeof v.model);
  g_strlcpy (v.method, "eigencam", sizeof v.method);   /* the library's default */
  /* issue 8: a heat-map layer at 50% over the photo (GIMP blends it; the
   * op's own overlay would then be diluted by the layer opacity) */
  g_strlcpy (v.output, "heatmap", sizeof v.output);
  g_strlcpy (v.colormap, "jet", sizeof v.colormap);
  v.opacity = 50.0;
  g_strlcpy (v.layer_mode, "normal", sizeof v.layer_mode);
  return v;
}

/* A combo box of fixed choices (or, with entry, free text too) with the
 * current value selected. */
static GtkWidget *
choice_combo (const char *const *choices, const char *current, gboolean entry)
{
  GtkWidget *c = entry ? gtk_combo_box_text_new_with_entry () : gtk_combo_box_text_new ();
  int active = -1;
  for (int i = 0; choices[i]; i++)
    {
      gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (c), choices[i]);
      if (strcmp (choices[i], current) == 0)
        active = i;
    }
  if (active >= 0)
    gtk_combo_box_set_active (GTK_COMBO_BOX (c), active);
  else if (entry)
    gtk_entry_set_text (GTK_ENTRY (gtk_bin_get_child (GTK_BIN (c))), current);
  else
    gtk_combo_box_set_active (GTK_COMBO_BOX (c), 0);
  return c;
}

/* Selects value in a choice_combo (free text if it has an entry). */
static void
combo_select (GtkWidget *combo, const char *const *choices, const char *value)
{
  for (int i = 0; choices[i]; i++)
    if (strcmp (choices[i], value) == 0)
      {
        gtk_combo_box_set_active (GTK_COMBO_BOX (combo), i);
        return;
      }
  if (gtk_combo_box_get_has_entry (GTK_COMBO_BOX (combo)))
    gtk_entry_set_text (GTK_ENTRY (gtk_bin_get_child (GTK_BIN (combo))), value);
}

/* The dialogs' "Reset" button: puts the defaults back in the widgets. */
#define RESPONSE_RESET 1

static void
combo_value (GtkWidget *combo, gchar *dst, gsize size)
{
  g_autofree gchar *s = gtk_combo_box_text_get_active_text (GTK_COMBO_BOX_TEXT (combo));
  if (s)
    g_strlcpy (dst, s, size);
}

static void
attach (GtkWidget *table, int row, const char *label, GtkWidget *w)
{
  gimp_table_attach_aligned (GTK_TABLE (table), 0, row, label, 0.0, 0.5, w, 2, FALSE);
}

gboolean
tlp_saliency_dialog (TlpSaliencyVals *v)
{
  static const char *const methods[] = { "eigencam", "multivec-eigencam", "tsm", "mtsm",
                                         "gradcam", "gradcam-plus-plus", "scorecam", "all",
                                         NULL };
  static const char *const outputs[] = { "heatmap", "overlay", "map", "masked", NULL };
  static const char *const cmaps[] = { "jet", "turbo", "viridis", "inferno", "magma", "gray",
                                       NULL };
  gimp_ui_init (PLUG_IN_BINARY, FALSE);
  GtkWidget *dialog = gimp_dialog_new ("Saliency Map", PLUG_IN_ROLE, NULL, 0,
                                       gimp_standard_help_func, "plug-in-tensorlens-saliency",
                                       "_Reset", RESPONSE_RESET, "_Cancel",
                                       GTK_RESPONSE_CANCEL, "_OK", GTK_RESPONSE_OK, NULL);
  gimp_window_set_transient (GTK_WINDOW (dialog));

  GtkWidget *table = gtk_table_new (8, 3, FALSE);
  gtk_table_set_col_spacings (GTK_TABLE (table), 6);
  gtk_table_set_row_spacings (GTK_TABLE (table), 6);
  gtk_container_set_border_width (GTK_CONTAINER (table), 12);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))), table,
                      TRUE, TRUE, 0);

  /* every model the library finds, except autoencoders (nothing to explain) */
  g_auto (GStrv) all = tl_model_list (-1);
  g_auto (GStrv) aes = tl_model_list (TL_TASK_AUTOENCODER);
  GPtrArray *names = g_ptr_array_new ();
  for (char **n = all; *n; n++)
    if (!g_strv_contains ((const char *const *) aes, *n))
      g_ptr_array_add (names, *n);
  g_ptr_array_add (names, NULL);
  GtkWidget *model = choice_combo ((const char *const *) names->pdata, v->model, TRUE);
  attach (table, 0, "_Model:", model);

  GtkWidget *layer = gtk_entry_new ();
  gtk_entry_set_text (GTK_ENTRY (layer), v->layer);
  gtk_widget_set_tooltip_text (layer, "Feature tensor to explain; empty = the model's default");
  attach (table, 1, "_Layer:", layer);
  GtkWidget *method = choice_combo (methods, v->method, FALSE);
  attach (table, 2, "M_ethod:", method);
  GtkWidget *output = choice_combo (outputs, v->output, FALSE);
  attach (table, 3, "_Output:", output);
  GtkWidget *cmap = choice_combo (cmaps, v->colormap, FALSE);
  attach (table, 4, "_Colormap:", cmap);
  GtkObject *opacity = gimp_scale_entry_new (GTK_TABLE (table), 0, 5, "Layer o_pacity:", 200,
                                             0, v->opacity, 0.0, 100.0, 1.0, 10.0, 0, TRUE, 0,
                                             0, "Opacity of the new layer(s) over the image, as "
                                             "in the Layers dialog (output overlay: the op's "
                                             "own weight is the option opacity=0..1)", NULL);
  GtkWidget *lmode = choice_combo (tlp_layer_modes, v->layer_mode, FALSE);
  gtk_widget_set_tooltip_text (lmode, "Blend mode of the new layer(s) over the image");
  attach (table, 6, "Layer mo_de:", lmode);
  GtkWidget *options = gtk_entry_new ();
  gtk_entry_set_text (GTK_ENTRY (options), v->options);
  gtk_widget_set_tooltip_text (options, "key=value ... e.g. target=3 rank1=4 sweeps=10 "
                                        "weighting=sigma2 opacity=0.7 (the overlay's weight)");
  attach (table, 7, "Op_tions:", options);

  gtk_widget_show_all (dialog);
  gint response;
  while ((response = gimp_dialog_run (GIMP_DIALOG (dialog))) == RESPONSE_RESET)
    {
      TlpSaliencyVals d = tlp_saliency_defaults ();
      combo_select (model, (const char *const *) names->pdata, d.model);
      gtk_entry_set_text (GTK_ENTRY (layer), d.layer);
      combo_select (method, methods, d.method);
      combo_select (output, outputs, d.output);
      combo_select (cmap, cmaps, d.colormap);
      gtk_adjustment_set_value (GTK_ADJUSTMENT (opacity), d.opacity);
      combo_select (lmode, tlp_layer_modes, d.layer_mode);
      gtk_entry_set_text (GTK_ENTRY (options), d.options);
    }
  g_ptr_array_free (names, TRUE);
  gboolean ok = response == GTK_RESPONSE_OK;
  if (ok)
    {
      g_autofree gchar *m = gtk_combo_box_text_get_active_text (GTK_COMBO_BOX_TEXT (model));
      if (m && *m)
        g_strlcpy (v->model, m, sizeof v->model);
      g_strlcpy (v->layer, gtk_entry_get_text (GTK_ENTRY (layer)), sizeof v->layer);
      combo_value (method, v->method, sizeof v->method);
      combo_value (output, v->output, sizeof v->output);
      combo_value (cmap, v->colormap, sizeof v->colormap);
      v->opacity = gtk_adjustment_get_value (GTK_ADJUSTMENT (opacity));
      combo_value (lmode, v->layer_mode, sizeof v->layer_mode);
      g_strlcpy (v->options, gtk_entry_get_text (GTK_ENTRY (options)), sizeof v->options);
    }
  gtk_widget_destroy (dialog);
  return ok;
}

TlpLatentVals
tlp_latent_defaults (void)
{
  TlpLatentVals v;
  memset (&v, 0, sizeof v);
  g_strlcpy (v.model, "fmnist-ae", sizeof v.model);
  g_strlcpy (v.sampler, "pmf", sizeof v.sampler);
  v.count = 16;
  v.columns = 4;
  v.cell_size = 64;
  v.new_image = 1;
  return v;
}

gboolean
tlp_latent_dialog (TlpLatentVals *v)
{
  static const char *const samplers[] = { "pmf", "gmm", "gaussian", "prior", NULL };
  gimp_ui_init (PLUG_IN_BINARY, FALSE);
  GtkWidget *dialog = gimp_dialog_new ("Latent Samples", "tensorlens-latent-samples", NULL, 0,
                                       gimp_standard_help_func,
                                       "plug-in-tensorlens-latent-samples", "_Reset",
                                       RESPONSE_RESET, "_Cancel", GTK_RESPONSE_CANCEL, "_OK",
                                       GTK_RESPONSE_OK, NULL);
  gimp_window_set_transient (GTK_WINDOW (dialog));
  GtkWidget *table = gtk_table_new (8, 3, FALSE);
  gtk_table_set_col_spacings (GTK_TABLE (table), 6);
  gtk_table_set_row_spacings (GTK_TABLE (table), 6);
  gtk_container_set_border_width (GTK_CONTAINER (table), 12);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))), table,
                      TRUE, TRUE, 0);

  g_auto (GStrv) aes = tl_model_list (TL_TASK_AUTOENCODER);
  GtkWidget *model = choice_combo ((const char *const *) aes, v->model, TRUE);
  attach (table, 0, "_Model:", model);
  GtkWidget *sampler = choice_combo (samplers, v->sampler, FALSE);
  attach (table, 1, "_Sampler:", sampler);
  /* the widget writes its "Randomize" toggle through this pointer (it
   * must not be NULL: gimp_random_seed_new dereferences it) */
  gboolean randomize = FALSE;
  GtkWidget *seed = gimp_random_seed_new (&v->seed, &randomize);
  attach (table, 2, "S_eed:", seed);
  GtkObject *count = gimp_scale_entry_new (GTK_TABLE (table), 0, 3, "_Count:", 200, 0, v->count,
                                           1, 256, 1, 8, 0, TRUE, 1, 4096, NULL, NULL);
  GtkObject *cols = gimp_scale_entry_new (GTK_TABLE (table), 0, 4, "Co_lumns:", 200, 0,
                                          v->columns, 0, 32, 1, 4, 0, TRUE, 0, 4096,
                                          "0 = a square-ish grid", NULL);
  GtkObject *cell = gimp_scale_entry_new (GTK_TABLE (table), 0, 5, "Cell si_ze:", 200, 0,
                                          v->cell_size, 0, 512, 1, 16, 0, TRUE, 0, 1024,
                                          "Pixels; 0 = the decoder's output size (new image) "
                                          "or what fills the layer", NULL);
  GtkWidget *newimg = gtk_check_button_new_with_mnemonic ("Create a _new image");
  gtk_widget_set_tooltip_text (newimg, "Off: fill the active layer (the selection's bounds) "
                                       "with the grid; cell size 0 then fits the cells to it");
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (newimg), v->new_image != 0);
  gtk_table_attach_defaults (GTK_TABLE (table), newimg, 0, 3, 6, 7);
  GtkWidget *options = gtk_entry_new ();
  gtk_entry_set_text (GTK_ENTRY (options), v->options);
  gtk_widget_set_tooltip_text (options, "key=value ... e.g. levels=30 radius=2 spacing=4 "
                                        "background=white components=5");
  attach (table, 7, "Op_tions:", options);

  gtk_widget_show_all (dialog);
  gint response;
  while ((response = gimp_dialog_run (GIMP_DIALOG (dialog))) == RESPONSE_RESET)
    {
      TlpLatentVals d = tlp_latent_defaults ();
      combo_select (model, (const char *const *) aes, d.model);
      combo_select (sampler, samplers, d.sampler);
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (GIMP_RANDOM_SEED_SPINBUTTON (seed)),
                                 d.seed);
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (GIMP_RANDOM_SEED_TOGGLE (seed)),
                                    FALSE);
      gtk_adjustment_set_value (GTK_ADJUSTMENT (count), d.count);
      gtk_adjustment_set_value (GTK_ADJUSTMENT (cols), d.columns);
      gtk_adjustment_set_value (GTK_ADJUSTMENT (cell), d.cell_size);
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (newimg), d.new_image != 0);
      gtk_entry_set_text (GTK_ENTRY (options), d.options);
    }
  gboolean ok = response == GTK_RESPONSE_OK;
  if (ok)
    {
      g_autofree gchar *m = gtk_combo_box_text_get_active_text (GTK_COMBO_BOX_TEXT (model));
      if (m && *m)
        g_strlcpy (v->model, m, sizeof v->model);
      combo_value (sampler, v->sampler, sizeof v->sampler);
      v->count = (gint32) gtk_adjustment_get_value (GTK_ADJUSTMENT (count));
      v->columns = (gint32) gtk_adjustment_get_value (GTK_ADJUSTMENT (cols));
      v->cell_size = (gint32) gtk_adjustment_get_value (GTK_ADJUSTMENT (cell));
      v->new_image = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (newimg));
      if (randomize)
        v->seed = g_random_int ();
      v->seed &= G_MAXINT;
      g_strlcpy (v->options, gtk_entry_get_text (GTK_ENTRY (options)), sizeof v->options);
    }
  gtk_widget_destroy (dialog);
  return ok;
}
