/* Input checks shared by the latent samplers and measures: every bad bank
 * or size is refused with a message before anything is allocated. */
#pragma once
#include <glib.h>
#include <stdint.h>

/* Largest single allocation src/latent makes on behalf of its input. */
#define TL_LATENT_MAX_ALLOC_BYTES ((double) (4ULL << 30))

/* z: n rows of d floats. Needs n >= min_rows, d >= 1 and every value
 * finite; the error names `what`, and the row and column of a bad value. */
gboolean tl_latent_check_bank (const float *z, int64_t n, int64_t d, int64_t min_rows,
                               const char *what, GError **error);
/* The size half of tl_latent_check_bank, without reading the values. */
gboolean tl_latent_check_shape (int64_t n, int64_t d, int64_t min_rows, const char *what,
                                GError **error);
/* Refuses `bytes` > TL_LATENT_MAX_ALLOC_BYTES, naming `what`. */
gboolean tl_latent_check_alloc (double bytes, const char *what, GError **error);
