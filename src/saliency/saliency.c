/* Front door of the saliency maps: checks the parameters and the feature
 * tensor, converts it to double (methods.md: all decomposition maths in
 * double whatever the input), dispatches, and finishes the map. */
#include "saliency.h"
#include "saliency-private.h"
#include "finish.h"
#include "error.h"

#include <math.h>
#include <string.h>

static const char *const method_names[] = { "eigencam", "multivec-eigencam", "tsm", "mtsm" };
static const char *const weighting_names[] = { "sigma", "sigma2", "uniform" };

tl_saliency_params
tl_saliency_default_params (void)
{
  tl_saliency_params p = {
    .method = TL_SALIENCY_EIGENCAM,
    .layer = NULL,
    .target = -1,
    .ranks = { 0, 0, 0 },
    .rho = 1.0,
    .components = 0,
    .weighting = TL_SALIENCY_WEIGHT_SIGMA,
    .sign_rule = true,
    .sweeps = 20,
    .centre = TL_SALIENCY_CENTRE_OFF,
  };
  return p;
}

const char *
tl_saliency_method_name (tl_saliency_method m)
{
  return (unsigned) m < G_N_ELEMENTS (method_names) ? method_names[m] : "invalid";
}

gboolean
tl_saliency_method_from_name (const char *name, tl_saliency_method *m, GError **error)
{
  for (gsize i = 0; name && i < G_N_ELEMENTS (method_names); i++)
    if (strcmp (name, method_names[i]) == 0)
      {
        *m = (tl_saliency_method) i;
        return TRUE;
      }
  g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
               "unknown saliency method '%s' (expected eigencam, multivec-eigencam, tsm or mtsm)",
               name ? name : "(null)");
  return FALSE;
}

const char *
tl_saliency_weighting_name (tl_saliency_weighting w)
{
  return (unsigned) w < G_N_ELEMENTS (weighting_names) ? weighting_names[w] : "invalid";
}

gboolean
tl_saliency_weighting_from_name (const char *name, tl_saliency_weighting *w, GError **error)
{
  for (gsize i = 0; name && i < G_N_ELEMENTS (weighting_names); i++)
    if (strcmp (name, weighting_names[i]) == 0)
      {
        *w = (tl_saliency_weighting) i;
        return TRUE;
      }
  g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
               "unknown weighting '%s' (expected sigma, sigma2 or uniform)",
               name ? name : "(null)");
  return FALSE;
}

static gboolean
check_params (const tl_saliency_params *p, GError **error)
{
  if ((unsigned) p->method >= G_N_ELEMENTS (method_names))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "saliency method %d is not valid",
                   (int) p->method);
      return FALSE;
    }
  if ((unsigned) p->weighting >= G_N_ELEMENTS (weighting_names))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "weighting %d is not valid",
                   (int) p->weighting);
      return FALSE;
    }
  for (int i = 0; i < 3; i++)
    if (p->ranks[i] < 0)
      {
        g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                     "rank R%d = %d is below 1 (0 means automatic)", i + 1, p->ranks[i]);
        return FALSE;
      }
  if (!(p->rho > 0.0 && p->rho <= 1.0))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "rho = %g is out of range (automatic spatial ranks keep a fraction in (0, 1])",
                   p->rho);
      return FALSE;
    }
  if ((unsigned) p->centre > TL_SALIENCY_CENTRE_AUTO)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "centre %d is not valid", (int) p->centre);
      return FALSE;
    }
  if (p->components < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "components = %d is negative (0 means every non-zero component)",
                   p->components);
      return FALSE;
    }
  if (p->sweeps < 0)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "sweeps = %d is negative", p->sweeps);
      return FALSE;
    }
  return TRUE;
}

