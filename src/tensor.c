#include "tensor.h"
#include "error.h"

#include <stdio.h>
#include <string.h>

int64_t
tl_shape_numel (int ndim, const int64_t *shape)
{
  int64_t n = 1;
  for (int i = 0; i < ndim; i++)
    {
      if (shape[i] < 0)
        return -1;
      if (shape[i] != 0 && n > INT64_MAX / shape[i])
        return -1;
      n *= shape[i];
    }
  return n;
}

static void
set_contiguous_strides (tl_tensor *t)
{
  int64_t s = 1;
  for (int i = t->ndim - 1; i >= 0; i--)
    {
      t->strides[i] = s;
      s *= t->shape[i];
    }
}

static bool
shape_ok (int ndim, const int64_t *shape, GError **error)
{
  char buf[128];
  if (ndim < 0 || ndim > TL_MAX_DIMS)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "tensor rank %d is outside 0..%d", ndim, TL_MAX_DIMS);
      return false;
    }
  int64_t n = tl_shape_numel (ndim, shape);
  if (n < 0 || n > TL_TENSOR_MAX_NUMEL)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM,
                   "tensor shape %s is too large (limit %" G_GINT64_FORMAT " elements)",
                   tl_shape_str (ndim, shape, buf, sizeof buf), (gint64) TL_TENSOR_MAX_NUMEL);
      return false;
    }
  return true;
}

tl_tensor *
tl_tensor_new (int ndim, const int64_t *shape, GError **error)
{
  if (!shape_ok (ndim, shape, error))
    return NULL;
  int64_t n = tl_shape_numel (ndim, shape);
  float *data = g_try_malloc0_n (n > 0 ? (gsize) n : 1, sizeof (float));
  if (!data)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM,
                   "out of memory allocating %" G_GINT64_FORMAT " floats", (gint64) n);
      return NULL;
    }
  tl_tensor *t = tl_tensor_view (data, ndim, shape);
  t->owns_data = true;
  return t;
}

tl_tensor *
tl_tensor_view (float *data, int ndim, const int64_t *shape)
{
  g_return_val_if_fail (ndim >= 0 && ndim <= TL_MAX_DIMS, NULL);
  tl_tensor *t = g_new0 (tl_tensor, 1);
  t->data = data;
  t->ndim = ndim;
  memcpy (t->shape, shape, (size_t) ndim * sizeof *shape);
  set_contiguous_strides (t);
  return t;
}

tl_tensor *
tl_tensor_copy (const tl_tensor *t, GError **error)
{
  tl_tensor *c = tl_tensor_new (t->ndim, t->shape, error);
  if (c)
    tl_tensor_gather (t, c->data);
  return c;
}

void
tl_tensor_free (tl_tensor *t)
{
  if (!t)
    return;
  if (t->owns_data)
    g_free (t->data);
  g_free (t);
}

int64_t
tl_tensor_numel (const tl_tensor *t)
{
  return tl_shape_numel (t->ndim, t->shape);
}

bool
tl_tensor_is_contiguous (const tl_tensor *t)
{
  int64_t s = 1;
  for (int i = t->ndim - 1; i >= 0; i--)
    {
      if (t->shape[i] != 1 && t->strides[i] != s)
        return false;
      s *= t->shape[i];
    }
  return true;
}

bool
tl_tensor_same_shape (const tl_tensor *a, const tl_tensor *b)
{
  if (a->ndim != b->ndim)
    return false;
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i])
      return false;
  return true;
}

int64_t
tl_tensor_offset (const tl_tensor *t, const int64_t *idx)
{
  int64_t off = 0;
  for (int i = 0; i < t->ndim; i++)
    off += idx[i] * t->strides[i];
  return off;
}

void
tl_tensor_gather (const tl_tensor *t, float *dst)
{
  int64_t n = tl_tensor_numel (t);
  if (tl_tensor_is_contiguous (t))
    {
      memcpy (dst, t->data, (size_t) n * sizeof (float));
      return;
    }
  /* Odometer walk over the multi-index: rank is small, so this stays cheap
   * next to the copy itself. */
  int64_t idx[TL_MAX_DIMS] = { 0 };
  for (int64_t k = 0; k < n; k++)
    {
      dst[k] = t->data[tl_tensor_offset (t, idx)];
      for (int i = t->ndim - 1; i >= 0; i--)
        {
          if (++idx[i] < t->shape[i])
            break;
          idx[i] = 0;
        }
    }
}

const char *
tl_shape_str (int ndim, const int64_t *shape, char *buf, size_t len)
{
  size_t used = 0;
  buf[0] = '\0';
  if (ndim == 0)
    g_strlcpy (buf, "scalar", len);
  for (int i = 0; i < ndim && used < len; i++)
    used += (size_t) snprintf (buf + used, len - used, "%s%" G_GINT64_FORMAT,
                               i ? "x" : "", (gint64) shape[i]);
  return buf;
}
