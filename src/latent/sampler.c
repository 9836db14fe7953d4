#include "sampler.h"
#include "error.h"

#include <string.h>

struct tl_sampler {
  tl_sampler_kind kind;
  int64_t d;
  tl_pmf *pmf;
  tl_gmm *gmm;
};

static const char *const kind_names[] = { "pmf", "gmm", "gaussian", "prior" };

tl_sampler_params
tl_sampler_default_params (void)
{
  return (tl_sampler_params) {
    .kind = TL_SAMPLER_PMF,
    .pmf = tl_pmf_default_params (),
    .gmm = tl_gmm_default_params (),
  };
}

const char *
tl_sampler_kind_name (tl_sampler_kind kind)
{
  return (unsigned) kind < G_N_ELEMENTS (kind_names) ? kind_names[kind] : "unknown";
}

gboolean
tl_sampler_kind_from_name (const char *name, tl_sampler_kind *kind, GError **error)
{
  for (unsigned i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (name && strcmp (name, kind_names[i]) == 0)
      {
        *kind = (tl_sampler_kind) i;
        return TRUE;
      }
  g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
               "sampler: '%s' is not one of pmf, gmm, gaussian, prior", name ? name : "(none)");
  return FALSE;
}

void
tl_sampler_free (tl_sampler *s)
{
  if (!s)
    return;
  tl_pmf_free (s->pmf);
  tl_gmm_free (s->gmm);
  g_free (s);
}

int64_t
tl_sampler_dim (const tl_sampler *s)
{
  return s->d;
}

const tl_gmm *
tl_sampler_gmm (const tl_sampler *s)
{
  return s->gmm;
}

tl_sampler *
tl_sampler_fit (const tl_tensor *bank, const tl_sampler_params *params,
                tl_latent_progress_fn progress, gpointer progress_data, GError **error)
{
  g_return_val_if_fail (bank != NULL && params != NULL, NULL);
  if (bank->ndim != 2 || !tl_tensor_is_contiguous (bank))
    {
      char buf[128];
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "latent bank: shape %s, need a contiguous 2-D array (latents × dimensions)",
                   tl_shape_str (bank->ndim, bank->shape, buf, sizeof buf));
      return NULL;
    }
  const int64_t n = bank->shape[0], d = bank->shape[1];
  tl_sampler *s = g_new0 (tl_sampler, 1);
  s->kind = params->kind;
  s->d = d;
  tl_gmm_params gp = params->gmm;
  switch (params->kind)
    {
    case TL_SAMPLER_PMF:
      s->pmf = tl_pmf_fit (bank->data, n, d, &params->pmf, error);
      break;
    case TL_SAMPLER_GAUSSIAN:
      gp.components = 1;
      /* fall through */
    case TL_SAMPLER_GMM:
      s->gmm = tl_gmm_fit (bank->data, n, d, &gp, progress, progress_data, error);
      break;
    case TL_SAMPLER_PRIOR:
      s->gmm = tl_gmm_new_prior (d, error);
      break;
    default:
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID, "sampler: unknown kind %d",
                   (int) params->kind);
    }
  if (!s->pmf && !s->gmm)
    {
      g_free (s);
      return NULL;
    }
  return s;
}

gboolean
tl_sampler_check_output_size (int64_t count, int64_t d, GError **error)
{
  if (count < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "count: %" G_GINT64_FORMAT " samples; need at least 1", count);
      return FALSE;
    }
  if ((double) count * (double) d * sizeof (float) > (double) TL_SAMPLER_MAX_OUTPUT_BYTES)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_NOMEM,
                   "count: %" G_GINT64_FORMAT " samples of dimension %" G_GINT64_FORMAT
                   " need %.3g GB, more than the limit of %.3g GB (at most %" G_GINT64_FORMAT
                   " samples at once)", count, d, (double) count * d * 4 / 1e9,
                   (double) TL_SAMPLER_MAX_OUTPUT_BYTES / 1e9,
                   TL_SAMPLER_MAX_OUTPUT_BYTES / (int64_t) (MAX (d, 1) * sizeof (float)));
      return FALSE;
    }
  return TRUE;
}

gboolean
tl_sampler_check_count (const tl_sampler *s, int64_t first_index, int64_t count,
                        GError **error)
{
  if (!tl_sampler_check_output_size (count, s->d, error))
    return FALSE;
  if (first_index < 0 || first_index > G_MAXINT64 - count)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "first index: %" G_GINT64_FORMAT "; need 0 <= first index", first_index);
      return FALSE;
    }
  uint64_t draws = s->pmf ? tl_pmf_draws_per_sample (s->pmf) : tl_gmm_draws_per_sample (s->gmm);
  if ((double) first_index * (double) draws > (double) TL_SAMPLER_MAX_SKIP_DRAWS)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "first index: %" G_GINT64_FORMAT " is too far into the stream (at most %"
                   G_GUINT64_FORMAT " for this sampler)", first_index,
                   TL_SAMPLER_MAX_SKIP_DRAWS / draws);
      return FALSE;
    }
  return TRUE;
}

gboolean
tl_sampler_sample (const tl_sampler *s, uint64_t seed, int64_t first_index, int64_t count,
                   float *out, GError **error)
{
  if (!tl_sampler_check_count (s, first_index, count, error))
    return FALSE;
  if (s->pmf)
    tl_pmf_sample (s->pmf, seed, first_index, count, out);
  else
    tl_gmm_sample (s->gmm, seed, first_index, count, out);
  return TRUE;
}

tl_tensor *
tl_sampler_sample_tensor (const tl_sampler *s, uint64_t seed, int64_t first_index,
                          int64_t count, GError **error)
{
  if (!tl_sampler_check_count (s, first_index, count, error))
    return NULL;
  int64_t shape[2] = { count, s->d };
  tl_tensor *t = tl_tensor_new (2, shape, error);
  if (t && !tl_sampler_sample (s, seed, first_index, count, t->data, error))
    g_clear_pointer (&t, tl_tensor_free);
  return t;
}

gboolean
tl_sampler_sample_batches (const tl_sampler *s, uint64_t seed, int64_t first_index,
                           int64_t count, int64_t batch, tl_latent_batch_fn fn,
                           gpointer user_data, GError **error)
{
  g_return_val_if_fail (fn != NULL, FALSE);
  if (batch < 1)
    {
      g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
                   "batch: %" G_GINT64_FORMAT ", need at least 1", batch);
      return FALSE;
    }
  if (count < 1 || first_index < 0 || first_index > G_MAXINT64 - count)
    return tl_sampler_check_count (s, first_index, count, error);
  int64_t m = MIN (count, batch);
  if (!tl_sampler_check_count (s, first_index, m, error))
    return FALSE;
  /* One stream, positioned once and then consumed batch after batch: the
   * same samples as one call, at no skipping cost per batch. */
  tl_rng rng;
  tl_rng_init (&rng, seed);
  tl_rng_discard (&rng, (uint64_t) first_index
                        * (s->pmf ? tl_pmf_draws_per_sample (s->pmf)
                                  : tl_gmm_draws_per_sample (s->gmm)));
  float *buf = g_new (float, m * s->d);
  gboolean ok = TRUE;
  for (int64_t k = 0; k < count && ok; k += m)
    {
      int64_t c = MIN (m, count - k);
      if (s->pmf)
        tl_pmf_sample_stream (s->pmf, &rng, c, buf);
      else
        tl_gmm_sample_stream (s->gmm, &rng, c, buf);
      ok = fn (buf, first_index + k, c, s->d, user_data, error);
    }
  g_free (buf);
  return ok;
}
