/* tensorlens:latent-samples — a grid of images decoded from samples of an
 * autoencoder's latent space: the PMF/quantisation vicinity sampler (or a
 * GMM, a single Gaussian, the N(0, I) prior) fitted on the model's latent
 * bank, sample k of the seed's stream in cell k. The bounding box is the
 * grid; the whole grid is rendered at once (every cell is a decoder run)
 * and is the same for the same seed. All the work is in libtensorlens
 * (tl_generate_grid). On failure the op warns and renders nothing. */

#include "pmf.h"   /* TL_PMF_DEFAULT_LEVELS / _RADIUS */

#ifdef GEGL_PROPERTIES

enum_start (tensorlens_latent_sampler)
  enum_value (TENSORLENS_LATENT_PMF, "pmf", "PMF vicinity sampler")
  enum_value (TENSORLENS_LATENT_GMM, "gmm", "Gaussian mixture")
  enum_value (TENSORLENS_LATENT_GAUSSIAN, "gaussian", "Single Gaussian")
  enum_value (TENSORLENS_LATENT_PRIOR, "prior", "Prior N(0, I)")
enum_end (TensorlensLatentSampler)

property_string (model, "Model", "fmnist-ae")
  description ("Bundled autoencoder name (fmnist-ae, emoji-ae, ...) or the path of its card "
               "(.json)")

property_enum (sampler, "Sampler", TensorlensLatentSampler, tensorlens_latent_sampler,
               TENSORLENS_LATENT_PMF)
  description ("How latents are drawn: the PMF/quantisation vicinity sampler around the "
               "encoded training set, a Gaussian mixture or a single Gaussian fitted to it, "
               "or the N(0, I) prior")

/* defaults = tl_pmf_default_params () / tl_gmm_default_params (); a test
 * checks that they agree */
property_int (levels, "Levels", TL_PMF_DEFAULT_LEVELS)
  description ("PMF: quantisation levels per latent dimension")
  value_range (1, 1048576)
  ui_range (2, 200)

property_int (radius, "Radius", TL_PMF_DEFAULT_RADIUS)
  description ("PMF: vicinity half-width, in levels")
  value_range (0, 1048576)
  ui_range (0, 20)

property_int (components, "Components", 10)
  description ("GMM: number of mixture components")
  value_range (1, 1024)
  ui_range (1, 64)

property_seed (seed, "Random seed", rand)
  description ("Seed of the sample stream: the same seed gives the same grid")

property_int (count, "Count", 16)
  description ("Number of samples")
  value_range (1, 4096)
  ui_range (1, 256)

property_int (columns, "Columns", 4)
  description ("Cells per row; 0 = a square-ish grid")
  value_range (0, 4096)
  ui_range (0, 32)

property_int (cell_size, "Cell size", 64)
  description ("Side of a cell in pixels; 0 = the decoder's output size")
  value_range (0, 1024)
  ui_range (0, 512)
  ui_meta ("unit", "pixel-distance")

property_int (spacing, "Spacing", 2)
  description ("Pixels between cells and around the grid")
  value_range (0, 256)
  ui_range (0, 32)
  ui_meta ("unit", "pixel-distance")

property_color (background, "Background", "black")
  description ("Colour between the cells")

#else

#define GEGL_OP_SOURCE
#define GEGL_OP_NAME     tensorlens_latent_samples
#define GEGL_OP_C_SOURCE tensorlens-latent-samples.c

#include <glib/gi18n-lib.h>   /* gegl-op.h translates enum names */
#include "gegl-op.h"

#include "generate.h"
#include "tensorlens-op.h"

#include <string.h>

/* For tests: decoder runs made by this module's copy of libtensorlens. */
G_MODULE_EXPORT gint64 tensorlens_latent_samples_forward_count (void);

gint64
tensorlens_latent_samples_forward_count (void)
{
  return tl_model_forward_count ();
}

