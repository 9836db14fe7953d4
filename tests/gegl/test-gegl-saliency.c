/* tensorlens:saliency through the GEGL API: registration and keys, the map
 * and renderings equal the library pipeline's (tl_explain_image), exactly
 * one forward pass for a large image rendered in chunks on 2 threads, none
 * when only the rendering or the method changes, progress signals, and
 * pass-through with a warning on a bad model or layer.
 *
 * Environment (set by meson): GEGL_PATH=<build>/operations:<system ops>,
 * GEGL_SWAP=RAM, GEGL_THREADS=2, GEGL_CHUNK_SIZE=65536, TL_GEGL_OPS_DIR. */
#include "explain.h"
#include "explain-labelled.h"
#include "tl-test.h"

#include <gegl.h>
#include <gmodule.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OP "tensorlens:saliency"

static char *models_dir;
static gint64 (*op_forward_count) (void);

static tl_image *
load_fixture (const char *name)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *p = tl_test_data (name);
  tl_image *img = tl_image_load (p, &err);
  g_assert_no_error (err);
  return img;
}

static const Babl *
format_for (int channels)
{
  return babl_format (channels == 4 ? "R'G'B'A float" : "R'G'B' float");
}

static GeglBuffer *
buffer_from_image (const tl_image *img)
{
  g_assert_true (img->channels == 3 || img->channels == 4);
  GeglRectangle r = { 0, 0, img->width, img->height };
  GeglBuffer *b = gegl_buffer_new (&r, format_for (img->channels));
  gegl_buffer_set (b, &r, 0, format_for (img->channels), img->data, GEGL_AUTO_ROWSTRIDE);
  return b;
}

/* Sets a property from text, as the gegl CLI does: enums by nick. */
static void
node_set_str (GeglNode *node, const char *key, const char *value)
{
  GParamSpec *ps = gegl_operation_find_property (OP, key);
  g_assert_nonnull (ps);
  if (G_IS_PARAM_SPEC_ENUM (ps))
    {
      GEnumClass *ec = G_PARAM_SPEC_ENUM (ps)->enum_class;
      GEnumValue *v = g_enum_get_value_by_nick (ec, value);
      g_assert_nonnull (v);
      gegl_node_set (node, key, v->value, NULL);
    }
  else if (G_IS_PARAM_SPEC_DOUBLE (ps))
    gegl_node_set (node, key, g_ascii_strtod (value, NULL), NULL);
  else if (G_IS_PARAM_SPEC_INT (ps))
    gegl_node_set (node, key, atoi (value), NULL);
  else if (G_IS_PARAM_SPEC_BOOLEAN (ps))
    gegl_node_set (node, key, strcmp (value, "true") == 0, NULL);
  else
    gegl_node_set (node, key, value, NULL);
}

