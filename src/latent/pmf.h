/* The PMF/quantisation "vicinity" sampler (arXiv 2308.10704 as methods.md,
 * Part B, reconstructs it). Fit: per-dimension range, q levels and integer
 * level counts, O(n·d). Sample: pick a training latent, then in each
 * dimension a level within r of its own by the level PMF, then a uniform
 * position inside that level, O(d·(2r+1)).
 *
 * Reproducibility: sample k consumes exactly 1 + 2d uniforms of the stream
 * seeded by `seed` (tl_rng), starting after the 1 + 2d draws of every
 * earlier sample, so any split of [0, count) into batches gives the same
 * bits as one call. */
#pragma once
#include "rng.h"
#include "tensor.h"

#include <glib.h>
#include <stdint.h>

/* Hard limits, checked before any allocation. */
#define TL_PMF_MAX_LEVELS  65535   /* levels are stored as uint16 */
#define TL_PMF_MAX_RADIUS  65535

typedef struct {
  int levels;   /* q >= 1: quantisation levels per dimension */
  int radius;   /* r >= 0: vicinity half-width, in levels */
} tl_pmf_params;

typedef struct tl_pmf tl_pmf;

/* Defaults, q = 50 and r = 2, chosen by the q x r sweep on the real latent
 * banks of fmnist-ae and emoji-ae (docs/sampling.md): the one setting
 * whose samples lie about as far from their nearest training latent as
 * held-out latents do (median 0.9 .. 1.3 times theirs) on both models, and
 * with sliced W2 near the bank's own resampling floor. Macros so the GEGL
 * op's property defaults are the same numbers. */
#define TL_PMF_DEFAULT_LEVELS 50
#define TL_PMF_DEFAULT_RADIUS 2
tl_pmf_params tl_pmf_default_params (void);

/* Fits on z, n rows of d floats (C order). Needs n >= 2, finite values and
 * valid params; the error names the offending row/column or parameter. */
tl_pmf   *tl_pmf_fit (const float *z, int64_t n, int64_t d, const tl_pmf_params *params,
                      GError **error);
void      tl_pmf_free (tl_pmf *pmf);
int64_t   tl_pmf_dim (const tl_pmf *pmf);

/* Samples first_index .. first_index + count - 1 of the stream of `seed`
 * into out (count rows of d floats). Reaching first_index costs
 * first_index·(1 + 2d) generator steps (about a nanosecond each). */
void      tl_pmf_sample (const tl_pmf *pmf, uint64_t seed, int64_t first_index, int64_t count,
                         float *out);
/* The next count samples of a stream already positioned by the caller
 * (tl_rng_init, then tl_rng_discard of index · tl_pmf_draws_per_sample). */
void      tl_pmf_sample_stream (const tl_pmf *pmf, tl_rng *rng, int64_t count, float *out);
uint64_t  tl_pmf_draws_per_sample (const tl_pmf *pmf);   /* 1 + 2d */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_pmf, tl_pmf_free)
