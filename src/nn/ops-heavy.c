/* The compute-heavy ops: attribute parsing, shape inference and the glue to
 * the kernels in kernels/ (conv, conv-transpose, gemm, matmul, pooling,
 * resize, batchnorm, softmax), forward and backward. 1-D convolutions and
 * pools run as 2-D ones with H = 1. */
#include "nn-util.h"
#include "kernels.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------- helpers */

/* [N,C,L] or [N,C,H,W] as a tl_shape4 (H = 1 for 1-D). */
static gboolean
as_shape4 (const tl_value *v, tl_shape4 *s)
{
  if (v->ndim == 4)
    *s = (tl_shape4) { v->shape[0], v->shape[1], v->shape[2], v->shape[3] };
  else if (v->ndim == 3)
    *s = (tl_shape4) { v->shape[0], v->shape[1], 1, v->shape[2] };
  else
    return FALSE;
  return TRUE;
}

static void
set_out4 (tl_value *y, const tl_value *like, tl_shape4 s)
{
  int64_t d[4] = { s.n, s.c, s.h, s.w };
  if (like->ndim == 3)
    {
      d[2] = s.w;
      tl_value_set_shape (y, TL_DT_FLOAT, 3, d);
    }
  else
    tl_value_set_shape (y, TL_DT_FLOAT, 4, d);
}

static gboolean
parse_auto_pad (const tl_node *node, tl_auto_pad *m, GError **error)
{
  const char *s = tl_node_attr_str (node, "auto_pad", "NOTSET");
  if (strcmp (s, "NOTSET") == 0 || !s[0]) *m = TL_AUTO_PAD_NOTSET;
  else if (strcmp (s, "SAME_UPPER") == 0) *m = TL_AUTO_PAD_SAME_UPPER;
  else if (strcmp (s, "SAME_LOWER") == 0) *m = TL_AUTO_PAD_SAME_LOWER;
  else if (strcmp (s, "VALID") == 0) *m = TL_AUTO_PAD_VALID;
  else return tl_node_fail (error, node, "auto_pad '%s' is not supported", s);
  return TRUE;
}

/* Spatial attributes shared by Conv, ConvTranspose and the pools: kernel,
 * strides, dilations, pads in H/W order (1-D: H gets the neutral value). */
typedef struct {
  int64_t k[2], s[2], d[2], pb[2], pe[2];
} spatial;

static gboolean
parse_spatial (const tl_node *node, int nsp, const int64_t *kernel_default, spatial *sp,
               GError **error)
{
  int64_t v[8];
  int n;
  int off = 2 - nsp;   /* 1-D fills index 1 (W) only */
  for (int i = 0; i < 2; i++)
    {
      sp->k[i] = 1; sp->s[i] = 1; sp->d[i] = 1; sp->pb[i] = 0; sp->pe[i] = 0;
    }
  n = tl_node_attr_ints (node, "kernel_shape", v, 8);
  if (n >= 0 && n != nsp)
    return tl_node_fail (error, node, "kernel_shape has %d entries, expected %d", n, nsp);
  for (int i = 0; i < nsp; i++)
    sp->k[off + i] = n > 0 ? v[i] : (kernel_default ? kernel_default[i] : 0);
  if (n < 0 && !kernel_default)
    return tl_node_fail (error, node, "kernel_shape is required");
  n = tl_node_attr_ints (node, "strides", v, 8);
  if (n >= 0 && n != nsp)
    return tl_node_fail (error, node, "strides has %d entries, expected %d", n, nsp);
  for (int i = 0; i < nsp && n > 0; i++)
    sp->s[off + i] = v[i];
  n = tl_node_attr_ints (node, "dilations", v, 8);
  if (n >= 0 && n != nsp)
    return tl_node_fail (error, node, "dilations has %d entries, expected %d", n, nsp);
  for (int i = 0; i < nsp && n > 0; i++)
    sp->d[off + i] = v[i];
  n = tl_node_attr_ints (node, "pads", v, 8);
  if (n >= 0 && n != 2 * nsp)
    return tl_node_fail (error, node, "pads has %d entries, expected %d", n, 2 * nsp);
  for (int i = 0; i < nsp && n > 0; i++)
    {
      sp->pb[off + i] = v[i];
      sp->pe[off + i] = v[i + nsp];
    }
  for (int i = 0; i < 2; i++)
    if (sp->k[i] < 1 || sp->s[i] < 1 || sp->d[i] < 1 || sp->pb[i] < 0 || sp->pe[i] < 0
        || sp->k[i] > TL_KERNEL_MAX_DIM || sp->s[i] > TL_KERNEL_MAX_DIM
        || sp->d[i] > TL_KERNEL_MAX_DIM || sp->pb[i] > TL_KERNEL_MAX_DIM
        || sp->pe[i] > TL_KERNEL_MAX_DIM)
      return tl_node_fail (error, node, "kernel/stride/dilation/pad out of range");
  return TRUE;
}

static gboolean
resolve_pads (const tl_node *node, tl_auto_pad mode, tl_shape4 xs, spatial *sp, GError **error)
{
  int64_t in[2] = { xs.h, xs.w };
  for (int i = 0; i < 2; i++)
    if (mode != TL_AUTO_PAD_NOTSET
        && !tl_conv_resolve_auto_pad (mode, in[i], sp->k[i], sp->s[i], sp->d[i], &sp->pb[i],
                                      &sp->pe[i], error))
      return FALSE;
  (void) node;
  return TRUE;
}