/* Runs src -> OP(key, value text, ..., NULL) -> RGBA float pixels (g_free). */
static float *
render_op (GeglBuffer *src, const char *first_key, ...)
{
  GeglNode *g = gegl_node_new ();
  GeglNode *s = gegl_node_new_child (g, "operation", "gegl:buffer-source", "buffer", src, NULL);
  GeglNode *op = gegl_node_new_child (g, "operation", OP, NULL);
  va_list ap;
  va_start (ap, first_key);
  for (const char *k = first_key; k; k = va_arg (ap, const char *))
    node_set_str (op, k, va_arg (ap, const char *));
  va_end (ap);
  gegl_node_link (s, op);
  const GeglRectangle *ext = gegl_buffer_get_extent (src);
  float *px = g_new (float, (size_t) ext->width * ext->height * 4);
  gegl_node_blit (op, 1.0, ext, babl_format ("R'G'B'A float"), px, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  g_object_unref (g);
  return px;
}

static void
test_registered (void)
{
  g_assert_true (gegl_has_operation (OP));
  g_assert_cmpstr (gegl_operation_get_key (OP, "title"), ==, "Saliency Map (tensorlens)");
  const char *cat = gegl_operation_get_key (OP, "categories");
  /* none of the categories GIMP 2.10's GEGL tool hides */
  static const char *hidden[] = { "hidden", "programming", "input", "output", "core",
                                  "compositors", "debug", "display", "transform", "video" };
  g_auto (GStrv) cats = g_strsplit (cat, ":", -1);
  for (char **c = cats; *c; c++)
    for (size_t i = 0; i < G_N_ELEMENTS (hidden); i++)
      g_assert_cmpstr (*c, !=, hidden[i]);
  g_assert_nonnull (gegl_operation_get_key (OP, "gimp:menu-path"));
  g_assert_nonnull (gegl_operation_get_key (OP, "description"));
  g_assert_nonnull (op_forward_count);

  /* the op's defaults are the library's */
  tl_saliency_params sp = tl_saliency_default_params ();
  tl_render_params rp = tl_render_default_params ();
  GParamSpec *ps = gegl_operation_find_property (OP, "sweeps");
  g_assert_cmpint (G_PARAM_SPEC_INT (ps)->default_value, ==, sp.sweeps);
  ps = gegl_operation_find_property (OP, "components");
  g_assert_cmpint (G_PARAM_SPEC_INT (ps)->default_value, ==, sp.components);
  ps = gegl_operation_find_property (OP, "sign-rule");
  g_assert_cmpint (G_PARAM_SPEC_BOOLEAN (ps)->default_value, ==, sp.sign_rule);
  ps = gegl_operation_find_property (OP, "opacity");
  g_assert_cmpfloat (G_PARAM_SPEC_DOUBLE (ps)->default_value, ==, rp.opacity);
  ps = gegl_operation_find_property (OP, "output");
  g_assert_cmpstr (g_enum_get_value (G_PARAM_SPEC_ENUM (ps)->enum_class,
                                     G_PARAM_SPEC_ENUM (ps)->default_value)->value_nick, ==,
                   tl_render_mode_name (rp.mode));
  ps = gegl_operation_find_property (OP, "method");
  g_assert_cmpstr (g_enum_get_value (G_PARAM_SPEC_ENUM (ps)->enum_class,
                                     G_PARAM_SPEC_ENUM (ps)->default_value)->value_nick, ==,
                   tl_saliency_method_name (sp.method));
  ps = gegl_operation_find_property (OP, "colormap");
  g_assert_cmpstr (g_enum_get_value (G_PARAM_SPEC_ENUM (ps)->enum_class,
                                     G_PARAM_SPEC_ENUM (ps)->default_value)->value_nick, ==,
                   tl_colormap_name (rp.colormap));
  for (int i = 1; i <= 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("rank%d", i);
      ps = gegl_operation_find_property (OP, name);
      g_assert_cmpint (G_PARAM_SPEC_INT (ps)->default_value, ==, sp.ranks[i - 1]);
    }
}

static double
max_diff_channel (const float *rgba, const float *ref, int n, int ref_stride, int c)
{
  double d = 0;
  for (int i = 0; i < n; i++)
    d = fmax (d, fabs ((double) rgba[(size_t) i * 4 + c] - ref[(size_t) i * ref_stride]));
  return d;
}

/* output=map is the library's full-size map, in R, G and B; alpha 1. */
static void
test_map_matches_library (gconstpointer data)
{
  const char *method = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_image) img = load_fixture ("gegl/astronaut-320.png");
  GeglBuffer *src = buffer_from_image (img);
  g_autofree float *px = render_op (src, "model", "centernet", "method", method,
                                    "output", "map", NULL);
  g_object_unref (src);

  g_autoptr (tl_model) m = tl_model_get ("centernet", &err);
  g_assert_no_error (err);
  tl_explain_params p = tl_explain_default_params ();
  g_assert_true (tl_explain_method_from_name (method, &p, &err));
  g_autoptr (tl_explanation) ex = tl_explain_image (m, img, &p, NULL, NULL, NULL, &err);
  g_assert_no_error (err);
  float mx = 0;
  for (int64_t i = 0; i < tl_tensor_numel (ex->map); i++)
    mx = MAX (mx, ex->map->data[i]);
  g_assert_cmpfloat (mx, ==, 1.0f);   /* a real map (min-max scaled), not all zeros */
  g_autofree float *full = tl_explanation_full_map (ex, &err);
  g_assert_no_error (err);
  int n = img->width * img->height;
  for (int c = 0; c < 3; c++)
    g_assert_cmpfloat (max_diff_channel (px, full, n, 1, c), <=, 1e-6);
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat (px[(size_t) i * 4 + 3], ==, 1.0f);
}

/* method=scorecam: the map equals the label-dependent pipeline the CLI's
 * `saliency --method scorecam` runs (tl_explain_labelled, every channel),
 * on an RGBA photo; the map is cached, so changing only the rendering runs
 * no forward pass, and changing the channel cap runs Score-CAM again. */
