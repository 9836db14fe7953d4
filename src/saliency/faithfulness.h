/* Faithfulness metrics of a saliency map (methods.md "Faithfulness
 * metrics"): Average Drop, Increase in Confidence, Deletion and Insertion
 * AUC. Independent of the engine: the caller supplies the score f(x) as a
 * callback over inputs at the model's resolution with pixel values in
 * [0,1] (the callback does the model's own normalisation and forward pass).
 * Per-image results are combined over a data set with tl_faith_accum. */
#pragma once
#include <glib.h>
#include <stdbool.h>

/* f(x) for one input x (C×H×W, planar, values in [0,1]). */
typedef double (*tl_faith_score_fn) (const float *x, void *user);
/* f for n inputs at once (n×C×H×W, contiguous), into scores[0..n). */
typedef gboolean (*tl_faith_score_batch_fn) (const float *x, int n, double *scores,
                                             void *user, GError **error);

typedef struct {
  tl_faith_score_fn       score;        /* either this ... */
  tl_faith_score_batch_fn score_batch;  /* ... or this (used when set) */
  int                     batch;        /* inputs per score_batch call, ≥ 1 */
  void                   *user;
} tl_faith_scorer;

typedef struct {
  int    steps;          /* T: step t = 0..T acts on the first ⌊t·P/T⌋ pixels (default 50) */
  double blur_sigma;     /* insertion baseline: Gaussian σ in pixels (default 5) */
  double blur_truncate;  /* kernel radius ⌊truncate·σ + 0.5⌋ (default 4) */
  bool   deletion;       /* compute the deletion curve (default true) */
  bool   insertion;      /* compute the insertion curve (default true) */
} tl_faith_params;

typedef struct {
  double  score_clean;      /* f(x) */
  double  score_masked;     /* f(x ⊙ S) */
  double  drop;             /* max(0, f(x) − f(x ⊙ S)) / f(x) */
  bool    increase;         /* f(x ⊙ S) > f(x) */
  int     steps;            /* T; the curves have T + 1 points */
  double *deletion_curve;   /* f at step t (NULL if not computed) */
  double *insertion_curve;
  double  deletion_auc;     /* trapezoid rule over t/T ∈ [0,1] */
  double  insertion_auc;
} tl_faith_result;

tl_faith_params tl_faith_default_params (void);

/* x: C×H×W in [0,1]; map: H×W saliency at the same resolution (finite;
 * normally in [0,1]). Fails on bad sizes, a non-finite map, f(x) ≤ 0 or a
 * non-finite score. */
gboolean tl_faith_evaluate (const float *x, int C, int H, int W, const float *map,
                            const tl_faith_scorer *scorer, const tl_faith_params *params,
                            tl_faith_result *result, GError **error);
void     tl_faith_result_clear (tl_faith_result *result);

/* Pixel order of the deletion/insertion metrics: indices 0..P−1 by
 * decreasing map value, ties by raster index (a stable sort). */
void     tl_faith_order (const float *map, int P, int *order);

/* Averages over a data set. */
typedef struct {
  int    n;              /* images added */
  double drop_sum;
  int    increase_count;
  int    n_deletion, n_insertion;
  double deletion_sum, insertion_sum;
} tl_faith_accum;

typedef struct {
  double average_drop_pct;       /* 100·mean drop (lower is better) */
  double increase_pct;           /* 100·mean [f(x⊙S) > f(x)] (higher is better) */
  double deletion_auc;           /* mean (lower is better), NaN-free: 0 if none */
  double insertion_auc;          /* mean (higher is better) */
} tl_faith_summary;

void tl_faith_accum_add (tl_faith_accum *acc, const tl_faith_result *r);
void tl_faith_accum_summary (const tl_faith_accum *acc, tl_faith_summary *out);
