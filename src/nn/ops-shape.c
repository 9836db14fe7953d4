/* Shape and data-movement ops. Most of them only ever run at load time on
 * shape arithmetic (Shape, Gather, Cast, ConstantOfShape, ...); the ones that
 * survive into the runtime either alias their input (Reshape, Flatten,
 * Squeeze, Unsqueeze, Identity, Dropout) or move bytes once (Transpose,
 * Concat, Split, Slice, Pad, Expand). Elements are moved by size, so the same
 * code serves float32 activations and int64 shape tensors. */
#include "nn-util.h"

#include <string.h>

#define MAXN 64  /* largest shape/axes operand we accept */

static size_t
esz (const tl_value *v)
{
  return tl_dtype_size (v->dtype);
}

/* Copies rows of elements: y[oy..] = x[off..] with an inner stride. */
typedef struct {
  const guint8 *x;
  guint8 *y;
  size_t es;
  int64_t base;
} copy_ctx;

static void
copy_row (void *vc, int64_t oy, const int64_t *off, int64_t len, const int64_t *in)
{
  copy_ctx *c = vc;
  const guint8 *x = c->x + (size_t) (c->base + off[0]) * c->es;
  guint8 *y = c->y + (size_t) oy * c->es;
  if (in[0] == 1)
    memcpy (y, x, (size_t) len * c->es);
  else if (c->es == 4)
    for (int64_t i = 0; i < len; i++)
      memcpy (y + 4 * i, x + (size_t) (i * in[0]) * 4, 4);
  else
    for (int64_t i = 0; i < len; i++)
      memcpy (y + c->es * i, x + (size_t) (i * in[0]) * c->es, c->es);
}

/* Merges neighbouring output dims that the input also walks contiguously
 * (st[d] == st[d+1] * shape[d+1]), so rows get long and copies become few
 * memcpy calls (a channel shuffle [N,g,C/g,H,W] -> [N,C/g,g,H,W] copies
 * whole H*W planes). */
static void
coalesce (int *nd, int64_t *shape, int64_t *st)
{
  int n = 0;
  for (int d = 0; d < *nd; d++)
    {
      if (shape[d] == 1 && *nd > 1)
        continue;  /* size-1 dims do not move anything */
      if (n > 0 && st[n - 1] == st[d] * shape[d])
        {
          shape[n - 1] *= shape[d];
          st[n - 1] = st[d];
          continue;
        }
      shape[n] = shape[d];
      st[n] = st[d];
      n++;
    }
  if (n == 0)
    {
      shape[0] = 1;
      st[0] = 1;
      n = 1;
    }
  *nd = n;
}

static void
copy_walk (const tl_value *y, int64_t *st, copy_ctx *cc)
{
  int nd = y->ndim;
  int64_t shape[TL_MAX_DIMS], s[1][TL_MAX_DIMS];
  memcpy (shape, y->shape, sizeof shape);
  memcpy (s[0], st, sizeof s[0]);
  coalesce (&nd, shape, s[0]);
  tl_bcast_walk (nd, shape, 1, s, copy_row, cc);
}

/* The adjoint of copy_row for float gradients: dx[off + i*s] += dy[oy + i]. */
typedef struct {
  float *dx;
  const float *dy;
  int64_t base;
} add_ctx;

static void
add_row (void *vc, int64_t oy, const int64_t *off, int64_t len, const int64_t *in)
{
  add_ctx *c = vc;
  float *dx = c->dx + c->base + off[0];
  const float *dy = c->dy + oy;
  for (int64_t i = 0; i < len; i++)
    dx[i * in[0]] += dy[i];
}

/* ------------------------------------------------------------ Shape */

static gboolean
shape_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  int64_t r = x->ndim;
  int64_t start = tl_node_attr_int (node, "start", 0), end = tl_node_attr_int (node, "end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = CLAMP (start, 0, r);
  end = CLAMP (end, 0, r);
  int64_t n = MAX (end - start, 0);
  int64_t *p = g_new (int64_t, 2);
  p[0] = start;
  p[1] = n;
  node->p = p;
  (void) error;
  tl_value_set_shape (OUT (node, 0), TL_DT_INT64, 1, &n);
  return TRUE;
}

static gboolean
shape_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const int64_t *p = c->node->p;
  int64_t *y = c->out[0];
  (void) error;
  for (int64_t i = 0; i < p[1]; i++)
    y[i] = IN (c->node, 0)->shape[p[0] + i];
  return TRUE;
}

/* ------------------------------------------------------------ Cast */

static gboolean
cast_infer (tl_net *net, tl_node *node, GError **error)
{
  int64_t to = tl_node_attr_int (node, "to", -1);
  tl_dtype dt;
  switch (to)
    {
    case 1: case 10: case 11: case 16: dt = TL_DT_FLOAT; break;
    case 2: case 3: case 4: case 5: case 6: case 7: case 9: case 12: case 13: dt = TL_DT_INT64; break;
    default: return tl_node_fail (error, node, "cast to type %" G_GINT64_FORMAT " is not supported", to);
    }
  tl_value *x = IN (node, 0);
  int64_t *p = g_new (int64_t, 1);
  *p = to;
  node->p = p;
  tl_value_set_shape (OUT (node, 0), dt, x->ndim, x->shape);
  return TRUE;
}

