/* Reverse-mode gradient of a scalar score with respect to one tapped tensor,
 * through the nodes between them, using the activations a TL_NET_RUN_BACKWARD
 * run kept. Only nodes on a path from the tapped tensor to the output are
 * visited, and only gradients of tensors that depend on the tap are formed. */
#include "nn-graph.h"

#include <math.h>
#include <string.h>

const float *tl_net_result_value_data (const tl_net_result *r, int vi);
gboolean     tl_net_result_has_backward (const tl_net_result *r);
tl_net      *tl_net_result_net (const tl_net_result *r);

static int
resolve_output (const tl_net *net, const char *output, GError **error)
{
  if (!output)
    return net->outputs[0];
  int vi = tl_net_value_index (net, output);
  if (vi < 0 || NV (net, vi)->info_index < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: no runtime tensor named '%s'",
                   net->name, output);
      return -1;
    }
  return vi;
}

tl_tensor *
tl_net_result_grad (tl_net_result *res, const char *wrt, const char *output,
                    const tl_tensor *dy, GError **error)
{
  tl_net *net = tl_net_result_net (res);
  if (!tl_net_result_has_backward (res))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: the run was not made with TL_NET_RUN_BACKWARD", net->name);
      return NULL;
    }
  int wi = wrt ? tl_net_value_index (net, wrt) : -1;
  if (wi < 0 || NV (net, wi)->info_index < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: no runtime tensor named '%s'",
                   net->name, wrt ? wrt : "(null)");
      return NULL;
    }
  int oi = resolve_output (net, output, error);
  if (oi < 0)
    return NULL;
  const tl_value *ov = NV (net, oi), *wv = NV (net, wi);
  if (!dy || tl_tensor_numel (dy) != ov->numel || dy->ndim != ov->ndim
      || memcmp (dy->shape, ov->shape, sizeof (int64_t) * ov->ndim) != 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: the output gradient must have the shape of '%s'", net->name, ov->name);
      return NULL;
    }
  int nv = (int) net->values->len;
  /* reach[v]: v depends on wrt, so its gradient is wanted */
  guint8 *reach = g_new0 (guint8, nv);
  reach[wi] = 1;
  int first = -1;
  for (int s = 0; s < net->n_order; s++)
    {
      const tl_node *node = &net->nodes[net->order[s]];
      gboolean r = FALSE;
      for (int k = 0; k < node->n_in; k++)
        r |= node->in[k] >= 0 && reach[node->in[k]];
      if (r)
        {
          if (first < 0)
            first = s;
          for (int k = 0; k < node->n_out; k++)
            if (node->out[k] >= 0)
              reach[node->out[k]] = 1;
        }
    }
  tl_tensor *result = tl_tensor_new (wv->ndim, wv->shape, error);
  if (!result)
    {
      g_free (reach);
      return NULL;
    }
  float **grad = g_new0 (float *, nv);
  grad[oi] = g_new (float, MAX (ov->numel, 1));
  tl_tensor_gather (dy, grad[oi]);
  gboolean ok = TRUE;
  const void *in_stack[64];
  void *out_stack[64];
  const float *dout[64];
  float *din[64];
  for (int s = net->n_order - 1; s >= MAX (first, 0) && ok && oi != wi; s--)
    {
      const tl_node *node = &net->nodes[net->order[s]];
      gboolean any = FALSE, want = FALSE;
      for (int k = 0; k < node->n_out; k++)
        {
          int vi = node->out[k];
          dout[k] = vi >= 0 ? grad[vi] : NULL;
          any |= dout[k] != NULL;
          out_stack[k] = vi >= 0 ? (void *) tl_net_result_value_data (res, vi) : NULL;
        }
      for (int k = 0; k < node->n_in; k++)
        {
          int vi = node->in[k];
          in_stack[k] = vi >= 0 ? tl_net_result_value_data (res, vi) : NULL;
          din[k] = NULL;
          if (vi >= 0 && reach[vi] && !NV (net, vi)->cdata)
            {
              din[k] = g_try_new (float, MAX (NV (net, vi)->numel, 1));
              want = TRUE;
            }
        }
      if (any && want)
        {
          /* the run must have kept this node's activations: wrt was tapped */
          gboolean have = TRUE;
          for (int k = 0; k < node->n_in; k++)
            have &= node->in[k] < 0 || in_stack[k] != NULL;
          for (int k = 0; k < node->n_out; k++)
            have &= node->out[k] < 0 || out_stack[k] != NULL;
          if (!have)
            {
              ok = FALSE;
              g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                           "%s: '%s' was not among the taps of the backward run",
                           net->name, wv->name);
            }
          else if (!node->op->backward)
            {
              ok = FALSE;
              g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                           "node '%s' (%s): backward is not supported for this op",
                           node->name, node->op_type);
            }
          else
            {
              tl_op_ctx ctx = { net, node, in_stack, out_stack, NULL };
              ok = node->op->backward (&ctx, dout, din, error);
            }
        }
      for (int k = 0; k < node->n_in; k++)
        {
          int vi = node->in[k];
          if (!din[k])
            continue;
          if (ok && any)
            {
              if (!grad[vi])
                {
                  grad[vi] = din[k];
                  din[k] = NULL;
                }
              else
                for (int64_t i = 0; i < NV (net, vi)->numel; i++)
                  grad[vi][i] += din[k][i];
            }
          g_free (din[k]);
        }
      /* gradients of this node's outputs are complete and no longer needed */
      for (int k = 0; k < node->n_out; k++)
        if (node->out[k] >= 0 && node->out[k] != wi)
          g_clear_pointer (&grad[node->out[k]], g_free);
    }
  if (ok && grad[wi])
    memcpy (result->data, grad[wi], (size_t) wv->numel * sizeof (float));
  for (int i = 0; i < nv; i++)
    g_free (grad[i]);
  g_free (grad);
  g_free (reach);
  if (!ok)
    {
      tl_tensor_free (result);
      return NULL;
    }
  return result;
}

