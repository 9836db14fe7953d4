/* Gemm and MatMul against NumPy forward / torch autograd fixtures, a
 * finite-difference probe of dA, and bad shapes. */
#include "kernel-test.h"

typedef struct
{
  const tl_gemm_params *p;
  int64_t ar, ac, br, bc, m, n;
  const float *b;
} gemm_fd_ctx;

static void
gemm_fwd (void *data, const float *a, float *y)
{
  gemm_fd_ctx *c = data;
  g_assert_true (tl_gemm (c->p, a, c->ar, c->ac, c->b, c->br, c->bc, NULL, 0, NULL, y, c->m,
                          c->n, NULL));
}

static void
test_gemm_case (gconstpointer data)
{
  JsonObject *c = (JsonObject *) data, *pp = kt_params (c);
  g_autoptr (tl_tensor) a = kt_tensor (c, "a");
  g_autoptr (tl_tensor) b = kt_tensor (c, "b");
  g_autoptr (tl_tensor) cc = kt_tensor (c, "c");
  g_autoptr (tl_tensor) y = kt_tensor (c, "y");
  g_autoptr (tl_tensor) dy = kt_tensor (c, "dy");
  g_autoptr (tl_tensor) da = kt_tensor (c, "da");
  g_autoptr (tl_tensor) db = kt_tensor (c, "db");
  tl_gemm_params p = tl_gemm_default_params ();
  p.alpha = (float) kt_double (pp, "alpha");
  p.beta = (float) kt_double (pp, "beta");
  p.trans_a = kt_int (pp, "trans_a") != 0;
  p.trans_b = kt_int (pp, "trans_b") != 0;
  const int64_t m = kt_int (pp, "m"), n = kt_int (pp, "n");
  GError *err = NULL;
  g_autofree float *out = g_new (float, m * n);
  g_autofree float *ga = g_new (float, tl_tensor_numel (a));
  g_autofree float *gb = g_new (float, tl_tensor_numel (b));
  g_assert_true (tl_gemm (&p, a->data, a->shape[0], a->shape[1], b->data, b->shape[0],
                          b->shape[1], cc ? cc->data : NULL, cc ? cc->ndim : 0,
                          cc ? cc->shape : NULL, out, m, n, &err));
  g_assert_no_error (err);
  kt_assert_rel ("forward", out, y->data, m * n, KT_FWD_TOL);
  g_assert_true (tl_gemm_backward (&p, a->data, a->shape[0], a->shape[1], b->data,
                                   b->shape[0], b->shape[1], dy->data, m, n, ga, gb, &err));
  g_assert_no_error (err);
  kt_assert_rel ("dA", ga, da->data, tl_tensor_numel (a), KT_BWD_TOL);
  kt_assert_rel ("dB", gb, db->data, tl_tensor_numel (b), KT_BWD_TOL);
  /* either gradient alone */
  g_autofree float *ga2 = g_new (float, tl_tensor_numel (a));
  g_assert_true (tl_gemm_backward (&p, a->data, a->shape[0], a->shape[1], b->data,
                                   b->shape[0], b->shape[1], dy->data, m, n, ga2, NULL, &err));
  g_assert_cmpmem (ga, sizeof (float) * tl_tensor_numel (a), ga2,
                   sizeof (float) * tl_tensor_numel (a));
  gemm_fd_ctx fc = { &p, a->shape[0], a->shape[1], b->shape[0], b->shape[1], m, n, b->data };
  kt_fd_check ("gemm", gemm_fwd, &fc, a->data, tl_tensor_numel (a), m * n, dy->data, ga,
               0.25, 1e-3, 24);
}

/* M = 1 and N = 1 go through sgemv: every transpose combination, with and
 * without a full [M, N] C (the broadcasts go through the same copy as
 * before), against the definition in
 * double; relative L2 <= KT_FWD_TOL. */