/* Errors from kernels name no node: prefix it. */
static gboolean
node_prefix (const tl_node *node, GError **error)
{
  if (error && *error)
    g_prefix_error (error, "node '%s' (%s): ", node->name, node->op_type);
  return FALSE;
}

/* ------------------------------------------------------------ Conv */

typedef struct {
  tl_conv_params cp;
  tl_shape4 xs, ws, ys;
  tl_activation act;
  float *packed; /* tl_conv2d_pack_weights of a constant weight, or NULL */
} conv_p;

static gboolean
conv_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0), *w = IN (node, 1);
  conv_p *p = g_new0 (conv_p, 1);
  node->p = p;
  if (!as_shape4 (x, &p->xs))
    return tl_node_fail (error, node, "only 1-D and 2-D convolutions are supported "
                         "(input '%s' has rank %d)", x->name, x->ndim);
  if (w->ndim != x->ndim || !as_shape4 (w, &p->ws))
    return tl_node_fail (error, node, "weight '%s' must have rank %d", w->name, x->ndim);
  int64_t kdef[2] = { x->ndim == 4 ? w->shape[2] : w->shape[2], x->ndim == 4 ? w->shape[3] : 0 };
  spatial sp;
  tl_auto_pad ap;
  if (!parse_auto_pad (node, &ap, error) || !parse_spatial (node, x->ndim - 2, kdef, &sp, error))
    return FALSE;
  if (sp.k[0] != p->ws.h || sp.k[1] != p->ws.w)
    return tl_node_fail (error, node, "kernel_shape disagrees with the weight shape");
  if (!resolve_pads (node, ap, p->xs, &sp, error))
    return node_prefix (node, error);
  p->cp = (tl_conv_params) { sp.k[0], sp.k[1], sp.s[0], sp.s[1], sp.d[0], sp.d[1],
                             sp.pb[0], sp.pb[1], sp.pe[0], sp.pe[1],
                             tl_node_attr_int (node, "group", 1) };
  if (p->cp.groups < 1 || p->cp.groups > TL_KERNEL_MAX_DIM
      || p->xs.c != p->ws.c * p->cp.groups || p->ws.n % p->cp.groups != 0)
    return tl_node_fail (error, node, "channels (%" G_GINT64_FORMAT ") do not match weight "
                         "'%s' and group %" G_GINT64_FORMAT, p->xs.c, w->name, p->cp.groups);
  if (tl_node_has_input (node, 2) && IN (node, 2)->numel != p->ws.n)
    return tl_node_fail (error, node, "bias has %" G_GINT64_FORMAT " entries, expected %"
                         G_GINT64_FORMAT, IN (node, 2)->numel, p->ws.n);
  if (!tl_conv2d_output_shape (&p->cp, p->xs, p->ws.n, &p->ys, error))
    return node_prefix (node, error);
  node->scratch = tl_conv2d_scratch_size (&p->cp, p->xs, p->ys);
  set_out4 (OUT (node, 0), x, p->ys);
  return TRUE;
}

static gboolean
conv_forward (const tl_op_ctx *c, GError **error)
{
  const conv_p *p = c->node->p;
  const float *bias = tl_node_has_input (c->node, 2) ? c->in[2] : NULL;
  if (!tl_conv2d_forward_packed (&p->cp, c->in[0], p->xs, c->in[1], p->ws, p->packed, bias,
                                 p->act, c->out[0], p->ys, c->scratch, c->node->scratch, error))
    return node_prefix (c->node, error);
  return TRUE;
}

static void
conv_pack (tl_net *net, tl_node *node)
{
  conv_p *p = node->p;
  const tl_value *w = IN (node, 1);
  (void) net;
  if (p && !p->packed && w->cdata && w->dtype == TL_DT_FLOAT)
    p->packed = tl_conv2d_pack_weights (&p->cp, p->xs, p->ys, w->cdata);
}

static void
conv_free (void *data)
{
  conv_p *p = data;
  g_free (p->packed);
  g_free (p);
}

/* Undo a fused activation on the gradient, using the output (relu and clip
 * are monotone, so lo < y < hi exactly when lo < x < hi). */
static float *
unfuse_grad (tl_activation act, const float *y, const float *dy, int64_t n)
{
  if (act.kind == TL_ACT_NONE)
    return NULL;
  float *g = g_new (float, MAX (n, 1));
  float lo = act.kind == TL_ACT_RELU ? 0.0f : act.lo;
  float hi = act.kind == TL_ACT_RELU ? INFINITY : act.hi;
  for (int64_t i = 0; i < n; i++)
    g[i] = y[i] > lo && y[i] < hi ? dy[i] : 0.0f;
  return g;
}

static gboolean
conv_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
               GError **error)
{
  const conv_p *p = c->node->p;
  if (!din[0] || !dout[0])
    return TRUE;
  int64_t ny = p->ys.n * p->ys.c * p->ys.h * p->ys.w;
  float *g = unfuse_grad (p->act, c->out[0], dout[0], ny);
  float *scratch = c->node->scratch ? g_try_new (float, c->node->scratch) : NULL;
  gboolean ok = (!c->node->scratch || scratch)
    && tl_conv2d_backward_input (&p->cp, g ? g : dout[0], p->ys, c->in[1], p->ws, din[0],
                                 p->xs, scratch, c->node->scratch, error);
  if (!ok && !(error && *error))
    g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "out of memory");
  g_free (scratch);
  g_free (g);
  return ok ? TRUE : node_prefix (c->node, error);
}

