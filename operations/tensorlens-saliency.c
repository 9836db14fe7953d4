/* tensorlens:saliency — where does a CNN look? A label-free saliency map of
 * the input (EigenCAM, Multivec-EigenCAM, TSM, MTSM) rendered as a heat
 * map, a grey map, an overlay or a masked image.
 *
 * The network sees the whole image, so this is a whole-image filter (the
 * gegl:stretch-contrast pattern): required, cached and invalidated regions
 * are the full input, and process() is not threaded. All the work is in
 * libtensorlens (tl_explain_rows); this file moves pixels. The features of
 * recent images are cached by content, so changing only the method or its
 * parameters costs no forward pass, and changing only output, colormap or
 * opacity costs one rendering pass. On failure (missing model, unknown
 * layer) the op warns and passes the input through unchanged. */

#ifdef GEGL_PROPERTIES

enum_start (tensorlens_saliency_method)
  enum_value (TENSORLENS_SALIENCY_EIGENCAM, "eigencam", "EigenCAM")
  enum_value (TENSORLENS_SALIENCY_MULTIVEC_EIGENCAM, "multivec-eigencam", "Multivec-EigenCAM")
  enum_value (TENSORLENS_SALIENCY_TSM, "tsm", "TSM (Tucker saliency map)")
  enum_value (TENSORLENS_SALIENCY_MTSM, "mtsm", "MTSM (multivector Tucker)")
  enum_value (TENSORLENS_SALIENCY_GRADCAM, "gradcam", "Grad-CAM (baseline, needs a class)")
  enum_value (TENSORLENS_SALIENCY_GRADCAM_PLUS_PLUS, "gradcam-plus-plus",
              "Grad-CAM++ (baseline, needs a class)")
  enum_value (TENSORLENS_SALIENCY_SCORECAM, "scorecam",
              "Score-CAM (baseline, one forward pass per channel)")
enum_end (TensorlensSaliencyMethod)

enum_start (tensorlens_saliency_weighting)
  enum_value (TENSORLENS_SALIENCY_WEIGHT_SIGMA, "sigma", "Singular value")
  enum_value (TENSORLENS_SALIENCY_WEIGHT_SIGMA2, "sigma2", "Squared singular value")
  enum_value (TENSORLENS_SALIENCY_WEIGHT_UNIFORM, "uniform", "Uniform")
enum_end (TensorlensSaliencyWeighting)

enum_start (tensorlens_saliency_output)
  enum_value (TENSORLENS_SALIENCY_OUTPUT_HEATMAP, "heatmap", "Heat map")
  enum_value (TENSORLENS_SALIENCY_OUTPUT_MAP, "map", "Grey map")
  enum_value (TENSORLENS_SALIENCY_OUTPUT_OVERLAY, "overlay", "Overlay")
  enum_value (TENSORLENS_SALIENCY_OUTPUT_MASKED, "masked", "Masked image")
enum_end (TensorlensSaliencyOutput)

enum_start (tensorlens_saliency_colormap)
  enum_value (TENSORLENS_SALIENCY_TURBO, "turbo", "Turbo")
  enum_value (TENSORLENS_SALIENCY_JET, "jet", "Jet")
  enum_value (TENSORLENS_SALIENCY_VIRIDIS, "viridis", "Viridis")
  enum_value (TENSORLENS_SALIENCY_INFERNO, "inferno", "Inferno")
  enum_value (TENSORLENS_SALIENCY_MAGMA, "magma", "Magma")
  enum_value (TENSORLENS_SALIENCY_GRAY, "gray", "Gray")
enum_end (TensorlensSaliencyColormap)

property_string (model, "Model", "centernet")
  description ("Bundled model name (centernet, faceres, emotion, ...) or the path of a model "
               "card (.json) or ONNX file")

property_string (layer, "Layer", "")
  description ("Name of the feature tensor to explain; empty = the model's default target layer")

