/* Image I/O: PNG through libpng, JPEG through libjpeg(-turbo), picked by
 * content. Every decoder checks the claimed size against
 * TL_IMAGE_MAX_PIXELS (and, for PNG, against what the file's bytes can
 * possibly hold) before it allocates pixels. */
#include "image.h"
#include "error.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

/* Refuse files above 1 GiB before reading them: no PNG or JPEG under the
 * pixel limit needs more unless it is padded with junk. */
#define TL_IMAGE_MAX_FILE_BYTES ((gint64) 1 << 30)

/* Deflate cannot expand data by more than 1032:1, so a PNG whose
 * decompressed rows exceed this many times its size is lying about them. */
#define TL_PNG_MAX_INFLATE_RATIO 1032

/* Ancillary chunks (text, ICC profiles) we let libpng buffer at most. */
#define TL_PNG_MAX_CHUNK_BYTES (8u << 20)

tl_image *
tl_image_new (int width, int height, int channels, GError **error)
{
  if (channels < 1 || channels > 4)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "image: %d channels (must be 1 to 4)", channels);
      return NULL;
    }
  if (width < 1 || height < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "image: size %dx%d (both must be at least 1)", width, height);
      return NULL;
    }
  if ((int64_t) width * height > TL_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "image: size %dx%d is above the limit of %" G_GINT64_FORMAT " pixels",
                   width, height, (gint64) TL_IMAGE_MAX_PIXELS);
      return NULL;
    }
  size_t n = (size_t) width * (size_t) height * (size_t) channels;
  float *data = g_try_malloc (n * sizeof (float));
  if (!data)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM,
                   "image: cannot allocate %dx%dx%d floats", width, height, channels);
      return NULL;
    }
  tl_image *img = g_new0 (tl_image, 1);
  img->width = width;
  img->height = height;
  img->channels = channels;
  img->data = data;
  return img;
}

tl_image *
tl_image_copy (const tl_image *img, GError **error)
{
  g_return_val_if_fail (img != NULL, NULL);
  tl_image *c = tl_image_new (img->width, img->height, img->channels, error);
  if (c)
    memcpy (c->data, img->data,
            (size_t) img->width * img->height * img->channels * sizeof (float));
  return c;
}

void
tl_image_free (tl_image *img)
{
  if (!img)
    return;
  g_free (img->data);
  g_free (img);
}

tl_image_format
tl_image_sniff (const guint8 *head, size_t len)
{
  static const guint8 png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  if (len >= 8 && memcmp (head, png_sig, 8) == 0)
    return TL_IMAGE_FORMAT_PNG;
  if (len >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff)
    return TL_IMAGE_FORMAT_JPEG;
  return TL_IMAGE_FORMAT_UNKNOWN;
}

/* v / 255 as a correctly rounded float division (so decoded values equal
 * NumPy's float32(v) / 255 exactly), tabulated once. */
static const float *
u8_to_float (void)
{
  static float lut[256];
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      for (int v = 0; v < 256; v++)
        lut[v] = (float) v / 255.0f;
      g_once_init_leave (&done, 1);
    }
  return lut;
}

/* ---------------------------------------------------------------- PNG -- */

typedef struct {
  const guint8 *data;
  size_t        len, pos;
  const char   *name;
  char          msg[256];
  /* results, written through the pointer so they survive longjmp */
  guint8       *pixels;   /* native samples, 8- or 16-bit big-endian */
  png_bytep    *rows;
  tl_image     *img;
  GError       *error;
} png_ctx;

static void
png_on_error (png_structp png, png_const_charp msg)
{
  png_ctx *ctx = png_get_error_ptr (png);
  g_strlcpy (ctx->msg, msg, sizeof ctx->msg);
  png_longjmp (png, 1);
}

static void
png_on_warning (png_structp png, png_const_charp msg)
{
  (void) png;
  (void) msg; /* ancillary-chunk trouble: the pixels are still fine */
}

