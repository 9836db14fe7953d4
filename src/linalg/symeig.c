#include "symeig.h"
#include "error.h"

#include <cblas.h>
#include <lapacke.h>
#include <float.h>
#include <stdbool.h>
#include <math.h>
#include <string.h>

/* Z receives the eigenvectors as columns (n×k, row-major) or, when rows,
 * as rows (k×n): the layout that lets a caller walk each vector
 * contiguously, copied straight from LAPACK's column-major output. */
static gboolean
symeig_top (int n, double *A, int k, double *w, double *Z, bool rows, GError **error)
{
  g_return_val_if_fail (n >= 1 && k >= 1 && k <= n, FALSE);
  g_return_val_if_fail (A && w && Z, FALSE);

  /* Few pairs: dsyevr with range 'I' computes only those (the top 1 of a
   * 256×256 Gram in 1.4 ms instead of 5.3 ms for all). Its cost grows with
   * k (bisection and inverse iteration): past k ≈ n/6 divide and conquer
   * (dsyevd) for all of them is faster (measured, OpenBLAS 0.3.21).
   * A row-major upper triangle is a column-major lower one: calling the
   * column-major interface avoids LAPACKE's transposed copies. */
  lapack_int m = 0, info;
  g_autofree double *wa = g_new (double, n);
  g_autofree double *own = NULL;
  const double *za;   /* eigenvectors as columns, ascending */
  int ldz = n;   /* column-major: vector j is za[j·ldz .. j·ldz + n) */
  if (6 * k > n)
    {
      info = LAPACKE_dsyevd (LAPACK_COL_MAJOR, 'V', 'L', n, A, n, wa);
      m = n;
      za = A;       /* the eigenvectors overwrite A */
    }
  else
    {
      g_autofree lapack_int *isuppz = g_new (lapack_int, 2 * (gsize) k);
      own = g_new (double, (gsize) n * k);
      info = LAPACKE_dsyevr (LAPACK_COL_MAJOR, 'V', 'I', 'L', n, A, n, 0.0, 0.0, n - k + 1, n,
                             0.0, &m, wa, own, n, isuppz);
      za = own;
    }
  if (info != 0 || m < k)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "symmetric eigen-decomposition of a %d×%d matrix failed "
                   "(LAPACK info %d, %d of %d eigenpairs)",
                   n, n, (int) info, (int) m, k);
      return FALSE;
    }
  /* Reverse to decreasing order. */
  for (int j = 0; j < k; j++)
    {
      w[j] = wa[m - 1 - j];
      if (rows)
        memcpy (Z + (gsize) j * n, za + (gsize) (m - 1 - j) * ldz, sizeof (double) * (gsize) n);
      else
        for (int i = 0; i < n; i++)
          Z[(gsize) i * k + j] = za[(gsize) (m - 1 - j) * ldz + i];
    }
  return TRUE;
}

gboolean
tl_linalg_symeig_top (int n, double *A, int k, double *w, double *Z, GError **error)
{
  return symeig_top (n, A, k, w, Z, false, error);
}

gboolean
tl_linalg_symeig_top_rows (int n, double *A, int k, double *w, double *Z, GError **error)
{
  return symeig_top (n, A, k, w, Z, true, error);
}

/* Number of eigenvalues of the symmetric tridiagonal T (diagonal d, off-
 * diagonal e) below x: the negative pivots of T − x·I = L·D·Lᵀ (Sylvester's
 * inertia, the count bisection is built on). A pivot too small to divide by
 * is replaced by −pivmin, as LAPACK's dstebz does. */
static int
sturm_below (const double *d, const double *e, int n, double x)
{
  double emax = 1.0;
  for (int i = 0; i + 1 < n; i++)
    emax = MAX (emax, e[i] * e[i]);
  double pivmin = DBL_MIN * emax;
  int count = 0;
  double q = 1.0;
  for (int i = 0; i < n; i++)
    {
      q = d[i] - x - (i > 0 ? e[i - 1] * e[i - 1] / q : 0.0);
      if (fabs (q) <= pivmin)
        q = -pivmin;
      count += q < 0.0;
    }
  return count;
}

static gboolean
eig_failed (int n, int info, int m, int k, GError **error)
{
  g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
               "symmetric eigen-decomposition of a %d×%d matrix failed "
               "(LAPACK info %d, %d of %d eigenpairs)", n, n, info, m, k);
  return FALSE;
}

