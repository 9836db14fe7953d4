#include "npy.h"
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NPY_MAGIC     "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* NumPy itself refuses headers over 10 000 bytes unless told otherwise;
 * we allow more, but a bound keeps a hostile file from steering us. */
#define NPY_MAX_HEADER (1u << 20)

/* ---- a tiny parser for the header's Python-literal dict ---------------- */

typedef struct {
  const char *p, *end;
} cursor;

static void
skip_ws (cursor *c)
{
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static bool
eat (cursor *c, char ch)
{
  skip_ws (c);
  if (c->p < c->end && *c->p == ch)
    {
      c->p++;
      return true;
    }
  return false;
}

/* A quoted string ('..' or ".."), copied into out (truncated to len-1). */
static bool
parse_string (cursor *c, char *out, size_t len)
{
  skip_ws (c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return false;
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q)
    {
      if (n + 1 < len)
        out[n++] = *c->p;
      c->p++;
    }
  out[n] = '\0';
  if (c->p >= c->end)
    return false;
  c->p++;
  return true;
}

static bool
parse_word (cursor *c, const char *w)
{
  skip_ws (c);
  size_t n = strlen (w);
  if ((size_t) (c->end - c->p) >= n && memcmp (c->p, w, n) == 0)
    {
      c->p += n;
      return true;
    }
  return false;
}

static bool
parse_int (cursor *c, int64_t *v)
{
  skip_ws (c);
  if (c->p >= c->end || *c->p < '0' || *c->p > '9')
    return false;
  int64_t x = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
    {
      int d = *c->p++ - '0';
      if (x > (INT64_MAX - d) / 10)
        return false;
      x = x * 10 + d;
    }
  /* Python 2 era files may carry a long suffix. */
  if (c->p < c->end && (*c->p == 'L' || *c->p == 'l'))
    c->p++;
  *v = x;
  return true;
}

static bool
parse_shape (cursor *c, tl_npy_header *h, GError **error)
{
  if (!eat (c, '('))
    goto bad;
  h->ndim = 0;
  if (eat (c, ')'))
    return true;
  for (;;)
    {
      int64_t v;
      if (!parse_int (c, &v))
        goto bad;
      if (h->ndim == TL_MAX_DIMS)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                       "shape has more than %d dimensions", TL_MAX_DIMS);
          return false;
        }
      h->shape[h->ndim++] = v;
      if (eat (c, ')'))
        return true;
      if (!eat (c, ','))
        goto bad;
      if (eat (c, ')'))
        return true;
    }
bad:
  g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
               "malformed 'shape' in header (expected a tuple of non-negative integers)");
  return false;
}

static bool
parse_dict (cursor *c, tl_npy_header *h, GError **error)
{
  bool have_descr = false, have_order = false, have_shape = false;
  if (!eat (c, '{'))
    goto bad;
  while (!eat (c, '}'))
    {
      char key[32];
      if (!parse_string (c, key, sizeof key) || !eat (c, ':'))
        goto bad;
      if (strcmp (key, "descr") == 0)
        {
          /* A structured dtype is a list, not a string: that fails here. */
          if (!parse_string (c, h->descr, sizeof h->descr))
            {
              g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                           "structured dtypes are not supported (need '<f4')");
              return false;
            }
          have_descr = true;
        }
      else if (strcmp (key, "fortran_order") == 0)
        {
          if (parse_word (c, "True"))
            h->fortran_order = true;
          else if (parse_word (c, "False"))
            h->fortran_order = false;
          else
            goto bad;
          have_order = true;
        }
      else if (strcmp (key, "shape") == 0)
        {
          if (!parse_shape (c, h, error))
            return false;
          have_shape = true;
        }
      else
        goto bad;
      if (!eat (c, ','))
        {
          if (!eat (c, '}'))
            goto bad;
          break;
        }
    }
  if (!have_descr || !have_order || !have_shape)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                   "header lacks one of 'descr', 'fortran_order', 'shape'");
      return false;
    }
  return true;
bad:
  g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "malformed header dictionary");
  return false;
}

static guint32
le16 (const guint8 *b)
{
  return (guint32) b[0] | (guint32) b[1] << 8;
}

