/* Shared helpers for the GLib unit tests. */
#pragma once
#include <glib.h>
#include <stdlib.h>

/* Path of a fixture under tests/data (set by meson as TL_TEST_DATA). */
static inline char *
tl_test_data (const char *rel)
{
  const char *dir = g_getenv ("TL_TEST_DATA");
  return g_build_filename (dir ? dir : "tests/data", rel, NULL);
}

/* A .npy fixture under tests/data, asserting that it loads. A macro so that
 * tests not linking the npy reader need not declare it (include npy.h). */
#define tl_test_npy(rel)                                                      \
  ({                                                                          \
    g_autofree char *p__ = tl_test_data (rel);                                \
    GError *e__ = NULL;                                                       \
    tl_tensor *t__ = tl_npy_load (p__, &e__);                                 \
    g_assert_no_error (e__);                                                  \
    t__;                                                                      \
  })

/* Asserts |a-b| <= tol elementwise, naming the first offending index. */
#define tl_assert_close(a, b, n, tol)                                         \
  do {                                                                        \
    for (size_t i__ = 0; i__ < (size_t) (n); i__++)                           \
      if (!(fabs ((double) (a)[i__] - (double) (b)[i__]) <= (tol)))           \
        g_error ("index %zu: %.9g vs %.9g (tol %g)", i__, (double) (a)[i__],  \
                 (double) (b)[i__], (double) (tol));                          \
  } while (0)
