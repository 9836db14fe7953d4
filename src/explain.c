/* Image + model -> saliency map; see explain.h. */
#include "explain.h"

#include "error.h"
#include "gradcam.h"

#include <math.h>
#include <string.h>

/* ---- content digest ---------------------------------------------------
 * A cache key, not a cryptographic hash: the float bits of every RGB row,
 * eight at a time into four independent 64-bit multiply-xor lanes (the
 * lanes do not wait for each other, so hashing a 12-megapixel photo costs
 * a few ms rather than the ~100 ms of one serial chain), folded into two
 * 64-bit words per strip. Strips are fixed by the image size, so equal
 * content always gives the same digest. */

typedef struct {
  uint64_t a, b;
} digest_state;

static inline uint64_t
rotl64 (uint64_t x, int r)
{
  return (x << r) | (x >> (64 - r));
}

static inline uint64_t
mix64 (uint64_t x)
{
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

static void
digest_init (digest_state *d, int width, int height)
{
  d->a = 0xcbf29ce484222325ULL ^ (uint64_t) width;
  d->b = 0x9e3779b97f4a7c15ULL ^ ((uint64_t) height << 32);
}

static void
digest_update (digest_state *d, const float *v, size_t n)
{
  const uint64_t K = 0x9e3779b97f4a7c15ULL;
  uint64_t l[4] = { d->a, d->b, rotl64 (d->a, 17) ^ K, rotl64 (d->b, 43) ^ (K >> 1) };
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 4; k++)
      {
        uint64_t w;
        memcpy (&w, v + i + 2 * k, 8);
        l[k] = rotl64 ((l[k] ^ w) * K, 29);
      }
  for (; i < n; i++)
    {
      uint32_t w;
      memcpy (&w, &v[i], 4);
      l[i & 3] = rotl64 ((l[i & 3] ^ w) * K, 29);
    }
  d->a = mix64 (l[0] ^ rotl64 (l[2], 32) ^ n);
  d->b = mix64 (l[1] ^ rotl64 (l[3], 32) ^ d->a);
}

/* ---- parameters ------------------------------------------------------- */

tl_explain_params
tl_explain_default_params (void)
{
  tl_explain_params p;
  memset (&p, 0, sizeof p);
  p.kind = TL_EXPLAIN_LABEL_FREE;
  p.saliency = tl_saliency_default_params ();
  return p;
}

gboolean
tl_explain_method_from_name (const char *name, tl_explain_params *p, GError **error)
{
  if (g_strcmp0 (name, "gradcam") == 0)
    p->kind = TL_EXPLAIN_GRADCAM;
  else if (g_strcmp0 (name, "gradcam-plus-plus") == 0)
    p->kind = TL_EXPLAIN_GRADCAM_PLUS_PLUS;
  else if (tl_saliency_method_from_name (name, &p->saliency.method, NULL))
    p->kind = TL_EXPLAIN_LABEL_FREE;
  else
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "method '%s': expected eigencam, multivec-eigencam, tsm, mtsm, gradcam or "
                   "gradcam-plus-plus", name ? name : "(null)");
      return FALSE;
    }
  return TRUE;
}

/* ---- the feature cache ------------------------------------------------ */

typedef struct {
  tl_model *model;      /* a reference: the pointer cannot be reused while held */
  char     *layer;
  uint64_t  digest[2];
  int       width, height;
  tl_tensor *features;
} cache_entry;

struct tl_explain_cache {
  GMutex  lock;
  int     capacity;
  GQueue  entries;      /* most recent first */
};

static void
cache_entry_free (cache_entry *e)
{
  tl_model_unref (e->model);
  g_free (e->layer);
  tl_tensor_free (e->features);
  g_free (e);
}

tl_explain_cache *
tl_explain_cache_new (int capacity)
{
  g_return_val_if_fail (capacity >= 1, NULL);
  tl_explain_cache *c = g_new0 (tl_explain_cache, 1);
  g_mutex_init (&c->lock);
  c->capacity = capacity;
  g_queue_init (&c->entries);
  return c;
}

