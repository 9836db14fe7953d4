/* The loader on good files (every initializer encoding, Constant nodes,
 * opset 7 attribute forms, shape subgraphs folded at load time; outputs
 * against NumPy, written by tests/data/nn/make-load-fixtures.py) and on bad
 * ones (each must fail with an error that says what is wrong and where, and
 * never crash or allocate on trust), plus the API's own error cases. */
#include "nn-graph.h"
#include "npy.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>

static void
check_good (gconstpointer data)
{
  const char *name = data;
  char *f = g_strdup_printf ("nn/load/%s.onnx", name);
  char *fi = g_strdup_printf ("nn/load/%s_in.npy", name);
  char *fo = g_strdup_printf ("nn/load/%s_out.npy", name);
  char *p = tl_test_data (f), *pi = tl_test_data (fi), *po = tl_test_data (fo);
  GError *error = NULL;
  tl_net *net = tl_net_load (p, &error);
  g_assert_no_error (error);
  tl_tensor *x = tl_npy_load (pi, &error);
  g_assert_no_error (error);
  tl_tensor *want = tl_npy_load (po, &error);
  g_assert_no_error (error);
  tl_net_result *r = tl_net_run (net, (const tl_tensor *const *) &x, 1, NULL, 0, 0, &error);
  g_assert_no_error (error);
  const tl_tensor *y = tl_net_result_output (r, 0);
  g_assert_true (tl_tensor_same_shape (y, want));
  int64_t n = tl_tensor_numel (want);
  for (int64_t i = 0; i < n; i++)
    if (!(fabs (y->data[i] - want->data[i]) <= 1e-6 + 1e-5 * fabs (want->data[i])))
      g_error ("%s [%" G_GINT64_FORMAT "]: %.9g vs %.9g", name, i, y->data[i], want->data[i]);
  if (strcmp (name, "good_math") == 0)
    {
      /* gradient of output[:, 1] (through every math op; the score is
       * summed over the batch) against central differences in float32 with
       * h = 1e-2: truncation error ~h^2 */
      const char *in = "x";
      tl_net_result *rb = tl_net_run1 (net, x, &in, 1, TL_NET_RUN_BACKWARD, &error);
      g_assert_no_error (error);
      tl_tensor *g = tl_net_result_grad_logit (rb, "x", NULL, 1, &error);
      g_assert_no_error (error);
      tl_net_result_free (rb);
      for (int64_t i = 0; i < tl_tensor_numel (x); i++)
        {
          float x0 = x->data[i], h = 1e-2f;
          double f[2];
          for (int s = 0; s < 2; s++)
            {
              x->data[i] = x0 + (s ? h : -h);
              tl_net_result *rr = tl_net_run1 (net, x, NULL, 0, 0, &error);
              g_assert_no_error (error);
              f[s] = tl_net_result_output (rr, 0)->data[1] + tl_net_result_output (rr, 0)->data[4];
              tl_net_result_free (rr);
            }
          x->data[i] = x0;
          double fd = (f[1] - f[0]) / (2 * h);
          if (!(fabs (fd - g->data[i]) <= 2e-3 + 2e-3 * fabs (fd)))
            g_error ("good_math d/dx[%" G_GINT64_FORMAT "]: %.6g vs finite difference %.6g", i,
                     g->data[i], fd);
        }
      tl_tensor_free (g);
    }
  if (strcmp (name, "good_shape_fold") == 0)
    {
      /* Shape/Gather/Unsqueeze/Concat/Cast/ConstantOfShape/Sub all folded:
       * only Reshape (an alias), Mul and Add run */
      g_assert_cmpint (tl_net_n_nodes (net), ==, 3);
      g_assert_null (tl_net_find_tensor (net, "shp2"));
      g_assert_nonnull (tl_net_find_tensor (net, "flat"));
    }
  tl_net_result_free (r);
  tl_tensor_free (x);
  tl_tensor_free (want);
  tl_net_free (net);
  g_free (p); g_free (pi); g_free (po); g_free (f); g_free (fi); g_free (fo);
}

typedef struct {
  const char *file;
  const char *expect;   /* substring of the error message */
} bad_case;

