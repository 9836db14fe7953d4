/* .npy against files NumPy wrote (tests/data/make-npy-fixtures.py). */
#include "npy.h"
#include "error.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

static tl_tensor *
load (const char *name, GError **e)
{
  g_autofree char *rel = g_build_filename ("npy", name, NULL);
  g_autofree char *p = tl_test_data (rel);
  return tl_npy_load (p, e);
}

static void
test_load_2x3 (void)
{
  g_autoptr (tl_tensor) t = load ("f32_2x3.npy", NULL);
  g_assert_nonnull (t);
  g_assert_cmpint (t->ndim, ==, 2);
  g_assert_cmpint (t->shape[0], ==, 2);
  g_assert_cmpint (t->shape[1], ==, 3);
  float want[6] = { -1, -0.5, 0, 0.5, 1, 1.5 };
  tl_assert_close (t->data, want, 6, 0.0);
  g_autoptr (tl_tensor) v2 = load ("f32_2x3_v2.npy", NULL);
  g_assert_nonnull (v2);
  tl_assert_close (v2->data, want, 6, 0.0);
}

static void
test_load_shapes (void)
{
  g_autoptr (tl_tensor) s = load ("f32_scalar.npy", NULL);
  g_assert_cmpint (s->ndim, ==, 0);
  g_assert_cmpfloat (s->data[0], ==, 3.25f);

  g_autoptr (tl_tensor) d = load ("f32_1d.npy", NULL);
  g_assert_cmpint (d->ndim, ==, 1);
  g_assert_cmpint (d->shape[0], ==, 5);
  float want[5] = { 1.5f, -2, 0, 1e-30f, 3e38f };
  tl_assert_close (d->data, want, 5, 0.0);

  g_autoptr (tl_tensor) q = load ("f32_1x3x4x5.npy", NULL);
  g_assert_cmpint (q->ndim, ==, 4);
  for (int i = 0; i < 60; i++)
    g_assert_cmpfloat (q->data[i], ==, (float) i / 7.0f);

  g_autoptr (tl_tensor) z = load ("f32_0x3.npy", NULL);
  g_assert_cmpint (z->ndim, ==, 2);
  g_assert_cmpint (tl_tensor_numel (z), ==, 0);

  g_autoptr (tl_tensor) sp = load ("f32_special.npy", NULL);
  g_assert_true (isinf (sp->data[0]) && sp->data[0] > 0);
  g_assert_true (isinf (sp->data[1]) && sp->data[1] < 0);
  g_assert_true (signbit (sp->data[2]));
  g_assert_true (isnan (sp->data[3]));
}

/* Our writer must produce exactly NumPy's bytes, header padding included. */
static void
test_save_matches_numpy (void)
{
  const char *names[] = { "f32_2x3.npy", "f32_scalar.npy", "f32_1d.npy",
                          "f32_1x3x4x5.npy", "f32_0x3.npy", "f32_special.npy" };
  g_autofree char *dir = g_dir_make_tmp ("tl-npy-XXXXXX", NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (tl_tensor) t = load (names[i], NULL);
      g_autofree char *out = g_build_filename (dir, names[i], NULL);
      GError *e = NULL;
      g_assert_true (tl_npy_save (out, t, &e));
      g_assert_no_error (e);
      g_autofree char *rel = g_build_filename ("npy", names[i], NULL);
      g_autofree char *ref = tl_test_data (rel);
      g_autofree char *a = NULL, *b = NULL;
      gsize la, lb;
      g_assert_true (g_file_get_contents (out, &a, &la, NULL));
      g_assert_true (g_file_get_contents (ref, &b, &lb, NULL));
      g_assert_cmpmem (a, la, b, lb);
      g_unlink (out);
    }
  g_rmdir (dir);
}

