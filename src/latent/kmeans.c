#include "kmeans.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

static double
sqdist (const double *a, const double *b, int64_t d)
{
  double s = 0;
  for (int64_t j = 0; j < d; j++)
    {
      double t = a[j] - b[j];
      s += t * t;
    }
  return s;
}

/* Smallest i whose running sum of w exceeds target; n - 1 if none does
 * (round-off at the very end of the sum). */
static int64_t
pick_weighted (const double *w, int64_t n, double target)
{
  double run = 0;
  for (int64_t i = 0; i < n; i++)
    {
      run += w[i];
      if (run > target)
        return i;
    }
  return n - 1;
}

static void
seed_plusplus (const double *x, int64_t n, int64_t d, int k, tl_rng *rng, double *centres,
               double *closest)
{
  int trials = 2 + (int) floor (log ((double) k));
  int64_t first = (int64_t) floor (tl_rng_uniform (rng) * (double) n);
  first = MIN (first, n - 1);
  memcpy (centres, x + first * d, d * sizeof (double));
  double pot = 0;
  for (int64_t i = 0; i < n; i++)
    pot += closest[i] = sqdist (x + i * d, centres, d);

  for (int c = 1; c < k; c++)
    {
      int64_t best = -1;
      double best_pot = INFINITY;
      for (int t = 0; t < trials; t++)
        {
          double u = tl_rng_uniform (rng);
          int64_t idx = pot > 0 ? pick_weighted (closest, n, u * pot)
                                : MIN ((int64_t) floor (u * (double) n), n - 1);
          double p = 0;
          for (int64_t i = 0; i < n; i++)
            p += MIN (closest[i], sqdist (x + i * d, x + idx * d, d));
          if (p < best_pot)
            {
              best_pot = p;
              best = idx;
            }
        }
      memcpy (centres + (int64_t) c * d, x + best * d, d * sizeof (double));
      pot = 0;
      for (int64_t i = 0; i < n; i++)
        pot += closest[i] = MIN (closest[i], sqdist (x + i * d, x + best * d, d));
    }
}

/* Nearest centre of every point (lowest index on ties); returns how many
 * labels changed. dist[i] gets the squared distance to it. */
static int64_t
assign (const double *x, int64_t n, int64_t d, int k, const double *centres, double *cross,
        const double *xnorm, int32_t *labels, double *dist)
{
  double cnorm[k];
  for (int c = 0; c < k; c++)
    cnorm[c] = cblas_ddot ((int) d, centres + (int64_t) c * d, 1, centres + (int64_t) c * d, 1);
  /* cross = x · centresᵀ, n × k */
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) n, k, (int) d, 1.0, x, (int) d,
               centres, (int) d, 0.0, cross, k);
  int64_t changed = 0;
  for (int64_t i = 0; i < n; i++)
    {
      int best = 0;
      double bd = INFINITY;
      for (int c = 0; c < k; c++)
        {
          double v = xnorm[i] - 2 * cross[i * k + c] + cnorm[c];
          if (v < bd)
            {
              bd = v;
              best = c;
            }
        }
      changed += labels[i] != best;
      labels[i] = best;
      dist[i] = MAX (bd, 0.0);
    }
  return changed;
}

void
tl_kmeans (const double *x, int64_t n, int64_t d, int k, int max_iter, tl_rng *rng,
           tl_latent_progress_fn progress, gpointer progress_data,
           int32_t *labels, double *centres)
{
  double *cross = g_new (double, n * k);
  double *dist = g_new (double, n);
  double *xnorm = g_new (double, n);
  double *old = g_new (double, (int64_t) k * d);
  int64_t *count = g_new (int64_t, k);

  seed_plusplus (x, n, d, k, rng, centres, dist);

  /* scikit-learn's tolerance: 1e-4 of the mean per-dimension variance. */
  double tol = 0;
  for (int64_t j = 0; j < d; j++)
    {
      double m = 0, v = 0;
      for (int64_t i = 0; i < n; i++)
        m += x[i * d + j];
      m /= n;
      for (int64_t i = 0; i < n; i++)
        v += (x[i * d + j] - m) * (x[i * d + j] - m);
      tol += v / n;
    }
  tol = 1e-4 * tol / d;

  for (int64_t i = 0; i < n; i++)
    {
      xnorm[i] = cblas_ddot ((int) d, x + i * d, 1, x + i * d, 1);
      labels[i] = -1;
    }
  for (int it = 0; it < max_iter; it++)
    {
      int64_t changed = assign (x, n, d, k, centres, cross, xnorm, labels, dist);
      if (progress)
        progress (&(tl_latent_progress) { "k-means", it + 1, max_iter, (double) changed },
                  progress_data);
      if (changed == 0)
        break;
      memcpy (old, centres, (size_t) k * d * sizeof (double));
      memset (centres, 0, (size_t) k * d * sizeof (double));
      memset (count, 0, (size_t) k * sizeof (int64_t));
      for (int64_t i = 0; i < n; i++)
        {
          count[labels[i]]++;
          for (int64_t j = 0; j < d; j++)
            centres[labels[i] * d + j] += x[i * d + j];
        }
      for (int c = 0; c < k; c++)
        {
          if (count[c] > 0)
            {
              for (int64_t j = 0; j < d; j++)
                centres[c * d + j] /= count[c];
              continue;
            }
          /* An empty cluster takes the point farthest from its centre. */
          int64_t far = 0;
          for (int64_t i = 1; i < n; i++)
            if (dist[i] > dist[far])
              far = i;
          memcpy (centres + (int64_t) c * d, x + far * d, d * sizeof (double));
          dist[far] = 0;
        }
      double shift = 0;
      for (int64_t j = 0; j < (int64_t) k * d; j++)
        shift += (centres[j] - old[j]) * (centres[j] - old[j]);
      if (shift <= tol)
        {
          assign (x, n, d, k, centres, cross, xnorm, labels, dist);
          break;
        }
    }
  g_free (cross);
  g_free (dist);
  g_free (xnorm);
  g_free (old);
  g_free (count);
}
