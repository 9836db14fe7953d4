/* The tensorlens GIMP 2.10 plug-in: a thin adapter that adds what GEGL ops
 * cannot do by themselves in GIMP 2.10 (menu entries, PDB procedures, new
 * layers, undo, progress). All pixels come from the GEGL ops by name
 * (tensorlens:saliency); the library is asked only which models exist.
 *
 *   plug-in-tensorlens-saliency   <Image>/Filters/Tensorlens/Saliency Map...
 *     adds the saliency rendering of the drawable as a new layer above it
 *     (same size and offsets, the chosen opacity and blend mode; by default
 *     a heat map at 50%), one layer per method for method "all".
 *   plug-in-tensorlens-latent-samples   <Image>/Filters/Render/Tensorlens/...
 *     renders a grid of decoded autoencoder samples into a new image, or
 *     fills the drawable (the selection's bounds) with it.
 *
 * Arguments are described once (the tables below) with GEGL property names,
 * so a GIMP 3 port maps them to gimp_procedure_add_*_argument. */
#include "tensorlens-dialog.h"
#include "tensorlens-gegl.h"

#include "error.h"
#include "model.h"

#include <libgimp/gimp.h>
#include <math.h>
#include <string.h>

#define SALIENCY_PROC "plug-in-tensorlens-saliency"
#define SALIENCY_OP   "tensorlens:saliency"
#define LATENT_PROC   "plug-in-tensorlens-latent-samples"
#define LATENT_OP     "tensorlens:latent-samples"

static void query (void);
static void run (const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals,
                 GimpParam **return_vals);

const GimpPlugInInfo PLUG_IN_INFO = { NULL, NULL, query, run };

MAIN ()

static const GimpParamDef saliency_args[] = {
  { GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }" },
  { GIMP_PDB_IMAGE, "image", "Input image" },
  { GIMP_PDB_DRAWABLE, "drawable", "Drawable to explain" },
  { GIMP_PDB_STRING, "model", "Bundled model name (centernet, faceres, emotion, ...) or the path "
                              "of a model card (.json) or ONNX file" },
  { GIMP_PDB_STRING, "layer", "Feature tensor to explain; \"\" = the model's default layer" },
  { GIMP_PDB_STRING, "method", "eigencam, multivec-eigencam, tsm, mtsm, gradcam, "
                               "gradcam-plus-plus (classifiers and detectors), scorecam (any "
                               "model), or all (one layer per label-free method)" },
  { GIMP_PDB_STRING, "output", "heatmap (the dialog's default), map, overlay (the heat map "
                               "blended into a copy of the image by the op) or masked" },
  { GIMP_PDB_STRING, "colormap", "turbo, jet, viridis, inferno, magma or gray" },
  { GIMP_PDB_FLOAT, "opacity", "Opacity of the new layer(s), 0..100 (the dialog's default: "
                               "50)" },
  { GIMP_PDB_STRING, "options", "More tensorlens:saliency properties as \"key=value ...\" "
                                "with the op's names and ranges (target rank1 rank2 rank3 "
                                "components weighting sign-rule sweeps channels batch, and "
                                "opacity=0..1: the op's own heat-map weight for output overlay, "
                                "default 0.5, not the layer's opacity), and the plug-in's own "
                                "layer-mode=normal|multiply|screen|overlay|soft-light|hard-light "
                                "(the new layers' blend mode, default normal)" },
};

static const GimpParamDef saliency_rets[] = {
  { GIMP_PDB_LAYER, "new-layer", "The new layer (the first one for method \"all\")" },
};

/* Op properties with a PDB slot of their own: not accepted inside options.
 * The op's "opacity" (its overlay weight, 0..1) is not among them: the PDB
 * opacity is the new layer's (0..100, GIMP's convention), so options keep
 * the rule "op property names, op meanings" and opacity=0.7 there sets the
 * overlay weight. */
static const char *const saliency_reserved[] = { "model", "layer", "method", "output",
                                                 "colormap", NULL };

static const char *const all_methods[] = { "eigencam", "multivec-eigencam", "tsm", "mtsm", NULL };

