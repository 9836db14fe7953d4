/* Elementwise ops: activations (one input) and NumPy-broadcast binary /
 * variadic arithmetic, with their gradients. Integer versions of the
 * arithmetic exist only for load-time shape computations. */
#include "nn-util.h"
#include "kernels.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ unary */

/* e^x for float32 without a libm call, so loops over it vectorise:
 * Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2 (n rounded with
 * the 1.5*2^23 trick, no floorf call), then the Cephes polynomial for e^r
 * (relative error below 1e-7 over the whole range), scaled by 2^n through
 * the exponent bits. x is clamped to [-87.3, 88]: results stay normal and
 * finite (never denormal or inf); NaN stays NaN. */
static inline float
fast_expf (float x)
{
  if (x != x)
    return x; /* NaN in, NaN out (as expf); the clamps below let it through
               * and (int32_t) NaN is undefined (found by the fuzzer) */
  x = x < -87.3365447505531f ? -87.3365447505531f : x;
  x = x > 88.0f ? 88.0f : x;
  float t = x * 1.44269504088896341f + 12582912.0f;
  float n = t - 12582912.0f;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  union { int32_t i; float f; } scale = { .i = ((int32_t) n + 127) << 23 };
  return y * scale.f;
}

typedef enum {
  U_RELU, U_LEAKY, U_CLIP, U_SIGMOID, U_TANH, U_HSIGMOID, U_HSWISH,
  U_EXP, U_LOG, U_SQRT, U_NEG, U_ABS, U_RECIP, U_ERF, U_ELU, U_SOFTPLUS,
} unary_kind;

typedef struct {
  unary_kind kind;
  float a, b;     /* alpha/beta, or clip lo/hi */
} unary_p;

static gboolean
unary_infer_kind (tl_net *net, tl_node *node, unary_kind kind, GError **error)
{
  tl_value *x = IN (node, 0);
  if (node->n_in < 1 || node->n_out < 1)
    return tl_node_fail (error, node, "needs one input and one output");
  if (x->dtype != TL_DT_FLOAT)
    return tl_node_fail (error, node, "input must be float");
  unary_p *p = g_new0 (unary_p, 1);
  node->p = p;
  p->kind = kind;
  switch (kind)
    {
    case U_LEAKY: p->a = tl_node_attr_float (node, "alpha", 0.01f); break;
    case U_ELU: p->a = tl_node_attr_float (node, "alpha", 1.0f); break;
    case U_HSIGMOID:
      p->a = tl_node_attr_float (node, "alpha", 0.2f);
      p->b = tl_node_attr_float (node, "beta", 0.5f);
      break;
    case U_CLIP:
      p->a = -INFINITY;
      p->b = INFINITY;
      if (net->opset < 11)
        {
          p->a = tl_node_attr_float (node, "min", -INFINITY);
          p->b = tl_node_attr_float (node, "max", INFINITY);
        }
      else
        {
          float v;
          if (tl_node_has_input (node, 1)
              && tl_node_const_floats (net, node, 1, &v, 1, error) != 1)
            return error && *error ? FALSE : tl_node_fail (error, node, "min must be a scalar");
          else if (tl_node_has_input (node, 1))
            p->a = v;
          if (tl_node_has_input (node, 2)
              && tl_node_const_floats (net, node, 2, &v, 1, error) != 1)
            return error && *error ? FALSE : tl_node_fail (error, node, "max must be a scalar");
          else if (tl_node_has_input (node, 2))
            p->b = v;
        }
      break;
    default: break;
    }
  tl_value_set_shape (OUT (node, 0), TL_DT_FLOAT, x->ndim, x->shape);
  return TRUE;
}

#define UNARY_INFER(fn, K) \
  static gboolean fn (tl_net *net, tl_node *node, GError **error) \
  { return unary_infer_kind (net, node, K, error); }
