/* The runtime: runs the live nodes in order on float32 buffers. A buffer is
 * refcounted because aliasing ops (Reshape, Flatten, ...) share their input's
 * buffer; it goes back to a best-fit pool after its last reader unless it is
 * tapped, an output, or (for a backward run) needed later. */
#include "nn-graph.h"
#include "kernels.h"

#include <string.h>
#include <unistd.h>

typedef struct rbuf rbuf;
struct rbuf {
  float *data;
  size_t cap;    /* floats */
  int    refs;
  gboolean foreign;  /* caller's memory: never freed or pooled */
  rbuf  *parent;     /* a view into this buffer (zero-copy concat) */
};

struct tl_net_result {
  tl_net    *net;
  guint      flags;
  rbuf     **bufs;      /* per value index: buffer kept (NULL if released) */
  tl_tensor **outputs;
  GHashTable *named;    /* name -> tl_tensor* (views into bufs) */
  GPtrArray  *views;    /* every tl_tensor handed out, freed with the result */
};

/* ------------------------------------------------------------ threads */

static int tl_threads = 0;

int
tl_nn_set_threads (int threads)
{
  if (threads <= 0)
    {
      const char *env = g_getenv ("TENSORLENS_THREADS");
      threads = env ? (int) g_ascii_strtoll (env, NULL, 10) : 0;
      if (threads <= 0)
        threads = (int) g_get_num_processors ();
    }
  threads = CLAMP (threads, 1, 256);
  tl_kernels_set_threads (threads);
  tl_threads = threads;
  return threads;
}

int
tl_nn_get_threads (void)
{
  if (tl_threads == 0)
    return tl_nn_set_threads (0);
  return tl_threads;
}

/* ------------------------------------------------------------ buffers */

static rbuf *
buf_get (tl_net *net, size_t n)
{
  n = MAX (n, 1);
  int best = -1;
  for (guint i = 0; i < net->pool->len; i++)
    {
      rbuf *b = g_ptr_array_index (net->pool, i);
      if (b->cap >= n && (best < 0 || b->cap < ((rbuf *) g_ptr_array_index (net->pool, best))->cap))
        best = (int) i;
    }
  if (best >= 0)
    {
      rbuf *b = g_ptr_array_steal_index_fast (net->pool, best);
      b->refs = 1;
      return b;
    }
  rbuf *b = g_new0 (rbuf, 1);
  b->data = g_try_malloc (n * sizeof (float));
  if (!b->data)
    {
      g_free (b);
      return NULL;
    }
  b->cap = n;
  b->refs = 1;
  net->pool_bytes += n * sizeof (float);
  return b;
}

static void
buf_unref (tl_net *net, rbuf *b)
{
  if (!b || --b->refs > 0)
    return;
  if (b->parent)
    {
      rbuf *p = b->parent;
      g_free (b);
      buf_unref (net, p);
    }
  else if (b->foreign)
    g_free (b);
  else if (net)
    g_ptr_array_add (net->pool, b);
  else
    {
      g_free (b->data);
      g_free (b);
    }
}

static void
pool_free (gpointer p)
{
  rbuf *b = p;
  g_free (b->data);
  g_free (b);
}

static void
ensure_pool (tl_net *net)
{
  if (!net->pool)
    net->pool = g_ptr_array_new_with_free_func (pool_free);
}

/* The buffer value vi is computed into: its own, or (zero-copy concat) a
 * view of its slot in the Concat output, whose buffer is made on first use. */
static rbuf *
buf_for_value (tl_net *net, rbuf **cur, int vi)
{
  tl_value *v = NV (net, vi);
  if (cur[vi])
    return cur[vi];
  if (v->concat_into < 0)
    return cur[vi] = buf_get (net, (size_t) v->numel);
  rbuf *whole = buf_for_value (net, cur, v->concat_into);
  if (!whole)
    return NULL;
  rbuf *b = g_new0 (rbuf, 1);
  b->data = whole->data + v->concat_offset;
  b->cap = (size_t) v->numel;
  b->refs = 1;
  b->parent = whole;
  whole->refs++;
  return cur[vi] = b;
}

