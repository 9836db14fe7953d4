/* Latents -> images through an autoencoder's decoder: the library's one
 * decoding path, used by tl_generate (sample images and grids) and by
 * `tensorlens eval-sampling` (decoded samples for FID).
 *
 * Latents go through the decoder `batch` per pass, by the decoder loaded for
 * that batch size (tl_model_decoder_batch: loaded once per model and batch
 * size, run with tl_model_run, so every pass is counted). A partial last
 * batch is padded with zero latents whose images are dropped. A graph that
 * cannot be re-batched is decoded one latent per pass: the same images, more
 * passes. So the batch size changes speed only: the images equal one at a
 * time decoding to float rounding (a batch splits its GEMMs over the threads
 * differently). Images are in the card's output geometry (autoencoder.output),
 * C x H x W planes, the card's [min, max] mapped to [0,1] and clamped; NaN
 * gives 0. */
#pragma once
#include <glib.h>
#include <stdint.h>

#include "ae-images.h"
#include "explain.h"
#include "model.h"

/* Latents per decoder pass, at most: beyond it the engine gains nothing
 * and a pass's activations grow. */
#define TL_AE_DECODE_MAX_BATCH 64

/* Receives images [first, first + n) of a decoding, n x C x H x W floats in
 * [0,1] that live until it returns. Return FALSE with error set to stop. */
typedef gboolean (*tl_ae_decoded_func) (const float *images, int64_t first, int64_t n,
                                        void *user, GError **error);

/* Decodes n latents (1..TL_AE_MAX_IMAGES rows of latent_dim floats) through
 * model's decoder, batch (1..TL_AE_DECODE_MAX_BATCH) per pass, and hands
 * each pass's images to fn. progress (may be NULL) is called after each
 * pass with the fraction of latents decoded. */
gboolean tl_ae_decode_each (tl_model *model, const float *z, int64_t n, int batch,
                            tl_ae_decoded_func fn, void *user, tl_progress_func progress,
                            void *progress_data, GError **error);

/* The same into a new n x C x H x W tensor. */
tl_tensor *tl_ae_decode (tl_model *model, const float *z, int64_t n, int batch,
                         GError **error);
