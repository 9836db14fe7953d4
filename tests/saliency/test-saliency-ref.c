/* Saliency maps against the independent NumPy reference of methods.md
 * (tests/data/saliency/ref_saliency.py: full SVDs and a textbook HOOI,
 * where the C code uses small Gram matrices). Every case listed in
 * cases.txt must agree to 1e-6 (maps are in [0,1], so this is relative to
 * the map's range). */
#include "npy.h"
#include "saliency.h"
#include "tl-test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TOL 1e-6

typedef struct {
  char fixture[64], method[32], weighting[16], sign[8];
  int ranks[3], components, sweeps, index;
} ref_case;

static double
max_diff (const float *a, const float *b, int64_t n)
{
  double d = 0.0;
  for (int64_t i = 0; i < n; i++)
    d = MAX (d, fabs ((double) a[i] - (double) b[i]));
  return d;
}

static tl_tensor *
load_data (const char *name)
{
  g_autofree char *rel = g_build_filename ("saliency", name, NULL);
  g_autofree char *p = tl_test_data (rel);
  GError *e = NULL;
  tl_tensor *t = tl_npy_load (p, &e);
  g_assert_no_error (e);
  return t;
}

static void
test_case (gconstpointer data)
{
  const ref_case *c = data;
  g_autofree char *fname = g_strdup_printf ("%s.npy", c->fixture);
  g_autofree char *ename = g_strdup_printf ("expected_%s.npy", c->fixture);
  g_autoptr (tl_tensor) F = load_data (fname);
  g_autoptr (tl_tensor) E = load_data (ename);
  int64_t H = F->shape[1], W = F->shape[2], N = H * W;

  tl_saliency_params p = tl_saliency_default_params ();
  GError *e = NULL;
  g_assert_true (tl_saliency_method_from_name (c->method, &p.method, &e));
  g_assert_true (tl_saliency_weighting_from_name (c->weighting, &p.weighting, &e));
  memcpy (p.ranks, c->ranks, sizeof p.ranks);
  p.components = c->components;
  p.sweeps = c->sweeps;
  p.sign_rule = strcmp (c->sign, "on") == 0;
  g_autoptr (tl_tensor) map = NULL;
  g_assert_true (tl_saliency_map_from_features (F, &p, &map, &e));
  g_assert_no_error (e);
  g_assert_cmpint (map->ndim, ==, 2);
  g_assert_cmpint (map->shape[0], ==, H);
  g_assert_cmpint (map->shape[1], ==, W);
  for (int64_t i = 0; i < N; i++)
    g_assert_true (map->data[i] >= 0.0f && map->data[i] <= 1.0f);

  const float *want = E->data + (int64_t) c->index * N;
  double d = max_diff (map->data, want, N);
  if (!p.sign_rule)
    {
      /* The reference holds the map of the sign the rule rejects; with the
       * rule off, LAPACK's arbitrary sign may give that one or the other. */
      p.sign_rule = true;
      g_autoptr (tl_tensor) on = NULL;
      g_assert_true (tl_saliency_map_from_features (F, &p, &on, &e));
      d = MIN (d, max_diff (map->data, on->data, N));
      g_assert_cmpfloat (max_diff (on->data, want, N), >, 1e-3);  /* the two differ */
    }
  g_test_message ("max abs(C - NumPy) = %.3g", d);
  if (!(d <= TOL))
    g_error ("%s %s ranks %d,%d,%d K %d %s sweeps %d: max abs(C - NumPy) = %.3g > %g",
             c->fixture, c->method, c->ranks[0], c->ranks[1], c->ranks[2], c->components,
             c->weighting, c->sweeps, d, TOL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *path = tl_test_data ("saliency/cases.txt");
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GPtrArray *cases = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; lines[i]; i++)
    {
      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      ref_case *c = g_new0 (ref_case, 1);
      int n = sscanf (lines[i], "%63s %31s %d %d %d %d %15s %7s %d %d", c->fixture, c->method,
                      &c->ranks[0], &c->ranks[1], &c->ranks[2], &c->components, c->weighting,
                      c->sign, &c->sweeps, &c->index);
      g_assert_cmpint (n, ==, 10);
      g_autofree char *name = g_strdup_printf ("/saliency-ref/%s/%d-%s", c->fixture, c->index,
                                               c->method);
      g_test_add_data_func (name, c, test_case);
      g_ptr_array_add (cases, c);
    }
  g_assert_cmpuint (cases->len, >=, 60);
  int rc = g_test_run ();
  g_ptr_array_unref (cases);
  return rc;
}