/* default = tl_saliency_default_params ().method (a test checks it) */
property_enum (method, "Method", TensorlensSaliencyMethod, tensorlens_saliency_method,
               TENSORLENS_SALIENCY_EIGENCAM)
  description ("Label-free saliency method: EigenCAM (first principal component of the "
               "features), Multivec-EigenCAM (weighted sum of components), TSM and MTSM "
               "(Tucker decomposition of the feature tensor); or a label-dependent baseline, "
               "Grad-CAM or Grad-CAM++ (classifiers and detectors), or Score-CAM (any "
               "model; slow: it scores the image masked by each channel)")

property_int (target, "Target class", -1)
  description ("Grad-CAM/Grad-CAM++/Score-CAM: class index to explain; -1 = the predicted "
               "class (label-free methods need none)")
  value_range (-1, 100000)
  ui_range (-1, 999)

property_int (rank1, "Rank R1 (channels)", 0)
  description ("TSM/MTSM Tucker rank of the channel mode; 0 = automatic")
  value_range (0, 65536)
  ui_range (0, 64)

property_int (rank2, "Rank R2 (height)", 0)
  description ("TSM/MTSM Tucker rank of the height mode; 0 = automatic (full)")
  value_range (0, 8192)
  ui_range (0, 64)

property_int (rank3, "Rank R3 (width)", 0)
  description ("TSM/MTSM Tucker rank of the width mode; 0 = automatic (full)")
  value_range (0, 8192)
  ui_range (0, 64)

property_int (components, "Components", 0)
  description ("Multivec-EigenCAM: number of components summed; 0 = every non-zero one")
  value_range (0, 65536)
  ui_range (0, 64)

property_int (channels, "Score-CAM channels", 0)
  description ("Score-CAM: use the N channels with the largest mean activation "
               "(one masked forward pass each); 0 = every channel")
  value_range (0, 65536)
  ui_range (0, 512)

property_int (batch, "Score-CAM batch", 8)
  description ("Score-CAM: masked inputs scored per forward pass (speed and memory only; "
               "the map does not depend on it)")
  value_range (1, 64)
  ui_range (1, 64)

property_enum (weighting, "Weighting", TensorlensSaliencyWeighting,
               tensorlens_saliency_weighting, TENSORLENS_SALIENCY_WEIGHT_SIGMA)
  description ("How the multivector methods weight their components")

property_boolean (sign_rule, "Sign rule", TRUE)
  description ("EigenCAM: fix the arbitrary sign of the principal component so the map "
               "follows the feature energy (off = whatever LAPACK returned)")

property_int (sweeps, "HOOI sweeps", 20)
  description ("TSM/MTSM: maximum number of HOOI sweeps")
  value_range (1, 1000)
  ui_range (1, 50)

property_enum (output, "Output", TensorlensSaliencyOutput, tensorlens_saliency_output,
               TENSORLENS_SALIENCY_OUTPUT_OVERLAY)
  description ("Heat map (colormap of the saliency), grey map, overlay of the heat map on "
               "the image, or the image masked by the saliency")

property_enum (colormap, "Colormap", TensorlensSaliencyColormap, tensorlens_saliency_colormap,
               TENSORLENS_SALIENCY_JET)
  description ("Colour map for the heat map and overlay outputs")

property_double (opacity, "Opacity", 0.5)
  description ("Overlay: weight of the heat map over the image")
  value_range (0.0, 1.0)
  ui_meta ("visible", "output {overlay}")

#else

#define GEGL_OP_FILTER
#define GEGL_OP_NAME     tensorlens_saliency
#define GEGL_OP_C_SOURCE tensorlens-saliency.c

#include <glib/gi18n-lib.h>   /* gegl-op.h translates enum names */
#include "gegl-op.h"

#include "explain.h"
#include "explain-labelled.h"
#include "tensorlens-op.h"

#include <string.h>

/* Features of recent images, shared by every node of this op in the
 * process (a GIMP preview and the final render hit the same entry). */
static tl_explain_cache *
feature_cache (void)
{
  static gsize once;
  static tl_explain_cache *cache;
  if (g_once_init_enter (&once))
    {
      cache = tl_explain_cache_new (4);
      g_once_init_leave (&once, 1);
    }
  return cache;
}

/* For tests: forward passes run by this module's own copy of libtensorlens
 * (with the time below, the only symbols exported besides the GEGL module
 * entry points). */
G_MODULE_EXPORT gint64 tensorlens_saliency_forward_count (void);

