/* tl_net: a CNN loaded from an ONNX file, ready to run on the CPU.
 *
 * Loading parses the protobuf, checks every size against the file, infers a
 * static shape for every tensor from the input shapes, folds the shape-only
 * subgraphs (Shape, Gather, Cast, ConstantOfShape, Concat, ... on constants)
 * and BatchNormalization into the preceding Conv. What is left runs in NCHW
 * float32 on OpenBLAS.
 *
 * Running returns the graph outputs plus any "tapped" intermediate tensor by
 * name. A run made with TL_NET_RUN_BACKWARD keeps what the backward pass
 * needs, so a gradient of a scalar score (one output logit, or the cosine
 * similarity of an output embedding to a fixed vector) can then be taken
 * with respect to any tapped tensor: what Grad-CAM needs.
 *
 * Typical use (saliency):
 *   tl_net *net = tl_net_load ("m.onnx", &err);
 *   const char *layer = tl_net_default_target_layer (net);
 *   tl_net_result *r = tl_net_run1 (net, input, &layer, 1, TL_NET_RUN_BACKWARD, &err);
 *   const tl_tensor *F = tl_net_result_get (r, layer);
 *   const tl_tensor *logits = tl_net_result_output (r, 0);
 *   tl_tensor *dF = tl_net_result_grad_logit (r, layer, NULL, cls, &err);
 *   ...
 *   tl_tensor_free (dF); tl_net_result_free (r); tl_net_free (net);
 */
#pragma once
#include "tensor.h"
#include <glib.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tl_net        tl_net;
typedef struct tl_net_result tl_net_result;

typedef enum {
  TL_NET_TENSOR_INPUT,         /* a graph input the caller feeds */
  TL_NET_TENSOR_INTERMEDIATE,  /* computed by a node, not a graph output */
  TL_NET_TENSOR_OUTPUT,        /* a graph output */
} tl_net_tensor_kind;

/* One runtime tensor of the graph (constants and folded tensors are not
 * listed). Shapes are static: fixed at load time from the input shapes. */
typedef struct {
  const char        *name;
  tl_net_tensor_kind kind;
  int                ndim;
  int64_t            shape[TL_MAX_DIMS];
  const char        *op;         /* op type of the producing node, NULL for inputs */
  const char        *node;       /* name of the producing node ("" if unnamed) */
  gboolean           explainable;/* 4-D N×C×H×W with H,W > 1 */
} tl_net_tensor_info;

/* ---- loading -------------------------------------------------------- */

/* Loads an ONNX model. Inputs whose shape has symbolic dims get 1 for the
 * batch dim (dim 0); any other symbolic dim is an error: use
 * tl_net_load_with_shapes. Errors name the file, node or tensor. */
tl_net *tl_net_load (const char *path, GError **error);
/* Same from a buffer (copied as needed; the caller keeps ownership). name is
 * used in error messages. */
tl_net *tl_net_load_from_memory (const void *data, size_t len, const char *name,
                                 GError **error);
/* Loads with explicit input shapes (n_inputs entries, in graph-input order;
 * ndims[i] dims each in shapes[i]). Used for batch > 1. */
tl_net *tl_net_load_with_shapes (const char *path, int n_inputs, const int *ndims,
                                 const int64_t (*shapes)[TL_MAX_DIMS], GError **error);
/* Same with shapes written like "1x3x224x224" (n_inputs strings, in
 * graph-input order), as the command line takes them. */
tl_net *tl_net_load_with_shape_strings (const char *path, int n_inputs,
                                        const char *const *shapes, GError **error);
/* Loads with dim 0 (the batch) of every input set to batch; the other dims
 * must be fixed in the file. */
tl_net *tl_net_load_batch (const char *path, int64_t batch, GError **error);
void    tl_net_free (tl_net *net);

/* ---- introspection --------------------------------------------------- */

int                       tl_net_n_inputs (const tl_net *net);
const tl_net_tensor_info *tl_net_input (const tl_net *net, int i);
int                       tl_net_n_outputs (const tl_net *net);
const tl_net_tensor_info *tl_net_output (const tl_net *net, int i);
/* Every runtime tensor (inputs, then node outputs in execution order). */
int                       tl_net_n_tensors (const tl_net *net);
const tl_net_tensor_info *tl_net_tensor (const tl_net *net, int i);
/* NULL if no runtime tensor has that name (e.g. it was folded away). */
const tl_net_tensor_info *tl_net_find_tensor (const tl_net *net, const char *name);
/* The last explainable 4-D feature map before the first global pooling /
 * flatten on the way to the first output (methods.md); NULL if none. */