/* ------------------------------------------------------ ConvTranspose */

typedef struct {
  tl_conv_transpose_params cp;
  tl_shape4 xs, ws, ys;
} convt_p;

static gboolean
convt_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0), *w = IN (node, 1);
  convt_p *p = g_new0 (convt_p, 1);
  node->p = p;
  if (!as_shape4 (x, &p->xs) || w->ndim != x->ndim || !as_shape4 (w, &p->ws))
    return tl_node_fail (error, node, "only 1-D and 2-D transposed convolutions are supported");
  int nsp = x->ndim - 2;
  int64_t kdef[2] = { w->shape[2], nsp == 2 ? w->shape[3] : 0 };
  spatial sp;
  tl_auto_pad ap;
  if (!parse_auto_pad (node, &ap, error) || !parse_spatial (node, nsp, kdef, &sp, error))
    return FALSE;
  if (sp.k[0] != p->ws.h || sp.k[1] != p->ws.w)
    return tl_node_fail (error, node, "kernel_shape disagrees with the weight shape");
  int64_t op[2] = { 0, 0 }, os[8], v[8];
  int n = tl_node_attr_ints (node, "output_padding", v, 8);
  if (n >= 0 && n != nsp)
    return tl_node_fail (error, node, "output_padding has %d entries", n);
  for (int i = 0; i < nsp && n > 0; i++)
    op[2 - nsp + i] = v[i];
  int64_t g = tl_node_attr_int (node, "group", 1);
  if (g < 1 || g > TL_KERNEL_MAX_DIM || p->xs.c != p->ws.n || p->ws.n % g != 0)
    return tl_node_fail (error, node, "channels do not match weight '%s' and group", w->name);
  int64_t in[2] = { p->xs.h, p->xs.w };
  int no = tl_node_attr_ints (node, "output_shape", os, 8);
  if (no >= 0 && no != nsp && no != nsp + 2)
    return tl_node_fail (error, node, "output_shape has %d entries", no);
  for (int i = 0; i < 2; i++)
    {
      int64_t want = -1;
      if (no > 0 && (nsp == 2 || i == 1))
        want = os[no - nsp + (i - (2 - nsp))];
      else if (no <= 0 && ap != TL_AUTO_PAD_NOTSET && ap != TL_AUTO_PAD_VALID)
        want = in[i] * sp.s[i];
      if (ap == TL_AUTO_PAD_VALID)
        sp.pb[i] = sp.pe[i] = 0;
      /* An output_shape past what the input covers is ONNX's implicit
       * output padding: extra rows/columns at the end that get the bias. */
      int64_t natural = sp.s[i] * (in[i] - 1) + op[i] + (sp.k[i] - 1) * sp.d[i] + 1;
      if (want > natural && want - natural + op[i] < MAX (sp.s[i], sp.d[i]))
        {
          op[i] += want - natural;
          sp.pb[i] = sp.pe[i] = 0;
          want = -1;
        }
      if (want >= 0 && !tl_conv_transpose_resolve_output_size (ap, in[i], want, sp.k[i],
                                                               sp.s[i], sp.d[i], op[i],
                                                               &sp.pb[i], &sp.pe[i], error))
        return node_prefix (node, error);
    }
  p->cp.conv = (tl_conv_params) { sp.k[0], sp.k[1], sp.s[0], sp.s[1], sp.d[0], sp.d[1],
                                  sp.pb[0], sp.pb[1], sp.pe[0], sp.pe[1], g };
  p->cp.output_padding_h = op[0];
  p->cp.output_padding_w = op[1];
  int64_t cout = p->ws.c * g;
  if (tl_node_has_input (node, 2) && IN (node, 2)->numel != cout)
    return tl_node_fail (error, node, "bias has the wrong size");
  if (!tl_conv_transpose2d_output_shape (&p->cp, p->xs, cout, &p->ys, error))
    return node_prefix (node, error);
  node->scratch = tl_conv_transpose2d_scratch_size (&p->cp, p->xs, p->ys);
  set_out4 (OUT (node, 0), x, p->ys);
  return TRUE;
}

static gboolean
convt_forward (const tl_op_ctx *c, GError **error)
{
  const convt_p *p = c->node->p;
  const float *bias = tl_node_has_input (c->node, 2) ? c->in[2] : NULL;
  tl_activation none = { TL_ACT_NONE, 0, 0 };
  if (!tl_conv_transpose2d_forward (&p->cp, c->in[0], p->xs, c->in[1], p->ws, bias, none,
                                    c->out[0], p->ys, c->scratch, c->node->scratch, error))
    return node_prefix (c->node, error);
  return TRUE;
}

static gboolean
convt_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                GError **error)
{
  const convt_p *p = c->node->p;
  if (!din[0] || !dout[0])
    return TRUE;
  float *scratch = c->node->scratch ? g_new (float, c->node->scratch) : NULL;
  gboolean ok = tl_conv_transpose2d_backward_input (&p->cp, dout[0], p->ys, c->in[1], p->ws,
                                                    din[0], p->xs, scratch, c->node->scratch,
                                                    error);
  g_free (scratch);
  return ok ? TRUE : node_prefix (c->node, error);
}

/* ------------------------------------------------------------ Gemm */

typedef struct {
  tl_gemm_params gp;
  int64_t m, n;
} gemm_p;

