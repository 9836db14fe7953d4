/* Model card reader: strict, small, every field checked (see card.h). */
#include "card.h"
#include "error.h"

#include <json-glib/json-glib.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

/* Parsing context: the card's path prefixes every message. */
typedef struct {
  const char *path;
  const char *dir;
  GError    **error;
} ctx;

G_GNUC_PRINTF (4, 5) static gboolean
fail (ctx *c, int code, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (c->error, TL_ERROR, code, "%s: %s%s%s", c->path, field ? field : "",
               field ? ": " : "", msg);
  return FALSE;
}

static const char *
json_type_name (JsonNode *n)
{
  if (n == NULL)
    return "nothing";
  switch (json_node_get_node_type (n))
    {
    case JSON_NODE_OBJECT: return "an object";
    case JSON_NODE_ARRAY:  return "an array";
    case JSON_NODE_NULL:   return "null";
    default: break;
    }
  GType t = json_node_get_value_type (n);
  if (t == G_TYPE_STRING)  return "a string";
  if (t == G_TYPE_BOOLEAN) return "a boolean";
  return "a number";
}

static JsonNode *
member (JsonObject *o, const char *key)
{
  return o && json_object_has_member (o, key) ? json_object_get_member (o, key) : NULL;
}

static gboolean
is_null (JsonNode *n)
{
  return n == NULL || JSON_NODE_HOLDS_NULL (n);
}

/* A string member; required unless out may stay NULL (required = FALSE). */
static gboolean
get_str (ctx *c, JsonObject *o, const char *key, const char *field, gboolean required,
         char **out)
{
  JsonNode *n = member (o, key);
  *out = NULL;
  if (is_null (n))
    return required ? fail (c, TL_ERROR_FORMAT, field, "missing (need a string)") : TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return fail (c, TL_ERROR_FORMAT, field, "expected a string, got %s", json_type_name (n));
  const char *s = json_node_get_string (n);
  if (s[0] == '\0')
    return fail (c, TL_ERROR_INVALID, field, "empty string");
  *out = g_strdup (s);
  return TRUE;
}

static gboolean
node_int (ctx *c, JsonNode *n, const char *field, int64_t lo, int64_t hi, int *out)
{
  if (is_null (n))
    return fail (c, TL_ERROR_FORMAT, field, "missing (need an integer)");
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return fail (c, TL_ERROR_FORMAT, field, "expected an integer, got %s", json_type_name (n));
  int64_t v = json_node_get_int (n);
  if (v < lo || v > hi)
    return fail (c, TL_ERROR_INVALID, field, "%" G_GINT64_FORMAT " is outside %" G_GINT64_FORMAT
                 "..%" G_GINT64_FORMAT, v, lo, hi);
  *out = (int) v;
  return TRUE;
}

static gboolean
get_int (ctx *c, JsonObject *o, const char *key, const char *field, int64_t lo, int64_t hi,
         int *out)
{
  return node_int (c, member (o, key), field, lo, hi, out);
}

static gboolean
node_num (ctx *c, JsonNode *n, const char *field, double *out)
{
  if (is_null (n))
    return fail (c, TL_ERROR_FORMAT, field, "missing (need a number)");
  GType t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
    return fail (c, TL_ERROR_FORMAT, field, "expected a number, got %s", json_type_name (n));
  double v = json_node_get_double (n);
  if (!isfinite (v))
    return fail (c, TL_ERROR_INVALID, field, "not a finite number");
  *out = v;
  return TRUE;
}

static JsonArray *
get_array (ctx *c, JsonObject *o, const char *key, const char *field, int min_len, int max_len)
{
  JsonNode *n = member (o, key);
  if (is_null (n))
    {
      fail (c, TL_ERROR_FORMAT, field, "missing (need an array)");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      fail (c, TL_ERROR_FORMAT, field, "expected an array, got %s", json_type_name (n));
      return NULL;
    }
  JsonArray *a = json_node_get_array (n);
  guint len = json_array_get_length (a);
  if ((int64_t) len < min_len || (int64_t) len > max_len)
    {
      if (min_len == max_len)
        fail (c, TL_ERROR_INVALID, field, "has %u entries, expected %d", len, min_len);
      else
        fail (c, TL_ERROR_INVALID, field, "has %u entries, expected %d..%d", len, min_len, max_len);
      return NULL;
    }
  return a;
}

