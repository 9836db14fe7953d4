/* Scores of a model's output and batched forward passes; see model-score.h. */
#include "model-score.h"

#include "error.h"

#include <math.h>
#include <string.h>

const char *
tl_model_score_tensor (tl_model *model, GError **error)
{
  const tl_card *card = tl_model_card (model);
  if (card && card->task == TL_TASK_AUTOENCODER)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "model '%s' is an autoencoder: it has no score to explain",
                   tl_model_name (model));
      return NULL;
    }
  if (card && card->score_tensor)
    return card->score_tensor;
  tl_net *net = tl_model_net (model, error);
  return net ? tl_net_output (net, 0)->name : NULL;
}

/* Row b of out viewed as n × K, as double (out may be strided). */
static void
gather_row (const tl_tensor *out, int64_t b, int64_t K, double *row)
{
  if (tl_tensor_is_contiguous (out))
    {
      const float *s = out->data + b * K;
      for (int64_t i = 0; i < K; i++)
        row[i] = s[i];
      return;
    }
  /* strided: walk the index space of the sample */
  int64_t idx[TL_MAX_DIMS] = { 0 };
  idx[0] = b;
  for (int64_t i = 0; i < K; i++)
    {
      row[i] = out->data[tl_tensor_offset (out, idx)];
      for (int d = out->ndim - 1; d >= 1; d--)
        if (++idx[d] < out->shape[d])
          break;
        else
          idx[d] = 0;
    }
}

static double
cosine (const double *a, const float *b, int64_t k)
{
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < k; i++)
    {
      ab += a[i] * b[i];
      aa += a[i] * a[i];
      bb += (double) b[i] * b[i];
    }
  /* a zero vector points nowhere: similarity 0 rather than NaN */
  return aa > 0 && bb > 0 ? ab / (sqrt (aa) * sqrt (bb)) : 0.0;
}

gboolean
tl_model_score_output (tl_model *model, const tl_tensor *out, int n, const tl_model_score *spec,
                       double *scores, GError **error)
{
  char buf[64];
  tl_task task = tl_model_task (model);
  int64_t numel = tl_tensor_numel (out);
  if (n < 1 || out->ndim < 1 || out->shape[0] != n || numel % n != 0 || numel == 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "model '%s': score tensor is %s, expected %d sample(s)", tl_model_name (model),
                   tl_shape_str (out->ndim, out->shape, buf, sizeof buf), n);
      return FALSE;
    }
  int64_t K = numel / n;
  g_autofree double *row = g_new (double, K);
  if (task == TL_TASK_DETECTOR)
    {
      if (out->ndim != 4 || spec->target < 0 || spec->target >= out->shape[1])
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "model '%s': heat-map %s has no channel %d",
                       tl_model_name (model),
                       tl_shape_str (out->ndim, out->shape, buf, sizeof buf), spec->target);
          return FALSE;
        }
      int64_t plane = out->shape[2] * out->shape[3];
      for (int b = 0; b < n; b++)
        {
          gather_row (out, b, K, row);
          double s = 0;
          for (int64_t i = 0; i < plane; i++)
            s += row[spec->target * plane + i];
          scores[b] = s;
        }
      return TRUE;
    }
  if (task == TL_TASK_CLASSIFIER)
    {
      if (spec->target < 0 || spec->target >= K)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "model '%s': target class %d is out of range (the model has %"
                       G_GINT64_FORMAT " classes)", tl_model_name (model), spec->target,
                       (gint64) K);
          return FALSE;
        }
      for (int b = 0; b < n; b++)
        {
          gather_row (out, b, K, row);
          if (spec->mode == TL_MODEL_SCORE_TARGET)
            {
              scores[b] = row[spec->target];
              continue;
            }
          double mx = row[0], sum = 0;
          for (int64_t i = 1; i < K; i++)
            mx = fmax (mx, row[i]);
          for (int64_t i = 0; i < K; i++)
            sum += exp (row[i] - mx);
          scores[b] = exp (row[spec->target] - mx) / sum;
        }
      return TRUE;
    }
  /* embedding (also a bare ONNX file) */
  if (!spec->reference || spec->k != K)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "model '%s': the embedding has %" G_GINT64_FORMAT " values but the "
                   "reference has %" G_GINT64_FORMAT, tl_model_name (model), (gint64) K,
                   (gint64) (spec->reference ? spec->k : 0));
      return FALSE;
    }
  for (int b = 0; b < n; b++)
    {
      gather_row (out, b, K, row);
      double c = cosine (row, spec->reference, K);
      scores[b] = spec->mode == TL_MODEL_SCORE_FAITH ? fmax (0.0, c) : c;
    }
  return TRUE;
}

