/* Latents -> images through an autoencoder's decoder; see ae-decode.h. */
#include "ae-decode.h"

#include "error.h"

#include <math.h>
#include <string.h>

/* The decoder for batch latents per pass, else (a graph that cannot be
 * re-batched) the decoder for one; *nb is the batch it takes. */
static tl_net *
decoder_for (tl_model *model, int batch, int64_t *nb, GError **error)
{
  if (batch > 1)
    {
      GError *local = NULL;
      tl_net *net = tl_model_decoder_batch (model, batch, &local);
      *nb = batch;
      if (net)
        return net;
      g_clear_error (&local);
    }
  *nb = 1;
  return tl_model_decoder (model, error);
}

/* One input of nb x latent_dim values, batch first, and the card's output
 * tensor. */
static gboolean
check_decoder (const tl_card *c, tl_net *net, int64_t nb, GError **error)
{
  const tl_net_tensor_info *in = tl_net_n_inputs (net) == 1 ? tl_net_input (net, 0) : NULL;
  if (!in || in->ndim < 1 || in->shape[0] != nb
      || tl_shape_numel (in->ndim, in->shape) != nb * c->latent_dim)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: the decoder needs one input of %" G_GINT64_FORMAT
                   " x %d values (latent_dim)", c->decoder, nb, c->latent_dim);
      return FALSE;
    }
  if (!tl_net_find_tensor (net, c->decoder_output))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: no tensor '%s' (decoder_output)",
                   c->decoder, c->decoder_output);
      return FALSE;
    }
  return TRUE;
}

/* One pass: x (nb latents) -> planar (nb x C x H x W, mapped to [0,1]). */
static gboolean
decode_pass (tl_model *model, tl_net *net, const tl_tensor *x, float *planar, GError **error)
{
  const tl_card *c = tl_model_card (model);
  const tl_tensor *inputs[1] = { x };
  const char *taps[1] = { c->decoder_output };
  tl_net_result *r = tl_model_run (model, net, inputs, 1, taps, 1, TL_NET_RUN_DEFAULT, error);
  if (!r)
    return FALSE;
  const tl_tensor *y = tl_net_result_get (r, c->decoder_output);
  const int64_t nb = x->shape[0];
  const int C = c->out_channels, H = c->out_height, W = c->out_width;
  gboolean ok = y && y->ndim == 4 && y->shape[0] == nb && y->shape[1] == C && y->shape[2] == H
                && y->shape[3] == W;
  if (ok)
    tl_tensor_gather (y, planar);
  else
    g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                 "decoder output '%s' does not have the card's shape %" G_GINT64_FORMAT
                 "x%dx%dx%d", c->decoder_output, nb, C, H, W);
  tl_net_result_free (r);
  const double lo = c->out_min, range = c->out_max - c->out_min;
  for (int64_t i = 0; ok && i < nb * C * H * W; i++)
    {
      double v = (planar[i] - lo) / range;
      planar[i] = isnan (v) ? 0.0f : (float) CLAMP (v, 0.0, 1.0);
    }
  return ok;
}

gboolean
tl_ae_decode_each (tl_model *model, const float *z, int64_t n, int batch,
                   tl_ae_decoded_func fn, void *user, tl_progress_func progress,
                   void *progress_data, GError **error)
{
  g_return_val_if_fail (fn != NULL, FALSE);
  if (n < 1 || n > TL_AE_MAX_IMAGES)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "decode: %" G_GINT64_FORMAT
                   " latents, need 1..%d", n, TL_AE_MAX_IMAGES);
      return FALSE;
    }
  if (batch < 1 || batch > TL_AE_DECODE_MAX_BATCH)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "decode batch %d is out of range 1..%d",
                   batch, TL_AE_DECODE_MAX_BATCH);
      return FALSE;
    }
  int64_t nb;
  tl_net *net = decoder_for (model, batch, &nb, error);
  const tl_card *c = tl_model_card (model);
  if (!net || !check_decoder (c, net, nb, error))
    return FALSE;
  const tl_net_tensor_info *in = tl_net_input (net, 0);
  const int64_t d = c->latent_dim;
  const int64_t per = (int64_t) c->out_channels * c->out_height * c->out_width;
  g_autoptr (tl_tensor) x = tl_tensor_new (in->ndim, in->shape, error);
  if (!x)
    return FALSE;
  g_autofree float *planar = g_new (float, (size_t) (nb * per));
  for (int64_t s = 0; s < n; s += nb)
    {
      const int64_t m = MIN (nb, n - s);
      memcpy (x->data, z + s * d, sizeof (float) * (size_t) (m * d));
      memset (x->data + m * d, 0, sizeof (float) * (size_t) ((nb - m) * d));
      if (!decode_pass (model, net, x, planar, error) || !fn (planar, s, m, user, error))
        return FALSE;
      if (progress)
        progress ((double) (s + m) / n, "decoding samples", progress_data);
    }
  return TRUE;
}

typedef struct {
  const tl_card *card;
  int64_t        n;
  tl_tensor     *images;   /* made on the first pass */
} to_tensor;

/* The tensor is made once the decoder passed its checks, so a bad model
 * reports that rather than a shape. */
static gboolean
copy_images (const float *images, int64_t first, int64_t n, void *user, GError **error)
{
  to_tensor *t = user;
  const tl_card *c = t->card;
  const int64_t per = (int64_t) c->out_channels * c->out_height * c->out_width;
  int64_t shape[4] = { t->n, c->out_channels, c->out_height, c->out_width };
  if (!t->images && !(t->images = tl_tensor_new (4, shape, error)))
    return FALSE;
  memcpy (t->images->data + first * per, images, sizeof (float) * (size_t) (n * per));
  return TRUE;
}

tl_tensor *
tl_ae_decode (tl_model *model, const float *z, int64_t n, int batch, GError **error)
{
  to_tensor t = { tl_model_card (model), n, NULL };
  if (!tl_ae_decode_each (model, z, n, batch, copy_images, &t, NULL, NULL, error))
    g_clear_pointer (&t.images, tl_tensor_free);
  return t.images;
}
