/* Small helpers shared by the op files: NumPy broadcasting and the walk over
 * an N-d index space one contiguous row at a time. */
#pragma once
#include "nn-graph.h"

/* Broadcast shape of a and b (NumPy rules); FALSE if incompatible. */
gboolean tl_bcast_shape (int an, const int64_t *as, int bn, const int64_t *bs,
                         int *yn, int64_t *ys);
/* Element strides of x (xn dims) read as if broadcast to y (yn dims): 0
 * along broadcast dims. Right-aligned; yn entries written. */
void     tl_bcast_strides (int yn, const int64_t *ys, int xn, const int64_t *xs,
                           int64_t *st);

/* Calls row(ctx, oy, off[0..n_in), len, inner strides) for every row of the
 * output (last dim), where off are each input's element offsets. */
typedef void (*tl_row_fn) (void *ctx, int64_t oy, const int64_t *off, int64_t len,
                           const int64_t *inner);
void     tl_bcast_walk (int yn, const int64_t *ys, int n_in, int64_t (*st)[TL_MAX_DIMS],
                        tl_row_fn row, void *ctx);
/* Merges neighbouring dims of a walk (yn, ys and the n_in stride rows, in
 * place) where every input runs on contiguously from one dim into the next
 * (st[k][d] == st[k][d + 1] * ys[d + 1]) and drops dims of size 1, so that
 * the rows get longer: a same-shape op on [N,C,H,W] becomes one row, a
 * per-channel one rows of H*W, instead of rows of W. The walk then visits
 * the same elements in the same order; only a row function that folds a
 * whole row into one value (ReduceSum's) would round differently. */
void     tl_bcast_merge_dims (int *yn, int64_t *ys, int n_in, int64_t (*st)[TL_MAX_DIMS]);

/* C-order strides of a shape. */
void     tl_c_strides (int nd, const int64_t *shape, int64_t *st);
