/* The graph passes that run once at load time: ordering, static shape
 * inference, constant folding (which removes the shape-only subgraphs),
 * BatchNormalization folding and the listing of runtime tensors. */
#include "nn-graph.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

int
tl_net_value_index (const tl_net *net, const char *name)
{
  gpointer p = g_hash_table_lookup (net->by_name, name);
  return p ? GPOINTER_TO_INT (p) - 1 : -1;
}

int
tl_net_add_value (tl_net *net, const char *name)
{
  int i = tl_net_value_index (net, name);
  if (i >= 0)
    return i;
  tl_value *v = g_new0 (tl_value, 1);
  v->name = g_strdup (name);
  v->producer = -1;
  v->input_index = -1;
  v->output_index = -1;
  v->info_index = -1;
  v->concat_into = -1;
  g_ptr_array_add (net->values, v);
  i = (int) net->values->len - 1;
  g_hash_table_insert (net->by_name, v->name, GINT_TO_POINTER (i + 1));
  return i;
}

void
tl_value_set_shape (tl_value *v, tl_dtype dt, int ndim, const int64_t *shape)
{
  v->dtype = dt;
  v->ndim = ndim;
  for (int d = 0; d < TL_MAX_DIMS; d++)
    v->shape[d] = d < ndim ? shape[d] : 0;
  v->numel = tl_shape_numel (ndim, shape);
  v->known = TRUE;
}

const tl_attr *
tl_node_attr (const tl_node *node, const char *name)
{
  for (int i = 0; i < node->n_attr; i++)
    if (strcmp (node->attr[i].name, name) == 0)
      return &node->attr[i];
  return NULL;
}

int64_t
tl_node_attr_int (const tl_node *node, const char *name, int64_t dflt)
{
  const tl_attr *a = tl_node_attr (node, name);
  return a && a->type == TL_ATTR_INT ? a->i : dflt;
}

float
tl_node_attr_float (const tl_node *node, const char *name, float dflt)
{
  const tl_attr *a = tl_node_attr (node, name);
  if (a && a->type == TL_ATTR_FLOAT)
    return a->f;
  if (a && a->type == TL_ATTR_INT)
    return (float) a->i;
  return dflt;
}

const char *
tl_node_attr_str (const tl_node *node, const char *name, const char *dflt)
{
  const tl_attr *a = tl_node_attr (node, name);
  return a && a->type == TL_ATTR_STRING ? a->s : dflt;
}

int
tl_node_attr_ints (const tl_node *node, const char *name, int64_t *dst, int max)
{
  const tl_attr *a = tl_node_attr (node, name);
  if (!a || a->type != TL_ATTR_INTS)
    return -1;
  for (int i = 0; i < a->n && i < max; i++)
    dst[i] = a->ints[i];
  return a->n;
}

gboolean
tl_node_set_error (GError **error, const tl_node *node, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "node '%s' (%s): %s",
               node->name, node->op_type, msg);
  g_free (msg);
  return FALSE;
}

gboolean
tl_axis_norm (int64_t axis, int rank, int *out)
{
  if (axis < -rank || axis >= rank)
    return FALSE;
  *out = (int) (axis < 0 ? axis + rank : axis);
  return TRUE;
}

int
tl_node_const_ints (const tl_net *net, const tl_node *node, int k, int64_t *dst, int max,
                    GError **error)
{
  if (!tl_node_has_input (node, k))
    {
      tl_node_fail (error, node, "input %d is missing", k);
      return -1;
    }
  const tl_value *v = IN (node, k);
  if (!v->cdata)
    {
      tl_node_fail (error, node, "input '%s' must be a constant (dynamic shapes are not "
                    "supported)", v->name);
      return -1;
    }
  if (v->numel > max)
    {
      tl_node_fail (error, node, "input '%s' has too many entries (%" G_GINT64_FORMAT ")",
                    v->name, v->numel);
      return -1;
    }
  for (int64_t i = 0; i < v->numel; i++)
    {
      if (v->dtype == TL_DT_INT64)
        dst[i] = ((const int64_t *) v->cdata)[i];
      else
        {
          float f = ((const float *) v->cdata)[i];
          if (!(fabsf (f) < 9e18f))
            {
              tl_node_fail (error, node, "input '%s' is not a valid integer", v->name);
              return -1;
            }
          dst[i] = (int64_t) f;
        }
    }
  return (int) v->numel;
}

