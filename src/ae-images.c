/* Images through an autoencoder and a feature network; see ae-images.h. */
#include "ae-images.h"

#include "error.h"
#include "idx.h"
#include "image.h"
#include "model.h"
#include "preprocess.h"
#include "resize.h"
#include "tl-net.h"

#include <math.h>
#include <string.h>

/* ---- batched nets ------------------------------------------------------ */

/* path loaded with batch TL_AE_BATCH, or with batch 1 when the graph fixes
 * its batch (a Resize with constant sizes, as in centernet). */
static tl_net *
load_batched (const char *path, int64_t *batch, GError **error)
{
  GError *e = NULL;
  tl_net *net = tl_net_load_batch (path, TL_AE_BATCH, &e);
  *batch = TL_AE_BATCH;
  if (!net)
    {
      g_clear_error (&e);
      net = tl_net_load_batch (path, 1, error);
      *batch = 1;
    }
  return net;
}

/* Runs net on x and copies tensor `name` (batch x per floats, C order)
 * into out; checks the element count. */
static gboolean
run_copy (tl_net *net, const tl_tensor *x, const char *name, int64_t batch, int64_t per,
          float *out, GError **error)
{
  tl_net_result *r = tl_net_run1 (net, x, &name, 1, TL_NET_RUN_DEFAULT, error);
  if (!r)
    return FALSE;
  const tl_tensor *y = tl_net_result_get (r, name);
  gboolean ok = y && tl_tensor_numel (y) == batch * per;
  if (ok)
    tl_tensor_gather (y, out);
  else
    g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                 "tensor '%s' does not hold %" G_GINT64_FORMAT " x %" G_GINT64_FORMAT
                 " values", name, batch, per);
  tl_net_result_free (r);
  return ok;
}

/* ---- reading images ---------------------------------------------------- */

static gboolean
check_geometry (const tl_card *ae, GError **error)
{
  if (ae->task != TL_TASK_AUTOENCODER)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: not an autoencoder card", ae->path);
      return FALSE;
    }
  if (ae->out_channels != ae->channels || ae->out_height != ae->height
      || ae->out_width != ae->width)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: input %dx%dx%d and output %dx%dx%d differ; real and decoded images "
                   "must share one geometry", ae->path, ae->channels, ae->height, ae->width,
                   ae->out_channels, ae->out_height, ae->out_width);
      return FALSE;
    }
  return TRUE;
}

/* img into slot i of t (N x C x H x W): resized to the inner size when it
 * differs, converted to C channels (grey by the card's weights), framed by
 * zeros. */
static gboolean
put_image (const tl_card *ae, const tl_image *img, tl_tensor *t, int64_t i, const char *what,
           GError **error)
{
  const int C = ae->channels, H = ae->height, W = ae->width;
  const int iw = W - ae->pad[1] - ae->pad[3], ih = H - ae->pad[0] - ae->pad[2];
  g_autoptr (tl_image) sized = NULL;
  if (img->width != iw || img->height != ih)
    {
      sized = tl_image_resize (img, iw, ih, TL_RESAMPLE_HALF_PIXEL, error);
      if (!sized)
        {
          g_prefix_error (error, "%s: ", what);
          return FALSE;
        }
      img = sized;
    }
  const int ic = img->channels, colour = ic >= 3;
  float *dst = t->data + i * C * H * W;
  memset (dst, 0, sizeof (float) * C * H * W);
  for (int y = 0; y < ih; y++)
    for (int x = 0; x < iw; x++)
      {
        const float *p = img->data + ((size_t) y * iw + x) * ic;
        for (int c = 0; c < C; c++)
          {
            double v;
            if (C == 1 && colour)
              v = ae->gray_weights[0] * p[0] + ae->gray_weights[1] * p[1]
                  + ae->gray_weights[2] * p[2];
            else
              v = colour ? p[c] : p[0];
            dst[((size_t) c * H + y + ae->pad[0]) * W + x + ae->pad[1]]
              = isfinite (v) ? (float) CLAMP (v, 0.0, 1.0) : 0.0f;
          }
      }
  return TRUE;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
has_image_suffix (const char *name)
{
  g_autofree char *l = g_ascii_strdown (name, -1);
  return g_str_has_suffix (l, ".png") || g_str_has_suffix (l, ".jpg")
         || g_str_has_suffix (l, ".jpeg");
}

static tl_tensor *
new_images (const tl_card *ae, int64_t n, const char *path, GError **error)
{
  if (n < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: no images", path);
      return NULL;
    }
  int64_t shape[4] = { n, ae->channels, ae->height, ae->width };
  return tl_tensor_new (4, shape, error);
}

static tl_tensor *
load_dir (const tl_card *ae, const char *path, int64_t max, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, error);
  if (!dir)
    return NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (const char *nm; (nm = g_dir_read_name (dir));)
    if (has_image_suffix (nm))
      {
        if (names->len >= TL_AE_MAX_IMAGES)
          {
            g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                         "%s: more than %d images", path, TL_AE_MAX_IMAGES);
            return NULL;
          }
        g_ptr_array_add (names, g_strdup (nm));
      }
  g_ptr_array_sort (names, compare_names);
  int64_t n = max > 0 ? MIN ((int64_t) names->len, max) : names->len;
  tl_tensor *t = new_images (ae, n, path, error);
  for (int64_t i = 0; t && i < n; i++)
    {
      g_autofree char *f = g_build_filename (path, names->pdata[i], NULL);
      g_autoptr (tl_image) img = tl_image_load (f, error);
      if (!img || !put_image (ae, img, t, i, f, error))
        g_clear_pointer (&t, tl_tensor_free);
    }
  return t;
}