static void
png_read_mem (png_structp png, png_bytep out, size_t n)
{
  png_ctx *ctx = png_get_io_ptr (png);
  if (n > ctx->len - ctx->pos)
    png_error (png, "unexpected end of data (file truncated)");
  memcpy (out, ctx->data + ctx->pos, n);
  ctx->pos += n;
}

/* Everything between setjmp and longjmp lives in ctx, never in locals of
 * this function, so nothing is left indeterminate by a libpng error. */
static bool
png_decode (png_structp png, png_infop info, png_ctx *ctx)
{
  if (setjmp (png_jmpbuf (png)))
    {
      g_set_error (&ctx->error, TL_ERROR, TL_ERROR_FORMAT,
                   "%s: bad PNG: %s", ctx->name, ctx->msg);
      return false;
    }
  png_set_read_fn (png, ctx, png_read_mem);
  png_read_info (png, info);

  png_uint_32 w = png_get_image_width (png, info);
  png_uint_32 h = png_get_image_height (png, info);
  int depth = png_get_bit_depth (png, info);
  int native_ch = png_get_channels (png, info);
  if ((uint64_t) w * h > (uint64_t) TL_IMAGE_MAX_PIXELS)
    {
      g_set_error (&ctx->error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: PNG claims %ux%u pixels, above the limit of %" G_GINT64_FORMAT,
                   ctx->name, (unsigned) w, (unsigned) h, (gint64) TL_IMAGE_MAX_PIXELS);
      return false;
    }
  uint64_t raw = ((uint64_t) w * native_ch * depth + 7) / 8 * h;
  if (raw > (uint64_t) TL_PNG_MAX_INFLATE_RATIO * ctx->len)
    {
      g_set_error (&ctx->error, TL_ERROR, TL_ERROR_FORMAT,
                   "%s: PNG claims %ux%u pixels, more than its %zu bytes can hold",
                   ctx->name, (unsigned) w, (unsigned) h, ctx->len);
      return false;
    }

  /* palette -> RGB, grey 1/2/4 -> 8 bits, tRNS -> alpha channel */
  png_set_expand (png);
  png_set_interlace_handling (png);
  png_read_update_info (png, info);
  int channels = png_get_channels (png, info);
  int bytes = png_get_bit_depth (png, info) == 16 ? 2 : 1;
  size_t rowbytes = png_get_rowbytes (png, info);
  if (channels < 1 || channels > 4 || rowbytes != (size_t) w * channels * bytes)
    {
      g_set_error (&ctx->error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: unexpected PNG layout (%d channels, %zu bytes per row)",
                   ctx->name, channels, rowbytes);
      return false;
    }
  ctx->img = tl_image_new ((int) w, (int) h, channels, &ctx->error);
  if (!ctx->img)
    return false;
  ctx->pixels = g_try_malloc (rowbytes * h);
  if (!ctx->pixels)
    {
      g_set_error (&ctx->error, TL_ERROR, TL_ERROR_NOMEM,
                   "%s: cannot allocate %zu bytes for PNG rows", ctx->name, rowbytes * h);
      return false;
    }
  ctx->rows = g_new (png_bytep, h);
  for (png_uint_32 y = 0; y < h; y++)
    ctx->rows[y] = ctx->pixels + (size_t) y * rowbytes;
  png_read_image (png, ctx->rows);
  png_read_end (png, NULL);

  size_t n = (size_t) w * h * channels;
  float *out = ctx->img->data;
  const float *lut = u8_to_float ();
  if (bytes == 1)
    for (size_t i = 0; i < n; i++)
      out[i] = lut[ctx->pixels[i]];
  else
    for (size_t i = 0; i < n; i++)
      out[i] = (float) ((ctx->pixels[2 * i] << 8) | ctx->pixels[2 * i + 1]) / 65535.0f;
  return true;
}

