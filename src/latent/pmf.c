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
  int64_t *counts;  /* [d][q] training latents per level */
  int32_t *levels;  /* [n][d] level of each training latent */
};

tl_pmf_params
tl_pmf_default_params (void)
{
  return (tl_pmf_params) { .levels = 20, .radius = 2 };
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
  g_free (pmf->counts);
  g_free (pmf->levels);
  g_free (pmf);
}

int64_t
tl_pmf_dim (const tl_pmf *pmf)
{
  return pmf->d;
}

static int32_t
level_of (double z, double lo, double delta, int q)
{
  if (delta == 0.0)
    return 0;
  /* z >= lo, so the quotient is >= 0 and truncation is floor (without a
   * libm call); the comparisons clamp before any out-of-range cast. */
  double b = (z - lo) / delta;
  if (!(b >= 0.0))
    return 0;
  if (b >= (double) q)
    return q - 1;
  return MIN ((int32_t) b, q - 1);
}

tl_pmf *
tl_pmf_fit (const float *z, int64_t n, int64_t d, const tl_pmf_params *params,
            GError **error)
{
  g_return_val_if_fail (z != NULL || n == 0 || d == 0, NULL);
  g_return_val_if_fail (params != NULL, NULL);
  /* Sizes first: the table check must not depend on reading the data. */
  if (!check_params (params, error)
      || !tl_latent_check_alloc ((double) d * params->levels * sizeof (int64_t)
                                 + (double) n * d * sizeof (int32_t),
                                 "PMF tables", error)
      || !tl_latent_check_bank (z, n, d, 2, "latent bank", error))
    return NULL;
  int q = params->levels;

  tl_pmf *m = g_new0 (tl_pmf, 1);
  m->n = n;
  m->d = d;
  m->q = q;
  m->r = params->radius;
  m->lo = g_new (double, d);
  m->delta = g_new (double, d);
  m->counts = g_new0 (int64_t, d * q);
  m->levels = g_new (int32_t, n * d);

  double *hi = g_new (double, d);
  for (int64_t j = 0; j < d; j++)
    m->lo[j] = hi[j] = z[j];
  for (int64_t i = 1; i < n; i++)
    for (int64_t j = 0; j < d; j++)
      {
        double v = z[i * d + j];
        m->lo[j] = MIN (m->lo[j], v);
        hi[j] = MAX (hi[j], v);
      }
  for (int64_t j = 0; j < d; j++)
    m->delta[j] = (hi[j] - m->lo[j]) / q;
  g_free (hi);

  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < d; j++)
      {
        int32_t b = level_of (z[i * d + j], m->lo[j], m->delta[j], q);
        m->levels[i * d + j] = b;
        m->counts[j * q + b]++;
      }
  return m;
}

/* Inverse CDF over the window [a, e] of counts c: the smallest level whose
 * running count exceeds u·total. u·total < total for u < 1 (see
 * methods.md), and the window holds the latent's own level, so the loop
 * always returns; the final return only guards against the impossible. */
static int
pick_level (const int64_t *c, int a, int e, double u)
{
  int64_t total = 0;
  for (int l = a; l <= e; l++)
    total += c[l];
  double target = u * (double) total;
  int64_t run = 0;
  for (int l = a; l <= e; l++)
    {
      run += c[l];
      if ((double) run > target)
        return l;
    }
  return e;
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
      const int32_t *own = m->levels + i * d;
      float *row = out + k * d;
      for (int64_t j = 0; j < d; j++)
        {
          int a = own[j] > r ? own[j] - r : 0;
          int e = own[j] < q - 1 - r ? own[j] + r : q - 1;
          int l = pick_level (m->counts + j * q, a, e, tl_rng_uniform (rng));
          double u = tl_rng_uniform (rng);
          row[j] = (float) (m->lo[j] + ((double) l + u) * m->delta[j]);
        }
    }
}
