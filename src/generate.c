/* Latent samples -> decoded images -> grid; see generate.h. */
#include "generate.h"

#include "ae-decode.h"
#include "error.h"
#include "npy.h"

#include <math.h>
#include <string.h>

tl_generate_params
tl_generate_default_params (void)
{
  tl_generate_params p;
  memset (&p, 0, sizeof p);
  p.sampler = tl_sampler_default_params ();
  p.seed = 0;
  p.count = 16;
  p.columns = 4;
  p.cell_size = 64;
  p.spacing = 2;
  p.background[3] = 1.0f;
  p.decode_batch = TL_GENERATE_DECODE_BATCH;
  return p;
}

/* ---- fitted samplers, cached per (model, sampler params) ---------------- */

typedef struct {
  tl_model         *model;    /* a reference: the pointer stays unique */
  tl_sampler_params params;
  tl_sampler       *sampler;
} fitted;

G_LOCK_DEFINE_STATIC (fits);
static GQueue fits = G_QUEUE_INIT;   /* most recent first, at most 4 */

static gboolean
same_params (const tl_sampler_params *a, const tl_sampler_params *b)
{
  if (a->kind != b->kind)
    return FALSE;
  switch (a->kind)
    {
    case TL_SAMPLER_PMF:
      return a->pmf.levels == b->pmf.levels && a->pmf.radius == b->pmf.radius;
    case TL_SAMPLER_GMM:
      if (a->gmm.components != b->gmm.components)
        return FALSE;
      /* fall through */
    case TL_SAMPLER_GAUSSIAN:
      return a->gmm.tol == b->gmm.tol && a->gmm.max_iter == b->gmm.max_iter
             && a->gmm.reg_covar == b->gmm.reg_covar
             && a->gmm.kmeans_max_iter == b->gmm.kmeans_max_iter
             && a->gmm.init_seed == b->gmm.init_seed;
    case TL_SAMPLER_PRIOR:
      return TRUE;
    }
  return FALSE;
}

static void
fitted_free (fitted *f)
{
  tl_model_unref (f->model);
  tl_sampler_free (f->sampler);
  g_free (f);
}

void
tl_generate_cache_clear (void)
{
  G_LOCK (fits);
  g_queue_clear_full (&fits, (GDestroyNotify) fitted_free);
  G_UNLOCK (fits);
}

/* The fitted sampler for model + params, owned by the cache. Callers hold
 * the cache lock while they sample from it (so it cannot be evicted): fits
 * are rare and sampling a grid is quick, so one lock is enough. */
static tl_sampler *
fit_locked (tl_model *model, const tl_sampler_params *params, GError **error)
{
  for (GList *l = fits.head; l; l = l->next)
    {
      fitted *f = l->data;
      if (f->model == model && same_params (&f->params, params))
        {
          g_queue_unlink (&fits, l);
          g_queue_push_head_link (&fits, l);
          return f->sampler;
        }
    }
  const tl_card *card = tl_model_card (model);
  g_autoptr (tl_tensor) bank = tl_npy_load (card->latent_bank, error);
  if (!bank)
    return NULL;
  if (bank->ndim != 2 || bank->shape[1] != card->latent_dim)
    {
      char buf[64];
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: latent bank is %s, the card says n x %d", card->latent_bank,
                   tl_shape_str (bank->ndim, bank->shape, buf, sizeof buf), card->latent_dim);
      return NULL;
    }
  tl_sampler *s = tl_sampler_fit (bank, params, NULL, NULL, error);
  if (!s)
    return NULL;
  fitted *f = g_new0 (fitted, 1);
  f->model = tl_model_ref (model);
  f->params = *params;
  f->sampler = s;
  g_queue_push_head (&fits, f);
  while (g_queue_get_length (&fits) > 4)
    fitted_free (g_queue_pop_tail (&fits));
  return s;
}

/* ---- checks ----------------------------------------------------------- */

static gboolean
check_params (const tl_model *model, const tl_generate_params *p, GError **error)
{
  const tl_card *c = tl_model_card (model);
  if (!c || c->task != TL_TASK_AUTOENCODER)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "model '%s' is not an autoencoder: it has no latent space to sample",
                   tl_model_name (model));
      return FALSE;
    }
#define RANGE(v, lo, hi, name)                                                              \
  if ((v) < (lo) || (v) > (hi))                                                             \
    {                                                                                       \
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, name " %d is out of range %d..%d",   \
                   (int) (v), (int) (lo), (int) (hi));                                      \
      return FALSE;                                                                         \
    }
  RANGE (p->count, 1, TL_GENERATE_MAX_COUNT, "count");
  RANGE (p->columns, 0, TL_GENERATE_MAX_COUNT, "columns");
  RANGE (p->cell_size, 0, 1024, "cell-size");
  RANGE (p->spacing, 0, 256, "spacing");
  RANGE (p->decode_batch, 1, TL_AE_DECODE_MAX_BATCH, "decode batch");
#undef RANGE
  for (int i = 0; i < 4; i++)
    if (!(p->background[i] >= 0 && p->background[i] <= 1))
      {
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                     "background component %d (%g) is not in [0,1]", i, p->background[i]);
        return FALSE;
      }
  return TRUE;
}

