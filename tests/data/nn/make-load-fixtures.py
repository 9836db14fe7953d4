#!/usr/bin/python3
"""Small hand-built ONNX files for the loader tests (tests/nn/test-nn-load.c):
good ones that exercise initializer encodings, Constant nodes, old opsets and
load-time folding of shape subgraphs, each with a NumPy reference output; and
bad ones, each broken in one way the loader must report clearly.
Usage: make-load-fixtures.py OUTDIR"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper as nh

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(3)


def save(name, graph, opset=13, raw=None):
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)], producer_name="tensorlens-tests")
    m.ir_version = 7
    data = m.SerializeToString() if raw is None else raw(m)
    with open(os.path.join(out, name + ".onnx"), "wb") as f:
        f.write(data)


def vi(name, shape, t=TP.FLOAT):
    return h.make_tensor_value_info(name, t, shape)


# ---- good: shape subgraph folded at load time (what torch emits for flatten/view)
x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
nodes = [
    h.make_node("Shape", ["x"], ["s"]),
    h.make_node("Constant", [], ["i0"], value=nh.from_array(np.array(0, np.int64))),
    h.make_node("Gather", ["s", "i0"], ["n"], axis=0),
    h.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
    h.make_node("Constant", [], ["m1"], value_ints=[-1]),
    h.make_node("Concat", ["n1", "m1"], ["shp"], axis=0),
    h.make_node("Cast", ["shp"], ["shpf"], to=TP.FLOAT),
    h.make_node("Cast", ["shpf"], ["shp2"], to=TP.INT64),
    h.make_node("Reshape", ["x", "shp2"], ["flat"]),
    h.make_node("ConstantOfShape", ["cs"], ["ones"], value=nh.from_array(np.array([0.5], np.float32))),
    h.make_node("Mul", ["flat", "ones"], ["y0"]),
    h.make_node("Constant", [], ["two"], value_float=2.0),
    h.make_node("Sub", ["n", "i0"], ["n_again"]),   # int64 arithmetic, folded
    h.make_node("Add", ["y0", "two"], ["y"]),
]
inits = [nh.from_array(np.array([0], np.int64), "ax0"),
         nh.from_array(np.array([1, 60], np.int64), "cs")]
save("good_shape_fold", h.make_graph(nodes, "g", [vi("x", [2, 3, 4, 5])], [vi("y", [2, 60])], inits))
np.save(os.path.join(out, "good_shape_fold_in.npy"), x)
np.save(os.path.join(out, "good_shape_fold_out.npy"), (x.reshape(2, -1) * 0.5 + 2).astype(np.float32))

# ---- good: initializers as float16 raw, int32 typed, float typed, double raw; Constant nodes
w16 = rng.standard_normal((3,)).astype(np.float16)
t16 = nh.from_array(w16, "w16")                       # raw_data float16
t32 = h.make_tensor("b32", TP.INT32, [3], [1, -2, 3])  # typed int32_data
tf = h.make_tensor("c_f", TP.FLOAT, [3], [0.25, 0.5, -1.0])  # typed float_data
td = nh.from_array(np.array([1.5, -0.5, 2.0]), "c_d")  # raw double
tf16t = h.make_tensor("h_typed", TP.FLOAT16, [3], [1.0, 2.0, -3.0])  # typed int32_data bits
nodes = [
    h.make_node("Cast", ["b32"], ["b32f"], to=TP.FLOAT),
    h.make_node("Mul", ["x", "w16"], ["a"]),
    h.make_node("Add", ["a", "b32f"], ["b"]),
    h.make_node("Mul", ["b", "c_f"], ["c"]),
    h.make_node("Sub", ["c", "c_d"], ["d"]),
    h.make_node("Mul", ["d", "h_typed"], ["e"]),
    h.make_node("Constant", [], ["k"], value_floats=[1.0, 2.0, 3.0]),
    h.make_node("Div", ["e", "k"], ["y"]),
]
x = rng.standard_normal((2, 3)).astype(np.float32)
save("good_encodings", h.make_graph(nodes, "g", [vi("x", [2, 3])], [vi("y", [2, 3])],
                                     [t16, t32, tf, td, tf16t]))
ref = ((x * w16.astype(np.float32) + np.array([1, -2, 3], np.float32)) * np.array([0.25, 0.5, -1.0], np.float32)
       - np.array([1.5, -0.5, 2.0], np.float32)) * np.array([1, 2, -3], np.float32) / np.array([1, 2, 3], np.float32)
np.save(os.path.join(out, "good_encodings_in.npy"), x)
np.save(os.path.join(out, "good_encodings_out.npy"), ref.astype(np.float32))

# ---- good: opset 7, where these ops take attributes instead of inputs
x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32) * 4
nodes = [
    h.make_node("Clip", ["x"], ["c"], min=-1.0, max=3.0),
    h.make_node("Pad", ["c"], ["p"], pads=[0, 0, 1, 0, 0, 0, 0, 2], value=0.5),
    h.make_node("Slice", ["p"], ["s"], starts=[1, 0], ends=[5, 5], axes=[2, 3]),
    h.make_node("Unsqueeze", ["s"], ["u"], axes=[0]),
    h.make_node("Squeeze", ["u"], ["q"], axes=[0]),
    h.make_node("Upsample", ["q"], ["up"], scales=[1.0, 1.0, 2.0, 1.0], mode="nearest"),
    h.make_node("Softmax", ["up"], ["sm"], axis=2),
    h.make_node("Reshape", ["sm", "shape"], ["y"]),
]
save("good_opset7", h.make_graph(nodes, "g", [vi("x", [1, 2, 4, 4])], [vi("y", [2, 40])],
                                  [nh.from_array(np.array([2, 40], np.int64), "shape")]), opset=7)
c = np.clip(x, -1, 3)
p = np.pad(c, ((0, 0), (0, 0), (1, 0), (0, 2)), constant_values=0.5)
s = p[:, :, 1:5, 0:5]
up = np.repeat(s, 2, axis=2)
f = up.reshape(1, -1)                       # opset < 13 Softmax flattens from axis on
f = up.reshape(1 * 2, -1)
e = np.exp(f - f.max(1, keepdims=True))
sm = (e / e.sum(1, keepdims=True)).reshape(up.shape)
np.save(os.path.join(out, "good_opset7_in.npy"), x)
np.save(os.path.join(out, "good_opset7_out.npy"), sm.reshape(2, 40).astype(np.float32))

# ---- good: the math ops (forward against NumPy here, gradient against
# finite differences in the test)
import math
x = rng.uniform(-1.5, 1.5, (2, 3, 4)).astype(np.float32)
nodes = [
    h.make_node("Elu", ["x"], ["e"], alpha=0.7),
    h.make_node("Softplus", ["e"], ["sp"]),
    h.make_node("Pow", ["sp", "p15"], ["pw"]),
    h.make_node("Erf", ["x"], ["er"]),
    h.make_node("Abs", ["x"], ["ab"]),
    h.make_node("Mul", ["er", "ab"], ["m1"]),
    h.make_node("Exp", ["x"], ["ex"]),
    h.make_node("Add", ["ex", "one"], ["ex1"]),
    h.make_node("Reciprocal", ["ex1"], ["rc"]),
    h.make_node("Neg", ["x"], ["ng"]),
    h.make_node("Exp", ["ng"], ["eng"]),
    h.make_node("Sqrt", ["eng"], ["sq"]),
    h.make_node("Add", ["ex", "two"], ["ex2"]),
    h.make_node("Log", ["ex2"], ["lg"]),
    h.make_node("Sum", ["pw", "m1", "sq", "lg"], ["s1"]),
    h.make_node("Sub", ["s1", "rc"], ["s2"]),
    h.make_node("ReduceL2", ["s2"], ["y"], axes=[2], keepdims=0),
]
inits = [nh.from_array(np.array(1.5, np.float32), "p15"), nh.from_array(np.array(1.0, np.float32), "one"),
         nh.from_array(np.array(2.0, np.float32), "two")]
save("good_math", h.make_graph(nodes, "g", [vi("x", [2, 3, 4])], [vi("y", [2, 3])], inits))
xd = x.astype(np.float64)
e = np.where(xd > 0, xd, 0.7 * np.expm1(xd))
sp = np.log1p(np.exp(e))
erf = np.vectorize(math.erf)(xd)
s2 = sp ** 1.5 + erf * np.abs(xd) + np.sqrt(np.exp(-xd)) + np.log(np.exp(xd) + 2) - 1 / (np.exp(xd) + 1)
np.save(os.path.join(out, "good_math_in.npy"), x)
np.save(os.path.join(out, "good_math_out.npy"), np.sqrt((s2 ** 2).sum(2)).astype(np.float32))

# ---- bad files: each must fail with a clear error and no crash
relu = [h.make_node("Relu", ["x"], ["y"], name="r")]
io = ([vi("x", [1, 4])], [vi("y", [1, 4])])


def bad(name, nodes, inits=(), opset=13, inputs=None, outputs=None, raw=None):
    save("bad_" + name, h.make_graph(nodes, "g", inputs or io[0], outputs or io[1], list(inits)),
         opset=opset, raw=raw)


big = TP(); big.name = "w"; big.data_type = TP.FLOAT; big.dims.extend([1000000000]); big.raw_data = b"\0" * 16
bad("tensor_larger_than_file", [h.make_node("Add", ["x", "w"], ["y"])], [big])
ovf = TP(); ovf.name = "w"; ovf.data_type = TP.FLOAT; ovf.dims.extend([1 << 40, 1 << 40]); ovf.raw_data = b"\0" * 4
bad("dims_overflow", [h.make_node("Add", ["x", "w"], ["y"])], [ovf])
neg = TP(); neg.name = "w"; neg.data_type = TP.FLOAT; neg.dims.extend([-4]); neg.raw_data = b"\0" * 16
bad("negative_dim", [h.make_node("Add", ["x", "w"], ["y"])], [neg])
short = h.make_tensor("w", TP.FLOAT, [4], [1.0, 2.0, 3.0, 4.0]); del short.float_data[3:]
bad("typed_count", [h.make_node("Add", ["x", "w"], ["y"])], [short])
ext = TP(); ext.name = "w"; ext.data_type = TP.FLOAT; ext.dims.extend([4]); ext.data_location = TP.EXTERNAL
e1 = ext.external_data.add(); e1.key = "location"; e1.value = "/etc/passwd"
bad("external_data", [h.make_node("Add", ["x", "w"], ["y"])], [ext])
strt = h.make_tensor("w", TP.STRING, [1], [b"hi"])
bad("string_tensor", [h.make_node("Add", ["x", "w"], ["y"])], [strt])
bad("dangling_input", [h.make_node("Add", ["x", "nope"], ["y"], name="adder")])
bad("cycle", [h.make_node("Add", ["x", "b"], ["a"], name="n1"), h.make_node("Relu", ["a"], ["b"], name="n2"),
              h.make_node("Relu", ["a"], ["y"], name="n3")])
bad("unsupported_op", [h.make_node("Einsum", ["x", "x"], ["y"], name="my_einsum", equation="ij,ij->ij")])
bad("opset_19", relu, opset=19)
bad("unknown_output", relu, outputs=[vi("zzz", [1, 4])])
bad("duplicate_output", [h.make_node("Relu", ["x"], ["y"], name="a"), h.make_node("Relu", ["x"], ["y"], name="b")])
bad("reshape_mismatch", [h.make_node("Reshape", ["x", "s"], ["y"], name="rs")],
    [nh.from_array(np.array([3, 3], np.int64), "s")])
bad("conv_channels", [h.make_node("Conv", ["x", "w"], ["y"], name="cv")],
    [nh.from_array(np.zeros((2, 5, 3, 3), np.float32), "w")],
    inputs=[vi("x", [1, 3, 8, 8])], outputs=[vi("y", [1, 2, 6, 6])])
bad("huge_constant_of_shape", [h.make_node("ConstantOfShape", ["s"], ["z"], name="cos"),
                               h.make_node("Add", ["x", "z"], ["y"])],
    [nh.from_array(np.array([1 << 20, 1 << 20], np.int64), "s")])
bad("gather_out_of_range", [h.make_node("Gather", ["x", "i"], ["y"], name="g", axis=1)],
    [nh.from_array(np.array([7], np.int64), "i")])
bad("symbolic_dim", relu, inputs=[h.make_tensor_value_info("x", TP.FLOAT, [1, "width"])])
bad("int_input", relu, inputs=[vi("x", [1, 4], TP.INT64)])
bad("broadcast", [h.make_node("Add", ["x", "w"], ["y"], name="add")],
    [nh.from_array(np.zeros((3,), np.float32), "w")])
bad("training_bn", [h.make_node("BatchNormalization", ["x", "s", "s", "s", "s"], ["y"], name="bn",
                                training_mode=1)],
    [nh.from_array(np.ones((4,), np.float32), "s")], opset=14)
bad("no_graph", relu, raw=lambda m: (m.ClearField("graph"), m.SerializeToString())[1])
good = h.make_model(h.make_graph(relu, "g", *io), opset_imports=[h.make_opsetid("", 13)])
data = good.SerializeToString()
with open(os.path.join(out, "bad_truncated.onnx"), "wb") as f:
    f.write(data[: len(data) // 2])
with open(os.path.join(out, "bad_garbage.onnx"), "wb") as f:
    f.write(bytes(rng.integers(0, 256, 300, dtype=np.uint8)))
open(os.path.join(out, "bad_empty.onnx"), "wb").close()
print("wrote", len(os.listdir(out)), "files to", out)
