#include "memorisation.h"
#include "check.h"
#include "knn.h"

#include <math.h>
#include <stdlib.h>

const double tl_memo_levels[TL_MEMO_QUANTILES] = { 0.05, 0.25, 0.5, 0.75, 0.95 };

double
tl_quantile_sorted (const double *x, int64_t n, double p)
{
  double h = (double) (n - 1) * p;
  int64_t lo = (int64_t) floor (h);
  if (lo >= n - 1)
    return x[n - 1];
  return x[lo] + (h - (double) lo) * (x[lo + 1] - x[lo]);
}

static int
cmp_double (const void *x, const void *y)
{
  double a = *(const double *) x, b = *(const double *) y;
  return (a > b) - (a < b);
}

gboolean
tl_memorisation_measure (const float *train, int64_t ntrain, const float *samples, int64_t ns,
                         const float *heldout, int64_t nh, int64_t d, tl_memorisation *out,
                         GError **error)
{
  if (!tl_latent_check_bank (samples, ns, d, 1, "samples", error)
      || !tl_latent_check_bank (heldout, nh, d, 1, "held-out latents", error))
    return FALSE;
  double *ds = g_new (double, ns), *dh = g_new (double, nh);
  gboolean ok = tl_nn_distances (samples, ns, train, ntrain, d, ds, error)
                && tl_nn_distances (heldout, nh, train, ntrain, d, dh, error);
  if (ok)
    {
      qsort (ds, ns, sizeof (double), cmp_double);
      qsort (dh, nh, sizeof (double), cmp_double);
      for (int q = 0; q < TL_MEMO_QUANTILES; q++)
        {
          out->samples[q] = tl_quantile_sorted (ds, ns, tl_memo_levels[q]);
          out->heldout[q] = tl_quantile_sorted (dh, nh, tl_memo_levels[q]);
        }
      int64_t below = 0;
      while (below < ns && ds[below] < out->heldout[0])
        below++;
      out->below_heldout_q05 = (double) below / (double) ns;
    }
  g_free (ds);
  g_free (dh);
  return ok;
}
