/* libFuzzer harness for the ONNX loader: any bytes must give either a net
 * or an error, never a crash, a leak or a large allocation. Built by
 * tests/nn/fuzz/build-fuzzer.sh (clang -fsanitize=fuzzer,address); the same
 * file, compiled with TL_FUZZ_REPLAY, replays the committed corpus in the
 * unit tests. */
#include "tl-net.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
run_small (tl_net *net)
{
  int n = tl_net_n_inputs (net);
  tl_tensor *in[8] = { NULL };
  if (n > 8)
    return;
  for (int i = 0; i < n; i++)
    {
      const tl_net_tensor_info *t = tl_net_input (net, i);
      if (tl_shape_numel (t->ndim, t->shape) > (1 << 20))
        goto out;
      in[i] = tl_tensor_new (t->ndim, t->shape, NULL);
      if (!in[i])
        goto out;
      for (int64_t k = 0; k < tl_tensor_numel (in[i]); k++)
        in[i]->data[k] = (float) ((k * 7919) % 13) - 6.0f;
    }
  GError *error = NULL;
  const char *tap = n > 0 ? tl_net_input (net, 0)->name : NULL;
  tl_net_result *r = tl_net_run (net, (const tl_tensor *const *) in, n, &tap, tap ? 1 : 0,
                                 TL_NET_RUN_BACKWARD, &error);
  if ((r == NULL) == (error == NULL))
    __builtin_trap ();
  g_clear_error (&error);
  if (r && tap)
    {
      tl_tensor *g = tl_net_result_grad_logit (r, tap, NULL, 0, &error);
      if ((g == NULL) == (error == NULL))
        __builtin_trap ();
      tl_tensor_free (g);
      g_clear_error (&error);
    }
  tl_net_result_free (r);
  /* and a plain run, where nothing is kept: the planner then fuses what it
   * can (conv pairs) */
  r = tl_net_run (net, (const tl_tensor *const *) in, n, NULL, 0, 0, &error);
  if ((r == NULL) == (error == NULL))
    __builtin_trap ();
  g_clear_error (&error);
  tl_net_result_free (r);
out:
  for (int i = 0; i < n; i++)
    tl_tensor_free (in[i]);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  tl_net *net = tl_net_load_from_memory (data, size, "fuzz", &error);
  if ((net == NULL) == (error == NULL))
    __builtin_trap ();  /* exactly one of the two */
  if (net)
    {
      /* listing and planning must hold on whatever loaded */
      for (int i = 0; i < tl_net_n_tensors (net); i++)
        (void) tl_net_tensor (net, i)->name;
      (void) tl_net_default_target_layer (net);
      /* small enough nets also run forward and backward: runtime errors
       * must be clean too */
      if (tl_net_peak_memory (net, NULL, 0) < ((size_t) 64 << 20))
        run_small (net);
      tl_net_free (net);
    }
  g_clear_error (&error);
  return 0;
}

#ifdef TL_FUZZ_REPLAY
#include "tl-test.h"

static void
replay_one (gconstpointer data)
{
  gchar *buf;
  gsize len;
  g_assert_true (g_file_get_contents (data, &buf, &len, NULL));
  LLVMFuzzerTestOneInput ((const uint8_t *) buf, len);
  g_free (buf);
}

/* g_ptr_array_sort passes pointers to the elements, not the elements */
static int
cmp_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  char *dir = tl_test_data ("nn/fuzz-corpus");
  GDir *d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (files, g_build_filename (dir, name, NULL));
  g_dir_close (d);
  g_ptr_array_sort (files, cmp_paths);
  /* one case per file, so a failure names it */
  for (guint i = 0; i < files->len; i++)
    {
      char *base = g_path_get_basename (g_ptr_array_index (files, i));
      char *p = g_strdup_printf ("/nn/fuzz-corpus/%s", base);
      g_test_add_data_func (p, g_ptr_array_index (files, i), replay_one);
      g_free (p);
      g_free (base);
    }
  int rc = g_test_run ();
  g_ptr_array_unref (files);
  g_free (dir);
  return rc;
}
#endif
