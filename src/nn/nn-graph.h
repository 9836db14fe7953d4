/* Internal representation of a loaded net: values (tensors) and nodes, plus
 * the op table. Private to src/nn; the public face is tl-net.h. */
#pragma once
#include "tl-net.h"
#include "error.h"

/* Element types a value can hold. Runtime values are always float32; int64
 * only ever lives in constants (shape arithmetic, folded at load time). */
typedef enum { TL_DT_FLOAT = 1, TL_DT_INT64 = 7 } tl_dtype;

static inline size_t
tl_dtype_size (tl_dtype dt)
{
  return dt == TL_DT_INT64 ? 8 : 4;
}

typedef struct {
  char    *name;
  tl_dtype dtype;
  int      ndim;
  int64_t  shape[TL_MAX_DIMS];
  int64_t  numel;
  int      producer;     /* node index, -1 for inputs and constants */
  int      input_index;  /* graph input index, or -1 */
  int      output_index; /* graph output index, or -1 */
  gboolean known;        /* shape inferred (or given) */
  void    *cdata;        /* constant data (owned), NULL for runtime values */
  int      n_consumers;  /* live nodes reading it */
  int      last_use;     /* position in the schedule of its last reader */
  int      info_index;   /* index into net->infos, -1 if not listed */
  int      concat_into;  /* value of the Concat output this one is written into, or -1 */
  int64_t  concat_offset;/* ... at this element offset */
} tl_value;

typedef enum {
  TL_ATTR_FLOAT = 1, TL_ATTR_INT = 2, TL_ATTR_STRING = 3, TL_ATTR_TENSOR = 4,
  TL_ATTR_FLOATS = 6, TL_ATTR_INTS = 7, TL_ATTR_OTHER = 99,
} tl_attr_type;

typedef struct {
  char        *name;
  tl_attr_type type;
  int64_t      i;
  float        f;
  char        *s;
  int          n;       /* number of ints or floats */
  int64_t     *ints;
  float       *floats;
  int          tensor;  /* value index of a TENSOR attribute, -1 otherwise */
} tl_attr;

typedef struct tl_op tl_op;

typedef struct {
  char        *name;
  char        *op_type;
  const tl_op *op;
  int          n_in, n_out;
  int         *in;       /* value indices, -1 for an omitted optional input */
  int         *out;
  int          n_attr;
  tl_attr     *attr;
  void        *p;        /* op-specific parameters parsed by infer */
  size_t       scratch;  /* floats of workspace its forward/backward need */
  gboolean     live;     /* FALSE once folded away */
  gboolean     pair_next;/* may run as one with the next node in order, when
                          * the value between them is not kept (tl_conv_pair_ok) */
} tl_node;

struct tl_net {
  char      *name;       /* file name, for messages */
  int        opset;
  GPtrArray *values;     /* tl_value* */
  GHashTable *by_name;   /* name -> GINT_TO_POINTER (index + 1) */
  tl_node   *nodes;
  int        n_nodes;
  int       *order;      /* live nodes in execution order */
  int        n_order;
  int       *inputs;     /* value indices of the runtime graph inputs */
  int        n_inputs;
  int       *outputs;
  int        n_outputs;
  tl_net_tensor_info *infos;   /* runtime tensors, inputs first */
  int        n_infos;
  char      *default_layer;
  GPtrArray *pool;       /* free activation buffers kept between runs */
  size_t     pool_bytes; /* bytes of every activation buffer the net allocated */
  gint64    *prof_usec;  /* per node: wall time summed over runs, NULL = off */
  int        prof_runs;
  int       *prof_paired;/* per node: runs in which it ran with the next (run_pair) */
};

/* How an op takes part in the runtime. */
typedef struct {
  const tl_net *net;
  const tl_node *node;
  const void *const *in;   /* data of each input (NULL for omitted) */
  void *const *out;
  float *scratch;          /* node->scratch floats */
} tl_op_ctx;

struct tl_op {
  const char *name;
  /* Checks attributes and input shapes, sets the outputs' dtype/shape,
   * fills node->p. Inputs are known; some may be constants. */
  gboolean (*infer) (tl_net *net, tl_node *node, GError **error);
  /* Computes the outputs from the inputs. NULL for pure aliases. */
  gboolean (*forward) (const tl_op_ctx *ctx, GError **error);
  /* Input i may be given only as a constant (shape operands etc.). */
  guint32 const_inputs;
  /* Output 0 is input 0's data reinterpreted (Reshape, Identity, ...). */
  gboolean alias;
  /* Output 0 may share input 0's buffer (elementwise in place). */
  gboolean inplace;
  /* Gradient with respect to the float inputs: given dout[k] for each
   * output k (NULL if that output does not lead to the score), OVERWRITE
   * din[i] (NULL where not wanted). ctx has the forward inputs/outputs. */
  gboolean (*backward) (const tl_op_ctx *ctx, const float *const *dout, float *const *din,
                        GError **error);
  /* Reads only its inputs' shapes (Shape): always folded at load time. */
  gboolean shape_only;
  /* Inputs 0..n_in_min-1 must be present (0 means 1). */
  int n_in_min;
  /* Optional: once the graph is final (BatchNormalization folded,
   * activations fused), rearranges the node's constant weights for a faster
   * forward, keeping them in node->p. */
  void (*pack) (tl_net *net, tl_node *node);
  /* Optional: frees node->p when it owns more than its own block. */
  void (*free_p) (void *p);
};

