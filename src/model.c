/* A model = network + card; see model.h. */
#include "model.h"

#include "card-defaults.h"
#include "error.h"
#include "tl-config.h"

#include <glib/gstdio.h>
#include <stdatomic.h>
#include <string.h>

struct tl_model
{
  gint            refcount;
  char           *name;
  char           *path;        /* card, or bare ONNX */
  tl_card        *card;        /* NULL for a bare ONNX file */
  char           *onnx;        /* analysed network; NULL for autoencoders */
  tl_preprocess_params pre;
  char           *default_layer;
  GMutex          lock;        /* guards lazy loading and every run */
  tl_net         *net;
  tl_net         *decoder;
  GArray         *decoders;    /* decoder_at_batch: the decoder per batch size > 1 */
  /* identity of the file when loaded, so the cache notices a changed file */
  gint64          mtime;
  gint64          size;
};

/* The decoder loaded for `batch` latents per pass, or why it cannot be:
 * both are kept, so a graph is parsed once per batch size whatever the
 * outcome. */
typedef struct {
  int64_t batch;
  tl_net *net;
  GError *error;
} decoder_at_batch;

static _Atomic int64_t forward_count;
static _Atomic int64_t forward_usec;

/* ---- finding models --------------------------------------------------- */

char **
tl_model_search_dirs (void)
{
  GPtrArray *dirs = g_ptr_array_new ();
  const char *env = g_getenv ("TENSORLENS_MODELS_DIR");
  if (env && *env)
    {
      g_auto (GStrv) parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
      for (char **p = parts; *p; p++)
        if (**p)
          g_ptr_array_add (dirs, g_strdup (*p));
    }
  g_ptr_array_add (dirs, g_strdup (TL_MODELS_DIR));
  g_ptr_array_add (dirs, g_strdup (TL_SOURCE_MODELS_DIR));
  g_ptr_array_add (dirs, g_build_filename (g_get_user_data_dir (), "tensorlens", "models", NULL));
  g_ptr_array_add (dirs, NULL);
  return (char **) g_ptr_array_free (dirs, FALSE);
}

/* A bundled name is a plain file stem: no directory part, no extension. */
static gboolean
is_bundled_name (const char *s)
{
  if (!*s || strchr (s, G_DIR_SEPARATOR) || g_str_has_suffix (s, ".json")
      || g_str_has_suffix (s, ".onnx") || strcmp (s, ".") == 0 || strcmp (s, "..") == 0)
    return FALSE;
  return TRUE;
}

