/* Gaussian mixture, full covariances, fitted by EM after k-means (see
 * gmm.h). The E-step works on Cholesky factors: for component c,
 * Y = (X - μ_c)·L_c^{-T} by one triangular solve, so log N = -(d log 2π +
 * log|Σ_c| + |y|²)/2 costs n·d² per component, as in scikit-learn. */
#include "gmm.h"
#include "check.h"
#include "error.h"
#include "kmeans.h"
#include "rng.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

struct tl_gmm {
  int      k;
  int64_t  d;
  double  *weights;  /* [k] */
  double  *means;    /* [k][d] */
  double  *covs;     /* [k][d][d] */
  double  *chol;     /* [k][d][d], lower triangle, zeros above */
  double  *logdet;   /* [k] log |Σ_c| */
  int      iterations;
  gboolean converged;
};

tl_gmm_params
tl_gmm_default_params (void)
{
  return (tl_gmm_params) {
    .components = 10, .tol = 1e-3, .max_iter = 2000, .reg_covar = 1e-6,
    .kmeans_max_iter = 300, .init_seed = 0,
  };
}

static tl_gmm *
gmm_alloc (int k, int64_t d)
{
  tl_gmm *g = g_new0 (tl_gmm, 1);
  g->k = k;
  g->d = d;
  g->weights = g_new0 (double, k);
  g->means = g_new0 (double, (int64_t) k * d);
  g->covs = g_new0 (double, (int64_t) k * d * d);
  g->chol = g_new0 (double, (int64_t) k * d * d);
  g->logdet = g_new0 (double, k);
  return g;
}

void
tl_gmm_free (tl_gmm *g)
{
  if (!g)
    return;
  g_free (g->weights);
  g_free (g->means);
  g_free (g->covs);
  g_free (g->chol);
  g_free (g->logdet);
  g_free (g);
}

int tl_gmm_components (const tl_gmm *g) { return g->k; }
int64_t tl_gmm_dim (const tl_gmm *g) { return g->d; }
const double *tl_gmm_weights (const tl_gmm *g) { return g->weights; }
const double *tl_gmm_means (const tl_gmm *g) { return g->means; }
const double *tl_gmm_covariances (const tl_gmm *g) { return g->covs; }
int tl_gmm_iterations (const tl_gmm *g) { return g->iterations; }
gboolean tl_gmm_converged (const tl_gmm *g) { return g->converged; }

/* Cholesky factors and log-determinants of every covariance. */
static gboolean
factorise (tl_gmm *g, GError **error)
{
  const int64_t d = g->d;
  for (int c = 0; c < g->k; c++)
    {
      double *L = g->chol + c * d * d;
      memcpy (L, g->covs + c * d * d, d * d * sizeof (double));
      lapack_int info = LAPACKE_dpotrf (LAPACK_ROW_MAJOR, 'L', (lapack_int) d, L, (lapack_int) d);
      if (info != 0)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "GMM component %d: covariance is not positive definite "
                       "(Cholesky failed at column %d); the latents may be degenerate, "
                       "a larger reg_covar helps", c, (int) info);
          return FALSE;
        }
      double ld = 0;
      for (int64_t i = 0; i < d; i++)
        {
          ld += 2 * log (L[i * d + i]);
          for (int64_t j = i + 1; j < d; j++)
            L[i * d + j] = 0;
        }
      g->logdet[c] = ld;
    }
  return TRUE;
}

/* logp[i][c] = log w_c + log N(x_i | μ_c, Σ_c); y is n·d scratch. Returns
 * the mean over i of log Σ_c exp(logp[i][c]); with resp != NULL also the
 * responsibilities exp(logp - logsumexp). */
static double
log_probs (const tl_gmm *g, const double *x, int64_t n, double *logp, double *y, double *resp)
{
  const int64_t d = g->d;
  const int k = g->k;
  const double log2pi = log (2 * M_PI);
  for (int c = 0; c < k; c++)
    {
      const double *mu = g->means + c * d;
      for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
          y[i * d + j] = x[i * d + j] - mu[j];
      cblas_dtrsm (CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit,
                   (int) n, (int) d, 1.0, g->chol + c * d * d, (int) d, y, (int) d);
      double lw = g->weights[c] > 0 ? log (g->weights[c]) : -INFINITY;
      for (int64_t i = 0; i < n; i++)
        {
          double sq = 0;
          for (int64_t j = 0; j < d; j++)
            sq += y[i * d + j] * y[i * d + j];
          logp[i * k + c] = lw - 0.5 * (d * log2pi + g->logdet[c] + sq);
        }
    }
  double total = 0;
  for (int64_t i = 0; i < n; i++)
    {
      const double *lp = logp + i * k;
      double mx = lp[0];
      for (int c = 1; c < k; c++)
        mx = MAX (mx, lp[c]);
      double s = 0;
      for (int c = 0; c < k; c++)
        s += exp (lp[c] - mx);
      double lse = mx + log (s);
      total += lse;
      if (resp)
        for (int c = 0; c < k; c++)
          resp[i * k + c] = exp (lp[c] - lse);
    }
  return total / n;
}

