/* ONNX model loading: protobuf (protobuf-c bindings generated at build time
 * from Debian's onnx.proto) into the engine's graph of values and nodes.
 *
 * Nothing in the file is trusted: every tensor's byte count must match its
 * dims before anything dims-sized is allocated, and since protobuf-c only
 * allocates what the bytes themselves describe, a lying file can never make
 * us allocate more than a small multiple of its own size. */
#include "nn-graph.h"
#include "onnx.pb-c.h"

#include <glib/gstdio.h>

#include <string.h>

/* Opsets 7-18 are the ones the op semantics here follow; an older model
 * (opset_import 1-6) loads when its ops kept the same meaning, which is the
 * case for every op whose inputs/attributes we read. */
#define TL_ONNX_MIN_OPSET 1
#define TL_ONNX_MAX_OPSET 18
#define TL_KERNEL_MAX_BATCH ((int64_t) 1 << 20)

static float
half_to_float (uint16_t h)
{
  uint32_t sign = (uint32_t) (h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0)
    {
      /* zero or subnormal: value = man * 2^-24 */
      float f = (float) man * (1.0f / 16777216.0f);
      return sign ? -f : f;
    }
  if (exp == 31)
    bits = sign | 0x7f800000u | (man << 13);
  else
    bits = sign | ((exp + 112) << 23) | (man << 13);
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

static float
bf16_to_float (uint16_t h)
{
  uint32_t bits = (uint32_t) h << 16;
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

/* Bytes per element of a raw_data payload, 0 if the type is unsupported. */
static size_t
raw_elem_size (int dt)
{
  switch (dt)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return 1;
    default: return 0;
    }
}

static gboolean
is_float_type (int dt)
{
  return dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
      || dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16
      || dt == ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16
      || dt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
}

/* Element k of a raw little-endian payload, widened. */
static double
raw_get (const guint8 *p, int dt, int64_t k)
{
  switch (dt)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
      { float v; memcpy (&v, p + 4 * k, 4); return v; }
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
      { uint16_t v; memcpy (&v, p + 2 * k, 2); return half_to_float (v); }
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
      { uint16_t v; memcpy (&v, p + 2 * k, 2); return bf16_to_float (v); }
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
      { double v; memcpy (&v, p + 8 * k, 8); return v; }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
      { int32_t v; memcpy (&v, p + 4 * k, 4); return v; }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
      { int16_t v; memcpy (&v, p + 2 * k, 2); return v; }
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
      { uint16_t v; memcpy (&v, p + 2 * k, 2); return v; }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return (int8_t) p[k];
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return p[k];
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return p[k] != 0;
    default: return 0;
    }
}