static gboolean
get_nums (ctx *c, JsonObject *o, const char *key, const char *field, int len, double *out)
{
  JsonArray *a = get_array (c, o, key, field, len, len);
  if (!a)
    return FALSE;
  for (int i = 0; i < len; i++)
    {
      g_autofree char *f = g_strdup_printf ("%s[%d]", field, i);
      if (!node_num (c, json_array_get_element (a, i), f, &out[i]))
        return FALSE;
    }
  return TRUE;
}

static gboolean
get_ints (ctx *c, JsonObject *o, const char *key, const char *field, int len, int64_t lo,
          int64_t hi, int *out)
{
  JsonArray *a = get_array (c, o, key, field, len, len);
  if (!a)
    return FALSE;
  for (int i = 0; i < len; i++)
    {
      g_autofree char *f = g_strdup_printf ("%s[%d]", field, i);
      if (!node_int (c, json_array_get_element (a, i), f, lo, hi, &out[i]))
        return FALSE;
    }
  return TRUE;
}

static JsonObject *
get_object (ctx *c, JsonObject *o, const char *key, const char *field)
{
  JsonNode *n = member (o, key);
  if (is_null (n))
    {
      fail (c, TL_ERROR_FORMAT, field, "missing (need an object)");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      fail (c, TL_ERROR_FORMAT, field, "expected an object, got %s", json_type_name (n));
      return NULL;
    }
  return json_node_get_object (n);
}

