#include "gram-svd.h"
#include "symeig.h"
#include "error.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

int
tl_linalg_numerical_rank (const double *s, int k)
{
  if (k < 1 || !(s[0] > 0.0))
    return 0;
  int r = 1;
  while (r < k && s[r] > TL_LINALG_ZERO_REL * s[0])
    r++;
  return r;
}

/* G = M·Mᵀ (want_left) or Mᵀ·M, upper triangle, row-major. */
static void
gram (const double *Y, int64_t m, int64_t n, bool trans, bool want_left, double *G)
{
  /* Y row-major: when !trans it is m×n (ld n); when trans it is n×m (ld m). */
  int ld = (int) (trans ? m : n);
  if (want_left)   /* m×m = M Mᵀ */
    cblas_dsyrk (CblasRowMajor, CblasUpper, trans ? CblasTrans : CblasNoTrans,
                 (int) m, (int) n, 1.0, Y, ld, 0.0, G, (int) m);
  else             /* n×n = Mᵀ M */
    cblas_dsyrk (CblasRowMajor, CblasUpper, trans ? CblasNoTrans : CblasTrans,
                 (int) n, (int) m, 1.0, Y, ld, 0.0, G, (int) n);
}

/* The Gram matrix's eigenvalues are the squared singular values: take the
 * roots in place, zero those below the numerical rank (rounding can leave
 * tiny positive eigenvalues of a rank-deficient matrix), return the rank. */
static int
singular_values (double *s, int k)
{
  for (int j = 0; j < k; j++)
    s[j] = s[j] > 0.0 ? sqrt (s[j]) : 0.0;
  int r = tl_linalg_numerical_rank (s, k);
  for (int j = r; j < k; j++)
    s[j] = 0.0;
  return r;
}

gboolean
tl_linalg_svd_leading (const double *Y, int64_t m, int64_t n, bool trans, int k,
                       double *s, double *U, double *V, int *rank, GError **error)
{
  g_return_val_if_fail (Y && s && rank, FALSE);
  g_return_val_if_fail (m >= 1 && n >= 1 && m <= G_MAXINT && n <= G_MAXINT, FALSE);
  g_return_val_if_fail (k >= 1 && k <= MIN (m, n), FALSE);

  /* Eigenvectors of the smaller Gram are the vectors of that side. */
  bool left_small = m <= n;
  int64_t g = left_small ? m : n;
  g_autofree double *G = g_try_new (double, (gsize) (g * g));
  g_autofree double *Z = g_try_new (double, (gsize) (g * k));
  if (!G || !Z)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM,
                   "no memory for a %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT " Gram matrix",
                   (gint64) g, (gint64) g);
      return FALSE;
    }
  gram (Y, m, n, trans, left_small, G);
  /* One pair (EigenCAM): a few Lanczos steps usually settle it, far cheaper
   * than the tridiagonal reduction; LAPACK when they do not. */
  if (!(k == 1 && tl_linalg_symeig_top1_krylov ((int) g, G, s, Z))
      && !tl_linalg_symeig_top ((int) g, G, k, s, Z, error))
    return FALSE;
  int r = *rank = singular_values (s, k);

  double *near = left_small ? U : V;   /* the side the Gram gave directly */
  double *far = left_small ? V : U;
  int64_t far_dim = left_small ? n : m;
  if (near)
    for (int64_t i = 0; i < g; i++)
      for (int j = 0; j < k; j++)
        near[i * k + j] = j < r ? Z[i * k + j] : 0.0;
  if (far)
    {
      memset (far, 0, sizeof (double) * (gsize) (far_dim * k));
      if (r > 0)
        {
          /* far = op(M)·Z[:, :r], op = Mᵀ when the near side is the left one. */
          int ld = (int) (trans ? m : n);
          bool mt = left_small != trans;   /* whether Y enters transposed */
          cblas_dgemm (CblasRowMajor, mt ? CblasTrans : CblasNoTrans, CblasNoTrans,
                       (int) far_dim, r, (int) g, 1.0, Y, ld, Z, k, 0.0, far, k);
          for (int64_t i = 0; i < far_dim; i++)
            for (int j = 0; j < r; j++)
              far[i * k + j] /= s[j];
        }
    }
  return TRUE;
}

gboolean
tl_linalg_svd_leading_rows (const double *Y, int64_t m, int64_t n, int k, double *s,
                            double *Vr, int *rank, GError **error)
{
  g_return_val_if_fail (Y && s && Vr && rank, FALSE);
  g_return_val_if_fail (m >= 1 && n >= 1 && m <= G_MAXINT && n <= G_MAXINT, FALSE);
  g_return_val_if_fail (k >= 1 && k <= MIN (m, n), FALSE);

  /* The right vectors come straight from YᵀY when n ≤ m, else from the
   * left ones of YYᵀ as Σ⁻¹·Uᵀ·Y. Either way every vector is written as a
   * contiguous row: no transposed copies. */
  bool right_small = n <= m;
  int64_t g = right_small ? n : m;
  g_autofree double *G = g_try_new (double, (gsize) (g * g));
  g_autofree double *Ur = right_small ? NULL : g_try_new (double, (gsize) (g * k));
  if (!G || (!right_small && !Ur))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM,
                   "no memory for a %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT " Gram matrix",
                   (gint64) g, (gint64) g);
      return FALSE;
    }
  gram (Y, m, n, false, !right_small, G);
  double *Z = right_small ? Vr : Ur;
  if (!(k == 1 && tl_linalg_symeig_top1_krylov ((int) g, G, s, Z))
      && !tl_linalg_symeig_top_rows ((int) g, G, k, s, Z, error))
    return FALSE;
  int r = *rank = singular_values (s, k);
  if (!right_small && r > 0)
    {
      cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, r, (int) n, (int) m, 1.0, Ur,
                   (int) m, Y, (int) n, 0.0, Vr, (int) n);
      for (int j = 0; j < r; j++)
        cblas_dscal ((int) n, 1.0 / s[j], Vr + (gsize) j * n, 1);
    }
  memset (Vr + (gsize) r * n, 0, sizeof (double) * (gsize) (k - r) * n);
  return TRUE;
}