static gboolean
symeig_top_count (int n, double *A, int k, double *w, double *Z, bool rows, double rel,
                  int *n_above, int cap, double *sum_top, GError **error)
{
  g_return_val_if_fail (n >= 1 && k >= 1 && k <= n && cap >= 1, FALSE);
  g_return_val_if_fail (A && w && Z && n_above, FALSE);
  if (6 * k > n)
    {
      /* Many pairs: the full decomposition is the cheapest way, and it
       * holds every eigenvalue. As rows, the top k vectors go straight
       * into Z; as columns through a copy. */
      g_autofree double *all = g_new (double, (gsize) n);
      g_autofree double *V = rows && k == n ? NULL : g_new (double, (gsize) n * n);
      if (!symeig_top (n, A, n, all, V ? V : Z, rows, error))
        return FALSE;
      int r = 0;
      while (all[0] > 0.0 && r < n && all[r] > rel * all[0])
        r++;
      *n_above = r;
      if (sum_top)
        {
          *sum_top = 0.0;
          for (int j = 0; j < MIN (cap, r); j++)
            *sum_top += all[j];
        }
      memcpy (w, all, sizeof (double) * (gsize) k);
      if (V && rows)
        memcpy (Z, V, sizeof (double) * (gsize) k * n);
      else if (V)
        for (int i = 0; i < n; i++)
          memcpy (Z + (gsize) i * k, V + (gsize) i * n, sizeof (double) * (gsize) k);
      return TRUE;
    }

  /* Few pairs: what dsyevr does for a partial range (dsytrd, dstebz,
   * dstein, dormtr), done by hand so that the tridiagonal T is at hand for
   * the Sturm count. Column-major lower = row-major upper (see above). */
  g_autofree double *d = g_new (double, (gsize) n);
  g_autofree double *e = g_new (double, (gsize) MAX (n - 1, 1));
  g_autofree double *tau = g_new (double, (gsize) MAX (n - 1, 1));
  /* zeroed: dstebz writes only the k wanted eigenvalues, but LAPACKE's
   * dstein checks all n entries for NaN (stale heap contents failed it) */
  g_autofree double *wa = g_new0 (double, (gsize) n);
  g_autofree lapack_int *iblock = g_new (lapack_int, (gsize) n);
  g_autofree lapack_int *isplit = g_new (lapack_int, (gsize) n);
  g_autofree lapack_int *ifail = g_new (lapack_int, (gsize) k);
  g_autofree double *za = g_new (double, (gsize) n * k);
  lapack_int m = 0, nsplit = 0;
  lapack_int info = LAPACKE_dsytrd (LAPACK_COL_MAJOR, 'L', n, A, n, d, e, tau);
  if (info == 0)
    info = LAPACKE_dstebz ('I', 'B', n, 0.0, 0.0, n - k + 1, n, 0.0, d, e, &m, &nsplit, wa,
                           iblock, isplit);
  if (info == 0 && m == k)
    info = LAPACKE_dstein (LAPACK_COL_MAJOR, n, d, e, m, wa, iblock, isplit, za, n, ifail);
  if (info == 0 && m == k)
    info = LAPACKE_dormtr (LAPACK_COL_MAJOR, 'L', 'L', 'N', n, m, A, n, tau, za, n);
  if (info != 0 || m != k)
    return eig_failed (n, (int) info, (int) m, k, error);
  /* dstebz's 'B' order is by split block: sort decreasing (k is small). */
  g_autofree int *order = g_new (int, (gsize) k);
  for (int j = 0; j < k; j++)
    {
      int i = j;
      while (i > 0 && wa[order[i - 1]] < wa[j])
        {
          order[i] = order[i - 1];
          i--;
        }
      order[i] = j;
    }
  for (int j = 0; j < k; j++)
    {
      w[j] = wa[order[j]];
      if (rows)
        memcpy (Z + (gsize) j * n, za + (gsize) order[j] * n, sizeof (double) * (gsize) n);
      else
        for (int i = 0; i < n; i++)
          Z[(gsize) i * k + j] = za[(gsize) order[j] * n + i];
    }

  *n_above = w[0] > 0.0 ? n - sturm_below (d, e, n, rel * w[0]) : 0;
  if (sum_top)
    {
      int want = MIN (cap, *n_above);
      if (want <= k)
        {
          *sum_top = 0.0;
          for (int j = 0; j < want; j++)
            *sum_top += w[j];
        }
      else if (want == n)
        {
          /* The whole spectrum: its sum is the trace of T. */
          *sum_top = 0.0;
          for (int i = 0; i < n; i++)
            *sum_top += d[i];
        }
      else
        {
          /* Rare (a rank cap between k and n): every eigenvalue of T. */
          info = LAPACKE_dsterf (n, d, e);
          if (info != 0)
            return eig_failed (n, (int) info, 0, n, error);
          *sum_top = 0.0;
          for (int j = 0; j < want; j++)
            *sum_top += d[n - 1 - j];
        }
    }
  return TRUE;
}

gboolean
tl_linalg_symeig_top_count (int n, double *A, int k, double *w, double *Z, double rel,
                            int *n_above, int cap, double *sum_top, GError **error)
{
  return symeig_top_count (n, A, k, w, Z, false, rel, n_above, cap, sum_top, error);
}

