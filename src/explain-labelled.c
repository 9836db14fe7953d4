/* Grad-CAM, Grad-CAM++ and Score-CAM on an image; see explain-labelled.h. */
#include "explain-labelled.h"

#include "error.h"
#include "gradcam.h"
#include "model-score.h"
#include "scorecam.h"

#include <math.h>
#include <string.h>

static const char *const method_names[] = { "gradcam", "gradcam++", "scorecam" };

tl_labelled_params
tl_labelled_default_params (void)
{
  tl_labelled_params p;
  memset (&p, 0, sizeof p);
  p.method = TL_LABELLED_GRADCAM;
  p.target = -1;
  p.channels = 0;
  p.batch = 8;
  return p;
}

const char *
tl_labelled_method_name (tl_labelled_method m)
{
  return (unsigned) m < G_N_ELEMENTS (method_names) ? method_names[m] : "?";
}

gboolean
tl_labelled_method_lookup (const char *name, tl_labelled_method *m)
{
  /* tl_explain's name for Grad-CAM++ */
  if (g_strcmp0 (name, "gradcam-plus-plus") == 0)
    {
      *m = TL_LABELLED_GRADCAMPP;
      return TRUE;
    }
  for (unsigned i = 0; name && i < G_N_ELEMENTS (method_names); i++)
    if (strcmp (name, method_names[i]) == 0)
      {
        *m = (tl_labelled_method) i;
        return TRUE;
      }
  return FALSE;
}

static void
report (tl_progress_func progress, void *data, double f, const char *stage)
{
  if (progress)
    progress (f, stage, data);
}

/* ---- the model input ----------------------------------------------------- */