gint64
tensorlens_saliency_forward_count (void)
{
  return tl_model_forward_count ();
}

/* For benchmarks: wall time of those passes, microseconds. */
G_MODULE_EXPORT gint64 tensorlens_saliency_forward_usec (void);

gint64
tensorlens_saliency_forward_usec (void)
{
  return tl_model_forward_usec ();
}

static void
prepare (GeglOperation *operation)
{
  const Babl *space = gegl_operation_get_source_space (operation, "input");
  const Babl *fmt = babl_format_with_space ("R'G'B'A float", space);
  gegl_operation_set_format (operation, "input", fmt);
  gegl_operation_set_format (operation, "output", fmt);
}

/* The network needs the whole image: every region is the whole input. */
static GeglRectangle
whole (GeglOperation *operation, const GeglRectangle *fallback)
{
  const GeglRectangle *in = gegl_operation_source_get_bounding_box (operation, "input");
  return (!in || gegl_rectangle_is_infinite_plane (in)) ? *fallback : *in;
}

static GeglRectangle
get_required_for_output (GeglOperation *operation, const gchar *pad, const GeglRectangle *roi)
{
  return whole (operation, roi);
}

static GeglRectangle
get_cached_region (GeglOperation *operation, const GeglRectangle *roi)
{
  return whole (operation, roi);
}

static GeglRectangle
get_invalidated_by_change (GeglOperation *operation, const gchar *pad,
                           const GeglRectangle *roi)
{
  return whole (operation, roi);
}

static tl_explain_params
explain_params (GeglProperties *o)
{
  static const tl_saliency_method methods[] = {
    [TENSORLENS_SALIENCY_EIGENCAM] = TL_SALIENCY_EIGENCAM,
    [TENSORLENS_SALIENCY_MULTIVEC_EIGENCAM] = TL_SALIENCY_MULTIVEC_EIGENCAM,
    [TENSORLENS_SALIENCY_TSM] = TL_SALIENCY_TSM,
    [TENSORLENS_SALIENCY_MTSM] = TL_SALIENCY_MTSM,
    [TENSORLENS_SALIENCY_GRADCAM] = TL_SALIENCY_EIGENCAM,   /* unused */
    [TENSORLENS_SALIENCY_GRADCAM_PLUS_PLUS] = TL_SALIENCY_EIGENCAM,
    [TENSORLENS_SALIENCY_SCORECAM] = TL_SALIENCY_EIGENCAM,
  };
  static const tl_saliency_weighting weightings[] = {
    [TENSORLENS_SALIENCY_WEIGHT_SIGMA] = TL_SALIENCY_WEIGHT_SIGMA,
    [TENSORLENS_SALIENCY_WEIGHT_SIGMA2] = TL_SALIENCY_WEIGHT_SIGMA2,
    [TENSORLENS_SALIENCY_WEIGHT_UNIFORM] = TL_SALIENCY_WEIGHT_UNIFORM,
  };
  tl_explain_params e = tl_explain_default_params ();
  e.kind = o->method == TENSORLENS_SALIENCY_GRADCAM ? TL_EXPLAIN_GRADCAM
           : o->method == TENSORLENS_SALIENCY_GRADCAM_PLUS_PLUS ? TL_EXPLAIN_GRADCAM_PLUS_PLUS
           : TL_EXPLAIN_LABEL_FREE;
  tl_saliency_params *p = &e.saliency;
  p->method = methods[o->method];
  p->layer = o->layer;
  p->target = o->target;
  p->ranks[0] = o->rank1;
  p->ranks[1] = o->rank2;
  p->ranks[2] = o->rank3;
  p->components = o->components;
  p->weighting = weightings[o->weighting];
  p->sign_rule = o->sign_rule;
  p->sweeps = o->sweeps;
  return e;
}

/* Score-CAM goes through the label-dependent pipeline (the CLI's). */
static tl_labelled_params
labelled_params (GeglProperties *o)
{
  tl_labelled_params l = tl_labelled_default_params ();
  l.method = TL_LABELLED_SCORECAM;
  l.layer = o->layer;
  l.target = o->target;
  l.channels = o->channels;
  l.batch = o->batch;
  return l;
}