/* Shape C, H, W of a C×H×W or 1×C×H×W tensor, or an error naming it. */
static gboolean
feature_shape (const tl_tensor *F, const char *what, int64_t *C, int64_t *H, int64_t *W,
               GError **error)
{
  char buf[128];
  int off = F->ndim == 4 ? 1 : 0;
  if (!(F->ndim == 3 || (F->ndim == 4 && F->shape[0] == 1)))
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s tensor has shape %s: expected C×H×W or 1×C×H×W", what,
                   tl_shape_str (F->ndim, F->shape, buf, sizeof buf));
      return FALSE;
    }
  *C = F->shape[off];
  *H = F->shape[off + 1];
  *W = F->shape[off + 2];
  if (*C < 1 || *H < 1 || *W < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s tensor has shape %s: every dimension must be at least 1", what,
                   tl_shape_str (F->ndim, F->shape, buf, sizeof buf));
      return FALSE;
    }
  /* BLAS takes int sizes. */
  int64_t numel = tl_shape_numel (F->ndim, F->shape);
  if (numel < 0 || numel > G_MAXINT)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "%s tensor of shape %s is too large (limit %d elements)", what,
                   tl_shape_str (F->ndim, F->shape, buf, sizeof buf), G_MAXINT);
      return FALSE;
    }
  return TRUE;
}

double *
tl_saliency_to_double (const tl_tensor *F, const char *what, int64_t *C, int64_t *H,
                       int64_t *W, GError **error)
{
  if (!feature_shape (F, what, C, H, W, error))
    return NULL;
  int64_t n = *C * *H * *W, N = *H * *W;
  /* A strided tensor is gathered first; a contiguous one is read in place. */
  bool contiguous = tl_tensor_is_contiguous (F);
  g_autofree float *f32 = contiguous ? NULL : g_try_new (float, (gsize) n);
  g_autofree double *X = g_try_new (double, (gsize) n);
  if ((!contiguous && !f32) || !X)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "no memory for the %s tensor (%"
                   G_GINT64_FORMAT " elements)", what, (gint64) n);
      return NULL;
    }
  const float *src = F->data;
  if (!contiguous)
    {
      tl_tensor_gather (F, f32);
      src = f32;
    }
  for (int64_t i = 0; i < n; i++)
    {
      if (!isfinite (src[i]))
        {
          g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                       "%s tensor holds %s at channel %" G_GINT64_FORMAT ", row %"
                       G_GINT64_FORMAT ", column %" G_GINT64_FORMAT ": saliency needs "
                       "finite values", what, isnan (src[i]) ? "NaN" : "an infinity",
                       (gint64) (i / N), (gint64) (i % N / *W), (gint64) (i % *W));
          return NULL;
        }
      X[i] = src[i];
    }
  return g_steal_pointer (&X);
}

tl_tensor *
tl_saliency_finish_map (const double *S, int64_t H, int64_t W, bool *constant,
                        GError **error)
{
  int64_t shape[2] = { H, W };
  tl_tensor *map = tl_tensor_new (2, shape, error);
  if (!map)
    return NULL;
  bool c = tl_saliency_finish (S, H * W, map->data);
  if (constant)
    *constant = c;
  return map;
}

gboolean
tl_saliency_map_from_features_report (const tl_tensor *F, const tl_saliency_params *params,
                                      tl_tensor **map_out, tl_saliency_report *report,
                                      GError **error)
{
  g_return_val_if_fail (F && params && map_out, FALSE);
  *map_out = NULL;
  int64_t C, H, W;
  if (!check_params (params, error))
    return FALSE;
  g_autofree double *X = tl_saliency_to_double (F, "features", &C, &H, &W, error);
  if (!X)
    return FALSE;
  g_autofree double *S = g_try_new (double, (gsize) (H * W));
  if (!S)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM, "no memory for a %" G_GINT64_FORMAT
                   "×%" G_GINT64_FORMAT " map", (gint64) H, (gint64) W);
      return FALSE;
    }

  tl_saliency_report rep = { 0 };
  rep.method = params->method;
  rep.shape[0] = C;
  rep.shape[1] = H;
  rep.shape[2] = W;
  gboolean ok = params->method == TL_SALIENCY_EIGENCAM
                || params->method == TL_SALIENCY_MULTIVEC_EIGENCAM
              ? tl_saliency_eigencam (X, C, H, W, params, S, &rep, error)
              : tl_saliency_tucker (X, C, H, W, params, S, &rep, error);
  if (!ok)
    return FALSE;

  tl_tensor *map = tl_saliency_finish_map (S, H, W, &rep.constant, error);
  if (!map)
    return FALSE;
  if (report)
    *report = rep;
  *map_out = map;
  return TRUE;
}

gboolean
tl_saliency_map_from_features (const tl_tensor *F, const tl_saliency_params *params,
                               tl_tensor **map_out, GError **error)
{
  return tl_saliency_map_from_features_report (F, params, map_out, NULL, error);
}
