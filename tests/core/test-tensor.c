#include "tensor.h"
#include "error.h"
#include "tl-test.h"

#include <math.h>

static void
test_numel_overflow (void)
{
  int64_t ok[] = { 2, 3, 4 };
  g_assert_cmpint (tl_shape_numel (3, ok), ==, 24);
  int64_t big[] = { INT64_C (1) << 40, INT64_C (1) << 40 };
  g_assert_cmpint (tl_shape_numel (2, big), ==, -1);
  int64_t neg[] = { 3, -1 };
  g_assert_cmpint (tl_shape_numel (2, neg), ==, -1);
  int64_t zero[] = { 0, INT64_MAX };
  g_assert_cmpint (tl_shape_numel (2, zero), ==, 0);
  g_assert_cmpint (tl_shape_numel (0, NULL), ==, 1);
}

static void
test_new_refuses_huge (void)
{
  GError *e = NULL;
  int64_t huge[] = { 1 << 20, 1 << 20, 1 << 10 };
  g_assert_null (tl_tensor_new (3, huge, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_NOMEM);
  g_assert_nonnull (strstr (e->message, "1048576x1048576x1024"));
  g_clear_error (&e);
  int64_t s[] = { 1 };
  g_assert_null (tl_tensor_new (TL_MAX_DIMS + 1, s, &e));
  g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&e);
}

static void
test_new_zeroed_contiguous (void)
{
  int64_t s[] = { 2, 3, 4, 5 };
  g_autoptr (tl_tensor) t = tl_tensor_new (4, s, NULL);
  g_assert_nonnull (t);
  g_assert_cmpint (tl_tensor_numel (t), ==, 120);
  g_assert_cmpint (t->strides[0], ==, 60);
  g_assert_cmpint (t->strides[3], ==, 1);
  g_assert_true (tl_tensor_is_contiguous (t));
  for (int i = 0; i < 120; i++)
    g_assert_cmpfloat (t->data[i], ==, 0.0f);
  int64_t idx[] = { 1, 2, 3, 4 };
  g_assert_cmpint (tl_tensor_offset (t, idx), ==, 60 + 40 + 15 + 4);
}

static void
test_gather_strided_view (void)
{
  /* A transposed view of a 2x3 matrix gathers as its 3x2 transpose. */
  float d[6] = { 0, 1, 2, 3, 4, 5 };
  int64_t s[] = { 3, 2 };
  g_autoptr (tl_tensor) v = tl_tensor_view (d, 2, s);
  v->strides[0] = 1;
  v->strides[1] = 3;
  g_assert_false (tl_tensor_is_contiguous (v));
  float out[6];
  tl_tensor_gather (v, out);
  float want[6] = { 0, 3, 1, 4, 2, 5 };
  tl_assert_close (out, want, 6, 0.0);
  g_autoptr (tl_tensor) c = tl_tensor_copy (v, NULL);
  g_assert_true (tl_tensor_is_contiguous (c));
  tl_assert_close (c->data, want, 6, 0.0);
  g_assert_true (tl_tensor_same_shape (v, c));
}

static void
test_shape_str (void)
{
  char b[64];
  int64_t s[] = { 1, 3, 224, 224 };
  g_assert_cmpstr (tl_shape_str (4, s, b, sizeof b), ==, "1x3x224x224");
  g_assert_cmpstr (tl_shape_str (0, s, b, sizeof b), ==, "scalar");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tensor/numel-overflow", test_numel_overflow);
  g_test_add_func ("/tensor/new-refuses-huge", test_new_refuses_huge);
  g_test_add_func ("/tensor/new-zeroed-contiguous", test_new_zeroed_contiguous);
  g_test_add_func ("/tensor/gather-strided-view", test_gather_strided_view);
  g_test_add_func ("/tensor/shape-str", test_shape_str);
  return g_test_run ();
}
