/* Shared helpers for the kernel tests: fixtures written by
 * tests/data/nn/kernels/make-kernel-refs.py (cases.json + .npy per tensor),
 * relative-L2 comparison and a finite-difference probe of backward kernels. */
#pragma once
#include "kernels.h"
#include "npy.h"
#include "error.h"
#include "tl-test.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* Forward tolerance: relative L2 error against the float64 reference.
 * float32 GEMM accumulation over K <= a few hundred stays around 1e-7. */
#define KT_FWD_TOL 1e-5
/* Backward kernels (GEMM + col2im, scatter-adds) against float64 fixtures. */
#define KT_BWD_TOL 1e-5

/* Parses <kernel>/cases.json; the parser keeps the returned array alive. */
static inline JsonArray *
kt_cases (const char *kernel, JsonParser **parser)
{
  g_autofree char *rel = g_build_filename ("nn", "kernels", kernel, "cases.json", NULL);
  g_autofree char *path = tl_test_data (rel);
  GError *err = NULL;
  *parser = json_parser_new ();
  if (!json_parser_load_from_file (*parser, path, &err))
    g_error ("%s: %s", path, err->message);
  return json_object_get_array_member (json_node_get_object (json_parser_get_root (*parser)),
                                       "cases");
}

static inline const char *
kt_name (JsonObject *c)
{
  return json_object_get_string_member (c, "name");
}

static inline JsonObject *
kt_params (JsonObject *c)
{
  return json_object_get_object_member (c, "params");
}

/* The case's tensor `key`, or NULL if the case has none. */
static inline tl_tensor *
kt_tensor (JsonObject *c, const char *key)
{
  JsonObject *t = json_object_get_object_member (c, "tensors");
  if (!json_object_has_member (t, key))
    return NULL;
  g_autofree char *rel = g_build_filename ("nn", "kernels",
                                           json_object_get_string_member (t, key), NULL);
  g_autofree char *path = tl_test_data (rel);
  GError *err = NULL;
  tl_tensor *x = tl_npy_load (path, &err);
  if (!x)
    g_error ("%s", err->message);
  return x;
}

static inline int64_t
kt_int (JsonObject *p, const char *key)
{
  return json_object_get_int_member (p, key);
}

static inline double
kt_double (JsonObject *p, const char *key)
{
  return json_object_get_double_member (p, key);
}

static inline const char *
kt_str (JsonObject *p, const char *key)
{
  return json_object_get_string_member (p, key);
}

/* Fills out[0..n) from the integer array `key`; returns its length. */
static inline int
kt_ints (JsonObject *p, const char *key, int64_t *out, int n)
{
  JsonArray *a = json_object_get_array_member (p, key);
  int len = (int) json_array_get_length (a);
  for (int i = 0; i < len && i < n; i++)
    out[i] = json_array_get_int_element (a, i);
  return len;
}

static inline double
kt_ith_double (JsonObject *p, const char *key, int i)
{
  return json_array_get_double_element (json_object_get_array_member (p, key), i);
}

static inline tl_shape4
kt_shape4 (const tl_tensor *t)
{
  g_assert_cmpint (t->ndim, ==, 4);
  return (tl_shape4) { t->shape[0], t->shape[1], t->shape[2], t->shape[3] };
}

static inline double
kt_rel_l2 (const float *got, const float *want, size_t n)
{
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++)
    {
      const double d = (double) got[i] - want[i];
      num += d * d;
      den += (double) want[i] * want[i];
    }
  if (den == 0)
    return sqrt (num);
  return sqrt (num / den);
}

/* Asserts relative L2 <= tol, and no NaN. */
static inline void
kt_assert_rel (const char *what, const float *got, const float *want, size_t n,
               double tol)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite (got[i]))
      g_error ("%s %s: element %zu is %g", g_test_get_path (), what, i, (double) got[i]);
  const double e = kt_rel_l2 (got, want, n);
  if (!(e <= tol))
    g_error ("%s %s: relative L2 error %.3g > %.3g", g_test_get_path (), what, e, tol);
}

/* Forward map used by the finite-difference probe: must not fail. */
typedef void (*kt_fwd_fn) (void *ctx, const float *x, float *y);

/* Central differences of L(x) = <dy, f(x)> (accumulated in float64) at up to
 * `probes` indices spread over x, against the analytic dx:
 * |fd - dx[i]| <= tol * (1 + |dx[i]|). For the linear kernels eps can be
 * large (no truncation error), which drowns the float32 rounding of f. */
static inline void
kt_fd_check (const char *what, kt_fwd_fn f, void *ctx, float *x, size_t nx,
             size_t ny, const float *dy, const float *dx, double eps, double tol,
             int probes)
{
  float *y = g_new (float, ny);
  for (int k = 0; k < probes && (size_t) k < nx; k++)
    {
      const size_t i = probes >= (int) nx ? (size_t) k
                                          : (size_t) k * (nx - 1) / (size_t) (probes - 1);
      const float orig = x[i];
      double l[2];
      float xv[2] = { (float) (orig + eps), (float) (orig - eps) };
      for (int s = 0; s < 2; s++)
        {
          x[i] = xv[s];
          f (ctx, x, y);
          double acc = 0;
          for (size_t j = 0; j < ny; j++)
            acc += (double) dy[j] * y[j];
          l[s] = acc;
        }
      x[i] = orig;
      const double fd = (l[0] - l[1]) / ((double) xv[0] - (double) xv[1]);
      if (!(fabs (fd - dx[i]) <= tol * (1.0 + fabs (dx[i]))))
        g_error ("%s %s: finite difference at %zu is %.7g, backward gives %.7g", g_test_get_path (), what, i,
                 fd, (double) dx[i]);
    }
  g_free (y);
}

/* Asserts that a call failed with TL_ERROR_INVALID and a message that
 * mentions `needle`. */
#define kt_assert_invalid(ok, err, needle)                                    \
  do {                                                                        \
    g_assert_false (ok);                                                      \
    g_assert_error (err, TL_ERROR, TL_ERROR_INVALID);                         \
    if (!strstr ((err)->message, (needle)))                                   \
      g_error ("message \"%s\" does not mention \"%s\"", (err)->message,       \
               (needle));                                                     \
    g_clear_error (&(err));                                                   \
  } while (0)