static tl_image *
png_load_mem (const guint8 *data, size_t len, const char *name, GError **error)
{
  png_ctx ctx = { .data = data, .len = len, .name = name };
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &ctx, png_on_error,
                                            png_on_warning);
  png_infop info = png ? png_create_info_struct (png) : NULL;
  if (!png || !info)
    {
      png_destroy_read_struct (&png, &info, NULL);
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "%s: cannot create a PNG reader", name);
      return NULL;
    }
  /* libpng's own guards: per-dimension limit, and bounded ancillary chunks */
  png_set_user_limits (png, 1u << 24, 1u << 24);
  png_set_chunk_cache_max (png, 1000);
  png_set_chunk_malloc_max (png, TL_PNG_MAX_CHUNK_BYTES);

  bool ok = png_decode (png, info, &ctx);
  png_destroy_read_struct (&png, &info, NULL);
  g_free (ctx.pixels);
  g_free (ctx.rows);
  if (!ok)
    {
      tl_image_free (ctx.img);
      g_propagate_error (error, ctx.error);
      return NULL;
    }
  return ctx.img;
}

/* --------------------------------------------------------------- JPEG -- */

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf               jump;
  char                  msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void
jpeg_on_error (j_common_ptr cinfo)
{
  jpeg_err *err = (jpeg_err *) cinfo->err;
  err->pub.format_message (cinfo, err->msg);
  longjmp (err->jump, 1);
}

/* Warnings are tolerated (a few stray bytes), except running out of data:
 * libjpeg would pad the rest of the image with grey and call it success. */
static void
jpeg_on_message (j_common_ptr cinfo, int level)
{
  jpeg_err *err = (jpeg_err *) cinfo->err;
  if (level < 0 && err->pub.msg_code == JWRN_JPEG_EOF)
    {
      g_strlcpy (err->msg, "premature end of data (file truncated)", sizeof err->msg);
      longjmp (err->jump, 1);
    }
}

typedef struct {
  const char *name;
  tl_image   *img;
  JSAMPLE    *row;
  GError     *error;
} jpeg_ctx;

static bool
jpeg_decode (struct jpeg_decompress_struct *cinfo, jpeg_err *err, jpeg_ctx *ctx,
             const guint8 *data, size_t len)
{
  if (setjmp (err->jump))
    {
      if (!ctx->error)
        g_set_error (&ctx->error, TL_ERROR, TL_ERROR_FORMAT,
                     "%s: bad JPEG: %s", ctx->name, err->msg);
      return false;
    }
  jpeg_create_decompress (cinfo);
  jpeg_mem_src (cinfo, data, (unsigned long) len);
  jpeg_read_header (cinfo, TRUE);

  if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK)
    {
      g_set_error (&ctx->error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: CMYK JPEG is not supported (convert it to RGB first)", ctx->name);
      return false;
    }
  if ((uint64_t) cinfo->image_width * cinfo->image_height > (uint64_t) TL_IMAGE_MAX_PIXELS)
    {
      g_set_error (&ctx->error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: JPEG claims %ux%u pixels, above the limit of %" G_GINT64_FORMAT,
                   ctx->name, cinfo->image_width, cinfo->image_height,
                   (gint64) TL_IMAGE_MAX_PIXELS);
      return false;
    }
  /* Huffman codes are at least one bit, and every 8x8 block of the first
   * component needs a DC code: a Huffman JPEG of n bytes holds at most 8n
   * such blocks. (Arithmetic coding has no such floor; it is rare, and
   * there only the pixel limit applies.) */
  uint64_t blocks = (uint64_t) ((cinfo->image_width + 7) / 8) * ((cinfo->image_height + 7) / 8);
  if (!cinfo->arith_code && blocks > (uint64_t) len * 8)
    {
      g_set_error (&ctx->error, TL_ERROR, TL_ERROR_FORMAT,
                   "%s: JPEG claims %ux%u pixels, more than its %zu bytes can hold",
                   ctx->name, cinfo->image_width, cinfo->image_height, len);
      return false;
    }
  cinfo->out_color_space = cinfo->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress (cinfo);
  int w = (int) cinfo->output_width, h = (int) cinfo->output_height;
  int ch = cinfo->output_components;
  /* The float image is allocated on the header's word (within the limits
   * above) but not touched ahead of the data: a truncated file stops at the
   * first missing row, so memory actually used follows the real data. */
  ctx->img = tl_image_new (w, h, ch, &ctx->error);
  if (!ctx->img)
    return false;
  ctx->row = g_malloc ((size_t) w * ch);
  while (cinfo->output_scanline < cinfo->output_height)
    {
      JSAMPROW rp = ctx->row;
      size_t y = cinfo->output_scanline;
      if (jpeg_read_scanlines (cinfo, &rp, 1) != 1)
        {
          g_set_error (&ctx->error, TL_ERROR, TL_ERROR_FORMAT,
                       "%s: bad JPEG: decoder stopped at row %zu", ctx->name, y);
          return false;
        }
      float *out = ctx->img->data + y * (size_t) w * ch;
      const float *lut = u8_to_float ();
      for (size_t i = 0; i < (size_t) w * ch; i++)
        out[i] = lut[ctx->row[i]];
    }
  jpeg_finish_decompress (cinfo);
  return true;
}