static gboolean
gemm_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *a = IN (node, 0), *b = IN (node, 1);
  if (a->ndim != 2 || b->ndim != 2)
    return tl_node_fail (error, node, "A and B must be 2-D");
  gemm_p *p = g_new0 (gemm_p, 1);
  node->p = p;
  p->gp = tl_gemm_default_params ();
  p->gp.alpha = tl_node_attr_float (node, "alpha", 1.0f);
  p->gp.beta = tl_node_attr_float (node, "beta", 1.0f);
  p->gp.trans_a = tl_node_attr_int (node, "transA", 0) != 0;
  p->gp.trans_b = tl_node_attr_int (node, "transB", 0) != 0;
  int64_t m = p->gp.trans_a ? a->shape[1] : a->shape[0];
  int64_t ka = p->gp.trans_a ? a->shape[0] : a->shape[1];
  int64_t kb = p->gp.trans_b ? b->shape[1] : b->shape[0];
  int64_t n = p->gp.trans_b ? b->shape[0] : b->shape[1];
  if (ka != kb)
    return tl_node_fail (error, node, "inner dims differ (%" G_GINT64_FORMAT " vs %"
                         G_GINT64_FORMAT ")", ka, kb);
  if (tl_node_has_input (node, 2))
    {
      tl_value *cv = IN (node, 2);
      int64_t ys[2] = { m, n }, bs[2];
      int bn;
      if (cv->ndim > 2 || !tl_bcast_shape (2, ys, cv->ndim, cv->shape, &bn, bs)
          || bs[0] != m || bs[1] != n)
        return tl_node_fail (error, node, "C does not broadcast to [M, N]");
    }
  p->m = m;
  p->n = n;
  int64_t ys[2] = { m, n };
  tl_value_set_shape (OUT (node, 0), TL_DT_FLOAT, 2, ys);
  return TRUE;
}

static gboolean
gemm_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const gemm_p *p = c->node->p;
  const tl_value *a = IN (c->node, 0), *b = IN (c->node, 1);
  const tl_value *cv = tl_node_has_input (c->node, 2) ? IN (c->node, 2) : NULL;
  if (!tl_gemm (&p->gp, c->in[0], a->shape[0], a->shape[1], c->in[1], b->shape[0], b->shape[1],
                cv ? c->in[2] : NULL, cv ? cv->ndim : 0, cv ? cv->shape : NULL,
                c->out[0], p->m, p->n, error))
    return node_prefix (c->node, error);
  return TRUE;
}

static gboolean
gemm_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
               GError **error)
{
  const tl_net *net = c->net;
  const gemm_p *p = c->node->p;
  const tl_value *a = IN (c->node, 0), *b = IN (c->node, 1);
  if (!dout[0])
    return TRUE;
  if (din[2])
    {
      /* dC: dy summed over the broadcast dims of C */
      const tl_value *cv = IN (c->node, 2);
      int64_t st[TL_MAX_DIMS], ys[2] = { p->m, p->n };
      memset (din[2], 0, (size_t) cv->numel * sizeof (float));
      tl_bcast_strides (2, ys, cv->ndim, cv->shape, st);
      for (int64_t i = 0; i < p->m; i++)
        for (int64_t j = 0; j < p->n; j++)
          din[2][i * st[0] + j * st[1]] += p->gp.beta * dout[0][i * p->n + j];
    }
  if (!din[0] && !din[1])
    return TRUE;
  if (!tl_gemm_backward (&p->gp, c->in[0], a->shape[0], a->shape[1], c->in[1], b->shape[0],
                         b->shape[1], dout[0], p->m, p->n, din[0], din[1], error))
    return node_prefix (c->node, error);
  return TRUE;
}

/* ------------------------------------------------------------ MatMul */

static gboolean
matmul_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *a = IN (node, 0), *b = IN (node, 1);
  int yn;
  int64_t ys[TL_MAX_DIMS];
  if (!tl_matmul_output_shape (a->ndim, a->shape, b->ndim, b->shape, &yn, ys, error))
    return node_prefix (node, error);
  tl_value_set_shape (OUT (node, 0), TL_DT_FLOAT, yn, ys);
  return TRUE;
}

static gboolean
matmul_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const tl_value *a = IN (c->node, 0), *b = IN (c->node, 1), *y = OUT (c->node, 0);
  if (!tl_matmul (c->in[0], a->ndim, a->shape, c->in[1], b->ndim, b->shape, c->out[0],
                  y->ndim, y->shape, error))
    return node_prefix (c->node, error);
  return TRUE;
}

static gboolean
matmul_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                 GError **error)
{
  const tl_net *net = c->net;
  const tl_value *a = IN (c->node, 0), *b = IN (c->node, 1), *y = OUT (c->node, 0);
  if (!dout[0] || (!din[0] && !din[1]))
    return TRUE;
  if (!tl_matmul_backward (c->in[0], a->ndim, a->shape, c->in[1], b->ndim, b->shape, dout[0],
                           y->ndim, y->shape, din[0], din[1], error))
    return node_prefix (c->node, error);
  return TRUE;
}

/* ------------------------------------------------------------ pools */

typedef struct {
  tl_pool_params pp;
  tl_shape4 xs, ys;
  gboolean max;
} pool_p;

