/* One front door to every latent sampler (PMF vicinity, GMM, single
 * Gaussian, N(0, I) prior) for the CLI, the GEGL op and the plug-in: fit on
 * a latent bank, then draw samples [first, first + count) of a seed's
 * stream. Samples stream out in batches to a consumer callback, which is
 * where a decoder (the CNN engine, or any user code) plugs in to turn
 * latents into images without the library holding all of them. */
#pragma once
#include "gmm.h"
#include "pmf.h"
#include "progress.h"
#include "tensor.h"

#include <glib.h>
#include <stdint.h>

/* Largest sample set materialised at once (count·d·4 bytes): 2 GiB. Larger
 * runs go through tl_sampler_sample_batches. */
#define TL_SAMPLER_MAX_OUTPUT_BYTES ((int64_t) 1 << 31)

/* Starting at sample k means discarding k·draws-per-sample outputs of the
 * generator (~1 ns each): at most 2^36, about a minute. */
#define TL_SAMPLER_MAX_SKIP_DRAWS ((uint64_t) 1 << 36)

typedef enum {
  TL_SAMPLER_PMF,
  TL_SAMPLER_GMM,
  TL_SAMPLER_GAUSSIAN,   /* GMM with one component */
  TL_SAMPLER_PRIOR,      /* N(0, I) of the bank's dimension; nothing fitted */
} tl_sampler_kind;

typedef struct {
  tl_sampler_kind kind;
  tl_pmf_params   pmf;
  tl_gmm_params   gmm;   /* components is ignored by GAUSSIAN */
} tl_sampler_params;

typedef struct tl_sampler tl_sampler;

/* Receives samples first_index .. first_index + count - 1 (count rows of d
 * floats, valid during the call). Returning FALSE with error set stops the
 * run. */
typedef gboolean (*tl_latent_batch_fn) (const float *z, int64_t first_index, int64_t count,
                                        int64_t d, gpointer user_data, GError **error);

tl_sampler_params tl_sampler_default_params (void);   /* PMF, each part's defaults */
const char       *tl_sampler_kind_name (tl_sampler_kind kind);
gboolean          tl_sampler_kind_from_name (const char *name, tl_sampler_kind *kind,
                                             GError **error);

/* bank: a 2-D tensor, n latents × d. */
tl_sampler *tl_sampler_fit (const tl_tensor *bank, const tl_sampler_params *params,
                            tl_latent_progress_fn progress, gpointer progress_data,
                            GError **error);
void        tl_sampler_free (tl_sampler *sampler);
int64_t     tl_sampler_dim (const tl_sampler *sampler);
/* The fitted mixture of GMM/GAUSSIAN/PRIOR samplers, NULL for PMF. */
const tl_gmm *tl_sampler_gmm (const tl_sampler *sampler);

/* Checks 1 <= count and count·d·4 bytes <= TL_SAMPLER_MAX_OUTPUT_BYTES; front
 * ends call it before fitting, so a bad count fails at once. */
gboolean    tl_sampler_check_output_size (int64_t count, int64_t d, GError **error);
/* Checks count >= 1, that count·d floats stay within
 * TL_SAMPLER_MAX_OUTPUT_BYTES, and that reaching first_index costs at most
 * TL_SAMPLER_MAX_SKIP_DRAWS generator steps; the error names the number. */
gboolean    tl_sampler_check_count (const tl_sampler *sampler, int64_t first_index,
                                    int64_t count, GError **error);
/* Samples into out (count rows of d floats). */
gboolean    tl_sampler_sample (const tl_sampler *sampler, uint64_t seed, int64_t first_index,
                               int64_t count, float *out, GError **error);
/* A new count × d tensor of samples. */
tl_tensor  *tl_sampler_sample_tensor (const tl_sampler *sampler, uint64_t seed,
                                      int64_t first_index, int64_t count, GError **error);
/* Streams samples in batches of at most batch rows to fn; any count. */
gboolean    tl_sampler_sample_batches (const tl_sampler *sampler, uint64_t seed,
                                       int64_t first_index, int64_t count, int64_t batch,
                                       tl_latent_batch_fn fn, gpointer user_data,
                                       GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_sampler, tl_sampler_free)