static gboolean
cast_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const tl_value *x = IN (c->node, 0), *y = OUT (c->node, 0);
  gboolean to_bool = *(const int64_t *) c->node->p == 9;
  (void) error;
  for (int64_t i = 0; i < x->numel; i++)
    {
      if (x->dtype == TL_DT_FLOAT && y->dtype == TL_DT_FLOAT)
        ((float *) c->out[0])[i] = ((const float *) c->in[0])[i];
      else if (x->dtype == TL_DT_FLOAT)
        {
          float f = ((const float *) c->in[0])[i];
          ((int64_t *) c->out[0])[i] = to_bool ? f != 0.0f
                                        : (f != f ? 0 : (int64_t) CLAMP (f, -9.2e18f, 9.2e18f));
        }
      else if (y->dtype == TL_DT_FLOAT)
        ((float *) c->out[0])[i] = (float) ((const int64_t *) c->in[0])[i];
      else
        ((int64_t *) c->out[0])[i] = to_bool ? ((const int64_t *) c->in[0])[i] != 0
                                             : ((const int64_t *) c->in[0])[i];
    }
  return TRUE;
}

static gboolean
identity_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                   GError **error)
{
  const tl_net *net = c->net;
  (void) error;
  if (din[0] && dout[0])
    memcpy (din[0], dout[0], (size_t) IN (c->node, 0)->numel * sizeof (float));
  return TRUE;
}

/* ------------------------------------------------- ConstantOfShape */

static gboolean
cos_infer (tl_net *net, tl_node *node, GError **error)
{
  int64_t shape[MAXN];
  int n = tl_node_const_ints (net, node, 0, shape, TL_MAX_DIMS, error);
  if (n < 0)
    return FALSE;
  if (IN (node, 0)->ndim != 1)
    return tl_node_fail (error, node, "shape must be 1-D");
  for (int d = 0; d < n; d++)
    if (shape[d] < 0)
      return tl_node_fail (error, node, "negative dim in shape");
  tl_dtype dt = TL_DT_FLOAT;
  const tl_attr *a = tl_node_attr (node, "value");
  if (a && a->type == TL_ATTR_TENSOR)
    {
      if (NV (net, a->tensor)->numel != 1)
        return tl_node_fail (error, node, "value must hold one element");
      dt = NV (net, a->tensor)->dtype;
    }
  tl_value_set_shape (OUT (node, 0), dt, n, shape);
  if (OUT (node, 0)->numel < 0)
    return tl_node_fail (error, node, "shape overflows");
  return TRUE;
}

static gboolean
cos_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const tl_value *y = OUT (c->node, 0);
  const tl_attr *a = tl_node_attr (c->node, "value");
  size_t es = esz (y);
  guint8 v[8] = { 0 };
  (void) error;
  if (a && a->type == TL_ATTR_TENSOR)
    memcpy (v, NV (net, a->tensor)->cdata, es);
  for (int64_t i = 0; i < y->numel; i++)
    memcpy ((guint8 *) c->out[0] + i * es, v, es);
  return TRUE;
}

/* ------------------------------------------------------------ Gather */

typedef struct {
  int axis;
  int64_t outer, n_axis, inner, n_idx;
} gather_p;

static gboolean
gather_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0), *ix = IN (node, 1);
  int axis;
  if (!tl_axis_norm (tl_node_attr_int (node, "axis", 0), x->ndim, &axis))
    return tl_node_fail (error, node, "axis out of range");
  if (x->ndim + ix->ndim - 1 > TL_MAX_DIMS)
    return tl_node_fail (error, node, "result has too many dims");
  if (ix->dtype != TL_DT_INT64)
    return tl_node_fail (error, node, "indices must be integers");
  const int64_t *idx = ix->cdata;
  for (int64_t i = 0; i < ix->numel; i++)
    if (idx[i] < -x->shape[axis] || idx[i] >= x->shape[axis])
      return tl_node_fail (error, node, "index %" G_GINT64_FORMAT " out of range", idx[i]);
  gather_p *p = g_new0 (gather_p, 1);
  node->p = p;
  p->axis = axis;
  p->outer = tl_shape_numel (axis, x->shape);
  p->n_axis = x->shape[axis];
  p->inner = tl_shape_numel (x->ndim - axis - 1, x->shape + axis + 1);
  p->n_idx = ix->numel;
  int64_t ys[TL_MAX_DIMS];
  int yn = 0;
  for (int d = 0; d < axis; d++)
    ys[yn++] = x->shape[d];
  for (int d = 0; d < ix->ndim; d++)
    ys[yn++] = ix->shape[d];
  for (int d = axis + 1; d < x->ndim; d++)
    ys[yn++] = x->shape[d];
  tl_value_set_shape (OUT (node, 0), x->dtype, yn, ys);
  return TRUE;
}

static gboolean
gather_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const gather_p *p = c->node->p;
  size_t es = esz (IN (c->node, 0)), row = (size_t) p->inner * es;
  const int64_t *idx = c->in[1];
  (void) error;
  for (int64_t o = 0; o < p->outer; o++)
    for (int64_t j = 0; j < p->n_idx; j++)
      {
        int64_t k = idx[j] < 0 ? idx[j] + p->n_axis : idx[j];
        memcpy ((guint8 *) c->out[0] + (o * p->n_idx + j) * row,
                (const guint8 *) c->in[0] + (o * p->n_axis + k) * row, row);
      }
  return TRUE;
}

