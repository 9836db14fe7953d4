/* Cards for ONNX files without a sidecar: defaults read from the graph
 * (see card-defaults.h for the rules). */
#include "card-defaults.h"
#include "error.h"

#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_net, tl_net_free)

static const char ENC_SUFFIX[] = "-encoder.onnx";
static const char DEC_SUFFIX[] = "-decoder.onnx";

G_GNUC_PRINTF (3, 4) static tl_card *
fail (GError **error, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED, "%s: no model card, and %s", path, msg);
  return NULL;
}

/* The card fields every default card shares: names, licence, no files. */
static tl_card *
card_new (const char *path, const char *name)
{
  tl_card *k = g_new0 (tl_card, 1);
  k->path = g_strdup (path);
  k->dir = g_path_get_dirname (path);
  k->name = g_strdup (name);
  k->license = g_strdup ("unknown");
  k->attribution = g_strdup ("unknown (no model card; defaults read from the graph)");
  k->output_keys = g_new0 (char *, 1);
  k->output_tensors = g_new0 (char *, 1);
  k->labels = g_new0 (char *, 1);
  return k;
}

/* Input geometry and normalisation from a graph input (1×C×H×W, C = 1 or 3). */
static gboolean
set_input (tl_card *k, const char *path, const tl_net *net, GError **error)
{
  char buf[64];
  if (tl_net_n_inputs (net) != 1)
    {
      fail (error, path, "its %d graph inputs cannot be guessed (defaults need one image input); "
            "write a card", tl_net_n_inputs (net));
      return FALSE;
    }
  const tl_net_tensor_info *in = tl_net_input (net, 0);
  const int64_t *s = in->shape;
  if (in->ndim != 4 || s[0] != 1 || (s[1] != 1 && s[1] != 3) || s[2] < 1 || s[3] < 1
      || s[2] > TL_CARD_MAX_SIDE || s[3] > TL_CARD_MAX_SIDE)
    {
      const char *hint = in->ndim == 4 && (s[3] == 1 || s[3] == 3)
                           ? " (it looks NHWC: convert it to NCHW, e.g. with tools/convert/tfjs2onnx.py)" : "";
      fail (error, path, "its input '%s' is %s, not an N×C×H×W image with C = 1 or 3%s",
            in->name, tl_shape_str (in->ndim, in->shape, buf, sizeof buf), hint);
      return FALSE;
    }
  static const double gray[3] = TL_CARD_DEFAULT_GRAY_WEIGHTS;
  k->input_name = g_strdup (in->name);
  k->channels = (int) s[1];
  k->height = (int) s[2];
  k->width = (int) s[3];
  k->color = k->channels == 1 ? TL_COLOR_GRAY : TL_COLOR_RGB;
  memcpy (k->gray_weights, gray, sizeof gray);
  k->resize = TL_RESIZE_HALF_PIXEL_BILINEAR;
  k->scale = 1.0 / 255.0;
  for (int c = 0; c < 3; c++)
    {
      k->mean[c] = 0.0;
      k->std[c] = 1.0;
    }
  return TRUE;
}

static void
set_outputs (tl_card *k, const tl_net *net)
{
  int n = tl_net_n_outputs (net);
  g_strfreev (k->output_keys);
  g_strfreev (k->output_tensors);
  k->n_outputs = n;
  k->output_keys = g_new0 (char *, n + 1);
  k->output_tensors = g_new0 (char *, n + 1);
  for (int i = 0; i < n; i++)
    {
      k->output_keys[i] = g_strdup (tl_net_output (net, i)->name);
      k->output_tensors[i] = g_strdup (tl_net_output (net, i)->name);
    }
}

static char *
stem_of (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  return g_str_has_suffix (base, ".onnx") ? g_strndup (base, strlen (base) - 5)
                                          : g_strdup (base);
}

tl_card *
tl_card_defaults_for_net (const char *onnx_path, const tl_net *net, GError **error)
{
  g_return_val_if_fail (onnx_path != NULL && net != NULL, NULL);
  g_autofree char *name = stem_of (onnx_path);
  g_autoptr (tl_card) k = card_new (onnx_path, name);
  k->model = g_strdup (onnx_path);
  if (!set_input (k, onnx_path, net, error))
    return NULL;
  if (tl_net_n_outputs (net) < 1)
    return fail (error, onnx_path, "the graph has no output");
  set_outputs (k, net);
  const char *layer = tl_net_default_target_layer (net);
  if (!layer)
    return fail (error, onnx_path, "it has no 4-D feature map (N×C×H×W with H, W > 1) to "
                 "explain; name a target_layer in a card");
  k->target_layer = g_strdup (layer);

  const tl_net_tensor_info *out = tl_net_output (net, 0);
  if (out->ndim == 2 && out->shape[0] == 1 && out->shape[1] >= 2
      && out->shape[1] <= TL_CARD_MAX_LABELS)
    {
      /* [N, K] scores: a classifier whose classes we cannot name */
      k->task = TL_TASK_CLASSIFIER;
      k->n_labels = (int) out->shape[1];
      g_strfreev (k->labels);
      k->labels = g_new0 (char *, k->n_labels + 1);
      for (int i = 0; i < k->n_labels; i++)
        k->labels[i] = g_strdup_printf ("%d", i);
      k->score_kind = TL_SCORE_LOGIT;
    }
  else
    {
      k->task = TL_TASK_EMBEDDING;
      k->score_kind = TL_SCORE_COSINE;
    }
  k->score_tensor = g_strdup (out->name);
  return g_steal_pointer (&k);
}