static const GimpParamDef latent_args[] = {
  { GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }" },
  { GIMP_PDB_IMAGE, "image", "Input image (used when new-image is 0)" },
  { GIMP_PDB_DRAWABLE, "drawable", "Drawable to fill when new-image is 0 (within the "
                                    "selection's bounds)" },
  { GIMP_PDB_STRING, "model", "Bundled autoencoder name (fmnist-ae, emoji-ae, ...) or the path "
                              "of its card (.json)" },
  { GIMP_PDB_STRING, "sampler", "pmf, gmm, gaussian or prior" },
  { GIMP_PDB_INT32, "seed", "Seed of the sample stream (same seed, same grid)" },
  { GIMP_PDB_INT32, "count", "Number of samples, 1..4096" },
  { GIMP_PDB_INT32, "columns", "Cells per row; 0 = a square-ish grid" },
  { GIMP_PDB_INT32, "cell-size", "Side of a cell in pixels; 0 = the decoder's output size "
                                 "(new image) or the size that fills the area (new-image 0)" },
  { GIMP_PDB_INT32, "new-image", "1 = render into a new image of the grid's size, 0 = fill "
                                 "the drawable (the selection's bounds) with the grid, centred "
                                 "on the background" },
  { GIMP_PDB_STRING, "options", "More tensorlens:latent-samples properties as \"key=value ...\" "
                                "(levels radius components spacing background)" },
};

static const GimpParamDef latent_rets[] = {
  { GIMP_PDB_IMAGE, "new-image", "The image holding the samples" },
};

static const char *const latent_reserved[] = { "model", "sampler", "seed", "count", "columns",
                                               "cell-size", NULL };

static void
query (void)
{
  gimp_install_procedure (SALIENCY_PROC,
                          "Add a saliency map of the drawable as a new layer",
                          "Runs a convolutional network (a bundled model or an ONNX file with "
                          "its card) on the drawable and shows where it looks: a label-free "
                          "saliency map (EigenCAM, Multivec-EigenCAM, TSM or MTSM on a layer's "
                          "features), rendered as a heat map, grey map, overlay or masked "
                          "image in a new layer above the drawable, with the given opacity "
                          "(0..100) and blend mode (option layer-mode=; the dialog's default "
                          "is a heat map in a normal layer at 50%). Method \"all\" adds one "
                          "layer per method (the network runs once). The op's own overlay "
                          "weight (output overlay) is the option opacity=0..1, default 0.5.",
                          "tensorlens", "tensorlens (MIT)", "2026",
                          "_Saliency Map...", "RGB*, GRAY*, INDEXED*", GIMP_PLUGIN,
                          G_N_ELEMENTS (saliency_args), G_N_ELEMENTS (saliency_rets),
                          saliency_args, saliency_rets);
  gimp_plugin_menu_register (SALIENCY_PROC, "<Image>/Filters/Tensorlens");

  gimp_install_procedure (LATENT_PROC,
                          "Render samples of an autoencoder's latent space",
                          "Draws samples from an autoencoder's latent space (the PMF/quantisation "
                          "vicinity sampler, a Gaussian mixture, a single Gaussian or the prior, "
                          "fitted on the model's encoded training set), decodes them and lays "
                          "them out in a grid, in a new image or as a new layer. The same seed "
                          "gives the same grid.",
                          "tensorlens", "tensorlens (MIT)", "2026",
                          "_Latent Samples...", "", GIMP_PLUGIN,
                          G_N_ELEMENTS (latent_args), G_N_ELEMENTS (latent_rets),
                          latent_args, latent_rets);
  gimp_plugin_menu_register (LATENT_PROC, "<Image>/Filters/Render/Tensorlens");
}

/* ---- saliency --------------------------------------------------------- */