static void
grid_geometry (const tl_model *model, const tl_generate_params *p, int *cols, int *rows,
               int *cell)
{
  const tl_card *c = tl_model_card (model);
  *cols = p->columns > 0 ? p->columns : (int) ceil (sqrt ((double) p->count));
  *cols = MIN (*cols, p->count);
  *rows = (p->count + *cols - 1) / *cols;
  *cell = p->cell_size > 0 ? p->cell_size : c->out_width;
}

gboolean
tl_generate_grid_size (const tl_model *model, const tl_generate_params *p, int *width,
                       int *height, GError **error)
{
  if (!check_params (model, p, error))
    return FALSE;
  int cols, rows, cell;
  grid_geometry (model, p, &cols, &rows, &cell);
  int64_t w = (int64_t) cols * cell + (int64_t) (cols + 1) * p->spacing;
  int64_t h = (int64_t) rows * cell + (int64_t) (rows + 1) * p->spacing;
  if (w * h > TL_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "a %d x %d grid of %d-pixel cells is too large", cols, rows, cell);
      return FALSE;
    }
  *width = (int) w;
  *height = (int) h;
  return TRUE;
}

/* ---- decoding --------------------------------------------------------- */

typedef struct {
  const tl_card *card;
  tl_image     **out;
} to_images;

/* Decoded C x H x W planes (already in [0,1]) -> interleaved images. */
static gboolean
make_images (const float *planar, int64_t first, int64_t n, void *user, GError **error)
{
  to_images *t = user;
  const int C = t->card->out_channels, H = t->card->out_height, W = t->card->out_width;
  for (int64_t k = 0; k < n; k++)
    {
      tl_image *img = t->out[first + k] = tl_image_new (W, H, C, error);
      if (!img)
        return FALSE;
      const float *src = planar + (size_t) k * C * H * W;
      for (int c = 0; c < C; c++)
        for (int i = 0; i < H * W; i++)
          img->data[(size_t) i * C + c] = src[(size_t) c * H * W + i];
    }
  return TRUE;
}

/* Samples 0 .. count-1 of the seed's stream, drawn under the cache lock
 * (the fitted sampler belongs to the cache) and decoded after it, so
 * decoding does not hold up other threads' fits. */
tl_image **
tl_generate_samples (tl_model *model, const tl_generate_params *p, tl_progress_func progress,
                     void *progress_data, GError **error)
{
  /* a decoder that does not load fails before the (slower) sampler fit */
  if (!check_params (model, p, error) || !tl_model_decoder (model, error))
    return NULL;
  G_LOCK (fits);
  tl_sampler *sampler = fit_locked (model, &p->sampler, error);
  g_autoptr (tl_tensor) z = sampler ? tl_sampler_sample_tensor (sampler, p->seed, 0, p->count,
                                                                error)
                                    : NULL;
  G_UNLOCK (fits);
  if (!z)
    return NULL;
  to_images t = { tl_model_card (model), g_new0 (tl_image *, p->count) };
  if (!tl_ae_decode_each (model, z->data, p->count, p->decode_batch, make_images, &t, progress,
                          progress_data, error))
    {
      for (int i = 0; i < p->count; i++)
        tl_image_free (t.out[i]);
      g_clear_pointer (&t.out, g_free);
    }
  return t.out;
}

tl_image *
tl_generate_grid (tl_model *model, const tl_generate_params *p, tl_progress_func progress,
                  void *progress_data, GError **error)
{
  int W, H;
  if (!tl_generate_grid_size (model, p, &W, &H, error))
    return NULL;
  tl_image **samples = tl_generate_samples (model, p, progress, progress_data, error);
  if (!samples)
    return NULL;
  int cols, rows, cell;
  grid_geometry (model, p, &cols, &rows, &cell);
  (void) rows;
  tl_image *grid = tl_image_new (W, H, 4, error);
  for (size_t i = 0; grid && i < (size_t) W * H; i++)
    memcpy (grid->data + i * 4, p->background, sizeof (float) * 4);
  g_autofree float *cellpx = g_new (float, (size_t) cell * cell * 3);
  for (int k = 0; grid && k < p->count; k++)
    {
      g_autoptr (tl_image) rgb = samples[k]->channels == 3
                                   ? tl_image_copy (samples[k], error)
                                   : tl_image_convert (samples[k], 3, error);
      if (!rgb || !tl_resample (rgb->data, rgb->width, rgb->height, 3, cellpx, cell, cell,
                              TL_RESAMPLE_HALF_PIXEL, error))
        {
          g_clear_pointer (&grid, tl_image_free);
          break;
        }
      int x0 = p->spacing + (k % cols) * (cell + p->spacing);
      int y0 = p->spacing + (k / cols) * (cell + p->spacing);
      for (int y = 0; y < cell; y++)
        for (int x = 0; x < cell; x++)
          {
            float *d = grid->data + ((size_t) (y0 + y) * W + (x0 + x)) * 4;
            const float *s = cellpx + ((size_t) y * cell + x) * 3;
            d[0] = CLAMP (s[0], 0.0f, 1.0f);
            d[1] = CLAMP (s[1], 0.0f, 1.0f);
            d[2] = CLAMP (s[2], 0.0f, 1.0f);
            d[3] = 1.0f;
          }
    }
  for (int i = 0; i < p->count; i++)
    tl_image_free (samples[i]);
  g_free (samples);
  return grid;
}
