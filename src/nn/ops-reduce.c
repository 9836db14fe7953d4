/* ReduceMean and ReduceSum over any set of axes (keepdims or not). */
#include "nn-util.h"

#include <math.h>
#include <string.h>

typedef enum { R_SUM, R_MEAN, R_L2 } reduce_kind;

typedef struct {
  gboolean mean, noop;
  reduce_kind kind;
  int64_t kshape[TL_MAX_DIMS];   /* the output shape with keepdims=1 */
  int64_t count;                 /* elements summed into each output */
} reduce_p;

static gboolean
reduce_infer_kind (tl_net *net, tl_node *node, reduce_kind kind, GError **error)
{
  gboolean mean = kind == R_MEAN;
  tl_value *x = IN (node, 0);
  int64_t axes[64];
  int na;
  int axes_input_opset = kind == R_SUM ? 13 : 18;
  if (net->opset >= axes_input_opset)
    {
      na = 0;
      if (tl_node_has_input (node, 1))
        {
          na = tl_node_const_ints (net, node, 1, axes, 64, error);
          if (na < 0)
            return FALSE;
        }
    }
  else
    na = MAX (tl_node_attr_ints (node, "axes", axes, 64), 0);
  if (na > 64)
    return tl_node_fail (error, node, "too many axes");
  gboolean keep = tl_node_attr_int (node, "keepdims", 1) != 0;
  gboolean noop_empty = tl_node_attr_int (node, "noop_with_empty_axes", 0) != 0;
  reduce_p *p = g_new0 (reduce_p, 1);
  node->p = p;
  p->mean = mean;
  p->kind = kind;
  if (kind == R_L2 && x->dtype != TL_DT_FLOAT)
    return tl_node_fail (error, node, "input must be float");
  gboolean red[TL_MAX_DIMS] = { 0 };
  if (na == 0)
    {
      p->noop = noop_empty;
      for (int d = 0; d < x->ndim; d++)
        red[d] = !noop_empty;
    }
  for (int i = 0; i < na; i++)
    {
      int a;
      if (!tl_axis_norm (axes[i], x->ndim, &a))
        return tl_node_fail (error, node, "axis %" G_GINT64_FORMAT " out of range", axes[i]);
      red[a] = TRUE;
    }
  int64_t ys[TL_MAX_DIMS];
  int yn = 0;
  p->count = 1;
  for (int d = 0; d < x->ndim; d++)
    {
      p->kshape[d] = red[d] ? 1 : x->shape[d];
      if (red[d])
        p->count *= x->shape[d];
      if (!red[d] || keep)
        ys[yn++] = p->kshape[d];
    }
  tl_value_set_shape (OUT (node, 0), x->dtype, yn, ys);
  return TRUE;
}

static gboolean
rmean_infer (tl_net *net, tl_node *node, GError **error)
{
  return reduce_infer_kind (net, node, R_MEAN, error);
}

static gboolean
rsum_infer (tl_net *net, tl_node *node, GError **error)
{
  return reduce_infer_kind (net, node, R_SUM, error);
}

static gboolean
rl2_infer (tl_net *net, tl_node *node, GError **error)
{
  return reduce_infer_kind (net, node, R_L2, error);
}

typedef struct {
  const float *x;
  float *y;
  const float *dy;
  float *dx;
  float scale;
  const int64_t *xi;
  int64_t *yi;
  gboolean square;        /* ReduceL2: sum x^2 */
  const float *x_fwd, *y_fwd;
} red_ctx;

