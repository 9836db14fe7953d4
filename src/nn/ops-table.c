/* The op registry: every ONNX operator the engine knows, by name. */
#include "nn-graph.h"

#include <string.h>

extern const tl_op tl_ops_elementwise[];
extern const tl_op tl_ops_shape[];
extern const tl_op tl_ops_reduce[];
extern const tl_op tl_ops_heavy[];

const tl_op *
tl_op_lookup (const char *op_type)
{
  const tl_op *tables[] = { tl_ops_elementwise, tl_ops_shape, tl_ops_reduce, tl_ops_heavy };
  for (size_t t = 0; t < G_N_ELEMENTS (tables); t++)
    for (const tl_op *op = tables[t]; op->name; op++)
      if (strcmp (op->name, op_type) == 0)
        return op;
  return NULL;
}
