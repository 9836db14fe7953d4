/* A float32 tensor: explicit shape and strides (in elements), either owning
 * its data or a view into someone else's. Plain struct, llm.c style. */
#pragma once
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define TL_MAX_DIMS 8

/* Largest tensor we will allocate (elements). A header that claims more is
 * lying or absurd; either way we refuse before touching malloc. */
#define TL_TENSOR_MAX_NUMEL ((int64_t) 1 << 32)

typedef struct {
  float  *data;
  int     ndim;
  int64_t shape[TL_MAX_DIMS];
  int64_t strides[TL_MAX_DIMS];
  bool    owns_data;
} tl_tensor;

/* Product of shape[0..ndim), or -1 if it overflows int64 or any dim < 0. */
int64_t    tl_shape_numel (int ndim, const int64_t *shape);

/* Zero-filled, C-contiguous. Fails (NULL + error) on a bad or too large shape. */
tl_tensor *tl_tensor_new (int ndim, const int64_t *shape, GError **error);
/* A C-contiguous view of data that the caller keeps alive. */
tl_tensor *tl_tensor_view (float *data, int ndim, const int64_t *shape);
tl_tensor *tl_tensor_copy (const tl_tensor *t, GError **error);
void       tl_tensor_free (tl_tensor *t);

int64_t    tl_tensor_numel (const tl_tensor *t);
bool       tl_tensor_is_contiguous (const tl_tensor *t);
bool       tl_tensor_same_shape (const tl_tensor *a, const tl_tensor *b);
/* Offset in elements of a multi-index (idx has t->ndim entries). */
int64_t    tl_tensor_offset (const tl_tensor *t, const int64_t *idx);
/* Copies every element, in C order, into dst (numel floats). */
void       tl_tensor_gather (const tl_tensor *t, float *dst);
/* "1x3x224x224" into buf; returns buf. */
const char *tl_shape_str (int ndim, const int64_t *shape, char *buf, size_t len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_tensor, tl_tensor_free)