/* ------------------------------------------------------------ run */

/* Each input's data: its constant, or its buffer (NULL if omitted). */
static void
gather_inputs (const tl_net *net, rbuf **cur, const tl_node *node, const void **in)
{
  for (int k = 0; k < node->n_in; k++)
    {
      int vi = node->in[k];
      in[k] = vi < 0 ? NULL : NV (net, vi)->cdata ? NV (net, vi)->cdata
                           : cur[vi] ? cur[vi]->data : NULL;
    }
}

/* After node ran at step s: releases the inputs read for the last time and
 * the outputs nobody reads, unless kept. */
static void
release_after (tl_net *net, rbuf **cur, const guint8 *keep, const tl_node *node, int s)
{
  for (int k = 0; k < node->n_in; k++)
    {
      int vi = node->in[k];
      if (vi >= 0 && cur[vi] && !keep[vi] && NV (net, vi)->last_use == s)
        {
          buf_unref (net, cur[vi]);
          cur[vi] = NULL;
        }
    }
  for (int k = 0; k < node->n_out; k++)
    {
      int vi = node->out[k];
      if (vi >= 0 && cur[vi] && !keep[vi] && NV (net, vi)->n_consumers == 0)
        {
          buf_unref (net, cur[vi]);
          cur[vi] = NULL;
        }
    }
}

/* Steps s and s + 1 as one (a conv and the depthwise conv after it,
 * tl_conv_pair_forward): the value between them never gets a buffer.
 * Its time is counted on the first node. */
static gboolean
run_pair (tl_net *net, rbuf **cur, const guint8 *keep, int s, float *scratch, GError **error)
{
  tl_node *a = &net->nodes[net->order[s]], *b = &net->nodes[net->order[s + 1]];
  const void *in_a[64], *in_b[64]; /* the loader allows 64 inputs, as in tl_net_run */
  void *out_b[1];                   /* tl_conv_pair_ok: b has one output */
  gather_inputs (net, cur, a, in_a);
  gather_inputs (net, cur, b, in_b);
  const int vo = b->out[0];
  cur[vo] = cur[vo] || NV (net, vo)->concat_into >= 0 ? buf_for_value (net, cur, vo)
                                                        : buf_get (net, (size_t) NV (net, vo)->numel);
  if (!cur[vo])
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "%s: out of memory", net->name);
      return FALSE;
    }
  out_b[0] = cur[vo]->data;
  tl_op_ctx ca = { net, a, in_a, NULL, scratch }, cb = { net, b, in_b, out_b, NULL };
  const gint64 t0 = net->prof_usec ? g_get_monotonic_time () : 0;
  if (!tl_conv_pair_forward (&ca, &cb, error))
    return FALSE;
  if (net->prof_usec)
    {
      net->prof_usec[net->order[s]] += g_get_monotonic_time () - t0;
      net->prof_paired[net->order[s]]++;
    }
  release_after (net, cur, keep, a, s);
  release_after (net, cur, keep, b, s + 1);
  return TRUE;
}

static gboolean
check_inputs (const tl_net *net, const tl_tensor *const *inputs, int n_inputs, GError **error)
{
  if (n_inputs != net->n_inputs)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: expects %d inputs, got %d",
                   net->name, net->n_inputs, n_inputs);
      return FALSE;
    }
  for (int i = 0; i < n_inputs; i++)
    {
      const tl_value *v = NV (net, net->inputs[i]);
      const tl_tensor *t = inputs[i];
      if (!t || t->ndim != v->ndim || memcmp (t->shape, v->shape, sizeof (int64_t) * v->ndim))
        {
          char a[128], b[128];
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "%s: input '%s' must have shape %s, got %s", net->name, v->name,
                       tl_shape_str (v->ndim, v->shape, a, sizeof a),
                       t ? tl_shape_str (t->ndim, t->shape, b, sizeof b) : "none");
          return FALSE;
        }
    }
  return TRUE;
}

