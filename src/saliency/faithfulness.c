#include "faithfulness.h"
#include "gaussian-blur.h"
#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

tl_faith_params
tl_faith_default_params (void)
{
  tl_faith_params p = {
    .steps = 50,
    .blur_sigma = 5.0,
    .blur_truncate = 4.0,
    .deletion = true,
    .insertion = true,
  };
  return p;
}

void
tl_faith_result_clear (tl_faith_result *r)
{
  g_clear_pointer (&r->deletion_curve, g_free);
  g_clear_pointer (&r->insertion_curve, g_free);
}

typedef struct {
  float v;
  int   i;
} keyed;

/* Decreasing value, then increasing raster index: a total order, so
 * qsort's instability cannot show. */
static int
cmp_keyed (const void *a, const void *b)
{
  const keyed *x = a, *y = b;
  if (x->v != y->v)
    return x->v > y->v ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}

void
tl_faith_order (const float *map, int P, int *order)
{
  g_autofree keyed *k = g_new (keyed, (gsize) MAX (P, 1));
  for (int i = 0; i < P; i++)
    k[i] = (keyed) { map[i], i };
  qsort (k, (size_t) P, sizeof (keyed), cmp_keyed);
  for (int i = 0; i < P; i++)
    order[i] = k[i].i;
}

/* Scores n inputs through whichever callback the scorer has. */
static gboolean
score_many (const tl_faith_scorer *s, const float *x, int n, gsize size, double *out,
            GError **error)
{
  if (s->score_batch)
    {
      if (!s->score_batch (x, n, out, s->user, error))
        return FALSE;
    }
  else
    for (int i = 0; i < n; i++)
      out[i] = s->score (x + (gsize) i * size, s->user);
  for (int i = 0; i < n; i++)
    if (!isfinite (out[i]))
      {
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                     "faithfulness: the score callback returned %g", out[i]);
        return FALSE;
      }
  return TRUE;
}

/* The curve f(x_t), t = 0..T, where x_t is `start` with the first
 * ⌊t·P/T⌋ pixels in `order` (all channels) replaced by `fill` (NULL = 0).
 * Inputs are built incrementally and scored in batches. */
static gboolean
curve (const float *start, const float *fill, int C, int P, const int *order, int T,
       const tl_faith_scorer *s, double *f, GError **error)
{
  int batch = s->score_batch ? MAX (s->batch, 1) : 1;
  gsize size = (gsize) C * P;
  g_autofree float *cur = g_memdup2 (start, size * sizeof (float));
  g_autofree float *buf = g_try_new (float, size * (gsize) batch);
  if (!buf)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM,
                   "faithfulness: no memory for a batch of %d inputs", batch);
      return FALSE;
    }
  int64_t done = 0;   /* pixels replaced so far */
  for (int t0 = 0; t0 <= T; t0 += batch)
    {
      int n = MIN (batch, T + 1 - t0);
      for (int i = 0; i < n; i++)
        {
          int64_t upto = (int64_t) (t0 + i) * P / T;
          for (; done < upto; done++)
            {
              int px = order[done];
              for (int c = 0; c < C; c++)
                cur[(gsize) c * P + px] = fill ? fill[(gsize) c * P + px] : 0.0f;
            }
          memcpy (buf + (gsize) i * size, cur, size * sizeof (float));
        }
      if (!score_many (s, buf, n, size, f + t0, error))
        return FALSE;
    }
  return TRUE;
}

static double
trapezoid (const double *f, int T)
{
  double a = 0.0;
  for (int t = 1; t <= T; t++)
    a += 0.5 * (f[t - 1] + f[t]);
  return a / T;
}

