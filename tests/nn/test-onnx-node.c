/* Per-op conformance on ONNX's own node tests (Debian libonnx-testdata):
 * each model.onnx is loaded, fed test_data_set_0/input_*.pb and its outputs
 * compared with output_*.pb. Inputs an op needs as constants (shape
 * operands, scales, pads, clip bounds) are bound as constants, as a runtime
 * with static shapes would see them; the others are real runtime inputs.
 * Tolerance: |got - want| <= 1e-5 + 1e-4 |want| (ONNX's backend tests use
 * rtol 1e-3). */
#include "nn-graph.h"
#include "onnx.pb-c.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>

#define NODE_DIR "/usr/share/libonnx-testdata/data/node"

/* Every node test of every claimed op that the engine supports. Cases left
 * out use what no CNN here needs: 3-D pooling, cubic or crop-and-resize
 * interpolation, integer element types, training-mode outputs (Shape, Cast
 * and friends only produce integers, which the engine folds at load time:
 * test-nn-load covers them). */
static const char *cases[] = {
  "test_relu", "test_leakyrelu", "test_leakyrelu_default", "test_leakyrelu_example",
  "test_prelu_broadcast", "test_prelu_example",
  "test_clip", "test_clip_default_inbounds", "test_clip_default_max", "test_clip_default_min",
  "test_clip_example", "test_clip_inbounds", "test_clip_outbounds", "test_clip_splitbounds",
  "test_sigmoid", "test_sigmoid_example", "test_tanh", "test_tanh_example",
  "test_hardsigmoid", "test_hardsigmoid_default", "test_hardsigmoid_example",
  "test_hardswish", "test_hardswish_expanded",
  "test_softmax_axis_0", "test_softmax_axis_1", "test_softmax_axis_2",
  "test_softmax_default_axis", "test_softmax_example", "test_softmax_large_number",
  "test_softmax_negative_axis",
  "test_add", "test_add_bcast", "test_sub", "test_sub_bcast", "test_sub_example",
  "test_mul", "test_mul_bcast", "test_mul_example", "test_div", "test_div_bcast",
  "test_div_example", "test_max_example", "test_max_float32", "test_max_one_input",
  "test_max_two_inputs", "test_min_example", "test_min_float32", "test_min_one_input",
  "test_min_two_inputs",
  "test_conv_with_autopad_same", "test_conv_with_strides_and_asymmetric_padding",
  "test_conv_with_strides_no_padding", "test_conv_with_strides_padding",
  "test_convtranspose", "test_convtranspose_1d", "test_convtranspose_autopad_same",
  "test_convtranspose_dilations", "test_convtranspose_kernel_shape",
  "test_convtranspose_output_shape", "test_convtranspose_pad", "test_convtranspose_pads",
  "test_convtranspose_with_kernel",
  "test_gemm_all_attributes", "test_gemm_alpha", "test_gemm_beta",
  "test_gemm_default_matrix_bias", "test_gemm_default_no_bias",
  "test_gemm_default_scalar_bias", "test_gemm_default_single_elem_vector_bias",
  "test_gemm_default_vector_bias", "test_gemm_default_zero_bias", "test_gemm_transposeA",
  "test_gemm_transposeB", "test_matmul_2d", "test_matmul_3d", "test_matmul_4d",
  "test_batchnorm_epsilon", "test_batchnorm_example",
  "test_maxpool_1d_default", "test_maxpool_2d_ceil", "test_maxpool_2d_default",
  "test_maxpool_2d_dilations", "test_maxpool_2d_pads", "test_maxpool_2d_precomputed_pads",
  "test_maxpool_2d_precomputed_same_upper", "test_maxpool_2d_precomputed_strides",
  "test_maxpool_2d_same_lower", "test_maxpool_2d_same_upper", "test_maxpool_2d_strides",
  "test_averagepool_1d_default", "test_averagepool_2d_ceil", "test_averagepool_2d_default",
  "test_averagepool_2d_pads", "test_averagepool_2d_pads_count_include_pad",
  "test_averagepool_2d_precomputed_pads",
  "test_averagepool_2d_precomputed_pads_count_include_pad",
  "test_averagepool_2d_precomputed_same_upper", "test_averagepool_2d_precomputed_strides",
  "test_averagepool_2d_same_lower", "test_averagepool_2d_same_upper",
  "test_averagepool_2d_strides",
  "test_globalaveragepool", "test_globalaveragepool_precomputed", "test_globalmaxpool",
  "test_globalmaxpool_precomputed",
  "test_reduce_mean_default_axes_keepdims_example", "test_reduce_mean_default_axes_keepdims_random",
  "test_reduce_mean_do_not_keepdims_example", "test_reduce_mean_do_not_keepdims_random",
  "test_reduce_mean_keepdims_example", "test_reduce_mean_keepdims_random",
  "test_reduce_mean_negative_axes_keepdims_example",
  "test_reduce_mean_negative_axes_keepdims_random",
  "test_reduce_sum_default_axes_keepdims_example", "test_reduce_sum_default_axes_keepdims_random",
  "test_reduce_sum_do_not_keepdims_example", "test_reduce_sum_do_not_keepdims_random",
  "test_reduce_sum_empty_axes_input_noop_example", "test_reduce_sum_empty_axes_input_noop_random",
  "test_reduce_sum_keepdims_example", "test_reduce_sum_keepdims_random",
  "test_reduce_sum_negative_axes_keepdims_example",
  "test_reduce_sum_negative_axes_keepdims_random",
  "test_flatten_axis0", "test_flatten_axis1", "test_flatten_axis2", "test_flatten_axis3",
  "test_flatten_default_axis", "test_flatten_negative_axis1", "test_flatten_negative_axis2",
  "test_flatten_negative_axis3", "test_flatten_negative_axis4",
  "test_reshape_allowzero_reordered", "test_reshape_extended_dims", "test_reshape_negative_dim",
  "test_reshape_negative_extended_dims", "test_reshape_one_dim", "test_reshape_reduced_dims",
  "test_reshape_reordered_all_dims", "test_reshape_reordered_last_dims",
  "test_reshape_zero_and_negative_dim", "test_reshape_zero_dim",
  "test_transpose_all_permutations_0", "test_transpose_all_permutations_1",
  "test_transpose_all_permutations_2", "test_transpose_all_permutations_3",
  "test_transpose_all_permutations_4", "test_transpose_all_permutations_5",
  "test_transpose_default",
  "test_concat_1d_axis_0", "test_concat_1d_axis_negative_1", "test_concat_2d_axis_0",
  "test_concat_2d_axis_1", "test_concat_2d_axis_negative_1", "test_concat_2d_axis_negative_2",
  "test_concat_3d_axis_0", "test_concat_3d_axis_1", "test_concat_3d_axis_2",
  "test_concat_3d_axis_negative_1", "test_concat_3d_axis_negative_2",
  "test_concat_3d_axis_negative_3",
  "test_split_equal_parts_1d", "test_split_equal_parts_2d", "test_split_equal_parts_default_axis",
  "test_split_variable_parts_1d", "test_split_variable_parts_2d",
  "test_split_variable_parts_default_axis", "test_split_zero_size_splits",
  "test_slice", "test_slice_default_axes", "test_slice_default_steps",
  "test_slice_end_out_of_bounds", "test_slice_neg", "test_slice_neg_steps",
  "test_slice_negative_axes", "test_slice_start_out_of_bounds",
  "test_squeeze", "test_squeeze_negative_axes",
  "test_unsqueeze_axis_0", "test_unsqueeze_axis_1", "test_unsqueeze_axis_2",
  "test_unsqueeze_axis_3", "test_unsqueeze_negative_axes", "test_unsqueeze_three_axes",
  "test_unsqueeze_two_axes", "test_unsqueeze_unsorted_axes",
  "test_constant_pad",
  "test_resize_downsample_scales_linear", "test_resize_downsample_scales_nearest", "test_resize_downsample_sizes_linear_pytorch_half_pixel",
  "test_resize_downsample_sizes_nearest", "test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn",
  "test_resize_downsample_scales_linear_align_corners",
  "test_resize_upsample_scales_linear", "test_resize_upsample_scales_linear_align_corners",
  "test_resize_upsample_scales_nearest", "test_resize_upsample_sizes_nearest",
  "test_resize_upsample_sizes_nearest_ceil_half_pixel",
  "test_resize_upsample_sizes_nearest_floor_align_corners",
  "test_resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric",
  "test_upsample_nearest",
  "test_identity", "test_dropout_default", "test_dropout_default_old",
  "test_dropout_default_ratio", "test_dropout_random_old",
  "test_constant", "test_constantofshape_float_ones",
  "test_exp", "test_exp_example", "test_log", "test_log_example", "test_sqrt",
  "test_sqrt_example", "test_neg", "test_neg_example", "test_abs", "test_reciprocal",
  "test_reciprocal_example", "test_erf", "test_elu", "test_elu_default", "test_elu_example",
  "test_softplus", "test_softplus_example", "test_pow", "test_pow_bcast_array",
  "test_pow_bcast_scalar", "test_pow_example",
  "test_reduce_l2_default_axes_keepdims_example", "test_reduce_l2_default_axes_keepdims_random",
  "test_reduce_l2_do_not_keepdims_example", "test_reduce_l2_do_not_keepdims_random",
  "test_reduce_l2_keep_dims_example", "test_reduce_l2_keep_dims_random",
  "test_reduce_l2_negative_axes_keep_dims_example",
  "test_reduce_l2_negative_axes_keep_dims_random",
  "test_gather_0", "test_gather_1", "test_gather_2d_indices", "test_gather_negative_indices",
  NULL,
};