const char *tl_net_default_target_layer (const tl_net *net);
/* Number of runtime nodes after folding, and the ONNX opset in use. */
int     tl_net_n_nodes (const tl_net *net);
int     tl_net_opset (const tl_net *net);
/* Estimated peak bytes of activations for one run (weights not included)
 * with the given taps kept alive until the end. */
size_t  tl_net_peak_memory (const tl_net *net, const char *const *taps, int n_taps);
/* Bytes of constant weights held by the net. */
size_t  tl_net_weight_bytes (const tl_net *net);

/* ---- running --------------------------------------------------------- */

/* Threads of the engine's own loops, GEMMs included (it splits them
 * itself). 0 = default: env TENSORLENS_THREADS if set, else the number of
 * processors. Global. Also sets OpenBLAS (process-wide) to one thread:
 * its spinning workers took the cores from the engine's, so BLAS calls
 * elsewhere in the library (saliency maths, GMM fitting) then run on one
 * thread too. Returns the count in effect. */
int  tl_nn_set_threads (int threads);
int  tl_nn_get_threads (void);

typedef enum {
  TL_NET_RUN_DEFAULT  = 0,
  /* Keep every activation the backward pass needs (more memory). */
  TL_NET_RUN_BACKWARD = 1 << 0,
} tl_net_run_flags;

/* Runs the net on n_inputs tensors (graph-input order, shapes must match
 * exactly) and keeps the tensors named in taps (any runtime tensor). */
tl_net_result *tl_net_run (tl_net *net, const tl_tensor *const *inputs, int n_inputs,
                           const char *const *taps, int n_taps, guint flags,
                           GError **error);
/* The same for a net with one input (most CNNs). */
tl_net_result *tl_net_run1 (tl_net *net, const tl_tensor *input, const char *const *taps,
                            int n_taps, guint flags, GError **error);
void           tl_net_result_free (tl_net_result *res);

/* Per-node timing, for finding where a forward pass spends its time
 * (`tensorlens bench --profile`). Turning it on (or off) clears the sums. */
typedef struct {
  const char *node;    /* node name ("" if unnamed); owned by the net */
  const char *op;      /* op type, or TL_NET_PAIR_OP for a Conv that ran as one
                        * with the depthwise Conv after it (whose time is
                        * then counted here, and its own is 0) */
  const char *output;  /* name of its first output */
  double      usec;    /* mean wall time per successful run */
} tl_net_node_time;
#define TL_NET_PAIR_OP "Conv+Conv(dw)"
void tl_net_set_profile (tl_net *net, gboolean on);
/* Fills up to max entries in execution order; returns how many (0 when
 * profiling is off). */
int  tl_net_profile (const tl_net *net, tl_net_node_time *out, int max);

int              tl_net_result_n_outputs (const tl_net_result *res);
/* Owned by res; valid until tl_net_result_free. */
const tl_tensor *tl_net_result_output (const tl_net_result *res, int i);
/* A tap or output by name; NULL if it was neither tapped nor an output. */
const tl_tensor *tl_net_result_get (const tl_net_result *res, const char *name);

/* ---- backward (needs TL_NET_RUN_BACKWARD and wrt among the taps) -------
 * The score is summed over the batch, so each sample's slice of the result
 * is that sample's own gradient. output NULL = the first graph output. */

/* d score / d wrt for score = Σ output * dy (dy has output's shape). */
tl_tensor *tl_net_result_grad (tl_net_result *res, const char *wrt, const char *output,
                               const tl_tensor *dy, GError **error);
/* score = output[b, index] for every sample b (output viewed as N×K). */
tl_tensor *tl_net_result_grad_logit (tl_net_result *res, const char *wrt,
                                     const char *output, int64_t index, GError **error);
/* score = cos(output[b], v) for every sample b (output viewed as N×K, v has
 * K entries). If score is not NULL it receives the batch's summed score. */
tl_tensor *tl_net_result_grad_cosine (tl_net_result *res, const char *wrt,
                                      const char *output, const float *v, int64_t k,
                                      double *score, GError **error);