/* Weights, means and regularised covariances from responsibilities. */
static void
m_step (tl_gmm *g, const double *x, int64_t n, const double *resp, double reg, double *w)
{
  const int64_t d = g->d;
  const int k = g->k;
  double nk[k];
  double sum = 0;
  for (int c = 0; c < k; c++)
    {
      nk[c] = 10 * DBL_EPSILON;  /* keeps an emptied component finite, as sklearn */
      for (int64_t i = 0; i < n; i++)
        nk[c] += resp[i * k + c];
      sum += nk[c];
    }
  /* means = respᵀ·x / nk */
  cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, k, (int) d, (int) n, 1.0, resp, k,
               x, (int) d, 0.0, g->means, (int) d);
  for (int c = 0; c < k; c++)
    {
      g->weights[c] = nk[c] / sum;
      double *mu = g->means + c * d;
      for (int64_t j = 0; j < d; j++)
        mu[j] /= nk[c];
      for (int64_t i = 0; i < n; i++)
        {
          double s = sqrt (resp[i * k + c]);
          for (int64_t j = 0; j < d; j++)
            w[i * d + j] = s * (x[i * d + j] - mu[j]);
        }
      double *cov = g->covs + c * d * d;
      cblas_dsyrk (CblasRowMajor, CblasLower, CblasTrans, (int) d, (int) n, 1.0 / nk[c], w,
                   (int) d, 0.0, cov, (int) d);
      for (int64_t a = 0; a < d; a++)
        {
          cov[a * d + a] += reg;
          for (int64_t b = a + 1; b < d; b++)
            cov[a * d + b] = cov[b * d + a];
        }
    }
}

static gboolean
check_params (const tl_gmm_params *p, int64_t n, int64_t d, GError **error)
{
  if (p->components < 1 || p->components > TL_GMM_MAX_COMPONENTS)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "components: %d is out of range (1 .. %d)", p->components,
                   TL_GMM_MAX_COMPONENTS);
      return FALSE;
    }
  if (n >= 0 && p->components > n)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "components: %d is more than the %" G_GINT64_FORMAT " latents to fit",
                   p->components, n);
      return FALSE;
    }
  if (d > TL_GMM_MAX_DIM)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "latent dimension %" G_GINT64_FORMAT " is more than the GMM's limit of %d",
                   d, TL_GMM_MAX_DIM);
      return FALSE;
    }
  if (!(p->tol >= 0) || p->max_iter < 1 || !(p->reg_covar >= 0) || !isfinite (p->reg_covar)
      || p->kmeans_max_iter < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "GMM parameters: need tol >= 0, max_iter >= 1, finite reg_covar >= 0, "
                   "kmeans_max_iter >= 1");
      return FALSE;
    }
  return TRUE;
}

tl_gmm *
tl_gmm_fit (const float *z, int64_t n, int64_t d, const tl_gmm_params *params,
            tl_latent_progress_fn progress, gpointer progress_data, GError **error)
{
  g_return_val_if_fail (params != NULL, NULL);
  const int k = params->components;
  /* The bank's own problems first, then the parameters against it. */
  if (!check_params (params, -1, d, error)
      || !tl_latent_check_bank (z, n, d, 2, "latent bank", error)
      || !check_params (params, n, d, error)
      || !tl_latent_check_alloc (((double) n * (2 * d + 3 * k) + 2.0 * k * d * d)
                                 * sizeof (double), "GMM working memory", error))
    return NULL;

  double *x = g_new (double, n * d);
  for (int64_t i = 0; i < n * d; i++)
    x[i] = z[i];
  double *resp = g_new0 (double, n * k);
  double *logp = g_new (double, n * k);
  double *work = g_new (double, n * d);
  int32_t *labels = g_new (int32_t, n);
  tl_gmm *g = gmm_alloc (k, d);
  gboolean ok = TRUE;

  tl_rng rng;
  tl_rng_init (&rng, params->init_seed);
  tl_kmeans (x, n, d, k, params->kmeans_max_iter, &rng, progress, progress_data, labels,
             g->means);
  for (int64_t i = 0; i < n; i++)
    resp[i * k + labels[i]] = 1;
  m_step (g, x, n, resp, params->reg_covar, work);

  double lower = -INFINITY;
  for (int it = 1; it <= params->max_iter; it++)
    {
      if (!(ok = factorise (g, error)))
        break;
      double prev = lower;
      lower = log_probs (g, x, n, logp, work, resp);
      m_step (g, x, n, resp, params->reg_covar, work);
      g->iterations = it;
      if (progress)
        progress (&(tl_latent_progress) { "EM", it, params->max_iter, lower }, progress_data);
      if (fabs (lower - prev) < params->tol)
        {
          g->converged = TRUE;
          break;
        }
    }
  if (ok)
    ok = factorise (g, error);
  g_free (x);
  g_free (resp);
  g_free (logp);
  g_free (work);
  g_free (labels);
  if (!ok)
    {
      tl_gmm_free (g);
      return NULL;
    }
  return g;
}

