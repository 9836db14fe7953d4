#include "nn-util.h"

gboolean
tl_bcast_shape (int an, const int64_t *as, int bn, const int64_t *bs, int *yn, int64_t *ys)
{
  int n = MAX (an, bn);
  for (int d = 0; d < n; d++)
    {
      int ia = d - (n - an), ib = d - (n - bn);
      int64_t a = ia >= 0 ? as[ia] : 1, b = ib >= 0 ? bs[ib] : 1;
      if (a != b && a != 1 && b != 1)
        return FALSE;
      ys[d] = a == 1 ? b : a;
    }
  *yn = n;
  return TRUE;
}

void
tl_bcast_strides (int yn, const int64_t *ys, int xn, const int64_t *xs, int64_t *st)
{
  int64_t s = 1;
  for (int d = yn - 1; d >= 0; d--)
    {
      int ix = d - (yn - xn);
      if (ix < 0)
        st[d] = 0;
      else
        {
          st[d] = (xs[ix] == 1 && ys[d] != 1) ? 0 : s;
          s *= xs[ix];
        }
    }
}

void
tl_c_strides (int nd, const int64_t *shape, int64_t *st)
{
  int64_t s = 1;
  for (int d = nd - 1; d >= 0; d--)
    {
      st[d] = s;
      s *= shape[d];
    }
}

void
tl_bcast_merge_dims (int *yn, int64_t *ys, int n_in, int64_t (*st)[TL_MAX_DIMS])
{
  int m = 0; /* dims kept so far; never ahead of d, so in place is safe */
  for (int d = 0; d < *yn; d++)
    {
      if (ys[d] == 1)
        continue;
      gboolean runs_on = m > 0;
      for (int k = 0; k < n_in && runs_on; k++)
        runs_on = st[k][m - 1] == st[k][d] * ys[d];
      if (runs_on)
        {
          ys[m - 1] *= ys[d];
          for (int k = 0; k < n_in; k++)
            st[k][m - 1] = st[k][d];
          continue;
        }
      ys[m] = ys[d];
      for (int k = 0; k < n_in; k++)
        st[k][m] = st[k][d];
      m++;
    }
  *yn = m;
}

void
tl_bcast_walk (int yn, const int64_t *ys, int n_in, int64_t (*st)[TL_MAX_DIMS], tl_row_fn row,
               void *ctx)
{
  int64_t numel = tl_shape_numel (yn, ys);
  if (numel <= 0)
    return;
  if (yn == 0)
    {
      int64_t off[8] = { 0 }, inner[8] = { 0 };
      row (ctx, 0, off, 1, inner);
      return;
    }
  int64_t len = ys[yn - 1];
  int64_t idx[TL_MAX_DIMS] = { 0 }, off[8] = { 0 }, inner[8];
  for (int k = 0; k < n_in; k++)
    inner[k] = st[k][yn - 1];
  for (int64_t oy = 0; oy < numel; oy += len)
    {
      row (ctx, oy, off, len, inner);
      /* advance the outer index (dims 0..yn-2) like an odometer */
      for (int d = yn - 2; d >= 0; d--)
        {
          idx[d]++;
          for (int k = 0; k < n_in; k++)
            off[k] += st[k][d];
          if (idx[d] < ys[d])
            break;
          for (int k = 0; k < n_in; k++)
            off[k] -= st[k][d] * ys[d];
          idx[d] = 0;
        }
    }
}
