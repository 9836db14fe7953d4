/* The GEGL side of the plug-in: finding the tensorlens ops, setting their
 * properties from text (as the gegl command line does), running an op from
 * one buffer into another (input may be NULL for a source op), and catching
 * the op's failure warning. Nothing
 * here uses libgimp, so a GIMP 3 port reuses it as is. */
#pragma once
#include <gegl.h>

/* Makes sure op (e.g. "tensorlens:saliency") is registered. If GEGL_PATH
 * is unset, loads the ops installed next to the plug-in binary self
 * (<dir of self>/gegl-ops) or
 * in the configured op directory; never both copies (toolchain.md P2). */
gboolean tlp_ensure_op (const char *op, const char *self, GError **error);

/* Sets one property of node (running op) from text: enums by nick, numbers
 * range-checked, booleans as true/false/yes/no/on/off/1/0. */
gboolean tlp_set_property (GeglNode *node, const char *op, const char *key, const char *value,
                           GError **error);

/* "key=value key=value ..." (whitespace-separated) through tlp_set_property.
 * Keys in reserved (NULL-terminated) are refused: they are arguments of
 * their own. */
gboolean tlp_set_options (GeglNode *node, const char *op, const char *options,
                          const char *const *reserved, GError **error);

/* Runs input -> node -> output over output's extent; node must already be
 * a child of graph with its properties set. A g_warning from the op (its
 * way of failing: it passes the input through) becomes an error. progress
 * (may be NULL) receives the op's fraction in [0,1]. */
gboolean tlp_process (GeglNode *graph, GeglNode *node, GeglBuffer *input, GeglBuffer *output,
                      void (*progress) (gdouble fraction, gpointer data), gpointer data,
                      GError **error);

/* Between begin and end, warnings of the default log domain (how the ops
 * report failure) are collected; end returns FALSE with the first one as
 * the error. */
typedef struct tlp_catch tlp_catch;
tlp_catch *tlp_catch_begin (void);
gboolean   tlp_catch_end (tlp_catch *c, GError **error);