/* Variadic ops re-read later inputs after writing: no in-place if input 0
 * comes again. */
static gboolean
reads_twice (const tl_node *node, int vi)
{
  for (int k = 1; k < node->n_in; k++)
    if (node->in[k] == vi)
      return TRUE;
  return FALSE;
}

static tl_tensor *
result_view (tl_net_result *r, int vi, const float *data)
{
  const tl_value *v = NV (r->net, vi);
  tl_tensor *t = tl_tensor_view ((float *) data, v->ndim, v->shape);
  g_ptr_array_add (r->views, t);
  return t;
}

void
tl_net_result_free (tl_net_result *r)
{
  if (!r)
    return;
  for (guint i = 0; i < r->net->values->len; i++)
    buf_unref (NULL, r->bufs[i]);
  g_free (r->bufs);
  g_free (r->outputs);
  g_hash_table_unref (r->named);
  g_ptr_array_unref (r->views);
  g_free (r);
}

static void
free_view (gpointer p)
{
  tl_tensor_free (p);
}

tl_net_result *
tl_net_run (tl_net *net, const tl_tensor *const *inputs, int n_inputs,
            const char *const *taps, int n_taps, guint flags, GError **error)
{
  g_return_val_if_fail (net != NULL, NULL);
  if (!check_inputs (net, inputs, n_inputs, error))
    return NULL;
  tl_nn_get_threads ();
  ensure_pool (net);
  int nv = (int) net->values->len;
  gboolean bwd = (flags & TL_NET_RUN_BACKWARD) != 0;
  guint8 *keep = g_new0 (guint8, nv);
  for (int i = 0; i < net->n_outputs; i++)
    keep[net->outputs[i]] = 1;
  for (int i = 0; i < n_taps; i++)
    {
      int vi = taps[i] ? tl_net_value_index (net, taps[i]) : -1;
      if (vi < 0 || NV (net, vi)->info_index < 0)
        {
          g_free (keep);
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "%s: no runtime tensor named '%s' to tap%s", net->name,
                       taps[i] ? taps[i] : "(null)",
                       vi >= 0 ? " (it was folded into a constant or a fused op)" : "");
          return NULL;
        }
      keep[vi] = 1;
    }

  /* A backward run keeps what the nodes from the earliest tap on read and
   * write (their gradients may be needed); everything before it is freed
   * as usual. */
  int bwd_from = net->n_order;
  if (bwd)
    {
      for (int i = 0; i < n_taps; i++)
        {
          const tl_value *v = NV (net, tl_net_value_index (net, taps[i]));
          int at = 0;
          for (int s = 0; s < net->n_order && v->producer >= 0; s++)
            if (net->order[s] == v->producer)
              at = s;
          bwd_from = MIN (bwd_from, at);
        }
      for (int s = bwd_from; s < net->n_order; s++)
        {
          const tl_node *node = &net->nodes[net->order[s]];
          for (int k = 0; k < node->n_in; k++)
            if (node->in[k] >= 0)
              keep[node->in[k]] = 1;
          for (int k = 0; k < node->n_out; k++)
            if (node->out[k] >= 0)
              keep[node->out[k]] = 1;
        }
    }

  tl_net_result *r = g_new0 (tl_net_result, 1);
  r->net = net;
  r->flags = flags;
  r->bufs = g_new0 (rbuf *, nv);
  r->named = g_hash_table_new (g_str_hash, g_str_equal);
  r->views = g_ptr_array_new_with_free_func (free_view);
  rbuf **cur = g_new0 (rbuf *, nv);   /* live buffers of this run */
  gboolean ok = TRUE;

  for (int i = 0; i < net->n_inputs; i++)
    {
      int vi = net->inputs[i];
      const tl_tensor *t = inputs[i];
      rbuf *b;
      if (tl_tensor_is_contiguous (t) && !keep[vi])
        {
          /* the caller's memory, read only: no copy */
          b = g_new0 (rbuf, 1);
          b->data = t->data;
          b->cap = (size_t) tl_tensor_numel (t);
          b->refs = 1;
          b->foreign = TRUE;
        }
      else
        {
          b = buf_get (net, (size_t) tl_tensor_numel (t));
          if (!b)
            {
              ok = FALSE;
              g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "%s: out of memory", net->name);
              break;
            }
          tl_tensor_gather (t, b->data);
        }
      cur[vi] = b;
    }

  size_t scratch_n = 0;
  for (int s = 0; s < net->n_order; s++)
    scratch_n = MAX (scratch_n, net->nodes[net->order[s]].scratch);
  float *scratch = scratch_n ? g_try_malloc (scratch_n * sizeof (float)) : NULL;
  if (scratch_n && !scratch && ok)
    {
      ok = FALSE;
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "%s: out of memory", net->name);
    }

  const void *in_stack[64];
  void *out_stack[64];
  for (int s = 0; s < net->n_order && ok; s++)
    {
      tl_node *node = &net->nodes[net->order[s]];
      if (node->pair_next && !keep[node->out[0]])
        {
          ok = run_pair (net, cur, keep, s, scratch, error);
          s++;
          continue;
        }
      gather_inputs (net, cur, node, in_stack);
      for (int k = 0; k < node->n_out; k++)
        {
          int vi = node->out[k];
          out_stack[k] = NULL;
          if (vi < 0)
            continue;
          tl_value *v = NV (net, vi);
          int x0 = node->in[0];
          if (k == 0 && node->op->alias && !NV (net, x0)->cdata)
            {
              cur[vi] = cur[x0];
              cur[vi]->refs++;
              out_stack[k] = NULL;
              continue;
            }
          if (cur[vi] || v->concat_into >= 0)
            cur[vi] = buf_for_value (net, cur, vi);  /* a Concat output made early, or a slot of one */
          else if (k == 0 && node->op->inplace && s < bwd_from && !NV (net, x0)->cdata && !keep[x0]
              && NV (net, x0)->last_use == s && cur[x0]->refs == 1 && !cur[x0]->foreign
              && NV (net, x0)->numel == v->numel && !reads_twice (node, x0))
            {
              cur[vi] = cur[x0];
              cur[vi]->refs++;
            }
          else
            cur[vi] = buf_get (net, (size_t) v->numel);
          if (!cur[vi])
            {
              ok = FALSE;
              g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "%s: out of memory", net->name);
              break;
            }
          out_stack[k] = cur[vi]->data;
        }
      if (!ok)
        break;
      if (!(node->op->alias && out_stack[0] == NULL))
        {
          tl_op_ctx ctx = { net, node, in_stack, out_stack, scratch };
          const gint64 t0 = net->prof_usec ? g_get_monotonic_time () : 0;
          if (!node->op->forward (&ctx, error))
            {
              ok = FALSE;
              break;
            }
          if (net->prof_usec)
            net->prof_usec[net->order[s]] += g_get_monotonic_time () - t0;
        }
      release_after (net, cur, keep, node, s);
    }
  g_free (scratch);
  if (ok && net->prof_usec)
    net->prof_runs++;

  if (ok)
    {
      /* hand the kept buffers to the result */
      for (int vi = 0; vi < nv; vi++)
        if (cur[vi] && keep[vi])
          {
            if (cur[vi]->foreign)
              {
                /* never hand out the caller's memory: copy it */
                rbuf *b = g_new0 (rbuf, 1);
                b->cap = cur[vi]->cap;
                b->data = g_memdup2 (cur[vi]->data, MAX (b->cap, 1) * sizeof (float));
                b->refs = 1;
                buf_unref (net, cur[vi]);
                cur[vi] = b;
              }
            r->bufs[vi] = cur[vi];
            cur[vi] = NULL;
          }
      r->outputs = g_new0 (tl_tensor *, MAX (net->n_outputs, 1));
      for (int i = 0; i < net->n_outputs; i++)
        {
          int vi = net->outputs[i];
          const tl_value *v = NV (net, vi);
          if (v->cdata)
            {
              rbuf *b = g_new0 (rbuf, 1);
              b->cap = (size_t) MAX (v->numel, 1);
              b->data = g_memdup2 (v->cdata, b->cap * sizeof (float));
              b->refs = 1;
              r->bufs[vi] = b;
            }
          r->outputs[i] = result_view (r, vi, r->bufs[vi]->data);
          g_hash_table_insert (r->named, v->name, r->outputs[i]);
        }
      for (int i = 0; i < n_taps; i++)
        {
          int vi = tl_net_value_index (net, taps[i]);
          if (!g_hash_table_contains (r->named, taps[i]))
            g_hash_table_insert (r->named, NV (net, vi)->name,
                                 result_view (r, vi, r->bufs[vi]->data));
        }
    }
  for (int vi = 0; vi < nv; vi++)
    if (cur[vi])
      {
        /* several values may share one buffer: drop each reference once */
        buf_unref (net, cur[vi]);
      }
  g_free (cur);
  g_free (keep);
  if (!ok)
    {
      tl_net_result_free (r);
      return NULL;
    }
  return r;
}