static void *
decode_proto (const Onnx__TensorProto *t, const char *what, tl_dtype *dtype, int *ndim,
              int64_t *shape, GError **error)
{
  int dt = t->has_data_type ? t->data_type : 0;

  if (t->has_data_location
      && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: external tensor data is not supported", what);
      return NULL;
    }
  if (t->segment)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: segmented tensors are not supported", what);
      return NULL;
    }
  size_t esize = raw_elem_size (dt);
  if (esize == 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: data type %d is not supported (float32/16, double, integers, bool)",
                   what, dt);
      return NULL;
    }
  if (t->n_dims > TL_MAX_DIMS)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: %zu dims (at most %d)", what,
                   t->n_dims, TL_MAX_DIMS);
      return NULL;
    }
  for (size_t i = 0; i < t->n_dims; i++)
    if (t->dims[i] < 0)
      {
        g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: negative dim %" G_GINT64_FORMAT,
                     what, t->dims[i]);
        return NULL;
      }
  int64_t numel = tl_shape_numel ((int) t->n_dims, t->dims);
  if (numel < 0 || numel > TL_TENSOR_MAX_NUMEL)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: dims overflow or are absurdly large",
                   what);
      return NULL;
    }

  /* Where the elements are: raw bytes, or one of the typed repeated fields. */
  int64_t have;
  if (t->has_raw_data)
    {
      if ((uint64_t) t->raw_data.len / esize != (uint64_t) numel
          || t->raw_data.len % esize != 0)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                       "%s: raw data holds %zu bytes, dims need %" G_GINT64_FORMAT " x %zu",
                       what, t->raw_data.len, numel, esize);
          return NULL;
        }
      have = numel;
    }
  else
    {
      switch (dt)
        {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: have = (int64_t) t->n_float_data; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: have = (int64_t) t->n_double_data; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: have = (int64_t) t->n_int64_data; break;
        default: have = (int64_t) t->n_int32_data; break;
        }
      if (have != numel)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                       "%s: holds %" G_GINT64_FORMAT " elements, dims need %" G_GINT64_FORMAT,
                       what, have, numel);
          return NULL;
        }
    }

  gboolean isf = is_float_type (dt);
  if (!isf && numel > ((int64_t) 1 << 24))
    {
      /* integers only ever hold shapes and indices here; widening a huge
       * int8 tensor to int64 would multiply its size by 8 */
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: integer tensor of %" G_GINT64_FORMAT " elements is too large", what,
                   numel);
      return NULL;
    }
  void *data = g_malloc ((size_t) MAX (numel, 1) * (isf ? 4 : 8));
  float *fd = data;
  int64_t *id = data;
  for (int64_t k = 0; k < numel; k++)
    {
      if (t->has_raw_data)
        {
          if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
            memcpy (id + k, t->raw_data.data + 8 * k, 8);
          else if (isf)
            fd[k] = (float) raw_get (t->raw_data.data, dt, k);
          else
            id[k] = (int64_t) raw_get (t->raw_data.data, dt, k);
          continue;
        }
      switch (dt)
        {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: fd[k] = t->float_data[k]; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: fd[k] = (float) t->double_data[k]; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
          fd[k] = half_to_float ((uint16_t) t->int32_data[k]); break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
          fd[k] = bf16_to_float ((uint16_t) t->int32_data[k]); break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: id[k] = t->int64_data[k]; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: id[k] = t->int32_data[k] != 0; break;
        default: id[k] = t->int32_data[k]; break;
        }
    }
  *dtype = isf ? TL_DT_FLOAT : TL_DT_INT64;
  *ndim = (int) t->n_dims;
  for (size_t i = 0; i < t->n_dims; i++)
    shape[i] = t->dims[i];
  return data;
}

void *
tl_onnx_tensor_decode (const guint8 *buf, size_t len, const char *what, tl_dtype *dtype,
                       int *ndim, int64_t *shape, GError **error)
{
  Onnx__TensorProto *t = onnx__tensor_proto__unpack (NULL, len, buf);
  if (!t)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: not a valid TensorProto", what);
      return NULL;
    }
  void *d = decode_proto (t, what, dtype, ndim, shape, error);
  onnx__tensor_proto__free_unpacked (t, NULL);
  return d;
}

/* A constant value from a TensorProto (initializer or Constant node). */
static int
add_const (tl_net *net, const char *name, const Onnx__TensorProto *t, GError **error)
{
  tl_dtype dt;
  int ndim;
  int64_t shape[TL_MAX_DIMS];
  char *what = g_strdup_printf ("%s: tensor '%s'", net->name, name);
  void *d = decode_proto (t, what, &dt, &ndim, shape, error);
  g_free (what);
  if (!d)
    return -1;
  int vi = tl_net_add_value (net, name);
  tl_value *v = NV (net, vi);
  if (v->cdata || v->producer >= 0)
    {
      g_free (d);
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: tensor '%s' is defined twice",
                   net->name, name);
      return -1;
    }
  tl_value_set_shape (v, dt, ndim, shape);
  v->cdata = d;
  return vi;
}

static gboolean
copy_attr (tl_net *net, tl_node *node, tl_attr *a, const Onnx__AttributeProto *p,
           GError **error)
{
  a->name = g_strdup (p->name ? p->name : "");
  a->tensor = -1;
  int type = p->has_type ? p->type : 0;
  switch (type)
    {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
      a->type = TL_ATTR_FLOAT; a->f = p->f; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
      a->type = TL_ATTR_INT; a->i = p->i; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
      a->type = TL_ATTR_STRING;
      /* an empty bytes field has no data: "" (g_strndup would give NULL) */
      a->s = p->s.data ? g_strndup ((const char *) p->s.data, p->s.len) : g_strdup ("");
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
      a->type = TL_ATTR_INTS;
      a->n = (int) MIN (p->n_ints, (size_t) G_MAXINT);
      a->ints = g_memdup2 (p->ints, p->n_ints * sizeof (int64_t));
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
      a->type = TL_ATTR_FLOATS;
      a->n = (int) MIN (p->n_floats, (size_t) G_MAXINT);
      a->floats = g_memdup2 (p->floats, p->n_floats * sizeof (float));
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
      {
        a->type = TL_ATTR_TENSOR;
        if (!p->t)
          return tl_node_fail (error, node, "attribute '%s' has no tensor", a->name);
        char *nm = g_strdup_printf ("%s::%s", node->name, a->name);
        a->tensor = add_const (net, nm, p->t, error);
        g_free (nm);
        if (a->tensor < 0)
          return FALSE;
        break;
      }
    default:
      a->type = TL_ATTR_OTHER;  /* graphs etc.: rejected by the ops that would need them */
      break;
    }
  return TRUE;
}