static guint32
le32 (const guint8 *b)
{
  return (guint32) b[0] | (guint32) b[1] << 8 | (guint32) b[2] << 16 | (guint32) b[3] << 24;
}

static const char *
dtype_hint (const char *d)
{
  /* Name the common mistakes so the fix is obvious. */
  static const struct { const char *d, *name; } known[] = {
    { "<f8", "float64" }, { "<f2", "float16" }, { ">f4", "big-endian float32" },
    { "|u1", "uint8" }, { "<i8", "int64" }, { "<i4", "int32" }, { "|b1", "bool" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (known); i++)
    if (strcmp (d, known[i].d) == 0)
      return known[i].name;
  return "unsupported dtype";
}

gboolean
tl_npy_parse_header (const guint8 *buf, size_t len, tl_npy_header *h, GError **error)
{
  memset (h, 0, sizeof *h);
  if (len < NPY_MAGIC_LEN + 2 || memcmp (buf, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                   "not a .npy file (missing the \\x93NUMPY magic)");
      return FALSE;
    }
  h->major = buf[6];
  h->minor = buf[7];
  size_t hlen, pre;
  if (h->major == 1)
    {
      pre = 10;
      if (len < pre)
        goto truncated;
      hlen = le16 (buf + 8);
    }
  else if (h->major == 2 || h->major == 3)
    {
      pre = 12;
      if (len < pre)
        goto truncated;
      hlen = le32 (buf + 8);
    }
  else
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "unsupported .npy format version %d.%d", h->major, h->minor);
      return FALSE;
    }
  if (hlen > NPY_MAX_HEADER)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                   "header length %zu is implausibly large", hlen);
      return FALSE;
    }
  if (len < pre + hlen)
    goto truncated;
  h->data_offset = pre + hlen;

  cursor c = { (const char *) buf + pre, (const char *) buf + pre + hlen };
  if (!parse_dict (&c, h, error))
    return FALSE;

  if (strcmp (h->descr, "<f4") != 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "dtype '%s' (%s) is not supported: tensorlens reads little-endian "
                   "float32 ('<f4'); convert with arr.astype('<f4')",
                   h->descr, dtype_hint (h->descr));
      return FALSE;
    }
  if (h->fortran_order)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "Fortran-order arrays are not supported; save np.ascontiguousarray(arr)");
      return FALSE;
    }
  int64_t n = tl_shape_numel (h->ndim, h->shape);
  if (n < 0 || n > TL_TENSOR_MAX_NUMEL)
    {
      char s[160];
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                   "shape %s is too large (more than %" G_GINT64_FORMAT " elements)",
                   tl_shape_str (h->ndim, h->shape, s, sizeof s),
                   (gint64) TL_TENSOR_MAX_NUMEL);
      return FALSE;
    }
  return TRUE;

truncated:
  g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "truncated header");
  return FALSE;
}

/* ---- files -------------------------------------------------------------- */

static void
prefix_path (GError **error, const char *path)
{
  if (error && *error)
    g_prefix_error (error, "%s: ", path);
}

