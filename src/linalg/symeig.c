#include "symeig.h"
#include "error.h"

#include <lapacke.h>
#include <string.h>

gboolean
tl_linalg_symeig_top (int n, double *A, int k, double *w, double *Z, GError **error)
{
  g_return_val_if_fail (n >= 1 && k >= 1 && k <= n, FALSE);
  g_return_val_if_fail (A && w && Z, FALSE);

  /* dsyevr with range 'I' computes only the wanted eigenpairs (ascending),
   * so asking for the top 1 of a 49×49 Gram costs far less than all 49. */
  lapack_int m = 0;
  g_autofree lapack_int *isuppz = g_new (lapack_int, 2 * (gsize) k);
  g_autofree double *wa = g_new (double, n);
  g_autofree double *za = g_new (double, (gsize) n * k);
  lapack_int info = LAPACKE_dsyevr (LAPACK_ROW_MAJOR, 'V', 'I', 'U', n, A, n,
                                    0.0, 0.0, n - k + 1, n, 0.0, &m, wa, za, k,
                                    isuppz);
  if (info != 0 || m != k)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "symmetric eigen-decomposition of a %d×%d matrix failed "
                   "(LAPACKE_dsyevr info %d, %d of %d eigenpairs)",
                   n, n, (int) info, (int) m, k);
      return FALSE;
    }
  /* Reverse to decreasing order. */
  for (int j = 0; j < k; j++)
    {
      w[j] = wa[k - 1 - j];
      for (int i = 0; i < n; i++)
        Z[(gsize) i * k + j] = za[(gsize) i * k + (k - 1 - j)];
    }
  return TRUE;
}
