#include "check.h"
#include "error.h"

#include <math.h>

gboolean
tl_latent_check_shape (int64_t n, int64_t d, int64_t min_rows, const char *what,
                       GError **error)
{
  if (n < min_rows)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: %" G_GINT64_FORMAT " latent(s), need at least %" G_GINT64_FORMAT,
                   what, n, min_rows);
      return FALSE;
    }
  if (d < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: latent dimension is %" G_GINT64_FORMAT ", need at least 1", what, d);
      return FALSE;
    }
  return tl_latent_check_alloc ((double) n * d * sizeof (float), what, error);
}

gboolean
tl_latent_check_bank (const float *z, int64_t n, int64_t d, int64_t min_rows,
                      const char *what, GError **error)
{
  if (!tl_latent_check_shape (n, d, min_rows, what, error))
    return FALSE;
  for (int64_t i = 0; i < n * d; i++)
    if (!isfinite (z[i]))
      {
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                     "%s: value at row %" G_GINT64_FORMAT ", column %" G_GINT64_FORMAT
                     " is %s; latents must be finite", what, i / d, i % d,
                     isnan (z[i]) ? "NaN" : "infinite");
        return FALSE;
      }
  return TRUE;
}

gboolean
tl_latent_check_alloc (double bytes, const char *what, GError **error)
{
  if (bytes > TL_LATENT_MAX_ALLOC_BYTES)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM,
                   "%s: would need %.3g GB, more than the limit of %.3g GB",
                   what, bytes / 1e9, TL_LATENT_MAX_ALLOC_BYTES / 1e9);
      return FALSE;
    }
  return TRUE;
}
