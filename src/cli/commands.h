/* Every subcommand of the `tensorlens` tool: one file each (cmd-NAME.c),
 * listed in the table in main.c. A command exists only once it works. */
#pragma once
#include <glib.h>

typedef struct {
  const char *name;
  const char *summary;
  int (*run) (int argc, char **argv);  /* argv[0] is the command name */
} tl_command;

/* Parses argv with ctx; on failure prints the error and returns FALSE. */
gboolean tl_cli_parse (GOptionContext *ctx, int *argc, char ***argv);
/* Prints "tensorlens: <message>" to stderr and returns the exit status 1. */
int      tl_cli_fail (GError *error);
int tl_cmd_render (int argc, char **argv);

int tl_cmd_saliency (int argc, char **argv);
int tl_cmd_sample (int argc, char **argv);
int tl_cmd_bench_saliency (int argc, char **argv);

int tl_cmd_eval_sampling (int argc, char **argv);
int tl_cmd_eval (int argc, char **argv);

int tl_cmd_info (int argc, char **argv);
int tl_cmd_run (int argc, char **argv);
int tl_cmd_bench (int argc, char **argv);
