#include "gradcam.h"
#include "saliency-private.h"
#include "error.h"

#include <math.h>

typedef void (*weights_fn) (const double *X, const double *G, int64_t C, int64_t N,
                            double *alpha);

static void
gradcam_weights (const double *X, const double *G, int64_t C, int64_t N, double *alpha)
{
  (void) X;
  for (int64_t c = 0; c < C; c++)
    {
      double s = 0.0;
      for (int64_t n = 0; n < N; n++)
        s += G[c * N + n];
      alpha[c] = s / (double) N;
    }
}

static void
gradcampp_weights (const double *X, const double *G, int64_t C, int64_t N, double *alpha)
{
  for (int64_t c = 0; c < C; c++)
    {
      double A = 0.0;
      for (int64_t n = 0; n < N; n++)
        A += X[c * N + n];
      double s = 0.0;
      for (int64_t n = 0; n < N; n++)
        {
          double g = G[c * N + n];
          if (g <= 0.0)   /* max(g,0)·a is 0 for g ≤ 0 (and a = 0 at g = 0) */
            continue;
          double g2 = g * g;
          s += g * g2 / (2.0 * g2 + A * g2 * g + 1e-6);
        }
      alpha[c] = s;
    }
}

static gboolean
cam (const tl_tensor *F, const tl_tensor *dF, tl_tensor **map_out, double *weights,
     weights_fn wfn, GError **error)
{
  g_return_val_if_fail (F && dF && map_out, FALSE);
  *map_out = NULL;
  int64_t C, H, W, C2, H2, W2;
  g_autofree double *X = tl_saliency_to_double (F, "activations", &C, &H, &W, error);
  if (!X)
    return FALSE;
  g_autofree double *G = tl_saliency_to_double (dF, "gradient", &C2, &H2, &W2, error);
  if (!G)
    return FALSE;
  if (C != C2 || H != H2 || W != W2)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "gradient tensor is %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%"
                   G_GINT64_FORMAT " but the activations are %" G_GINT64_FORMAT "x%"
                   G_GINT64_FORMAT "x%" G_GINT64_FORMAT, (gint64) C2, (gint64) H2,
                   (gint64) W2, (gint64) C, (gint64) H, (gint64) W);
      return FALSE;
    }
  int64_t N = H * W;
  g_autofree double *alpha = g_new (double, (gsize) C);
  wfn (X, G, C, N, alpha);
  g_autofree double *S = g_new0 (double, (gsize) N);
  for (int64_t c = 0; c < C; c++)
    for (int64_t n = 0; n < N; n++)
      S[n] += alpha[c] * X[c * N + n];
  if (weights)
    for (int64_t c = 0; c < C; c++)
      weights[c] = alpha[c];
  *map_out = tl_saliency_finish_map (S, H, W, NULL, error);
  return *map_out != NULL;
}

gboolean
tl_gradcam_map (const tl_tensor *F, const tl_tensor *dF, tl_tensor **map_out,
                double *weights, GError **error)
{
  return cam (F, dF, map_out, weights, gradcam_weights, error);
}

gboolean
tl_gradcampp_map (const tl_tensor *F, const tl_tensor *dF, tl_tensor **map_out,
                  double *weights, GError **error)
{
  return cam (F, dF, map_out, weights, gradcampp_weights, error);
}