UNARY_INFER (relu_infer, U_RELU)
UNARY_INFER (leaky_infer, U_LEAKY)
UNARY_INFER (clip_infer, U_CLIP)
UNARY_INFER (sigmoid_infer, U_SIGMOID)
UNARY_INFER (tanh_infer, U_TANH)
UNARY_INFER (hsigmoid_infer, U_HSIGMOID)
UNARY_INFER (hswish_infer, U_HSWISH)
UNARY_INFER (exp_infer, U_EXP)
UNARY_INFER (log_infer, U_LOG)
UNARY_INFER (sqrt_infer, U_SQRT)
UNARY_INFER (neg_infer, U_NEG)
UNARY_INFER (abs_infer, U_ABS)
UNARY_INFER (recip_infer, U_RECIP)
UNARY_INFER (erf_infer, U_ERF)
UNARY_INFER (elu_infer, U_ELU)
UNARY_INFER (softplus_infer, U_SOFTPLUS)

static gboolean
unary_forward (const tl_op_ctx *c, GError **error)
{
  const unary_p *p = c->node->p;
  const float *x = c->in[0];
  float *y = c->out[0];
  int64_t n = NV (c->net, c->node->in[0])->numel;
  float a = p->a, b = p->b;
  (void) error;
  switch (p->kind)
    {
    case U_RELU:
      for (int64_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
    case U_LEAKY:
      for (int64_t i = 0; i < n; i++)
        y[i] = x[i] >= 0.0f ? x[i] : a * x[i];
      break;
    case U_CLIP:
      for (int64_t i = 0; i < n; i++)
        y[i] = x[i] < a ? a : (x[i] > b ? b : x[i]);
      break;
    case U_SIGMOID:
      /* 1/(1 + e^-x) is safe on both tails (e^-x is at most ~1.7e38); a
       * result below the smallest normal float becomes 0, since denormals
       * would slow every op after this one to a crawl */
      for (int64_t i = 0; i < n; i++)
        {
          float v = 1.0f / (1.0f + fast_expf (-x[i]));
          y[i] = v < 1.17549435e-38f ? 0.0f : v;
        }
      break;
    case U_TANH:
      for (int64_t i = 0; i < n; i++)
        y[i] = tanhf (x[i]);
      break;
    case U_HSIGMOID:
      for (int64_t i = 0; i < n; i++)
        y[i] = fmaxf (0.0f, fminf (1.0f, a * x[i] + b));
      break;
    case U_HSWISH:
      for (int64_t i = 0; i < n; i++)
        y[i] = x[i] * fmaxf (0.0f, fminf (1.0f, x[i] / 6.0f + 0.5f));
      break;
    case U_EXP: for (int64_t i = 0; i < n; i++) y[i] = expf (x[i]); break;  /* exact overflow to inf */
    case U_LOG: for (int64_t i = 0; i < n; i++) y[i] = logf (x[i]); break;
    case U_SQRT: for (int64_t i = 0; i < n; i++) y[i] = sqrtf (x[i]); break;
    case U_NEG: for (int64_t i = 0; i < n; i++) y[i] = -x[i]; break;
    case U_ABS: for (int64_t i = 0; i < n; i++) y[i] = fabsf (x[i]); break;
    case U_RECIP: for (int64_t i = 0; i < n; i++) y[i] = 1.0f / x[i]; break;
    case U_ERF: for (int64_t i = 0; i < n; i++) y[i] = erff (x[i]); break;
    case U_ELU:
      for (int64_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : a * expm1f (x[i]);
      break;
    case U_SOFTPLUS:
      /* log(1 + e^x) without overflow */
      for (int64_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] + log1pf (expf (-x[i])) : log1pf (expf (x[i]));
      break;
    }
  return TRUE;
}

/* Gradients follow PyTorch's choices at the kinks (relu: x > 0; clip and
 * hard* ops: strictly inside the linear part). */
static gboolean
unary_backward (const tl_op_ctx *c, const float *const *dout, float *const *din,
                GError **error)
{
  const unary_p *p = c->node->p;
  const float *x = c->in[0], *y = c->out[0], *dy = dout[0];
  float *dx = din[0];
  int64_t n = NV (c->net, c->node->in[0])->numel;
  float a = p->a, b = p->b;
  (void) error;
  if (!dx || !dy)
    return TRUE;
  for (int64_t i = 0; i < n; i++)
    {
      float g;
      switch (p->kind)
        {
        case U_RELU: g = x[i] > 0.0f; break;
        case U_LEAKY: g = x[i] > 0.0f ? 1.0f : a; break;
        case U_CLIP: g = x[i] > a && x[i] < b; break;
        case U_SIGMOID: g = y[i] * (1.0f - y[i]); break;
        case U_TANH: g = 1.0f - y[i] * y[i]; break;
        case U_HSIGMOID:
          {
            float t = a * x[i] + b;
            g = t > 0.0f && t < 1.0f ? a : 0.0f;
            break;
          }
        case U_HSWISH:
          g = x[i] < -3.0f ? 0.0f : x[i] > 3.0f ? 1.0f : (2.0f * x[i] + 3.0f) / 6.0f;
          break;
        case U_EXP: g = y[i]; break;
        case U_LOG: g = 1.0f / x[i]; break;
        case U_SQRT: g = y[i] > 0.0f ? 0.5f / y[i] : 0.0f; break;
        case U_NEG: g = -1.0f; break;
        case U_ABS: g = x[i] > 0.0f ? 1.0f : x[i] < 0.0f ? -1.0f : 0.0f; break;
        case U_RECIP: g = -y[i] * y[i]; break;
        case U_ERF: g = 1.1283791670955126f * expf (-x[i] * x[i]); break;
        case U_ELU: g = x[i] > 0.0f ? 1.0f : y[i] + a; break;
        case U_SOFTPLUS: g = 1.0f / (1.0f + expf (-x[i])); break;
        default: g = 0;
        }
      dx[i] = dy[i] * g;
    }
  return TRUE;
}

/* ------------------------------------------------------- broadcast */

typedef enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_PRELU, B_SUM, B_MEAN, B_POW } bin_kind;

typedef struct {
  bin_kind kind;
} bin_p;

static gboolean
bin_infer_kind (tl_net *net, tl_node *node, bin_kind kind, GError **error)
{
  if (node->n_in < 1 || node->n_out < 1 || node->out[0] < 0)
    return tl_node_fail (error, node, "needs inputs and an output");
  if ((kind <= B_DIV || kind == B_PRELU || kind == B_POW) && node->n_in != 2)
    return tl_node_fail (error, node, "needs exactly two inputs");
  int yn = 0;
  int64_t ys[TL_MAX_DIMS];
  tl_dtype dt = IN (node, 0)->dtype;
  for (int k = 0; k < node->n_in; k++)
    {
      if (node->in[k] < 0)
        return tl_node_fail (error, node, "input %d is missing", k);
      tl_value *x = IN (node, k);
      if (x->dtype != dt)
        return tl_node_fail (error, node, "inputs have different element types");
      if (k == 0)
        {
          yn = x->ndim;
          memcpy (ys, x->shape, sizeof ys);
        }
      else if (!tl_bcast_shape (yn, ys, x->ndim, x->shape, &yn, ys))
        {
          char a[128], b[128];
          return tl_node_fail (error, node, "shapes %s and %s do not broadcast",
                               tl_shape_str (yn, ys, a, sizeof a),
                               tl_shape_str (x->ndim, x->shape, b, sizeof b));
        }
    }
  if (kind == B_PRELU)
    {
      /* slope broadcasts to x, never the other way round */
      tl_value *x = IN (node, 0);
      if (yn != x->ndim || memcmp (ys, x->shape, sizeof (int64_t) * yn) != 0)
        return tl_node_fail (error, node, "slope does not broadcast to the input shape");
      if (dt != TL_DT_FLOAT)
        return tl_node_fail (error, node, "input must be float");
    }
  bin_p *p = g_new0 (bin_p, 1);
  p->kind = kind;
  node->p = p;
  tl_value_set_shape (OUT (node, 0), dt, yn, ys);
  return TRUE;
}

#define BIN_INFER(fn, K) \
  static gboolean fn (tl_net *net, tl_node *node, GError **error) \
  { return bin_infer_kind (net, node, K, error); }
BIN_INFER (add_infer, B_ADD)
BIN_INFER (sub_infer, B_SUB)
BIN_INFER (mul_infer, B_MUL)
BIN_INFER (div_infer, B_DIV)
BIN_INFER (max_infer, B_MAX)
BIN_INFER (min_infer, B_MIN)
BIN_INFER (prelu_infer, B_PRELU)
BIN_INFER (sum_infer, B_SUM)
BIN_INFER (mean_infer, B_MEAN)
BIN_INFER (pow_infer, B_POW)

typedef struct {
  bin_kind kind;
  gboolean first;   /* row copies a into y (variadic start) */
  const void *a, *b;
  void *y;
} bin_row_ctx;

/* One loop per stride pattern so the common ones (same shape; a scalar or
 * per-channel operand) vectorise. */
#define BIN_LOOP(T, EXPR)                                                         \
  do {                                                                            \
    if (sa == 1 && sb == 1)                                                       \
      for (int64_t i = 0; i < len; i++)                                           \
        { T x_ = a[i], z_ = b[i]; y[i] = (EXPR); }                                \
    else if (sa == 1 && sb == 0)                                                  \
      {                                                                           \
        T z_ = b[0];                                                              \
        for (int64_t i = 0; i < len; i++)                                         \
          { T x_ = a[i]; y[i] = (EXPR); }                                         \
      }                                                                           \
    else                                                                          \
      for (int64_t i = 0; i < len; i++)                                           \
        { T x_ = a[i * sa], z_ = b[i * sb]; y[i] = (EXPR); }                      \
  } while (0)

#define BIN_ROW(T, NAME, DIV, POW)                                                \
  static void NAME (void *vc, int64_t oy, const int64_t *off, int64_t len,        \
                    const int64_t *in)                                            \
  {                                                                               \
    bin_row_ctx *c = vc;                                                          \
    const T *a = (const T *) c->a + off[0], *b = (const T *) c->b + off[1];       \
    T *y = (T *) c->y + oy;                                                       \
    int64_t sa = in[0], sb = in[1];                                               \
    switch (c->kind)                                                              \
      {                                                                           \
      case B_ADD: case B_SUM: case B_MEAN: BIN_LOOP (T, x_ + z_); break;          \
      case B_SUB: BIN_LOOP (T, x_ - z_); break;                                   \
      case B_MUL: BIN_LOOP (T, x_ * z_); break;                                   \
      case B_DIV: BIN_LOOP (T, DIV (x_, z_)); break;                              \
      case B_MAX: BIN_LOOP (T, x_ >= z_ ? x_ : z_); break;                        \
      case B_MIN: BIN_LOOP (T, x_ <= z_ ? x_ : z_); break;                        \
      case B_PRELU: BIN_LOOP (T, x_ < 0 ? x_ * z_ : x_); break;                   \
      case B_POW: BIN_LOOP (T, POW (x_, z_)); break;                              \
      }                                                                           \
  }

#define FDIV(x, y) ((x) / (y))
/* Integer division on shape values: division by zero yields 0, never a trap. */
#define IDIV(x, y) ((y) == 0 ? 0 : ((y) == -1 ? -(x) : (x) / (y)))
#define FPOW(x, y) powf ((x), (y))
#define IPOW(x, y) ((int64_t) pow ((double) (x), (double) (y)))
BIN_ROW (float, bin_row_f, FDIV, FPOW)
BIN_ROW (int64_t, bin_row_i, IDIV, IPOW)

static gboolean
bin_forward (const tl_op_ctx *c, GError **error)
{
  const tl_net *net = c->net;
  const tl_node *node = c->node;
  const bin_p *p = node->p;
  tl_value *y = OUT (node, 0);
  gboolean isf = y->dtype == TL_DT_FLOAT;
  (void) error;
  int64_t st[2][TL_MAX_DIMS], ys_st[TL_MAX_DIMS];
  tl_c_strides (y->ndim, y->shape, ys_st);
  /* Variadic ops fold left: y = x0 op x1, then y = y op xk. */
  for (int k = 1; k < MAX (node->n_in, 2); k++)
    {
      int ka = k == 1 ? 0 : -1;
      int kb = node->n_in == 1 ? 0 : k;
      const tl_value *a = ka == 0 ? IN (node, 0) : y;
      const tl_value *b = IN (node, kb);
      bin_row_ctx rc = { p->kind, FALSE, ka == 0 ? c->in[0] : c->out[0], c->in[kb], c->out[0] };
      if (node->n_in == 1)
        {
          /* Max/Min/Sum of one input is a copy */
          memcpy (c->out[0], c->in[0], (size_t) y->numel * tl_dtype_size (y->dtype));
          break;
        }
      if (ka == 0)
        tl_bcast_strides (y->ndim, y->shape, a->ndim, a->shape, st[0]);
      else
        memcpy (st[0], ys_st, sizeof ys_st);
      tl_bcast_strides (y->ndim, y->shape, b->ndim, b->shape, st[1]);
      /* long rows: a residual Add is one row, not 14 floats at a time */
      int yn = y->ndim;
      int64_t ys[TL_MAX_DIMS];
      memcpy (ys, y->shape, sizeof ys);
      tl_bcast_merge_dims (&yn, ys, 2, st);
      tl_bcast_walk (yn, ys, 2, st, isf ? bin_row_f : bin_row_i, &rc);
    }
  if (p->kind == B_MEAN)
    {
      float *yf = c->out[0];
      for (int64_t i = 0; i < y->numel; i++)
        yf[i] /= (float) node->n_in;
    }
  return TRUE;
}

/* Gradient: walks the output once per input, accumulating into the input's
 * (zeroed) gradient through the same broadcast strides, which sums over
 * every broadcast dim. */
typedef struct {
  bin_kind kind;
  int which;
  const float *a, *b, *dy;
  float *dx;
  float scale;
} bin_grad_ctx;

static void
bin_grad_row (void *vc, int64_t oy, const int64_t *off, int64_t len, const int64_t *in)
{
  bin_grad_ctx *c = vc;
  const float *a = c->a + off[0], *b = c->b + off[1], *dy = c->dy + oy;
  float *dx = c->dx + (c->which == 0 ? off[0] : off[1]);
  int64_t sa = in[0], sb = in[1], sx = c->which == 0 ? sa : sb;
  for (int64_t i = 0; i < len; i++)
    {
      float av = a[i * sa], bv = b[i * sb], g;
      switch (c->kind)
        {
        case B_ADD: case B_SUM: g = 1; break;
        case B_MEAN: g = c->scale; break;
        case B_SUB: g = c->which == 0 ? 1 : -1; break;
        case B_MUL: g = c->which == 0 ? bv : av; break;
        case B_DIV: g = c->which == 0 ? 1 / bv : -av / (bv * bv); break;
        case B_MAX: g = c->which == 0 ? av >= bv : bv > av; break;
        case B_MIN: g = c->which == 0 ? av <= bv : bv < av; break;
        case B_PRELU: g = c->which == 0 ? (av < 0 ? bv : 1) : (av < 0 ? av : 0); break;
        case B_POW:
          if (c->which == 0)
            g = bv == 0.0f ? 0.0f : bv * powf (av, bv - 1.0f);
          else
            g = av > 0.0f ? powf (av, bv) * logf (av) : 0.0f;
          break;
        default: g = 0;
        }
      dx[i * sx] += dy[i] * g;
    }
}

static gboolean
bin_backward (const tl_op_ctx *c, const float *const *dout, float *const *din, GError **error)
{
  const tl_net *net = c->net;
  const tl_node *node = c->node;
  const bin_p *p = node->p;
  tl_value *y = OUT (node, 0);
  if (!dout[0])
    return TRUE;
  if (node->n_in == 1)
    {
      if (din[0])
        memcpy (din[0], dout[0], (size_t) y->numel * sizeof (float));
      return TRUE;
    }
  if (node->n_in > 2 && p->kind != B_SUM && p->kind != B_MEAN)
    return tl_node_fail (error, node, "gradient of Max/Min with more than two inputs is "
                         "not supported");
  for (int k = 0; k < node->n_in; k++)
    {
      if (!din[k])
        continue;
      tl_value *x = IN (node, k);
      memset (din[k], 0, (size_t) x->numel * sizeof (float));
      int64_t st[2][TL_MAX_DIMS];
      int ia = node->n_in > 2 ? k : 0, ib = node->n_in > 2 ? k : 1;
      tl_bcast_strides (y->ndim, y->shape, IN (node, ia)->ndim, IN (node, ia)->shape, st[0]);
      tl_bcast_strides (y->ndim, y->shape, IN (node, ib)->ndim, IN (node, ib)->shape, st[1]);
      bin_grad_ctx gc = { p->kind, node->n_in > 2 ? 0 : k, c->in[ia], c->in[ib], dout[0],
                          din[k], 1.0f / (float) node->n_in };
      int yn = y->ndim;
      int64_t ys[TL_MAX_DIMS];
      memcpy (ys, y->shape, sizeof ys);
      tl_bcast_merge_dims (&yn, ys, 2, st);
      tl_bcast_walk (yn, ys, 2, st, bin_grad_row, &gc);
    }
  return TRUE;
}

#define UNARY_OP(NAME, INFER) \
  { .name = NAME, .infer = INFER, .forward = unary_forward, .inplace = TRUE, \
    .backward = unary_backward }
/* In place is safe: each output element reads only the same-index element
 * of input 0 (the runtime requires input 0 to have the output's size). */
#define BIN_OP(NAME, INFER, CONST) \
  { .name = NAME, .infer = INFER, .forward = bin_forward, .const_inputs = CONST, \
    .inplace = TRUE, .backward = bin_backward }

const tl_op tl_ops_elementwise[] = {
  UNARY_OP ("Relu", relu_infer),
  UNARY_OP ("LeakyRelu", leaky_infer),
  { .name = "Clip", .infer = clip_infer, .forward = unary_forward, .const_inputs = 0x6,
    .inplace = TRUE, .backward = unary_backward },
  UNARY_OP ("Sigmoid", sigmoid_infer),
  UNARY_OP ("Tanh", tanh_infer),
  UNARY_OP ("HardSigmoid", hsigmoid_infer),
  UNARY_OP ("HardSwish", hswish_infer),
  BIN_OP ("Add", add_infer, 0),
  BIN_OP ("Sub", sub_infer, 0),
  BIN_OP ("Mul", mul_infer, 0),
  BIN_OP ("Div", div_infer, 0),
  BIN_OP ("Max", max_infer, 0),
  BIN_OP ("Min", min_infer, 0),
  BIN_OP ("Sum", sum_infer, 0),
  BIN_OP ("Mean", mean_infer, 0),
  BIN_OP ("PRelu", prelu_infer, 0),
  BIN_OP ("Pow", pow_infer, 0),
  UNARY_OP ("Exp", exp_infer),
  UNARY_OP ("Log", log_infer),
  UNARY_OP ("Sqrt", sqrt_infer),
  UNARY_OP ("Neg", neg_infer),
  UNARY_OP ("Abs", abs_infer),
  UNARY_OP ("Reciprocal", recip_infer),
  UNARY_OP ("Erf", erf_infer),
  UNARY_OP ("Elu", elu_infer),
  UNARY_OP ("Softplus", softplus_infer),
  { .name = NULL },
};

/* The kernels' fused form of a Relu or Clip node, for Conv fusion. */
gboolean
tl_unary_as_activation (const tl_node *node, tl_activation *act)
{
  if (node->op->forward != unary_forward || !node->p)
    return FALSE;
  const unary_p *p = node->p;
  if (p->kind == U_RELU)
    *act = (tl_activation) { TL_ACT_RELU, 0, 0 };
  else if (p->kind == U_CLIP && p->a < p->b)
    *act = (tl_activation) { TL_ACT_CLIP, p->a, p->b };
  else
    return FALSE;
  return TRUE;
}