tl_net_result *
tl_net_run1 (tl_net *net, const tl_tensor *input, const char *const *taps, int n_taps,
             guint flags, GError **error)
{
  const tl_tensor *in[1] = { input };
  return tl_net_run (net, in, 1, taps, n_taps, flags, error);
}

int
tl_net_result_n_outputs (const tl_net_result *r)
{
  return r->net->n_outputs;
}

const tl_tensor *
tl_net_result_output (const tl_net_result *r, int i)
{
  g_return_val_if_fail (i >= 0 && i < r->net->n_outputs, NULL);
  return r->outputs[i];
}

const tl_tensor *
tl_net_result_get (const tl_net_result *r, const char *name)
{
  return g_hash_table_lookup (r->named, name);
}

/* ------------------------------------------------------------ backward */

/* Exposed to nn-backward.c */
const float *tl_net_result_value_data (const tl_net_result *r, int vi);

const float *
tl_net_result_value_data (const tl_net_result *r, int vi)
{
  const tl_value *v = NV (r->net, vi);
  if (v->cdata)
    return v->cdata;
  return r->bufs[vi] ? r->bufs[vi]->data : NULL;
}

gboolean tl_net_result_has_backward (const tl_net_result *r);

gboolean
tl_net_result_has_backward (const tl_net_result *r)
{
  return (r->flags & TL_NET_RUN_BACKWARD) != 0;
}