static const bad_case bad_cases[] = {
  { "bad_tensor_larger_than_file", "raw data holds 16 bytes" },
  { "bad_dims_overflow", "dims overflow" },
  { "bad_negative_dim", "negative dim" },
  { "bad_typed_count", "holds 3 elements, dims need 4" },
  { "bad_external_data", "external tensor data is not supported" },
  { "bad_string_tensor", "data type 8 is not supported" },
  { "bad_dangling_input", "node 'adder' (Add) reads 'nope'" },
  { "bad_cycle", "cycle through node" },
  { "bad_unsupported_op", "node 'my_einsum' (Einsum): unsupported operator" },
  { "bad_opset_19", "opset 19 is not supported" },
  { "bad_unknown_output", "graph output 'zzz' is not produced" },
  { "bad_duplicate_output", "output 'y' is defined twice" },
  { "bad_reshape_mismatch", "node 'rs' (Reshape): cannot reshape 1x4 into 3x3" },
  { "bad_conv_channels", "node 'cv' (Conv): channels (3) do not match" },
  { "bad_huge_constant_of_shape", "node 'cos' (ConstantOfShape): output 'z' has an invalid or too large size" },
  { "bad_gather_out_of_range", "node 'g' (Gather): index 7 out of range" },
  { "bad_symbolic_dim", "input 'x' dim 1 is not a fixed positive size" },
  { "bad_int_input", "only float32 inputs are supported" },
  { "bad_broadcast", "node 'add' (Add): shapes 1x4 and 3 do not broadcast" },
  { "bad_training_bn", "node 'bn' (BatchNormalization): training mode is not supported" },
  { "bad_no_graph", "the model has no graph" },
  { "bad_truncated", "not an ONNX model" },
  { "bad_garbage", "not an ONNX model" },
  { "bad_empty", "empty file" },
  { "does_not_exist", "does_not_exist.onnx" },
};

static void
check_bad (gconstpointer data)
{
  const bad_case *c = data;
  char *f = g_strdup_printf ("nn/load/%s.onnx", c->file);
  char *p = tl_test_data (f);
  GError *error = NULL;
  tl_net *net = tl_net_load (p, &error);
  g_assert_null (net);
  g_assert_nonnull (error);
  g_assert_true (error->domain == TL_ERROR);
  if (!strstr (error->message, c->expect))
    g_error ("%s: message '%s' lacks '%s'", c->file, error->message, c->expect);
  g_test_message ("%s: %s", c->file, error->message);
  g_error_free (error);
  g_free (f);
  g_free (p);
}