void
tl_explain_cache_free (tl_explain_cache *cache)
{
  if (!cache)
    return;
  g_queue_clear_full (&cache->entries, (GDestroyNotify) cache_entry_free);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

int
tl_explain_cache_size (tl_explain_cache *cache)
{
  g_mutex_lock (&cache->lock);
  int n = (int) g_queue_get_length (&cache->entries);
  g_mutex_unlock (&cache->lock);
  return n;
}

/* A copy of the cached features, or NULL. */
tl_tensor *
tl_explain_cache_lookup (tl_explain_cache *cache, tl_model *model, const char *layer,
              const uint64_t digest[2], int width, int height)
{
  tl_tensor *F = NULL;
  g_mutex_lock (&cache->lock);
  for (GList *l = cache->entries.head; l; l = l->next)
    {
      cache_entry *e = l->data;
      if (e->model == model && strcmp (e->layer, layer) == 0 && e->digest[0] == digest[0]
          && e->digest[1] == digest[1] && e->width == width && e->height == height)
        {
          F = tl_tensor_copy (e->features, NULL);
          g_queue_unlink (&cache->entries, l);
          g_queue_push_head_link (&cache->entries, l);
          break;
        }
    }
  g_mutex_unlock (&cache->lock);
  return F;
}

void
tl_explain_cache_store (tl_explain_cache *cache, tl_model *model, const char *layer,
             const uint64_t digest[2], int width, int height, const tl_tensor *F)
{
  tl_tensor *copy = tl_tensor_copy (F, NULL);
  if (!copy)
    return;   /* caching is an optimisation: too large to copy, then don't */
  cache_entry *e = g_new0 (cache_entry, 1);
  e->model = tl_model_ref (model);
  e->layer = g_strdup (layer);
  e->digest[0] = digest[0];
  e->digest[1] = digest[1];
  e->width = width;
  e->height = height;
  e->features = copy;
  g_mutex_lock (&cache->lock);
  g_queue_push_head (&cache->entries, e);
  while ((int) g_queue_get_length (&cache->entries) > cache->capacity)
    cache_entry_free (g_queue_pop_tail (&cache->entries));
  g_mutex_unlock (&cache->lock);
}

/* ---- stage 1: rows -> resized RGB at the model's content size ---------- */

static void
sanitize (float *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    v[i] = isnan (v[i]) ? 0.0f : v[i] < 0.0f ? 0.0f : v[i] > 1.0f ? 1.0f : v[i];
}

static void
report (tl_progress_func progress, void *data, double f, const char *stage)
{
  if (progress)
    progress (f, stage, data);
}

/* Reads every row in strips, digesting them and resizing each strip to tw
 * columns; then resizes the tw x height result to tw x th. A same-size
 * axis is an exact identity for every resize mode, so the two passes are
 * the separable resize of the whole image done in another order. */
static tl_image *
read_and_resize (int width, int height, tl_rows_func rows, void *rows_data, int tw, int th,
                 tl_resample_mode mode, digest_state *digest, tl_progress_func progress,
                 void *progress_data, GError **error)
{
  const int S = TL_EXPLAIN_STRIP_ROWS;
  g_autoptr (tl_image) wide = tl_image_new (tw, height, 3, error);
  if (!wide)
    return NULL;
  g_autofree float *strip = g_try_new (float, (size_t) width * S * 3);
  if (!strip)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "image rows: cannot allocate a %dx%d strip",
                   width, S);
      return NULL;
    }
  for (int y = 0; y < height; y += S)
    {
      int n = MIN (S, height - y);
      if (!rows (rows_data, y, n, strip, error))
        return NULL;
      sanitize (strip, (size_t) width * n * 3);
      digest_update (digest, strip, (size_t) width * n * 3);
      float *dst = wide->data + (size_t) y * tw * 3;
      if (tw == width)
        memcpy (dst, strip, sizeof (float) * (size_t) width * n * 3);
      else if (!tl_resample (strip, width, n, 3, dst, tw, n, mode, error))
        return NULL;
      report (progress, progress_data, 0.2 * (y + n) / height, "reading image");
    }
  if (th == height)
    return g_steal_pointer (&wide);
  return tl_image_resize (wide, tw, th, mode, error);
}