static guint8 *
read_all (const char *path, gsize *len)
{
  char *buf = NULL;
  if (!g_file_get_contents (path, &buf, len, NULL))
    return NULL;
  return (guint8 *) buf;
}

/* Which graph inputs feed an operand that must be a constant. */
static gboolean
wants_const (const Onnx__GraphProto *g, const char *name)
{
  for (size_t i = 0; i < g->n_node; i++)
    {
      const tl_op *op = tl_op_lookup (g->node[i]->op_type);
      for (size_t k = 0; op && k < g->node[i]->n_input; k++)
        if (strcmp (g->node[i]->input[k], name) == 0 && (op->const_inputs & (1u << k)))
          return TRUE;
    }
  return FALSE;
}

typedef struct {
  tl_dtype dt;
  int ndim;
  int64_t shape[TL_MAX_DIMS];
  void *data;
} pb_tensor;

static gboolean
read_pb (const char *path, pb_tensor *t)
{
  gsize len;
  guint8 *buf = read_all (path, &len);
  if (!buf)
    return FALSE;
  GError *error = NULL;
  t->data = tl_onnx_tensor_decode (buf, len, path, &t->dt, &t->ndim, t->shape, &error);
  g_assert_no_error (error);
  g_free (buf);
  return TRUE;
}

