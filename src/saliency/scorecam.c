#include "scorecam.h"
#include "saliency-private.h"
#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  double mean;
  int    c;
} chan_mean;

static int
cmp_mean (const void *a, const void *b)
{
  const chan_mean *x = a, *y = b;
  if (x->mean != y->mean)
    return x->mean > y->mean ? -1 : 1;
  return (x->c > y->c) - (x->c < y->c);
}

int
tl_scorecam_select_channels (const tl_tensor *F, int cap, int *channels, GError **error)
{
  int64_t C, H, W;
  g_autofree double *X = tl_saliency_to_double (F, "activations", &C, &H, &W, error);
  if (!X)
    return -1;
  if (cap <= 0 || cap >= C)
    {
      for (int c = 0; c < C; c++)
        channels[c] = c;
      return (int) C;
    }
  int64_t N = H * W;
  g_autofree chan_mean *m = g_new (chan_mean, (gsize) C);
  for (int64_t c = 0; c < C; c++)
    {
      double s = 0.0;
      for (int64_t n = 0; n < N; n++)
        s += X[c * N + n];
      m[c] = (chan_mean) { s / (double) N, (int) c };
    }
  qsort (m, (size_t) C, sizeof *m, cmp_mean);
  for (int k = 0; k < cap; k++)
    channels[k] = m[k].c;
  return cap;
}

static gboolean
check_channels (const int *channels, int n, int64_t C, GError **error)
{
  if (n < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "Score-CAM: no channels (n = %d)", n);
      return FALSE;
    }
  for (int k = 0; k < n; k++)
    if (channels[k] < 0 || channels[k] >= C)
      {
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                     "Score-CAM: channel %d is outside 0..%" G_GINT64_FORMAT, channels[k],
                     (gint64) C - 1);
        return FALSE;
      }
  return TRUE;
}

gboolean
tl_scorecam_masks (const tl_tensor *F, const int *channels, int n, int dh, int dw,
                   tl_upsample_fn up, void *user, float *masks, GError **error)
{
  int64_t C, H, W;
  g_autofree double *X = tl_saliency_to_double (F, "activations", &C, &H, &W, error);
  if (!X || !check_channels (channels, n, C, error))
    return FALSE;
  if (dh < 1 || dw < 1 || (!up && (dh != H || dw != W)))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "Score-CAM: masks of %d×%d from %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                   " activations need an upsampling function", dh, dw, (gint64) H,
                   (gint64) W);
      return FALSE;
    }
  int64_t N = H * W, M = (int64_t) dh * dw;
  g_autofree float *plane = g_new (float, (gsize) N);
  for (int k = 0; k < n; k++)
    {
      float *m = masks + (gsize) k * M;
      for (int64_t i = 0; i < N; i++)
        plane[i] = (float) X[channels[k] * N + i];
      if (up)
        {
          if (!up (plane, (int) W, (int) H, m, dw, dh, user, error))
            return FALSE;
        }
      else
        memcpy (m, plane, sizeof (float) * (gsize) N);
      /* Normalise after upsampling, as pytorch-grad-cam does. */
      float lo = INFINITY, hi = -INFINITY;
      for (int64_t i = 0; i < M; i++)
        {
          lo = MIN (lo, m[i]);
          hi = MAX (hi, m[i]);
        }
      if (!isfinite (lo) || !isfinite (hi))
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "Score-CAM: the upsampled channel %d is not finite", channels[k]);
          return FALSE;
        }
      double range = (double) hi - lo;
      for (int64_t i = 0; i < M; i++)
        m[i] = range > 0.0 ? (float) ((m[i] - (double) lo) / range) : 0.0f;
    }
  return TRUE;
}

gboolean
tl_scorecam_map (const tl_tensor *F, const int *channels, const double *scores, int n,
                 tl_tensor **map_out, double *weights, GError **error)
{
  g_return_val_if_fail (map_out, FALSE);
  *map_out = NULL;
  int64_t C, H, W;
  g_autofree double *X = tl_saliency_to_double (F, "activations", &C, &H, &W, error);
  if (!X || !check_channels (channels, n, C, error))
    return FALSE;
  double ymax = -INFINITY;
  for (int k = 0; k < n; k++)
    {
      if (!isfinite (scores[k]))
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "Score-CAM: the score of channel %d is %g", channels[k], scores[k]);
          return FALSE;
        }
      ymax = MAX (ymax, scores[k]);
    }
  /* Softmax with the maximum subtracted: never overflows. */
  g_autofree double *alpha = g_new (double, (gsize) MAX (n, 1));
  double z = 0.0;
  for (int k = 0; k < n; k++)
    z += alpha[k] = exp (scores[k] - ymax);
  int64_t N = H * W;
  g_autofree double *S = g_new0 (double, (gsize) N);
  for (int k = 0; k < n; k++)
    {
      alpha[k] /= z;
      for (int64_t i = 0; i < N; i++)
        S[i] += alpha[k] * X[channels[k] * N + i];
    }
  if (weights)
    memcpy (weights, alpha, sizeof (double) * (gsize) n);
  *map_out = tl_saliency_finish_map (S, H, W, NULL, error);
  return *map_out != NULL;
}