char *
tl_model_find (const char *name_or_path, GError **error)
{
  g_return_val_if_fail (name_or_path != NULL, NULL);
  if (!*name_or_path)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "model: empty name");
      return NULL;
    }
  if (!is_bundled_name (name_or_path))
    {
      if (!g_file_test (name_or_path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, TL_ERROR, TL_ERROR_IO, "model '%s': no such file", name_or_path);
          return NULL;
        }
      return g_strdup (name_or_path);
    }
  g_auto (GStrv) dirs = tl_model_search_dirs ();
  g_autofree char *file = g_strconcat (name_or_path, ".json", NULL);
  for (char **d = dirs; *d; d++)
    {
      char *p = g_build_filename (*d, file, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
        return p;
      g_free (p);
    }
  g_autofree char *list = g_strjoinv (", ", dirs);
  g_set_error (error, TL_ERROR, TL_ERROR_IO, "model '%s': no %s in any model directory (%s)",
               name_or_path, file, list);
  return NULL;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

char **
tl_model_list (int task_filter)
{
  g_auto (GStrv) dirs = tl_model_search_dirs ();
  GPtrArray *names = g_ptr_array_new ();
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (char **d = dirs; *d; d++)
    {
      GDir *dir = g_dir_open (*d, 0, NULL);
      if (!dir)
        continue;
      const char *f;
      while ((f = g_dir_read_name (dir)))
        {
          if (!g_str_has_suffix (f, ".json"))
            continue;
          g_autofree char *stem = g_strndup (f, strlen (f) - 5);
          if (g_hash_table_contains (seen, stem))
            continue;
          g_autofree char *path = g_build_filename (*d, f, NULL);
          g_autoptr (tl_card) card = tl_card_load (path, NULL);
          /* only cards whose name matches the file: that is what resolves */
          if (!card || strcmp (card->name, stem) != 0
              || (task_filter >= 0 && (int) card->task != task_filter))
            continue;
          char *s = g_strdup (stem);
          g_hash_table_add (seen, s);
          g_ptr_array_add (names, s);
        }
      g_dir_close (dir);
    }
  g_hash_table_destroy (seen);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

/* ---- loading ---------------------------------------------------------- */

char *
tl_model_sidecar (const char *onnx_path)
{
  g_return_val_if_fail (onnx_path != NULL, NULL);
  if (!g_str_has_suffix (onnx_path, ".onnx"))
    return NULL;
  /* "S-encoder.onnx" / "S-decoder.onnx" belong to the autoencoder card "S.json" */
  g_autofree char *pair = tl_card_pair_stem (onnx_path);
  g_autofree char *stem = pair ? g_steal_pointer (&pair)
                               : g_strndup (onnx_path, strlen (onnx_path) - 5);
  char *card = g_strconcat (stem, ".json", NULL);
  if (g_file_test (card, G_FILE_TEST_IS_REGULAR))
    return card;
  g_free (card);
  return NULL;
}

/* The card's input description in preprocess terms. Cards give pixels in
 * 0..255 (model = (pixel·scale − mean) / std); preprocess gives them in
 * 0..1, hence the factor 255 on scale. */
static gboolean
preprocess_from_card (const tl_card *c, tl_preprocess_params *p, GError **error)
{
  /* an autoencoder's input only feeds its encoder, which nothing here runs */
  if (c->task != TL_TASK_AUTOENCODER && (c->pad[0] || c->pad[1] || c->pad[2] || c->pad[3]))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED,
                   "%s: input.pad %d,%d,%d,%d: padded inputs are not supported", c->path,
                   c->pad[0], c->pad[1], c->pad[2], c->pad[3]);
      return FALSE;
    }
  *p = tl_preprocess_default_params ();
  p->width = c->width;
  p->height = c->height;
  p->channels = c->color == TL_COLOR_GRAY ? 1 : 3;
  p->resize_mode = c->resize == TL_RESIZE_TF_LEGACY_BILINEAR ? TL_RESAMPLE_TF_LEGACY
                                                             : TL_RESAMPLE_HALF_PIXEL;
  p->scale = (float) (c->scale * 255.0);
  for (int i = 0; i < 3; i++)
    {
      int k = i < c->channels ? i : 0;
      p->mean[i] = (float) c->mean[k];
      p->std[i] = (float) c->std[k];
      if (c->color == TL_COLOR_GRAY)
        p->gray_weights[i] = (float) c->gray_weights[i];
    }
  return tl_preprocess_params_check (p, error);
}

/* Checks that the card's names exist in the loaded network. */
static gboolean
check_net (tl_model *m, tl_net *net, GError **error)
{
  if (tl_net_n_inputs (net) != 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_UNSUPPORTED, "%s: %d graph inputs (need 1)",
                   m->onnx, tl_net_n_inputs (net));
      return FALSE;
    }
  const tl_net_tensor_info *in = tl_net_input (net, 0);
  const tl_preprocess_params *p = &m->pre;
  if (in->ndim != 4 || in->shape[0] != 1 || in->shape[1] != p->channels
      || in->shape[2] != p->height || in->shape[3] != p->width)
    {
      char buf[64];
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: input '%s' is %s, but the card says 1x%dx%dx%d", m->path, in->name,
                   tl_shape_str (in->ndim, in->shape, buf, sizeof buf), p->channels,
                   p->height, p->width);
      return FALSE;
    }
  if (m->card && m->card->input_name && strcmp (m->card->input_name, in->name) != 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: input.name '%s' is not the network's input ('%s')", m->path,
                   m->card->input_name, in->name);
      return FALSE;
    }
  if (m->default_layer && !tl_net_find_tensor (net, m->default_layer))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s: target_layer '%s' is not a tensor of %s", m->path, m->default_layer,
                   m->onnx);
      return FALSE;
    }
  return TRUE;
}

/* An ONNX file without a card: the defaults read from its graph
 * (card-defaults.h), then the same checks as with a card. */
