/* PMF/quantisation vicinity sampler; the exact rules are in methods.md,
 * Part B, and tests/data/latent/ref_sampler.py is the Python twin that the
 * tests compare against bit for bit. All arithmetic is double, and this file
 * is compiled with -ffp-contract=off, so lo + (l + u)·Δ rounds the same way
 * everywhere. */
#include "pmf.h"
#include "check.h"
#include "error.h"
#include "rng.h"

#include <math.h>

struct tl_pmf {
  int64_t  n, d;
  int      q, r;
  double  *lo;      /* [d] */
  double  *delta;   /* [d] level width; 0 for a constant dimension */
  int64_t *cum;     /* [d][q + 1] training latents below each level: prefix sums */
  uint16_t *levels; /* [n][d] level of each training latent (a row is 2d bytes, so the
                     * random row a sample starts from is one cache line for d <= 32) */
};

tl_pmf_params
tl_pmf_default_params (void)
{
  return (tl_pmf_params) { .levels = TL_PMF_DEFAULT_LEVELS,
                           .radius = TL_PMF_DEFAULT_RADIUS };
}

static gboolean
check_params (const tl_pmf_params *p, GError **error)
{
  if (p->levels < 1 || p->levels > TL_PMF_MAX_LEVELS)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "levels: %d is out of range (1 .. %d)", p->levels, TL_PMF_MAX_LEVELS);
      return FALSE;
    }
  if (p->radius < 0 || p->radius > TL_PMF_MAX_RADIUS)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "radius: %d is out of range (0 .. %d)", p->radius, TL_PMF_MAX_RADIUS);
      return FALSE;
    }
  return TRUE;
}

void
tl_pmf_free (tl_pmf *pmf)
{
  if (!pmf)
    return;
  g_free (pmf->lo);
  g_free (pmf->delta);
  g_free (pmf->cum);
  g_free (pmf->levels);
  g_free (pmf);
}

int64_t
tl_pmf_dim (const tl_pmf *pmf)
{
  return pmf->d;
}

tl_pmf *
tl_pmf_fit (const float *z, int64_t n, int64_t d, const tl_pmf_params *params,
            GError **error)
{
  g_return_val_if_fail (z != NULL || n == 0 || d == 0, NULL);
  g_return_val_if_fail (params != NULL, NULL);
  /* Sizes first: the table check must not depend on reading the data. */
  if (!check_params (params, error)
      || !tl_latent_check_alloc ((double) d * (params->levels + 1) * sizeof (int64_t)
                                 + (double) n * d * sizeof (uint16_t),
                                 "PMF tables", error)
      || !tl_latent_check_shape (n, d, 2, "latent bank", error))
    return NULL;
  int q = params->levels;

  /* One pass for the ranges and for finiteness: v·0 is 0 for a finite v
   * and NaN otherwise, so bad stays 0 only if every value is finite (a
   * branch-free sum the compiler can vectorise). */
  double *hi = g_new (double, d), *lo = g_new (double, d), *bad = g_new0 (double, d);
  for (int64_t j = 0; j < d; j++)
    lo[j] = hi[j] = z[j];
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < d; j++)
      {
        double v = z[i * d + j];
        lo[j] = MIN (lo[j], v);
        hi[j] = MAX (hi[j], v);
        bad[j] += v * 0.0;
      }
  double badsum = 0;
  for (int64_t j = 0; j < d; j++)
    badsum += bad[j];
  g_free (bad);
  if (badsum != 0.0 && !tl_latent_check_bank (z, n, d, 2, "latent bank", error))
    {
      g_free (hi);
      g_free (lo);
      return NULL;
    }

  tl_pmf *m = g_new0 (tl_pmf, 1);
  m->n = n;
  m->d = d;
  m->q = q;
  m->r = params->radius;
  m->lo = lo;
  m->delta = g_new (double, d);
  m->cum = g_new0 (int64_t, d * (q + 1));
  m->levels = g_new (uint16_t, n * d);

  /* A constant dimension divides by 1 instead of Δ = 0: z - lo is 0 there. */
  double *div = g_new (double, d);
  for (int64_t j = 0; j < d; j++)
    {
      m->delta[j] = (hi[j] - lo[j]) / q;
      div[j] = m->delta[j] == 0.0 ? 1.0 : m->delta[j];
    }
  g_free (hi);

  /* Levels, branch-free so that it vectorises: z >= lo makes the quotient
   * >= 0, min(t, q - 1) then truncation is clamp(floor(t), 0, q - 1). */
  const double top = (double) (q - 1);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < d; j++)
      {
        double t = ((double) z[i * d + j] - lo[j]) / div[j];
        m->levels[i * d + j] = (uint16_t) (int) MIN (t, top);
      }
  g_free (div);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < d; j++)
      m->cum[j * (q + 1) + m->levels[i * d + j] + 1]++;
  for (int64_t j = 0; j < d; j++)
    for (int l = 0; l < q; l++)
      m->cum[j * (q + 1) + l + 1] += m->cum[j * (q + 1) + l];
  return m;
}

/* Inverse CDF over the window [a, e]: the smallest level whose running
 * count (from a) exceeds u·total. With prefix sums C the running count at
 * l is C[l + 1] - C[a], the same integer the spec's running sum gives, so
 * the choice is identical. u·total < total for u < 1 and the window holds
 * the latent's own level, so some level of the window always qualifies. */
static inline int
pick_level (const int64_t *C, int a, int e, double u)
{
  const int64_t base = C[a];
  const double target = u * (double) (C[e + 1] - base);
  /* The running counts rise with l, so the first one above target is a
   * plus how many of them (before e) are not: a count with no branch to
   * mispredict. */
  int l = a;
  for (int k = a; k < e; k++)
    l += (double) (C[k + 1] - base) <= target;
  return l;
}

uint64_t
tl_pmf_draws_per_sample (const tl_pmf *m)
{
  return 1 + 2 * (uint64_t) m->d;
}

void
tl_pmf_sample (const tl_pmf *m, uint64_t seed, int64_t first_index, int64_t count, float *out)
{
  g_return_if_fail (m != NULL && first_index >= 0 && count >= 0);
  tl_rng rng;
  tl_rng_init (&rng, seed);
  tl_rng_discard (&rng, (uint64_t) first_index * tl_pmf_draws_per_sample (m));
  tl_pmf_sample_stream (m, &rng, count, out);
}

void
tl_pmf_sample_stream (const tl_pmf *m, tl_rng *rng, int64_t count, float *out)
{
  g_return_if_fail (m != NULL && rng != NULL && count >= 0);
  g_return_if_fail (out != NULL || count == 0);
  const int64_t n = m->n, d = m->d;
  const int q = m->q, r = m->r;
  for (int64_t k = 0; k < count; k++)
    {
      /* u·n >= 0: truncation is floor. */
      int64_t i = (int64_t) (tl_rng_uniform (rng) * (double) n);
      if (i >= n)
        i = n - 1;
      const uint16_t *own = m->levels + i * d;
      float *row = out + k * d;
      for (int64_t j = 0; j < d; j++)
        {
          int a = own[j] > r ? own[j] - r : 0;
          int e = own[j] < q - 1 - r ? own[j] + r : q - 1;
          int l = pick_level (m->cum + j * (q + 1), a, e, tl_rng_uniform (rng));
          double u = tl_rng_uniform (rng);
          row[j] = (float) (m->lo[j] + ((double) l + u) * m->delta[j]);
        }
    }
}