static tl_tensor *
load_idx (const tl_card *ae, const char *path, int64_t max, GError **error)
{
  g_autoptr (tl_idx_reader) r = tl_idx_open (path, error);
  if (!r)
    return NULL;
  int64_t n = tl_idx_count (r);
  if (n > TL_AE_MAX_IMAGES && max <= 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: %" G_GINT64_FORMAT
                   " images, more than %d", path, n, TL_AE_MAX_IMAGES);
      return NULL;
    }
  if (max > 0)
    n = MIN (n, max);
  tl_tensor *t = new_images (ae, n, path, error);
  for (int64_t i = 0; t && i < n; i++)
    {
      g_autoptr (tl_image) img = tl_idx_next (r, error);
      if (!img || !put_image (ae, img, t, i, path, error))
        g_clear_pointer (&t, tl_tensor_free);
    }
  return t;
}

tl_tensor *
tl_ae_load_images (const tl_card *ae, const char *path, int64_t max, GError **error)
{
  if (!check_geometry (ae, error))
    return NULL;
  if (max < 0 || max > TL_AE_MAX_IMAGES)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "image count %" G_GINT64_FORMAT
                   " is out of range 0..%d", max, TL_AE_MAX_IMAGES);
      return NULL;
    }
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    return load_dir (ae, path, max, error);
  return load_idx (ae, path, max, error);
}

/* ---- encoder ----------------------------------------------------------- */

tl_tensor *
tl_ae_encode (const tl_card *ae, const tl_tensor *images, GError **error)
{
  if (!check_geometry (ae, error))
    return NULL;
  const int C = ae->channels, H = ae->height, W = ae->width, d = ae->latent_dim;
  if (images->ndim != 4 || images->shape[1] != C || images->shape[2] != H
      || images->shape[3] != W || !tl_tensor_is_contiguous (images))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "images are not N x %d x %d x %d", C, H,
                   W);
      return NULL;
    }
  int64_t batch, n = images->shape[0];
  tl_net *net = load_batched (ae->encoder, &batch, error);
  if (!net)
    return NULL;
  int64_t xs[4] = { batch, C, H, W }, zs[2] = { n, d };
  g_autoptr (tl_tensor) x = tl_tensor_new (4, xs, error);
  tl_tensor *z = x ? tl_tensor_new (2, zs, error) : NULL;
  g_autofree float *out = g_new (float, batch * d);
  const int top = ae->pad[0], left = ae->pad[1];
  const int ih = H - top - ae->pad[2], iw = W - left - ae->pad[3];
  for (int64_t s = 0; z && s < n; s += batch)
    {
      int64_t m = MIN (batch, n - s);
      memset (x->data, 0, sizeof (float) * batch * C * H * W);
      for (int64_t b = 0; b < m; b++)
        for (int c = 0; c < C; c++)
          for (int y = top; y < top + ih; y++)
            for (int xx = left; xx < left + iw; xx++)
              {
                size_t o = (((size_t) b * C + c) * H + y) * W + xx;
                double v = images->data[(size_t) s * C * H * W + o];
                x->data[o] = (float) ((v * 255.0 * ae->scale - ae->mean[c]) / ae->std[c]);
              }
      if (!run_copy (net, x, ae->encoder_output, batch, d, out, error))
        g_clear_pointer (&z, tl_tensor_free);
      else
        memcpy (z->data + s * d, out, sizeof (float) * m * d);
    }
  tl_net_free (net);
  return z;
}

/* ---- feature network ---------------------------------------------------- */

struct tl_feature_net {
  tl_model *model;
  tl_net   *net;         /* batch `batch` */
  int64_t   batch;
  char     *tensor;      /* read from here */
  int64_t   dim;
  int       crop[4];
};

void
tl_feature_net_free (tl_feature_net *f)
{
  if (!f)
    return;
  tl_net_free (f->net);
  tl_model_unref (f->model);
  g_free (f->tensor);
  g_free (f);
}