static tl_image *
jpeg_load_mem (const guint8 *data, size_t len, const char *name, GError **error)
{
  struct jpeg_decompress_struct cinfo;
  jpeg_err err;
  jpeg_ctx ctx = { .name = name };
  memset (&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error (&err.pub);
  err.pub.error_exit = jpeg_on_error;
  err.pub.emit_message = jpeg_on_message;
  err.msg[0] = '\0';
  bool ok = jpeg_decode (&cinfo, &err, &ctx, data, len);
  jpeg_destroy_decompress (&cinfo);
  g_free (ctx.row);
  if (!ok)
    {
      tl_image_free (ctx.img);
      g_propagate_error (error, ctx.error);
      return NULL;
    }
  return ctx.img;
}

/* ------------------------------------------------------------ loading -- */

tl_image *
tl_image_load_from_memory (const guint8 *data, size_t len, const char *name, GError **error)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  if (!name)
    name = "(memory)";
  if (len == 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: empty file, not an image", name);
      return NULL;
    }
  switch (tl_image_sniff (data, len))
    {
    case TL_IMAGE_FORMAT_PNG:
      return png_load_mem (data, len, name, error);
    case TL_IMAGE_FORMAT_JPEG:
      return jpeg_load_mem (data, len, name, error);
    default:
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT,
                   "%s: not a PNG or JPEG file (unrecognised signature)", name);
      return NULL;
    }
}

tl_image *
tl_image_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  GStatBuf st;
  if (g_stat (path, &st) != 0)
    {
      int e = errno;
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s: cannot open: %s", path, g_strerror (e));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s: not a regular file", path);
      return NULL;
    }
  if ((gint64) st.st_size > TL_IMAGE_MAX_FILE_BYTES)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: %" G_GINT64_FORMAT " bytes is above the image file limit of %"
                   G_GINT64_FORMAT, path, (gint64) st.st_size, TL_IMAGE_MAX_FILE_BYTES);
      return NULL;
    }
  g_autofree char *data = NULL;
  gsize len = 0;
  GError *e = NULL;
  if (!g_file_get_contents (path, &data, &len, &e))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s: cannot read: %s", path, e->message);
      g_error_free (e);
      return NULL;
    }
  return tl_image_load_from_memory ((const guint8 *) data, len, path, error);
}

/* ------------------------------------------------------------- saving -- */

typedef struct {
  char msg[256];
} png_wctx;

static void
png_w_on_error (png_structp png, png_const_charp msg)
{
  png_wctx *ctx = png_get_error_ptr (png);
  g_strlcpy (ctx->msg, msg, sizeof ctx->msg);
  png_longjmp (png, 1);
}

static inline unsigned
quantise (float v, unsigned maxv)
{
  if (!(v > 0.0f)) /* also NaN */
    return 0;
  if (v >= 1.0f)
    return maxv;
  return (unsigned) (v * (float) maxv + 0.5f);
}