static void
test_save_strided (void)
{
  float d[6] = { 0, 1, 2, 3, 4, 5 };
  int64_t s[] = { 3, 2 };
  g_autoptr (tl_tensor) v = tl_tensor_view (d, 2, s);
  v->strides[0] = 1;
  v->strides[1] = 3;
  g_autofree char *dir = g_dir_make_tmp ("tl-npy-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (dir, "t.npy", NULL);
  g_assert_true (tl_npy_save (out, v, NULL));
  g_autoptr (tl_tensor) r = tl_npy_load (out, NULL);
  float want[6] = { 0, 3, 1, 4, 2, 5 };
  g_assert_cmpint (r->shape[0], ==, 3);
  tl_assert_close (r->data, want, 6, 0.0);
  g_unlink (out);
  g_rmdir (dir);
}

typedef struct {
  const char *file, *expect;
} bad_case;

static const bad_case bad_cases[] = {
  { "bad_f64.npy", "'<f8' (float64)" },
  { "bad_u8.npy", "'|u1' (uint8)" },
  { "bad_i64.npy", "'<i8' (int64)" },
  { "bad_bigendian.npy", "big-endian" },
  { "bad_fortran.npy", "Fortran-order" },
  { "bad_structured.npy", "structured" },
  { "bad_truncated_data.npy", "truncated: header declares shape 2x3 (24 bytes of data) but the file has 19" },
  { "bad_trailing.npy", "trailing bytes" },
  { "bad_truncated_header.npy", "truncated header" },
  { "bad_short.npy", "not a .npy file" },
  { "bad_magic.npy", "not a .npy file" },
  { "bad_version.npy", "version 9.0" },
  { "bad_empty.npy", "not a .npy file" },
  { "bad_absurd_shape.npy", "shape 100000x100000x100000 is too large" },
  { "bad_lying_shape.npy", "truncated: header declares shape 50000x50000 (10000000000 bytes of data) but the file has 0" },
  { "bad_overflow_shape.npy", "too large" },
  { "bad_negative_shape.npy", "malformed 'shape'" },
  { "bad_garbage_header.npy", "malformed header" },
  { "bad_missing_key.npy", "lacks one of" },
  { "bad_huge_header_len.npy", "implausibly large" },
  { "does_not_exist.npy", "No such file" },
};

static void
test_bad (gconstpointer data)
{
  const bad_case *c = data;
  GError *e = NULL;
  g_assert_null (load (c->file, &e));
  g_assert_nonnull (e);
  if (!strstr (e->message, c->file) || !strstr (e->message, c->expect))
    g_error ("message '%s' should name %s and say '%s'", e->message, c->file, c->expect);
  g_clear_error (&e);
}

/* Random corruptions of a valid header never crash and never accept a
 * header that claims more data than the buffer (checked by ASan in CI). */
static void
test_header_mutations (void)
{
  g_autofree char *p = tl_test_data ("npy/f32_1x3x4x5.npy");
  g_autofree guint8 *orig = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (p, (char **) &orig, &len, NULL));
  GRand *r = g_rand_new_with_seed (1234);
  int accepted = 0;
  for (int it = 0; it < 20000; it++)
    {
      gsize n = (gsize) g_rand_int_range (r, 0, (gint32) len + 1);
      guint8 *b = g_memdup2 (orig, n);
      int flips = g_rand_int_range (r, 1, 4);
      for (int k = 0; k < flips && n > 0; k++)
        b[g_rand_int_range (r, 0, (gint32) n)] = (guint8) g_rand_int_range (r, 0, 256);
      tl_npy_header h;
      GError *e = NULL;
      if (tl_npy_parse_header (b, n, &h, &e))
        {
          accepted++;
          g_assert_cmpuint (h.data_offset, <=, n);
          g_assert_cmpint (tl_shape_numel (h.ndim, h.shape), >=, 0);
        }
      else
        g_assert_nonnull (e);
      g_clear_error (&e);
      g_free (b);
    }
  g_rand_free (r);
  g_assert_cmpint (accepted, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/npy/load-2x3", test_load_2x3);
  g_test_add_func ("/npy/load-shapes", test_load_shapes);
  g_test_add_func ("/npy/save-matches-numpy", test_save_matches_numpy);
  g_test_add_func ("/npy/save-strided", test_save_strided);
  for (size_t i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/npy/bad/%s", bad_cases[i].file);
      g_test_add_data_func (name, &bad_cases[i], test_bad);
    }
  g_test_add_func ("/npy/header-mutations", test_header_mutations);
  return g_test_run ();
}
