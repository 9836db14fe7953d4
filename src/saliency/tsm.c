/* TSM and MTSM (methods.md): maps from the Tucker decomposition of F. The
 * spatial map of mode-1 component k is P_k = B·G[k,:,:]·Dᵀ (H×W), whose
 * Frobenius norm is σ_k = ‖G[k,:,:]‖. */
#include "saliency-private.h"
#include "finish.h"
#include "tucker.h"
#include "error.h"

#include <math.h>
#include <string.h>

/* P ← P − mean(P): the proposed centring of an uncentred component map
 * (params.centre). */
static void
centre_map (double *P, int64_t N)
{
  double mean = 0.0;
  for (int64_t n = 0; n < N; n++)
    mean += P[n];
  mean /= (double) N;
  for (int64_t n = 0; n < N; n++)
    P[n] -= mean;
}

/* The sign of component map P under params.centre: off = methods.md;
 * on = P centred first; auto = centred only when the sign rule leaves more
 * negative than positive mass, i.e. when the ReLU would drop most of the
 * map (a single-signed uncentred map on the wrong side of zero). P is
 * centred in place when that is chosen. */
static int
component_sign (double *P, const double *m, int64_t N, tl_saliency_centre centre)
{
  if (centre == TL_SALIENCY_CENTRE_ON)
    centre_map (P, N);
  int sg = tl_saliency_sign (P, m, N);
  if (centre != TL_SALIENCY_CENTRE_AUTO)
    return sg;
  double pos = 0.0, neg = 0.0;
  for (int64_t n = 0; n < N; n++)
    {
      double v = sg * P[n];
      if (v > 0.0)
        pos += v;
      else
        neg -= v;
    }
  if (neg <= pos)
    return sg;
  centre_map (P, N);
  return tl_saliency_sign (P, m, N);
}

gboolean
tl_saliency_tucker (const double *X, int64_t C, int64_t H, int64_t W,
                    const tl_saliency_params *p, double *S, tl_saliency_report *rep,
                    GError **error)
{
  int64_t N = H * W;
  int R[3];
  /* automatic spatial ranks ⌈rho·H⌉, ⌈rho·W⌉ (methods.md's candidates);
   * the small tolerance keeps e.g. 0.5·16 at 8 despite round-off */
  R[1] = p->ranks[1] > 0 ? p->ranks[1] : (int) MAX (1, ceil (p->rho * (double) H - 1e-9));
  R[2] = p->ranks[2] > 0 ? p->ranks[2] : (int) MAX (1, ceil (p->rho * (double) W - 1e-9));
  R[0] = p->ranks[0] > 0 ? p->ranks[0] : (int) MIN (C, (int64_t) R[1] * R[2]);
  memcpy (rep->ranks_requested, R, sizeof R);

  int64_t dims[3] = { C, H, W };
  /* TSM needs the leading map only, MTSM every non-zero one. */
  int kmax = p->method == TL_SALIENCY_TSM ? 1 : G_MAXINT;
  g_autoptr (tl_tucker_maps) t = tl_tucker_spatial_maps (X, dims, R, p->sweeps, kmax, error);
  if (!t)
    return FALSE;
  memcpy (rep->ranks, t->ranks, sizeof rep->ranks);
  rep->sweeps_run = t->sweeps_run;
  rep->fit = t->fit;

  memset (S, 0, sizeof (double) * (gsize) N);
  int r = t->n;
  if (r == 0)
    return TRUE;
  rep->sigma1 = t->sigma[0];
  g_autofree double *m = g_new (double, (gsize) N);
  tl_saliency_mean_map (X, C, N, m);
  if (p->method == TL_SALIENCY_TSM)
    {
      double *P = t->P;
      int sg = component_sign (P, m, N, p->centre);
      rep->sign = sg;
      rep->components = 1;
      for (int64_t n = 0; n < N; n++)
        S[n] = sg * P[n];
      return TRUE;
    }
  /* MTSM: P_k already carries σ_k, so ω' = 1, σ_k, 1/σ_k for sigma,
   * sigma2, uniform. */
  rep->components = r;
  for (int k = 0; k < r; k++)
    {
      double *P = t->P + (int64_t) k * N;
      int sg = component_sign (P, m, N, p->centre);
      double sk = t->sigma[k];
      double w = p->weighting == TL_SALIENCY_WEIGHT_SIGMA2 ? sk
               : p->weighting == TL_SALIENCY_WEIGHT_UNIFORM ? 1.0 / sk : 1.0;
      for (int64_t n = 0; n < N; n++)
        {
          double v = sg * P[n];
          S[n] += v > 0.0 ? w * v : 0.0;
        }
    }
  return TRUE;
}
