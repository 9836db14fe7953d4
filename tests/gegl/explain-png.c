/* explain-png IMAGE MODEL METHOD OUTPUT COLORMAP OPACITY BITS OUT.png
 * The library pipeline alone (tl_explain_image + tl_explanation_render, no
 * GEGL): the reference the GEGL op's renderings are compared with. */
#include "explain.h"

#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  if (argc != 9)
    {
      fprintf (stderr, "usage: explain-png IMAGE MODEL METHOD OUTPUT COLORMAP OPACITY BITS OUT.png\n");
      return 2;
    }
  GError *err = NULL;
  g_autoptr (tl_image) img = tl_image_load (argv[1], &err);
  g_autoptr (tl_model) model = img ? tl_model_get (argv[2], &err) : NULL;
  tl_explain_params sp = tl_explain_default_params ();
  tl_render_params rp = tl_render_default_params ();
  rp.opacity = (float) g_ascii_strtod (argv[6], NULL);
  g_autoptr (tl_explanation) ex = NULL;
  g_autoptr (tl_image) out = NULL;
  if (model && tl_explain_method_from_name (argv[3], &sp, &err)
      && tl_render_mode_from_name (argv[4], &rp.mode, &err)
      && tl_colormap_from_name (argv[5], &rp.colormap, &err)
      && (ex = tl_explain_image (model, img, &sp, NULL, NULL, NULL, &err))
      && (out = tl_explanation_render (ex, img, &rp, &err))
      && tl_image_save_png (out, argv[8], atoi (argv[7]), &err))
    return 0;
  fprintf (stderr, "explain-png: %s\n", err->message);
  g_error_free (err);
  return 1;
}