int
tl_node_const_floats (const tl_net *net, const tl_node *node, int k, float *dst, int max,
                      GError **error)
{
  if (!tl_node_has_input (node, k))
    {
      tl_node_fail (error, node, "input %d is missing", k);
      return -1;
    }
  const tl_value *v = IN (node, k);
  if (!v->cdata)
    {
      tl_node_fail (error, node, "input '%s' must be a constant", v->name);
      return -1;
    }
  if (v->numel > max)
    {
      tl_node_fail (error, node, "input '%s' has too many entries", v->name);
      return -1;
    }
  for (int64_t i = 0; i < v->numel; i++)
    dst[i] = v->dtype == TL_DT_INT64 ? (float) ((const int64_t *) v->cdata)[i]
                                      : ((const float *) v->cdata)[i];
  return (int) v->numel;
}

/* Kahn's algorithm in file order: a valid execution order, and cycles and
 * dangling inputs found before anything runs. */
static gboolean
sort_nodes (tl_net *net, GError **error)
{
  int n = net->n_nodes;
  int *indeg = g_new0 (int, MAX (n, 1));
  GPtrArray **users = g_new0 (GPtrArray *, MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      tl_node *node = &net->nodes[i];
      if (!node->live)
        continue;
      for (int k = 0; k < node->n_in; k++)
        {
          if (node->in[k] < 0)
            continue;
          tl_value *v = IN (node, k);
          if (v->producer >= 0)
            {
              if (!users[v->producer])
                users[v->producer] = g_ptr_array_new ();
              g_ptr_array_add (users[v->producer], GINT_TO_POINTER (i));
              indeg[i]++;
            }
          else if (!v->cdata && v->input_index < 0)
            {
              g_free (indeg);
              for (int j = 0; j < n; j++)
                if (users[j])
                  g_ptr_array_unref (users[j]);
              g_free (users);
              g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                           "%s: node '%s' (%s) reads '%s', which no node, initializer or "
                           "input defines", net->name, node->name, node->op_type, v->name);
              return FALSE;
            }
        }
    }
  int *queue = g_new (int, MAX (n, 1));
  int head = 0, tail = 0;
  for (int i = 0; i < n; i++)
    if (net->nodes[i].live && indeg[i] == 0)
      queue[tail++] = i;
  net->order = g_new (int, MAX (n, 1));
  net->n_order = 0;
  while (head < tail)
    {
      int i = queue[head++];
      net->order[net->n_order++] = i;
      if (users[i])
        for (guint u = 0; u < users[i]->len; u++)
          {
            int j = GPOINTER_TO_INT (g_ptr_array_index (users[i], u));
            if (--indeg[j] == 0)
              queue[tail++] = j;
          }
    }
  gboolean ok = TRUE;
  for (int i = 0; i < n && ok; i++)
    if (net->nodes[i].live && indeg[i] > 0)
      {
        g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                     "%s: the graph has a cycle through node '%s' (%s)", net->name,
                     net->nodes[i].name, net->nodes[i].op_type);
        ok = FALSE;
      }
  for (int j = 0; j < n; j++)
    if (users[j])
      g_ptr_array_unref (users[j]);
  g_free (users);
  g_free (queue);
  g_free (indeg);
  return ok;
}

/* Evaluates a node whose inputs are all constants, at load time. */
static gboolean
fold_node (tl_net *net, tl_node *node, GError **error)
{
  const void **in = g_new0 (const void *, MAX (node->n_in, 1));
  void **out = g_new0 (void *, MAX (node->n_out, 1));
  for (int k = 0; k < node->n_in; k++)
    in[k] = node->in[k] >= 0 ? IN (node, k)->cdata : NULL;
  for (int k = 0; k < node->n_out; k++)
    if (node->out[k] >= 0)
      {
        tl_value *v = OUT (node, k);
        out[k] = g_malloc0 ((size_t) MAX (v->numel, 1) * tl_dtype_size (v->dtype));
      }
  if (node->op->alias && !node->op->forward)
    memcpy (out[0], in[0], (size_t) OUT (node, 0)->numel * tl_dtype_size (OUT (node, 0)->dtype));
  else
    {
      float *scratch = node->scratch ? g_new (float, node->scratch) : NULL;
      tl_op_ctx ctx = { net, node, in, out, scratch };
      gboolean ok = node->op->forward (&ctx, error);
      g_free (scratch);
      if (!ok)
        {
          for (int k = 0; k < node->n_out; k++)
            g_free (out[k]);
          g_free (in);
          g_free (out);
          return FALSE;
        }
    }
  for (int k = 0; k < node->n_out; k++)
    if (node->out[k] >= 0)
      {
        OUT (node, k)->cdata = out[k];
        OUT (node, k)->producer = -1;
      }
  node->live = FALSE;
  g_free (in);
  g_free (out);
  return TRUE;
}