/* Rows of x (off[0] = offset into the keepdims output). */
static void
red_row (void *vc, int64_t ox, const int64_t *off, int64_t len, const int64_t *in)
{
  red_ctx *c = vc;
  if (c->yi)
    {
      for (int64_t i = 0; i < len; i++)
        c->yi[off[0] + i * in[0]] += c->xi[ox + i];
      return;
    }
  const float *x = c->x + ox;
  float *y = c->y + off[0];
  if (in[0] == 0)
    {
      double s = 0;  /* a whole row into one output: sum in double */
      for (int64_t i = 0; i < len; i++)
        s += c->square ? (double) x[i] * x[i] : x[i];
      *y += (float) s;
    }
  else
    for (int64_t i = 0; i < len; i++)
      y[i * in[0]] += c->square ? x[i] * x[i] : x[i];
}

static void
red_grad_row (void *vc, int64_t ox, const int64_t *off, int64_t len, const int64_t *in)
{
  red_ctx *c = vc;
  if (c->y_fwd)
    {
      /* d sqrt(sum x^2) / dx = x / y */
      for (int64_t i = 0; i < len; i++)
        {
          float y = c->y_fwd[off[0] + i * in[0]];
          c->dx[ox + i] = y > 0.0f ? c->dy[off[0] + i * in[0]] * c->x_fwd[ox + i] / y : 0.0f;
        }
      return;
    }
  for (int64_t i = 0; i < len; i++)
    c->dx[ox + i] = c->dy[off[0] + i * in[0]] * c->scale;
}

static gboolean
reduce_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const reduce_p *p = c->node->p;
  const tl_value *x = IN (c->node, 0), *y = OUT (c->node, 0);
  int64_t st[1][TL_MAX_DIMS];
  (void) error;
  gboolean isf = x->dtype == TL_DT_FLOAT;
  memset (c->out[0], 0, (size_t) y->numel * tl_dtype_size (y->dtype));
  tl_bcast_strides (x->ndim, x->shape, x->ndim, p->kshape, st[0]);
  red_ctx rc = { isf ? c->in[0] : NULL, isf ? c->out[0] : NULL, NULL, NULL, 0,
                 isf ? NULL : c->in[0], isf ? NULL : c->out[0], p->kind == R_L2, NULL, NULL };
  tl_bcast_walk (x->ndim, x->shape, 1, st, red_row, &rc);
  if (p->kind == R_L2)
    for (int64_t i = 0; i < y->numel; i++)
      ((float *) c->out[0])[i] = sqrtf (((float *) c->out[0])[i]);
  if (p->mean && isf && p->count > 0)
    for (int64_t i = 0; i < y->numel; i++)
      ((float *) c->out[0])[i] /= (float) p->count;
  if (p->mean && !isf && p->count > 0)
    for (int64_t i = 0; i < y->numel; i++)
      ((int64_t *) c->out[0])[i] /= p->count;
  return TRUE;
}

static gboolean
reduce_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                 GError **error)
{
  const tl_net *net = c->net;
  const reduce_p *p = c->node->p;
  const tl_value *x = IN (c->node, 0);
  int64_t st[1][TL_MAX_DIMS];
  (void) error;
  if (!din[0] || !dout[0])
    return TRUE;
  tl_bcast_strides (x->ndim, x->shape, x->ndim, p->kshape, st[0]);
  red_ctx rc = { NULL, NULL, dout[0], din[0],
                 p->mean && p->count > 0 ? 1.0f / (float) p->count : 1.0f, NULL, NULL, FALSE,
                 p->kind == R_L2 ? c->in[0] : NULL, p->kind == R_L2 ? c->out[0] : NULL };
  tl_bcast_walk (x->ndim, x->shape, 1, st, red_grad_row, &rc);
  return TRUE;
}

const tl_op tl_ops_reduce[] = {
  { .name = "ReduceMean", .infer = rmean_infer, .forward = reduce_forward, .const_inputs = 2,
    .backward = reduce_backward },
  { .name = "ReduceSum", .infer = rsum_infer, .forward = reduce_forward, .const_inputs = 2,
    .backward = reduce_backward },
  { .name = "ReduceL2", .infer = rl2_infer, .forward = reduce_forward, .const_inputs = 2,
    .backward = reduce_backward },
  { .name = NULL },
};
