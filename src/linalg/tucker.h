/* Tucker decomposition of a 3-way tensor by HOOI (higher-order orthogonal
 * iteration), exactly as methods.md "Tucker decomposition" specifies:
 *   F ≈ G ×1 A ×2 B ×3 D,  F: d0×d1×d2 (C×H×W), A: d0×R0, B: d1×R1, D: d2×R2,
 * in double, initialised by the truncated HOSVD, with every leading-vector
 * computation done from the smaller Gram matrix (O(C·H·W·R) per sweep). */
#pragma once
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
  int64_t dims[3];
  int     ranks_requested[3]; /* as asked */
  int     ranks_clamped[3];   /* after the numerical-rank and product clamps */
  int     ranks[3];           /* final: may shrink further inside HOOI */
  int     sweeps_run;         /* HOOI sweeps done (0 = the HOSVD itself) */
  double *fits;               /* fits[t] = ‖G_t‖/‖F‖, t = 0..sweeps_run */
  double  fit;                /* fits[sweeps_run] */
  double *A, *B, *D;          /* d0×R0, d1×R1, d2×R2, row-major, orthonormal columns */
  double *G;                  /* R0×R1×R2, row-major */
  double *sigma;              /* sigma[k] = ‖G[k,:,:]‖_F, decreasing */
} tl_tucker;

/* F: d0×d1×d2 row-major doubles, all finite. ranks: each ≥ 1 (larger than
 * the dimension is clamped, below 1 is an error). sweeps ≥ 0: the cap on
 * HOOI sweeps (0 = the truncated HOSVD alone). An all-zero F gives ranks
 * 0, 0, 0 and empty factors. The mode-1 components are sorted by sigma,
 * decreasing, and every factor column has its largest-magnitude entry
 * positive (TensorLy's sign rule).
 * With untruncated spatial ranks (R2 = d1, R3 = d2) the HOSVD is already
 * HOOI's fixed point: the sweep is not run (sweeps_run = 1, fits[1] =
 * fits[0]) and B, D stay the HOSVD's bases of the full spaces. A literal
 * sweep would return other bases of the same spaces (or drop directions
 * its projection does not reach), leaving every B·G[k]·Dᵀ unchanged. */
tl_tucker *tl_tucker_hooi (const double *F, const int64_t dims[3], const int ranks[3],
                           int sweeps, GError **error);
/* The same; when want_a is false A may be left NULL (the saliency maps need
 * only B, G and D; on the H·W ≤ C path A costs an extra O(C·H·W·R) pass).
 * Without A, the mode-1 slices of G are not sign-normalised. */
tl_tucker *tl_tucker_hooi_full (const double *F, const int64_t dims[3], const int ranks[3],
                                int sweeps, bool want_a, GError **error);
void       tl_tucker_free (tl_tucker *t);

/* Multilinear product helpers on row-major d0×d1×d2 tensors (exposed for
 * tests and for the saliency maps): out = T ×_mode Mᵀ, with M dims[mode]×r,
 * so out has dims[mode] replaced by r. */
void tl_tucker_mode_product_t (const double *T, const int64_t dims[3], int mode,
                               const double *M, int r, double *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_tucker, tl_tucker_free)

/* What TSM and MTSM need, and only that: the spatial maps
 * P_k = B·G[k,:,:]·Dᵀ (d1×d2) of the leading mode-1 components of the
 * decomposition tl_tucker_hooi would return, with their σ_k = ‖G[k]‖ = ‖P_k‖.
 * r counts the components that are not numerically zero (of ranks[0]);
 * the first n = min(kmax, r) maps are returned.
 * With d1·d2 ≤ d0 and untruncated spatial ranks (after the clamp) the
 * decomposition is the HOSVD fixed point, where P_k = σ_k·v_k for the
 * eigenpairs (σ_k², v_k) of XᵀX (X the d0×d1d2 unfolding): those are
 * computed directly, and only the first kmax of them (for TSM one vector,
 * a Sturm count and a trace instead of the whole eigensystem). */
typedef struct {
  int     ranks_requested[3];
  int     ranks[3];           /* as tl_tucker ranks */
  int     sweeps_run;
  double  fit;
  int     r;                  /* components with σ_k not numerically zero */
  int     n;                  /* maps returned: min(kmax, r) */
  double *sigma;              /* n, decreasing */
  double *P;                  /* n × d1·d2, row-major */
} tl_tucker_maps;

tl_tucker_maps *tl_tucker_spatial_maps (const double *F, const int64_t dims[3],
                                        const int ranks[3], int sweeps, int kmax,
                                        GError **error);
void            tl_tucker_maps_free (tl_tucker_maps *m);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_tucker_maps, tl_tucker_maps_free)