/* A folded constant may not exceed 16 M elements or the size of all the
 * file's initializers together, whichever is larger: a tiny file that asks
 * for a huge constant at load time (ConstantOfShape, Expand) is refused
 * before anything is allocated. */
static int64_t
fold_limit (const tl_net *net)
{
  int64_t total = 0;
  for (guint i = 0; i < net->values->len; i++)
    if (NV (net, i)->cdata && NV (net, i)->producer < 0)
      total += NV (net, i)->numel;
  return MAX ((int64_t) 1 << 24, total);
}

static gboolean
infer_all (tl_net *net, GError **error)
{
  int64_t limit = fold_limit (net);
  for (int s = 0; s < net->n_order; s++)
    {
      tl_node *node = &net->nodes[net->order[s]];
      gboolean all_const = TRUE;
      int need = MAX (node->op->n_in_min, 1);
      for (int k = 0; k < need; k++)
        if (k >= node->n_in || node->in[k] < 0)
          return tl_node_fail (error, node, "needs at least %d inputs", need);
      if (node->n_out < 1 || node->out[0] < 0)
        return tl_node_fail (error, node, "has no output");
      for (int k = 0; k < node->n_in; k++)
        if (node->in[k] >= 0)
          {
            tl_value *v = IN (node, k);
            if (!v->known)
              return tl_node_fail (error, node, "input '%s' has no known shape", v->name);
            if (!v->cdata && !node->op->shape_only)
              all_const = FALSE;
            if ((node->op->const_inputs & (1u << k)) && !v->cdata)
              return tl_node_fail (error, node, "input '%s' must be a constant (dynamic "
                                   "shapes are not supported)", v->name);
          }
      if (!node->op->infer (net, node, error))
        return FALSE;
      for (int k = 0; k < node->n_out; k++)
        if (node->out[k] >= 0)
          {
            tl_value *v = OUT (node, k);
            if (!v->known || v->numel < 0 || v->numel > TL_TENSOR_MAX_NUMEL)
              return tl_node_fail (error, node, "output '%s' has an invalid or too large size", v->name);
            if (all_const && v->numel > limit)
              return tl_node_fail (error, node, "constant output '%s' is too large", v->name);
          }
      if (all_const && !fold_node (net, node, error))
        return FALSE;
    }
  return TRUE;
}

/* Conv -> BatchNormalization with constant parameters becomes one Conv with
 * rescaled weights and a new bias, as ONNX Runtime does. */