const tl_op *tl_op_lookup (const char *op_type);

/* ---- values and attributes ---- */
static inline tl_value *
tl_net_value (const tl_net *net, int i)
{
  return g_ptr_array_index (net->values, i);
}
#define NV(net, i) tl_net_value ((net), (i))
#define IN(node, k) NV (net, (node)->in[(k)])
#define OUT(node, k) NV (net, (node)->out[(k)])

int            tl_net_add_value (tl_net *net, const char *name);
int            tl_net_value_index (const tl_net *net, const char *name);
void           tl_value_set_shape (tl_value *v, tl_dtype dt, int ndim, const int64_t *shape);
const tl_attr *tl_node_attr (const tl_node *node, const char *name);
int64_t        tl_node_attr_int (const tl_node *node, const char *name, int64_t dflt);
float          tl_node_attr_float (const tl_node *node, const char *name, float dflt);
const char    *tl_node_attr_str (const tl_node *node, const char *name, const char *dflt);
/* Number of ints in an INTS attribute (or -1 if absent); copies up to max. */
int            tl_node_attr_ints (const tl_node *node, const char *name, int64_t *dst, int max);
/* Optional input k is present */
static inline gboolean
tl_node_has_input (const tl_node *node, int k)
{
  return k < node->n_in && node->in[k] >= 0;
}
/* Reads constant input k as int64 values (from int64 or float data); fails
 * with an error naming the node if it is not a constant. Returns count or -1. */
int            tl_node_const_ints (const tl_net *net, const tl_node *node, int k,
                                   int64_t *dst, int max, GError **error);
int            tl_node_const_floats (const tl_net *net, const tl_node *node, int k,
                                     float *dst, int max, GError **error);
/* Error helpers that name the node. */
#define tl_node_fail(error, node, ...) tl_node_set_error ((error), (node), __VA_ARGS__)
gboolean       tl_node_set_error (GError **error, const tl_node *node, const char *fmt, ...)
  G_GNUC_PRINTF (3, 4);
/* Normalises a possibly negative axis against rank; FALSE if out of range. */
gboolean       tl_axis_norm (int64_t axis, int rank, int *out);

/* ---- fusion hooks of the op files ---- */
#include "kernels.h"
gboolean tl_unary_as_activation (const tl_node *node, tl_activation *act);
gboolean tl_conv_fuse_activation (tl_node *conv, tl_activation act);
/* Whether a and b (the next node) are a one-group Conv and the depthwise
 * Conv that alone reads its output, which tl_conv_pair_forward runs as one
 * without storing that output (kernels/conv-pair.c). */
gboolean tl_conv_pair_ok (const tl_net *net, const tl_node *a, const tl_node *b);
gboolean tl_conv_pair_forward (const tl_op_ctx *a, const tl_op_ctx *b, GError **error);
int64_t  tl_concat_part_offset (const tl_net *net, const tl_node *node, int k);

/* ---- graph passes (nn-graph.c) ---- */
/* Sorts, infers shapes, folds constants and BN; builds infos. */
gboolean tl_net_prepare (tl_net *net, GError **error);
void     tl_net_destroy (tl_net *net);

/* ---- TensorProto decoding (onnx-load.c), also used by tests ---- */
/* Decodes a serialized TensorProto (a test_data_set *.pb file). Float types
 * become float32; int types int64. *dtype receives which. */
void    *tl_onnx_tensor_decode (const guint8 *buf, size_t len, const char *what,
                                tl_dtype *dtype, int *ndim, int64_t *shape,
                                GError **error);

/* Options for loading, for tests and tools: inputs bound to constants (as in
 * ONNX node tests where a shape operand is a graph input), and shape
 * overrides for the others. */
typedef struct {
  const char    *name;
  tl_dtype       dtype;
  int            ndim;
  int64_t        shape[TL_MAX_DIMS];
  const void    *data;   /* NULL: only fixes the shape */
} tl_net_binding;

tl_net *tl_net_load_full (const void *data, size_t len, const char *name,
                          const tl_net_binding *bindings, int n_bindings,
                          GError **error);