static gboolean
setup_bare_onnx (tl_model *m, GError **error)
{
  g_autofree char *stem = tl_card_pair_stem (m->path);
  if (stem)
    m->card = tl_card_defaults_for_model (m->path, error);
  else
    {
      m->net = tl_net_load (m->path, error);
      m->card = m->net ? tl_card_defaults_for_net (m->path, m->net, error) : NULL;
    }
  if (!m->card || !preprocess_from_card (m->card, &m->pre, error))
    return FALSE;
  g_free (m->name);
  m->name = g_strdup (m->card->name);
  if (m->card->task == TL_TASK_AUTOENCODER)
    return TRUE;
  m->onnx = g_strdup (m->card->model);
  m->default_layer = g_strdup (m->card->target_layer);
  return check_net (m, m->net, error);
}

static gboolean
setup_card (tl_model *m, GError **error)
{
  m->card = tl_card_load (m->path, error);
  if (!m->card || !preprocess_from_card (m->card, &m->pre, error))
    return FALSE;
  m->name = g_strdup (m->card->name);
  if (m->card->task == TL_TASK_AUTOENCODER)
    return TRUE;
  m->onnx = g_strdup (m->card->model);
  m->default_layer = g_strdup (m->card->target_layer);
  m->net = tl_net_load (m->onnx, error);
  return m->net && check_net (m, m->net, error);
}

tl_model *
tl_model_load (const char *name_or_path, GError **error)
{
  g_autofree char *path = tl_model_find (name_or_path, error);
  if (!path)
    return NULL;
  tl_model *m = g_new0 (tl_model, 1);
  m->refcount = 1;
  g_mutex_init (&m->lock);
  m->path = g_steal_pointer (&path);
  GStatBuf st;
  if (g_stat (m->path, &st) == 0)
    {
      m->mtime = (gint64) st.st_mtime;
      m->size = (gint64) st.st_size;
    }
  /* a path "x.onnx" uses its sidecar card "x.json" if there is one */
  char *card = tl_model_sidecar (m->path);
  if (card)
    {
      g_free (m->path);
      m->path = card;
    }
  gboolean ok;
  if (g_str_has_suffix (m->path, ".onnx"))
    {
      g_autofree char *base = g_path_get_basename (m->path);
      m->name = g_strndup (base, strlen (base) - 5);
      ok = setup_bare_onnx (m, error);
    }
  else
    ok = setup_card (m, error);
  if (!ok)
    {
      tl_model_unref (m);
      return NULL;
    }
  return m;
}

tl_model *
tl_model_ref (tl_model *model)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_atomic_int_inc (&model->refcount);
  return model;
}

void
tl_model_unref (tl_model *model)
{
  if (!model || !g_atomic_int_dec_and_test (&model->refcount))
    return;
  tl_net_free (model->net);
  tl_net_free (model->decoder);
  for (guint i = 0; model->decoders && i < model->decoders->len; i++)
    {
      decoder_at_batch *d = &g_array_index (model->decoders, decoder_at_batch, i);
      tl_net_free (d->net);
      g_clear_error (&d->error);
    }
  g_clear_pointer (&model->decoders, g_array_unref);
  tl_card_free (model->card);
  g_mutex_clear (&model->lock);
  g_free (model->name);
  g_free (model->path);
  g_free (model->onnx);
  g_free (model->default_layer);
  g_free (model);
}

/* ---- the shared cache ------------------------------------------------- */

G_LOCK_DEFINE_STATIC (cache);
static GHashTable *cache;   /* canonical path -> tl_model* (one reference) */

tl_model *
tl_model_get (const char *name_or_path, GError **error)
{
  g_autofree char *found = tl_model_find (name_or_path, error);
  if (!found)
    return NULL;
  g_autofree char *key = g_canonicalize_filename (found, NULL);
  GStatBuf st;
  gint64 mtime = 0, size = 0;
  if (g_stat (key, &st) == 0)
    {
      mtime = (gint64) st.st_mtime;
      size = (gint64) st.st_size;
    }
  G_LOCK (cache);
  if (!cache)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify) tl_model_unref);
  tl_model *m = g_hash_table_lookup (cache, key);
  if (m && m->mtime == mtime && m->size == size)
    {
      tl_model_ref (m);
      G_UNLOCK (cache);
      return m;
    }
  /* Loading under the lock keeps two threads from loading one model twice;
   * it only blocks other loads. */
  m = tl_model_load (key, error);
  if (m)
    g_hash_table_replace (cache, g_strdup (key), tl_model_ref (m));
  G_UNLOCK (cache);
  return m;
}

