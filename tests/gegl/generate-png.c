/* generate-png MODEL SAMPLER SEED COUNT COLUMNS CELL SPACING OUT.png
 * The library alone (tl_generate_grid, no GEGL), black opaque background:
 * the reference for tensorlens:latent-samples compositions. */
#include "generate.h"

#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  if (argc != 9)
    {
      fprintf (stderr, "usage: generate-png MODEL SAMPLER SEED COUNT COLUMNS CELL SPACING OUT.png\n");
      return 2;
    }
  GError *err = NULL;
  tl_generate_params p = tl_generate_default_params ();
  p.seed = strtoull (argv[3], NULL, 10);
  p.count = atoi (argv[4]);
  p.columns = atoi (argv[5]);
  p.cell_size = atoi (argv[6]);
  p.spacing = atoi (argv[7]);
  g_autoptr (tl_model) model = tl_model_get (argv[1], &err);
  g_autoptr (tl_image) grid = NULL;
  if (model && tl_sampler_kind_from_name (argv[2], &p.sampler.kind, &err)
      && (grid = tl_generate_grid (model, &p, NULL, NULL, &err))
      && tl_image_save_png (grid, argv[8], 8, &err))
    return 0;
  fprintf (stderr, "generate-png: %s\n", err->message);
  g_error_free (err);
  return 1;
}
