/* Errors travel up as GError in the TL_ERROR domain: the library never
 * prints, exits or aborts on input it was given. */
#pragma once
#include <glib.h>

#define TL_ERROR (tl_error_quark ())
GQuark tl_error_quark (void);

typedef enum {
  TL_ERROR_IO,          /* a file could not be opened, read or written */
  TL_ERROR_FORMAT,      /* a file's content is malformed or truncated */
  TL_ERROR_UNSUPPORTED, /* well-formed, but a feature we do not handle */
  TL_ERROR_INVALID,     /* a parameter or shape is out of range */
  TL_ERROR_NOMEM,       /* a size too large to allocate */
} TlErrorCode;