gboolean
tl_faith_evaluate (const float *x, int C, int H, int W, const float *map,
                   const tl_faith_scorer *scorer, const tl_faith_params *p,
                   tl_faith_result *r, GError **error)
{
  g_return_val_if_fail (x && map && scorer && p && r, FALSE);
  g_return_val_if_fail (scorer->score || scorer->score_batch, FALSE);
  memset (r, 0, sizeof *r);
  if (C < 1 || H < 1 || W < 1 || (int64_t) C * H * W > G_MAXINT / 2)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "faithfulness: input size %d×%d×%d is out of range", C, H, W);
      return FALSE;
    }
  if (p->steps < 1 || p->steps > 100000)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "faithfulness: steps = %d is outside 1..100000", p->steps);
      return FALSE;
    }
  int P = H * W;
  gsize size = (gsize) C * P;
  for (int i = 0; i < P; i++)
    if (!isfinite (map[i]))
      {
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                     "faithfulness: the saliency map holds %g at row %d, column %d",
                     map[i], i / W, i % W);
        return FALSE;
      }

  /* Average Drop and Increase in Confidence: f(x) and f(x ⊙ S). */
  g_autofree float *two = g_new (float, 2 * size);
  memcpy (two, x, size * sizeof (float));
  for (int c = 0; c < C; c++)
    for (int i = 0; i < P; i++)
      two[size + (gsize) c * P + i] = x[(gsize) c * P + i] * map[i];
  double f2[2];
  tl_faith_scorer one = *scorer;
  one.batch = MIN (MAX (scorer->batch, 1), 2);
  if (!score_many (&one, two, 2, size, f2, error))
    return FALSE;
  if (!(f2[0] > 0.0))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "faithfulness: the score of the clean image is %g; Average Drop "
                   "needs f(x) > 0", f2[0]);
      return FALSE;
    }
  r->score_clean = f2[0];
  r->score_masked = f2[1];
  r->drop = MAX (0.0, f2[0] - f2[1]) / f2[0];
  r->increase = f2[1] > f2[0];
  r->steps = p->steps;

  if (!p->deletion && !p->insertion)
    return TRUE;
  g_autofree int *order = g_new (int, (gsize) P);
  tl_faith_order (map, P, order);
  if (p->deletion)
    {
      r->deletion_curve = g_new (double, (gsize) p->steps + 1);
      if (!curve (x, NULL, C, P, order, p->steps, scorer, r->deletion_curve, error))
        goto fail;
      r->deletion_auc = trapezoid (r->deletion_curve, p->steps);
    }
  if (p->insertion)
    {
      g_autofree float *blurred = g_new (float, size);
      if (!tl_gaussian_blur (x, C, H, W, p->blur_sigma, p->blur_truncate, blurred, error))
        goto fail;
      r->insertion_curve = g_new (double, (gsize) p->steps + 1);
      if (!curve (blurred, x, C, P, order, p->steps, scorer, r->insertion_curve, error))
        goto fail;
      r->insertion_auc = trapezoid (r->insertion_curve, p->steps);
    }
  return TRUE;
fail:
  tl_faith_result_clear (r);
  return FALSE;
}

void
tl_faith_accum_add (tl_faith_accum *acc, const tl_faith_result *r)
{
  acc->n++;
  acc->drop_sum += r->drop;
  acc->increase_count += r->increase ? 1 : 0;
  if (r->deletion_curve)
    {
      acc->n_deletion++;
      acc->deletion_sum += r->deletion_auc;
    }
  if (r->insertion_curve)
    {
      acc->n_insertion++;
      acc->insertion_sum += r->insertion_auc;
    }
}

void
tl_faith_accum_summary (const tl_faith_accum *acc, tl_faith_summary *out)
{
  out->average_drop_pct = acc->n ? 100.0 * acc->drop_sum / acc->n : 0.0;
  out->increase_pct = acc->n ? 100.0 * acc->increase_count / acc->n : 0.0;
  out->deletion_auc = acc->n_deletion ? acc->deletion_sum / acc->n_deletion : 0.0;
  out->insertion_auc = acc->n_insertion ? acc->insertion_sum / acc->n_insertion : 0.0;
}
