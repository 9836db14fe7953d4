/* IDX image files; see idx.h. */
#include "idx.h"

#include "error.h"

#include <zlib.h>

struct tl_idx_reader
{
  gzFile  f;
  char   *path;
  int     n, rows, cols, next;
  guint8 *buf;
};

void
tl_idx_close (tl_idx_reader *r)
{
  if (!r)
    return;
  if (r->f)
    gzclose (r->f);
  g_free (r->path);
  g_free (r->buf);
  g_free (r);
}

static gboolean
read_exact (tl_idx_reader *r, void *dst, unsigned len, const char *what, GError **error)
{
  int got = gzread (r->f, dst, len);
  if (got != (int) len)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: truncated %s (%d of %u bytes)",
                   r->path, what, got < 0 ? 0 : got, len);
      return FALSE;
    }
  return TRUE;
}

tl_idx_reader *
tl_idx_open (const char *path, GError **error)
{
  g_autoptr (tl_idx_reader) r = g_new0 (tl_idx_reader, 1);
  r->path = g_strdup (path);
  r->f = gzopen (path, "rb");
  if (!r->f)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s: cannot open", path);
      return NULL;
    }
  guint8 h[16];
  guint32 v[4];
  /* the magic first, so that another IDX file (labels) is named as such */
  if (!read_exact (r, h, 4, "IDX header", error))
    return NULL;
  v[0] = (guint32) h[0] << 24 | (guint32) h[1] << 16 | (guint32) h[2] << 8 | h[3];
  if (v[0] != 0x00000803)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                   "%s: not an IDX file of 8-bit images (magic 0x%08x, expected 0x00000803)",
                   path, v[0]);
      return NULL;
    }
  if (!read_exact (r, h + 4, 12, "IDX header", error))
    return NULL;
  for (int i = 1; i < 4; i++)
    v[i] = (guint32) h[4 * i] << 24 | (guint32) h[4 * i + 1] << 16
           | (guint32) h[4 * i + 2] << 8 | h[4 * i + 3];
  if (v[1] < 1 || v[1] > G_MAXINT || v[2] < 1 || v[2] > 8192 || v[3] < 1 || v[3] > 8192)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                   "%s: %u images of %ux%u: out of range (1..8192 rows and columns)", path,
                   v[1], v[2], v[3]);
      return NULL;
    }
  r->n = (int) v[1];
  r->rows = (int) v[2];
  r->cols = (int) v[3];
  r->buf = g_new (guint8, (size_t) r->rows * r->cols);
  return g_steal_pointer (&r);
}

int
tl_idx_count (const tl_idx_reader *r)
{
  return r->n;
}

tl_image *
tl_idx_next (tl_idx_reader *r, GError **error)
{
  if (r->next >= r->n)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: all %d images have been read",
                   r->path, r->n);
      return NULL;
    }
  unsigned len = (unsigned) r->rows * r->cols;
  g_autofree char *what = g_strdup_printf ("image %d", r->next);
  if (!read_exact (r, r->buf, len, what, error))
    return NULL;
  tl_image *img = tl_image_new (r->cols, r->rows, 1, error);
  if (!img)
    return NULL;
  for (unsigned i = 0; i < len; i++)
    img->data[i] = r->buf[i] / 255.0f;
  r->next++;
  return img;
}