tl_tensor *
tl_model_pixels (tl_model *model, const tl_image *img, tl_preprocess_geometry *g,
                 GError **error)
{
  g_autoptr (tl_image) rgb = img->channels == 3 ? tl_image_copy (img, error)
                                                : tl_image_convert (img, 3, error);
  if (!rgb)
    return NULL;
  /* as tl_explain: values outside [0,1] are clamped, NaN becomes 0 */
  size_t n = (size_t) rgb->width * rgb->height * 3;
  for (size_t i = 0; i < n; i++)
    {
      float v = rgb->data[i];
      rgb->data[i] = isnan (v) ? 0.0f : v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
  const tl_preprocess_params *pre = tl_model_preprocess (model);
  tl_preprocess_geometry geo = tl_preprocess_geometry_for (pre, img->width, img->height);
  if (g)
    *g = geo;
  /* resize to the content rectangle first, as tl_explain does, so that the
   * letterbox placement sees the same pixels */
  int tw = pre->letterbox ? (int) lround (geo.w) : pre->width;
  int th = pre->letterbox ? (int) lround (geo.h) : pre->height;
  if (tw != rgb->width || th != rgb->height)
    {
      tl_image *r = tl_image_resize (rgb, tw, th, pre->resize_mode, error);
      if (!r)
        return NULL;
      tl_image_free (rgb);
      rgb = r;
    }
  return tl_preprocess_pixels (pre, rgb, NULL, error);
}

static tl_tensor *
normalised (tl_model *model, const tl_tensor *pixels, GError **error)
{
  tl_tensor *x = tl_tensor_copy (pixels, error);
  if (x && !tl_preprocess_normalize (tl_model_preprocess (model), x->data, 1, error))
    {
      tl_tensor_free (x);
      return NULL;
    }
  return x;
}

/* The embedding of an image: a contiguous copy of the score tensor. */
static float *
embedding_of (tl_model *model, tl_net *net, const tl_image *img, const char *tensor,
              int64_t *k, GError **error)
{
  g_autoptr (tl_tensor) px = tl_model_pixels (model, img, NULL, error);
  g_autoptr (tl_tensor) x = px ? normalised (model, px, error) : NULL;
  if (!x)
    return NULL;
  const tl_tensor *in[1] = { x };
  const char *taps[1] = { tensor };
  tl_net_result *r = tl_model_run (model, net, in, 1, taps, 1, TL_NET_RUN_DEFAULT, error);
  if (!r)
    return NULL;
  const tl_tensor *out = tl_net_result_get (r, tensor);
  *k = tl_tensor_numel (out);
  float *v = g_new (float, *k);
  tl_tensor_gather (out, v);
  tl_net_result_free (r);
  return v;
}

/* ---- the gradient of the score --------------------------------------------- */

static tl_tensor *
score_gradient (tl_model *model, tl_net_result *r, const char *layer, const char *tensor,
                const tl_model_score *spec, GError **error)
{
  switch (tl_model_task (model))
    {
    case TL_TASK_CLASSIFIER:
      return tl_net_result_grad_logit (r, layer, tensor, spec->target, error);
    case TL_TASK_DETECTOR:
      {
        /* d/d heat of Σ_{y,x} heat[target, y, x]: ones on the target channel */
        const tl_tensor *out = tl_net_result_get (r, tensor);
        g_autoptr (tl_tensor) dy = tl_tensor_new (out->ndim, out->shape, error);
        if (!dy)
          return NULL;
        int64_t plane = out->shape[2] * out->shape[3], n = tl_tensor_numel (dy);
        for (int64_t i = 0; i < n; i++)
          dy->data[i] = (i / plane) % out->shape[1] == spec->target ? 1.0f : 0.0f;
        return tl_net_result_grad (r, layer, tensor, dy, error);
      }
    default:
      return tl_net_result_grad_cosine (r, layer, tensor, spec->reference, spec->k, NULL, error);
    }
}

/* ---- Score-CAM ---------------------------------------------------------------- */

static gboolean
upsample (const float *src, int sw, int sh, float *dst, int dw, int dh,
          G_GNUC_UNUSED void *user, GError **error)
{
  return tl_resample (src, sw, sh, 1, dst, dw, dh, TL_RESAMPLE_HALF_PIXEL, error);
}

static tl_tensor *
scorecam (tl_model *model, const tl_tensor *F, const tl_tensor *pixels,
          const tl_labelled_params *p, const tl_model_score *spec, int *used,
          tl_progress_func progress, void *progress_data, GError **error)
{
  int64_t C = F->shape[F->ndim - 3];
  const int IC = (int) pixels->shape[1], IH = (int) pixels->shape[2];
  const int IW = (int) pixels->shape[3];
  const size_t plane = (size_t) IH * IW;
  g_autofree int *channels = g_new (int, C);
  int n = tl_scorecam_select_channels (F, p->channels, channels, error);
  if (n < 0)
    return NULL;
  g_autoptr (tl_model_batch) b = tl_model_batch_new (model, p->batch, error);
  if (!b)
    return NULL;
  /* masks and masked inputs one batch at a time: all of them at once would
   * be C × the input (480 × 512 × 512 floats for centernet) */
  g_autofree float *masks = g_try_new (float, plane * p->batch);
  g_autofree float *xs = g_try_new (float, plane * IC * p->batch);
  g_autofree double *scores = g_new (double, n);
  g_autofree float *px = g_new (float, plane * IC);
  if (!masks || !xs)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "Score-CAM: cannot allocate %d masks of %dx%d",
                   p->batch, IW, IH);
      return NULL;
    }
  tl_tensor_gather (pixels, px);
  for (int first = 0; first < n; first += p->batch)
    {
      int m = MIN (p->batch, n - first);
      if (!tl_scorecam_masks (F, channels + first, m, IH, IW, upsample, NULL, masks, error))
        return NULL;
      for (int k = 0; k < m; k++)
        for (int c = 0; c < IC; c++)
          {
            const float *mk = masks + k * plane, *s = px + c * plane;
            float *d = xs + ((size_t) k * IC + c) * plane;
            for (size_t i = 0; i < plane; i++)
              d[i] = s[i] * mk[i];
          }
      if (!tl_model_batch_scores (b, xs, m, spec, scores + first, error))
        return NULL;
      report (progress, progress_data, 0.3 + 0.6 * (first + m) / n, "scoring masked inputs");
    }
  tl_tensor *map = NULL;
  if (!tl_scorecam_map (F, channels, scores, n, &map, NULL, error))
    return NULL;
  *used = n;
  return map;
}

