#include "error.h"

G_DEFINE_QUARK (tensorlens-error-quark, tl_error)