char *
tl_card_pair_stem (const char *onnx_path)
{
  g_return_val_if_fail (onnx_path != NULL, NULL);
  size_t n = strlen (onnx_path);
  g_autofree char *base = g_path_get_basename (onnx_path);
  if (g_str_has_suffix (base, ENC_SUFFIX) && strlen (base) > sizeof ENC_SUFFIX - 1)
    return g_strndup (onnx_path, n - (sizeof ENC_SUFFIX - 1));
  if (g_str_has_suffix (base, DEC_SUFFIX) && strlen (base) > sizeof DEC_SUFFIX - 1)
    return g_strndup (onnx_path, n - (sizeof DEC_SUFFIX - 1));
  return NULL;
}

/* An autoencoder from "S-encoder.onnx" + "S-decoder.onnx" + "S-latents.npy". */
static tl_card *
pair_defaults (const char *onnx_path, const char *stem, GError **error)
{
  g_autofree char *enc = g_strconcat (stem, ENC_SUFFIX, NULL);
  g_autofree char *dec = g_strconcat (stem, DEC_SUFFIX, NULL);
  g_autofree char *bank = g_strconcat (stem, "-latents.npy", NULL);
  char buf[64];
  if (!g_file_test (enc, G_FILE_TEST_IS_REGULAR) || !g_file_test (dec, G_FILE_TEST_IS_REGULAR))
    return fail (error, onnx_path, "an autoencoder needs both %s and %s", enc, dec);
  if (!g_file_test (bank, G_FILE_TEST_IS_REGULAR))
    return fail (error, onnx_path, "the autoencoder has no latent bank %s (save the encoded "
                 "training set there as n×D float32 .npy)", bank);
  g_autoptr (tl_net) e = tl_net_load (enc, error);
  if (!e)
    return NULL;
  g_autoptr (tl_net) d = tl_net_load (dec, error);
  if (!d)
    return NULL;
  g_autofree char *name = g_path_get_basename (stem);
  g_autoptr (tl_card) k = card_new (onnx_path, name);
  k->task = TL_TASK_AUTOENCODER;
  k->score_kind = TL_SCORE_NONE;
  if (!set_input (k, enc, e, error))
    return NULL;
  const tl_net_tensor_info *z = tl_net_n_outputs (e) >= 1 ? tl_net_output (e, 0) : NULL;
  if (!z || z->ndim != 2 || z->shape[0] != 1 || z->shape[1] < 1
      || z->shape[1] > TL_CARD_MAX_LATENT)
    return fail (error, enc, "its first output %s is not a 1×D latent",
                 z ? tl_shape_str (z->ndim, z->shape, buf, sizeof buf) : "(none)");
  k->latent_dim = (int) z->shape[1];
  const tl_net_tensor_info *dz = tl_net_n_inputs (d) == 1 ? tl_net_input (d, 0) : NULL;
  if (!dz || dz->ndim != 2 || dz->shape[1] != k->latent_dim)
    return fail (error, dec, "its input is not one 1×%d latent (the encoder's output)",
                 k->latent_dim);
  const tl_net_tensor_info *y = tl_net_n_outputs (d) >= 1 ? tl_net_output (d, 0) : NULL;
  if (!y || y->ndim != 4 || y->shape[0] != 1 || (y->shape[1] != 1 && y->shape[1] != 3)
      || y->shape[2] < 1 || y->shape[3] < 1 || y->shape[2] > TL_CARD_MAX_SIDE
      || y->shape[3] > TL_CARD_MAX_SIDE)
    return fail (error, dec, "its first output %s is not a 1×C×H×W image with C = 1 or 3",
                 y ? tl_shape_str (y->ndim, y->shape, buf, sizeof buf) : "(none)");
  k->encoder = g_steal_pointer (&enc);
  k->decoder = g_steal_pointer (&dec);
  k->latent_bank = g_steal_pointer (&bank);
  k->encoder_output = g_strdup (z->name);
  k->decoder_input = g_strdup (dz->name);
  k->decoder_output = g_strdup (y->name);
  k->out_channels = (int) y->shape[1];
  k->out_height = (int) y->shape[2];
  k->out_width = (int) y->shape[3];
  k->out_min = 0.0;
  k->out_max = 1.0;
  int crop[4] = { 0, 0, k->out_width, k->out_height };
  memcpy (k->feature_crop, crop, sizeof crop);
  return g_steal_pointer (&k);
}

tl_card *
tl_card_defaults_for_model (const char *onnx_path, GError **error)
{
  g_return_val_if_fail (onnx_path != NULL, NULL);
  g_autofree char *stem = tl_card_pair_stem (onnx_path);
  if (stem)
    return pair_defaults (onnx_path, stem, error);
  g_autoptr (tl_net) net = tl_net_load (onnx_path, error);
  return net ? tl_card_defaults_for_net (onnx_path, net, error) : NULL;
}
