#include "finish.h"

#include <cblas.h>
#include <math.h>

void
tl_saliency_mean_map (const double *X, int64_t C, int64_t N, double *m)
{
  /* m = (1/C)·Xᵀ·1, as one GEMV over the rows of X. */
  g_autofree double *ones = g_new (double, (gsize) C);
  for (int64_t c = 0; c < C; c++)
    ones[c] = 1.0 / (double) C;
  cblas_dgemv (CblasRowMajor, CblasTrans, (int) C, (int) N, 1.0, X, (int) N, ones, 1, 0.0,
               m, 1);
}

int
tl_saliency_sign (const double *p, const double *m, int64_t N)
{
  double mbar = 0.0, pp = 0.0, mm = 0.0, t = 0.0;
  for (int64_t n = 0; n < N; n++)
    mbar += m[n];
  mbar /= (double) N;
  for (int64_t n = 0; n < N; n++)
    {
      t += p[n] * (m[n] - mbar);
      pp += p[n] * p[n];
      mm += m[n] * m[n];
    }
  double tau = TL_SALIENCY_TIE_REL * sqrt (pp) * sqrt (mm);
  if (t > tau)
    return 1;
  if (t < -tau)
    return -1;
  /* Tie: the first entry of largest magnitude decides. Exact negation of p
   * keeps the same index, so the result never depends on LAPACK's sign. */
  double best = 0.0;
  for (int64_t n = 0; n < N; n++)
    if (fabs (p[n]) > fabs (best))
      best = p[n];
  return best < 0.0 ? -1 : 1;
}

bool
tl_saliency_finish (const double *s, int64_t N, float *out)
{
  double lo = INFINITY, hi = 0.0;
  for (int64_t n = 0; n < N; n++)
    {
      double v = s[n] > 0.0 ? s[n] : 0.0;
      lo = MIN (lo, v);
      hi = MAX (hi, v);
    }
  double range = hi - lo;
  if (N < 1 || !(hi > 0.0) || !(range > TL_SALIENCY_CONST_REL * hi))
    {
      for (int64_t n = 0; n < N; n++)
        out[n] = 0.0f;
      return true;
    }
  for (int64_t n = 0; n < N; n++)
    {
      double v = s[n] > 0.0 ? s[n] : 0.0;
      out[n] = (float) ((v - lo) / range);
    }
  return false;
}