tl_image *
tl_explain_read_resized (tl_model *model, int width, int height, tl_rows_func rows,
                         void *rows_data, tl_preprocess_geometry *geometry, uint64_t digest[2],
                         tl_progress_func progress, void *progress_data, GError **error)
{
  g_return_val_if_fail (model != NULL && rows != NULL, NULL);
  if (width < 1 || height < 1 || (int64_t) width * height > TL_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "image size %dx%d is out of range",
                   width, height);
      return NULL;
    }
  const tl_preprocess_params *pre = tl_model_preprocess (model);
  tl_preprocess_geometry g = tl_preprocess_geometry_for (pre, width, height);
  int tw = pre->letterbox ? (int) lround (g.w) : pre->width;
  int th = pre->letterbox ? (int) lround (g.h) : pre->height;
  digest_state d;
  digest_init (&d, width, height);
  tl_image *resized = read_and_resize (width, height, rows, rows_data, tw, th, pre->resize_mode,
                                       &d, progress, progress_data, error);
  if (resized && geometry)
    *geometry = g;
  if (resized && digest)
    {
      digest[0] = d.a;
      digest[1] = d.b;
    }
  return resized;
}

/* ---- the pipeline ----------------------------------------------------- */

gboolean
tl_explain_check_layer (tl_net *net, const char *layer, const char *model, GError **error)
{
  const tl_net_tensor_info *t = tl_net_find_tensor (net, layer);
  if (!t)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "layer '%s' is not a tensor of model '%s'",
                   layer, model);
      return FALSE;
    }
  if (!t->explainable)
    {
      char buf[64];
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "layer '%s' of model '%s' is %s; saliency needs an NxCxHxW feature map "
                   "with H, W > 1", layer, model, tl_shape_str (t->ndim, t->shape, buf, sizeof buf));
      return FALSE;
    }
  return TRUE;
}

/* Preprocess + forward pass: the features of layer for the resized image. */
static tl_tensor *
features_of (tl_model *model, tl_net *net, const tl_image *resized, const char *layer,
             GError **error)
{
  g_autoptr (tl_tensor) x = tl_preprocess (tl_model_preprocess (model), resized, NULL, error);
  if (!x)
    return NULL;
  const tl_tensor *inputs[1] = { x };
  const char *taps[1] = { layer };
  tl_net_result *r = tl_model_run (model, net, inputs, 1, taps, 1, TL_NET_RUN_DEFAULT, error);
  if (!r)
    return NULL;
  tl_tensor *F = tl_tensor_copy (tl_net_result_get (r, layer), error);
  tl_net_result_free (r);
  return F;
}

/* Index of the largest of n values (the first if several). */
static int
argmax (const float *v, int64_t n)
{
  int64_t best = 0;
  for (int64_t i = 1; i < n; i++)
    if (v[i] > v[best])
      best = i;
  return (int) best;
}

/* Forward + backward: the features F of layer and the gradient dF of the
 * card's class score for *target (-1 = the predicted class, resolved in
 * place). */
static gboolean
gradient_of (tl_model *model, tl_net *net, const tl_image *resized, const char *layer,
             int *target, tl_tensor **F_out, tl_tensor **dF_out, GError **error)
{
  const tl_card *card = tl_model_card (model);
  if (!card || (card->score_kind != TL_SCORE_LOGIT && card->score_kind != TL_SCORE_HEATMAP_SUM))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "model '%s': Grad-CAM needs a class score (a classifier's logits or a "
                   "detector's heat maps in its card); use a label-free method",
                   tl_model_name (model));
      return FALSE;
    }
  g_autoptr (tl_tensor) x = tl_preprocess (tl_model_preprocess (model), resized, NULL, error);
  if (!x)
    return FALSE;
  const char *score = card->score_tensor;
  const tl_tensor *inputs[1] = { x };
  const char *taps[2] = { layer, score };
  tl_net_result *r = tl_model_run (model, net, inputs, 1, taps, 2, TL_NET_RUN_BACKWARD, error);
  if (!r)
    return FALSE;
  const tl_tensor *S = tl_net_result_get (r, score);
  gboolean heat = card->score_kind == TL_SCORE_HEATMAP_SUM;
  gboolean ok = S && S->ndim >= 2 && S->shape[0] == 1 && (!heat || S->ndim == 4);
  if (!ok)
    g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "model '%s': score tensor '%s' is not "
                 "1xK%s", tl_model_name (model), score, heat ? "xHxW" : "");
  int64_t K = ok ? S->shape[1] : 0, plane = ok ? tl_tensor_numel (S) / K : 0;
  g_autofree float *v = ok ? g_new (float, K * plane) : NULL;
  if (ok)
    {
      tl_tensor_gather (S, v);
      if (*target < 0 && !heat)
        *target = argmax (v, K);
      else if (*target < 0)
        {
          /* the class whose heat map peaks highest */
          g_autofree float *peak = g_new (float, K);
          for (int64_t c = 0; c < K; c++)
            peak[c] = v[c * plane + argmax (v + c * plane, plane)];
          *target = argmax (peak, K);
        }
      else if (*target >= K)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "target %d is out of range: model '%s' has %" G_GINT64_FORMAT
                       " classes (0..%" G_GINT64_FORMAT ")", *target, tl_model_name (model), K,
                       K - 1);
          ok = FALSE;
        }
    }
  if (ok && !heat)
    ok = (*dF_out = tl_net_result_grad_logit (r, layer, score, *target, error)) != NULL;
  else if (ok)
    {
      g_autoptr (tl_tensor) dy = tl_tensor_new (S->ndim, S->shape, error);
      if ((ok = dy != NULL))
        {
          for (int64_t i = 0; i < plane; i++)
            dy->data[*target * plane + i] = 1.0f;
          ok = (*dF_out = tl_net_result_grad (r, layer, score, dy, error)) != NULL;
        }
    }
  if (ok)
    ok = (*F_out = tl_tensor_copy (tl_net_result_get (r, layer), error)) != NULL;
  tl_net_result_free (r);
  return ok;
}