static bool
png_encode (png_structp png, png_infop info, FILE *fp, const tl_image *img, int depth,
            guint8 *row)
{
  if (setjmp (png_jmpbuf (png)))
    return false;
  static const int types[5] = { 0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA };
  png_init_io (png, fp);
  png_set_IHDR (png, info, (png_uint_32) img->width, (png_uint_32) img->height, depth,
                types[img->channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  size_t n = (size_t) img->width * img->channels;
  for (int y = 0; y < img->height; y++)
    {
      const float *src = img->data + (size_t) y * n;
      if (depth == 8)
        for (size_t i = 0; i < n; i++)
          row[i] = (guint8) quantise (src[i], 255);
      else
        for (size_t i = 0; i < n; i++)
          {
            unsigned v = quantise (src[i], 65535);
            row[2 * i] = (guint8) (v >> 8);
            row[2 * i + 1] = (guint8) (v & 0xff);
          }
      png_write_row (png, row);
    }
  png_write_end (png, NULL);
  return true;
}

bool
tl_image_save_png (const tl_image *img, const char *path, int bit_depth, GError **error)
{
  g_return_val_if_fail (img != NULL && path != NULL, false);
  if (bit_depth != 8 && bit_depth != 16)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: PNG bit depth %d (must be 8 or 16)", path, bit_depth);
      return false;
    }
  if (img->channels < 1 || img->channels > 4 || img->width < 1 || img->height < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: invalid image %dx%dx%d", path,
                   img->width, img->height, img->channels);
      return false;
    }
  FILE *fp = g_fopen (path, "wb");
  if (!fp)
    {
      int e = errno;
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s: cannot create: %s", path, g_strerror (e));
      return false;
    }
  png_wctx ctx = { { 0 } };
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &ctx, png_w_on_error,
                                             NULL);
  png_infop info = png ? png_create_info_struct (png) : NULL;
  guint8 *row = g_malloc ((size_t) img->width * img->channels * (bit_depth / 8));
  bool ok = png && info && png_encode (png, info, fp, img, bit_depth, row);
  png_destroy_write_struct (&png, &info);
  g_free (row);
  if (fclose (fp) != 0 && ok)
    {
      g_strlcpy (ctx.msg, g_strerror (errno), sizeof ctx.msg);
      ok = false;
    }
  if (!ok)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s: cannot write PNG: %s", path,
                   ctx.msg[0] ? ctx.msg : "out of memory");
      g_unlink (path);
    }
  return ok;
}

/* --------------------------------------------------------- conversion -- */

tl_image *
tl_image_convert (const tl_image *img, int channels, GError **error)
{
  g_return_val_if_fail (img != NULL, NULL);
  tl_image *out = tl_image_new (img->width, img->height, channels, error);
  if (!out)
    return NULL;
  size_t n = (size_t) img->width * img->height;
  int sc = img->channels;
  bool s_alpha = sc == 2 || sc == 4, d_alpha = channels == 2 || channels == 4;
  bool s_rgb = sc >= 3, d_rgb = channels >= 3;
  for (size_t i = 0; i < n; i++)
    {
      const float *s = img->data + i * sc;
      float *d = out->data + i * channels;
      if (d_rgb)
        {
          d[0] = s[0];
          d[1] = s_rgb ? s[1] : s[0];
          d[2] = s_rgb ? s[2] : s[0];
        }
      else
        d[0] = s_rgb ? 0.299f * s[0] + 0.587f * s[1] + 0.114f * s[2] : s[0];
      if (d_alpha)
        d[channels - 1] = s_alpha ? s[sc - 1] : 1.0f;
    }
  return out;
}

tl_tensor *
tl_image_to_chw (const tl_image *img, GError **error)
{
  g_return_val_if_fail (img != NULL, NULL);
  int64_t shape[4] = { 1, img->channels, img->height, img->width };
  tl_tensor *t = tl_tensor_new (4, shape, error);
  if (!t)
    return NULL;
  size_t plane = (size_t) img->width * img->height;
  for (int c = 0; c < img->channels; c++)
    for (size_t i = 0; i < plane; i++)
      t->data[c * plane + i] = img->data[i * img->channels + c];
  return t;
}