tl_gmm *
tl_gmm_new (int k, int64_t d, const double *weights, const double *means,
            const double *covariances, GError **error)
{
  tl_gmm_params p = tl_gmm_default_params ();
  p.components = k;
  if (!check_params (&p, -1, d, error))
    return NULL;
  if (d < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "latent dimension must be at least 1");
      return NULL;
    }
  double sum = 0;
  for (int c = 0; c < k; c++)
    {
      if (!(weights[c] >= 0) || !isfinite (weights[c]))
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "GMM weight %d is %g; weights must be finite and >= 0", c, weights[c]);
          return NULL;
        }
      sum += weights[c];
    }
  if (!(sum > 0))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "GMM weights sum to zero");
      return NULL;
    }
  tl_gmm *g = gmm_alloc (k, d);
  for (int c = 0; c < k; c++)
    g->weights[c] = weights[c] / sum;
  memcpy (g->means, means, (size_t) k * d * sizeof (double));
  memcpy (g->covs, covariances, (size_t) k * d * d * sizeof (double));
  g->converged = TRUE;
  if (!factorise (g, error))
    {
      tl_gmm_free (g);
      return NULL;
    }
  return g;
}

tl_gmm *
tl_gmm_new_prior (int64_t d, GError **error)
{
  if (d < 1 || d > TL_GMM_MAX_DIM)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "latent dimension %" G_GINT64_FORMAT " is out of range (1 .. %d)", d,
                   TL_GMM_MAX_DIM);
      return NULL;
    }
  double w = 1;
  double *mu = g_new0 (double, d);
  double *cov = g_new0 (double, d * d);
  for (int64_t j = 0; j < d; j++)
    cov[j * d + j] = 1;
  tl_gmm *g = tl_gmm_new (1, d, &w, mu, cov, error);
  g_free (mu);
  g_free (cov);
  return g;
}

gboolean
tl_gmm_score (const tl_gmm *g, const float *z, int64_t n, double *mean_loglik, GError **error)
{
  if (!tl_latent_check_alloc ((double) n * (2 * g->d + g->k) * sizeof (double),
                              "GMM scoring memory", error)
      || !tl_latent_check_bank (z, n, g->d, 1, "latents to score", error))
    return FALSE;
  double *x = g_new (double, n * g->d);
  for (int64_t i = 0; i < n * g->d; i++)
    x[i] = z[i];
  double *logp = g_new (double, n * g->k);
  double *y = g_new (double, n * g->d);
  *mean_loglik = log_probs (g, x, n, logp, y, NULL);
  g_free (x);
  g_free (logp);
  g_free (y);
  return TRUE;
}

uint64_t
tl_gmm_draws_per_sample (const tl_gmm *g)
{
  return 1 + 2 * (uint64_t) ((g->d + 1) / 2);
}

void
tl_gmm_sample (const tl_gmm *g, uint64_t seed, int64_t first_index, int64_t count, float *out)
{
  g_return_if_fail (g != NULL && first_index >= 0 && count >= 0);
  tl_rng rng;
  tl_rng_init (&rng, seed);
  tl_rng_discard (&rng, (uint64_t) first_index * tl_gmm_draws_per_sample (g));
  tl_gmm_sample_stream (g, &rng, count, out);
}

void
tl_gmm_sample_stream (const tl_gmm *g, tl_rng *rng, int64_t count, float *out)
{
  g_return_if_fail (g != NULL && rng != NULL && count >= 0);
  g_return_if_fail (out != NULL || count == 0);
  const int64_t d = g->d, pairs = (d + 1) / 2;
  double *eps = g_new (double, 2 * pairs);
  for (int64_t s = 0; s < count; s++)
    {
      double u = tl_rng_uniform (rng), run = 0;
      int c = g->k - 1;
      for (int i = 0; i < g->k; i++)
        {
          run += g->weights[i];
          if (run > u)
            {
              c = i;
              break;
            }
        }
      for (int64_t p = 0; p < pairs; p++)
        tl_rng_normal_pair (rng, eps + 2 * p);
      const double *L = g->chol + c * d * d, *mu = g->means + c * d;
      for (int64_t j = 0; j < d; j++)
        {
          double v = mu[j];
          for (int64_t l = 0; l <= j; l++)
            v += L[j * d + l] * eps[l];
          out[s * d + j] = (float) v;
        }
    }
  g_free (eps);
}