/* ---- the pipeline ---------------------------------------------------------- */

/* An explanation owning map; shape = C, H, W of the features. */
static tl_explanation *
explanation_new (int width, int height, const tl_preprocess_geometry *g, tl_tensor *map,
                 const char *layer, const float shape[3])
{
  tl_explanation *ex = g_new0 (tl_explanation, 1);
  ex->image_width = width;
  ex->image_height = height;
  ex->geometry = *g;
  ex->map = map;
  ex->layer = g_strdup (layer);
  for (int i = 0; i < 3; i++)
    ex->report.shape[i] = (int64_t) shape[i];
  return ex;
}

/* meta = target, score, channels used, C, H, W. */
static void
labelled_report_from (const float *meta, tl_labelled_report *rep)
{
  if (!rep)
    return;
  rep->target = (int) meta[0];
  rep->score = meta[1];
  rep->channels = (int) meta[2];
  for (int i = 0; i < 3; i++)
    rep->shape[i] = (int64_t) meta[3 + i];
}

tl_explanation *
tl_explain_labelled_rows (tl_model *model, int width, int height, tl_rows_func rows,
                          void *rows_data, const tl_labelled_params *p, tl_explain_cache *cache,
                          tl_labelled_report *rep, tl_progress_func progress,
                          void *progress_data, GError **error)
{
  g_return_val_if_fail (model != NULL && rows != NULL && p != NULL, NULL);
  if ((unsigned) p->method > TL_LABELLED_SCORECAM)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "method %d: not a label-dependent method",
                   (int) p->method);
      return NULL;
    }
  if (p->method == TL_LABELLED_SCORECAM && (p->batch < 1 || p->batch > 64 || p->channels < 0))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "Score-CAM: batch %d must be 1..64 and channels %d at least 0 (0 = all)",
                   p->batch, p->channels);
      return NULL;
    }
  tl_net *net = tl_model_net (model, error);
  if (!net)
    return NULL;
  const char *layer = p->layer && *p->layer ? p->layer : tl_model_default_layer (model);
  const char *tensor = tl_model_score_tensor (model, error);
  if (!tensor || !tl_explain_check_layer (net, layer, tl_model_name (model), error))
    return NULL;
  tl_task task = tl_model_task (model);
  gboolean gradients = p->method != TL_LABELLED_SCORECAM;
  if (task == TL_TASK_EMBEDDING && gradients && !p->reference)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s on the embedding model '%s' needs a reference image: the gradient of "
                   "the similarity of an image's embedding to itself is zero",
                   tl_labelled_method_name (p->method), tl_model_name (model));
      return NULL;
    }

  /* the image in strips, as tl_explain_rows reads it: a 24-megapixel
   * photo is never copied whole */
  report (progress, progress_data, 0.0, "reading image");
  tl_preprocess_geometry g;
  uint64_t digest[2];
  g_autoptr (tl_image) resized = tl_explain_read_resized (model, width, height, rows, rows_data,
                                                          &g, digest, progress, progress_data,
                                                          error);
  if (!resized)
    return NULL;
  /* the map and the report of an image seen before (not with a reference
   * image: the key would have to name it too) */
  g_autofree char *key = NULL, *mkey = NULL;
  if (cache && !p->reference)
    {
      key = g_strdup_printf ("%s\n%s of class %d, %d channels", layer,
                             tl_labelled_method_name (p->method), p->target,
                             p->method == TL_LABELLED_SCORECAM ? p->channels : 0);
      mkey = g_strconcat (key, "\nreport", NULL);
      tl_tensor *map = tl_explain_cache_lookup (cache, model, key, digest, width, height);
      g_autoptr (tl_tensor) meta = tl_explain_cache_lookup (cache, model, mkey, digest, width,
                                                            height);
      if (map && meta)
        {
          labelled_report_from (meta->data, rep);
          tl_explanation *ex = explanation_new (width, height, &g, map, layer, meta->data + 3);
          ex->target = (int) meta->data[0];
          ex->from_cache = true;
          report (progress, progress_data, 1.0, "done");
          return ex;
        }
      tl_tensor_free (map);
    }
  g_autoptr (tl_tensor) pixels = resized ? tl_preprocess_pixels (tl_model_preprocess (model),
                                                                 resized, NULL, error) : NULL;
  g_autoptr (tl_tensor) x = pixels ? normalised (model, pixels, error) : NULL;
  if (!x)
    return NULL;
  g_autofree float *reference = NULL;
  int64_t k = 0;
  if (task == TL_TASK_EMBEDDING && p->reference
      && !(reference = embedding_of (model, net, p->reference, tensor, &k, error)))
    {
      g_prefix_error (error, "reference image: ");
      return NULL;
    }

  report (progress, progress_data, 0.2, "running the network");
  const tl_tensor *in[1] = { x };
  const char *taps[2] = { layer, tensor };
  tl_net_result *r = tl_model_run (model, net, in, 1, taps, strcmp (layer, tensor) ? 2 : 1,
                                   gradients ? TL_NET_RUN_BACKWARD : TL_NET_RUN_DEFAULT, error);
  if (!r)
    return NULL;
  const tl_tensor *out = tl_net_result_get (r, tensor);
  const tl_tensor *F = tl_net_result_get (r, layer);
  tl_model_score spec = { TL_MODEL_SCORE_TARGET, p->target, reference, k };
  if (task == TL_TASK_EMBEDDING && !reference)
    {
      k = tl_tensor_numel (out);
      reference = g_new (float, k);
      tl_tensor_gather (out, reference);
      spec.reference = reference;
      spec.k = k;
    }
  if (spec.target < 0)
    spec.target = tl_model_score_top1 (model, out);
  double score = 0;
  tl_tensor *map = NULL;
  int used = 0;
  if (tl_model_score_output (model, out, 1, &spec, &score, error))
    {
      if (gradients)
        {
          report (progress, progress_data, 0.5, "backward pass");
          g_autoptr (tl_tensor) dF = score_gradient (model, r, layer, tensor, &spec, error);
          if (dF)
            {
              if (p->method == TL_LABELLED_GRADCAM)
                tl_gradcam_map (F, dF, &map, NULL, error);
              else
                tl_gradcampp_map (F, dF, &map, NULL, error);
            }
          used = (int) F->shape[F->ndim - 3];
        }
      else
        map = scorecam (model, F, pixels, p, &spec, &used, progress, progress_data, error);
    }
  int64_t shape[3] = { F->shape[F->ndim - 3], F->shape[F->ndim - 2], F->shape[F->ndim - 1] };
  tl_net_result_free (r);
  if (!map)
    return NULL;

  /* target, score (as a float), channels used, C, H, W */
  float meta[6] = { task == TL_TASK_EMBEDDING ? -1.0f : (float) spec.target, (float) score,
                    (float) used, (float) shape[0], (float) shape[1], (float) shape[2] };
  if (key)
    {
      int64_t six = 6;
      g_autoptr (tl_tensor) mv = tl_tensor_view (meta, 1, &six);
      tl_explain_cache_store (cache, model, key, digest, width, height, map);
      tl_explain_cache_store (cache, model, mkey, digest, width, height, mv);
    }
  tl_explanation *ex = explanation_new (width, height, &g, map, layer, meta + 3);
  ex->target = (int) meta[0];
  labelled_report_from (meta, rep);
  if (rep)
    rep->score = score;
  report (progress, progress_data, 1.0, "done");
  return ex;
}

tl_explanation *
tl_explain_labelled (tl_model *model, const tl_image *img, const tl_labelled_params *p,
                     tl_labelled_report *rep, tl_progress_func progress, void *progress_data,
                     GError **error)
{
  g_return_val_if_fail (img != NULL, NULL);
  return tl_explain_labelled_rows (model, img->width, img->height, tl_image_rows, (void *) img,
                                   p, NULL, rep, progress, progress_data, error);
}