int
tl_model_score_top1 (tl_model *model, const tl_tensor *out)
{
  tl_task task = tl_model_task (model);
  if (task != TL_TASK_CLASSIFIER && task != TL_TASK_DETECTOR)
    return -1;
  int64_t K = tl_tensor_numel (out);
  g_autofree double *row = g_new (double, K);
  gather_row (out, 0, K, row);
  int64_t classes = task == TL_TASK_DETECTOR && out->ndim == 4 ? out->shape[1] : K;
  int64_t plane = K / classes;
  int best = 0;
  double best_s = -INFINITY;
  for (int64_t c = 0; c < classes; c++)
    {
      /* a class's score: its logit, or for detectors the peak of its heat
       * map (the strongest detection, as tl_explain picks it) */
      double s = -INFINITY;
      for (int64_t i = 0; i < plane; i++)
        s = fmax (s, row[c * plane + i]);
      if (s > best_s)
        best_s = s, best = (int) c;
    }
  return best;
}

/* ---- batched runs ------------------------------------------------------ */

struct tl_model_batch
{
  tl_model *model;
  tl_net   *net;
  int       batch;
  int64_t   C, H, W;
  char     *tensor;
  float    *x;        /* batch × C × H × W input buffer */
};

void
tl_model_batch_free (tl_model_batch *b)
{
  if (!b)
    return;
  tl_net_free (b->net);
  tl_model_unref (b->model);
  g_free (b->tensor);
  g_free (b->x);
  g_free (b);
}

int
tl_model_batch_size (const tl_model_batch *b)
{
  return b->batch;
}

/* Batches larger than this gain nothing on a CPU and only cost memory. */
#define MAX_BATCH 64

tl_model_batch *
tl_model_batch_new (tl_model *model, int batch, GError **error)
{
  if (batch < 1 || batch > MAX_BATCH)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "batch %d: must be 1..%d", batch,
                   MAX_BATCH);
      return NULL;
    }
  tl_net *net1 = tl_model_net (model, error);
  const char *tensor = net1 ? tl_model_score_tensor (model, error) : NULL;
  if (!tensor)
    return NULL;
  const tl_card *card = tl_model_card (model);
  const char *onnx = card ? card->model : tl_model_path (model);
  const tl_net_tensor_info *in = tl_net_input (net1, 0);
  g_autoptr (tl_model_batch) b = g_new0 (tl_model_batch, 1);
  b->model = tl_model_ref (model);
  b->batch = batch;
  b->C = in->shape[1];
  b->H = in->shape[2];
  b->W = in->shape[3];
  b->tensor = g_strdup (tensor);
  if (batch > 1)
    {
      /* Some graphs cannot be re-batched (e.g. a Resize with explicit sizes
       * that fix N = 1, as centernet's): then run one input at a time
       * through the model's own network. Same scores, more passes. */
      GError *local = NULL;
      b->net = tl_net_load_batch (onnx, batch, &local);
      if (!b->net)
        {
          g_clear_error (&local);
          b->batch = batch = 1;
        }
    }
  b->x = g_try_new (float, (size_t) batch * b->C * b->H * b->W);
  if (!b->x)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "batch of %d inputs: out of memory", batch);
      return NULL;
    }
  return g_steal_pointer (&b);
}

gboolean
tl_model_batch_scores (tl_model_batch *b, const float *pixels, int64_t n,
                       const tl_model_score *spec, double *scores, GError **error)
{
  const size_t per = (size_t) (b->C * b->H * b->W);
  const tl_preprocess_params *pre = tl_model_preprocess (b->model);
  for (int64_t first = 0; first < n; first += b->batch)
    {
      int m = (int) MIN ((int64_t) b->batch, n - first);
      memcpy (b->x, pixels + first * per, sizeof (float) * per * m);
      /* a short last chunk is padded with copies of its first input */
      for (int i = m; i < b->batch; i++)
        memcpy (b->x + i * per, b->x, sizeof (float) * per);
      if (!tl_preprocess_normalize (pre, b->x, b->batch, error))
        return FALSE;
      int64_t shape[4] = { b->batch, b->C, b->H, b->W };
      g_autoptr (tl_tensor) x = tl_tensor_view (b->x, 4, shape);
      const tl_tensor *inputs[1] = { x };
      const char *taps[1] = { b->tensor };
      tl_net *net = b->net;
      tl_net_result *r = net ? tl_net_run (net, inputs, 1, taps, 1, TL_NET_RUN_DEFAULT, error)
                             : tl_model_run (b->model, tl_model_net (b->model, NULL), inputs, 1,
                                             taps, 1, TL_NET_RUN_DEFAULT, error);
      if (!r)
        return FALSE;
      g_autofree double *s = g_new (double, b->batch);
      gboolean ok = tl_model_score_output (b->model, tl_net_result_get (r, b->tensor), b->batch,
                                           spec, s, error);
      tl_net_result_free (r);
      if (!ok)
        return FALSE;
      for (int i = 0; i < m; i++)
        {
          if (!isfinite (s[i]))
            {
              g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                           "model '%s': the score of input %" G_GINT64_FORMAT " is not finite",
                           tl_model_name (b->model), (gint64) (first + i));
              return FALSE;
            }
          scores[first + i] = s[i];
        }
    }
  return TRUE;
}