static gboolean
gather_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                 GError **error)
{
  const tl_net *net = c->net;
  const gather_p *p = c->node->p;
  const int64_t *idx = c->in[1];
  (void) error;
  if (!din[0] || !dout[0])
    return TRUE;
  memset (din[0], 0, (size_t) IN (c->node, 0)->numel * sizeof (float));
  for (int64_t o = 0; o < p->outer; o++)
    for (int64_t j = 0; j < p->n_idx; j++)
      {
        int64_t k = idx[j] < 0 ? idx[j] + p->n_axis : idx[j];
        float *dx = din[0] + (o * p->n_axis + k) * p->inner;
        const float *dy = dout[0] + (o * p->n_idx + j) * p->inner;
        for (int64_t i = 0; i < p->inner; i++)
          dx[i] += dy[i];
      }
  return TRUE;
}

/* ------------------------------------------------ aliasing reshapes */

static gboolean
set_alias_shape (tl_net *net, tl_node *node, int n, const int64_t *shape, GError **error)
{
  tl_value *x = IN (node, 0);
  if (n > TL_MAX_DIMS)
    return tl_node_fail (error, node, "too many dims");
  if (tl_shape_numel (n, shape) != x->numel)
    {
      char a[128], b[128];
      return tl_node_fail (error, node, "cannot reshape %s into %s",
                           tl_shape_str (x->ndim, x->shape, a, sizeof a),
                           tl_shape_str (n, shape, b, sizeof b));
    }
  tl_value_set_shape (OUT (node, 0), x->dtype, n, shape);
  for (int k = 1; k < node->n_out; k++)  /* Dropout's mask */
    if (node->out[k] >= 0)
      tl_value_set_shape (OUT (node, k), TL_DT_INT64, x->ndim, x->shape);
  return TRUE;
}

static gboolean
identity_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  return set_alias_shape (net, node, x->ndim, x->shape, error);
}

static gboolean
dropout_infer (tl_net *net, tl_node *node, GError **error)
{
  if (tl_node_has_input (node, 2))
    {
      int64_t t;
      if (tl_node_const_ints (net, node, 2, &t, 1, error) != 1)
        return FALSE;
      if (t)
        return tl_node_fail (error, node, "training mode is not supported");
    }
  return identity_infer (net, node, error);
}

/* The mask of an inference Dropout is all ones (only ever folded). */
static gboolean
dropout_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  (void) error;
  memcpy (c->out[0], c->in[0], (size_t) IN (c->node, 0)->numel * esz (IN (c->node, 0)));
  if (c->node->n_out > 1 && c->node->out[1] >= 0)
    for (int64_t i = 0; i < OUT (c->node, 1)->numel; i++)
      ((int64_t *) c->out[1])[i] = 1;
  return TRUE;
}

static gboolean
reshape_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  int64_t s[MAXN];
  int n;
  if (net->opset < 5 || !tl_node_has_input (node, 1))
    n = tl_node_attr_ints (node, "shape", s, MAXN);
  else
    n = tl_node_const_ints (net, node, 1, s, MAXN, error);
  if (n < 0)
    return error && *error ? FALSE : tl_node_fail (error, node, "no shape given");
  if (n > TL_MAX_DIMS)
    return tl_node_fail (error, node, "too many dims");
  gboolean allowzero = tl_node_attr_int (node, "allowzero", 0) != 0;
  int neg = -1;
  int64_t known = 1;
  for (int d = 0; d < n; d++)
    {
      if (s[d] == 0 && !allowzero)
        {
          if (d >= x->ndim)
            return tl_node_fail (error, node, "0 in shape at dim %d beyond the input rank", d);
          s[d] = x->shape[d];
        }
      if (s[d] == -1)
        {
          if (neg >= 0)
            return tl_node_fail (error, node, "more than one -1 in shape");
          neg = d;
          continue;
        }
      if (s[d] < 0)
        return tl_node_fail (error, node, "negative dim in shape");
      if (s[d] > 0 && known > TL_TENSOR_MAX_NUMEL / s[d])
        return tl_node_fail (error, node, "shape overflows");
      known *= s[d];
    }
  if (neg >= 0)
    {
      if (known == 0 || x->numel % known != 0)
        return tl_node_fail (error, node, "cannot infer the -1 dim");
      s[neg] = x->numel / known;
    }
  return set_alias_shape (net, node, n, s, error);
}

static gboolean
flatten_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  int64_t axis = tl_node_attr_int (node, "axis", 1);
  if (axis < 0)
    axis += x->ndim;
  if (axis < 0 || axis > x->ndim)
    return tl_node_fail (error, node, "axis out of range");
  int64_t s[2] = { tl_shape_numel ((int) axis, x->shape),
                   tl_shape_numel (x->ndim - (int) axis, x->shape + axis) };
  return set_alias_shape (net, node, 2, s, error);
}

/* axes from the attribute (old opsets) or the constant input 1 */
static int
get_axes (tl_net *net, tl_node *node, int opset_input, int64_t *axes, GError **error)
{
  if (net->opset >= opset_input)
    {
      if (!tl_node_has_input (node, 1))
        return 0;
      return tl_node_const_ints (net, node, 1, axes, MAXN, error);
    }
  int n = tl_node_attr_ints (node, "axes", axes, MAXN);
  return n < 0 ? 0 : n;
}