/* The API's own error paths and bookkeeping, on the committed TinyNet. */
static void
check_api (void)
{
  char *p = tl_test_data ("nn/models/tinynet/model.onnx");
  char *pi = tl_test_data ("nn/models/tinynet/input.npy");
  GError *error = NULL;
  gchar *buf;
  gsize len;
  g_assert_true (g_file_get_contents (p, &buf, &len, NULL));
  tl_net *net = tl_net_load_from_memory (buf, len, "tinynet", &error);
  g_assert_no_error (error);
  tl_tensor *x = tl_npy_load (pi, &error);
  g_assert_no_error (error);
  const tl_tensor *in[1] = { x };

  /* listing: inputs first, the default layer is explainable, shapes static */
  g_assert_cmpint (tl_net_n_inputs (net), ==, 1);
  g_assert_cmpint (tl_net_tensor (net, 0)->kind, ==, TL_NET_TENSOR_INPUT);
  const char *def = tl_net_default_target_layer (net);
  const tl_net_tensor_info *ti = tl_net_find_tensor (net, def);
  g_assert_nonnull (ti);
  g_assert_true (ti->explainable);
  g_assert_cmpint (ti->shape[2], ==, 14);
  g_assert_cmpint (tl_net_output (net, 0)->shape[1], ==, 10);
  /* keeping a tap alive can only raise the peak */
  const char *early = "/stem/stem.2/Clip_output_0";
  g_assert_nonnull (tl_net_find_tensor (net, early));
  g_assert_cmpuint (tl_net_peak_memory (net, &early, 1), >=, tl_net_peak_memory (net, NULL, 0));
  g_assert_cmpuint (tl_net_peak_memory (net, NULL, 0), >, 0);

  /* bad taps and inputs */
  const char *nope = "no_such_tensor";
  g_assert_null (tl_net_run (net, in, 1, &nope, 1, 0, &error));
  g_assert_error (error, TL_ERROR, TL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "no_such_tensor"));
  g_clear_error (&error);
  const char *folded = "head.weight";   /* a constant, not a runtime tensor */
  g_assert_null (tl_net_run (net, in, 1, &folded, 1, 0, &error));
  g_assert_error (error, TL_ERROR, TL_ERROR_INVALID);
  g_clear_error (&error);
  int64_t wrong[4] = { 1, 3, 16, 16 };
  g_autoptr (tl_tensor) xw = tl_tensor_new (4, wrong, &error);
  const tl_tensor *inw[1] = { xw };
  g_assert_null (tl_net_run (net, inw, 1, NULL, 0, 0, &error));
  g_assert_nonnull (strstr (error->message, "must have shape 1x3x32x32"));
  g_clear_error (&error);
  g_assert_null (tl_net_run (net, in, 0, NULL, 0, 0, &error));
  g_clear_error (&error);

  /* backward needs the flag, a real tensor and a valid index */
  tl_net_result *r = tl_net_run (net, in, 1, &def, 1, 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (tl_net_result_get (r, def));
  g_assert_null (tl_net_result_get (r, early));
  g_assert_null (tl_net_result_grad_logit (r, def, NULL, 0, &error));
  g_assert_nonnull (strstr (error->message, "TL_NET_RUN_BACKWARD"));
  g_clear_error (&error);
  tl_net_result_free (r);
  r = tl_net_run (net, in, 1, &def, 1, TL_NET_RUN_BACKWARD, &error);
  g_assert_no_error (error);
  g_assert_null (tl_net_result_grad_logit (r, def, NULL, 10, &error));
  g_assert_nonnull (strstr (error->message, "out of range"));
  g_clear_error (&error);
  g_assert_null (tl_net_result_grad_logit (r, "zzz", NULL, 0, &error));
  g_clear_error (&error);
  float v[3] = { 1, 2, 3 };
  g_assert_null (tl_net_result_grad_cosine (r, def, NULL, v, 3, NULL, &error));
  g_assert_nonnull (strstr (error->message, "3 entries"));
  g_clear_error (&error);
  /* an earlier tensor was not kept: a clear error, not a crash */
  g_assert_null (tl_net_result_grad_logit (r, early, NULL, 0, &error));
  g_assert_nonnull (strstr (error->message, "was not among the taps"));
  g_clear_error (&error);
  /* the gradient with respect to the output itself is the seed */
  tl_tensor *g = tl_net_result_grad_logit (r, "logits", NULL, 4, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 10; i++)
    g_assert_cmpfloat (g->data[i], ==, i == 4 ? 1.0f : 0.0f);
  tl_tensor_free (g);
  /* a zero reference vector: score 0, gradient 0, no NaN */
  float z[10] = { 0 };
  double score = -1;
  g = tl_net_result_grad_cosine (r, def, NULL, z, 10, &score, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (score, ==, 0.0);
  for (int64_t i = 0; i < tl_tensor_numel (g); i++)
    g_assert_cmpfloat (g->data[i], ==, 0.0f);
  tl_tensor_free (g);
  tl_net_result_free (r);

  /* zero-copy concat: the ConvTranspose/Resize outputs feeding TinyNet's
   * first Concat are computed straight into its output buffer */
  int parts = 0;
  for (int s = 0; s < net->n_order; s++)
    {
      const tl_node *node = &net->nodes[net->order[s]];
      if (strcmp (node->op_type, "Concat") != 0)
        continue;
      for (int k = 0; k < node->n_in; k++)
        {
          const tl_value *v = NV (net, node->in[k]);
          if (v->concat_into < 0)
            continue;
          const char *tp[2] = { v->name, NV (net, node->out[0])->name };
          tl_net_result *rc = tl_net_run1 (net, x, tp, 2, 0, &error);
          g_assert_no_error (error);
          g_assert_true (tl_net_result_get (rc, tp[0])->data
                         == tl_net_result_get (rc, tp[1])->data + v->concat_offset);
          tl_net_result_free (rc);
          parts++;
        }
    }
  g_assert_cmpint (parts, >=, 2);

  /* threads: explicit, then the environment */
  g_assert_cmpint (tl_nn_set_threads (1), ==, 1);
  g_setenv ("TENSORLENS_THREADS", "2", TRUE);
  g_assert_cmpint (tl_nn_set_threads (0), ==, 2);
  g_unsetenv ("TENSORLENS_THREADS");
  g_assert_cmpint (tl_nn_set_threads (0), ==, (int) g_get_num_processors ());

  tl_tensor_free (x);
  tl_net_free (net);
  g_free (buf);
  g_free (p);
  g_free (pi);
}

/* Every prefix of a valid model is either a clean error or a valid model:
 * never a crash (cheap, exhaustive truncation). */
static void
check_truncations (void)
{
  char *p = tl_test_data ("nn/load/good_opset7.onnx");
  gchar *buf;
  gsize len;
  g_assert_true (g_file_get_contents (p, &buf, &len, NULL));
  int ok = 0;
  for (gsize n = 0; n < len; n++)
    {
      GError *error = NULL;
      guint8 *copy = g_memdup2 (buf, MAX (n, 1));
      tl_net *net = tl_net_load_from_memory (copy, n, "prefix", &error);
      g_assert_true ((net != NULL) != (error != NULL));
      ok += net != NULL;
      tl_net_free (net);
      g_clear_error (&error);
      g_free (copy);
    }
  g_test_message ("%d of %" G_GSIZE_FORMAT " prefixes load", ok, len);
  g_free (buf);
  g_free (p);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *good[] = { "good_shape_fold", "good_encodings", "good_opset7", "good_math" };
  for (size_t i = 0; i < G_N_ELEMENTS (good); i++)
    {
      char *p = g_strdup_printf ("/nn/load/%s", good[i]);
      g_test_add_data_func (p, good[i], check_good);
      g_free (p);
    }
  for (size_t i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      char *p = g_strdup_printf ("/nn/load/%s", bad_cases[i].file);
      g_test_add_data_func (p, &bad_cases[i], check_bad);
      g_free (p);
    }
  g_test_add_func ("/nn/load/api", check_api);
  g_test_add_func ("/nn/load/truncations", check_truncations);
  return g_test_run ();
}