static tl_render_params
render_params (GeglProperties *o)
{
  static const tl_render_mode modes[] = {
    [TENSORLENS_SALIENCY_OUTPUT_HEATMAP] = TL_RENDER_HEATMAP,
    [TENSORLENS_SALIENCY_OUTPUT_MAP] = TL_RENDER_MAP,
    [TENSORLENS_SALIENCY_OUTPUT_OVERLAY] = TL_RENDER_OVERLAY,
    [TENSORLENS_SALIENCY_OUTPUT_MASKED] = TL_RENDER_MASKED,
  };
  static const tl_colormap maps[] = {
    [TENSORLENS_SALIENCY_TURBO] = TL_COLORMAP_TURBO,
    [TENSORLENS_SALIENCY_JET] = TL_COLORMAP_JET,
    [TENSORLENS_SALIENCY_VIRIDIS] = TL_COLORMAP_VIRIDIS,
    [TENSORLENS_SALIENCY_INFERNO] = TL_COLORMAP_INFERNO,
    [TENSORLENS_SALIENCY_MAGMA] = TL_COLORMAP_MAGMA,
    [TENSORLENS_SALIENCY_GRAY] = TL_COLORMAP_GRAY,
  };
  tl_render_params r = tl_render_default_params ();
  r.mode = modes[o->output];
  r.colormap = maps[o->colormap];
  r.opacity = (float) o->opacity;
  return r;
}

/* tl_rows_func over the input buffer: RGB rows relative to its extent. */
typedef struct {
  GeglBuffer          *buffer;
  GeglRectangle        extent;
  const Babl          *rgb;
} row_source;

static gboolean
read_rows (void *user, int y, int n, float *rgb, GError **error)
{
  row_source *s = user;
  GeglRectangle r = { s->extent.x, s->extent.y + y, s->extent.width, n };
  gegl_buffer_get (s->buffer, &r, 1.0, s->rgb, rgb, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP);
  return TRUE;
}

/* Rendering is split into row ranges over GEGL's worker threads (the op
 * itself is not threaded: the network must run once). Each range renders
 * strip by strip with its own buffers: no full-size copy. */
typedef struct {
  const tl_map_sampler   *sampler;
  const tl_render_params *rp;
  GeglBuffer             *input, *output;
  const GeglRectangle    *extent;
  int                     y0;    /* first row of the range to render */
  const Babl             *fmt;
} render_job;

static void
render_range (gsize offset, gsize size, gpointer user)
{
  const render_job *j = user;
  const int S = TL_EXPLAIN_STRIP_ROWS, W = j->extent->width;
  float *src = g_new (float, (size_t) W * S * 4);
  float *dst = g_new (float, (size_t) W * S * 4);
  float *row = g_new (float, W);
  const int first = j->y0 + (int) offset, end = first + (int) size;
  for (int y0 = first; y0 < end; y0 += S)
    {
      GeglRectangle r = { j->extent->x, y0, W, MIN (S, end - y0) };
      gegl_buffer_get (j->input, &r, 1.0, j->fmt, src, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP);
      for (int k = 0; k < r.height; k++)
        {
          tl_map_sampler_row (j->sampler, y0 + k - j->extent->y, row);
          size_t off = (size_t) k * W * 4;
          tl_render_row (j->rp, src + off, 4, row, dst + off, 4, W);
        }
      gegl_buffer_set (j->output, &r, 0, j->fmt, dst, GEGL_AUTO_ROWSTRIDE);
    }
  g_free (src);
  g_free (dst);
  g_free (row);
}

static gboolean
render (GeglOperation *operation, const tl_explanation *ex, const tl_render_params *rp,
        GeglBuffer *input, GeglBuffer *output, const GeglRectangle *extent,
        const GeglRectangle *result, const Babl *fmt, GError **error)
{
  tl_map_sampler *sampler = tl_explanation_sampler (ex, error);
  if (!sampler)
    return FALSE;
  GeglRectangle todo;
  if (gegl_rectangle_intersect (&todo, result, extent))
    {
      render_job job = { sampler, rp, input, output, extent, todo.y, fmt };
      /* cost of a thread in rows: GEGL's pixels-per-thread over the width */
      double per_thread = gegl_operation_get_pixels_per_thread (operation) / extent->width;
      gegl_parallel_distribute_range (todo.height, MAX (per_thread, TL_EXPLAIN_STRIP_ROWS),
                                      render_range, &job);
    }
  tl_map_sampler_free (sampler);
  return TRUE;
}