static gboolean
squeeze_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  int64_t axes[MAXN], s[TL_MAX_DIMS];
  int na = get_axes (net, node, 13, axes, error);
  if (na < 0)
    return FALSE;
  if (na > MAXN)
    return tl_node_fail (error, node, "too many axes");
  gboolean drop[TL_MAX_DIMS] = { 0 };
  for (int i = 0; i < na; i++)
    {
      int a;
      if (!tl_axis_norm (axes[i], x->ndim, &a))
        return tl_node_fail (error, node, "axis %" G_GINT64_FORMAT " out of range", axes[i]);
      if (x->shape[a] != 1)
        return tl_node_fail (error, node, "dim %d has size %" G_GINT64_FORMAT ", not 1", a,
                             x->shape[a]);
      drop[a] = TRUE;
    }
  int n = 0;
  for (int d = 0; d < x->ndim; d++)
    if (!(na ? drop[d] : x->shape[d] == 1))
      s[n++] = x->shape[d];
  return set_alias_shape (net, node, n, s, error);
}

static gboolean
unsqueeze_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  int64_t axes[MAXN], s[TL_MAX_DIMS];
  int na = get_axes (net, node, 13, axes, error);
  if (na < 0)
    return FALSE;
  if (na == 0)
    return tl_node_fail (error, node, "no axes given");
  int r = x->ndim + na;
  if (na > MAXN || r > TL_MAX_DIMS)
    return tl_node_fail (error, node, "too many dims");
  gboolean ins[TL_MAX_DIMS] = { 0 };
  for (int i = 0; i < na; i++)
    {
      int a;
      if (!tl_axis_norm (axes[i], r, &a) || ins[a])
        return tl_node_fail (error, node, "axis %" G_GINT64_FORMAT " out of range or repeated",
                             axes[i]);
      ins[a] = TRUE;
    }
  for (int d = 0, k = 0; d < r; d++)
    s[d] = ins[d] ? 1 : x->shape[k++];
  return set_alias_shape (net, node, r, s, error);
}

/* ------------------------------------------------------------ Transpose */

typedef struct {
  int perm[TL_MAX_DIMS];
} perm_p;

static gboolean
transpose_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  int64_t perm[MAXN], s[TL_MAX_DIMS];
  int n = tl_node_attr_ints (node, "perm", perm, MAXN);
  if (n < 0)
    {
      n = x->ndim;
      for (int d = 0; d < n; d++)
        perm[d] = n - 1 - d;
    }
  if (n != x->ndim)
    return tl_node_fail (error, node, "perm has %d entries for rank %d", n, x->ndim);
  perm_p *p = g_new0 (perm_p, 1);
  node->p = p;
  gboolean seen[TL_MAX_DIMS] = { 0 };
  for (int d = 0; d < n; d++)
    {
      if (perm[d] < 0 || perm[d] >= n || seen[perm[d]])
        return tl_node_fail (error, node, "perm is not a permutation");
      seen[perm[d]] = TRUE;
      p->perm[d] = (int) perm[d];
      s[d] = x->shape[perm[d]];
    }
  tl_value_set_shape (OUT (node, 0), x->dtype, n, s);
  return TRUE;
}

static gboolean
transpose_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const perm_p *p = c->node->p;
  const tl_value *x = IN (c->node, 0), *y = OUT (c->node, 0);
  int64_t xs[TL_MAX_DIMS], st[1][TL_MAX_DIMS];
  (void) error;
  tl_c_strides (x->ndim, x->shape, xs);
  for (int d = 0; d < y->ndim; d++)
    st[0][d] = xs[p->perm[d]];
  copy_ctx cc = { c->in[0], c->out[0], esz (x), 0 };
  copy_walk (y, st[0], &cc);
  return TRUE;
}

static gboolean
transpose_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                    GError **error)
{
  const tl_net *net = c->net;
  const perm_p *p = c->node->p;
  const tl_value *x = IN (c->node, 0), *y = OUT (c->node, 0);
  int64_t xs[TL_MAX_DIMS], st[1][TL_MAX_DIMS];
  (void) error;
  if (!din[0] || !dout[0])
    return TRUE;
  memset (din[0], 0, (size_t) x->numel * sizeof (float));
  tl_c_strides (x->ndim, x->shape, xs);
  for (int d = 0; d < y->ndim; d++)
    st[0][d] = xs[p->perm[d]];
  add_ctx ac = { din[0], dout[0], 0 };
  tl_bcast_walk (y->ndim, y->shape, 1, st, add_row, &ac);
  return TRUE;
}

/* ------------------------------------------------------- Concat / Split */

typedef struct {
  int axis;
  int64_t outer, inner;
} axis_p;