static tl_generate_params
generate_params (GeglProperties *o)
{
  static const tl_sampler_kind kinds[] = {
    [TENSORLENS_LATENT_PMF] = TL_SAMPLER_PMF,
    [TENSORLENS_LATENT_GMM] = TL_SAMPLER_GMM,
    [TENSORLENS_LATENT_GAUSSIAN] = TL_SAMPLER_GAUSSIAN,
    [TENSORLENS_LATENT_PRIOR] = TL_SAMPLER_PRIOR,
  };
  tl_generate_params p = tl_generate_default_params ();
  p.sampler.kind = kinds[o->sampler];
  p.sampler.pmf.levels = o->levels;
  p.sampler.pmf.radius = o->radius;
  p.sampler.gmm.components = o->components;
  p.seed = (uint64_t) (guint) o->seed;
  /* every random choice follows the seed, as `tensorlens sample --seed`
   * does: the GMM's k-means++ initialisation too */
  p.sampler.gmm.init_seed = p.seed;
  p.count = o->count;
  p.columns = o->columns;
  p.cell_size = o->cell_size;
  p.spacing = o->spacing;
  gdouble rgba[4];
  gegl_color_get_rgba (o->background, &rgba[0], &rgba[1], &rgba[2], &rgba[3]);
  for (int i = 0; i < 4; i++)
    p.background[i] = (float) CLAMP (rgba[i], 0.0, 1.0);
  return p;
}

static GeglRectangle
get_bounding_box (GeglOperation *operation)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  GeglRectangle r = { 0, 0, 0, 0 };
  GError *err = NULL;
  tl_generate_params p = generate_params (o);
  tl_model *m = tl_model_get (o->model, &err);
  int w, h;
  if (m && tl_generate_grid_size (m, &p, &w, &h, &err))
    {
      r.width = w;
      r.height = h;
    }
  if (err)   /* asked for often: warn once per distinct message */
    tensorlens_op_warn (operation, err->message, TRUE);
  g_clear_error (&err);
  tl_model_unref (m);
  return r;
}

static GeglRectangle
get_cached_region (GeglOperation *operation, const GeglRectangle *roi)
{
  return get_bounding_box (operation);
}

static void
prepare (GeglOperation *operation)
{
  gegl_operation_set_format (operation, "output", babl_format ("R'G'B'A float"));
}

static gboolean
process (GeglOperation *operation, GeglBuffer *output, const GeglRectangle *result,
         gint level)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  GError *err = NULL;
  tl_generate_params p = generate_params (o);
  tl_model *m = tl_model_get (o->model, &err);
  tl_image *grid = m ? tl_generate_grid (m, &p, tensorlens_op_progress, operation, &err) : NULL;
  if (grid)
    {
      GeglRectangle all = { 0, 0, grid->width, grid->height }, r;
      if (gegl_rectangle_intersect (&r, &all, result))
        gegl_buffer_set (output, &r, 0, babl_format ("R'G'B'A float"),
                         grid->data + ((size_t) r.y * grid->width + r.x) * 4,
                         grid->width * 4 * sizeof (float));
    }
  else
    tensorlens_op_warn (operation, err ? err->message : "unknown error", TRUE);
  g_clear_error (&err);
  tl_image_free (grid);
  tl_model_unref (m);
  return TRUE;
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  GeglOperationClass *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationSourceClass *source_class = GEGL_OPERATION_SOURCE_CLASS (klass);

  source_class->process = process;
  operation_class->get_bounding_box = get_bounding_box;
  operation_class->get_cached_region = get_cached_region;
  operation_class->prepare = prepare;
  operation_class->threaded = FALSE;

  static const tensorlens_op_keys keys = {
    "tensorlens:latent-samples", "Latent Samples (tensorlens)", "render",
    "<Image>/Filters/Render/Tensorlens", "Latent Samples...",
    "Renders a grid of images decoded from samples of an autoencoder's latent space: the "
    "PMF/quantisation vicinity sampler, a Gaussian mixture, a single Gaussian or the prior, "
    "fitted on the model's encoded training set. The same seed gives the same grid.",
  };
  tensorlens_op_set_keys (operation_class, &keys, TRUE);
}

#endif