static tl_tensor *
load_stream (FILE *f, GError **error)
{
  struct stat st;
  if (fstat (fileno (f), &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "not a regular file");
      return NULL;
    }
  /* Read the fixed preamble, then exactly the declared header: the header
   * length is checked against the file size before it is allocated. */
  guint8 pre[12];
  size_t got = fread (pre, 1, sizeof pre, f);
  tl_npy_header h;
  size_t plen = (got > 6 && pre[6] == 1) ? 10 : 12;
  size_t hlen = got < plen ? 0 : plen == 10 ? le16 (pre + 8) : le32 (pre + 8);
  if (got < plen || hlen > NPY_MAX_HEADER || (off_t) (plen + hlen) > st.st_size)
    {
      /* Too short for a whole header: the parser names what is wrong. */
      tl_npy_parse_header (pre, got, &h, error);
      return NULL;
    }
  guint8 *buf = g_malloc (plen + hlen);
  if (fseek (f, 0, SEEK_SET) != 0 || fread (buf, 1, plen + hlen, f) != plen + hlen)
    {
      g_free (buf);
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "read error in header");
      return NULL;
    }
  gboolean ok = tl_npy_parse_header (buf, plen + hlen, &h, error);
  g_free (buf);
  if (!ok)
    return NULL;

  int64_t n = tl_shape_numel (h.ndim, h.shape);
  int64_t have = (int64_t) st.st_size - (int64_t) h.data_offset;
  char s[160];
  if (have != n * 4)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                   "%s: header declares shape %s (%" G_GINT64_FORMAT " bytes of data) "
                   "but the file has %" G_GINT64_FORMAT,
                   have < n * 4 ? "truncated" : "trailing bytes",
                   tl_shape_str (h.ndim, h.shape, s, sizeof s),
                   (gint64) (n * 4), (gint64) have);
      return NULL;
    }
  tl_tensor *t = tl_tensor_new (h.ndim, h.shape, error);
  if (!t)
    return NULL;
  if (fseek (f, (long) h.data_offset, SEEK_SET) != 0
      || fread (t->data, sizeof (float), (size_t) n, f) != (size_t) n)
    {
      tl_tensor_free (t);
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "read error in data");
      return NULL;
    }
#if G_BYTE_ORDER == G_BIG_ENDIAN
  for (int64_t i = 0; i < n; i++)
    {
      guint32 u;
      memcpy (&u, &t->data[i], 4);
      u = GUINT32_SWAP_LE_BE (u);
      memcpy (&t->data[i], &u, 4);
    }
#endif
  return t;
}

tl_tensor *
tl_npy_load (const char *path, GError **error)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s: %s", path, g_strerror (errno));
      return NULL;
    }
  tl_tensor *t = load_stream (f, error);
  fclose (f);
  if (!t)
    prefix_path (error, path);
  return t;
}

/* The header text, padded with spaces so that the data starts on a 64-byte
 * boundary as NumPy >= 1.9 writes it; returns the version to use. */
static GString *
make_header (const tl_tensor *t, int *major)
{
  GString *d = g_string_new ("{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int i = 0; i < t->ndim; i++)
    g_string_append_printf (d, "%" G_GINT64_FORMAT "%s", (gint64) t->shape[i],
                            (t->ndim == 1 || i + 1 < t->ndim) ? ", " : "");
  if (t->ndim == 1)
    g_string_truncate (d, d->len - 1);      /* "(5,)" */
  g_string_append (d, "), }");
  *major = (d->len + 11 + 64) > 65535 ? 2 : 1;
  size_t pre = *major == 1 ? 10 : 12;
  while ((pre + d->len + 1) % 64 != 0)
    g_string_append_c (d, ' ');
  g_string_append_c (d, '\n');
  return d;
}

gboolean
tl_npy_save (const char *path, const tl_tensor *t, GError **error)
{
  int major;
  g_autoptr (GString) hdr = make_header (t, &major);
  guint8 pre[12] = { 0x93, 'N', 'U', 'M', 'P', 'Y', (guint8) major, 0 };
  size_t plen = major == 1 ? 10 : 12;
  guint32 hl = (guint32) hdr->len;
  for (size_t i = 0; i < plen - 8; i++)
    pre[8 + i] = (guint8) (hl >> (8 * i));

  int64_t n = tl_tensor_numel (t);
  g_autofree float *tmp = NULL;
  const float *src = t->data;
  if (!tl_tensor_is_contiguous (t))
    {
      tmp = g_try_malloc_n ((gsize) MAX (n, 1), sizeof (float));
      if (!tmp)
        {
          g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "%s: out of memory", path);
          return FALSE;
        }
      tl_tensor_gather (t, tmp);
      src = tmp;
    }
  FILE *f = fopen (path, "wb");
  if (!f)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s: %s", path, g_strerror (errno));
      return FALSE;
    }
  bool ok = fwrite (pre, 1, plen, f) == plen
            && fwrite (hdr->str, 1, hdr->len, f) == hdr->len
            && fwrite (src, sizeof (float), (size_t) n, f) == (size_t) n;
  ok = (fclose (f) == 0) && ok;
  if (!ok)
    g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s: write failed: %s", path, g_strerror (errno));
  return ok;
}