static const char *
method_title (const char *method)
{
  static const char *const names[][2] = {
    { "eigencam", "EigenCAM" }, { "multivec-eigencam", "Multivec-EigenCAM" },
    { "tsm", "TSM" }, { "mtsm", "MTSM" }, { "gradcam", "Grad-CAM" },
    { "gradcam-plus-plus", "Grad-CAM++" }, { "scorecam", "Score-CAM" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (method, names[i][0]) == 0)
      return names[i][1];
  return method;
}

/* The new layer's type follows the image so it can be inserted in it. */
static GimpImageType
layer_type_for (gint32 image)
{
  switch (gimp_image_base_type (image))
    {
    case GIMP_GRAY:
      return GIMP_GRAYA_IMAGE;
    case GIMP_INDEXED:
      return GIMP_INDEXEDA_IMAGE;
    default:
      return GIMP_RGBA_IMAGE;
    }
}

/* tlp_layer_modes (checked in check_values) -> GIMP's mode. */
static GimpLayerMode
layer_mode_for (const char *name)
{
  static const GimpLayerMode modes[] = {
    GIMP_LAYER_MODE_NORMAL, GIMP_LAYER_MODE_MULTIPLY, GIMP_LAYER_MODE_SCREEN,
    GIMP_LAYER_MODE_OVERLAY, GIMP_LAYER_MODE_SOFTLIGHT, GIMP_LAYER_MODE_HARDLIGHT,
  };
  for (int i = 0; tlp_layer_modes[i]; i++)
    if (strcmp (name, tlp_layer_modes[i]) == 0)
      return modes[i];
  return GIMP_LAYER_MODE_NORMAL;
}

/* The plug-in's own option layer-mode=NAME (the blend mode of the new
 * layers; every other key is a tensorlens:saliency property) moves from
 * v->options to v->layer_mode. */
static gboolean
take_layer_mode (TlpSaliencyVals *v, GError **error)
{
  g_auto (GStrv) words = g_strsplit_set (v->options, " \t\n", -1);
  g_autoptr (GString) rest = g_string_new (NULL);
  for (char **w = words; *w; w++)
    {
      if (!**w)
        continue;
      if (g_str_has_prefix (*w, "layer-mode="))
        g_strlcpy (v->layer_mode, *w + strlen ("layer-mode="), sizeof v->layer_mode);
      else
        g_string_append_printf (rest, "%s%s", rest->len ? " " : "", *w);
    }
  g_strlcpy (v->options, rest->str, sizeof v->options);
  if (!g_strv_contains (tlp_layer_modes, v->layer_mode))
    {
      g_autofree char *all = g_strjoinv (", ", (char **) tlp_layer_modes);
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "layer-mode '%s' is not one of %s",
                   v->layer_mode, all);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  int    index, count;   /* which method of how many */
} progress_span;

static void
progress_cb (gdouble fraction, gpointer data)
{
  const progress_span *s = data;
  gimp_progress_update ((s->index + fraction) / s->count);
}

/* One method: a new layer filled by tensorlens:saliency. Returns the layer
 * or -1 with error set. */
static gint32
saliency_layer (gint32 image, gint32 drawable, const TlpSaliencyVals *v, const char *method,
                const progress_span *span, GError **error)
{
  gint w = gimp_drawable_width (drawable), h = gimp_drawable_height (drawable), ox, oy;
  gimp_drawable_offsets (drawable, &ox, &oy);

  GeglNode *graph = gegl_node_new ();
  GeglNode *op = gegl_node_new_child (graph, "operation", SALIENCY_OP, NULL);
  gboolean ok = tlp_set_property (op, SALIENCY_OP, "model", v->model, error)
                && tlp_set_property (op, SALIENCY_OP, "layer", v->layer, error)
                && tlp_set_property (op, SALIENCY_OP, "method", method, error)
                && tlp_set_property (op, SALIENCY_OP, "output", v->output, error)
                && tlp_set_property (op, SALIENCY_OP, "colormap", v->colormap, error)
                && tlp_set_options (op, SALIENCY_OP, v->options, saliency_reserved, error);
  if (!ok && error && *error && g_str_has_prefix ((*error)->message, "options: opacity:"))
    {
      /* someone meaning the layer's opacity (0..100) in options */
      char *m = g_strdup_printf ("%s (the op's overlay weight; the new layer's opacity is the "
                                 "opacity argument, 0..100)", (*error)->message);
      g_free ((*error)->message);
      (*error)->message = m;
    }
  gint32 layer = -1;
  if (ok)
    {
      g_autofree char *name = g_strdup_printf ("Saliency — %s (%s)", method_title (method),
                                               v->model);
      layer = gimp_layer_new (image, name, w, h, layer_type_for (image), v->opacity,
                              layer_mode_for (v->layer_mode));
      GeglBuffer *in = gimp_drawable_get_buffer (drawable);
      GeglBuffer *out = gimp_drawable_get_buffer (layer);
      ok = tlp_process (graph, op, in, out, progress_cb, (gpointer) span, error);
      g_object_unref (in);
      g_object_unref (out);   /* flushes the tiles to the core */
      if (ok)
        {
          gimp_layer_set_offsets (layer, ox, oy);
          gint32 parent = gimp_item_is_layer (drawable) ? gimp_item_get_parent (drawable) : -1;
          gint pos = gimp_item_is_layer (drawable)
                       ? gimp_image_get_item_position (image, drawable) : 0;
          gimp_image_insert_layer (image, layer, parent, pos);
          gimp_drawable_update (layer, 0, 0, w, h);
        }
      else
        {
          gimp_item_delete (layer);
          layer = -1;
        }
    }
  g_object_unref (graph);
  return layer;
}

static gboolean
check_values (const TlpSaliencyVals *v, GError **error)
{
  /* the library decides which models exist */
  g_autofree char *found = tl_model_find (v->model, error);
  if (!found)
    return FALSE;
  if (strcmp (v->method, "all") != 0 && !g_strv_contains (all_methods, v->method)
      && strcmp (v->method, "gradcam") != 0 && strcmp (v->method, "gradcam-plus-plus") != 0
      && strcmp (v->method, "scorecam") != 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "method '%s' is not one of eigencam, multivec-eigencam, tsm, mtsm, gradcam, "
                   "gradcam-plus-plus, scorecam, all", v->method);
      return FALSE;
    }
  if (!(v->opacity >= 0 && v->opacity <= 100))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "opacity %g is not in 0..100", v->opacity);
      return FALSE;
    }
  return TRUE;
}