static gboolean
concat_infer (tl_net *net, tl_node *node, GError **error)
{
  if (node->n_in < 1)
    return tl_node_fail (error, node, "needs inputs");
  tl_value *x0 = IN (node, 0);
  int axis;
  if (!tl_axis_norm (tl_node_attr_int (node, "axis", G_MAXINT64), x0->ndim, &axis))
    return tl_node_fail (error, node, "axis missing or out of range");
  int64_t s[TL_MAX_DIMS];
  memcpy (s, x0->shape, sizeof s);
  s[axis] = 0;
  for (int k = 0; k < node->n_in; k++)
    {
      if (node->in[k] < 0)
        return tl_node_fail (error, node, "input %d is missing", k);
      tl_value *x = IN (node, k);
      if (x->ndim != x0->ndim || x->dtype != x0->dtype)
        return tl_node_fail (error, node, "inputs differ in rank or type");
      for (int d = 0; d < x->ndim; d++)
        if (d != axis && x->shape[d] != x0->shape[d])
          return tl_node_fail (error, node, "input '%s' differs in dim %d", x->name, d);
      s[axis] += x->shape[axis];
    }
  axis_p *p = g_new0 (axis_p, 1);
  node->p = p;
  p->axis = axis;
  p->outer = tl_shape_numel (axis, x0->shape);
  p->inner = tl_shape_numel (x0->ndim - axis - 1, x0->shape + axis + 1);
  tl_value_set_shape (OUT (node, 0), x0->dtype, x0->ndim, s);
  return TRUE;
}

/* Concat and Split are the same copy, one gathering and one scattering:
 * parts[k] is a [outer, len_k * inner] block of the [outer, total * inner] whole. */
static void
concat_copy (const axis_p *p, int n, const int64_t *lens, void *const *parts, guint8 *whole,
             size_t es, gboolean to_whole)
{
  int64_t total = 0;
  for (int k = 0; k < n; k++)
    total += lens[k];
  size_t wrow = (size_t) (total * p->inner) * es;
  for (int64_t o = 0; o < p->outer; o++)
    {
      size_t at = 0;
      for (int k = 0; k < n; k++)
        {
          size_t prow = (size_t) (lens[k] * p->inner) * es;
          if (parts[k])
            {
              guint8 *pk = (guint8 *) parts[k] + o * prow;
              if (pk == whole + o * wrow + at)
                ;  /* the producer already wrote it in place (zero-copy concat) */
              else if (to_whole)
                memcpy (whole + o * wrow + at, pk, prow);
              else
                memcpy (pk, whole + o * wrow + at, prow);
            }
          else if (to_whole)
            memset (whole + o * wrow + at, 0, prow);
          at += prow;
        }
    }
}

static gboolean
concat_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const axis_p *p = c->node->p;
  int n = c->node->n_in;
  int64_t *lens = g_new (int64_t, n);
  for (int k = 0; k < n; k++)
    lens[k] = IN (c->node, k)->shape[p->axis];
  (void) error;
  concat_copy (p, n, lens, (void *const *) c->in, c->out[0], esz (OUT (c->node, 0)), TRUE);
  g_free (lens);
  return TRUE;
}

static gboolean
concat_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                 GError **error)
{
  const tl_net *net = c->net;
  const axis_p *p = c->node->p;
  int n = c->node->n_in;
  int64_t *lens = g_new (int64_t, n);
  for (int k = 0; k < n; k++)
    lens[k] = IN (c->node, k)->shape[p->axis];
  (void) error;
  if (dout[0])
    concat_copy (p, n, lens, (void *const *) din, (guint8 *) dout[0], sizeof (float), FALSE);
  g_free (lens);
  return TRUE;
}

static gboolean
split_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  int axis;
  if (!tl_axis_norm (tl_node_attr_int (node, "axis", 0), x->ndim, &axis))
    return tl_node_fail (error, node, "axis out of range");
  int n = node->n_out;
  int64_t *sp = g_new0 (int64_t, MAXN);
  int ns;
  if (net->opset >= 13)
    ns = tl_node_has_input (node, 1) ? tl_node_const_ints (net, node, 1, sp, MAXN, error) : 0;
  else
    ns = MAX (tl_node_attr_ints (node, "split", sp, MAXN), 0);
  if (ns < 0)
    {
      g_free (sp);
      return FALSE;
    }
  if (ns == 0)
    {
      /* equal parts; opset 18 allows a smaller last part */
      int64_t part = (x->shape[axis] + n - 1) / MAX (n, 1);
      for (int k = 0; k < n; k++)
        sp[k] = MIN (part, MAX (x->shape[axis] - part * k, 0));
      ns = n;
    }
  int64_t tot = 0;
  gboolean bad = ns != n || n > MAXN;
  for (int k = 0; k < ns && !bad; k++)
    {
      bad |= sp[k] < 0;
      tot += sp[k];
    }
  if (bad || tot != x->shape[axis])
    {
      g_free (sp);
      return tl_node_fail (error, node, "split sizes do not add up to dim %d", axis);
    }
  axis_p *p = g_new0 (axis_p, 1);
  p->axis = axis;
  p->outer = tl_shape_numel (axis, x->shape);
  p->inner = tl_shape_numel (x->ndim - axis - 1, x->shape + axis + 1);
  node->p = g_realloc (p, sizeof (axis_p) + sizeof (int64_t) * n);
  memcpy ((axis_p *) node->p + 1, sp, sizeof (int64_t) * n);
  for (int k = 0; k < n; k++)
    if (node->out[k] >= 0)
      {
        int64_t s[TL_MAX_DIMS];
        memcpy (s, x->shape, sizeof s);
        s[axis] = sp[k];
        tl_value_set_shape (OUT (node, k), x->dtype, x->ndim, s);
      }
  g_free (sp);
  return TRUE;
}

static gboolean
split_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const axis_p *p = c->node->p;
  (void) error;
  concat_copy (p, c->node->n_out, (const int64_t *) (p + 1), c->out, (guint8 *) c->in[0],
               esz (IN (c->node, 0)), FALSE);
  return TRUE;
}