static gboolean
pool_infer_kind (tl_net *net, tl_node *node, gboolean max, GError **error)
{
  tl_value *x = IN (node, 0);
  pool_p *p = g_new0 (pool_p, 1);
  node->p = p;
  p->max = max;
  if (!as_shape4 (x, &p->xs))
    return tl_node_fail (error, node, "only 1-D and 2-D pooling is supported");
  for (int k = 1; k < node->n_out; k++)
    if (node->out[k] >= 0)
      return tl_node_fail (error, node, "the Indices output is not supported");
  if (max && tl_node_attr_int (node, "storage_order", 0) != 0)
    return tl_node_fail (error, node, "storage_order 1 is not supported");
  spatial sp;
  tl_auto_pad ap;
  if (!parse_auto_pad (node, &ap, error) || !parse_spatial (node, x->ndim - 2, NULL, &sp, error))
    return FALSE;
  if (!resolve_pads (node, ap, p->xs, &sp, error))
    return node_prefix (node, error);
  p->pp = tl_pool_default_params ();
  p->pp = (tl_pool_params) { sp.k[0], sp.k[1], sp.s[0], sp.s[1], sp.d[0], sp.d[1],
                             sp.pb[0], sp.pb[1], sp.pe[0], sp.pe[1],
                             tl_node_attr_int (node, "ceil_mode", 0) != 0,
                             tl_node_attr_int (node, "count_include_pad", 0) != 0 };
  if (!tl_pool_output_shape (&p->pp, p->xs, &p->ys, error))
    return node_prefix (node, error);
  set_out4 (OUT (node, 0), x, p->ys);
  return TRUE;
}

static gboolean
maxpool_infer (tl_net *net, tl_node *node, GError **error)
{
  return pool_infer_kind (net, node, TRUE, error);
}

static gboolean
avgpool_infer (tl_net *net, tl_node *node, GError **error)
{
  return pool_infer_kind (net, node, FALSE, error);
}

static gboolean
pool_forward (const tl_op_ctx *c, GError **error)
{
  const pool_p *p = c->node->p;
  gboolean ok = p->max ? tl_maxpool_forward (&p->pp, c->in[0], p->xs, c->out[0], p->ys, NULL, error)
                       : tl_avgpool_forward (&p->pp, c->in[0], p->xs, c->out[0], p->ys, error);
  return ok ? TRUE : node_prefix (c->node, error);
}

static gboolean
pool_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
               GError **error)
{
  const pool_p *p = c->node->p;
  if (!din[0] || !dout[0])
    return TRUE;
  gboolean ok;
  if (p->max)
    {
      /* recompute the winners rather than storing them on every forward */
      int64_t ny = p->ys.n * p->ys.c * p->ys.h * p->ys.w;
      int64_t *arg = g_new (int64_t, MAX (ny, 1));
      float *tmp = g_new (float, MAX (ny, 1));
      ok = tl_maxpool_forward (&p->pp, c->in[0], p->xs, tmp, p->ys, arg, error)
        && tl_maxpool_backward (&p->pp, dout[0], p->ys, arg, din[0], p->xs, error);
      g_free (arg);
      g_free (tmp);
    }
  else
    ok = tl_avgpool_backward (&p->pp, dout[0], p->ys, din[0], p->xs, error);
  return ok ? TRUE : node_prefix (c->node, error);
}

/* Global pools over any rank >= 3: [N, C, spatial...] as [N, C, S, 1]. */
static gboolean
gpool_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  if (x->ndim < 3)
    return tl_node_fail (error, node, "input must have rank >= 3");
  int64_t s[TL_MAX_DIMS];
  for (int d = 0; d < x->ndim; d++)
    s[d] = d < 2 ? x->shape[d] : 1;
  tl_value_set_shape (OUT (node, 0), TL_DT_FLOAT, x->ndim, s);
  return TRUE;
}

/* N x C x (all spatial dims flattened) x 1: the view under which global
 * pooling and batch normalisation treat a tensor of any rank >= 3. */
static tl_shape4
nc_flat_shape (const tl_value *x)
{
  return (tl_shape4) { x->shape[0], x->shape[1], tl_shape_numel (x->ndim - 2, x->shape + 2), 1 };
}

static gboolean
gap_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  (void) error;
  tl_global_avgpool_forward (c->in[0], nc_flat_shape (IN (c->node, 0)), c->out[0]);
  return TRUE;
}

static gboolean
gap_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
              GError **error)
{
  const tl_net *net = c->net;
  (void) error;
  if (din[0] && dout[0])
    tl_global_avgpool_backward (dout[0], din[0], nc_flat_shape (IN (c->node, 0)));
  return TRUE;
}

static gboolean
gmp_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  (void) error;
  tl_global_maxpool_forward (c->in[0], nc_flat_shape (IN (c->node, 0)), c->out[0], NULL);
  return TRUE;
}

static gboolean
gmp_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
              GError **error)
{
  const tl_net *net = c->net;
  (void) error;
  if (!din[0] || !dout[0])
    return TRUE;
  tl_shape4 xs = nc_flat_shape (IN (c->node, 0));
  int64_t *arg = g_new (int64_t, MAX (xs.n * xs.c, 1));
  float *tmp = g_new (float, MAX (xs.n * xs.c, 1));
  tl_global_maxpool_forward (c->in[0], xs, tmp, arg);
  tl_global_maxpool_backward (dout[0], arg, din[0], xs);
  g_free (arg);
  g_free (tmp);
  return TRUE;
}

/* ------------------------------------------------------- Resize/Upsample */

