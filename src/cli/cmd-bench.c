/* tensorlens bench MODEL: wall time of forward passes on a random input
 * (fixed seed). The first line is machine-readable key=value pairs. */
#include "commands.h"
#include "tl-net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static int
cmp_node_time (const void *a, const void *b)
{
  double x = ((const tl_net_node_time *) a)->usec, y = ((const tl_net_node_time *) b)->usec;
  return x > y ? -1 : x < y;
}

/* Op types by total time, then the slowest nodes: the per-node times are
 * wall times around each node, so they add up to slightly less than a run. */
static void
print_profile (const tl_net *net, int top)
{
  const int n_nodes = tl_net_n_nodes (net);
  tl_net_node_time *t = g_new0 (tl_net_node_time, MAX (n_nodes, 1));
  const int n = tl_net_profile (net, t, n_nodes);
  double total = 0;
  for (int i = 0; i < n; i++)
    total += t[i].usec;
  g_autoptr (GHashTable) by_op = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  for (int i = 0; i < n; i++)
    {
      double *acc = g_hash_table_lookup (by_op, t[i].op);
      if (!acc)
        g_hash_table_insert (by_op, (gpointer) t[i].op, acc = g_new0 (double, 2));
      acc[0] += t[i].usec;
      acc[1] += 1;
    }
  tl_net_node_time *ops = g_new0 (tl_net_node_time, MAX (g_hash_table_size (by_op), 1));
  int n_ops = 0;
  GHashTableIter it;
  gpointer key, val;
  g_hash_table_iter_init (&it, by_op);
  while (g_hash_table_iter_next (&it, &key, &val))
    ops[n_ops++] = (tl_net_node_time) { .op = key, .usec = ((double *) val)[0],
                                        .node = NULL, .output = NULL };
  qsort (ops, n_ops, sizeof *ops, cmp_node_time);
  printf ("\n%-22s %6s %10s %6s\n", "op type", "nodes", "ms/run", "%");
  for (int i = 0; i < n_ops; i++)
    printf ("%-22s %6.0f %10.3f %6.1f\n", ops[i].op,
            ((double *) g_hash_table_lookup (by_op, ops[i].op))[1], ops[i].usec / 1000.0,
            total > 0 ? 100.0 * ops[i].usec / total : 0.0);
  printf ("%-22s %6d %10.3f\n", "(sum over nodes)", n, total / 1000.0);
  qsort (t, n, sizeof *t, cmp_node_time);
  printf ("\n%10s %6s  %-22s %s\n", "ms/run", "%", "op", "slowest nodes, by output tensor");
  for (int i = 0; i < MIN (top, n); i++)
    printf ("%10.3f %6.1f  %-22s %s\n", t[i].usec / 1000.0,
            total > 0 ? 100.0 * t[i].usec / total : 0.0, t[i].op, t[i].output);
  g_free (ops);
  g_free (t);
}

int
tl_cmd_bench (int argc, char **argv)
{
  int runs = 20, warmup = 2, threads = 0, top = 0;
  g_auto (GStrv) shapes = NULL;
  GOptionEntry entries[] = {
    { "shape", 's', 0, G_OPTION_ARG_STRING_ARRAY, &shapes,
      "Input shape like 1x3x224x224, for models with symbolic dims (repeat per input)", "SHAPE" },
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Timed runs (default 20)", "N" },
    { "warmup", 'w', 0, G_OPTION_ARG_INT, &warmup, "Untimed runs first (default 2)", "W" },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &threads,
      "Threads (default: $TENSORLENS_THREADS or the number of CPUs)", "T" },
    { "profile", 'p', 0, G_OPTION_ARG_INT, &top,
      "Also print time per op type and the N slowest nodes (mean per run)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL.onnx");
  g_option_context_set_summary (ctx, "Time forward passes of a model (batch 1 unless --shape).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!tl_cli_parse (ctx, &argc, &argv))
    return 2;
  if (argc != 2 || runs < 1 || runs > 100000 || warmup < 0 || threads < 0 || top < 0)
    {
      fprintf (stderr, "tensorlens bench: need MODEL, --runs >= 1, --warmup >= 0 (see --help)\n");
      return 2;
    }
  int nthreads = tl_nn_set_threads (threads);
  GError *error = NULL;
  tl_net *net = shapes ? tl_net_load_with_shape_strings (argv[1], (int) g_strv_length (shapes),
                                                   (const char *const *) shapes, &error)
                 : tl_net_load (argv[1], &error);
  if (!net)
    return tl_cli_fail (error);
  int ni = tl_net_n_inputs (net);
  tl_tensor **in = g_new0 (tl_tensor *, MAX (ni, 1));
  GRand *rand = g_rand_new_with_seed (1);
  for (int i = 0; i < ni; i++)
    {
      const tl_net_tensor_info *t = tl_net_input (net, i);
      in[i] = tl_tensor_new (t->ndim, t->shape, &error);
      if (!in[i])
        return tl_cli_fail (error);
      for (int64_t k = 0; k < tl_tensor_numel (in[i]); k++)
        in[i]->data[k] = (float) g_rand_double (rand);
    }
  g_rand_free (rand);
  double *ms = g_new (double, runs);
  int rc = 0;
  for (int i = 0; i < warmup + runs && rc == 0; i++)
    {
      if (top > 0 && i == warmup)
        tl_net_set_profile (net, TRUE); /* timed runs only */
      gint64 t0 = g_get_monotonic_time ();
      tl_net_result *r = tl_net_run (net, (const tl_tensor *const *) in, ni, NULL, 0, 0, &error);
      gint64 t1 = g_get_monotonic_time ();
      if (!r)
        rc = tl_cli_fail (error);
      tl_net_result_free (r);
      if (i >= warmup)
        ms[i - warmup] = (double) (t1 - t0) / 1000.0;
    }
  if (rc == 0)
    {
      double sum = 0;
      for (int i = 0; i < runs; i++)
        sum += ms[i];
      qsort (ms, runs, sizeof (double), cmp_double);
      double median = runs % 2 ? ms[runs / 2] : 0.5 * (ms[runs / 2 - 1] + ms[runs / 2]);
      printf ("median_ms=%.3f min_ms=%.3f mean_ms=%.3f max_ms=%.3f runs=%d threads=%d\n",
              median, ms[0], sum / runs, ms[runs - 1], runs, nthreads);
      printf ("model: %s, %d nodes, peak activation memory %.1f MiB\n", argv[1],
              tl_net_n_nodes (net), (double) tl_net_peak_memory (net, NULL, 0) / 1048576.0);
      if (top > 0)
        print_profile (net, top);
    }
  for (int i = 0; i < ni; i++)
    tl_tensor_free (in[i]);
  g_free (in);
  g_free (ms);
  tl_net_free (net);
  return rc;
}