static void
fold_batchnorm (tl_net *net)
{
  for (int s = 0; s < net->n_order; s++)
    {
      tl_node *bn = &net->nodes[net->order[s]];
      if (!bn->live || strcmp (bn->op_type, "BatchNormalization") != 0 || bn->n_in < 5
          || bn->n_out < 1 || bn->out[0] < 0)
        continue;
      gboolean extra_out = FALSE;
      for (int k = 1; k < bn->n_out; k++)
        extra_out |= bn->out[k] >= 0;
      tl_value *y = NV (net, bn->in[0]);
      if (extra_out || y->producer < 0 || y->output_index >= 0 || y->n_consumers != 1)
        continue;
      tl_node *conv = &net->nodes[y->producer];
      if (!conv->live || strcmp (conv->op_type, "Conv") != 0 || conv->n_in < 2)
        continue;
      tl_value *w = NV (net, conv->in[1]);
      tl_value *b = tl_node_has_input (conv, 2) ? NV (net, conv->in[2]) : NULL;
      if (!w->cdata || w->dtype != TL_DT_FLOAT || (b && (!b->cdata || b->dtype != TL_DT_FLOAT)))
        continue;
      const tl_value *pv[4];
      gboolean ok = TRUE;
      int64_t m = w->shape[0];
      for (int k = 0; k < 4; k++)
        {
          pv[k] = NV (net, bn->in[k + 1]);
          ok &= pv[k]->cdata && pv[k]->dtype == TL_DT_FLOAT && pv[k]->numel == m;
        }
      if (!ok || (b && b->numel != m))
        continue;
      const float *scale = pv[0]->cdata, *bias = pv[1]->cdata, *mean = pv[2]->cdata,
                  *var = pv[3]->cdata;
      float eps = tl_node_attr_float (bn, "epsilon", 1e-5f);
      int64_t per = w->numel / MAX (m, 1);
      float *nw = g_new (float, MAX (w->numel, 1));
      float *nb = g_new (float, MAX (m, 1));
      for (int64_t o = 0; o < m; o++)
        {
          double sc = scale[o] / sqrt ((double) var[o] + eps);
          for (int64_t j = 0; j < per; j++)
            nw[o * per + j] = (float) (((const float *) w->cdata)[o * per + j] * sc);
          double b0 = b ? ((const float *) b->cdata)[o] : 0.0;
          nb[o] = (float) ((b0 - mean[o]) * sc + bias[o]);
        }
      char *nm = g_strdup_printf ("%s::folded_W", conv->name[0] ? conv->name : y->name);
      int wi = tl_net_add_value (net, nm);
      g_free (nm);
      tl_value_set_shape (NV (net, wi), TL_DT_FLOAT, w->ndim, w->shape);
      g_free (NV (net, wi)->cdata);
      NV (net, wi)->cdata = nw;
      nm = g_strdup_printf ("%s::folded_B", conv->name[0] ? conv->name : y->name);
      int bi = tl_net_add_value (net, nm);
      g_free (nm);
      tl_value_set_shape (NV (net, bi), TL_DT_FLOAT, 1, &m);
      g_free (NV (net, bi)->cdata);
      NV (net, bi)->cdata = nb;
      if (conv->n_in < 3)
        {
          conv->in = g_renew (int, conv->in, 3);
          conv->n_in = 3;
        }
      conv->in[1] = wi;
      conv->in[2] = bi;
      conv->out[0] = bn->out[0];
      NV (net, bn->out[0])->producer = y->producer;
      y->producer = -1;
      y->n_consumers = 0;
      bn->live = FALSE;
    }
}

/* Conv -> Relu/Clip becomes one Conv with a fused activation when the Conv
 * output feeds nothing else (the pre-activation tensor then vanishes). */
static void
fuse_activations (tl_net *net)
{
  for (int s = 0; s < net->n_order; s++)
    {
      tl_node *act = &net->nodes[net->order[s]];
      tl_activation a;
      if (!act->live || act->n_in < 1 || act->in[0] < 0 || act->out[0] < 0
          || !tl_unary_as_activation (act, &a))
        continue;
      tl_value *y = NV (net, act->in[0]);
      if (y->producer < 0 || y->output_index >= 0 || y->n_consumers != 1)
        continue;
      tl_node *conv = &net->nodes[y->producer];
      if (!conv->live || !tl_conv_fuse_activation (conv, a))
        continue;
      conv->out[0] = act->out[0];
      NV (net, act->out[0])->producer = y->producer;
      y->producer = -1;
      y->n_consumers = 0;
      act->live = FALSE;
    }
}

/* A Concat input that only the Concat reads, computed by a node that writes
 * its own buffer, is written straight into its slot of the Concat output:
 * no copy. (Batch 1 along the channel axis: each input is one block.) */
static void
plan_concat (tl_net *net)
{
  for (int s = 0; s < net->n_order; s++)
    {
      const tl_node *node = &net->nodes[net->order[s]];
      if (strcmp (node->op_type, "Concat") != 0)
        continue;
      for (int k = 0; k < node->n_in; k++)
        {
          tl_value *v = IN (node, k);
          int64_t off = tl_concat_part_offset (net, node, k);
          gboolean dup = FALSE;
          for (int j = 0; j < node->n_in; j++)
            dup |= j != k && node->in[j] == node->in[k];
          if (off < 0 || dup || v->producer < 0 || v->cdata || v->n_consumers != 1
              || v->output_index >= 0 || v->dtype != TL_DT_FLOAT
              || net->nodes[v->producer].op->alias)
            continue;
          v->concat_into = node->out[0];
          v->concat_offset = off;
        }
    }
}

/* Marks the nodes that some graph output needs; the others never run. */
static void
drop_unused (tl_net *net)
{
  guint8 *need = g_new0 (guint8, net->values->len);
  for (int i = 0; i < net->n_outputs; i++)
    need[net->outputs[i]] = 1;
  for (int s = net->n_order - 1; s >= 0; s--)
    {
      tl_node *node = &net->nodes[net->order[s]];
      if (!node->live)
        continue;
      gboolean used = FALSE;
      for (int k = 0; k < node->n_out; k++)
        used |= node->out[k] >= 0 && need[node->out[k]];
      if (!used)
        {
          node->live = FALSE;
          continue;
        }
      for (int k = 0; k < node->n_in; k++)
        if (node->in[k] >= 0)
          need[node->in[k]] = 1;
    }
  g_free (need);
}