/* The output as N rows of K (N = its first dim, or 1 for rank < 2). */
static gboolean
output_rows (const tl_net *net, int oi, int64_t *n, int64_t *k)
{
  const tl_value *v = NV (net, oi);
  *n = v->ndim >= 2 ? v->shape[0] : 1;
  *k = *n > 0 ? v->numel / *n : 0;
  return *k > 0;
}

tl_tensor *
tl_net_result_grad_logit (tl_net_result *res, const char *wrt, const char *output,
                          int64_t index, GError **error)
{
  tl_net *net = tl_net_result_net (res);
  int oi = resolve_output (net, output, error);
  if (oi < 0)
    return NULL;
  int64_t n, k;
  if (!output_rows (net, oi, &n, &k) || index < 0 || index >= k)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: index %" G_GINT64_FORMAT " is out of range for output '%s' (%"
                   G_GINT64_FORMAT " entries per sample)", net->name, index, NV (net, oi)->name, k);
      return NULL;
    }
  const tl_value *ov = NV (net, oi);
  g_autoptr (tl_tensor) dy = tl_tensor_new (ov->ndim, ov->shape, error);
  if (!dy)
    return NULL;
  for (int64_t b = 0; b < n; b++)
    dy->data[b * k + index] = 1.0f;
  return tl_net_result_grad (res, wrt, NV (net, oi)->name, dy, error);
}

tl_tensor *
tl_net_result_grad_cosine (tl_net_result *res, const char *wrt, const char *output,
                           const float *v, int64_t kv, double *score, GError **error)
{
  tl_net *net = tl_net_result_net (res);
  int oi = resolve_output (net, output, error);
  if (oi < 0)
    return NULL;
  int64_t n, k;
  if (!output_rows (net, oi, &n, &k) || k != kv || !v)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: the reference vector has %" G_GINT64_FORMAT " entries, output '%s' "
                   "has %" G_GINT64_FORMAT " per sample", net->name, kv, NV (net, oi)->name, k);
      return NULL;
    }
  const float *e = tl_net_result_value_data (res, oi);
  if (!e)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: output '%s' was not kept",
                   net->name, NV (net, oi)->name);
      return NULL;
    }
  const tl_value *ov = NV (net, oi);
  g_autoptr (tl_tensor) dy = tl_tensor_new (ov->ndim, ov->shape, error);
  if (!dy)
    return NULL;
  double vv = 0, total = 0;
  for (int64_t j = 0; j < k; j++)
    vv += (double) v[j] * v[j];
  double nv = sqrt (vv);
  for (int64_t b = 0; b < n; b++)
    {
      const float *eb = e + b * k;
      double ee = 0, ev = 0;
      for (int64_t j = 0; j < k; j++)
        {
          ee += (double) eb[j] * eb[j];
          ev += (double) eb[j] * v[j];
        }
      double ne = sqrt (ee);
      if (ne == 0 || nv == 0)
        continue;  /* cosine undefined: score 0, gradient 0 (never NaN) */
      double cs = ev / (ne * nv);
      total += cs;
      /* d cos / d e = v / (|e||v|) - cos * e / |e|^2 */
      for (int64_t j = 0; j < k; j++)
        dy->data[b * k + j] = (float) (v[j] / (ne * nv) - cs * eb[j] / ee);
    }
  if (score)
    *score = total;
  return tl_net_result_grad (res, wrt, ov->name, dy, error);
}