tl_feature_net *
tl_feature_net_new (const char *card_path, const int crop[4], GError **error)
{
  g_autoptr (tl_feature_net) f = g_new0 (tl_feature_net, 1);
  memcpy (f->crop, crop, sizeof f->crop);
  if (crop[2] < 1 || crop[3] < 1 || crop[0] < 0 || crop[1] < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "feature crop %d,%d %dx%d is empty",
                   crop[0], crop[1], crop[2], crop[3]);
      return NULL;
    }
  f->model = tl_model_load (card_path, error);
  if (!f->model)
    return NULL;
  const tl_card *k = tl_model_card (f->model);
  if (!k || !k->model || k->task == TL_TASK_AUTOENCODER)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: a feature network needs a card with a network (not an autoencoder)",
                   card_path);
      return NULL;
    }
  if (k->pad[0] || k->pad[1] || k->pad[2] || k->pad[3])
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: a feature network with input padding is not supported", k->path);
      return NULL;
    }
  const char *name = tl_card_output (k, "features");
  if (!name)
    name = tl_model_default_layer (f->model);
  f->net = name ? load_batched (k->model, &f->batch, error) : NULL;
  if (!f->net)
    {
      if (!name)
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                     "%s: no 'features' output and no target layer to pool", k->path);
      return NULL;
    }
  const tl_net_tensor_info *t = tl_net_find_tensor (f->net, name);
  if (!t || t->shape[0] != f->batch || (t->ndim != 2 && t->ndim != 4))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: features '%s' are not a batch x F or batch x C x H x W tensor", k->path,
                   name);
      return NULL;
    }
  f->tensor = g_strdup (name);
  f->dim = t->shape[1];
  return g_steal_pointer (&f);
}

int64_t
tl_feature_net_dim (const tl_feature_net *f)
{
  return f->dim;
}

const char *
tl_feature_net_tensor (const tl_feature_net *f)
{
  return f->tensor;
}

const char *
tl_feature_net_name (const tl_feature_net *f)
{
  return tl_model_name (f->model);
}

/* Crop of image i (planar in t) as an interleaved tl_image. */
static tl_image *
crop_image (const tl_feature_net *f, const tl_tensor *t, int64_t i, GError **error)
{
  const int C = t->shape[1], H = t->shape[2], W = t->shape[3];
  const int *r = f->crop;
  tl_image *img = tl_image_new (r[2], r[3], C, error);
  if (!img)
    return NULL;
  const float *src = t->data + (size_t) i * C * H * W;
  for (int y = 0; y < r[3]; y++)
    for (int x = 0; x < r[2]; x++)
      for (int c = 0; c < C; c++)
        img->data[((size_t) y * r[2] + x) * C + c]
          = src[((size_t) c * H + y + r[1]) * W + x + r[0]];
  return img;
}

tl_tensor *
tl_feature_net_run (tl_feature_net *f, const tl_tensor *images, GError **error)
{
  if (images->ndim != 4 || !tl_tensor_is_contiguous (images)
      || f->crop[0] + f->crop[2] > images->shape[3] || f->crop[1] + f->crop[3] > images->shape[2]
      || images->shape[1] > 4)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "feature crop %d,%d %dx%d is not inside N x C x H x W images", f->crop[0],
                   f->crop[1], f->crop[2], f->crop[3]);
      return NULL;
    }
  const tl_net_tensor_info *in = tl_net_input (f->net, 0);
  const int64_t per_in = tl_shape_numel (in->ndim, in->shape) / f->batch;
  const tl_net_tensor_info *ft = tl_net_find_tensor (f->net, f->tensor);
  const int64_t per_out = tl_shape_numel (ft->ndim, ft->shape) / f->batch;
  const int64_t hw = per_out / f->dim, n = images->shape[0];
  int64_t shape[2] = { n, f->dim };
  g_autoptr (tl_tensor) x = tl_tensor_new (in->ndim, in->shape, error);
  tl_tensor *out = x ? tl_tensor_new (2, shape, error) : NULL;
  g_autofree float *y = g_new (float, f->batch * per_out);
  const tl_preprocess_params *pre = tl_model_preprocess (f->model);
  for (int64_t s = 0; out && s < n; s += f->batch)
    {
      int64_t m = MIN (f->batch, n - s);
      gboolean ok = TRUE;
      memset (x->data, 0, sizeof (float) * f->batch * per_in);
      for (int64_t b = 0; ok && b < m; b++)
        {
          g_autoptr (tl_image) img = crop_image (f, images, s + b, error);
          g_autoptr (tl_tensor) xi = img ? tl_preprocess (pre, img, NULL, error) : NULL;
          ok = xi && tl_tensor_numel (xi) == per_in;
          if (ok)
            tl_tensor_gather (xi, x->data + b * per_in);
          else if (xi)
            g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "preprocessed image does not fit "
                         "the feature network's input");
        }
      if (!ok || !run_copy (f->net, x, f->tensor, f->batch, per_out, y, error))
        {
          g_clear_pointer (&out, tl_tensor_free);
          break;
        }
      for (int64_t b = 0; b < m; b++)
        for (int64_t c = 0; c < f->dim; c++)
          {
            const float *v = y + b * per_out + c * hw;
            double acc = 0;
            for (int64_t k = 0; k < hw; k++)
              acc += v[k];
            out->data[(s + b) * f->dim + c] = (float) (acc / hw);
          }
    }
  return out;
}