typedef struct {
  tl_resize_params rp;
  tl_shape4 xs, ys;
} resize_p;

static gboolean
resize_mode (const tl_node *node, tl_resize_mode *m, GError **error)
{
  const char *mode = tl_node_attr_str (node, "mode", "nearest");
  if (strcmp (mode, "nearest") == 0)
    *m = TL_RESIZE_NEAREST;
  else if (strcmp (mode, "linear") == 0 || strcmp (mode, "bilinear") == 0)
    *m = TL_RESIZE_LINEAR;
  else
    return tl_node_fail (error, node, "mode '%s' is not supported", mode);
  return TRUE;
}

/* Shared tail: N and C scales must be 1; H and W from sizes or scales. */
static gboolean
resize_finish (tl_net *net, tl_node *node, resize_p *p, const float *scales, int n_scales,
               const int64_t *sizes, int n_sizes, GError **error)
{
  tl_value *x = IN (node, 0);
  if (x->ndim != 4)
    return tl_node_fail (error, node, "only 4-D (NCHW) inputs are supported");
  p->xs = (tl_shape4) { x->shape[0], x->shape[1], x->shape[2], x->shape[3] };
  p->ys = p->xs;
  if (n_sizes > 0)
    {
      /* Exporters bake the traced batch (1) into constant sizes; run at a
       * larger batch (tl_net_load_batch), N = 1 there means "keep N". N is
       * never resampled here (that is an error below), so this reading
       * changes no result, it only lets such graphs load at batch > 1. */
      int64_t n = n_sizes == 4 ? sizes[0] : -1;
      if (n == 1 && x->shape[0] > 1 && net->n_inputs > 0
          && NV (net, net->inputs[0])->ndim > 0
          && NV (net, net->inputs[0])->shape[0] == x->shape[0])
        n = x->shape[0];
      if (n_sizes != 4 || n != x->shape[0] || sizes[1] != x->shape[1])
        return tl_node_fail (error, node, "sizes must have 4 entries keeping N and C");
      if (sizes[2] < 1 || sizes[3] < 1 || sizes[2] > TL_KERNEL_MAX_DIM
          || sizes[3] > TL_KERNEL_MAX_DIM)
        return tl_node_fail (error, node, "sizes out of range");
      p->ys.h = sizes[2];
      p->ys.w = sizes[3];
      p->rp.scale_h = p->rp.scale_w = 0;
    }
  else
    {
      if (n_scales != 4 || scales[0] != 1.0f || scales[1] != 1.0f)
        return tl_node_fail (error, node, "scales must have 4 entries with 1 for N and C");
      for (int i = 2; i < 4; i++)
        if (!(scales[i] > 0.0f) || !(scales[i] * (double) x->shape[i] <= TL_KERNEL_MAX_DIM))
          return tl_node_fail (error, node, "scale %g out of range", scales[i]);
      p->ys.h = (int64_t) floor (x->shape[2] * (double) scales[2]);
      p->ys.w = (int64_t) floor (x->shape[3] * (double) scales[3]);
      if (p->ys.h < 1 || p->ys.w < 1)
        return tl_node_fail (error, node, "scales give an empty output");
      p->rp.scale_h = scales[2];
      p->rp.scale_w = scales[3];
    }
  int64_t ys[4] = { p->ys.n, p->ys.c, p->ys.h, p->ys.w };
  tl_value_set_shape (OUT (node, 0), TL_DT_FLOAT, 4, ys);
  return TRUE;
}

static gboolean
resize_infer (tl_net *net, tl_node *node, GError **error)
{
  resize_p *p = g_new0 (resize_p, 1);
  node->p = p;
  tl_resize_mode mode;
  if (!resize_mode (node, &mode, error))
    return FALSE;
  float scales[8];
  int64_t sizes[8];
  int ns = 0, nz = 0;
  if (net->opset < 11)
    {
      p->rp = tl_resize_upsample_params (mode, 1, 1);
      ns = tl_node_const_floats (net, node, 1, scales, 8, error);
      if (ns < 0)
        return FALSE;
      return resize_finish (net, node, p, scales, ns, NULL, 0, error);
    }
  p->rp = tl_resize_default_params ();
  p->rp.mode = mode;
  const char *ct = tl_node_attr_str (node, "coordinate_transformation_mode", "half_pixel");
  static const struct { const char *n; tl_resize_coord c; } cts[] = {
    { "half_pixel", TL_RESIZE_HALF_PIXEL }, { "pytorch_half_pixel", TL_RESIZE_PYTORCH_HALF_PIXEL },
    { "asymmetric", TL_RESIZE_ASYMMETRIC }, { "align_corners", TL_RESIZE_ALIGN_CORNERS },
    { "tf_half_pixel_for_nn", TL_RESIZE_TF_HALF_PIXEL_FOR_NN }, { NULL, 0 } };
  int i;
  for (i = 0; cts[i].n && strcmp (cts[i].n, ct) != 0; i++)
    ;
  if (!cts[i].n)
    return tl_node_fail (error, node, "coordinate_transformation_mode '%s' is not supported", ct);
  p->rp.coord = cts[i].c;
  const char *nm = tl_node_attr_str (node, "nearest_mode", "round_prefer_floor");
  static const struct { const char *n; tl_resize_nearest m; } nms[] = {
    { "round_prefer_floor", TL_RESIZE_ROUND_PREFER_FLOOR },
    { "round_prefer_ceil", TL_RESIZE_ROUND_PREFER_CEIL },
    { "floor", TL_RESIZE_FLOOR }, { "ceil", TL_RESIZE_CEIL }, { NULL, 0 } };
  for (i = 0; nms[i].n && strcmp (nms[i].n, nm) != 0; i++)
    ;
  if (!nms[i].n)
    return tl_node_fail (error, node, "nearest_mode '%s' is not supported", nm);
  p->rp.nearest = nms[i].m;
  if (tl_node_attr (node, "axes"))
    return tl_node_fail (error, node, "the axes attribute is not supported");
  if (tl_node_attr_int (node, "antialias", 0) != 0)
    return tl_node_fail (error, node, "antialias is not supported");
  if (strcmp (tl_node_attr_str (node, "keep_aspect_ratio_policy", "stretch"), "stretch") != 0)
    return tl_node_fail (error, node, "keep_aspect_ratio_policy is not supported");
  if (tl_node_has_input (node, 2) && IN (node, 2)->numel > 0)
    {
      ns = tl_node_const_floats (net, node, 2, scales, 8, error);
      if (ns < 0)
        return FALSE;
    }
  if (tl_node_has_input (node, 3) && IN (node, 3)->numel > 0)
    {
      nz = tl_node_const_ints (net, node, 3, sizes, 8, error);
      if (nz < 0)
        return FALSE;
    }
  if ((ns > 0) == (nz > 0))
    return tl_node_fail (error, node, "exactly one of scales and sizes must be given");
  return resize_finish (net, node, p, scales, ns, sizes, nz, error);
}