static void
compact_order (tl_net *net)
{
  int n = 0;
  for (int s = 0; s < net->n_order; s++)
    if (net->nodes[net->order[s]].live)
      net->order[n++] = net->order[s];
  net->n_order = n;
}

static void
count_uses (tl_net *net)
{
  for (guint i = 0; i < net->values->len; i++)
    {
      NV (net, i)->n_consumers = 0;
      NV (net, i)->last_use = -1;
    }
  for (int s = 0; s < net->n_order; s++)
    {
      tl_node *node = &net->nodes[net->order[s]];
      for (int k = 0; k < node->n_in; k++)
        if (node->in[k] >= 0)
          {
            IN (node, k)->n_consumers++;
            IN (node, k)->last_use = s;
          }
    }
}

static gboolean
is_explainable (const tl_value *v)
{
  return v->ndim == 4 && v->shape[2] > 1 && v->shape[3] > 1;
}

static void
add_info (tl_net *net, int vi, tl_net_tensor_kind kind, const tl_node *node)
{
  tl_value *v = NV (net, vi);
  if (v->info_index >= 0)
    return;
  tl_net_tensor_info *t = &net->infos[net->n_infos];
  v->info_index = net->n_infos++;
  t->name = v->name;
  t->kind = v->output_index >= 0 ? TL_NET_TENSOR_OUTPUT : kind;
  t->ndim = v->ndim;
  memcpy (t->shape, v->shape, sizeof t->shape);
  t->op = node ? node->op_type : NULL;
  t->node = node ? node->name : NULL;
  t->explainable = is_explainable (v);
}

/* A node after which the spatial layout is gone: global pooling, flatten,
 * a spatial reduction, or a reshape/pool to fewer or unit spatial dims. */
static gboolean
is_global (const tl_net *net, const tl_node *node)
{
  static const char *always[] = { "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Gemm",
                                  "MatMul", NULL };
  for (int i = 0; always[i]; i++)
    if (strcmp (node->op_type, always[i]) == 0)
      return TRUE;
  if (node->n_in < 1 || node->in[0] < 0 || node->n_out < 1 || node->out[0] < 0)
    return FALSE;
  const tl_value *x = IN (node, 0), *y = OUT (node, 0);
  if (x->ndim != 4 || !is_explainable (x))
    return FALSE;
  return y->ndim < 4 || (y->ndim == 4 && y->shape[2] == 1 && y->shape[3] == 1);
}

/* Whether any explainable tensor is computed from node s's outputs: a
 * global pool inside a squeeze-excite block feeds back into a feature map,
 * so it is not the network's global pooling. */
static gboolean
feeds_feature_map (const tl_net *net, int s0)
{
  guint8 *reach = g_new0 (guint8, net->values->len);
  const tl_node *g = &net->nodes[net->order[s0]];
  gboolean found = FALSE;
  for (int k = 0; k < g->n_out; k++)
    if (g->out[k] >= 0)
      reach[g->out[k]] = 1;
  for (int s = s0 + 1; s < net->n_order && !found; s++)
    {
      const tl_node *node = &net->nodes[net->order[s]];
      gboolean r = FALSE;
      for (int k = 0; k < node->n_in; k++)
        r |= node->in[k] >= 0 && reach[node->in[k]];
      if (!r)
        continue;
      for (int k = 0; k < node->n_out; k++)
        if (node->out[k] >= 0)
          {
            reach[node->out[k]] = 1;
            found |= is_explainable (OUT (node, k));
          }
    }
  g_free (reach);
  return found;
}

static void
build_infos (tl_net *net)
{
  net->infos = g_new0 (tl_net_tensor_info, net->values->len + 1);
  net->n_infos = 0;
  for (int i = 0; i < net->n_inputs; i++)
    add_info (net, net->inputs[i], TL_NET_TENSOR_INPUT, NULL);
  int global_at = -1;
  for (int s = 0; s < net->n_order; s++)
    {
      tl_node *node = &net->nodes[net->order[s]];
      if (global_at < 0 && is_global (net, node) && !feeds_feature_map (net, s))
        global_at = net->n_infos;
      for (int k = 0; k < node->n_out; k++)
        if (node->out[k] >= 0)
          add_info (net, node->out[k], TL_NET_TENSOR_INTERMEDIATE, node);
    }
  int end = global_at >= 0 ? global_at : net->n_infos;
  for (int i = end - 1; i >= 0; i--)
    if (net->infos[i].explainable && net->infos[i].kind != TL_NET_TENSOR_INPUT)
      {
        net->default_layer = g_strdup (net->infos[i].name);
        break;
      }
}