/* One of the names in choices[] (NULL-terminated); returns its index. */
static gboolean
get_enum (ctx *c, JsonObject *o, const char *key, const char *field, const char *const *choices,
          int *out)
{
  g_autofree char *s = NULL;
  if (!get_str (c, o, key, field, TRUE, &s))
    return FALSE;
  for (int i = 0; choices[i]; i++)
    if (strcmp (s, choices[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  g_autofree char *list = g_strjoinv ("|", (char **) choices);
  return fail (c, TL_ERROR_UNSUPPORTED, field, "unknown value '%s' (expected %s)", s, list);
}

/* A file named by the card: relative, inside the card's directory. */
static gboolean
get_path (ctx *c, JsonObject *o, const char *key, const char *field, gboolean required,
          char **out)
{
  g_autofree char *rel = NULL;
  *out = NULL;
  if (!get_str (c, o, key, field, required, &rel))
    return FALSE;
  if (!rel)
    return TRUE;
  if (g_path_is_absolute (rel))
    return fail (c, TL_ERROR_INVALID, field, "'%s' is absolute; file names are relative to the card", rel);
  g_auto (GStrv) parts = g_strsplit_set (rel, "/\\", -1);
  for (int i = 0; parts[i]; i++)
    if (strcmp (parts[i], "..") == 0)
      return fail (c, TL_ERROR_INVALID, field, "'%s' leaves the card's directory", rel);
  *out = g_build_filename (c->dir, rel, NULL);
  return TRUE;
}

static const char *const task_names[] = { "classifier", "embedding", "detector", "autoencoder", NULL };
static const char *const color_names[] = { "rgb", "gray", NULL };
static const char *const resize_names[] = { "tf_legacy_bilinear", "half_pixel_bilinear", NULL };
static const char *const score_names[] = { "none", "logit", "cosine", "heatmap_sum", NULL };
static const char *const layout_names[] = { "NCHW", NULL };

const char *
tl_task_name (tl_task task)
{
  return (unsigned) task < G_N_ELEMENTS (task_names) - 1 ? task_names[task] : "?";
}

static gboolean
parse_input (ctx *c, JsonObject *root, tl_card *k)
{
  JsonObject *in = get_object (c, root, "input", "input");
  int v;
  if (!in || !get_str (c, in, "name", "input.name", TRUE, &k->input_name)
      || !get_enum (c, in, "layout", "input.layout", layout_names, &v)
      || !get_int (c, in, "channels", "input.channels", 1, 3, &k->channels)
      || !get_int (c, in, "height", "input.height", 1, TL_CARD_MAX_SIDE, &k->height)
      || !get_int (c, in, "width", "input.width", 1, TL_CARD_MAX_SIDE, &k->width)
      || !get_enum (c, in, "color", "input.color", color_names, &v))
    return FALSE;
  k->color = v;
  if ((k->color == TL_COLOR_GRAY) != (k->channels == 1) || k->channels == 2)
    return fail (c, TL_ERROR_INVALID, "input.channels", "%d channels do not fit color '%s' "
                 "(rgb needs 3, gray needs 1)", k->channels, color_names[k->color]);
  if (k->color == TL_COLOR_GRAY
      && !get_nums (c, in, "gray_weights", "input.gray_weights", 3, k->gray_weights))
    return FALSE;
  if (!get_enum (c, in, "resize", "input.resize", resize_names, &v))
    return FALSE;
  k->resize = v;
  if (!node_num (c, member (in, "scale"), "input.scale", &k->scale))
    return FALSE;
  if (k->scale == 0)
    return fail (c, TL_ERROR_INVALID, "input.scale", "must not be 0");
  if (!get_nums (c, in, "mean", "input.mean", k->channels, k->mean)
      || !get_nums (c, in, "std", "input.std", k->channels, k->std))
    return FALSE;
  for (int i = 0; i < k->channels; i++)
    if (!(k->std[i] > 0))
      return fail (c, TL_ERROR_INVALID, "input.std", "entry %d is %g; must be > 0", i, k->std[i]);
  if (!is_null (member (in, "pad"))
      && !get_ints (c, in, "pad", "input.pad", 4, 0, TL_CARD_MAX_SIDE, k->pad))
    return FALSE;
  if (k->pad[0] + k->pad[2] >= k->height || k->pad[1] + k->pad[3] >= k->width)
    return fail (c, TL_ERROR_INVALID, "input.pad", "padding %d,%d,%d,%d leaves no image inside "
                 "%dx%d", k->pad[0], k->pad[1], k->pad[2], k->pad[3], k->height, k->width);
  return TRUE;
}

static gboolean
parse_outputs (ctx *c, JsonObject *root, tl_card *k)
{
  JsonObject *o = get_object (c, root, "outputs", "outputs");
  if (!o)
    return FALSE;
  GList *names = json_object_get_members (o);     /* insertion order */
  k->n_outputs = (int) g_list_length (names);
  k->output_keys = g_new0 (char *, k->n_outputs + 1);
  k->output_tensors = g_new0 (char *, k->n_outputs + 1);
  int i = 0;
  gboolean ok = TRUE;
  for (GList *l = names; l && ok; l = l->next, i++)
    {
      g_autofree char *f = g_strdup_printf ("outputs.%s", (char *) l->data);
      k->output_keys[i] = g_strdup (l->data);
      ok = get_str (c, o, l->data, f, TRUE, &k->output_tensors[i]);
    }
  g_list_free (names);
  return ok;
}

static gboolean
parse_labels (ctx *c, JsonObject *root, tl_card *k)
{
  int min = k->task == TL_TASK_CLASSIFIER ? 2 : k->task == TL_TASK_DETECTOR ? 1 : 0;
  JsonArray *a = get_array (c, root, "labels", "labels", min, TL_CARD_MAX_LABELS);
  if (!a)
    return FALSE;
  k->n_labels = (int) json_array_get_length (a);
  k->labels = g_new0 (char *, k->n_labels + 1);
  for (int i = 0; i < k->n_labels; i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        return fail (c, TL_ERROR_FORMAT, "labels", "entry %d: expected a string, got %s", i,
                     json_type_name (n));
      k->labels[i] = g_strdup (json_node_get_string (n));
    }
  return TRUE;
}

static gboolean
parse_score (ctx *c, JsonObject *root, tl_card *k)
{
  static const tl_score_kind want[] = { TL_SCORE_LOGIT, TL_SCORE_COSINE, TL_SCORE_HEATMAP_SUM,
                                        TL_SCORE_NONE };
  JsonObject *s = get_object (c, root, "score", "score");
  int v;
  if (!s || !get_enum (c, s, "kind", "score.kind", score_names, &v))
    return FALSE;
  k->score_kind = v;
  /* A detector may also be explained by its max logit; otherwise one kind per task. */
  gboolean fits = k->score_kind == want[k->task]
                  || (k->task == TL_TASK_DETECTOR && k->score_kind == TL_SCORE_LOGIT);
  if (!fits)
    return fail (c, TL_ERROR_INVALID, "score.kind", "'%s' does not fit task '%s'",
                 score_names[k->score_kind], tl_task_name (k->task));
  if (k->score_kind == TL_SCORE_NONE)
    return TRUE;
  return get_str (c, s, "tensor", "score.tensor", TRUE, &k->score_tensor)
         && get_str (c, s, "probabilities", "score.probabilities", FALSE, &k->probabilities)
         && get_str (c, s, "logits", "score.logits", FALSE, &k->score_logits);
}

static gboolean
parse_autoencoder (ctx *c, JsonObject *root, tl_card *k)
{
  JsonObject *a = get_object (c, root, "autoencoder", "autoencoder");
  if (!a)
    return FALSE;
  JsonObject *o;
  if (!get_int (c, a, "latent_dim", "autoencoder.latent_dim", 1, TL_CARD_MAX_LATENT, &k->latent_dim)
      || !get_path (c, a, "encoder", "autoencoder.encoder", TRUE, &k->encoder)
      || !get_path (c, a, "decoder", "autoencoder.decoder", TRUE, &k->decoder)
      || !get_path (c, a, "latent_bank", "autoencoder.latent_bank", TRUE, &k->latent_bank)
      || !get_str (c, a, "encoder_output", "autoencoder.encoder_output", TRUE, &k->encoder_output)
      || !get_str (c, a, "decoder_input", "autoencoder.decoder_input", TRUE, &k->decoder_input)
      || !get_str (c, a, "decoder_output", "autoencoder.decoder_output", TRUE, &k->decoder_output)
      || !(o = get_object (c, a, "output", "autoencoder.output"))
      || !get_int (c, o, "channels", "autoencoder.output.channels", 1, 3, &k->out_channels)
      || !get_int (c, o, "height", "autoencoder.output.height", 1, TL_CARD_MAX_SIDE, &k->out_height)
      || !get_int (c, o, "width", "autoencoder.output.width", 1, TL_CARD_MAX_SIDE, &k->out_width)
      || !node_num (c, member (o, "min"), "autoencoder.output.min", &k->out_min)
      || !node_num (c, member (o, "max"), "autoencoder.output.max", &k->out_max)
      || !get_path (c, a, "feature_model", "autoencoder.feature_model", FALSE, &k->feature_model))
    return FALSE;
  if (k->out_channels == 2)
    return fail (c, TL_ERROR_INVALID, "autoencoder.output.channels", "2 channels (need 1 or 3)");
  if (!(k->out_min < k->out_max))
    return fail (c, TL_ERROR_INVALID, "autoencoder.output", "min %g is not below max %g",
                 k->out_min, k->out_max);
  if (is_null (member (a, "feature_crop")))
    {
      int crop[4] = { 0, 0, k->out_width, k->out_height };
      memcpy (k->feature_crop, crop, sizeof crop);
      return TRUE;
    }
  if (!get_ints (c, a, "feature_crop", "autoencoder.feature_crop", 4, 0, TL_CARD_MAX_SIDE,
                 k->feature_crop))
    return FALSE;
  const int *r = k->feature_crop;
  if (r[2] < 1 || r[3] < 1 || r[0] + r[2] > k->out_width || r[1] + r[3] > k->out_height)
    return fail (c, TL_ERROR_INVALID, "autoencoder.feature_crop", "box %d,%d %dx%d is not inside "
                 "the %dx%d output", r[0], r[1], r[2], r[3], k->out_width, k->out_height);
  return TRUE;
}

static gboolean
parse_files (ctx *c, JsonObject *root, tl_card *k)
{
  JsonArray *a = get_array (c, root, "files", "files", 1, 1000);
  if (!a)
    return FALSE;
  k->n_files = (int) json_array_get_length (a);
  k->files = g_new0 (tl_card_file, k->n_files);
  for (int i = 0; i < k->n_files; i++)
    {
      g_autofree char *f = g_strdup_printf ("files[%d]", i);
      g_autofree char *fs = g_strdup_printf ("files[%d].sha256", i);
      g_autofree char *fb = g_strdup_printf ("files[%d].bytes", i);
      g_autofree char *fp = g_strdup_printf ("files[%d].path", i);
      JsonNode *n = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_OBJECT (n))
        return fail (c, TL_ERROR_FORMAT, f, "expected an object, got %s", json_type_name (n));
      JsonObject *o = json_node_get_object (n);
      g_autofree char *sha = NULL;
      if (!get_path (c, o, "path", fp, TRUE, &k->files[i].path)
          || !get_str (c, o, "sha256", fs, TRUE, &sha))
        return FALSE;
      if (strlen (sha) != 64 || strspn (sha, "0123456789abcdef") != 64)
        return fail (c, TL_ERROR_INVALID, fs, "expected 64 lower-case hex digits");
      memcpy (k->files[i].sha256, sha, 65);
      JsonNode *b = member (o, "bytes");
      if (!JSON_NODE_HOLDS_VALUE (b) || json_node_get_value_type (b) != G_TYPE_INT64
          || json_node_get_int (b) < 0)
        return fail (c, TL_ERROR_FORMAT, fb, "expected a non-negative integer, got %s",
                     json_type_name (b));
      k->files[i].bytes = json_node_get_int (b);
    }
  return TRUE;
}

/* The model files a card uses must be among the checksummed ones. */
static gboolean
check_listed (ctx *c, const tl_card *k, const char *file, const char *field)
{
  if (!file)
    return TRUE;
  for (int i = 0; i < k->n_files; i++)
    if (strcmp (k->files[i].path, file) == 0)
      return TRUE;
  return fail (c, TL_ERROR_INVALID, field, "'%s' is not listed in files[] (no checksum)", file);
}

static gboolean
parse_card (ctx *c, JsonObject *root, tl_card *k)
{
  g_autofree char *schema = NULL;
  int v;
  if (!get_str (c, root, "schema", "schema", TRUE, &schema))
    return FALSE;
  if (strcmp (schema, TL_CARD_SCHEMA) != 0)
    return fail (c, TL_ERROR_UNSUPPORTED, "schema", "'%s' is not supported (expected '%s')",
                 schema, TL_CARD_SCHEMA);
  if (!get_str (c, root, "name", "name", TRUE, &k->name)
      || !get_str (c, root, "title", "title", FALSE, &k->title)
      || !get_enum (c, root, "task", "task", task_names, &v))
    return FALSE;
  k->task = v;
  gboolean ae = k->task == TL_TASK_AUTOENCODER;
  if (!get_path (c, root, "model", "model", !ae, &k->model)
      || !parse_input (c, root, k) || !parse_outputs (c, root, k)
      || !parse_labels (c, root, k)
      || !get_str (c, root, "target_layer", "target_layer", !ae, &k->target_layer)
      || !parse_score (c, root, k)
      || (ae && !parse_autoencoder (c, root, k))
      || !parse_files (c, root, k)
      || !get_str (c, root, "license", "license", TRUE, &k->license)
      || !get_str (c, root, "attribution", "attribution", TRUE, &k->attribution))
    return FALSE;
  if (ae && k->model)
    return fail (c, TL_ERROR_INVALID, "model", "an autoencoder names encoder and decoder instead");
  return check_listed (c, k, k->model, "model")
         && check_listed (c, k, k->encoder, "autoencoder.encoder")
         && check_listed (c, k, k->decoder, "autoencoder.decoder")
         && check_listed (c, k, k->latent_bank, "autoencoder.latent_bank");
}

tl_card *
tl_card_parse (const char *json, gssize len, const char *path, GError **error)
{
  g_return_val_if_fail (json != NULL && path != NULL, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  ctx c = { path, dir, error };
  if (len < 0)
    len = (gssize) strlen (json);
  if (len > TL_CARD_MAX_FILE_BYTES)
    {
      fail (&c, TL_ERROR_INVALID, NULL, "%" G_GSSIZE_FORMAT " bytes; a card is at most %d",
            len, TL_CARD_MAX_FILE_BYTES);
      return NULL;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  GError *jerr = NULL;
  if (!json_parser_load_from_data (parser, json, len, &jerr))
    {
      fail (&c, TL_ERROR_FORMAT, NULL, "not valid JSON: %s", jerr->message);
      g_error_free (jerr);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      fail (&c, TL_ERROR_FORMAT, NULL, "expected a JSON object, got %s", json_type_name (root));
      return NULL;
    }
  tl_card *k = g_new0 (tl_card, 1);
  k->path = g_strdup (path);
  k->dir = g_strdup (dir);
  if (!parse_card (&c, json_node_get_object (root), k))
    {
      tl_card_free (k);
      return NULL;
    }
  return k;
}

tl_card *
tl_card_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  GStatBuf st;
  if (g_stat (path, &st) != 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s: cannot open model card: %s", path,
                   g_strerror (errno));
      return NULL;
    }
  if (st.st_size > TL_CARD_MAX_FILE_BYTES)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "%s: %" G_GINT64_FORMAT " bytes; a card is "
                   "at most %d", path, (gint64) st.st_size, TL_CARD_MAX_FILE_BYTES);
      return NULL;
    }
  g_autofree char *buf = NULL;
  gsize len = 0;
  GError *e = NULL;
  if (!g_file_get_contents (path, &buf, &len, &e))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s: cannot read model card: %s", path, e->message);
      g_error_free (e);
      return NULL;
    }
  return tl_card_parse (buf, (gssize) len, path, error);
}

