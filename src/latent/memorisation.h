/* Memorisation (methods.md, Part B): how close samples come to the training
 * latents they were drawn around, against the same for held-out latents of
 * the same distribution. A sampler that copies its bank shows sample
 * distances far below the held-out ones. */
#pragma once
#include <glib.h>
#include <stdint.h>

#define TL_MEMO_QUANTILES 5   /* at 0.05, 0.25, 0.5, 0.75, 0.95 */

typedef struct {
  double samples[TL_MEMO_QUANTILES];   /* quantiles of sample → nearest train */
  double heldout[TL_MEMO_QUANTILES];   /* quantiles of held-out → nearest train */
  /* fraction of samples nearer to the bank than the held-out 5% quantile */
  double below_heldout_q05;
} tl_memorisation;

extern const double tl_memo_levels[TL_MEMO_QUANTILES];

/* Quantile of sorted x[n] at level p, linear between order statistics
 * (NumPy's default). */
double   tl_quantile_sorted (const double *x, int64_t n, double p);
gboolean tl_memorisation_measure (const float *train, int64_t ntrain, const float *samples,
                                  int64_t ns, const float *heldout, int64_t nh, int64_t d,
                                  tl_memorisation *out, GError **error);
