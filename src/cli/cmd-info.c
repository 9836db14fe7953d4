/* tensorlens info MODEL: what a model takes, gives and computes on the way,
 * the layer saliency explains by default, and the memory a run needs. */
#include "commands.h"
#include "card-defaults.h"
#include "model.h"
#include "tl-net.h"

#include <stdio.h>

static char *
mb (size_t bytes)
{
  return g_strdup_printf ("%.1f MiB", (double) bytes / (1024.0 * 1024.0));
}

static const char *const score_words[] = { "none", "logit of", "cosine of", "heat-map sum of" };

/* What the library will use for this file: its sidecar card, or the
 * defaults read from the graph (card-defaults.h). */
static void
print_card (const char *onnx, const tl_net *net)
{
  g_autofree char *sidecar = tl_model_sidecar (onnx);
  g_autofree char *stem = tl_card_pair_stem (onnx);
  GError *error = NULL;
  g_autoptr (tl_card) k = sidecar ? tl_card_load (sidecar, &error)
                          : stem ? tl_card_defaults_for_model (onnx, &error)
                                 : tl_card_defaults_for_net (onnx, net, &error);
  if (sidecar)
    printf ("card: %s\n", sidecar);
  else
    printf ("card: none; defaults read from the graph\n");
  if (!k)
    {
      printf ("  (unusable: %s)\n", error->message);
      g_error_free (error);
      return;
    }
  printf ("  task: %s\n", tl_task_name (k->task));
  printf ("  input: %s 1x%dx%dx%d %s, (pixel in 0..255 * %g - mean) / std, mean",
          k->input_name, k->channels, k->height, k->width, k->color == TL_COLOR_GRAY ? "gray" : "rgb",
          k->scale);
  for (int c = 0; c < k->channels; c++)
    printf (" %g", k->mean[c]);
  printf (", std");
  for (int c = 0; c < k->channels; c++)
    printf (" %g", k->std[c]);
  printf ("\n");
  if (k->n_labels > 0)
    printf ("  labels: %d (%s .. %s)\n", k->n_labels, k->labels[0], k->labels[k->n_labels - 1]);
  if (k->target_layer)
    printf ("  target layer: %s\n", k->target_layer);
  if (k->score_kind != TL_SCORE_NONE)
    printf ("  score: %s %s\n", score_words[k->score_kind], k->score_tensor);
  if (k->task == TL_TASK_AUTOENCODER)
    printf ("  autoencoder: latent %d, decoder output %dx%dx%d in [%g, %g], latent bank %s\n",
            k->latent_dim, k->out_channels, k->out_height, k->out_width, k->out_min, k->out_max,
            k->latent_bank);
}

int
tl_cmd_info (int argc, char **argv)
{
  gboolean all = FALSE;
  g_auto (GStrv) shapes = NULL;
  GOptionEntry entries[] = {
    { "shape", 's', 0, G_OPTION_ARG_STRING_ARRAY, &shapes,
      "Input shape like 1x3x224x224, for models with symbolic dims (repeat per input)", "SHAPE" },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all,
      "List every tensor, not only the 4-D feature maps", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL.onnx");
  g_option_context_set_summary (ctx, "Show a model's inputs, outputs, layers with their "
                                "shapes, default target layer, peak memory, and the card the library uses for it "
                                "(its sidecar JSON, or the defaults read from the graph).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!tl_cli_parse (ctx, &argc, &argv))
    return 2;
  if (argc != 2)
    {
      fprintf (stderr, "tensorlens info: expected one MODEL argument (see --help)\n");
      return 2;
    }
  GError *error = NULL;
  tl_net *net = shapes ? tl_net_load_with_shape_strings (argv[1], (int) g_strv_length (shapes),
                                                   (const char *const *) shapes, &error)
                 : tl_net_load (argv[1], &error);
  if (!net)
    return tl_cli_fail (error);
  char buf[160];
  g_autofree char *w = mb (tl_net_weight_bytes (net));
  printf ("model: %s\nopset: %d\nnodes: %d (after folding)\nweights: %s\n", argv[1],
          tl_net_opset (net), tl_net_n_nodes (net), w);
  printf ("inputs:\n");
  for (int i = 0; i < tl_net_n_inputs (net); i++)
    {
      const tl_net_tensor_info *t = tl_net_input (net, i);
      printf ("  %s  %s\n", t->name, tl_shape_str (t->ndim, t->shape, buf, sizeof buf));
    }
  printf ("outputs:\n");
  for (int i = 0; i < tl_net_n_outputs (net); i++)
    {
      const tl_net_tensor_info *t = tl_net_output (net, i);
      printf ("  %s  %s\n", t->name, tl_shape_str (t->ndim, t->shape, buf, sizeof buf));
    }
  printf (all ? "tensors (* = explainable 4-D feature map):\n"
              : "layers (explainable 4-D feature maps, in execution order):\n");
  for (int i = 0; i < tl_net_n_tensors (net); i++)
    {
      const tl_net_tensor_info *t = tl_net_tensor (net, i);
      if (t->kind == TL_NET_TENSOR_INPUT || (!all && !t->explainable))
        continue;
      printf ("  %s%s  %s  %s\n", all ? (t->explainable ? "* " : "  ") : "", t->name,
              t->op ? t->op : "", tl_shape_str (t->ndim, t->shape, buf, sizeof buf));
    }
  const char *def = tl_net_default_target_layer (net);
  g_autofree char *peak = mb (tl_net_peak_memory (net, &def, def ? 1 : 0));
  printf ("default target layer: %s\n", def ? def : "(none)");
  printf ("peak memory: %s (activations of one run, the default target layer kept)\n", peak);
  print_card (argv[1], net);
  tl_net_free (net);
  return 0;
}