static gboolean
split_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                GError **error)
{
  const axis_p *p = c->node->p;
  (void) error;
  if (din[0])
    concat_copy (p, c->node->n_out, (const int64_t *) (p + 1), (void *const *) dout,
                 (guint8 *) din[0], sizeof (float), TRUE);
  return TRUE;
}

/* ------------------------------------------------------------ Slice */

typedef struct {
  int64_t start[TL_MAX_DIMS], step[TL_MAX_DIMS];
} slice_p;

static gboolean
slice_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  int64_t st[MAXN], en[MAXN], ax[MAXN], sp[MAXN];
  int ns, ne, na, nsp = -1;
  if (net->opset < 10)
    {
      ns = tl_node_attr_ints (node, "starts", st, MAXN);
      ne = tl_node_attr_ints (node, "ends", en, MAXN);
      na = tl_node_attr_ints (node, "axes", ax, MAXN);
    }
  else
    {
      ns = tl_node_const_ints (net, node, 1, st, MAXN, error);
      if (ns < 0)
        return FALSE;
      ne = tl_node_const_ints (net, node, 2, en, MAXN, error);
      if (ne < 0)
        return FALSE;
      na = tl_node_has_input (node, 3) ? tl_node_const_ints (net, node, 3, ax, MAXN, error) : -1;
      if (tl_node_has_input (node, 3) && na < 0)
        return FALSE;
      if (tl_node_has_input (node, 4))
        {
          nsp = tl_node_const_ints (net, node, 4, sp, MAXN, error);
          if (nsp < 0)
            return FALSE;
        }
    }
  if (ns < 0 || ns != ne || (na >= 0 && na != ns) || (nsp >= 0 && nsp != ns))
    return tl_node_fail (error, node, "starts/ends/axes/steps disagree");
  slice_p *p = g_new0 (slice_p, 1);
  node->p = p;
  int64_t s[TL_MAX_DIMS];
  gboolean seen[TL_MAX_DIMS] = { 0 };
  for (int d = 0; d < x->ndim; d++)
    {
      p->start[d] = 0;
      p->step[d] = 1;
      s[d] = x->shape[d];
    }
  for (int i = 0; i < ns; i++)
    {
      int a;
      if (!tl_axis_norm (na >= 0 ? ax[i] : i, x->ndim, &a) || seen[a])
        return tl_node_fail (error, node, "axis out of range or repeated");
      seen[a] = TRUE;
      int64_t step = nsp >= 0 ? sp[i] : 1, dim = x->shape[a];
      if (step == 0)
        return tl_node_fail (error, node, "step is 0");
      int64_t b = st[i], e = en[i];
      /* ONNX's clamping rules, done in a range where nothing overflows */
      b = CLAMP (b, -dim - 1, dim + 1);
      e = CLAMP (e, -dim - 1, dim + 1);
      if (b < 0) b += dim;
      if (e < 0) e += dim;
      if (step > 0)
        {
          b = CLAMP (b, 0, dim);
          e = CLAMP (e, 0, dim);
          s[a] = e > b ? (e - b + step - 1) / step : 0;
        }
      else
        {
          b = CLAMP (b, -1, dim - 1);
          e = CLAMP (e, -1, dim - 1);
          s[a] = b > e ? (b - e + (-step) - 1) / (-step) : 0;
        }
      p->start[a] = b;
      p->step[a] = step;
    }
  tl_value_set_shape (OUT (node, 0), x->dtype, x->ndim, s);
  return TRUE;
}

static void
slice_strides (const tl_value *x, const slice_p *p, int64_t *st, int64_t *base)
{
  int64_t xs[TL_MAX_DIMS];
  tl_c_strides (x->ndim, x->shape, xs);
  *base = 0;
  for (int d = 0; d < x->ndim; d++)
    {
      st[d] = xs[d] * p->step[d];
      *base += xs[d] * p->start[d];
    }
}

static gboolean
slice_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const tl_value *x = IN (c->node, 0), *y = OUT (c->node, 0);
  int64_t st[1][TL_MAX_DIMS], base;
  (void) error;
  if (y->numel == 0)
    return TRUE;
  slice_strides (x, c->node->p, st[0], &base);
  copy_ctx cc = { c->in[0], c->out[0], esz (x), base };
  copy_walk (y, st[0], &cc);
  return TRUE;
}

static gboolean
slice_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                GError **error)
{
  const tl_net *net = c->net;
  const tl_value *x = IN (c->node, 0), *y = OUT (c->node, 0);
  int64_t st[1][TL_MAX_DIMS], base;
  (void) error;
  if (!din[0])
    return TRUE;
  memset (din[0], 0, (size_t) x->numel * sizeof (float));
  if (y->numel == 0 || !dout[0])
    return TRUE;
  slice_strides (x, c->node->p, st[0], &base);
  add_ctx ac = { din[0], dout[0], base };
  tl_bcast_walk (y->ndim, y->shape, 1, st, add_row, &ac);
  return TRUE;
}

/* ------------------------------------------------------------ Expand */

static gboolean
expand_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  int64_t s[MAXN], ys[TL_MAX_DIMS];
  int n = tl_node_const_ints (net, node, 1, s, MAXN, error), yn;
  if (n < 0)
    return FALSE;
  if (n > TL_MAX_DIMS || !tl_bcast_shape (x->ndim, x->shape, n, s, &yn, ys))
    return tl_node_fail (error, node, "shape does not broadcast");
  tl_value_set_shape (OUT (node, 0), x->dtype, yn, ys);
  return TRUE;
}

