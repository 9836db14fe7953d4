/* tl_model: an ONNX network plus its card (models/<name>.json): how to feed
 * it (input geometry and normalisation as tl_preprocess_params), what to
 * explain in it (default target layer, score), and for autoencoders the
 * decoder and its output geometry.
 *
 * A model is named either by a bundled name ("centernet") or by a file path
 * (a card "x.json", or an ONNX file "x.onnx", whose sidecar card "x.json" is
 * used when it exists; "s-encoder.onnx" / "s-decoder.onnx" use "s.json").
 * An ONNX file without a sidecar gets the defaults tl_card_defaults_for_model
 * reads from its graph (card-defaults.h).
 *
 * Bundled names are searched, in this order, in
 *   $TENSORLENS_MODELS_DIR (colon-separated; for tests and relocated installs)
 *   TL_MODELS_DIR          (the installed <datadir>/tensorlens/models)
 *   TL_SOURCE_MODELS_DIR   (the source tree's models/, for uninstalled use)
 *   $XDG_DATA_HOME/tensorlens/models
 * and the first <dir>/<name>.json found wins.
 *
 * Models are reference-counted and shared through a process-wide cache
 * (tl_model_get), so a GEGL op or a GIMP plug-in loads each network once.
 * A model's networks are loaded lazily and run under the model's lock:
 * tl_model_run may be called from several threads. */
#pragma once
#include <glib.h>
#include <stdint.h>

#include "tl-net.h"
#include "card.h"
#include "preprocess.h"

typedef struct tl_model tl_model;

/* Path of the card (or bare ONNX file) a name or path refers to; NULL +
 * TL_ERROR_IO listing the searched directories if there is none. */
char      *tl_model_find (const char *name_or_path, GError **error);
/* Bundled model names found in the search directories (each once, sorted),
 * NULL-terminated; free with g_strfreev. task_filter < 0 lists every task,
 * otherwise only cards of that tl_task. Cards that fail to parse are left
 * out. */
char     **tl_model_list (int task_filter);
/* The sidecar card of an ONNX file ("x.onnx" → "x.json", "s-encoder.onnx" →
 * "s.json") if it exists, else NULL. */
char      *tl_model_sidecar (const char *onnx_path);
/* The search directories in order (NULL-terminated; g_strfreev). */
char     **tl_model_search_dirs (void);

/* A fresh model (not shared). Reads and checks the card and, for every task
 * but autoencoders, loads the network and checks that the card's input and
 * target layer exist in it. */
tl_model  *tl_model_load (const char *name_or_path, GError **error);
/* The shared instance for name_or_path from the process-wide cache (loaded
 * on first use, reloaded if the file changed); release with tl_model_unref. */
tl_model  *tl_model_get (const char *name_or_path, GError **error);
tl_model  *tl_model_ref (tl_model *model);
void       tl_model_unref (tl_model *model);
/* Drops every cached model (the cache's references only). */
void       tl_model_cache_clear (void);

const char *tl_model_name (const tl_model *model);
/* The card path, or the ONNX path of a model without a card. */
const char *tl_model_path (const tl_model *model);
/* The sidecar card, or for an ONNX file without one the defaults read from
 * its graph (never NULL). */
const tl_card *tl_model_card (const tl_model *model);
tl_task     tl_model_task (const tl_model *model);
/* How an image becomes this model's input tensor. */
const tl_preprocess_params *tl_model_preprocess (const tl_model *model);
/* Letterbox (true) or stretch (false, the default) images into the model
 * input (methods.md step 4's (param)). Call it on a fresh model from
 * tl_model_load before explaining: on a shared one from tl_model_get it
 * would change every user's geometry. */
void        tl_model_set_letterbox (tl_model *model, bool letterbox);
/* The card's target layer, else the engine's default; NULL for autoencoders. */
const char *tl_model_default_layer (const tl_model *model);
/* The analysed network (NULL + error for autoencoders). Owned by the model. */
tl_net     *tl_model_net (tl_model *model, GError **error);
/* The decoder of an autoencoder, loaded on first use (NULL + error for
 * other tasks). Owned by the model. */
tl_net     *tl_model_decoder (tl_model *model, GError **error);
/* The same decoder loaded for batch inputs at once (dim 0 = batch), for
 * decoding many latents per pass (batch 1 is tl_model_decoder). Loaded on
 * first use for each batch size and kept with the model, as is the error
 * when the graph cannot be re-batched (NULL + that error then, every time).
 * Owned by the model; run it with tl_model_run. */
tl_net     *tl_model_decoder_batch (tl_model *model, int64_t batch, GError **error);

/* Runs net (tl_model_net, tl_model_decoder or tl_model_decoder_batch of
 * this model) under the model's lock and counts the forward pass. Same
 * arguments as tl_net_run. */
tl_net_result *tl_model_run (tl_model *model, tl_net *net, const tl_tensor *const *inputs,
                             int n_inputs, const char *const *taps, int n_taps, guint flags,
                             GError **error);
/* Forward passes made through tl_model_run in this process (all models):
 * how tests prove that caching works. */
int64_t     tl_model_forward_count (void);
/* Wall time spent in those passes, microseconds: how benchmarks separate
 * the network from the work around it. */
int64_t     tl_model_forward_usec (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_model, tl_model_unref)
