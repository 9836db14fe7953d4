#include "evaluate.h"
#include "fid.h"
#include "precision-recall.h"
#include "wasserstein.h"

gboolean
tl_latent_evaluate (const float *samples, int64_t ns, const float *train, int64_t ntrain,
                    const float *heldout, int64_t nh, int64_t d, tl_latent_scores *out,
                    GError **error)
{
  return tl_sliced_w2 (samples, ns, heldout, nh, d, &out->sliced_w2, error)
         && tl_mean_w1 (samples, ns, heldout, nh, d, &out->mean_w1, error)
         && tl_fid (samples, ns, heldout, nh, d, &out->frechet, error)
         && tl_precision_recall (heldout, nh, samples, ns, d, TL_PRECISION_RECALL_DEFAULT_K,
                                 &out->precision, &out->recall, error)
         && tl_memorisation_measure (train, ntrain, samples, ns, heldout, nh, d, &out->memo,
                                     error);
}