static gboolean
expand_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const tl_value *x = IN (c->node, 0), *y = OUT (c->node, 0);
  int64_t st[1][TL_MAX_DIMS];
  (void) error;
  tl_bcast_strides (y->ndim, y->shape, x->ndim, x->shape, st[0]);
  copy_ctx cc = { c->in[0], c->out[0], esz (x), 0 };
  tl_bcast_walk (y->ndim, y->shape, 1, st, copy_row, &cc);
  return TRUE;
}

static gboolean
expand_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                 GError **error)
{
  const tl_net *net = c->net;
  const tl_value *x = IN (c->node, 0), *y = OUT (c->node, 0);
  int64_t st[1][TL_MAX_DIMS];
  (void) error;
  if (!din[0] || !dout[0])
    return TRUE;
  memset (din[0], 0, (size_t) x->numel * sizeof (float));
  tl_bcast_strides (y->ndim, y->shape, x->ndim, x->shape, st[0]);
  add_ctx ac = { din[0], dout[0], 0 };
  tl_bcast_walk (y->ndim, y->shape, 1, st, add_row, &ac);
  return TRUE;
}

/* ------------------------------------------------------------ Pad */

typedef enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE } pad_mode;

typedef struct {
  pad_mode mode;
  float value;
  int64_t begin[TL_MAX_DIMS];
} pad_p;

static gboolean
pad_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  int r = x->ndim;
  int64_t pads[2 * MAXN], axes[MAXN];
  int np;
  float value = 0;
  if (net->opset < 11)
    {
      np = tl_node_attr_ints (node, "pads", pads, 2 * MAXN);
      value = tl_node_attr_float (node, "value", 0.0f);
    }
  else
    {
      np = tl_node_const_ints (net, node, 1, pads, 2 * MAXN, error);
      if (np < 0)
        return FALSE;
      if (tl_node_has_input (node, 2))
        {
          float v[1];
          if (tl_node_const_floats (net, node, 2, v, 1, error) != 1)
            return error && *error ? FALSE : tl_node_fail (error, node, "bad constant_value");
          value = v[0];
        }
    }
  int na = r;
  for (int d = 0; d < r; d++)
    axes[d] = d;
  if (tl_node_has_input (node, 3))
    {
      na = tl_node_const_ints (net, node, 3, axes, MAXN, error);
      if (na < 0)
        return FALSE;
    }
  if (np != 2 * na)
    return tl_node_fail (error, node, "pads has %d entries for %d axes", np, na);
  const char *mode = tl_node_attr_str (node, "mode", "constant");
  pad_p *p = g_new0 (pad_p, 1);
  node->p = p;
  p->value = value;
  if (strcmp (mode, "constant") == 0) p->mode = PAD_CONSTANT;
  else if (strcmp (mode, "reflect") == 0) p->mode = PAD_REFLECT;
  else if (strcmp (mode, "edge") == 0) p->mode = PAD_EDGE;
  else return tl_node_fail (error, node, "mode '%s' is not supported", mode);
  int64_t s[TL_MAX_DIMS];
  memcpy (s, x->shape, sizeof s);
  for (int i = 0; i < na; i++)
    {
      int a;
      if (!tl_axis_norm (axes[i], r, &a))
        return tl_node_fail (error, node, "axis out of range");
      int64_t b = pads[i], e = pads[i + na];
      if (llabs (b) > TL_TENSOR_MAX_NUMEL || llabs (e) > TL_TENSOR_MAX_NUMEL)
        return tl_node_fail (error, node, "pads are absurdly large");
      s[a] = x->shape[a] + b + e;
      p->begin[a] = b;
      if (s[a] < 0)
        return tl_node_fail (error, node, "negative pads crop more than dim %d", a);
      if (p->mode == PAD_REFLECT && (b >= x->shape[a] || e >= x->shape[a]))
        return tl_node_fail (error, node, "reflect pads must be smaller than the dim");
      if (p->mode != PAD_CONSTANT && x->shape[a] == 0 && s[a] > 0)
        return tl_node_fail (error, node, "cannot pad an empty dim with mode '%s'", mode);
    }
  tl_value_set_shape (OUT (node, 0), x->dtype, r, s);
  return TRUE;
}

/* Input coordinate for output coordinate o along one dim, or -1 (pad value). */
static int64_t
pad_src (pad_mode m, int64_t o, int64_t begin, int64_t n)
{
  int64_t i = o - begin;
  if (i >= 0 && i < n)
    return i;
  switch (m)
    {
    case PAD_CONSTANT: return -1;
    case PAD_EDGE: return i < 0 ? 0 : n - 1;
    case PAD_REFLECT:
      if (n == 1)
        return 0;
      while (i < 0 || i >= n)
        i = i < 0 ? -i : 2 * (n - 1) - i;
      return i;
    }
  return -1;
}