static GimpPDBStatusType
run_saliency (GimpRunMode mode, gint nparams, const GimpParam *param, gint32 *layer_out,
              GError **error)
{
  gint32 image = param[1].data.d_image, drawable = param[2].data.d_drawable;
  TlpSaliencyVals v = tlp_saliency_defaults ();
  switch (mode)
    {
    case GIMP_RUN_INTERACTIVE:
      gimp_get_data (SALIENCY_PROC, &v);
      if (!tlp_saliency_dialog (&v))
        return GIMP_PDB_CANCEL;
      break;
    case GIMP_RUN_NONINTERACTIVE:
      if (nparams != G_N_ELEMENTS (saliency_args))
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s takes %d arguments, got %d",
                       SALIENCY_PROC, (int) G_N_ELEMENTS (saliency_args), nparams);
          return GIMP_PDB_CALLING_ERROR;
        }
      g_strlcpy (v.model, param[3].data.d_string ? param[3].data.d_string : "", sizeof v.model);
      g_strlcpy (v.layer, param[4].data.d_string ? param[4].data.d_string : "", sizeof v.layer);
      g_strlcpy (v.method, param[5].data.d_string ? param[5].data.d_string : "",
                 sizeof v.method);
      g_strlcpy (v.output, param[6].data.d_string ? param[6].data.d_string : "",
                 sizeof v.output);
      g_strlcpy (v.colormap, param[7].data.d_string ? param[7].data.d_string : "",
                 sizeof v.colormap);
      v.opacity = param[8].data.d_float;
      g_strlcpy (v.options, param[9].data.d_string ? param[9].data.d_string : "",
                 sizeof v.options);
      break;
    case GIMP_RUN_WITH_LAST_VALS:
      gimp_get_data (SALIENCY_PROC, &v);
      break;
    }
  if (!take_layer_mode (&v, error) || !check_values (&v, error))
    return GIMP_PDB_EXECUTION_ERROR;

  const char *one[] = { v.method, NULL };
  const char *const *methods = strcmp (v.method, "all") == 0 ? all_methods : one;
  int n = (int) g_strv_length ((char **) methods);
  gimp_progress_init ("Saliency map...");
  gimp_image_undo_group_start (image);
  gboolean ok = TRUE;
  *layer_out = -1;
  /* Each goes right above the drawable, below the previous one: the first
   * method ends up on top. */
  for (int i = 0; i < n && ok; i++)
    {
      progress_span span = { i, n };
      gint32 layer = saliency_layer (image, drawable, &v, methods[i], &span, error);
      ok = layer != -1;
      if (ok && *layer_out == -1)
        *layer_out = layer;
    }
  gimp_image_undo_group_end (image);
  gimp_progress_end ();
  if (!ok)
    return GIMP_PDB_EXECUTION_ERROR;
  if (mode == GIMP_RUN_INTERACTIVE)
    gimp_set_data (SALIENCY_PROC, &v, sizeof v);
  if (mode != GIMP_RUN_NONINTERACTIVE)
    gimp_displays_flush ();
  return GIMP_PDB_SUCCESS;
}

