/* Sampling an autoencoder's latent space into pictures, shared by the CLI,
 * the GEGL op tensorlens:latent-samples and the GIMP plug-in:
 *
 *   1. a sampler (PMF vicinity, GMM, Gaussian, prior; src/latent) is fitted
 *      on the model's latent bank (fitted samplers are cached per model and
 *      parameters);
 *   2. samples 0 .. count-1 of the seed's stream are drawn and decoded,
 *      decode_batch per pass (tl_ae_decode_each, ae-decode.h; the default
 *      is one at a time, see TL_GENERATE_DECODE_BATCH);
 *   3. each decoded image, mapped from the card's [min, max] to [0,1], is
 *      resized (bilinear, half-pixel) into a cell_size x cell_size cell of
 *      a grid: columns cells per row, spacing pixels between cells and
 *      around them, background elsewhere.
 * The result is deterministic for a given seed: sample k is always the
 * same latent whatever the batch size. */
#pragma once
#include <glib.h>
#include <stdint.h>

#include "explain.h"
#include "sampler.h"

/* Grids larger than this many cells are refused (each cell is a decoder
 * run): a bound on work, not memory. */
#define TL_GENERATE_MAX_COUNT 4096
/* Latents per decoder pass by default: 1, because the engine decodes the
 * shipped autoencoders no faster in batches (16 per pass: 0.9x the speed of
 * one at a time; docs/benchmarks.md, "Batched decoding"). */
#define TL_GENERATE_DECODE_BATCH 1

typedef struct {
  tl_sampler_params sampler;
  uint64_t          seed;
  int               count;        /* samples, 1..TL_GENERATE_MAX_COUNT */
  int               columns;      /* cells per row, >= 1 (0 = ceil(sqrt(count))) */
  int               cell_size;    /* pixels, 1..1024; 0 = the decoder's output width */
  int               spacing;      /* pixels between and around cells, 0..256 */
  float             background[4];/* RGBA in [0,1] */
  int               decode_batch; /* latents per decoder pass, 1..64
                                   * (TL_AE_DECODE_MAX_BATCH): speed only,
                                   * the images do not depend on it */
} tl_generate_params;

/* PMF defaults, seed 0, 16 samples, 4 columns, 64-pixel cells, spacing 2,
 * opaque black background, TL_GENERATE_DECODE_BATCH latents per pass. */
tl_generate_params tl_generate_default_params (void);

/* Checks the params against the model's decoder geometry and computes the
 * grid size. The model must be an autoencoder. */
gboolean tl_generate_grid_size (const tl_model *model, const tl_generate_params *p,
                                int *width, int *height, GError **error);

/* The grid as a width x height RGBA image (see tl_generate_grid_size).
 * progress may be NULL. */
tl_image *tl_generate_grid (tl_model *model, const tl_generate_params *p,
                            tl_progress_func progress, void *progress_data, GError **error);

/* The decoded samples themselves: count images of the decoder's output
 * geometry (channels 1 or 3), values mapped to [0,1]. Free each with
 * tl_image_free and the array with g_free. */
tl_image **tl_generate_samples (tl_model *model, const tl_generate_params *p,
                                tl_progress_func progress, void *progress_data,
                                GError **error);

/* Drops the cached fitted samplers. */
void      tl_generate_cache_clear (void);
