#include "precision-recall.h"
#include "check.h"
#include "knn.h"

static gboolean
coverage (const float *q, int64_t nq, const float *ref, int64_t nr, int64_t d, int k,
          double *fraction, GError **error)
{
  if (!tl_latent_check_bank (ref, nr, d, 1, "precision/recall reference set", error)
      || !tl_latent_check_bank (q, nq, d, 1, "precision/recall query set", error))
    return FALSE;
  double *radius = g_new (double, nr);
  gboolean *in = g_new (gboolean, nq);
  gboolean ok = tl_knn_radii (ref, nr, d, k, radius, error)
                && tl_knn_covered (q, nq, ref, nr, d, radius, in, error);
  if (ok)
    {
      int64_t c = 0;
      for (int64_t i = 0; i < nq; i++)
        c += in[i] != FALSE;
      *fraction = (double) c / (double) nq;
    }
  g_free (radius);
  g_free (in);
  return ok;
}

gboolean
tl_precision_recall (const float *real, int64_t nr, const float *gen, int64_t ng, int64_t d,
                     int k, double *precision, double *recall, GError **error)
{
  return coverage (gen, ng, real, nr, d, k, precision, error)
         && coverage (real, nr, gen, ng, d, k, recall, error);
}