/* ---- latent samples --------------------------------------------------- */

static const char *
sampler_title (const char *s)
{
  static const char *const names[][2] = {
    { "pmf", "PMF" }, { "gmm", "GMM" }, { "gaussian", "Gaussian" }, { "prior", "Prior" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (s, names[i][0]) == 0)
      return names[i][1];
  return s;
}

static gboolean
latent_node (GeglNode *op, const TlpLatentVals *v, GError **error)
{
  g_autofree char *seed = g_strdup_printf ("%u", v->seed);
  g_autofree char *count = g_strdup_printf ("%d", v->count);
  g_autofree char *cols = g_strdup_printf ("%d", v->columns);
  g_autofree char *cell = g_strdup_printf ("%d", v->cell_size);
  return tlp_set_property (op, LATENT_OP, "model", v->model, error)
         && tlp_set_property (op, LATENT_OP, "sampler", v->sampler, error)
         && tlp_set_property (op, LATENT_OP, "seed", seed, error)
         && tlp_set_property (op, LATENT_OP, "count", count, error)
         && tlp_set_property (op, LATENT_OP, "columns", cols, error)
         && tlp_set_property (op, LATENT_OP, "cell-size", cell, error)
         && tlp_set_options (op, LATENT_OP, v->options, latent_reserved, error);
}

/* Fill mode with cell-size 0: the columns (0 = as many as the area's aspect
 * suggests) and the cell size that make count cells fill a w x h area. */
static gboolean
fit_grid (GeglNode *op, const TlpLatentVals *v, int w, int h, GError **error)
{
  gint spacing = 0, count = v->count;
  gegl_node_get (op, "spacing", &spacing, NULL);
  int cols = v->columns > 0 ? v->columns
                            : (int) ceil (sqrt ((double) count * w / MAX (h, 1)));
  cols = CLAMP (cols, 1, count);
  int rows = (count + cols - 1) / cols;
  int cell = MIN ((w - (cols + 1) * spacing) / cols, (h - (rows + 1) * spacing) / rows);
  if (cell < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "a %dx%d area is too small for %d cells with spacing %d", w, h, count,
                   spacing);
      return FALSE;
    }
  gegl_node_set (op, "columns", cols, "cell-size", MIN (cell, 1024), NULL);
  return TRUE;
}

/* Fill mode: the area (the selection's bounds within the drawable, or the
 * whole drawable) painted with the background and the grid centred in it,
 * through the drawable's shadow buffer (one undo step; the selection masks
 * the result). */
