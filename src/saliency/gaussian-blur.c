#include "gaussian-blur.h"
#include "error.h"

#include <math.h>
#include <string.h>

/* SciPy 'reflect' index for i ∈ Z on an axis of n samples: the extension
 * is symmetric about the edges and periodic with period 2n. */
static int
reflect (long i, int n)
{
  long p = 2L * n;
  long r = i % p;
  if (r < 0)
    r += p;
  return (int) (r < n ? r : p - 1 - r);
}

/* 1-D correlation with the symmetric kernel k[-rad..rad] along `count`
 * lines of n samples, `stride` apart within a line, `lstride` between lines. */
static void
blur_axis (const double *in, double *out, int n, long stride, int count, long lstride,
           const double *k, int rad)
{
  for (int l = 0; l < count; l++)
    {
      const double *a = in + l * lstride;
      double *b = out + l * lstride;
      for (int i = 0; i < n; i++)
        {
          double s = 0.0;
          for (int j = -rad; j <= rad; j++)
            s += k[j + rad] * a[reflect ((long) i + j, n) * stride];
          b[i * stride] = s;
        }
    }
}

gboolean
tl_gaussian_blur (const float *src, int C, int H, int W, double sigma, double truncate,
                  float *dst, GError **error)
{
  if (C < 1 || H < 1 || W < 1 || !(sigma >= 0.0) || !isfinite (sigma)
      || !(truncate > 0.0) || !isfinite (truncate) || sigma * truncate > 1e6)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "Gaussian blur: bad arguments (%d×%d×%d, sigma %g, truncate %g)",
                   C, H, W, sigma, truncate);
      return FALSE;
    }
  gsize n = (gsize) C * H * W;
  if (sigma == 0.0)
    {
      memcpy (dst, src, n * sizeof (float));
      return TRUE;
    }
  int rad = (int) (truncate * sigma + 0.5);
  g_autofree double *k = g_new (double, 2 * (gsize) rad + 1);
  double sum = 0.0;
  for (int j = -rad; j <= rad; j++)
    sum += k[j + rad] = exp (-0.5 * j * j / (sigma * sigma));
  for (int j = 0; j <= 2 * rad; j++)
    k[j] /= sum;

  g_autofree double *a = g_try_new (double, n);
  g_autofree double *b = g_try_new (double, n);
  if (!a || !b)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "Gaussian blur: no memory for %d×%d×%d",
                   C, H, W);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    a[i] = src[i];
  for (int c = 0; c < C; c++)
    {
      double *pa = a + (gsize) c * H * W, *pb = b + (gsize) c * H * W;
      blur_axis (pa, pb, H, W, W, 1, k, rad);      /* along H: W columns */
      blur_axis (pb, pa, W, 1, H, W, k, rad);      /* along W: H rows */
    }
  for (gsize i = 0; i < n; i++)
    dst[i] = (float) a[i];
  return TRUE;
}
