#include "fid.h"
#include "check.h"
#include "error.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

/* Limit on d: the d×d work matrices must stay modest. */
#define TL_FID_MAX_DIM 8192

gboolean
tl_gaussian_stats (const float *x, int64_t n, int64_t d, double *mean, double *cov,
                   GError **error)
{
  if (!tl_latent_check_bank (x, n, d, 2, "feature set", error)
      || !tl_latent_check_alloc ((double) n * d * sizeof (double), "feature set copy", error))
    return FALSE;
  double *c = g_new (double, n * d);
  for (int64_t j = 0; j < d; j++)
    {
      double s = 0;
      for (int64_t i = 0; i < n; i++)
        s += x[i * d + j];
      mean[j] = s / n;
    }
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < d; j++)
      c[i * d + j] = x[i * d + j] - mean[j];
  cblas_dsyrk (CblasRowMajor, CblasLower, CblasTrans, (int) d, (int) n, 1.0 / (n - 1), c,
               (int) d, 0.0, cov, (int) d);
  for (int64_t a = 0; a < d; a++)
    for (int64_t b = a + 1; b < d; b++)
      cov[a * d + b] = cov[b * d + a];
  g_free (c);
  return TRUE;
}

/* Eigen-decomposition of symmetric m (overwritten by its eigenvectors,
 * row-major, columns are vectors); w gets the eigenvalues. */
static gboolean
sym_eig (double *m, int64_t d, double *w, const char *what, GError **error)
{
  lapack_int info = LAPACKE_dsyev (LAPACK_ROW_MAJOR, 'V', 'L', (lapack_int) d, m,
                                   (lapack_int) d, w);
  if (info != 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "FID: eigen-decomposition of %s failed (LAPACK info %d)", what, (int) info);
      return FALSE;
    }
  return TRUE;
}

gboolean
tl_frechet_distance (const double *mu1, const double *cov1, const double *mu2,
                     const double *cov2, int64_t d, double *out, GError **error)
{
  if (d < 1 || d > TL_FID_MAX_DIM)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "FID: feature dimension %" G_GINT64_FORMAT " is out of range (1 .. %d)", d,
                   TL_FID_MAX_DIM);
      return FALSE;
    }
  for (int64_t i = 0; i < d * d; i++)
    if (!isfinite (cov1[i]) || !isfinite (cov2[i]))
      {
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "FID: covariance is not finite");
        return FALSE;
      }
  double *v = g_new (double, d * d);
  double *s = g_new (double, d * d);   /* Σ1^½ */
  double *t = g_new (double, d * d);
  double *w = g_new (double, d);
  gboolean ok = FALSE;

  memcpy (v, cov1, d * d * sizeof (double));
  if (!sym_eig (v, d, w, "the first covariance", error))
    goto out;
  /* s = V diag(sqrt w) Vᵀ: scale V's columns by w^¼, then s = V' V'ᵀ. */
  for (int64_t j = 0; j < d; j++)
    {
      double f = sqrt (sqrt (MAX (w[j], 0.0)));
      for (int64_t i = 0; i < d; i++)
        v[i * d + j] *= f;
    }
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) d, (int) d, (int) d, 1.0, v,
               (int) d, v, (int) d, 0.0, s, (int) d);
  /* t = s Σ2 s, symmetrised against round-off. */
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) d, (int) d, (int) d, 1.0, s,
               (int) d, cov2, (int) d, 0.0, v, (int) d);
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) d, (int) d, (int) d, 1.0, v,
               (int) d, s, (int) d, 0.0, t, (int) d);
  for (int64_t a = 0; a < d; a++)
    for (int64_t b = a + 1; b < d; b++)
      t[a * d + b] = t[b * d + a] = 0.5 * (t[a * d + b] + t[b * d + a]);
  if (!sym_eig (t, d, w, "the covariance product", error))
    goto out;
  double tr_sqrt = 0, tr1 = 0, tr2 = 0, dm = 0;
  for (int64_t j = 0; j < d; j++)
    {
      tr_sqrt += sqrt (MAX (w[j], 0.0));
      tr1 += cov1[j * d + j];
      tr2 += cov2[j * d + j];
      dm += (mu1[j] - mu2[j]) * (mu1[j] - mu2[j]);
    }
  *out = MAX (dm + tr1 + tr2 - 2 * tr_sqrt, 0.0);
  ok = TRUE;
out:
  g_free (v);
  g_free (s);
  g_free (t);
  g_free (w);
  return ok;
}

gboolean
tl_fid (const float *a, int64_t na, const float *b, int64_t nb, int64_t d, double *out,
        GError **error)
{
  if (d < 1 || d > TL_FID_MAX_DIM)
    return tl_frechet_distance (NULL, NULL, NULL, NULL, d, out, error);
  double *mu1 = g_new (double, d), *mu2 = g_new (double, d);
  double *c1 = g_new (double, d * d), *c2 = g_new (double, d * d);
  gboolean ok = tl_gaussian_stats (a, na, d, mu1, c1, error)
                && tl_gaussian_stats (b, nb, d, mu2, c2, error)
                && tl_frechet_distance (mu1, c1, mu2, c2, d, out, error);
  g_free (mu1);
  g_free (mu2);
  g_free (c1);
  g_free (c2);
  return ok;
}