static gboolean
verify_file (const tl_card_file *f, const char *card, GError **error)
{
  g_autoptr (GMappedFile) m = NULL;
  GError *e = NULL;
  m = g_mapped_file_new (f->path, FALSE, &e);
  if (!m)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_IO, "%s: listed file %s: %s", card, f->path, e->message);
      g_error_free (e);
      return FALSE;
    }
  gsize len = g_mapped_file_get_length (m);
  if ((int64_t) len != f->bytes)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: %s has %" G_GSIZE_FORMAT " bytes, the "
                   "card says %" G_GINT64_FORMAT, card, f->path, len, f->bytes);
      return FALSE;
    }
  g_autofree char *sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                                      (const guchar *) g_mapped_file_get_contents (m),
                                                      len);
  if (strcmp (sum, f->sha256) != 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_FORMAT, "%s: %s has sha256 %s, the card says %s",
                   card, f->path, sum, f->sha256);
      return FALSE;
    }
  return TRUE;
}

gboolean
tl_card_verify_files (const tl_card *card, GError **error)
{
  g_return_val_if_fail (card != NULL, FALSE);
  for (int i = 0; i < card->n_files; i++)
    if (!verify_file (&card->files[i], card->path, error))
      return FALSE;
  return TRUE;
}

const char *
tl_card_output (const tl_card *card, const char *key)
{
  g_return_val_if_fail (card != NULL && key != NULL, NULL);
  for (int i = 0; i < card->n_outputs; i++)
    if (strcmp (card->output_keys[i], key) == 0)
      return card->output_tensors[i];
  return NULL;
}

void
tl_card_free (tl_card *k)
{
  if (!k)
    return;
  g_free (k->path); g_free (k->dir); g_free (k->name); g_free (k->title); g_free (k->model);
  g_free (k->input_name);
  g_strfreev (k->output_keys); g_strfreev (k->output_tensors); g_strfreev (k->labels);
  g_free (k->target_layer); g_free (k->score_tensor); g_free (k->probabilities);
  g_free (k->score_logits);
  g_free (k->encoder); g_free (k->decoder); g_free (k->latent_bank);
  g_free (k->encoder_output); g_free (k->decoder_input); g_free (k->decoder_output);
  g_free (k->feature_model);
  for (int i = 0; i < k->n_files; i++)
    g_free (k->files[i].path);
  g_free (k->files);
  g_free (k->license); g_free (k->attribution);
  g_free (k);
}
