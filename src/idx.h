/* Images from an IDX file (the MNIST / Fashion-MNIST format): magic
 * 0x00000803 (unsigned bytes, 3 dimensions), then n, rows, cols as
 * big-endian 32-bit integers, then n·rows·cols bytes. gzip-compressed files
 * (".gz") are read transparently. Images are read one at a time, so a
 * 60 000-image file costs one image of memory. */
#pragma once
#include <glib.h>

#include "image.h"

typedef struct tl_idx_reader tl_idx_reader;

/* Opens path and checks the header (magic, 1..8192 rows and columns). */
tl_idx_reader *tl_idx_open (const char *path, GError **error);
void           tl_idx_close (tl_idx_reader *r);
/* Number of images the header announces. */
int            tl_idx_count (const tl_idx_reader *r);
/* The next image as a grey tl_image (values v/255); NULL + error at the end
 * of the images or on a truncated file. */
tl_image      *tl_idx_next (tl_idx_reader *r, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_idx_reader, tl_idx_close)
