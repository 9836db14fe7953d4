/* The sampler options of `tensorlens sample` and `tensorlens eval-sampling`,
 * parsed in one place so the two commands take the same flags with the same
 * meaning, help text and error messages:
 *
 *   --sampler NAME[,NAME...]   pmf, gmm, gaussian, prior
 *   --levels Q[,Q...]          pmf: quantisation levels
 *   --radius R[,R...]          pmf: vicinity radius in levels
 *   --components K[,K...]      gmm: mixture components
 *   --seed S                   0 .. 2^64-1
 *
 * Lists expand into one configuration per sampler (PMF: every levels x
 * radius pair; GMM: every component count). `sample` draws from exactly one
 * configuration; `eval-sampling` measures them all. */
#pragma once
#include "sampler.h"

#include <glib.h>
#include <stdint.h>

typedef struct {
  char *sampler, *levels, *radius, *components, *seed;
  char *help[4];                 /* owned help strings naming the defaults */
  const char *default_samplers;  /* used when --sampler is absent */
} tl_sampler_options;

/* Adds the five options to ctx's main group. default_samplers is a
 * comma-separated list (kept by pointer). */
void     tl_sampler_options_add (tl_sampler_options *o, GOptionContext *ctx,
                                 const char *default_samplers);
void     tl_sampler_options_clear (tl_sampler_options *o);

/* The seed (0 when --seed is absent). */
gboolean tl_sampler_options_seed (const tl_sampler_options *o, uint64_t *seed, GError **error);

/* Every configuration the options describe, as a GArray of
 * tl_sampler_params (library defaults elsewhere). Errors: an unknown
 * sampler, a list entry that is not an integer or is below its minimum
 * (levels, components >= 1; radius >= 0), --levels/--radius without pmf or
 * --components without gmm among the samplers. Upper limits are the
 * library's, checked when fitting. */
GArray  *tl_sampler_options_configs (const tl_sampler_options *o, GError **error);

/* "pmf levels=20 radius=2", "gmm components=10", "gaussian", "prior". */
void     tl_sampler_params_label (const tl_sampler_params *p, char *buf, size_t len);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (tl_sampler_options, tl_sampler_options_clear)
