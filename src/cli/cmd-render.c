/* tensorlens render --image IMG --map MAP.npy --output OUT.png: draws a
 * saliency map (any resolution, e.g. the H x W map of `tensorlens
 * saliency`) over an image as a heat map, grey map, overlay or masked
 * image. The map covers the model input; by default that input was the
 * whole image stretched, with --letterbox the geometry of a letterboxed
 * --width x --height input (methods.md, Finishing 3-4). */
#include "commands.h"
#include "error.h"
#include "image.h"
#include "npy.h"
#include "preprocess.h"
#include "render.h"

#include <stdio.h>

typedef struct {
  char    *image, *map, *output, *mode, *colormap;
  double   opacity;
  int      n_threads, width, height, bit_depth;
  gboolean letterbox;
} options;

/* A 2-D map, or one with leading axes of size 1 (1 x H x W, 1 x 1 x H x W). */
static bool
map_dims (const tl_tensor *t, const char *path, int *w, int *h, GError **error)
{
  bool ok = t->ndim >= 2;
  for (int i = 0; ok && i < t->ndim - 2; i++)
    ok = t->shape[i] == 1;
  if (!ok || t->shape[t->ndim - 1] < 1 || t->shape[t->ndim - 2] < 1
      || t->shape[t->ndim - 1] > G_MAXINT || t->shape[t->ndim - 2] > G_MAXINT)
    {
      char buf[96];
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: map has shape %s, expected H x W (leading axes of size 1 allowed)",
                   path, tl_shape_str (t->ndim, t->shape, buf, sizeof buf));
      return false;
    }
  *w = (int) t->shape[t->ndim - 1];
  *h = (int) t->shape[t->ndim - 2];
  return true;
}

static bool
build_params (const options *o, tl_render_params *rp, GError **error)
{
  *rp = tl_render_default_params ();
  if (o->mode && !tl_render_mode_from_name (o->mode, &rp->mode, error))
    return false;
  if (o->colormap && !tl_colormap_from_name (o->colormap, &rp->colormap, error))
    return false;
  rp->opacity = (float) o->opacity;
  rp->n_threads = o->n_threads;
  if (!(o->opacity >= 0.0 && o->opacity <= 1.0))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "--opacity %g: must be in [0, 1]",
                   o->opacity);
      return false;
    }
  if (o->n_threads < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "--n-threads %d: must be 0 (all cores) or more", o->n_threads);
      return false;
    }
  if (o->bit_depth != 8 && o->bit_depth != 16)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "--bit-depth %d: must be 8 or 16",
                   o->bit_depth);
      return false;
    }
  if (o->letterbox && (o->width < 1 || o->height < 1))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "--letterbox needs the model input size: --width and --height");
      return false;
    }
  return true;
}

static int
run (options *o)
{
  GError *error = NULL;
  tl_render_params rp;
  if (!build_params (o, &rp, &error))
    return tl_cli_fail (error);
  g_autoptr (tl_image) img = tl_image_load (o->image, &error);
  if (!img)
    return tl_cli_fail (error);
  g_autoptr (tl_tensor) map = tl_npy_load (o->map, &error);
  int mw, mh;
  if (!map || !map_dims (map, o->map, &mw, &mh, &error))
    return tl_cli_fail (error);

  tl_preprocess_params pp = tl_preprocess_default_params ();
  pp.letterbox = o->letterbox;
  pp.width = o->width > 0 ? o->width : mw;
  pp.height = o->height > 0 ? o->height : mh;
  tl_preprocess_geometry g = tl_preprocess_geometry_for (&pp, img->width, img->height);
  g_autoptr (tl_image) out = tl_render_unmap (&rp, img, &g, map->data, mw, mh, &error);
  if (!out || !tl_image_save_png (out, o->output, o->bit_depth, &error))
    return tl_cli_fail (error);
  return 0;
}

int
tl_cmd_render (int argc, char **argv)
{
  options o = { .opacity = 0.5, .n_threads = 1, .bit_depth = 8 };
  GOptionEntry entries[] = {
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &o.image, "Input image (PNG or JPEG)", "IMG" },
    { "map", 'm', 0, G_OPTION_ARG_FILENAME, &o.map,
      "Saliency map HxW in [0,1] (.npy float32), over the model input", "MAP.npy" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output, "Output PNG", "OUT.png" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &o.mode,
      "heatmap, map, overlay (default) or masked", "MODE" },
    { "colormap", 0, 0, G_OPTION_ARG_STRING, &o.colormap,
      "turbo, jet (default), viridis, inferno, magma or gray", "NAME" },
    { "opacity", 0, 0, G_OPTION_ARG_DOUBLE, &o.opacity,
      "Overlay: out = (1-A)*image + A*heat (default 0.5)", "A" },
    { "letterbox", 0, 0, G_OPTION_ARG_NONE, &o.letterbox,
      "The model input was letterboxed (needs --width, --height)", NULL },
    { "width", 0, 0, G_OPTION_ARG_INT, &o.width, "Model input width (with --letterbox)", "W" },
    { "height", 0, 0, G_OPTION_ARG_INT, &o.height, "Model input height (with --letterbox)",
      "H" },
    { "n-threads", 0, 0, G_OPTION_ARG_INT, &o.n_threads, "Threads (0 = all cores; default 1)",
      "N" },
    { "bit-depth", 0, 0, G_OPTION_ARG_INT, &o.bit_depth, "PNG bit depth, 8 (default) or 16",
      "8|16" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx
      = g_option_context_new ("--image IMG --map MAP.npy --output OUT.png");
  g_option_context_set_summary (ctx, "Draw a saliency map over an image.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  int status = 2;
  if (tl_cli_parse (ctx, &argc, &argv))
    {
      if (argc > 1)
        fprintf (stderr, "tensorlens render: unexpected argument '%s' (see --help)\n", argv[1]);
      else if (!o.image || !o.map || !o.output)
        fprintf (stderr,
                 "tensorlens render: --image, --map and --output are required (see --help)\n");
      else
        status = run (&o);
    }
  g_free (o.image);
  g_free (o.map);
  g_free (o.output);
  g_free (o.mode);
  g_free (o.colormap);
  return status;
}
