#include "precision-recall.h"
#include "check.h"
#include "knn.h"

/* Fraction of q inside the union of balls radius[j] around ref[j]. */
static gboolean
covered_fraction (const float *q, int64_t nq, const float *ref, int64_t nr, int64_t d,
                  const double *radius, double *fraction, GError **error)
{
  gboolean *in = g_new (gboolean, nq);
  gboolean ok = tl_knn_covered (q, nq, ref, nr, d, radius, in, error);
  if (ok)
    {
      int64_t c = 0;
      for (int64_t i = 0; i < nq; i++)
        c += in[i] != FALSE;
      *fraction = (double) c / (double) nq;
    }
  g_free (in);
  return ok;
}

static gboolean
coverage (const float *q, int64_t nq, const float *ref, int64_t nr, int64_t d, int k,
          double *fraction, GError **error)
{
  if (!tl_latent_check_bank (ref, nr, d, 1, "precision/recall reference set", error)
      || !tl_latent_check_bank (q, nq, d, 1, "precision/recall query set", error))
    return FALSE;
  double *radius = g_new (double, nr);
  gboolean ok = tl_knn_radii (ref, nr, d, k, radius, error)
                && covered_fraction (q, nq, ref, nr, d, radius, fraction, error);
  g_free (radius);
  return ok;
}

double *
tl_precision_recall_radii (const float *real, int64_t nr, int64_t d, int k, GError **error)
{
  if (!tl_latent_check_bank (real, nr, d, 1, "precision/recall reference set", error))
    return NULL;
  double *radius = g_new (double, nr);
  if (!tl_knn_radii (real, nr, d, k, radius, error))
    g_clear_pointer (&radius, g_free);
  return radius;
}

gboolean
tl_precision_recall_cached (const float *real, int64_t nr, const double *real_radius,
                            const float *gen, int64_t ng, int64_t d, int k, double *precision,
                            double *recall, GError **error)
{
  return tl_latent_check_bank (gen, ng, d, 1, "precision/recall query set", error)
         && covered_fraction (gen, ng, real, nr, d, real_radius, precision, error)
         && coverage (real, nr, gen, ng, d, k, recall, error);
}

gboolean
tl_precision_recall (const float *real, int64_t nr, const float *gen, int64_t ng, int64_t d,
                     int k, double *precision, double *recall, GError **error)
{
  return coverage (gen, ng, real, nr, d, k, precision, error)
         && coverage (real, nr, gen, ng, d, k, recall, error);
}