tl_net *tl_net_result_net (const tl_net_result *r);

tl_net *
tl_net_result_net (const tl_net_result *r)
{
  return r->net;
}

/* ------------------------------------------------------------ profile */

void
tl_net_set_profile (tl_net *net, gboolean on)
{
  g_return_if_fail (net != NULL);
  g_clear_pointer (&net->prof_usec, g_free);
  g_clear_pointer (&net->prof_paired, g_free);
  net->prof_runs = 0;
  if (on)
    {
      net->prof_usec = g_new0 (gint64, MAX (net->n_nodes, 1));
      net->prof_paired = g_new0 (int, MAX (net->n_nodes, 1));
    }
}

int
tl_net_profile (const tl_net *net, tl_net_node_time *out, int max)
{
  g_return_val_if_fail (net != NULL, 0);
  if (!net->prof_usec)
    return 0;
  int n = 0;
  for (int s = 0; s < net->n_order && n < max; s++)
    {
      const tl_node *node = &net->nodes[net->order[s]];
      const tl_value *v = node->n_out > 0 && node->out[0] >= 0 ? NV (net, node->out[0]) : NULL;
      out[n++] = (tl_net_node_time) {
        .node = node->name ? node->name : "",
        .op = net->prof_paired[net->order[s]] ? TL_NET_PAIR_OP : node->op_type,
        .output = v ? v->name : "",
        .usec = net->prof_runs ? (double) net->prof_usec[net->order[s]] / net->prof_runs : 0.0,
      };
    }
  return n;
}
