/* EigenCAM and Multivec-EigenCAM (methods.md): the leading singular
 * vectors of the spatially centred channel unfolding, from the smaller of
 * its two Gram matrices (N×N when N < C): never a C×C or full SVD. */
#include "saliency-private.h"
#include "finish.h"
#include "gram-svd.h"
#include "error.h"

#include <math.h>
#include <string.h>

static double
weight (tl_saliency_weighting w, double sigma)
{
  switch (w)
    {
    case TL_SALIENCY_WEIGHT_SIGMA2:
      return sigma * sigma;
    case TL_SALIENCY_WEIGHT_UNIFORM:
      return 1.0;
    case TL_SALIENCY_WEIGHT_SIGMA:
    default:
      return sigma;
    }
}

gboolean
tl_saliency_eigencam (double *X, int64_t C, int64_t H, int64_t W,
                      const tl_saliency_params *p, double *S, tl_saliency_report *rep,
                      GError **error)
{
  int64_t N = H * W;
  bool multi = p->method == TL_SALIENCY_MULTIVEC_EIGENCAM;
  g_autofree double *m = g_new (double, (gsize) N);
  tl_saliency_mean_map (X, C, N, m);
  /* Centre each channel over space (pytorch-grad-cam's get_2d_projection),
   * in place: X is ours and the uncentred values are no longer needed. */
  double *Xc = X;
  for (int64_t c = 0; c < C; c++)
    {
      double mu = 0.0;
      for (int64_t n = 0; n < N; n++)
        mu += X[c * N + n];
      mu /= (double) N;
      for (int64_t n = 0; n < N; n++)
        Xc[c * N + n] -= mu;
    }

  int kmax = (int) MIN (C, N);
  int k = 1;
  if (multi)
    k = p->components > 0 ? MIN (p->components, kmax) : kmax;
  g_autofree double *s = g_new (double, (gsize) k);
  g_autofree double *V = g_new (double, (gsize) (N * k));  /* rows u_k of Xcᵀ = U Σ Vᵀ */
  int r = 0;
  if (!tl_linalg_svd_leading_rows (Xc, C, N, k, s, V, &r, error))
    return FALSE;

  memset (S, 0, sizeof (double) * (gsize) N);
  rep->sigma1 = s[0];
  rep->components = r;
  for (int j = 0; j < r; j++)
    {
      const double *u = V + (gsize) j * N;
      if (!multi)
        {
          /* p = Xcᵀ v1 = σ1·u1. */
          int sg = p->sign_rule ? tl_saliency_sign (u, m, N) : 1;
          rep->sign = sg;
          for (int64_t n = 0; n < N; n++)
            S[n] = sg * s[0] * u[n];
          break;
        }
      int sg = tl_saliency_sign (u, m, N);
      double w = weight (p->weighting, s[j]);
      for (int64_t n = 0; n < N; n++)
        {
          double v = sg * u[n];
          S[n] += v > 0.0 ? w * v : 0.0;
        }
    }
  return TRUE;
}
