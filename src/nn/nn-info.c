/* What a loaded net tells about itself: tensors, shapes, the default target
 * layer for saliency, and how much memory a run needs. */
#include "nn-graph.h"

#include <string.h>

int
tl_net_n_inputs (const tl_net *net)
{
  return net->n_inputs;
}

const tl_net_tensor_info *
tl_net_input (const tl_net *net, int i)
{
  g_return_val_if_fail (i >= 0 && i < net->n_inputs, NULL);
  return &net->infos[NV (net, net->inputs[i])->info_index];
}

int
tl_net_n_outputs (const tl_net *net)
{
  return net->n_outputs;
}

/* A constant output has no runtime tensor: describe it from its value. */
const tl_net_tensor_info *
tl_net_output (const tl_net *net, int i)
{
  g_return_val_if_fail (i >= 0 && i < net->n_outputs, NULL);
  const tl_value *v = NV (net, net->outputs[i]);
  if (v->info_index >= 0)
    return &net->infos[v->info_index];
  static __thread tl_net_tensor_info t;
  memset (&t, 0, sizeof t);
  t.name = v->name;
  t.kind = TL_NET_TENSOR_OUTPUT;
  t.ndim = v->ndim;
  memcpy (t.shape, v->shape, sizeof t.shape);
  return &t;
}

int
tl_net_n_tensors (const tl_net *net)
{
  return net->n_infos;
}

const tl_net_tensor_info *
tl_net_tensor (const tl_net *net, int i)
{
  g_return_val_if_fail (i >= 0 && i < net->n_infos, NULL);
  return &net->infos[i];
}

const tl_net_tensor_info *
tl_net_find_tensor (const tl_net *net, const char *name)
{
  int vi = tl_net_value_index (net, name);
  if (vi < 0 || NV (net, vi)->info_index < 0)
    return NULL;
  return &net->infos[NV (net, vi)->info_index];
}

const char *
tl_net_default_target_layer (const tl_net *net)
{
  return net->default_layer;
}

int
tl_net_n_nodes (const tl_net *net)
{
  return net->n_order;
}

int
tl_net_opset (const tl_net *net)
{
  return net->opset;
}

size_t
tl_net_weight_bytes (const tl_net *net)
{
  size_t n = 0;
  for (guint i = 0; i < net->values->len; i++)
    if (NV (net, i)->cdata)
      n += (size_t) NV (net, i)->numel * tl_dtype_size (NV (net, i)->dtype);
  return n;
}

/* Replays the runtime's allocation plan (aliases share, in-place reuse,
 * release after the last reader) counting live bytes; scratch on top. */
size_t
tl_net_peak_memory (const tl_net *net, const char *const *taps, int n_taps)
{
  int nv = (int) net->values->len;
  int *owner = g_new (int, nv);        /* value whose allocation holds this one */
  int *refs = g_new0 (int, nv);
  guint8 *keep = g_new0 (guint8, nv);
  for (int i = 0; i < nv; i++)
    owner[i] = -1;
  for (int i = 0; i < net->n_outputs; i++)
    keep[net->outputs[i]] = 1;
  for (int i = 0; i < n_taps; i++)
    {
      int vi = taps && taps[i] ? tl_net_value_index (net, taps[i]) : -1;
      if (vi >= 0)
        keep[vi] = 1;
    }
  size_t live = 0, peak = 0, scratch = 0;
  for (int i = 0; i < net->n_inputs; i++)
    {
      int vi = net->inputs[i];
      owner[vi] = vi;
      refs[vi] = 1;
      live += (size_t) NV (net, vi)->numel * 4;
    }
  peak = live;
  for (int s = 0; s < net->n_order; s++)
    {
      const tl_node *node = &net->nodes[net->order[s]];
      scratch = MAX (scratch, node->scratch * 4);
      for (int k = 0; k < node->n_out; k++)
        {
          int vi = node->out[k], x0 = node->in[0];
          if (vi < 0)
            continue;
          if (k == 0 && x0 >= 0 && owner[x0] >= 0
              && (node->op->alias
                  || (node->op->inplace && !keep[x0] && NV (net, x0)->last_use == s
                      && refs[owner[x0]] == 1 && NV (net, x0)->input_index < 0
                      && NV (net, x0)->numel == NV (net, vi)->numel)))
            {
              owner[vi] = owner[x0];
              refs[owner[vi]]++;
              continue;
            }
          owner[vi] = vi;
          refs[vi] = 1;
          live += (size_t) NV (net, vi)->numel * 4;
        }
      peak = MAX (peak, live);
      for (int k = 0; k < node->n_in + node->n_out; k++)
        {
          gboolean is_in = k < node->n_in;
          int vi = is_in ? node->in[k] : node->out[k - node->n_in];
          if (vi < 0 || owner[vi] < 0 || keep[vi])
            continue;
          if (is_in ? NV (net, vi)->last_use != s : NV (net, vi)->n_consumers != 0)
            continue;
          int o = owner[vi];
          owner[vi] = -1;
          if (--refs[o] == 0)
            live -= (size_t) NV (net, o)->numel * 4;
        }
    }
  g_free (owner);
  g_free (refs);
  g_free (keep);
  return peak + scratch;
}
