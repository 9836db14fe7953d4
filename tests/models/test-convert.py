#!/usr/bin/python3
"""tools/convert/tfjs2onnx.py on a synthetic TF.js graph model that exercises
the cases the three shipped models do not: odd/even, non-square sizes with
asymmetric SAME padding at stride 2, uint8 / uint16 / float16 quantised weights, a 5x5
fused depthwise conv, a channel multiplier of 2, Mean with keep_dims as SE
gating, MaxPool SAME, legacy bilinear resize at a non-integer ratio, ConcatV2,
Minimum/Maximum clipping, _FusedMatMul + Softmax, Relu6 fused. (TAP)

Always checked: the weight decoder against hand-computed values, and that bad
graphs are refused with the node named. When tools/ref/node_modules exists,
TF.js (wasm) on the model.json and ONNX Runtime on the converted graph must
agree to rel. L2 <= 1e-5 on two tensors; otherwise that part is a TAP SKIP.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

root = os.environ.get("TL_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
n = 0
failed = False


def report(ok, desc, why=""):
    global n, failed
    n += 1
    failed |= not ok
    print(f"{'ok' if ok else 'not ok'} {n} - {desc}" + (f": {why}" if why and not ok else ""))


def skip(desc, why):
    global n
    n += 1
    print(f"ok {n} - {desc} # SKIP {why}")


try:
    import numpy as np
    import onnx  # noqa: F401
except ImportError as e:
    print(f"1..1\nok 1 # SKIP python3-onnx/numpy not installed ({e})")
    sys.exit(0)
sys.path.insert(0, os.path.join(root, "tools", "convert"))
import tfjs2onnx  # noqa: E402

rng = np.random.default_rng(7)
b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731


def conv_attrs(strides, padding, fused=None):
    a = {"strides": {"list": {"i": [str(s) for s in strides]}}, "padding": {"s": b64(padding)},
         "data_format": {"s": b64("NHWC")}, "dilations": {"list": {"i": ["1", "1", "1", "1"]}}}
    if fused:
        a["fused_ops"] = {"list": {"s": [b64(f) for f in fused]}}
        a["num_args"] = {"i": "1"}
    return a


class Builder:
    def __init__(self):
        self.nodes, self.weights, self.blob = [], [], b""

    def const(self, name, arr, quant=None):
        arr = np.asarray(arr)
        spec = {"name": name, "shape": list(arr.shape),
                "dtype": "int32" if arr.dtype.kind == "i" else "float32"}
        if quant in ("uint8", "uint16"):
            lo, hi = float(arr.min()), float(arr.max())
            qmax = 255 if quant == "uint8" else 65535
            scale = (hi - lo) / qmax
            q = np.round((arr - lo) / scale).astype("<u1" if quant == "uint8" else "<u2")
            spec["quantization"] = {"dtype": quant, "min": lo, "scale": scale}
            self.blob += q.tobytes()
        elif quant == "float16":
            spec["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
            self.blob += arr.astype("<f2").tobytes()
        else:
            self.blob += arr.astype("<i4" if arr.dtype.kind == "i" else "<f4").tobytes()
        self.weights.append(spec)
        self.nodes.append({"name": name, "op": "Const", "attr": {}})
        return name

    def node(self, name, op, inputs, attr=None):
        self.nodes.append({"name": name, "op": op, "input": inputs, "attr": attr or {}})
        return name

    def save(self, d):
        with open(os.path.join(d, "model.bin"), "wb") as f:
            f.write(self.blob)
        with open(os.path.join(d, "model.json"), "w") as f:
            json.dump({"format": "graph-model",
                       "modelTopology": {"node": self.nodes, "library": {}, "versions": {"producer": 1}},
                       "weightsManifest": [{"paths": ["model.bin"], "weights": self.weights}]}, f)
        return os.path.join(d, "model.json")


def synthetic():
    b = Builder()
    r = lambda *s: rng.standard_normal(s).astype(np.float32) * 0.5  # noqa: E731
    b.node("x", "Placeholder", [], {"shape": {"shape": {"dim": [{"size": "1"}, {"size": "9"},
                                                                   {"size": "12"}, {"size": "3"}]}}})
    b.node("c1", "_FusedConv2D", ["x", b.const("w1", r(3, 3, 3, 8), "uint8"), b.const("b1", r(8))],
           conv_attrs([1, 2, 2, 1], "SAME", ["BiasAdd", "Relu6"]))                      # 5x6x8
    b.node("d1", "FusedDepthwiseConv2dNative",
           ["c1", b.const("wd", r(5, 5, 8, 1), "float16"), b.const("bd", r(8))],
           conv_attrs([1, 1, 1, 1], "SAME", ["BiasAdd", "Relu"]))                       # 5x6x8
    b.node("dm", "DepthwiseConv2dNative", ["d1", b.const("wm", r(3, 3, 8, 2))],
           conv_attrs([1, 2, 2, 1], "SAME"))                                            # 3x3x16
    b.node("m1", "Mean", ["dm", b.const("ax", np.array([1, 2], np.int32))],
           {"keep_dims": {"b": True}})
    b.node("se", "Mul", ["dm", "m1"])
    b.node("p1", "MaxPool", ["se"], {"ksize": {"list": {"i": ["1", "3", "3", "1"]}},
                                     "strides": {"list": {"i": ["1", "2", "2", "1"]}},
                                     "padding": {"s": b64("SAME")}})                    # 2x2x16
    b.node("rz", "ResizeBilinear", ["p1", b.const("sz", np.array([7, 5], np.int32))],
           {"align_corners": {"b": False}, "half_pixel_centers": {"b": False}})         # 7x5x16
    b.node("c2", "Conv2D", ["rz", b.const("w2", r(1, 1, 16, 16))], conv_attrs([1, 1, 1, 1], "VALID"))
    b.node("a2", "AddV2", ["c2", b.const("bias2", r(16))])
    b.node("mn", "Minimum", ["a2", b.const("six", np.float32(1.5))])
    b.node("mx", "Maximum", ["mn", b.const("lo", np.float32(-0.5))])
    b.node("cat", "ConcatV2", ["mx", "rz", b.const("cax", np.array(3, np.int32))])    # 7x5x32
    b.node("c3", "_FusedConv2D", ["cat", b.const("w3", r(3, 3, 32, 4)), b.const("b3", r(4))],
           conv_attrs([1, 2, 2, 1], "VALID", ["BiasAdd"]))                              # 3x2x4
    b.node("gap", "Mean", ["cat", b.const("ax2", np.array([1, 2], np.int32))],
           {"keep_dims": {"b": False}})
    b.node("fc", "_FusedMatMul", ["gap", b.const("wf", r(32, 5), "uint16"), b.const("bf", r(5))],
           {"fused_ops": {"list": {"s": [b64("BiasAdd")]}}, "num_args": {"i": "1"}, "transpose_a": {"b": False},
            "transpose_b": {"b": False}})
    b.node("sm", "Softmax", ["fc"])
    return b


tmp = tempfile.mkdtemp(prefix="tl-convert-")
b = synthetic()
mj = b.save(tmp)

# Weight decoding, against the values we quantised by hand.
model = json.load(open(mj))
w = tfjs2onnx.decode_weights(mj, model["weightsManifest"])
spec = {s["name"]: s for s in model["weightsManifest"][0]["weights"]}
q = spec["w1"]["quantization"]
raw = np.frombuffer(b.blob, "<u1", 3 * 3 * 3 * 8, 0)
want = raw.astype(np.float32) * np.float32(q["scale"]) + np.float32(q["min"])
report(np.array_equal(w["w1"].reshape(-1), want), "uint8 weights decode as q*scale+min")
report(w["wd"].dtype == np.float32 and w["wd"].shape == (5, 5, 8, 1), "float16 weights widen to float32")
report(w["ax"].dtype == np.int32 and list(w["ax"]) == [1, 2], "int32 constants decode")
off = sum(int(np.prod(sp["shape"] or [1])) * {"uint8": 1, "uint16": 2, "float16": 2}.get(
    (sp.get("quantization") or {}).get("dtype"), 4) for sp in model["weightsManifest"][0]["weights"][:
    [sp["name"] for sp in model["weightsManifest"][0]["weights"]].index("wf")])
qf = spec["wf"]["quantization"]
raw16 = np.frombuffer(b.blob, "<u2", 32 * 5, off)
want16 = raw16.astype(np.float32) * np.float32(qf["scale"]) + np.float32(qf["min"])
report(np.array_equal(w["wf"].reshape(-1), want16) and w["wf"].shape == (32, 5),
       "uint16 weights decode as q*scale+min with their shape")

onnx_path = os.path.join(tmp, "model.onnx")
m = tfjs2onnx.convert(mj, ["sm", "c3", "cat"])
onnx.save(m, onnx_path)
shapes = {vi.name: [d.dim_value or d.dim_param for d in vi.type.tensor_type.shape.dim]
          for vi in list(m.graph.value_info) + list(m.graph.output)}
report(shapes.get("c1") == ["N", 8, 5, 6], "SAME stride 2 on 9x12 gives 5x6 (NCHW)", str(shapes.get("c1")))
report(shapes.get("dm") == ["N", 16, 3, 3], "depthwise multiplier 2 gives 16 channels", str(shapes.get("dm")))
report(shapes.get("rz") == ["N", 16, 7, 5], "resize to 7x5", str(shapes.get("rz")))
report(shapes.get("c3") == ["N", 4, 3, 2], "VALID stride 2 on 7x5 gives 3x2", str(shapes.get("c3")))
pads = {nd.output[0]: [a.ints for a in nd.attribute if a.name == "pads"][0]
        for nd in m.graph.node if nd.op_type in ("Conv", "MaxPool")}
report(list(pads["c1/pre_act"]) == [1, 0, 1, 1], "TF SAME pads 9 rows 1+1, 12 columns 0+1 (odd pixel right)",
       str(list(pads["c1/pre_act"])))

# Bad graphs are refused, naming the node.
bad = json.load(open(mj))
for nd in bad["modelTopology"]["node"]:
    if nd["name"] == "se":
        nd["op"] = "Erf"
json.dump(bad, open(os.path.join(tmp, "bad.json"), "w"))
try:
    tfjs2onnx.convert(os.path.join(tmp, "bad.json"), ["sm"])
    report(False, "unknown op is refused")
except tfjs2onnx.ConvertError as e:
    report("node se: unsupported op Erf" in str(e), "unknown op is refused, naming the node", str(e))
try:
    tfjs2onnx.convert(mj, ["nonexistent"])
    report(False, "unknown output is refused")
except tfjs2onnx.ConvertError as e:
    report("unknown node 'nonexistent'" in str(e), "unknown output node is refused", str(e))
with open(os.path.join(tmp, "model.bin"), "ab") as f:
    f.write(b"\0\0\0\0")
try:
    tfjs2onnx.convert(mj, ["sm"])
    report(False, "shard with extra bytes is refused")
except tfjs2onnx.ConvertError as e:
    report("manifest accounts for" in str(e), "shard with extra bytes is refused", str(e))
with open(os.path.join(tmp, "model.bin"), "wb") as f:
    f.write(b.blob)

# Numerical agreement TF.js vs ORT.
mods = os.path.join(root, "tools", "ref", "node_modules")
node_ok = subprocess.run(["sh", "-c", "command -v node"], capture_output=True).returncode == 0
if not (os.path.isdir(os.path.join(mods, "onnxruntime-node")) and node_ok):
    skip("TF.js vs ONNX Runtime on the synthetic graph", "tools/ref/node_modules not installed")
else:
    x = rng.uniform(-2, 3, (1, 9, 12, 3)).astype("<f4")
    np.save(os.path.join(tmp, "x.npy"), x)
    job = [{"name": "synthetic", "tfjs": mj, "onnx": onnx_path, "input_npy": os.path.join(tmp, "x.npy"),
            "compare": ["sm", "c3", "cat"], "dump": None}]
    json.dump(job, open(os.path.join(tmp, "job.json"), "w"))
    p = subprocess.run(["node", os.path.join(root, "tools", "ref", "models-verify.js"),
                        os.path.join(tmp, "job.json")], capture_output=True, text=True,
                       env=dict(os.environ, NODE_PATH=mods))
    if p.returncode != 0:
        report(False, "TF.js vs ONNX Runtime ran", p.stderr[-400:])
    else:
        for row in json.loads(p.stdout):
            report(row["shape_match"] and row["rel_l2"] <= 1e-5,
                   f"TF.js vs ORT on '{row['tensor']}' {row['shape']}: rel. L2 {row['rel_l2']:.2e} <= 1e-5",
                   json.dumps(row))
print(f"1..{n}")
sys.exit(1 if failed else 0)
