/* Parameter checks and the fused bias + activation epilogue. */
#include "kernels-private.h"

#include <math.h>

gboolean
tl_k_check_param (const char *op, const char *name, int64_t v, int64_t lo,
                  GError **error)
{
  if (v < lo || v > TL_KERNEL_MAX_DIM)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: %s = %" G_GINT64_FORMAT " is out of range [%" G_GINT64_FORMAT
                   ", %" G_GINT64_FORMAT "]",
                   op, name, v, lo, TL_KERNEL_MAX_DIM);
      return FALSE;
    }
  return TRUE;
}

gboolean
tl_k_check_shape (const char *op, const char *what, tl_shape4 s, GError **error)
{
  int64_t d[4] = { s.n, s.c, s.h, s.w };
  int64_t numel = 1;
  for (int i = 0; i < 4; i++)
    {
      if (d[i] < 1 || d[i] > TL_KERNEL_MAX_DIM)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "%s: %s shape %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%"
                       G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                       " has a dimension out of range [1, %" G_GINT64_FORMAT "]",
                       op, what, s.n, s.c, s.h, s.w, TL_KERNEL_MAX_DIM);
          return FALSE;
        }
      numel *= d[i]; /* each factor <= 2^24 and we stop past 2^32: no overflow */
      if (numel > TL_TENSOR_MAX_NUMEL)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "%s: %s shape %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%"
                       G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                       " has more than %" G_GINT64_FORMAT " elements",
                       op, what, s.n, s.c, s.h, s.w, TL_TENSOR_MAX_NUMEL);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
tl_k_expect_shape (const char *op, const char *what, tl_shape4 got,
                   tl_shape4 want, GError **error)
{
  if (got.n == want.n && got.c == want.c && got.h == want.h && got.w == want.w)
    return TRUE;
  g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
               "%s: %s shape is %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%"
               G_GINT64_FORMAT "x%" G_GINT64_FORMAT ", the parameters imply %"
               G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%"
               G_GINT64_FORMAT,
               op, what, got.n, got.c, got.h, got.w, want.n, want.c, want.h, want.w);
  return FALSE;
}

/* The CPU features the kernels dispatch on, probed once: bit 0 AVX2 +
 * FMA, bit 1 AVX-512F. */
static int
cpu_features (void)
{
  static int features = -1; /* unknown */
  int f = g_atomic_int_get (&features);
  if (f < 0)
    {
      __builtin_cpu_init ();
      f = (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma") ? 1 : 0)
          | (__builtin_cpu_supports ("avx512f") ? 2 : 0);
      g_atomic_int_set (&features, f);
    }
  return f;
}

gboolean
tl_k_have_avx2_fma (void)
{
  return (cpu_features () & 1) != 0;
}

gboolean
tl_k_have_avx512 (void)
{
  return (cpu_features () & 3) == 3;
}

/* Every conv output passes through here once: worth an AVX2 clone (no FMA
 * in that target, so the same roundings as the baseline clone). The clones
 * are static behind a plain entry point: clang only emits the dispatcher
 * for calls that see the target_clones declaration, so callers in other
 * files (and the clang-built fuzzer) could not link against it. */
__attribute__ ((target_clones ("avx2", "default"))) static void
bias_act (float *y, int64_t len, float b, tl_activation act)
{
  switch (act.kind)
    {
    case TL_ACT_NONE:
      if (b != 0.0f)
        for (int64_t i = 0; i < len; i++)
          y[i] += b;
      break;
    case TL_ACT_RELU:
      for (int64_t i = 0; i < len; i++)
        {
          float v = y[i] + b;
          y[i] = v > 0.0f ? v : 0.0f;
        }
      break;
    case TL_ACT_CLIP:
      for (int64_t i = 0; i < len; i++)
        {
          float v = y[i] + b;
          v = v < act.lo ? act.lo : v;
          y[i] = v > act.hi ? act.hi : v;
        }
      break;
    case TL_ACT_HARDSWISH:
      for (int64_t i = 0; i < len; i++)
        {
          float v = y[i] + b;
          float r = v + 3.0f;
          r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
          y[i] = v * r * (1.0f / 6.0f);
        }
      break;
    }
}

void
tl_k_bias_act (float *y, int64_t len, float b, tl_activation act)
{
  bias_act (y, len, b, act);
}
