/* NumPy .npy files: how users hand tensors to and from PyTorch/NumPy.
 * We read and write format 1.0/2.0 (3.0 read), little-endian float32, C order.
 * Anything else is a clear error naming the file and the problem, decided
 * from the header and the file size before any data-sized allocation. */
#pragma once
#include "tensor.h"
#include <stddef.h>

typedef struct {
  int     major, minor;
  size_t  data_offset;          /* bytes from the start of the file */
  char    descr[16];
  bool    fortran_order;
  int     ndim;
  int64_t shape[TL_MAX_DIMS];
} tl_npy_header;

/* Parses the preamble and header dict at the start of buf (len bytes, which
 * may be only a prefix of the file). No I/O, no allocation: fuzzable. */
gboolean   tl_npy_parse_header (const guint8 *buf, size_t len, tl_npy_header *hdr,
                                GError **error);

tl_tensor *tl_npy_load (const char *path, GError **error);
gboolean   tl_npy_save (const char *path, const tl_tensor *t, GError **error);