static gboolean
latent_fill (gint32 drawable, GeglNode *graph, GeglNode *op, const TlpLatentVals *v,
             GError **error)
{
  gint x, y, w, h;
  if (!gimp_drawable_mask_intersect (drawable, &x, &y, &w, &h))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "the selection does not touch the layer");
      return FALSE;
    }
  if (v->cell_size == 0 && !fit_grid (op, v, w, h, error))
    return FALSE;
  GeglRectangle bb = gegl_node_get_bounding_box (op);
  const Babl *fmt = babl_format ("R'G'B'A float");
  GeglRectangle area = { 0, 0, w, h };
  GeglBuffer *grid = gegl_buffer_new (&bb, fmt);
  progress_span span = { 0, 1 };
  gboolean ok = tlp_process (graph, op, NULL, grid, progress_cb, &span, error);
  if (ok)
    {
      GeglBuffer *buf = gegl_buffer_new (&area, fmt);
      GeglColor *bg = NULL;
      gegl_node_get (op, "background", &bg, NULL);
      gegl_buffer_set_color (buf, &area, bg);
      g_clear_object (&bg);
      /* centred; a grid larger than the area (a given cell size) is cropped */
      GeglRectangle from = { MAX (0, (bb.width - w) / 2), MAX (0, (bb.height - h) / 2),
                             MIN (w, bb.width), MIN (h, bb.height) };
      GeglRectangle to = { MAX (0, (w - bb.width) / 2), MAX (0, (h - bb.height) / 2),
                           from.width, from.height };
      gegl_buffer_copy (grid, &from, GEGL_ABYSS_NONE, buf, &to);
      GeglBuffer *shadow = gimp_drawable_get_shadow_buffer (drawable);
      GeglRectangle dst = { x, y, w, h };
      gegl_buffer_copy (buf, &area, GEGL_ABYSS_NONE, shadow, &dst);
      g_object_unref (shadow);   /* flushes the tiles to the core */
      g_object_unref (buf);
      gimp_drawable_merge_shadow (drawable, TRUE);
      gimp_drawable_update (drawable, x, y, w, h);
    }
  g_object_unref (grid);
  return ok;
}

/* Renders the grid into a new image of the grid's size (new_image) or into
 * the drawable (the selection's bounds, else the whole layer); returns the
 * image or -1 with error set. */
static gint32
latent_render (gint32 image, gint32 drawable, const TlpLatentVals *v, GError **error)
{
  GeglNode *graph = gegl_node_new ();
  GeglNode *op = gegl_node_new_child (graph, "operation", LATENT_OP, NULL);
  gint32 result = -1;
  char *name = NULL;
  /* setting properties may already ask the op for its bounding box, which
   * is where a bad model shows up */
  tlp_catch *c = tlp_catch_begin ();
  gboolean set = latent_node (op, v, error);
  GeglRectangle bb = set ? gegl_node_get_bounding_box (op) : (GeglRectangle) { 0, 0, 0, 0 };
  if (!tlp_catch_end (c, set ? error : NULL) || !set)
    goto out;
  if (bb.width < 1 || bb.height < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "the grid is empty");
      goto out;
    }
  if (!v->new_image)
    {
      if (drawable == -1 || !gimp_item_is_drawable (drawable))
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "no layer to fill (new-image 0 needs a drawable)");
          goto out;
        }
      gimp_image_undo_group_start (image);
      if (latent_fill (drawable, graph, op, v, error))
        result = image;
      gimp_image_undo_group_end (image);
      goto out;
    }
  gint32 target = gimp_image_new (bb.width, bb.height, GIMP_RGB);
  if (target == -1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "cannot create a %dx%d image",
                   bb.width, bb.height);
      goto out;
    }
  name = g_strdup_printf ("Latent samples — %s (%s, seed %u)", sampler_title (v->sampler),
                          v->model, v->seed);
  gint32 layer = gimp_layer_new (target, name, bb.width, bb.height, layer_type_for (target),
                                 100.0, GIMP_LAYER_MODE_NORMAL);
  GeglBuffer *out = gimp_drawable_get_buffer (layer);
  progress_span span = { 0, 1 };
  gboolean ok = tlp_process (graph, op, NULL, out, progress_cb, &span, error);
  g_object_unref (out);
  if (ok)
    {
      gimp_image_insert_layer (target, layer, -1, 0);
      gimp_drawable_update (layer, 0, 0, bb.width, bb.height);
      result = target;
    }
  else
    gimp_image_delete (target);
out:
  g_free (name);
  g_object_unref (graph);
  return result;
}