gboolean
tl_linalg_symeig_top_count_rows (int n, double *A, int k, double *w, double *Z, double rel,
                                 int *n_above, int cap, double *sum_top, GError **error)
{
  return symeig_top_count (n, A, k, w, Z, true, rel, n_above, cap, sum_top, error);
}

#define KRYLOV_MAX 64
#define KRYLOV_RESID 1e-13
#define KRYLOV_GAP 1e-3

gboolean
tl_linalg_symeig_top1_krylov (int n, const double *A, double *w, double *z)
{
  g_return_val_if_fail (n >= 1 && A && w && z, FALSE);
  int mmax = MIN (n, KRYLOV_MAX);
  g_autofree double *Q = g_new (double, (gsize) n * (mmax + 1));   /* basis, vector j at Q + j·n */
  g_autofree double *alpha = g_new (double, (gsize) mmax);
  g_autofree double *beta = g_new (double, (gsize) mmax);
  g_autofree double *d = g_new (double, (gsize) mmax);
  g_autofree double *e = g_new (double, (gsize) mmax);
  g_autofree double *S = g_new (double, (gsize) mmax * mmax);
  g_autofree double *h = g_new (double, (gsize) mmax);
  /* A fixed, well-spread start vector (a Weyl sequence): no eigenvector of
   * a real Gram matrix is orthogonal to it except by accident, and the
   * all-ones vector would be (a centred Gram annihilates it). */
  double nrm = 0.0;
  for (int i = 0; i < n; i++)
    {
      double f = fmod ((i + 1) * 0.6180339887498949, 1.0);
      Q[i] = 0.5 + f;
      nrm += Q[i] * Q[i];
    }
  cblas_dscal (n, 1.0 / sqrt (nrm), Q, 1);
  for (int j = 0; j < mmax; j++)
    {
      double *q = Q + (gsize) j * n, *u = Q + (gsize) (j + 1) * n;
      cblas_dsymv (CblasRowMajor, CblasUpper, n, 1.0, A, n, q, 1, 0.0, u, 1);
      alpha[j] = cblas_ddot (n, q, 1, u, 1);
      /* Full reorthogonalisation against q_0..q_j, twice ("twice is
       * enough"): it also removes the three-term recurrence terms. */
      for (int pass = 0; pass < 2; pass++)
        {
          cblas_dgemv (CblasColMajor, CblasTrans, n, j + 1, 1.0, Q, n, u, 1, 0.0, h, 1);
          cblas_dgemv (CblasColMajor, CblasNoTrans, n, j + 1, -1.0, Q, n, h, 1, 1.0, u, 1);
        }
      beta[j] = cblas_dnrm2 (n, u, 1);

      /* Ritz values of T_{j+1} (ascending) and the last row of its vectors. */
      int m = j + 1;
      memcpy (d, alpha, sizeof (double) * (gsize) m);
      memcpy (e, beta, sizeof (double) * (gsize) MAX (m - 1, 1));
      if (LAPACKE_dstev (LAPACK_COL_MAJOR, 'V', m, d, e, S, m) != 0)
        return FALSE;
      double th1 = d[m - 1];
      double r1 = beta[j] * fabs (S[(gsize) (m - 1) * m + (m - 1)]);
      /* Upper end of the interval holding the Ritz value below (none when
       * the whole space is spanned). */
      double next = m < 2 ? -INFINITY : d[m - 2] + beta[j] * fabs (S[(gsize) (m - 2) * m + (m - 1)]);
      bool whole = m == n;
      /* (θ1 may still be ≤ 0 early on for an indefinite A: keep going.) */
      if (th1 > 0.0 && r1 <= KRYLOV_RESID * th1 && (whole || th1 - next >= KRYLOV_GAP * th1)
          && m >= 2)
        {
          /* z = Q_m·s1, then the Rayleigh quotient of the normalised z. */
          cblas_dgemv (CblasColMajor, CblasNoTrans, n, m, 1.0, Q, n, S + (gsize) (m - 1) * m, 1,
                       0.0, z, 1);
          cblas_dscal (n, 1.0 / cblas_dnrm2 (n, z, 1), z, 1);
          cblas_dsymv (CblasRowMajor, CblasUpper, n, 1.0, A, n, z, 1, 0.0, u, 1);
          *w = cblas_ddot (n, z, 1, u, 1);
          return TRUE;
        }
      if (whole || beta[j] <= 1e-300 || beta[j] <= 1e-14 * fabs (th1))
        return FALSE;   /* breakdown: an invariant subspace that may miss λ1 */
      cblas_dscal (n, 1.0 / beta[j], u, 1);
    }
  return FALSE;
}
