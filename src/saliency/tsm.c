/* TSM and MTSM (methods.md): maps from the Tucker decomposition of F. The
 * spatial map of mode-1 component k is P_k = B·G[k,:,:]·Dᵀ (H×W), whose
 * Frobenius norm is σ_k = ‖G[k,:,:]‖. */
#include "saliency-private.h"
#include "finish.h"
#include "gram-svd.h"
#include "tucker.h"
#include "error.h"

#include <cblas.h>
#include <string.h>

/* P (H×W) = B (H×R1) · Gk (R1×R2) · Dᵀ (R2×W). */
static void
spatial_map (const tl_tucker *t, int k, double *P)
{
  int64_t H = t->dims[1], W = t->dims[2];
  int R1 = t->ranks[1], R2 = t->ranks[2];
  g_autofree double *tmp = g_new (double, (gsize) (R1 * W));
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, R1, (int) W, R2, 1.0,
               t->G + (int64_t) k * R1 * R2, R2, t->D, R2, 0.0, tmp, (int) W);
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) H, (int) W, R1, 1.0,
               t->B, R1, tmp, (int) W, 0.0, P, (int) W);
}

gboolean
tl_saliency_tucker (const double *X, int64_t C, int64_t H, int64_t W,
                    const tl_saliency_params *p, double *S, tl_saliency_report *rep,
                    GError **error)
{
  int64_t N = H * W;
  int R[3];
  R[1] = p->ranks[1] > 0 ? p->ranks[1] : (int) H;
  R[2] = p->ranks[2] > 0 ? p->ranks[2] : (int) W;
  R[0] = p->ranks[0] > 0 ? p->ranks[0] : (int) MIN (C, (int64_t) R[1] * R[2]);
  memcpy (rep->ranks_requested, R, sizeof R);

  int64_t dims[3] = { C, H, W };
  g_autoptr (tl_tucker) t = tl_tucker_hooi_full (X, dims, R, p->sweeps, false, error);
  if (!t)
    return FALSE;
  memcpy (rep->ranks, t->ranks, sizeof rep->ranks);
  rep->sweeps_run = t->sweeps_run;
  rep->fit = t->fit;

  memset (S, 0, sizeof (double) * (gsize) N);
  int r = t->ranks[0] > 0 ? tl_linalg_numerical_rank (t->sigma, t->ranks[0]) : 0;
  if (r == 0)
    return TRUE;
  rep->sigma1 = t->sigma[0];
  g_autofree double *m = g_new (double, (gsize) N);
  g_autofree double *P = g_new (double, (gsize) N);
  tl_saliency_mean_map (X, C, N, m);
  if (p->method == TL_SALIENCY_TSM)
    {
      spatial_map (t, 0, P);
      int sg = tl_saliency_sign (P, m, N);
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
      spatial_map (t, k, P);
      int sg = tl_saliency_sign (P, m, N);
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