/* Integers exist only at load time: a live node must read and write floats
 * (except for its constant-only operands). */
static gboolean
check_runtime_types (tl_net *net, GError **error)
{
  for (int s = 0; s < net->n_order; s++)
    {
      tl_node *node = &net->nodes[net->order[s]];
      for (int k = 0; k < node->n_in; k++)
        if (node->in[k] >= 0 && IN (node, k)->dtype != TL_DT_FLOAT && !IN (node, k)->cdata)
          return tl_node_fail (error, node, "input '%s' is an integer tensor computed "
                               "at run time, which is not supported", IN (node, k)->name);
      for (int k = 0; k < node->n_out; k++)
        if (node->out[k] >= 0 && OUT (node, k)->dtype != TL_DT_FLOAT
            && (OUT (node, k)->n_consumers > 0 || OUT (node, k)->output_index >= 0))
          return tl_node_fail (error, node, "output '%s' would be an integer tensor "
                               "computed at run time, which is not supported",
                               OUT (node, k)->name);
    }
  return TRUE;
}

/* After the activations are fused and the order is final. Only marks the
 * pairs: whether one runs fused depends on the run's taps (tl_net_run). */
static void
plan_pairs (tl_net *net)
{
  for (int s = 0; s + 1 < net->n_order; s++)
    {
      tl_node *a = &net->nodes[net->order[s]], *b = &net->nodes[net->order[s + 1]];
      a->pair_next = tl_conv_pair_ok (net, a, b);
    }
}

/* Last, since folding BatchNormalization rewrites conv weights. */
static void
pack_weights (tl_net *net)
{
  for (int s = 0; s < net->n_order; s++)
    {
      tl_node *node = &net->nodes[net->order[s]];
      if (node->op->pack)
        node->op->pack (net, node);
    }
}

gboolean
tl_net_prepare (tl_net *net, GError **error)
{
  if (!sort_nodes (net, error) || !infer_all (net, error))
    return FALSE;
  compact_order (net);
  drop_unused (net);
  compact_order (net);
  count_uses (net);
  fold_batchnorm (net);
  compact_order (net);
  count_uses (net);
  fuse_activations (net);
  compact_order (net);
  count_uses (net);
  if (!check_runtime_types (net, error))
    return FALSE;
  plan_concat (net);
  plan_pairs (net);
  pack_weights (net);
  for (int i = 0; i < net->n_outputs; i++)
    {
      tl_value *v = NV (net, net->outputs[i]);
      if (v->dtype != TL_DT_FLOAT)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                       "%s: output '%s' is an integer tensor", net->name, v->name);
          return FALSE;
        }
    }
  build_infos (net);
  return TRUE;
}

void
tl_net_destroy (tl_net *net)
{
  if (!net)
    return;
  for (int i = 0; i < net->n_nodes; i++)
    {
      tl_node *node = &net->nodes[i];
      for (int k = 0; k < node->n_attr; k++)
        {
          g_free (node->attr[k].name);
          g_free (node->attr[k].s);
          g_free (node->attr[k].ints);
          g_free (node->attr[k].floats);
        }
      g_free (node->attr);
      g_free (node->in);
      g_free (node->out);
      if (node->p && node->op && node->op->free_p)
        node->op->free_p (node->p);
      else
        g_free (node->p);
      g_free (node->name);
      g_free (node->op_type);
    }
  g_free (net->nodes);
  if (net->values)
    for (guint i = 0; i < net->values->len; i++)
      {
        tl_value *v = NV (net, i);
        g_free (v->cdata);
        g_free (v->name);
        g_free (v);
      }
  if (net->values)
    g_ptr_array_unref (net->values);
  if (net->by_name)
    g_hash_table_unref (net->by_name);
  g_free (net->order);
  g_free (net->inputs);
  g_free (net->outputs);
  g_free (net->infos);
  g_free (net->default_layer);
  g_free (net->prof_usec);
  g_free (net->prof_paired);
  if (net->pool)
    g_ptr_array_unref (net->pool);
  g_free (net->name);
  g_free (net);
}

void
tl_net_free (tl_net *net)
{
  tl_net_destroy (net);
}
