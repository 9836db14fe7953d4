/* Progress of a long latent-space job (a GMM fit on 60k points), reported
 * to the front end through a callback: the library itself never prints. */
#pragma once
#include <glib.h>
#include <stdint.h>

typedef struct {
  const char *stage;  /* "k-means", "EM", ... */
  int64_t     done;   /* iterations (or items) finished in this stage */
  int64_t     total;  /* their upper bound */
  double      value;  /* stage's figure of merit, e.g. mean log-likelihood */
} tl_latent_progress;

typedef void (*tl_latent_progress_fn) (const tl_latent_progress *progress, gpointer user_data);