static gboolean
upsample_infer (tl_net *net, tl_node *node, GError **error)
{
  resize_p *p = g_new0 (resize_p, 1);
  node->p = p;
  tl_resize_mode mode;
  if (!resize_mode (node, &mode, error))
    return FALSE;
  float scales[8];
  int ns;
  if (tl_node_has_input (node, 1))
    ns = tl_node_const_floats (net, node, 1, scales, 8, error);
  else
    {
      const tl_attr *a = tl_node_attr (node, "scales");
      ns = a && a->type == TL_ATTR_FLOATS ? MIN (a->n, 8) : 0;
      for (int i = 0; i < ns; i++)
        scales[i] = a->floats[i];
    }
  if (ns < 0)
    return FALSE;
  p->rp = tl_resize_upsample_params (mode, 1, 1);
  return resize_finish (net, node, p, scales, ns, NULL, 0, error);
}

static gboolean
resize_forward (const tl_op_ctx *c, GError **error)
{
  const resize_p *p = c->node->p;
  if (!tl_resize_forward (&p->rp, c->in[0], p->xs, c->out[0], p->ys, error))
    return node_prefix (c->node, error);
  return TRUE;
}

static gboolean
resize_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                 GError **error)
{
  const resize_p *p = c->node->p;
  if (din[0] && dout[0] && !tl_resize_backward (&p->rp, dout[0], p->ys, din[0], p->xs, error))
    return node_prefix (c->node, error);
  return TRUE;
}

/* ---------------------------------------------------- BatchNormalization */

static gboolean
bn_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  if (node->n_in != 5)
    return tl_node_fail (error, node, "needs 5 inputs");
  if (tl_node_attr_int (node, "training_mode", 0) != 0)
    return tl_node_fail (error, node, "training mode is not supported");
  for (int k = 1; k < node->n_out; k++)
    if (node->out[k] >= 0)
      return tl_node_fail (error, node, "training outputs are not supported");
  if (x->ndim < 2)
    return tl_node_fail (error, node, "input must have rank >= 2");
  for (int k = 1; k < 5; k++)
    if (IN (node, k)->numel != x->shape[1])
      return tl_node_fail (error, node, "'%s' must have %" G_GINT64_FORMAT " entries",
                           IN (node, k)->name, x->shape[1]);
  if (!(tl_node_attr_float (node, "epsilon", 1e-5f) >= 0))
    return tl_node_fail (error, node, "epsilon must be >= 0");
  tl_value_set_shape (OUT (node, 0), TL_DT_FLOAT, x->ndim, x->shape);
  return TRUE;
}

static gboolean
bn_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  float eps = tl_node_attr_float (c->node, "epsilon", 1e-5f);
  if (!tl_batchnorm_forward (c->in[0], nc_flat_shape (IN (c->node, 0)), c->in[1], c->in[2], c->in[3],
                             c->in[4], eps, c->out[0], error))
    return node_prefix (c->node, error);
  return TRUE;
}

static gboolean
bn_backward (const tl_op_ctx *c, const float *const *dout, float *const *din, GError **error)
{
  const tl_net *net = c->net;
  float eps = tl_node_attr_float (c->node, "epsilon", 1e-5f);
  if (din[0] && dout[0]
      && !tl_batchnorm_backward (dout[0], nc_flat_shape (IN (c->node, 0)), c->in[1], c->in[4], eps,
                                 din[0], error))
    return node_prefix (c->node, error);
  return TRUE;
}

/* ------------------------------------------------------------ Softmax */

typedef struct {
  int64_t outer, len, inner;
} softmax_p;

