#!/usr/bin/python3
"""Every shipped model is well-formed ONNX that matches its card (TAP).

For each models/*.json card: onnx.checker passes; opset 13; the graph input is
the card's input name with shape [N, C, H, W]; every tensor the card names
(outputs, target layer, score tensors, autoencoder input/output/latent) is
produced by the graph; only the standard ops our engine implements appear;
the committed ORT reference fixtures (tests/data/models/) have the shapes the
graph declares. Skips (TAP SKIP) when python3-onnx or numpy is missing.
"""
import glob
import json
import os
import sys

root = os.environ.get("TL_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
data = os.environ.get("TL_TEST_DATA", os.path.join(root, "tests", "data"))
n = 0
failed = False


def report(ok, desc, why=""):
    global n, failed
    n += 1
    failed |= not ok
    print(f"{'ok' if ok else 'not ok'} {n} - {desc}" + (f": {why}" if why and not ok else ""))


try:
    import numpy as np
    import onnx
except ImportError as e:
    print(f"1..1\nok 1 # SKIP python3-onnx/numpy not installed ({e})")
    sys.exit(0)

ENGINE_OPS = {"Conv", "Gemm", "MatMul", "Relu", "Clip", "Sigmoid", "Mul", "Add", "Sub", "Div",
              "ReduceMean", "GlobalAveragePool", "Resize", "Concat", "MaxPool", "AveragePool",
              "Softmax", "Identity", "Pad", "Reshape", "Transpose", "Flatten", "HardSwish",
              "Cast", "Tanh", "LeakyRelu", "Elu"}


def dims(vi):
    return [d.dim_value if d.HasField("dim_value") else d.dim_param
            for d in vi.type.tensor_type.shape.dim]


def check_graph(path, input_name, in_shape, tensors, label):
    m = onnx.load(path)
    try:
        onnx.checker.check_model(m)
        report(True, f"{label}: onnx.checker")
    except onnx.checker.ValidationError as e:
        report(False, f"{label}: onnx.checker", str(e)[:200])
        return None
    opset = {o.domain: o.version for o in m.opset_import}
    report(opset.get("", opset.get("ai.onnx")) == 13, f"{label}: opset 13", str(opset))
    inits = {i.name for i in m.graph.initializer}
    ins = [i for i in m.graph.input if i.name not in inits]
    ok = len(ins) == 1 and ins[0].name == input_name and \
        len(dims(ins[0])) == len(in_shape) and dims(ins[0])[1:] == in_shape[1:]
    report(ok, f"{label}: input '{input_name}' {in_shape}", f"graph has {[(i.name, dims(i)) for i in ins]}")
    produced = {o for node in m.graph.node for o in node.output}
    missing = [t for t in tensors if t not in produced]
    report(not missing, f"{label}: card tensors are produced by the graph", f"missing {missing}")
    ops = {node.op_type for node in m.graph.node}
    report(ops <= ENGINE_OPS, f"{label}: only engine ops", f"unexpected {sorted(ops - ENGINE_OPS)}")
    return m


def declared_shape(m, name):
    m = onnx.shape_inference.infer_shapes(m)
    for vi in list(m.graph.value_info) + list(m.graph.output):
        if vi.name == name:
            return [1 if isinstance(d, str) else d for d in dims(vi)]
    return None


cards = sorted(glob.glob(os.path.join(root, "models", "*.json")))
for cpath in cards:
    c = json.load(open(cpath))
    mdir = os.path.dirname(cpath)
    i = c["input"]
    shape = ["N", i["channels"], i["height"], i["width"]]
    if c["task"] == "autoencoder":
        a = c["autoencoder"]
        check_graph(os.path.join(mdir, a["encoder"]), i["name"], shape, [a["encoder_output"]],
                    c["name"] + " encoder")
        o = a["output"]
        dm = check_graph(os.path.join(mdir, a["decoder"]), a["decoder_input"], ["N", a["latent_dim"]],
                         [a["decoder_output"]], c["name"] + " decoder")
        if dm is not None:
            got = declared_shape(dm, a["decoder_output"])
            want = [1, o["channels"], o["height"], o["width"]]
            report(got == want, f"{c['name']}: decoder output shape {want}", f"graph says {got}")
        bank = np.load(os.path.join(mdir, a["latent_bank"]), mmap_mode="r")
        report(bank.dtype == np.float32 and bank.ndim == 2 and bank.shape[1] == a["latent_dim"]
               and bank.shape[0] > 0 and bool(np.isfinite(bank).all()),
               f"{c['name']}: latent bank is finite float32 [n, {a['latent_dim']}]", f"{bank.dtype} {bank.shape}")
        continue
    tensors = list(c["outputs"].values()) + [c["target_layer"], c["score"]["tensor"]]
    tensors += [c["score"][k] for k in ("probabilities", "logits") if k in c["score"]]
    m = check_graph(os.path.join(mdir, c["model"]), i["name"], shape, tensors, c["name"])
    fdir = os.path.join(data, "models", c["name"])
    if m is None or not os.path.isdir(fdir):
        continue
    t = np.load(os.path.join(fdir, "target.npy"))
    want = declared_shape(m, c["target_layer"])
    report(list(t.shape) == want and bool(np.isfinite(t).all()),
           f"{c['name']}: reference target-layer activations {want}", f"fixture {t.shape}")
    if os.path.exists(os.path.join(fdir, "input.npy")):
        x = np.load(os.path.join(fdir, "input.npy"))
        report(list(x.shape) == [1] + shape[1:], f"{c['name']}: reference input {[1] + shape[1:]}", str(x.shape))

report(len(cards) >= 3, "at least the three converted models have cards", str(len(cards)))
print(f"1..{n}")
sys.exit(1 if failed else 0)