static void
run_case (gconstpointer data)
{
  const char *name = data;
  char *dir = g_build_filename (NODE_DIR, name, NULL);
  char *mpath = g_build_filename (dir, "model.onnx", NULL);
  gsize len;
  guint8 *model = read_all (mpath, &len);
  if (!model)
    {
      g_test_skip ("libonnx-testdata is not installed");
      g_free (mpath);
      g_free (dir);
      return;
    }
  Onnx__ModelProto *m = onnx__model_proto__unpack (NULL, len, model);
  g_assert_nonnull (m);
  const Onnx__GraphProto *g = m->graph;

  /* graph inputs that are not initializers, in order, with their data */
  GPtrArray *inits = g_ptr_array_new ();
  for (size_t i = 0; i < g->n_initializer; i++)
    g_ptr_array_add (inits, g->initializer[i]->name);
  tl_net_binding bind[16];
  pb_tensor ins[16];
  int n_in = 0, n_rt = 0;
  const tl_tensor *rt[16];
  tl_tensor *rt_own[16];
  for (size_t i = 0; i < g->n_input; i++)
    {
      const char *nm = g->input[i]->name;
      gboolean is_init = FALSE;
      for (guint k = 0; k < inits->len; k++)
        is_init |= strcmp (g_ptr_array_index (inits, k), nm) == 0;
      if (is_init)
        continue;
      char *f = g_strdup_printf ("%s/test_data_set_0/input_%d.pb", dir, n_in);
      g_assert_true (read_pb (f, &ins[n_in]));
      g_free (f);
      pb_tensor *t = &ins[n_in];
      bind[n_in] = (tl_net_binding) { nm, t->dt, t->ndim, { 0 }, NULL };
      memcpy (bind[n_in].shape, t->shape, sizeof t->shape);
      if (t->dt != TL_DT_FLOAT || wants_const (g, nm))
        bind[n_in].data = t->data;
      else
        {
          rt_own[n_rt] = tl_tensor_view (t->data, t->ndim, t->shape);
          rt[n_rt] = rt_own[n_rt];
          n_rt++;
        }
      n_in++;
    }
  GError *error = NULL;
  tl_net *net = tl_net_load_full (model, len, name, bind, n_in, &error);
  g_assert_no_error (error);
  tl_net_result *r = tl_net_run (net, rt, n_rt, NULL, 0, 0, &error);
  g_assert_no_error (error);
  for (int o = 0; o < tl_net_result_n_outputs (r); o++)
    {
      char *f = g_strdup_printf ("%s/test_data_set_0/output_%d.pb", dir, o);
      pb_tensor want;
      g_assert_true (read_pb (f, &want));
      const tl_tensor *got = tl_net_result_output (r, o);
      g_assert_cmpint (got->ndim, ==, want.ndim);
      for (int d = 0; d < want.ndim; d++)
        g_assert_cmpint (got->shape[d], ==, want.shape[d]);
      int64_t n = tl_tensor_numel (got);
      for (int64_t i = 0; i < n; i++)
        {
          double w = want.dt == TL_DT_FLOAT ? ((float *) want.data)[i]
                                            : (double) ((int64_t *) want.data)[i];
          double v = got->data[i];
          if (!(fabs (v - w) <= 1e-5 + 1e-4 * fabs (w)))
            g_error ("%s output %d [%" G_GINT64_FORMAT "]: got %.9g, want %.9g", name, o, i, v, w);
        }
      g_free (want.data);
      g_free (f);
    }
  tl_net_result_free (r);
  tl_net_free (net);
  for (int i = 0; i < n_rt; i++)
    tl_tensor_free (rt_own[i]);
  for (int i = 0; i < n_in; i++)
    g_free (ins[i].data);
  g_ptr_array_unref (inits);
  onnx__model_proto__free_unpacked (m, NULL);
  g_free (model);
  g_free (mpath);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (int i = 0; cases[i]; i++)
    {
      char *path = g_strdup_printf ("/nn/onnx-node/%s", cases[i]);
      g_test_add_data_func (path, cases[i], run_case);
      g_free (path);
    }
  return g_test_run ();
}