static GimpPDBStatusType
run_latent (GimpRunMode mode, gint nparams, const GimpParam *param, gint32 *image_out,
            GError **error)
{
  TlpLatentVals v = tlp_latent_defaults ();
  switch (mode)
    {
    case GIMP_RUN_INTERACTIVE:
      gimp_get_data (LATENT_PROC, &v);
      if (!tlp_latent_dialog (&v))
        return GIMP_PDB_CANCEL;
      break;
    case GIMP_RUN_NONINTERACTIVE:
      if (nparams != G_N_ELEMENTS (latent_args))
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s takes %d arguments, got %d",
                       LATENT_PROC, (int) G_N_ELEMENTS (latent_args), nparams);
          return GIMP_PDB_CALLING_ERROR;
        }
      g_strlcpy (v.model, param[3].data.d_string ? param[3].data.d_string : "", sizeof v.model);
      g_strlcpy (v.sampler, param[4].data.d_string ? param[4].data.d_string : "",
                 sizeof v.sampler);
      if (param[5].data.d_int32 < 0)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "seed %d is negative",
                       param[5].data.d_int32);
          return GIMP_PDB_CALLING_ERROR;
        }
      v.seed = (guint32) param[5].data.d_int32;
      v.count = param[6].data.d_int32;
      v.columns = param[7].data.d_int32;
      v.cell_size = param[8].data.d_int32;
      v.new_image = param[9].data.d_int32;
      g_strlcpy (v.options, param[10].data.d_string ? param[10].data.d_string : "",
                 sizeof v.options);
      break;
    case GIMP_RUN_WITH_LAST_VALS:
      gimp_get_data (LATENT_PROC, &v);
      break;
    }
  g_autofree char *found = tl_model_find (v.model, error);
  if (!found)
    return GIMP_PDB_EXECUTION_ERROR;
  if (v.new_image != 0 && v.new_image != 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "new-image %d is not 0 or 1", v.new_image);
      return GIMP_PDB_CALLING_ERROR;
    }
  gimp_progress_init ("Latent samples...");
  *image_out = latent_render (param[1].data.d_image, param[2].data.d_drawable, &v, error);
  gimp_progress_end ();
  if (*image_out == -1)
    return GIMP_PDB_EXECUTION_ERROR;
  if (mode == GIMP_RUN_INTERACTIVE)
    {
      gimp_set_data (LATENT_PROC, &v, sizeof v);
      if (v.new_image)
        gimp_display_new (*image_out);
    }
  if (mode != GIMP_RUN_NONINTERACTIVE)
    gimp_displays_flush ();
  return GIMP_PDB_SUCCESS;
}

/* ---- entry ------------------------------------------------------------ */

static void
run (const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals,
     GimpParam **return_vals)
{
  static GimpParam values[2];
  GimpRunMode mode = param[0].data.d_int32;
  GError *error = NULL;
  gint32 result = -1;
  GimpPDBStatusType status;
  gboolean latent = strcmp (name, LATENT_PROC) == 0;

  gegl_init (NULL, NULL);
  *nreturn_vals = 1;
  *return_vals = values;
  if (!tlp_ensure_op (latent ? LATENT_OP : SALIENCY_OP, gimp_get_progname (), &error))
    status = GIMP_PDB_EXECUTION_ERROR;
  else if (latent)
    status = run_latent (mode, nparams, param, &result, &error);
  else if (strcmp (name, SALIENCY_PROC) == 0)
    status = run_saliency (mode, nparams, param, &result, &error);
  else
    status = GIMP_PDB_CALLING_ERROR;

  values[0].type = GIMP_PDB_STATUS;
  values[0].data.d_status = status;
  if (status == GIMP_PDB_SUCCESS)
    {
      *nreturn_vals = 2;
      values[1].type = latent ? GIMP_PDB_IMAGE : GIMP_PDB_LAYER;
      if (latent)
        values[1].data.d_image = result;
      else
        values[1].data.d_layer = result;
    }
  else if (error)
    {
      /* shown to the user, and in the log of a batch run */
      gimp_message (error->message);
      *nreturn_vals = 2;
      values[1].type = GIMP_PDB_STRING;
      values[1].data.d_string = g_strdup (error->message);
    }
  g_clear_error (&error);
  tl_model_cache_clear ();
  gegl_exit ();
}