/* A Constant node becomes a constant value right away. */
static gboolean
load_constant_node (tl_net *net, tl_node *node, const Onnx__NodeProto *np, GError **error)
{
  if (np->n_output != 1 || !np->output[0][0])
    return tl_node_fail (error, node, "Constant needs exactly one output");
  const char *out = np->output[0];
  for (size_t i = 0; i < np->n_attribute; i++)
    {
      const Onnx__AttributeProto *a = np->attribute[i];
      const char *an = a->name ? a->name : "";
      int64_t shape[1];
      int vi;
      if (strcmp (an, "value") == 0 && a->t)
        return add_const (net, out, a->t, error) >= 0;
      if (tl_net_value_index (net, out) >= 0)
        return tl_node_fail (error, node, "tensor '%s' is defined twice", out);
      if (strcmp (an, "value_float") == 0 || strcmp (an, "value_int") == 0)
        {
          gboolean f = an[6] == 'f';
          vi = tl_net_add_value (net, out);
          tl_value_set_shape (NV (net, vi), f ? TL_DT_FLOAT : TL_DT_INT64, 0, shape);
          if (f)
            { float *d = g_new (float, 1); *d = a->f; NV (net, vi)->cdata = d; }
          else
            { int64_t *d = g_new (int64_t, 1); *d = a->i; NV (net, vi)->cdata = d; }
          return TRUE;
        }
      if (strcmp (an, "value_floats") == 0 || strcmp (an, "value_ints") == 0)
        {
          gboolean f = an[6] == 'f';
          size_t n = f ? a->n_floats : a->n_ints;
          shape[0] = (int64_t) n;
          vi = tl_net_add_value (net, out);
          tl_value_set_shape (NV (net, vi), f ? TL_DT_FLOAT : TL_DT_INT64, 1, shape);
          NV (net, vi)->cdata = f ? g_memdup2 (a->floats, MAX (n, 1) * 4)
                                  : g_memdup2 (a->ints, MAX (n, 1) * 8);
          return TRUE;
        }
    }
  return tl_node_fail (error, node, "Constant has no supported value attribute");
}

static const tl_net_binding *
find_binding (const tl_net_binding *b, int n, const char *name)
{
  for (int i = 0; i < n; i++)
    if (strcmp (b[i].name, name) == 0)
      return &b[i];
  return NULL;
}

static gboolean
load_input (tl_net *net, const Onnx__ValueInfoProto *vi, const tl_net_binding *bind,
            int n_bind, GPtrArray *rt_inputs, GError **error)
{
  const char *name = vi->name ? vi->name : "";
  if (!name[0])
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: a graph input has no name", net->name);
      return FALSE;
    }
  int idx = tl_net_value_index (net, name);
  if (idx >= 0 && NV (net, idx)->cdata)
    return TRUE;  /* an initializer listed as input (IR < 4): a constant */
  const tl_net_binding *b = find_binding (bind, n_bind, name);
  if (b && b->data)
    {
      int64_t numel = tl_shape_numel (b->ndim, b->shape);
      int k = tl_net_add_value (net, name);
      tl_value_set_shape (NV (net, k), b->dtype, b->ndim, b->shape);
      NV (net, k)->cdata = g_memdup2 (b->data, (size_t) MAX (numel, 1) * tl_dtype_size (b->dtype));
      return TRUE;
    }
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: input '%s' is not a tensor", net->name, name);
      return FALSE;
    }
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  if (tt->has_elem_type && tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: input '%s' has element type %d; only float32 inputs are supported",
                   net->name, name, tt->elem_type);
      return FALSE;
    }
  int ndim;
  int64_t shape[TL_MAX_DIMS];
  if (b)
    {
      ndim = b->ndim;
      memcpy (shape, b->shape, sizeof shape);
    }
  else
    {
      if (!tt->shape)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                       "%s: input '%s' has no shape; give one explicitly", net->name, name);
          return FALSE;
        }
      if (tt->shape->n_dim > TL_MAX_DIMS)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: input '%s' has %zu dims",
                       net->name, name, tt->shape->n_dim);
          return FALSE;
        }
      ndim = (int) tt->shape->n_dim;
      for (int d = 0; d < ndim; d++)
        {
          const Onnx__TensorShapeProto__Dimension *dm = tt->shape->dim[d];
          if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
              && dm->dim_value > 0)
            shape[d] = dm->dim_value;
          else if (d == 0)
            shape[d] = 1;  /* symbolic batch: run batch 1 unless told otherwise */
          else
            {
              g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                           "%s: input '%s' dim %d is not a fixed positive size; "
                           "give the input shape explicitly", net->name, name, d);
              return FALSE;
            }
        }
    }
  int64_t numel = tl_shape_numel (ndim, shape);
  if (numel < 0 || numel > TL_TENSOR_MAX_NUMEL)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: input '%s' has a bad size",
                   net->name, name);
      return FALSE;
    }
  if (idx >= 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: input '%s' is listed twice",
                   net->name, name);
      return FALSE;
    }
  int k = tl_net_add_value (net, name);
  tl_value_set_shape (NV (net, k), TL_DT_FLOAT, ndim, shape);
  NV (net, k)->input_index = (int) rt_inputs->len;
  g_ptr_array_add (rt_inputs, GINT_TO_POINTER (k));
  return TRUE;
}