static void
test_gemm_vector (void)
{
  GRand *rnd = g_rand_new_with_seed (5);
  const int64_t K = 37, L = 53; /* the other output dimension */
  for (int mcase = 0; mcase < 2; mcase++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        for (int withc = 0; withc < 2; withc++)
          {
            const int64_t m = mcase == 0 ? 1 : L, n = mcase == 0 ? L : 1;
            const int64_t ar = ta ? K : m, ac = ta ? m : K, br = tb ? n : K, bc = tb ? K : n;
            tl_gemm_params p = { .alpha = 0.75f, .beta = 1.5f, .trans_a = ta, .trans_b = tb };
            g_autofree float *a = g_new (float, ar * ac);
            g_autofree float *b = g_new (float, br * bc);
            g_autofree float *c = g_new (float, m * n);
            g_autofree float *y = g_new (float, m * n);
            g_autofree double *want = g_new (double, m * n);
            for (int64_t i = 0; i < ar * ac; i++)
              a[i] = (float) g_rand_double_range (rnd, -1, 1);
            for (int64_t i = 0; i < br * bc; i++)
              b[i] = (float) g_rand_double_range (rnd, -1, 1);
            for (int64_t i = 0; i < m * n; i++)
              c[i] = (float) g_rand_double_range (rnd, -1, 1);
            /* C as [M, N] itself (2-D) */
            const int64_t cs[2] = { m, n };
            for (int64_t i = 0; i < m; i++)
              for (int64_t j = 0; j < n; j++)
                {
                  double acc = 0;
                  for (int64_t q = 0; q < K; q++)
                    acc += (double) (ta ? a[q * ac + i] : a[i * ac + q])
                           * (tb ? b[j * bc + q] : b[q * bc + j]);
                  want[i * n + j] = p.alpha * acc + (withc ? p.beta * c[i * n + j] : 0.0);
                }
            GError *err = NULL;
            g_assert_true (tl_gemm (&p, a, ar, ac, b, br, bc, withc ? c : NULL, 2, cs, y, m,
                                    n, &err));
            g_assert_no_error (err);
            double num = 0, den = 0;
            for (int64_t i = 0; i < m * n; i++)
              {
                num += (y[i] - want[i]) * (y[i] - want[i]);
                den += want[i] * want[i];
              }
            if (!(sqrt (num / den) <= KT_FWD_TOL))
              g_error ("gemm m=%" G_GINT64_FORMAT " n=%" G_GINT64_FORMAT
                       " ta=%d tb=%d c=%d: relative L2 error %.3g",
                       m, n, ta, tb, withc, sqrt (num / den));
          }
  g_rand_free (rnd);
}

static int
shape_of (JsonObject *p, const char *key, int64_t *s)
{
  return kt_ints (p, key, s, 8);
}

typedef struct
{
  int an, bn, yn;
  int64_t as[8], bs[8], ys[8];
  const float *b;
} mm_fd_ctx;

static void
mm_fwd (void *data, const float *a, float *y)
{
  mm_fd_ctx *c = data;
  g_assert_true (tl_matmul (a, c->an, c->as, c->b, c->bn, c->bs, y, c->yn, c->ys, NULL));
}

static void
test_matmul_case (gconstpointer data)
{
  JsonObject *c = (JsonObject *) data, *pp = kt_params (c);
  g_autoptr (tl_tensor) a = kt_tensor (c, "a");
  g_autoptr (tl_tensor) b = kt_tensor (c, "b");
  g_autoptr (tl_tensor) y = kt_tensor (c, "y");
  g_autoptr (tl_tensor) dy = kt_tensor (c, "dy");
  g_autoptr (tl_tensor) da = kt_tensor (c, "da");
  g_autoptr (tl_tensor) db = kt_tensor (c, "db");
  mm_fd_ctx fc;
  fc.an = shape_of (pp, "a_shape", fc.as);
  fc.bn = shape_of (pp, "b_shape", fc.bs);
  int want_n = shape_of (pp, "y_shape", fc.ys);
  int64_t ys[8];
  GError *err = NULL;
  g_assert_true (tl_matmul_output_shape (fc.an, fc.as, fc.bn, fc.bs, &fc.yn, ys, &err));
  g_assert_no_error (err);
  g_assert_cmpint (fc.yn, ==, want_n);
  for (int i = 0; i < want_n; i++)
    g_assert_cmpint (ys[i], ==, fc.ys[i]);
  fc.b = b->data;
  const int64_t ny = tl_tensor_numel (y);
  g_autofree float *out = g_new (float, ny);
  g_autofree float *ga = g_new (float, tl_tensor_numel (a));
  g_autofree float *gb = g_new (float, tl_tensor_numel (b));
  g_assert_true (tl_matmul (a->data, fc.an, fc.as, b->data, fc.bn, fc.bs, out, fc.yn, fc.ys,
                            &err));
  g_assert_no_error (err);
  kt_assert_rel ("forward", out, y->data, ny, KT_FWD_TOL);
  g_assert_true (tl_matmul_backward (a->data, fc.an, fc.as, b->data, fc.bn, fc.bs, dy->data,
                                     fc.yn, fc.ys, ga, gb, &err));
  g_assert_no_error (err);
  kt_assert_rel ("dA", ga, da->data, tl_tensor_numel (a), KT_BWD_TOL);
  kt_assert_rel ("dB", gb, db->data, tl_tensor_numel (b), KT_BWD_TOL);
  kt_fd_check ("matmul", mm_fwd, &fc, a->data, tl_tensor_numel (a), ny, dy->data, ga, 0.25,
               1e-3, 24);
}

static void
test_bad (void)
{
  float a[64] = { 0 }, b[64] = { 0 }, y[64];
  tl_gemm_params p = tl_gemm_default_params ();
  GError *err = NULL;
  g_assert_true (tl_gemm (&p, a, 3, 4, b, 4, 5, NULL, 0, NULL, y, 3, 5, &err));
  kt_assert_invalid (tl_gemm (&p, a, 3, 4, b, 5, 4, NULL, 0, NULL, y, 3, 4, &err), err,
                     "inner dimensions");
  kt_assert_invalid (tl_gemm (&p, a, 3, 4, b, 4, 5, NULL, 0, NULL, y, 3, 4, &err), err,
                     "output");
  int64_t cs[2] = { 2, 5 };
  kt_assert_invalid (tl_gemm (&p, a, 3, 4, b, 4, 5, b, 2, cs, y, 3, 5, &err), err,
                     "broadcast");
  kt_assert_invalid (tl_gemm (&p, a, 3, 4, b, 4, 5, b, 3, cs, y, 3, 5, &err), err,
                     "dimensions");
  kt_assert_invalid (tl_gemm (&p, a, 0, 4, b, 4, 5, NULL, 0, NULL, y, 0, 5, &err), err,
                     "rows of A");
  kt_assert_invalid (tl_gemm (&p, a, (int64_t) 1 << 40, 4, b, 4, 5, NULL, 0, NULL, y, 3, 5,
                              &err), err, "rows of A");
  kt_assert_invalid (tl_gemm_backward (&p, a, 3, 4, b, 5, 4, y, 3, 4, a, b, &err), err,
                     "inner dimensions");

  int64_t as[3] = { 2, 3, 4 }, bs[3] = { 3, 4, 5 }, ys[8];
  int yn;
  kt_assert_invalid (tl_matmul_output_shape (3, as, 3, bs, &yn, ys, &err), err,
                     "broadcast");
  int64_t bs2[2] = { 5, 4 };
  kt_assert_invalid (tl_matmul_output_shape (3, as, 2, bs2, &yn, ys, &err), err,
                     "inner dimensions");
  kt_assert_invalid (tl_matmul_output_shape (0, as, 2, bs2, &yn, ys, &err), err,
                     "dimensions");
  kt_assert_invalid (tl_matmul_output_shape (9, as, 2, bs2, &yn, ys, &err), err,
                     "dimensions");
  int64_t neg[2] = { -1, 4 };
  kt_assert_invalid (tl_matmul_output_shape (2, neg, 2, bs2, &yn, ys, &err), err,
                     "dimension of A");
  /* batch dims that multiply past the element limit */
  int64_t big_a[6] = { 1 << 20, 1 << 20, 1 << 20, 1 << 20, 2, 2 };
  int64_t big_b[2] = { 2, 2 };
  kt_assert_invalid (tl_matmul_output_shape (6, big_a, 2, big_b, &yn, ys, &err), err,
                     "elements");
  int64_t ok_b[2] = { 4, 5 }, wrong_y[3] = { 2, 3, 6 };
  kt_assert_invalid (tl_matmul (a, 3, as, b, 2, ok_b, y, 3, wrong_y, &err), err,
                     "output shape");
  kt_assert_invalid (tl_matmul_backward (a, 3, as, b, 2, ok_b, y, 3, wrong_y, a, b, &err),
                     err, "output shape");
}

static void
add_cases (const char *kernel, GTestDataFunc fn, JsonParser **parser)
{
  JsonArray *cases = kt_cases (kernel, parser);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      g_autofree char *path = g_strdup_printf ("/kernels/%s/%s", kernel, kt_name (c));
      g_test_add_data_func (path, c, fn);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  JsonParser *pg, *pm;
  add_cases ("gemm", test_gemm_case, &pg);
  add_cases ("matmul", test_matmul_case, &pm);
  g_test_add_func ("/kernels/gemm/vector-operand", test_gemm_vector);
  g_test_add_func ("/kernels/gemm/bad-params", test_bad);
  int rc = g_test_run ();
  g_object_unref (pg);
  g_object_unref (pm);
  return rc;
}
