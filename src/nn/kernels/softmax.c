/* Softmax along one axis, forward and input gradient. */
#include "kernels-private.h"

#include <math.h>

static gboolean
sm_check (const char *op, int64_t outer, int64_t len, int64_t inner, GError **error)
{
  if (!tl_k_check_param (op, "outer size", outer, 1, error)
      || !tl_k_check_param (op, "axis length", len, 1, error)
      || !tl_k_check_param (op, "inner size", inner, 1, error))
    return FALSE;
  if (outer * len > TL_TENSOR_MAX_NUMEL || outer * len * inner > TL_TENSOR_MAX_NUMEL)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: more than %" G_GINT64_FORMAT " elements", op,
                   TL_TENSOR_MAX_NUMEL);
      return FALSE;
    }
  return TRUE;
}

gboolean
tl_softmax_forward (const float *x, int64_t outer, int64_t len, int64_t inner,
                    float *y, GError **error)
{
  g_return_val_if_fail (x && y, FALSE);
  if (!sm_check ("Softmax", outer, len, inner, error))
    return FALSE;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++)
      {
        const float *xs = x + o * len * inner + i;
        float *ys = y + o * len * inner + i;
        float mx = xs[0];
        for (int64_t k = 1; k < len; k++)
          mx = xs[k * inner] > mx ? xs[k * inner] : mx;
        double sum = 0.0;
        for (int64_t k = 0; k < len; k++)
          {
            const float e = expf (xs[k * inner] - mx);
            ys[k * inner] = e;
            sum += e;
          }
        const float inv = (float) (1.0 / sum);
        for (int64_t k = 0; k < len; k++)
          ys[k * inner] *= inv;
      }
  return TRUE;
}

gboolean
tl_softmax_backward (const float *y, const float *dy, int64_t outer, int64_t len,
                     int64_t inner, float *dx, GError **error)
{
  g_return_val_if_fail (y && dy && dx, FALSE);
  if (!sm_check ("Softmax backward", outer, len, inner, error))
    return FALSE;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++)
      {
        const int64_t base = o * len * inner + i;
        double dot = 0.0;
        for (int64_t k = 0; k < len; k++)
          dot += (double) dy[base + k * inner] * y[base + k * inner];
        for (int64_t k = 0; k < len; k++)
          dx[base + k * inner] = y[base + k * inner] * (float) (dy[base + k * inner] - dot);
      }
  return TRUE;
}