static int
model_opset (const Onnx__ModelProto *m)
{
  int op = -1;
  for (size_t i = 0; i < m->n_opset_import; i++)
    {
      const Onnx__OperatorSetIdProto *o = m->opset_import[i];
      if ((!o->domain || !o->domain[0] || strcmp (o->domain, "ai.onnx") == 0) && o->has_version)
        op = (int) CLAMP (o->version, -1, 100000);
    }
  return op;
}

static gboolean
load_graph (tl_net *net, const Onnx__ModelProto *m, const tl_net_binding *bind, int n_bind,
            GError **error)
{
  const Onnx__GraphProto *g = m->graph;
  if (!g)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: the model has no graph", net->name);
      return FALSE;
    }
  net->opset = model_opset (m);
  if (net->opset < TL_ONNX_MIN_OPSET || net->opset > TL_ONNX_MAX_OPSET)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: ONNX opset %d is not supported (%d to %d)", net->name, net->opset,
                   TL_ONNX_MIN_OPSET, TL_ONNX_MAX_OPSET);
      return FALSE;
    }
  if (g->n_sparse_initializer > 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: sparse initializers are not supported", net->name);
      return FALSE;
    }
  for (size_t i = 0; i < g->n_initializer; i++)
    {
      const char *nm = g->initializer[i]->name;
      if (!nm || !nm[0])
        {
          g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: initializer %zu has no name",
                       net->name, i);
          return FALSE;
        }
      if (add_const (net, nm, g->initializer[i], error) < 0)
        return FALSE;
    }

  GPtrArray *rt_inputs = g_ptr_array_new ();
  for (size_t i = 0; i < g->n_input; i++)
    if (!load_input (net, g->input[i], bind, n_bind, rt_inputs, error))
      {
        g_ptr_array_unref (rt_inputs);
        return FALSE;
      }
  net->n_inputs = (int) rt_inputs->len;
  net->inputs = g_new (int, MAX (net->n_inputs, 1));
  for (int i = 0; i < net->n_inputs; i++)
    net->inputs[i] = GPOINTER_TO_INT (g_ptr_array_index (rt_inputs, i));
  g_ptr_array_unref (rt_inputs);

  net->nodes = g_new0 (tl_node, MAX (g->n_node, 1));
  for (size_t i = 0; i < g->n_node; i++)
    {
      const Onnx__NodeProto *np = g->node[i];
      tl_node *node = &net->nodes[net->n_nodes];
      node->name = g_strdup (np->name ? np->name : "");
      node->op_type = g_strdup (np->op_type ? np->op_type : "");
      net->n_nodes++;
      if (np->domain && np->domain[0] && strcmp (np->domain, "ai.onnx") != 0)
        return tl_node_fail (error, node, "operator domain '%s' is not supported", np->domain);
      if (strcmp (node->op_type, "Constant") == 0)
        {
          if (!load_constant_node (net, node, np, error))
            return FALSE;
          continue;
        }
      node->op = tl_op_lookup (node->op_type);
      if (!node->op)
        return tl_node_fail (error, node, "unsupported operator");
      if (np->n_input > 64 || np->n_output > 64)
        return tl_node_fail (error, node, "too many inputs or outputs");
      node->n_in = (int) np->n_input;
      node->n_out = (int) np->n_output;
      node->in = g_new (int, MAX (node->n_in, 1));
      node->out = g_new (int, MAX (node->n_out, 1));
      for (int k = 0; k < node->n_in; k++)
        node->in[k] = np->input[k][0] ? tl_net_add_value (net, np->input[k]) : -1;
      node->attr = g_new0 (tl_attr, MAX (np->n_attribute, 1));
      for (size_t k = 0; k < np->n_attribute; k++)
        {
          node->n_attr++;
          if (!copy_attr (net, node, &node->attr[k], np->attribute[k], error))
            return FALSE;
        }
      for (int k = 0; k < node->n_out; k++)
        {
          if (!np->output[k][0])
            {
              node->out[k] = -1;
              continue;
            }
          int vi = tl_net_add_value (net, np->output[k]);
          tl_value *v = NV (net, vi);
          if (v->producer >= 0 || v->cdata || v->input_index >= 0)
            return tl_node_fail (error, node, "output '%s' is defined twice", np->output[k]);
          v->producer = net->n_nodes - 1;
          node->out[k] = vi;
        }
      node->live = TRUE;
    }

  if (g->n_output == 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: the graph has no outputs", net->name);
      return FALSE;
    }
  net->n_outputs = (int) g->n_output;
  net->outputs = g_new (int, net->n_outputs);
  for (size_t i = 0; i < g->n_output; i++)
    {
      const char *nm = g->output[i]->name ? g->output[i]->name : "";
      int vi = tl_net_value_index (net, nm);
      if (vi < 0)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                       "%s: graph output '%s' is not produced by any node", net->name, nm);
          return FALSE;
        }
      if (NV (net, vi)->output_index < 0)
        NV (net, vi)->output_index = (int) i;
      net->outputs[i] = vi;
    }
  return TRUE;
}