/* Features (and for the baselines the gradient) from the cache or the
 * network; the cache keys are the layer plus, for gradients, the target. */
static gboolean
run_or_recall (tl_model *model, tl_net *net, const tl_image *resized, const char *layer,
               const tl_explain_params *params, tl_explain_cache *cache,
               const uint64_t digest[2], int width, int height, tl_explanation *ex,
               tl_tensor **F, tl_tensor **dF, GError **error)
{
  gboolean grad = params->kind != TL_EXPLAIN_LABEL_FREE;
  int target = params->saliency.target;
  g_autofree char *gkey = g_strdup_printf ("%s\ngradient of class %d", layer, target);
  g_autofree char *tkey = g_strdup_printf ("%s\npredicted class", layer);
  g_autoptr (tl_tensor) T = NULL;
  if (cache)
    {
      *F = tl_explain_cache_lookup (cache, model, layer, digest, width, height);
      if (grad)
        {
          *dF = tl_explain_cache_lookup (cache, model, gkey, digest, width, height);
          if (target < 0)
            T = tl_explain_cache_lookup (cache, model, tkey, digest, width, height);
        }
    }
  ex->from_cache = *F && (!grad || (*dF && (target >= 0 || T)));
  if (ex->from_cache)
    {
      ex->target = !grad ? -1 : target >= 0 ? target : (int) T->data[0];
      return TRUE;
    }
  g_clear_pointer (F, tl_tensor_free);
  g_clear_pointer (dF, tl_tensor_free);
  if (!grad)
    {
      ex->target = -1;
      *F = features_of (model, net, resized, layer, error);
      if (*F && cache)
        tl_explain_cache_store (cache, model, layer, digest, width, height, *F);
      return *F != NULL;
    }
  ex->target = target;
  if (!gradient_of (model, net, resized, layer, &ex->target, F, dF, error))
    return FALSE;
  if (cache)
    {
      int64_t one = 1;
      float t = (float) ex->target;
      g_autoptr (tl_tensor) Tv = tl_tensor_view (&t, 1, &one);
      tl_explain_cache_store (cache, model, layer, digest, width, height, *F);
      tl_explain_cache_store (cache, model, gkey, digest, width, height, *dF);
      if (target < 0)
        tl_explain_cache_store (cache, model, tkey, digest, width, height, Tv);
    }
  return TRUE;
}

