/* Inference BatchNormalization, forward and input gradient (its folding
 * into a conv is tl_conv_fold_batchnorm, conv.c). */
#include "kernels-private.h"

#include <math.h>

static gboolean
bn_check (const char *op, tl_shape4 xs, const float *var, float eps, GError **error)
{
  if (!tl_k_check_shape (op, "input", xs, error))
    return FALSE;
  for (int64_t c = 0; c < xs.c; c++)
    if (!(eps >= 0.0f) || !((double) var[c] + eps > 0.0) || !isfinite (var[c]))
      {
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                     "%s: variance %g + epsilon %g of channel %" G_GINT64_FORMAT
                     " is not a positive number",
                     op, (double) var[c], (double) eps, c);
        return FALSE;
      }
  return TRUE;
}

gboolean
tl_batchnorm_forward (const float *x, tl_shape4 xs, const float *gamma,
                      const float *beta, const float *mean, const float *var,
                      float eps, float *y, GError **error)
{
  g_return_val_if_fail (x && gamma && beta && mean && var && y, FALSE);
  if (!bn_check ("BatchNormalization", xs, var, eps, error))
    return FALSE;
  const int64_t hw = xs.h * xs.w;
  for (int64_t c = 0; c < xs.c; c++)
    {
      const double s = gamma[c] / sqrt ((double) var[c] + eps);
      const float a = (float) s, b = (float) (beta[c] - mean[c] * s);
      for (int64_t n = 0; n < xs.n; n++)
        {
          const float *xp = x + (n * xs.c + c) * hw;
          float *yp = y + (n * xs.c + c) * hw;
          for (int64_t i = 0; i < hw; i++)
            yp[i] = a * xp[i] + b;
        }
    }
  return TRUE;
}

gboolean
tl_batchnorm_backward (const float *dy, tl_shape4 xs, const float *gamma,
                       const float *var, float eps, float *dx, GError **error)
{
  g_return_val_if_fail (dy && gamma && var && dx, FALSE);
  if (!bn_check ("BatchNormalization backward", xs, var, eps, error))
    return FALSE;
  const int64_t hw = xs.h * xs.w;
  for (int64_t c = 0; c < xs.c; c++)
    {
      const float a = (float) (gamma[c] / sqrt ((double) var[c] + eps));
      for (int64_t n = 0; n < xs.n; n++)
        {
          const float *g = dy + (n * xs.c + c) * hw;
          float *d = dx + (n * xs.c + c) * hw;
          for (int64_t i = 0; i < hw; i++)
            d[i] = a * g[i];
        }
    }
  return TRUE;
}