tl_net *
tl_net_load_full (const void *data, size_t len, const char *name,
                  const tl_net_binding *bindings, int n_bindings, GError **error)
{
  if (!data || len == 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: empty file", name);
      return NULL;
    }
  Onnx__ModelProto *m = onnx__model_proto__unpack (NULL, len, data);
  if (!m)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                   "%s: not an ONNX model (protobuf is truncated or corrupt)", name);
      return NULL;
    }
  tl_net *net = g_new0 (tl_net, 1);
  net->name = g_strdup (name);
  net->values = g_ptr_array_new ();
  net->by_name = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, NULL);
  gboolean ok = load_graph (net, m, bindings, n_bindings, error);
  onnx__model_proto__free_unpacked (m, NULL);
  if (ok)
    ok = tl_net_prepare (net, error);
  if (!ok)
    {
      tl_net_destroy (net);
      return NULL;
    }
  return net;
}

tl_net *
tl_net_load_from_memory (const void *data, size_t len, const char *name, GError **error)
{
  return tl_net_load_full (data, len, name ? name : "model", NULL, 0, error);
}

/* Reads a whole file, refusing anything over 2 GiB (protobuf's own limit). */
static guint8 *
read_file (const char *path, size_t *len, GError **error)
{
  GError *e = NULL;
  char *buf;
  gsize n;
  GStatBuf st;
  if (g_stat (path, &st) == 0 && st.st_size > ((gint64) 1 << 31))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: larger than 2 GiB", path);
      return NULL;
    }
  if (!g_file_get_contents (path, &buf, &n, &e))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s", e->message);
      g_error_free (e);
      return NULL;
    }
  *len = n;
  return (guint8 *) buf;
}

tl_net *
tl_net_load (const char *path, GError **error)
{
  size_t len;
  guint8 *buf = read_file (path, &len, error);
  if (!buf)
    return NULL;
  tl_net *net = tl_net_load_full (buf, len, path, NULL, 0, error);
  g_free (buf);
  return net;
}

