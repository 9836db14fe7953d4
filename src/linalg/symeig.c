#include "symeig.h"
#include "error.h"

#include <lapacke.h>
#include <string.h>

gboolean
tl_linalg_symeig_top (int n, double *A, int k, double *w, double *Z, GError **error)
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
      for (int i = 0; i < n; i++)
        Z[(gsize) i * k + j] = za[(gsize) (m - 1 - j) * ldz + i];
    }
  return TRUE;
}