tl_explanation *
tl_explain_rows (tl_model *model, int width, int height, tl_rows_func rows, void *rows_data,
                 const tl_explain_params *params, tl_explain_cache *cache,
                 tl_progress_func progress, void *progress_data, GError **error)
{
  g_return_val_if_fail (model != NULL && rows != NULL && params != NULL, NULL);
  tl_net *net = tl_model_net (model, error);
  if (!net)
    return NULL;
  const char *layer = params->saliency.layer && *params->saliency.layer
                        ? params->saliency.layer : tl_model_default_layer (model);
  if (!tl_explain_check_layer (net, layer, tl_model_name (model), error))
    return NULL;

  tl_preprocess_geometry g;
  uint64_t digest[2];
  g_autoptr (tl_image) resized = tl_explain_read_resized (model, width, height, rows, rows_data,
                                                          &g, digest, progress, progress_data,
                                                          error);
  if (!resized)
    return NULL;

  g_autoptr (tl_explanation) ex = g_new0 (tl_explanation, 1);
  ex->image_width = width;
  ex->image_height = height;
  ex->geometry = g;
  ex->layer = g_strdup (layer);
  ex->digest[0] = digest[0];
  ex->digest[1] = digest[1];

  g_autoptr (tl_tensor) F = NULL;
  g_autoptr (tl_tensor) dF = NULL;
  report (progress, progress_data, 0.2, "running the network");
  if (!run_or_recall (model, net, resized, layer, params, cache, digest, width, height, ex, &F,
                      &dF, error))
    return NULL;
  report (progress, progress_data, 0.9, "computing the saliency map");
  gboolean ok;
  switch (params->kind)
    {
    case TL_EXPLAIN_GRADCAM:
      ok = tl_gradcam_map (F, dF, &ex->map, NULL, error);
      break;
    case TL_EXPLAIN_GRADCAM_PLUS_PLUS:
      ok = tl_gradcampp_map (F, dF, &ex->map, NULL, error);
      break;
    default:
      {
        tl_saliency_params p = params->saliency;
        p.layer = layer;
        ok = tl_saliency_map_from_features_report (F, &p, &ex->map, &ex->report, error);
      }
    }
  if (!ok)
    return NULL;
  report (progress, progress_data, 1.0, "done");
  return g_steal_pointer (&ex);
}

gboolean
tl_image_rows (void *user, int y, int n, float *rgb, G_GNUC_UNUSED GError **error)
{
  const tl_image *img = user;
  const int C = img->channels, W = img->width;
  for (int r = 0; r < n; r++)
    {
      const float *s = img->data + (size_t) (y + r) * W * C;
      float *d = rgb + (size_t) r * W * 3;
      for (int x = 0; x < W; x++, s += C, d += 3)
        {
          if (C >= 3)
            d[0] = s[0], d[1] = s[1], d[2] = s[2];
          else
            d[0] = d[1] = d[2] = s[0];
        }
    }
  return TRUE;
}

tl_explanation *
tl_explain_image (tl_model *model, const tl_image *img, const tl_explain_params *params,
                  tl_explain_cache *cache, tl_progress_func progress, void *progress_data,
                  GError **error)
{
  g_return_val_if_fail (img != NULL, NULL);
  return tl_explain_rows (model, img->width, img->height, tl_image_rows, (void *) img, params,
                          cache, progress, progress_data, error);
}

void
tl_explanation_free (tl_explanation *ex)
{
  if (!ex)
    return;
  tl_tensor_free (ex->map);
  g_free (ex->layer);
  g_free (ex);
}

/* ---- back onto the image ---------------------------------------------- */

static const float *
map_data (const tl_explanation *ex, int *mw, int *mh)
{
  *mh = (int) ex->map->shape[0];
  *mw = (int) ex->map->shape[1];
  return ex->map->data;   /* tl_saliency_map_from_features returns a contiguous map */
}

float *
tl_explanation_full_map (const tl_explanation *ex, GError **error)
{
  int mw, mh;
  const float *m = map_data (ex, &mw, &mh);
  float *out = g_try_new (float, (size_t) ex->image_width * ex->image_height);
  if (!out)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "saliency map: cannot allocate %dx%d floats",
                   ex->image_width, ex->image_height);
      return NULL;
    }
  if (!tl_preprocess_unmap (&ex->geometry, m, mw, mh, out, error))
    {
      g_free (out);
      return NULL;
    }
  return out;
}

tl_map_sampler *
tl_explanation_sampler (const tl_explanation *ex, GError **error)
{
  int mw, mh;
  const float *m = map_data (ex, &mw, &mh);
  return tl_preprocess_sampler_new (&ex->geometry, m, mw, mh, error);
}

tl_image *
tl_explanation_render (const tl_explanation *ex, const tl_image *img,
                       const tl_render_params *params, GError **error)
{
  if (img->width != ex->image_width || img->height != ex->image_height)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "render: image is %dx%d but the explanation is for %dx%d", img->width,
                   img->height, ex->image_width, ex->image_height);
      return NULL;
    }
  int mw, mh;
  const float *m = map_data (ex, &mw, &mh);
  return tl_render_unmap (params, img, &ex->geometry, m, mw, mh, error);
}
