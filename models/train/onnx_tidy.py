#!/usr/bin/python3
"""Post-process a torch.onnx.export file for a small engine:
Constant nodes and Identity-of-initializer nodes become initializers, and the
graph inputs/outputs get the shapes we know (e.g. a symbolic batch) (torch leaves names such as
'Sigmoidimage_dim_2'). The computation is unchanged.

    onnx_tidy.py FILE.onnx [OUTPUT=d0,d1,... ...]      (a dim may be a name, e.g. n)
"""
import sys

import onnx
from onnx import numpy_helper


def tidy(path, out_shapes=None):
    m = onnx.load(path)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    keep = []
    for node in g.node:
        if node.op_type == "Constant":
            t = onnx.helper.get_attribute_value(node.attribute[0])
            if node.attribute[0].name != "value":
                raise ValueError(f"{path}: Constant {node.output[0]} uses {node.attribute[0].name}")
            arr = numpy_helper.to_array(t)
            g.initializer.append(numpy_helper.from_array(arr, node.output[0]))
            inits[node.output[0]] = g.initializer[-1]
        elif node.op_type == "Identity" and node.input[0] in inits:
            arr = numpy_helper.to_array(inits[node.input[0]])
            g.initializer.append(numpy_helper.from_array(arr, node.output[0]))
            inits[node.output[0]] = g.initializer[-1]
        else:
            keep.append(node)
    del g.node[:]
    g.node.extend(keep)
    if out_shapes:
        # Declared intermediate shapes may pin the batch to 1: let runtimes infer them.
        del g.value_info[:]
    for o in list(g.input) + list(g.output):
        if out_shapes and o.name in out_shapes:
            dims = o.type.tensor_type.shape.dim
            del dims[:]
            for d in out_shapes[o.name]:
                dims.add()
                if isinstance(d, int):
                    dims[-1].dim_value = d
                else:
                    dims[-1].dim_param = d
    onnx.checker.check_model(m)
    onnx.save(m, path)


if __name__ == "__main__":
    shapes = {}
    for arg in sys.argv[2:]:
        name, dims = arg.split("=")
        shapes[name] = [int(d) if d.isdigit() else d for d in dims.split(",")]
    tidy(sys.argv[1], shapes)