static void
test_scorecam (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_image) img = load_fixture ("gegl/chelsea-alpha.png");
  g_assert_cmpint (img->channels, ==, 4);
  GeglBuffer *src = buffer_from_image (img);
  const int W = img->width, H = img->height, n = W * H;
  GeglNode *g = gegl_node_new ();
  GeglNode *s = gegl_node_new_child (g, "operation", "gegl:buffer-source", "buffer", src, NULL);
  GeglNode *op = gegl_node_new_child (g, "operation", OP, "model", "emotion", NULL);
  node_set_str (op, "method", "scorecam");
  node_set_str (op, "output", "map");
  gegl_node_link (s, op);
  GeglRectangle r = { 0, 0, W, H };
  g_autofree float *px = g_new (float, (size_t) n * 4);
  gint64 n0 = op_forward_count ();
  gegl_node_blit (op, 1.0, &r, babl_format ("R'G'B'A float"), px, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  gint64 runs = op_forward_count () - n0;
  /* the unmasked pass (the masked inputs are scored by a batch copy of the
   * network, which this counter does not see) */
  g_assert_cmpint (runs, ==, 1);

  g_autoptr (tl_model) m = tl_model_get ("emotion", &err);
  g_assert_no_error (err);
  tl_labelled_params lp = tl_labelled_default_params ();
  g_assert_true (tl_labelled_method_lookup ("scorecam", &lp.method));
  tl_labelled_report rep;
  g_autoptr (tl_explanation) ex = tl_explain_labelled (m, img, &lp, &rep, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_cmpint (rep.channels, ==, 256);
  g_autofree float *full = tl_explanation_full_map (ex, &err);
  g_assert_no_error (err);
  float mx = 0;
  for (int i = 0; i < n; i++)
    mx = MAX (mx, full[i]);
  g_assert_cmpfloat (mx, >, 0.5f);   /* a real map, not all zeros */
  for (int c = 0; c < 3; c++)
    g_assert_cmpfloat (max_diff_channel (px, full, n, 1, c), <=, 1e-6);
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat (px[(size_t) i * 4 + 3], ==, 1.0f);   /* a map is opaque */

  /* rendering changes: no forward pass */
  node_set_str (op, "output", "heatmap");
  node_set_str (op, "colormap", "viridis");
  gegl_node_blit (op, 1.0, &r, babl_format ("R'G'B'A float"), px, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  g_assert_cmpint (op_forward_count () - n0, ==, runs);
  /* fewer channels: Score-CAM again, a different map */
  node_set_str (op, "output", "map");
  node_set_str (op, "channels", "16");
  g_autofree float *px16 = g_new (float, (size_t) n * 4);
  gegl_node_blit (op, 1.0, &r, babl_format ("R'G'B'A float"), px16, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  g_assert_cmpint (op_forward_count () - n0, >, runs);
  g_assert_cmpfloat (max_diff_channel (px16, full, n, 1, 0), >, 1e-3);
  g_object_unref (g);
  g_object_unref (src);
}

/* Overlay and masked on an RGBA image equal tl_explanation_render, alpha
 * passes through. */
static void
test_render_matches_library (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_image) img = load_fixture ("gegl/chelsea-alpha.png");
  g_assert_cmpint (img->channels, ==, 4);
  g_autoptr (tl_model) m = tl_model_get ("emotion", &err);
  g_assert_no_error (err);
  tl_explain_params p = tl_explain_default_params ();
  p.saliency.method = TL_SALIENCY_EIGENCAM;
  g_autoptr (tl_explanation) ex = tl_explain_image (m, img, &p, NULL, NULL, NULL, &err);
  g_assert_no_error (err);
  static const struct { const char *out, *cmap; tl_render_mode mode; tl_colormap map; } cases[] = {
    { "overlay", "viridis", TL_RENDER_OVERLAY, TL_COLORMAP_VIRIDIS },
    { "masked", "jet", TL_RENDER_MASKED, TL_COLORMAP_JET },
    { "heatmap", "inferno", TL_RENDER_HEATMAP, TL_COLORMAP_INFERNO },
  };
  GeglBuffer *src = buffer_from_image (img);
  int n = img->width * img->height;
  for (size_t k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autofree float *px = render_op (src, "model", "emotion", "method",
                                        "eigencam", "output", cases[k].out, "colormap",
                                        cases[k].cmap, "opacity", "0.35", NULL);
      tl_render_params rp = tl_render_default_params ();
      rp.mode = cases[k].mode;
      rp.colormap = cases[k].map;
      rp.opacity = 0.35f;
      g_autoptr (tl_image) ref = tl_explanation_render (ex, img, &rp, &err);
      g_assert_no_error (err);
      g_assert_cmpint (ref->channels, >=, 3);
      for (int c = 0; c < ref->channels; c++)
        g_assert_cmpfloat (max_diff_channel (px, ref->data + c, n, ref->channels, c), <=, 1e-6);
      if (rp.mode != TL_RENDER_HEATMAP)   /* alpha is the input's */
        for (int i = 0; i < n; i++)
          g_assert_cmpfloat (px[(size_t) i * 4 + 3], ==, img->data[(size_t) i * 4 + 3]);
    }
  g_object_unref (src);
}

static int n_progress;
static double last_progress;

/* GEGL 0.4.42's "progress" signal carries the fraction only (no message). */
static void
on_progress (GeglNode *node, gdouble fraction, gpointer user)
{
  (void) node; (void) user;
  g_assert_cmpfloat (fraction, >=, last_progress);
  g_assert_cmpfloat (fraction, <=, 1.0);
  last_progress = fraction;
  n_progress++;
}

/* A 4000x3000 image (the size) rendered in 64 KiB chunks on 2 GEGL threads: the
 * network runs once. Changing colormap, output or opacity re-renders with no
 * forward pass; so does changing the method (features are cached); a new
 * layer needs one. */
static void
test_forward_count (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (tl_image) small = load_fixture ("gegl/coffee-300x200.png");
  g_autoptr (tl_image) img = tl_image_resize (small, 4000, 3000, TL_RESAMPLE_HALF_PIXEL, &err);
  g_assert_no_error (err);
  GeglBuffer *src = buffer_from_image (img);
  GeglRectangle r = { 0, 0, 4000, 3000 };
  GeglBuffer *out = NULL;
  GeglNode *g = gegl_node_new ();
  GeglNode *s = gegl_node_new_child (g, "operation", "gegl:buffer-source", "buffer", src, NULL);
  GeglNode *op = gegl_node_new_child (g, "operation", OP, "model", "emotion", NULL);
  node_set_str (op, "method", "tsm");
  node_set_str (op, "output", "heatmap");
  node_set_str (op, "colormap", "turbo");
  GeglNode *sink = gegl_node_new_child (g, "operation", "gegl:buffer-sink", "buffer", &out,
                                        "format", babl_format ("R'G'B'A float"), NULL);
  gegl_node_link_many (s, op, sink, NULL);
  gint threads = 0, chunk = 0;
  g_object_get (gegl_config (), "threads", &threads, "chunk-size", &chunk, NULL);
  g_assert_cmpint (threads, ==, 2);
  g_assert_cmpint (chunk, ==, 65536);

  /* Drive the processor by hand to see the chunks: each gegl_processor_work
   * step renders at most one 64 KiB chunk of the 4000x3000 result. */
  gint64 n0 = op_forward_count ();
  GeglProcessor *proc = gegl_node_new_processor (sink, NULL);
  gint steps = 0;
  while (gegl_processor_work (proc, NULL))
    steps++;
  g_object_unref (proc);
  g_assert_cmpint (steps, >, 1);
  g_assert_cmpint (op_forward_count () - n0, ==, 1);
  float first[4], again[4];
  GeglRectangle px = { 1900, 1400, 1, 1 };
  gegl_buffer_get (out, &px, 1.0, babl_format ("R'G'B'A float"), first, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  g_clear_object (&out);

  node_set_str (op, "colormap", "gray");
  gegl_node_process (sink);
  g_assert_cmpint (op_forward_count () - n0, ==, 1);
  gegl_buffer_get (out, &px, 1.0, babl_format ("R'G'B'A float"), again, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  g_assert_true (memcmp (first, again, sizeof first) != 0);   /* it did re-render */
  g_assert_cmpfloat (again[0], ==, again[1]);                 /* grey now */
  g_clear_object (&out);

  node_set_str (op, "output", "overlay");
  node_set_str (op, "opacity", "0.8");
  gegl_node_process (sink);
  g_clear_object (&out);
  node_set_str (op, "method", "eigencam");
  gegl_node_process (sink);
  g_assert_cmpint (op_forward_count () - n0, ==, 1);
  g_clear_object (&out);

  gegl_node_set (op, "layer", "StatefulPartitionedCall/model_1/add_1/add", NULL);
  gegl_node_process (sink);
  g_assert_cmpint (op_forward_count () - n0, ==, 2);
  g_assert_cmpint (gegl_buffer_get_extent (out)->width, ==, r.width);
  g_clear_object (&out);
  g_object_unref (g);
  g_object_unref (src);
}

/* Progress reaches the node's "progress" signal, rising to 1. (GEGL emits
 * it only when the op runs on the main thread, hence threads = 1 here.)
 * Score-CAM, the long one, reports every batch of masked inputs: emotion's
 * 256 channels in batches of 8 give at least 32 signals. */
static void
test_progress (gconstpointer data)
{
  const char *method = data;
  g_autoptr (tl_image) img = load_fixture ("gegl/coffee-300x200.png");
  GeglBuffer *src = buffer_from_image (img);
  gint threads = 0;
  g_object_get (gegl_config (), "threads", &threads, NULL);
  g_object_set (gegl_config (), "threads", 1, NULL);
  GeglNode *g = gegl_node_new ();
  GeglNode *s = gegl_node_new_child (g, "operation", "gegl:buffer-source", "buffer", src, NULL);
  gboolean scorecam = strcmp (method, "scorecam") == 0;
  /* Score-CAM: the default layer (256 channels); else another layer than
   * the other tests', so that the feature cache cannot answer */
  GeglNode *op = gegl_node_new_child (g, "operation", OP, "model", "emotion", "layer",
                                      scorecam ? "" : "StatefulPartitionedCall/model_1/add_1/add",
                                      NULL);
  node_set_str (op, "method", method);
  gegl_node_link (s, op);
  g_signal_connect (op, "progress", G_CALLBACK (on_progress), NULL);
  n_progress = 0;
  last_progress = 0;
  gint64 n0 = op_forward_count ();
  g_autofree float *px = g_new (float, 300 * 200 * 4);
  gegl_node_blit (op, 1.0, gegl_buffer_get_extent (src), babl_format ("R'G'B'A float"), px,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  g_assert_cmpint (op_forward_count () - n0, ==, 1);
  g_assert_cmpint (n_progress, >=, scorecam ? 32 : 3);
  g_assert_cmpfloat (last_progress, ==, 1.0);
  g_object_set (gegl_config (), "threads", threads, NULL);
  g_object_unref (g);
  g_object_unref (src);
}

/* A bad model or layer: a warning naming the problem, the input unchanged. */
static void
test_pass_through (gconstpointer data)
{
  const char *which = data;
  g_autoptr (tl_image) img = load_fixture ("gegl/chelsea-alpha.png");
  GeglBuffer *src = buffer_from_image (img);
  gboolean bad_model = strcmp (which, "model") == 0;
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING,
                         bad_model ? "*model 'no-such-model'*passing the image through*"
                                   : "*layer 'no/such/layer'*passing the image through*");
  g_autofree float *px = bad_model
    ? render_op (src, "model", "no-such-model", NULL)
    : render_op (src, "model", "emotion", "layer", "no/such/layer", NULL);
  g_test_assert_expected_messages ();
  g_object_unref (src);
  tl_assert_close (px, img->data, (size_t) img->width * img->height * 4, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gegl_init (NULL, NULL);
  const char *root = g_getenv ("TL_SOURCE_ROOT");
  models_dir = g_build_filename (root ? root : ".", "models", NULL);
  g_setenv ("TENSORLENS_MODELS_DIR", models_dir, TRUE);   /* read by the op too */

  /* The op module carries its own libtensorlens; ask it for its counter. */
  const char *dir = g_getenv ("TL_GEGL_OPS_DIR");
  g_autofree char *so = g_build_filename (dir ? dir : ".", "tensorlens-saliency.so", NULL);
  GModule *mod = g_module_open (so, G_MODULE_BIND_LAZY);
  if (mod)
    g_module_symbol (mod, "tensorlens_saliency_forward_count", (gpointer *) &op_forward_count);

  g_test_add_func ("/gegl/saliency/registered", test_registered);
  g_test_add_data_func ("/gegl/saliency/map-matches-library/eigencam", "eigencam",
                        test_map_matches_library);
  g_test_add_data_func ("/gegl/saliency/map-matches-library/tsm", "tsm",
                        test_map_matches_library);
  g_test_add_data_func ("/gegl/saliency/map-matches-library/gradcam", "gradcam",
                        test_map_matches_library);
  g_test_add_func ("/gegl/saliency/map-matches-library/scorecam", test_scorecam);
  g_test_add_func ("/gegl/saliency/render-matches-library", test_render_matches_library);
  g_test_add_func ("/gegl/saliency/forward-count", test_forward_count);
  g_test_add_data_func ("/gegl/saliency/progress/eigencam", "eigencam", test_progress);
  g_test_add_data_func ("/gegl/saliency/progress/scorecam", "scorecam", test_progress);
  g_test_add_data_func ("/gegl/saliency/pass-through/bad-model", "model", test_pass_through);
  g_test_add_data_func ("/gegl/saliency/pass-through/bad-layer", "layer", test_pass_through);
  int r = g_test_run ();
  if (mod)
    g_module_close (mod);
  tl_model_cache_clear ();
  gegl_exit ();
  g_free (models_dir);
  return r;
}
