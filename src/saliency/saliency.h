/* Label-free saliency maps from a layer's feature tensor (methods.md Part A):
 * EigenCAM, Multivec-EigenCAM, TSM and MTSM. The engine supplies F (the
 * target layer's activations for one image); this module turns it into a
 * map at feature resolution, in [0,1], float32. Upsampling to the image is
 * the caller's (bilinear, half-pixel centres: see resize.h). */
#pragma once
#include "tensor.h"

#include <glib.h>
#include <stdbool.h>

typedef enum {
  TL_SALIENCY_EIGENCAM = 0,
  TL_SALIENCY_MULTIVEC_EIGENCAM,
  TL_SALIENCY_TSM,
  TL_SALIENCY_MTSM,
} tl_saliency_method;

typedef enum {
  TL_SALIENCY_WEIGHT_SIGMA = 0,   /* default */
  TL_SALIENCY_WEIGHT_SIGMA2,
  TL_SALIENCY_WEIGHT_UNIFORM,
} tl_saliency_weighting;

typedef enum {
  TL_SALIENCY_CENTRE_OFF = 0,     /* default: methods.md */
  TL_SALIENCY_CENTRE_ON,
  TL_SALIENCY_CENTRE_AUTO,
} tl_saliency_centre;

/* Every user-settable parameter, once; front ends pass them through under
 * the same names (CLI --ranks, --components, ...). */
typedef struct {
  tl_saliency_method    method;
  const char           *layer;      /* target layer name; NULL = the model's default
                                     * (used by the model front end, not here) */
  int                   target;     /* class index for label-dependent methods; -1 = top-1 */
  int                   ranks[3];   /* TSM/MTSM (R1,R2,R3); 0 = automatic:
                                     * R2 = ⌈rho·H⌉, R3 = ⌈rho·W⌉, R1 = min(C, R2·R3) */
  double                rho;        /* TSM/MTSM: fraction of the spatial size kept by
                                     * automatic R2, R3, in (0, 1]; 1 = full */
  int                   components; /* Multivec-EigenCAM cap K; 0 = every non-zero one */
  tl_saliency_weighting weighting;
  bool                  sign_rule;  /* EigenCAM only: false keeps LAPACK's sign */
  int                   sweeps;     /* HOOI sweep cap (TSM/MTSM), default 20 */
  tl_saliency_centre    centre;     /* TSM/MTSM: subtract each component map's spatial
                                     * mean before the sign rule (on), or only when the
                                     * sign rule leaves more negative than positive mass
                                     * (auto). Not in methods.md (off, the default, is
                                     * methods.md): the fixes weighed in
                                     * docs/evaluation.md for uncentred maps that are
                                     * single-signed, which the ReLU empties. */
} tl_saliency_params;

/* What a computation actually used, for --print-params and the docs. */
typedef struct {
  tl_saliency_method method;
  int64_t shape[3];          /* C, H, W of the features */
  int     ranks_requested[3];/* after resolving 0 = automatic (TSM/MTSM) */
  int     ranks[3];          /* after clamping and HOOI (TSM/MTSM) */
  int     sweeps_run;        /* TSM/MTSM */
  double  fit;               /* TSM/MTSM: ‖G‖/‖F‖ */
  int     components;        /* components summed into the map (0 if none) */
  int     sign;              /* single-vector methods: the sign applied, or 0 */
  double  sigma1;            /* leading singular value (Tucker: ‖G[1,:,:]‖) */
  bool    constant;          /* the map was constant and became all zeros */
} tl_saliency_report;

tl_saliency_params tl_saliency_default_params (void);

/* "eigencam" | "multivec-eigencam" | "tsm" | "mtsm". */
const char *tl_saliency_method_name (tl_saliency_method m);
gboolean    tl_saliency_method_from_name (const char *name, tl_saliency_method *m,
                                          GError **error);
/* "sigma" | "sigma2" | "uniform". */
const char *tl_saliency_weighting_name (tl_saliency_weighting w);
gboolean    tl_saliency_weighting_from_name (const char *name, tl_saliency_weighting *w,
                                             GError **error);

/* F: C×H×W or 1×C×H×W, any strides, all finite. On success *map_out is a
 * new H×W float32 tensor in [0,1] (all zeros for a constant map). Checks
 * params and F first: a clear error, never NaN, never a crash. */
gboolean tl_saliency_map_from_features (const tl_tensor *F, const tl_saliency_params *params,
                                        tl_tensor **map_out, GError **error);
/* The same, also filling *report (may be NULL) with the resolved values. */
gboolean tl_saliency_map_from_features_report (const tl_tensor *F,
                                               const tl_saliency_params *params,
                                               tl_tensor **map_out,
                                               tl_saliency_report *report, GError **error);
