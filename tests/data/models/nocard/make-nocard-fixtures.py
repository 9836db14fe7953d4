#!/usr/bin/python3
"""Small ONNX graphs for the no-sidecar defaults (src/card-defaults.c): one whose
defaults are guessable (an embedding: 4-D output), and the shapes the defaults must
refuse with a clear error. Fixed weights (seeded), no card next to any of them.
Run from anywhere: /usr/bin/python3 make-nocard-fixtures.py"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261126)
f32 = TensorProto.FLOAT


def save(name, nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info(n, f32, s) for n, s in inputs],
                          [helper.make_tensor_value_info(n, f32, s) for n, s in outputs],
                          [numpy_helper.from_array(a, n) for n, a in inits])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="tensorlens")
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(here, name + ".onnx"))


w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32) * 0.3
b = rng.standard_normal(4).astype(np.float32) * 0.1
conv = [helper.make_node("Conv", ["image", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["features"])]
# 4-D output: not [N, K] scores, so the defaults call it an embedding (cosine score)
save("emb", conv, [("image", ["N", 3, 8, 8])], [("features", ["N", 4, 8, 8])], [("w", w), ("b", b)])
# NHWC input (a TF export): refused with a hint to convert
save("nhwc", [helper.make_node("Relu", ["image"], ["y"])], [("image", [1, 8, 8, 3])], [("y", [1, 8, 8, 3])])
# 2 channels: neither gray nor RGB
save("twoch", [helper.make_node("Relu", ["image"], ["y"])], [("image", [1, 2, 8, 8])], [("y", [1, 2, 8, 8])])
# a vector input: no image at all
save("vector", [helper.make_node("Relu", ["x"], ["y"])], [("x", [1, 16])], [("y", [1, 16])])
# two inputs
save("twoin", [helper.make_node("Add", ["a", "b"], ["y"])], [("a", [1, 3, 8, 8]), ("b", [1, 3, 8, 8])],
     [("y", [1, 3, 8, 8])])
# pooled straight away: nothing 4-D with H, W > 1 to explain
save("nomap", [helper.make_node("GlobalAveragePool", ["image"], ["p"]),
               helper.make_node("Flatten", ["p"], ["y"])], [("image", [1, 3, 8, 8])], [("y", [1, 3])])