/* Calls fn for every output element with its source offset (-1 for pad). */
static void
pad_walk (const tl_value *x, const tl_value *y, const pad_p *p,
          void (*fn) (void *ctx, int64_t oy, int64_t ox), void *ctx)
{
  int r = y->ndim;
  int64_t xs[TL_MAX_DIMS], idx[TL_MAX_DIMS] = { 0 };
  tl_c_strides (x->ndim, x->shape, xs);
  for (int64_t oy = 0; oy < y->numel; oy++)
    {
      int64_t ox = 0;
      for (int d = 0; d < r && ox >= 0; d++)
        {
          int64_t i = pad_src (p->mode, idx[d], p->begin[d], x->shape[d]);
          ox = i < 0 ? -1 : ox + i * xs[d];
        }
      fn (ctx, oy, ox);
      for (int d = r - 1; d >= 0; d--)
        {
          if (++idx[d] < y->shape[d])
            break;
          idx[d] = 0;
        }
    }
}

typedef struct {
  const void *x;
  void *y;
  size_t es;
  guint8 value[8];
  const float *dy;
  float *dx;
} pad_ctx;

static void
pad_fwd_elem (void *vc, int64_t oy, int64_t ox)
{
  pad_ctx *c = vc;
  memcpy ((guint8 *) c->y + oy * c->es, ox < 0 ? c->value : (const guint8 *) c->x + ox * c->es,
          c->es);
}

static void
pad_bwd_elem (void *vc, int64_t oy, int64_t ox)
{
  pad_ctx *c = vc;
  if (ox >= 0)
    c->dx[ox] += c->dy[oy];
}

static gboolean
pad_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const pad_p *p = c->node->p;
  const tl_value *x = IN (c->node, 0), *y = OUT (c->node, 0);
  pad_ctx pc = { c->in[0], c->out[0], esz (x), { 0 }, NULL, NULL };
  (void) error;
  if (x->dtype == TL_DT_FLOAT)
    memcpy (pc.value, &p->value, 4);
  else
    {
      int64_t v = (int64_t) p->value;
      memcpy (pc.value, &v, 8);
    }
  pad_walk (x, y, p, pad_fwd_elem, &pc);
  return TRUE;
}

static gboolean
pad_backward (const tl_op_ctx *c, const float *const *dout, float *const *din, GError **error)
{
  const tl_net *net = c->net;
  const tl_value *x = IN (c->node, 0), *y = OUT (c->node, 0);
  (void) error;
  if (!din[0] || !dout[0])
    return TRUE;
  memset (din[0], 0, (size_t) x->numel * sizeof (float));
  pad_ctx pc = { NULL, NULL, 4, { 0 }, dout[0], din[0] };
  pad_walk (x, y, c->node->p, pad_bwd_elem, &pc);
  return TRUE;
}

const tl_op tl_ops_shape[] = {
  { .name = "Shape", .infer = shape_infer, .forward = shape_forward, .shape_only = TRUE },
  { .name = "Cast", .infer = cast_infer, .forward = cast_forward, .backward = identity_backward },
  { .name = "ConstantOfShape", .infer = cos_infer, .forward = cos_forward, .const_inputs = 1 },
  { .name = "Gather", .n_in_min = 2, .infer = gather_infer, .forward = gather_forward, .const_inputs = 2,
    .backward = gather_backward },
  { .name = "Identity", .infer = identity_infer, .alias = TRUE, .forward = dropout_forward,
    .backward = identity_backward },
  { .name = "Dropout", .infer = dropout_infer, .alias = TRUE, .forward = dropout_forward,
    .const_inputs = 6, .backward = identity_backward },
  { .name = "Reshape", .infer = reshape_infer, .alias = TRUE, .forward = dropout_forward,
    .const_inputs = 2, .backward = identity_backward },
  { .name = "Flatten", .infer = flatten_infer, .alias = TRUE, .forward = dropout_forward,
    .backward = identity_backward },
  { .name = "Squeeze", .infer = squeeze_infer, .alias = TRUE, .forward = dropout_forward,
    .const_inputs = 2, .backward = identity_backward },
  { .name = "Unsqueeze", .infer = unsqueeze_infer, .alias = TRUE, .forward = dropout_forward,
    .const_inputs = 2, .backward = identity_backward },
  { .name = "Transpose", .infer = transpose_infer, .forward = transpose_forward,
    .backward = transpose_backward },
  { .name = "Concat", .infer = concat_infer, .forward = concat_forward,
    .backward = concat_backward },
  { .name = "Split", .infer = split_infer, .forward = split_forward, .const_inputs = 2,
    .backward = split_backward },
  { .name = "Slice", .infer = slice_infer, .forward = slice_forward, .const_inputs = 0x1e,
    .backward = slice_backward },
  { .name = "Expand", .n_in_min = 2, .infer = expand_infer, .forward = expand_forward, .const_inputs = 2,
    .backward = expand_backward },
  { .name = "Pad", .infer = pad_infer, .forward = pad_forward, .const_inputs = 0xe,
    .backward = pad_backward },
  { .name = NULL },
};

/* For the runtime's zero-copy concat: when Concat's inputs are contiguous
 * blocks of its output (nothing varies before the axis), the element offset
 * of input k in the output, else -1. */
int64_t
tl_concat_part_offset (const tl_net *net, const tl_node *node, int k)
{
  if (node->op->forward != concat_forward || !node->p)
    return -1;
  const axis_p *p = node->p;
  if (p->outer != 1)
    return -1;
  int64_t off = 0;
  for (int i = 0; i < k; i++)
    off += IN (node, i)->shape[p->axis] * p->inner;
  return off;
}