tl_net *
tl_net_load_with_shapes (const char *path, int n_inputs, const int *ndims,
                         const int64_t (*shapes)[TL_MAX_DIMS], GError **error)
{
  size_t len;
  guint8 *buf = read_file (path, &len, error);
  if (!buf)
    return NULL;
  /* Input names are only known after parsing: peek at the graph first. */
  Onnx__ModelProto *m = onnx__model_proto__unpack (NULL, len, buf);
  if (!m || !m->graph)
    {
      if (m)
        onnx__model_proto__free_unpacked (m, NULL);
      g_free (buf);
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                   "%s: not an ONNX model (protobuf is truncated or corrupt)", path);
      return NULL;
    }
  GHashTable *inits = g_hash_table_new (g_str_hash, g_str_equal);
  for (size_t i = 0; i < m->graph->n_initializer; i++)
    if (m->graph->initializer[i]->name)
      g_hash_table_add (inits, m->graph->initializer[i]->name);
  tl_net_binding *b = g_new0 (tl_net_binding, MAX (n_inputs, 1));
  int nb = 0;
  for (size_t i = 0; i < m->graph->n_input && nb < n_inputs; i++)
    {
      const char *nm = m->graph->input[i]->name;
      if (!nm || g_hash_table_contains (inits, nm))
        continue;
      b[nb].name = nm;
      b[nb].dtype = TL_DT_FLOAT;
      b[nb].ndim = CLAMP (ndims[nb], 0, TL_MAX_DIMS);
      memcpy (b[nb].shape, shapes[nb], sizeof b[nb].shape);
      nb++;
    }
  tl_net *net = tl_net_load_full (buf, len, path, b, nb, error);
  g_free (b);
  g_hash_table_unref (inits);
  onnx__model_proto__free_unpacked (m, NULL);
  g_free (buf);
  return net;
}

tl_net *
tl_net_load_batch (const char *path, int64_t batch, GError **error)
{
  if (batch < 1 || batch > TL_KERNEL_MAX_BATCH)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: batch %" G_GINT64_FORMAT
                   " is out of range", path, batch);
      return NULL;
    }
  /* the shapes as the file gives them (batch 1), then the batch swapped in */
  tl_net *net = tl_net_load (path, error);
  if (!net)
    return NULL;
  if (batch == 1 && net->n_inputs > 0 && NV (net, net->inputs[0])->shape[0] == 1)
    return net;
  int n = net->n_inputs;
  int *nd = g_new (int, MAX (n, 1));
  int64_t (*shapes)[TL_MAX_DIMS] = g_malloc0 (sizeof (int64_t[TL_MAX_DIMS]) * MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      const tl_value *v = NV (net, net->inputs[i]);
      nd[i] = v->ndim;
      memcpy (shapes[i], v->shape, sizeof shapes[i]);
      if (v->ndim > 0)
        shapes[i][0] = batch;
    }
  tl_net_free (net);
  net = tl_net_load_with_shapes (path, n, nd, (const int64_t (*)[TL_MAX_DIMS]) shapes, error);
  g_free (nd);
  g_free (shapes);
  return net;
}

tl_net *
tl_net_load_with_shape_strings (const char *path, int n_inputs, const char *const *shapes,
                                GError **error)
{
  if (n_inputs < 0 || n_inputs > 64)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: too many input shapes", path);
      return NULL;
    }
  int *nd = g_new0 (int, MAX (n_inputs, 1));
  int64_t (*sh)[TL_MAX_DIMS] = g_malloc0 (sizeof (int64_t[TL_MAX_DIMS]) * MAX (n_inputs, 1));
  tl_net *net = NULL;
  for (int i = 0; i < n_inputs; i++)
    {
      g_auto (GStrv) parts = g_strsplit (shapes[i] ? shapes[i] : "", "x", -1);
      int n = (int) g_strv_length (parts);
      if (n < 1 || n > TL_MAX_DIMS)
        goto bad;
      for (int d = 0; d < n; d++)
        {
          char *end = NULL;
          gint64 v = g_ascii_strtoll (parts[d], &end, 10);
          if (!parts[d][0] || !end || *end || v < 1 || v > TL_KERNEL_MAX_BATCH * 64)
            goto bad;
          sh[i][d] = v;
        }
      nd[i] = n;
      continue;
    bad:
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "shape '%s' is not like 1x3x224x224 (positive sizes, at most %d dims)",
                   shapes[i] ? shapes[i] : "", TL_MAX_DIMS);
      goto out;
    }
  net = tl_net_load_with_shapes (path, n_inputs, nd, (const int64_t (*)[TL_MAX_DIMS]) sh, error);
out:
  g_free (nd);
  g_free (sh);
  return net;
}