void
tl_model_cache_clear (void)
{
  G_LOCK (cache);
  if (cache)
    g_hash_table_remove_all (cache);
  G_UNLOCK (cache);
}

/* ---- accessors -------------------------------------------------------- */

const char *
tl_model_name (const tl_model *model)
{
  return model->name;
}

const char *
tl_model_path (const tl_model *model)
{
  return model->path;
}

const tl_card *
tl_model_card (const tl_model *model)
{
  return model->card;
}

tl_task
tl_model_task (const tl_model *model)
{
  return model->card->task;
}

const tl_preprocess_params *
tl_model_preprocess (const tl_model *model)
{
  return &model->pre;
}

void
tl_model_set_letterbox (tl_model *model, bool letterbox)
{
  g_return_if_fail (model != NULL);
  model->pre.letterbox = letterbox;
}

const char *
tl_model_default_layer (const tl_model *model)
{
  return model->default_layer;
}

tl_net *
tl_model_net (tl_model *model, GError **error)
{
  if (!model->net)
    g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                 "model '%s' is an autoencoder: it has no network to explain", model->name);
  return model->net;
}

tl_net *
tl_model_decoder (tl_model *model, GError **error)
{
  if (tl_model_task (model) != TL_TASK_AUTOENCODER)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "model '%s' is a %s, not an autoencoder",
                   model->name, tl_task_name (tl_model_task (model)));
      return NULL;
    }
  g_mutex_lock (&model->lock);
  if (!model->decoder)
    model->decoder = tl_net_load (model->card->decoder, error);
  tl_net *d = model->decoder;
  g_mutex_unlock (&model->lock);
  return d;
}

tl_net *
tl_model_decoder_batch (tl_model *model, int64_t batch, GError **error)
{
  g_return_val_if_fail (batch >= 1, NULL);
  tl_net *one = tl_model_decoder (model, error);
  if (!one || batch == 1)
    return one;
  g_mutex_lock (&model->lock);
  if (!model->decoders)
    model->decoders = g_array_new (FALSE, TRUE, sizeof (decoder_at_batch));
  decoder_at_batch *d = NULL;
  for (guint i = 0; !d && i < model->decoders->len; i++)
    if (g_array_index (model->decoders, decoder_at_batch, i).batch == batch)
      d = &g_array_index (model->decoders, decoder_at_batch, i);
  if (!d)
    {
      /* loaded once and kept: others may be running it, so never dropped
       * before the model */
      decoder_at_batch fresh = { batch, NULL, NULL };
      fresh.net = tl_net_load_batch (model->card->decoder, batch, &fresh.error);
      g_array_append_val (model->decoders, fresh);
      d = &g_array_index (model->decoders, decoder_at_batch, model->decoders->len - 1);
    }
  tl_net *net = d->net;
  if (!net)
    g_propagate_error (error, g_error_copy (d->error));
  g_mutex_unlock (&model->lock);
  return net;
}

/* Whether net is one of model's networks; called under the model's lock. */
static gboolean
owns_net (const tl_model *model, const tl_net *net)
{
  if (net && (net == model->net || net == model->decoder))
    return TRUE;
  for (guint i = 0; net && model->decoders && i < model->decoders->len; i++)
    if (g_array_index (model->decoders, decoder_at_batch, i).net == net)
      return TRUE;
  return FALSE;
}

tl_net_result *
tl_model_run (tl_model *model, tl_net *net, const tl_tensor *const *inputs, int n_inputs,
              const char *const *taps, int n_taps, guint flags, GError **error)
{
  g_mutex_lock (&model->lock);
  if (!owns_net (model, net))
    {
      g_mutex_unlock (&model->lock);
      g_return_val_if_reached (NULL);
    }
  atomic_fetch_add (&forward_count, 1);
  gint64 t0 = g_get_monotonic_time ();
  tl_net_result *r = tl_net_run (net, inputs, n_inputs, taps, n_taps, flags, error);
  atomic_fetch_add (&forward_usec, g_get_monotonic_time () - t0);
  g_mutex_unlock (&model->lock);
  return r;
}

int64_t
tl_model_forward_count (void)
{
  return atomic_load (&forward_count);
}

int64_t
tl_model_forward_usec (void)
{
  return atomic_load (&forward_usec);
}