static gboolean
softmax_infer (tl_net *net, tl_node *node, GError **error)
{
  tl_value *x = IN (node, 0);
  int axis;
  int64_t dflt = net->opset >= 13 ? -1 : 1;
  if (!tl_axis_norm (tl_node_attr_int (node, "axis", dflt), MAX (x->ndim, 1), &axis))
    return tl_node_fail (error, node, "axis out of range");
  softmax_p *p = g_new0 (softmax_p, 1);
  node->p = p;
  p->outer = tl_shape_numel (axis, x->shape);
  if (net->opset >= 13)
    {
      p->len = x->ndim ? x->shape[axis] : 1;
      p->inner = tl_shape_numel (x->ndim - axis - 1, x->shape + axis + 1);
    }
  else
    {
      p->len = tl_shape_numel (x->ndim - axis, x->shape + axis);
      p->inner = 1;
    }
  tl_value_set_shape (OUT (node, 0), TL_DT_FLOAT, x->ndim, x->shape);
  return TRUE;
}

static gboolean
softmax_forward (const tl_op_ctx *c, GError **error)
{
  const softmax_p *p = c->node->p;
  if (p->outer * p->len * p->inner == 0)
    return TRUE;
  if (!tl_softmax_forward (c->in[0], p->outer, p->len, p->inner, c->out[0], error))
    return node_prefix (c->node, error);
  return TRUE;
}

static gboolean
softmax_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                  GError **error)
{
  const softmax_p *p = c->node->p;
  if (din[0] && dout[0] && p->outer * p->len * p->inner > 0
      && !tl_softmax_backward (c->out[0], dout[0], p->outer, p->len, p->inner, din[0], error))
    return node_prefix (c->node, error);
  return TRUE;
}

const tl_op tl_ops_heavy[] = {
  { .name = "Conv", .n_in_min = 2, .infer = conv_infer, .forward = conv_forward,
    .backward = conv_backward, .pack = conv_pack, .free_p = conv_free },
  { .name = "ConvTranspose", .n_in_min = 2, .infer = convt_infer, .forward = convt_forward,
    .backward = convt_backward },
  { .name = "Gemm", .n_in_min = 2, .infer = gemm_infer, .forward = gemm_forward, .backward = gemm_backward },
  { .name = "MatMul", .n_in_min = 2, .infer = matmul_infer, .forward = matmul_forward,
    .backward = matmul_backward },
  { .name = "MaxPool", .infer = maxpool_infer, .forward = pool_forward,
    .backward = pool_backward },
  { .name = "AveragePool", .infer = avgpool_infer, .forward = pool_forward,
    .backward = pool_backward },
  { .name = "GlobalAveragePool", .infer = gpool_infer, .forward = gap_forward,
    .backward = gap_backward },
  { .name = "GlobalMaxPool", .infer = gpool_infer, .forward = gmp_forward,
    .backward = gmp_backward },
  { .name = "Resize", .infer = resize_infer, .forward = resize_forward, .const_inputs = 0xe,
    .backward = resize_backward },
  { .name = "Upsample", .infer = upsample_infer, .forward = resize_forward, .const_inputs = 2,
    .backward = resize_backward },
  { .name = "BatchNormalization", .n_in_min = 5, .infer = bn_infer, .forward = bn_forward, .const_inputs = 0x1e,
    .backward = bn_backward, .inplace = TRUE },
  { .name = "Softmax", .infer = softmax_infer, .forward = softmax_forward,
    .backward = softmax_backward, .inplace = TRUE },
  { .name = NULL },
};

gboolean
tl_conv_pair_ok (const tl_net *net, const tl_node *a, const tl_node *b)
{
  if (a->op->forward != conv_forward || b->op->forward != conv_forward || !a->p || !b->p
      || a->n_out != 1 || b->n_out != 1 || a->out[0] < 0 || b->out[0] < 0
      || b->in[0] != a->out[0])
    return FALSE;
  const conv_p *pa = a->p, *pb = b->p;
  const tl_value *mid = NV (net, a->out[0]);
  /* a: one group; b: depthwise; nothing else reads what a writes (not
   * even b's weights or bias: that tensor is never stored) */
  for (int k = 1; k < b->n_in; k++)
    if (b->in[k] == a->out[0])
      return FALSE;
  return mid->n_consumers == 1 && mid->output_index < 0 && mid->concat_into < 0
         && pb->cp.groups == pb->xs.c && pb->xs.c == pb->ys.c
         && memcmp (&pb->xs, &pa->ys, sizeof pb->xs) == 0
         && tl_conv2d_pair_fits (&pa->cp, pa->xs, pa->ys.c, &pb->cp);
}

gboolean
tl_conv_pair_forward (const tl_op_ctx *a, const tl_op_ctx *b, GError **error)
{
  const conv_p *pa = a->node->p, *pb = b->node->p;
  const float *ba = tl_node_has_input (a->node, 2) ? a->in[2] : NULL;
  const float *bb = tl_node_has_input (b->node, 2) ? b->in[2] : NULL;
  if (!tl_conv2d_pair_forward (a->in[0], pa->xs, &pa->cp, a->in[1], pa->ys.c, ba, pa->act,
                               &pb->cp, b->in[1], bb, pb->act, b->out[0], pb->ys, a->scratch,
                               a->node->scratch, error))
    return node_prefix (b->node, error);
  return TRUE;
}

/* Lets Conv apply act itself (one pass over the output instead of two). */
gboolean
tl_conv_fuse_activation (tl_node *conv, tl_activation act)
{
  if (conv->op->forward != conv_forward || !conv->p)
    return FALSE;
  conv_p *p = conv->p;
  if (p->act.kind != TL_ACT_NONE)
    return FALSE;
  p->act = act;
  return TRUE;
}
