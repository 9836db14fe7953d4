#include "wasserstein.h"
#include "check.h"
#include "error.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>

double
tl_wasserstein_1d_sorted (const double *a, int64_t na, const double *b, int64_t nb, int p)
{
  /* Quantile steps sit at i/na and j/nb; in units of 1/(na·nb) they are
   * the integers i·nb and j·na, so the walk has no round-off in t. */
  int64_t i = 0, j = 0, t = 0;
  double sum = 0;
  while (i < na && j < nb)
    {
      int64_t ea = (i + 1) * nb, eb = (j + 1) * na;
      int64_t e = MIN (ea, eb);
      double diff = fabs (a[i] - b[j]);
      sum += (p == 1 ? diff : diff * diff) * (double) (e - t);
      t = e;
      i += ea == e;
      j += eb == e;
    }
  return sum / ((double) na * (double) nb);
}

void
tl_sliced_directions (int64_t d, int count, uint64_t seed, double *out)
{
  tl_rng rng;
  tl_rng_init (&rng, seed);
  for (int c = 0; c < count; c++)
    {
      double *v = out + c * d, norm = 0;
      for (int64_t j = 0; j < d; j += 2)
        {
          double z[2];
          tl_rng_normal_pair (&rng, z);
          v[j] = z[0];
          if (j + 1 < d)
            v[j + 1] = z[1];
        }
      for (int64_t j = 0; j < d; j++)
        norm += v[j] * v[j];
      norm = sqrt (norm);
      for (int64_t j = 0; j < d; j++)
        v[j] = norm > 0 ? v[j] / norm : (j == 0);
    }
}

static int
cmp_double (const void *x, const void *y)
{
  double a = *(const double *) x, b = *(const double *) y;
  return (a > b) - (a < b);
}

static gboolean
check_pair (const float *a, int64_t na, const float *b, int64_t nb, int64_t d, GError **error)
{
  return tl_latent_check_bank (a, na, d, 1, "first set", error)
         && tl_latent_check_bank (b, nb, d, 1, "second set", error)
         && tl_latent_check_alloc ((double) (na + nb) * sizeof (double)
                                   + (double) TL_SLICED_DIRECTIONS * d * sizeof (double),
                                   "Wasserstein work arrays", error);
}

/* pa[i] = a_i · v for every row. */
static void
project (const float *a, int64_t n, int64_t d, const double *v, double *pa)
{
  for (int64_t i = 0; i < n; i++)
    {
      double s = 0;
      for (int64_t j = 0; j < d; j++)
        s += a[i * d + j] * v[j];
      pa[i] = s;
    }
  qsort (pa, n, sizeof (double), cmp_double);
}

gboolean
tl_sliced_w2 (const float *a, int64_t na, const float *b, int64_t nb, int64_t d, double *out,
              GError **error)
{
  if (!check_pair (a, na, b, nb, d, error))
    return FALSE;
  double *dirs = g_new (double, TL_SLICED_DIRECTIONS * d);
  double *pa = g_new (double, na), *pb = g_new (double, nb);
  tl_sliced_directions (d, TL_SLICED_DIRECTIONS, TL_SLICED_SEED, dirs);
  double sum = 0;
  for (int c = 0; c < TL_SLICED_DIRECTIONS; c++)
    {
      project (a, na, d, dirs + c * d, pa);
      project (b, nb, d, dirs + c * d, pb);
      sum += tl_wasserstein_1d_sorted (pa, na, pb, nb, 2);
    }
  *out = sqrt (sum / TL_SLICED_DIRECTIONS);
  g_free (dirs);
  g_free (pa);
  g_free (pb);
  return TRUE;
}

gboolean
tl_mean_w1 (const float *a, int64_t na, const float *b, int64_t nb, int64_t d, double *out,
            GError **error)
{
  if (!check_pair (a, na, b, nb, d, error))
    return FALSE;
  double *pa = g_new (double, na), *pb = g_new (double, nb), *e = g_new0 (double, d);
  double sum = 0;
  for (int64_t j = 0; j < d; j++)
    {
      e[j] = 1;
      project (a, na, d, e, pa);
      project (b, nb, d, e, pb);
      e[j] = 0;
      sum += tl_wasserstein_1d_sorted (pa, na, pb, nb, 1);
    }
  *out = sum / d;
  g_free (pa);
  g_free (pb);
  g_free (e);
  return TRUE;
}