static gboolean
process (GeglOperation *operation, GeglBuffer *input, GeglBuffer *output,
         const GeglRectangle *result, gint level)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  const Babl *fmt = gegl_operation_get_format (operation, "output");
  const Babl *space = gegl_operation_get_source_space (operation, "input");
  GeglRectangle extent = whole (operation, result);
  GError *err = NULL;
  tl_model *model = NULL;
  tl_explanation *ex = NULL;

  tl_explain_params sp = explain_params (o);
  tl_render_params rp = render_params (o);
  gboolean ok = tl_render_params_check (&rp, &err);
  if (ok)
    ok = (model = tl_model_get (o->model, &err)) != NULL;
  if (ok)
    {
      row_source src = { input, extent, babl_format_with_space ("R'G'B' float", space) };
      if (o->method == TENSORLENS_SALIENCY_SCORECAM)
        {
          tl_labelled_params lp = labelled_params (o);
          ex = tl_explain_labelled_rows (model, extent.width, extent.height, read_rows, &src,
                                         &lp, feature_cache (), NULL, tensorlens_op_progress,
                                         operation, &err);
        }
      else
        ex = tl_explain_rows (model, extent.width, extent.height, read_rows, &src, &sp,
                              feature_cache (), tensorlens_op_progress, operation, &err);
      ok = ex != NULL;
    }
  if (ok)
    ok = render (operation, ex, &rp, input, output, &extent, result, fmt, &err);
  if (!ok)
    {
      g_autofree char *m = g_strdup_printf ("%s; passing the image through unchanged",
                                            err ? err->message : "unknown error");
      tensorlens_op_warn (operation, m, FALSE);
      gegl_buffer_copy (input, result, GEGL_ABYSS_NONE, output, result);
    }
  g_clear_error (&err);
  tl_explanation_free (ex);
  tl_model_unref (model);
  return TRUE;
}

/* An infinite input (e.g. a bare colour source) cannot be explained: pass
 * it through, as gegl:stretch-contrast does. */
static gboolean
operation_process (GeglOperation *operation, GeglOperationContext *context,
                   const gchar *output_prop, const GeglRectangle *result, gint level)
{
  GeglOperationClass *operation_class = GEGL_OPERATION_CLASS (gegl_op_parent_class);
  const GeglRectangle *in_rect = gegl_operation_source_get_bounding_box (operation, "input");
  if (in_rect && gegl_rectangle_is_infinite_plane (in_rect))
    {
      gpointer in = gegl_operation_context_get_object (context, "input");
      gegl_operation_context_take_object (context, "output", g_object_ref (G_OBJECT (in)));
      return TRUE;
    }
  return operation_class->process (operation, context, output_prop, result,
                                   gegl_operation_context_get_level (context));
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  GeglOperationClass *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationFilterClass *filter_class = GEGL_OPERATION_FILTER_CLASS (klass);

  filter_class->process = process;
  operation_class->prepare = prepare;
  operation_class->process = operation_process;
  operation_class->get_required_for_output = get_required_for_output;
  operation_class->get_invalidated_by_change = get_invalidated_by_change;
  operation_class->get_cached_region = get_cached_region;
  operation_class->threaded = FALSE;

  static const tensorlens_op_keys keys = {
    "tensorlens:saliency", "Saliency Map (tensorlens)", "enhance:analysis",
    "<Image>/Filters/Tensorlens", "Saliency Map...",
    "Shows where a convolutional network looks in the image: a label-free saliency map "
    "(EigenCAM, Multivec-EigenCAM, TSM or MTSM on a layer's features, or the Grad-CAM, "
    "Grad-CAM++ and Score-CAM baselines for a class) rendered as a heat map, a grey map, an "
    "overlay or a masked image. The whole image is analysed at once.",
  };
  tensorlens_op_set_keys (operation_class, &keys, FALSE);
}

#endif
