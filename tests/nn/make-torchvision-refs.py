#!/usr/bin/python3
"""Exports CNNs from PyTorch to ONNX and writes what the engine is checked
against: the input, the list of tapped tensors, a copy of the model whose
graph outputs include the taps (for ONNX Runtime, see
tools/ref/nn-ort-ref.js), and PyTorch autograd gradients of a logit and of
a cosine similarity with respect to the target layer and to the input.

Usage: make-torchvision-refs.py OUTDIR NAME...   (names: see MODELS)
Weights are random with a fixed seed: no download is needed or possible.
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

torch.set_num_threads(2)


class TinyNet(nn.Module):
    """A small CNN that uses every op family the engine claims, so one
    committed model exercises them all end to end (and their gradients)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.dw = nn.Conv2d(8, 8, 3, 1, 1, groups=8)
        self.pw = nn.Conv2d(8, 16, 1)
        self.bn = nn.BatchNorm2d(16)
        self.prelu = nn.PReLU(16)
        self.branch = nn.Conv2d(16, 16, 3, 1, 2, dilation=2)
        self.se1 = nn.Conv2d(16, 4, 1)
        self.se2 = nn.Conv2d(4, 16, 1)
        self.up = nn.ConvTranspose2d(16, 8, 2, 2)
        self.mix = nn.Conv2d(24, 24, 3, 1, 1, groups=3)
        self.head = nn.Conv2d(24, 32, 3, 1, 1)
        self.head_act = nn.ReLU()
        self.fc = nn.Linear(32, 10)
        with torch.no_grad():
            for bn in (self.stem[1], self.bn):
                bn.running_mean.uniform_(-0.5, 0.5)
                bn.running_var.uniform_(0.5, 2.0)
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.uniform_(-0.2, 0.2)

    def forward(self, x):
        x = (x - 0.5) / 0.25
        x = self.stem(x)                                 # 16x16
        x = F.leaky_relu(self.dw(x), 0.1)
        x = self.prelu(self.bn(self.pw(x)))
        y = torch.tanh(self.branch(x)) + F.hardswish(x)  # residual Add
        s = y.mean((2, 3), keepdim=True)                  # squeeze-excite
        s = torch.sigmoid(self.se2(F.relu(self.se1(s))))
        y = y * s
        p = F.max_pool2d(y, 2)                            # 8x8
        q = F.avg_pool2d(F.pad(y, (1, 1, 1, 1), mode="reflect"), 3, 2, 0)  # 8x8
        z = torch.maximum(p, q) - torch.minimum(p, q) * 0.5
        u = self.up(z)                                    # 16x16 via ConvTranspose
        v = F.interpolate(z, scale_factor=2, mode="bilinear", align_corners=False)
        w = torch.cat([u, v], 1)                          # 24 channels
        n, c, h, ww = w.shape
        w = w.view(n, 3, c // 3, h, ww).transpose(1, 2).reshape(n, c, h, ww)  # channel shuffle
        a, b = torch.chunk(self.mix(w), 2, dim=1)
        w = torch.cat([F.hardsigmoid(a) * b, a[:, :, :, :], b], 1)[:, :24]
        w = self.head_act(self.head(w[:, :, 1:-1, 1:-1]))        # Slice, 14x14: the target layer
        g = F.adaptive_avg_pool2d(w, 1).flatten(1)
        return self.fc(g) + g.sum(1, keepdim=True) * 0.01


class DenseNet121(nn.Module):
    """torchvision's DenseNet-121 with its final ReLU as a module: the stock
    forward applies it in place to the features, which would hide the tensor
    the gradient is taken against."""

    def __init__(self):
        super().__init__()
        d = torchvision.models.densenet121()
        self.features, self.classifier = d.features, d.classifier
        self.act = nn.ReLU()

    def forward(self, x):
        f = self.act(self.features(x))
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(f, (1, 1)), 1))


def mobilenet_small():
    return torchvision.models.mobilenet_v2(width_mult=0.1, num_classes=10)


# name: (constructor, input shape, module whose output is the target layer
#        (None: the target is given by the graph), how to find its ONNX name)
MODELS = {
    "tinynet": (TinyNet, (1, 3, 32, 32), lambda m: m.head_act, "gap_input"),
    # the same TinyNet exported at older opsets: attribute forms of Slice,
    # Pad, Clip, Squeeze, Split, ReduceMean, and Upsample/Resize-10/11
    "tinynet-op9": (TinyNet, (1, 3, 32, 32), lambda m: m.head_act, "gap_input"),
    "tinynet-op11": (TinyNet, (1, 3, 32, 32), lambda m: m.head_act, "gap_input"),
    "mobilenetv2-w01": (mobilenet_small, (1, 3, 64, 64), lambda m: m.features, "gap_input"),
    "resnet18": (torchvision.models.resnet18, (1, 3, 224, 224), lambda m: m.layer4, "gap_input"),
    "mobilenet_v2": (torchvision.models.mobilenet_v2, (1, 3, 224, 224), lambda m: m.features,
                     "gap_input"),
    "squeezenet1_1": (torchvision.models.squeezenet1_1, (1, 3, 224, 224),
                      lambda m: m.classifier[2], "gap_input"),
    "densenet121": (DenseNet121, (1, 3, 224, 224), lambda m: m.act, "gap_input"),
    "shufflenet_v2_x1_0": (torchvision.models.shufflenet_v2_x1_0, (1, 3, 224, 224),
                           lambda m: m.conv5, "gap_input"),
    # squeeze-excite blocks (a global pool inside the feature extractor)
    "mobilenet_v3_small": (torchvision.models.mobilenet_v3_small, (1, 3, 224, 224),
                           lambda m: m.features, "gap_input"),
    "efficientnet_b0": (torchvision.models.efficientnet_b0, (1, 3, 224, 224),
                        lambda m: m.features, "gap_input"),
}

GLOBAL_OPS = ("GlobalAveragePool", "ReduceMean")


def onnx_target(model, how):
    g = model.graph
    producers = {o: n for n in g.node for o in n.output}
    # the last global pooling (TinyNet's squeeze-excite has an earlier one)
    gap = [n for n in g.node if n.op_type in GLOBAL_OPS and n.input[0] in producers][-1]
    return gap.input[0], gap.input[0]


def add_outputs(model, names):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for n in names:
        if n not in have:
            m.graph.output.append(onnx.helper.make_empty_tensor_value_info(n))
    return m


def tap_names(model, target):
    """The target plus a few other runtime tensors spread over the graph:
    activation, Add, Concat and pool outputs (tensors the engine keeps as
    they are, not folded or fused away)."""
    keep = ("Relu", "Clip", "Add", "Concat", "MaxPool", "Mul", "AveragePool", "Sigmoid",
            "LeakyRelu", "PRelu", "Resize", "Tanh", "HardSigmoid")
    inferred = onnx.shape_inference.infer_shapes(model)
    floats = {v.name for v in inferred.graph.value_info
              if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
              and len(v.type.tensor_type.shape.dim) >= 2}
    cands = [n.output[0] for n in model.graph.node
             if n.op_type in keep and n.output[0] in floats]
    picks = [cands[int(i)] for i in np.linspace(0, len(cands) - 1, 4)] if cands else []
    out = [target]
    for p in picks:
        if p not in out:
            out.append(p)
    return out


def make(outdir, name):
    ctor, shape, hook_mod, how = MODELS[name]
    torch.manual_seed(0)
    model = ctor().eval()
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(1)
    x = rng.random(shape, dtype=np.float32)
    path = os.path.join(d, "model.onnx")
    opset = int(name.split("-op")[1]) if "-op" in name else 13
    torch.onnx.export(model, torch.from_numpy(x), path, opset_version=opset,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    m = onnx.load(path)

    # autograd: d logit / d target, d cos / d target, d logit / d input
    feats = {}
    mod = hook_mod(model)
    hook = mod.register_forward_hook(lambda mm, i, o: feats.__setitem__("t", o))
    xt = torch.from_numpy(x).requires_grad_(True)
    logits = model(xt)
    hook.remove()
    t = feats["t"]
    cls = int(logits[0].argmax())
    g_t, g_x = torch.autograd.grad(logits[0, cls], [t, xt], retain_graph=True)
    v = torch.from_numpy(rng.standard_normal(logits.shape[1]).astype(np.float32))
    # written out: F.cosine_similarity clamps the norms at 1e-8, and random-init
    # MobileNetV2 logits have a norm of ~1e-8
    e = logits[0].double()
    vd = v.double()
    cos = (e @ vd) / (e.norm() * vd.norm())
    (g_cos,) = torch.autograd.grad(cos, [t])

    target, default_target = onnx_target(m, how)
    taps = tap_names(m, target)
    onnx.save(add_outputs(m, taps), os.path.join(d, "model-taps.onnx"))
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "torch-logits.npy"), logits.detach().numpy())
    np.save(os.path.join(d, "grad-logit.npy"), g_t.numpy())
    np.save(os.path.join(d, "grad-input.npy"), g_x.numpy())
    np.save(os.path.join(d, "cos-vector.npy"), v.numpy())
    np.save(os.path.join(d, "grad-cos.npy"), g_cos.numpy())
    meta = {"model": "model.onnx", "input": "input.npy", "output": "logits",
            "target": target, "default_target": default_target, "taps": taps, "logit_index": cls,
            "cos_score": float(cos), "torch": torch.__version__, "opset": opset,
            # below opset 11 ONNX has no half-pixel bilinear resize, so the
            # exported model computes something else than PyTorch: check it
            # against ONNX Runtime only
            "matches_torch": opset >= 11}
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"{name}: target {target} {tuple(t.shape)}, {len(taps)} taps, class {cls}")


if __name__ == "__main__":
    out = sys.argv[1]
    for n in sys.argv[2:]:
        make(out, n)
