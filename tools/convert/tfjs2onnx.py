#!/usr/bin/python3
"""Convert a TF.js graph model (model.json + weight shards) to ONNX (opset 13).

    tfjs2onnx.py MODEL.json OUT.onnx --output NAME [--output NAME ...]
                 [--input-size H,W] [--weights fp32|fp16]

What it does, and why:
- Decodes the weights manifest (float32, float16, uint8/uint16 min/scale
  quantisation, int32) exactly as tfjs-core's decodeWeights does.
- Keeps only the ancestors of the requested outputs, so post-processing
  (centernet's TopK/NMS) is pruned away.
- Rewrites the NHWC graph as an NCHW graph: the ONNX input is NCHW float32,
  conv filters are transposed, per-channel constants become [1,C,1,1], axes
  of Mean/ConcatV2 are remapped. Every 4-D activation in the ONNX graph is
  NCHW.
- TF SAME padding becomes explicit ONNX pads computed from static shapes
  (TF puts the odd pixel at the bottom/right), so the input size must be
  static (taken from the placeholder or --input-size).
- ResizeBilinear(align_corners=false, half_pixel_centers=false), the TF1
  legacy mapping src = dst*in/out, becomes Resize linear 'asymmetric'.
- Fused ops (_FusedConv2D, FusedDepthwiseConv2dNative, _FusedMatMul with
  BiasAdd[+Relu|Relu6|Elu|Sigmoid|LeakyRelu]) become Conv/Gemm + activation.
- Each TF node's output keeps the TF node name as its ONNX tensor name, so a
  layer such as 'tower_0/extern1/hard_swish/mul_1' is addressable; the
  pre-activation tensor of a fused op is named '<node>/pre_act'.
Only standard ONNX ops are emitted: Conv, Gemm, Relu, Clip, Sigmoid, Mul,
Add, Sub, Div, ReduceMean, Resize, Concat, MaxPool, AveragePool, Softmax,
Identity, Pad, Reshape, LeakyRelu, Elu, Tanh, Cast (only with --weights fp16).
"""
import argparse
import base64
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NHWC_TO_NCHW_AXIS = [0, 2, 3, 1]   # TF axis -> ONNX axis for rank-4 activations


class ConvertError(Exception):
    pass


# ---------------------------------------------------------------- weights

def decode_weights(model_json_path, manifest):
    base = os.path.dirname(os.path.abspath(model_json_path))
    out = {}
    for group in manifest:
        buf = b"".join(open(os.path.join(base, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            shape = [int(d) for d in w["shape"]]
            n = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q and q["dtype"] in ("uint8", "uint16"):
                dt = "<u1" if q["dtype"] == "uint8" else "<u2"
                raw = np.frombuffer(buf, dt, n, off)
                off += raw.nbytes
                arr = raw.astype(np.float32) * np.float32(q["scale"]) + np.float32(q["min"])
                if w["dtype"] == "int32":
                    arr = np.round(arr).astype(np.int32)
            elif q and q["dtype"] == "float16":
                raw = np.frombuffer(buf, "<f2", n, off)
                off += raw.nbytes
                arr = raw.astype(np.float32)
            elif q:
                raise ConvertError(f"weight {w['name']}: unsupported quantization {q['dtype']}")
            else:
                dt = {"float32": "<f4", "int32": "<i4", "bool": "?"}.get(w["dtype"])
                if dt is None:
                    raise ConvertError(f"weight {w['name']}: unsupported dtype {w['dtype']}")
                arr = np.frombuffer(buf, dt, n, off)
                off += arr.nbytes
            out[w["name"]] = arr.reshape(shape).copy()
        if off != len(buf):
            raise ConvertError(f"weight shards {group['paths']}: {len(buf)} bytes, manifest accounts for {off}")
    return out


# ---------------------------------------------------------------- attributes

def attr_s(node, key, default=None):
    a = node.get("attr", {}).get(key)
    if a is None or "s" not in a:
        return default
    return base64.b64decode(a["s"]).decode()


def attr_ints(node, key, default=None):
    a = node.get("attr", {}).get(key)
    if a is None:
        return default
    return [int(i) for i in a.get("list", {}).get("i", [])]


def attr_b(node, key, default=False):
    a = node.get("attr", {}).get(key)
    return bool(a.get("b", default)) if a is not None else default


def attr_f(node, key, default=0.0):
    a = node.get("attr", {}).get(key)
    return float(a.get("f", default)) if a is not None else default


def attr_list_s(node, key):
    a = node.get("attr", {}).get(key)
    if a is None:
        return []
    return [base64.b64decode(s).decode() for s in a.get("list", {}).get("s", [])]


def same_pads(n, k, s, d=1):
    """TF SAME: out = ceil(n/s), extra pixel at the end. Returns (out, before, after)."""
    ke = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + ke - n, 0)
    return out, total // 2, total - total // 2


def valid_out(n, k, s, d=1):
    ke = (k - 1) * d + 1
    if n < ke:
        raise ConvertError(f"VALID window {ke} larger than input {n}")
    return (n - ke) // s + 1


# ---------------------------------------------------------------- converter

class Converter:
    def __init__(self, model, weights, input_hw, fp16):
        self.nodes = {n["name"]: n for n in model["modelTopology"]["node"]}
        self.weights = weights
        self.input_hw = input_hw
        self.fp16 = fp16
        self.onnx_nodes = []
        self.inits = {}          # name -> np array (initializers)
        self.shape = {}          # TF tensor name -> TF (NHWC) shape, None for batch
        self.inputs = []
        self.uid = 0

    # -- helpers
    @staticmethod
    def ref(name):
        """TF input reference 'node:0' / '^ctrl' -> node name."""
        if name.startswith("^"):
            return None
        return name.split(":")[0]

    def data_inputs(self, node):
        return [self.ref(i) for i in node.get("input", []) if not i.startswith("^")]

    def const(self, name):
        if name in self.weights:
            n = self.nodes.get(name)
            if n is not None and n["op"] != "Const":
                raise ConvertError(f"node {name}: weight shadows a non-Const node")
            return self.weights[name]
        n = self.nodes.get(name)
        if n is not None and n["op"] == "Identity":
            return self.const(self.data_inputs(n)[0])
        return None

    def is_const(self, name):
        return self.const(name) is not None

    def init(self, name, arr):
        """Add an initializer; float arrays become float32 (or fp16 + Cast)."""
        arr = np.asarray(arr)
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
        old = self.inits.get(name, self.inits.get(name + "/fp16"))
        if old is not None:
            if old.shape == arr.shape and np.array_equal(old.astype(arr.dtype), arr):
                return name
            name = self.fresh(name)     # same TF const used in two layouts
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
            if self.fp16 and arr.size > 16:
                h = arr.astype(np.float16)
                if not np.array_equal(h.astype(np.float32), arr):
                    raise ConvertError(f"{name}: not exactly representable in float16")
                self.inits[name + "/fp16"] = h
                self.emit("Cast", [name + "/fp16"], [name], to=TensorProto.FLOAT)
                return name
        self.inits[name] = arr
        return name

    def fresh(self, base):
        self.uid += 1
        return f"{base}/__c{self.uid}"

    def emit(self, op, inputs, outputs, **attrs):
        name = outputs[0] if op != "Cast" else outputs[0] + "/cast"
        self.onnx_nodes.append(helper.make_node(op, inputs, outputs, name=name, **attrs))

    def rank(self, t):
        return len(self.shape[t])

    def broadcast_const(self, name, arr, other_rank):
        """A constant operand of an elementwise op, rewritten for an NCHW partner."""
        arr = np.asarray(arr, dtype=np.float32)
        if other_rank == 4 and arr.ndim >= 1 and arr.size > 1:
            if arr.ndim == 1:
                arr = arr.reshape(1, -1, 1, 1)
            elif arr.ndim == 4:
                arr = arr.transpose(0, 3, 1, 2)
            else:
                raise ConvertError(f"constant {name}: shape {list(arr.shape)} cannot broadcast against NHWC")
        return self.init(name, arr)

    # -- traversal
    def ancestors(self, outputs):
        seen, order = set(), []

        def visit(name):
            stack = [(name, False)]
            while stack:
                n, done = stack.pop()
                if done:
                    order.append(n)
                    continue
                if n in seen:
                    continue
                if n not in self.nodes:
                    raise ConvertError(f"unknown node '{n}'")
                seen.add(n)
                stack.append((n, True))
                node = self.nodes[n]
                if node["op"] == "Const":
                    continue
                for i in reversed(self.data_inputs(node)):
                    stack.append((i, False))
        for o in outputs:
            visit(o)
        return order

    def convert(self, outputs):
        for name in self.ancestors(outputs):
            node = self.nodes[name]
            op = node["op"]
            if op == "Const":
                continue
            fn = getattr(self, "op_" + op.lstrip("_"), None)
            if fn is None:
                raise ConvertError(f"node {name}: unsupported op {op}")
            fn(node)
        return outputs

    # -- ops
    def op_Placeholder(self, node):
        dims = [int(d["size"]) for d in node["attr"]["shape"]["shape"]["dim"]]
        if len(dims) != 4:
            raise ConvertError(f"input {node['name']}: rank {len(dims)}, only NHWC images supported")
        if self.input_hw:
            dims[1], dims[2] = self.input_hw
        if dims[1] <= 0 or dims[2] <= 0:
            raise ConvertError(f"input {node['name']}: dynamic H/W, pass --input-size")
        self.shape[node["name"]] = [None, dims[1], dims[2], dims[3]]
        self.inputs.append(helper.make_tensor_value_info(
            node["name"], TensorProto.FLOAT, ["N", dims[3], dims[1], dims[2]]))

    def conv(self, node, depthwise, fused):
        name = node["name"]
        ins = self.data_inputs(node)
        x, w = ins[0], self.const(ins[1])
        if w is None:
            raise ConvertError(f"node {name}: non-constant filter")
        if attr_s(node, "data_format", "NHWC") != "NHWC":
            raise ConvertError(f"node {name}: data_format {attr_s(node, 'data_format')}")
        s = attr_ints(node, "strides", [1, 1, 1, 1])
        d = attr_ints(node, "dilations", [1, 1, 1, 1]) or [1, 1, 1, 1]
        pad = attr_s(node, "padding", "VALID")
        kh, kw, cin, m = w.shape
        n, h, wd, c = self.shape[x]
        if c != cin:
            raise ConvertError(f"node {name}: input has {c} channels, filter expects {cin}")
        if pad == "SAME":
            oh, pt, pb = same_pads(h, kh, s[1], d[1])
            ow, pl, pr = same_pads(wd, kw, s[2], d[2])
        elif pad == "VALID":
            oh, ow = valid_out(h, kh, s[1], d[1]), valid_out(wd, kw, s[2], d[2])
            pt = pb = pl = pr = 0
        elif pad == "EXPLICIT":
            e = attr_ints(node, "explicit_paddings")
            pt, pb, pl, pr = e[2], e[3], e[4], e[5]
            oh = (h + pt + pb - ((kh - 1) * d[1] + 1)) // s[1] + 1
            ow = (wd + pl + pr - ((kw - 1) * d[2] + 1)) // s[2] + 1
        else:
            raise ConvertError(f"node {name}: padding {pad}")
        if depthwise:
            wt = w.transpose(2, 3, 0, 1).reshape(cin * m, 1, kh, kw)
            cout, group = cin * m, cin
        else:
            wt = w.transpose(3, 2, 0, 1)
            cout, group = m, 1
        conv_in = [x, self.init(ins[1], wt)]
        acts = []
        if fused:
            ops = attr_list_s(node, "fused_ops")
            if not ops or ops[0] != "BiasAdd":
                raise ConvertError(f"node {name}: fused_ops {ops} unsupported")
            b = self.const(ins[2])
            if b is None or b.shape != (cout,):
                raise ConvertError(f"node {name}: bias must be a constant [{cout}]")
            conv_in.append(self.init(ins[2], b))
            acts = ops[1:]
        out = name if not acts else name + "/pre_act"
        self.emit("Conv", conv_in, [out], kernel_shape=[kh, kw], strides=[s[1], s[2]],
                  dilations=[d[1], d[2]], pads=[pt, pl, pb, pr], group=group)
        self.shape[out] = [n, oh, ow, cout]
        self.activation(node, acts, out, ins)

    def activation(self, node, acts, src, ins):
        name = node["name"]
        if not acts:
            return
        if len(acts) != 1:
            raise ConvertError(f"node {name}: fused activations {acts}")
        a = acts[0]
        if a == "Relu":
            self.emit("Relu", [src], [name])
        elif a == "Relu6":
            self.emit("Clip", [src, self.init(self.fresh(name) + "/min", np.float32(0)),
                               self.init(self.fresh(name) + "/max", np.float32(6))], [name])
        elif a == "Sigmoid":
            self.emit("Sigmoid", [src], [name])
        elif a == "Elu":
            self.emit("Elu", [src], [name], alpha=1.0)
        elif a == "LeakyRelu":
            self.emit("LeakyRelu", [src], [name], alpha=attr_f(node, "leakyrelu_alpha", 0.2))
        else:
            raise ConvertError(f"node {name}: fused activation {a} unsupported")
        self.shape[name] = self.shape[src]

    def op_FusedConv2D(self, node):
        self.conv(node, False, True)

    def op_Conv2D(self, node):
        self.conv(node, False, False)

    def op_FusedDepthwiseConv2dNative(self, node):
        self.conv(node, True, True)

    def op_DepthwiseConv2dNative(self, node):
        self.conv(node, True, False)

    def op_FusedMatMul(self, node):
        name = node["name"]
        ins = self.data_inputs(node)
        x, w = ins[0], self.const(ins[1])
        if w is None or self.rank(x) != 2:
            raise ConvertError(f"node {name}: needs a rank-2 input and a constant weight")
        ops = attr_list_s(node, "fused_ops")
        if not ops or ops[0] != "BiasAdd":
            raise ConvertError(f"node {name}: fused_ops {ops} unsupported")
        if attr_b(node, "transpose_a"):
            raise ConvertError(f"node {name}: transpose_a unsupported")
        tb = attr_b(node, "transpose_b")
        b = self.const(ins[2])
        nout = w.shape[0] if tb else w.shape[1]
        if b is None or b.shape != (nout,):
            raise ConvertError(f"node {name}: bias must be a constant [{nout}]")
        acts = ops[1:]
        out = name if not acts else name + "/pre_act"
        self.emit("Gemm", [x, self.init(ins[1], w), self.init(ins[2], b)], [out],
                  transB=1 if tb else 0)
        self.shape[out] = [self.shape[x][0], nout]
        self.activation(node, acts, out, ins)

    def op_MatMul(self, node):
        name = node["name"]
        ins = self.data_inputs(node)
        w = self.const(ins[1])
        if w is None or self.rank(ins[0]) != 2 or attr_b(node, "transpose_a"):
            raise ConvertError(f"node {name}: only x[N,K] * constant W supported")
        tb = attr_b(node, "transpose_b")
        self.emit("Gemm", [ins[0], self.init(ins[1], w)], [name], transB=1 if tb else 0)
        self.shape[name] = [self.shape[ins[0]][0], w.shape[0] if tb else w.shape[1]]

    def binary(self, node, onnx_op):
        name = node["name"]
        a, b = self.data_inputs(node)
        ca, cb = self.const(a), self.const(b)
        if ca is not None and cb is not None:
            raise ConvertError(f"node {name}: constant-only arithmetic is not folded")
        names, shapes = [], []
        other = self.shape[b] if ca is not None else self.shape[a]
        for t, c in ((a, ca), (b, cb)):
            if c is None:
                names.append(t)
                shapes.append(self.shape[t])
            else:
                names.append(self.broadcast_const(t, c, len(other)))
                shapes.append(list(c.shape))
        self.emit(onnx_op, names, [name])
        self.shape[name] = broadcast_shape(shapes, name)

    def op_Add(self, node):
        self.binary(node, "Add")

    def op_AddV2(self, node):
        self.binary(node, "Add")

    def op_Sub(self, node):
        self.binary(node, "Sub")

    def op_Mul(self, node):
        self.binary(node, "Mul")

    def op_RealDiv(self, node):
        self.binary(node, "Div")

    def minmax(self, node, is_min):
        name = node["name"]
        a, b = self.data_inputs(node)
        x, c = (a, self.const(b)) if self.const(b) is not None else (b, self.const(a))
        if c is None or np.asarray(c).size != 1:
            raise ConvertError(f"node {name}: only Minimum/Maximum with a scalar constant supported")
        v = np.float32(np.asarray(c).reshape(()))
        big = np.float32(np.finfo(np.float32).max)
        lo, hi = (-big, v) if is_min else (v, big)
        self.emit("Clip", [x, self.init(self.fresh(name) + "/min", lo),
                           self.init(self.fresh(name) + "/max", hi)], [name])
        self.shape[name] = self.shape[x]

    def op_Minimum(self, node):
        self.minmax(node, True)

    def op_Maximum(self, node):
        self.minmax(node, False)

    def unary(self, node, onnx_op, **attrs):
        x = self.data_inputs(node)[0]
        self.emit(onnx_op, [x], [node["name"]], **attrs)
        self.shape[node["name"]] = self.shape[x]

    def op_Relu(self, node):
        self.unary(node, "Relu")

    def op_Relu6(self, node):
        x = self.data_inputs(node)[0]
        name = node["name"]
        self.emit("Clip", [x, self.init(self.fresh(name) + "/min", np.float32(0)),
                           self.init(self.fresh(name) + "/max", np.float32(6))], [name])
        self.shape[name] = self.shape[x]

    def op_Sigmoid(self, node):
        self.unary(node, "Sigmoid")

    def op_Tanh(self, node):
        self.unary(node, "Tanh")

    def op_Elu(self, node):
        self.unary(node, "Elu", alpha=1.0)

    def op_LeakyRelu(self, node):
        self.unary(node, "LeakyRelu", alpha=attr_f(node, "alpha", 0.2))

    def op_Identity(self, node):
        self.unary(node, "Identity")

    def op_Softmax(self, node):
        x = self.data_inputs(node)[0]
        if self.rank(x) != 2:
            raise ConvertError(f"node {node['name']}: Softmax on rank {self.rank(x)} (only [N,K])")
        self.unary(node, "Softmax", axis=-1)

    def op_Mean(self, node):
        name = node["name"]
        x, ax = self.data_inputs(node)
        axes = self.const(ax)
        if axes is None:
            raise ConvertError(f"node {name}: non-constant axes")
        r = self.rank(x)
        axes = sorted(int(a) % r for a in np.asarray(axes).reshape(-1))
        keep = attr_b(node, "keep_dims")
        if r == 4:
            oaxes = sorted(NHWC_TO_NCHW_AXIS[a] for a in axes)
            if not keep and axes != [1, 2]:
                raise ConvertError(f"node {name}: Mean over {axes} without keep_dims changes layout")
        else:
            oaxes = axes
        self.emit("ReduceMean", [x], [name], axes=oaxes, keepdims=1 if keep else 0)
        s = self.shape[x]
        self.shape[name] = [1 if i in axes else d for i, d in enumerate(s)] if keep else \
            [d for i, d in enumerate(s) if i not in axes]

    def op_ConcatV2(self, node):
        name = node["name"]
        ins = self.data_inputs(node)
        xs, ax = ins[:-1], self.const(ins[-1])
        if ax is None:
            raise ConvertError(f"node {name}: non-constant axis")
        r = self.rank(xs[0])
        a = int(np.asarray(ax).reshape(())) % r
        oa = NHWC_TO_NCHW_AXIS[a] if r == 4 else a
        for t in xs:
            if self.is_const(t):
                raise ConvertError(f"node {name}: constant concat operand {t}")
        self.emit("Concat", xs, [name], axis=oa)
        s = list(self.shape[xs[0]])
        s[a] = sum(self.shape[t][a] for t in xs)
        self.shape[name] = s

    def op_ResizeBilinear(self, node):
        name = node["name"]
        x, sz = self.data_inputs(node)
        size = self.const(sz)
        if size is None:
            raise ConvertError(f"node {name}: non-constant size")
        oh, ow = (int(v) for v in np.asarray(size).reshape(-1))
        if attr_b(node, "align_corners"):
            mode = "align_corners"
        elif attr_b(node, "half_pixel_centers"):
            mode = "half_pixel"        # TF2 half-pixel bilinear == ONNX half_pixel
        else:
            mode = "asymmetric"        # TF1 legacy: src = dst * in/out
        n, h, w, c = self.shape[x]
        # Sizes and scales are both given as initializers: 'sizes' is the
        # authoritative one for ONNX; scales are left empty as the spec requires.
        sizes = self.init(name + "/sizes", np.array([1, c, oh, ow], np.int64))
        self.emit("Resize", [x, "", "", sizes], [name], mode="linear",
                  coordinate_transformation_mode=mode)
        self.shape[name] = [n, oh, ow, c]

    def pool(self, node, onnx_op):
        name = node["name"]
        x = self.data_inputs(node)[0]
        k = attr_ints(node, "ksize")
        s = attr_ints(node, "strides")
        pad = attr_s(node, "padding", "VALID")
        n, h, w, c = self.shape[x]
        if k[0] != 1 or k[3] != 1:
            raise ConvertError(f"node {name}: pooling over batch/channels")
        if pad == "SAME":
            oh, pt, pb = same_pads(h, k[1], s[1])
            ow, pl, pr = same_pads(w, k[2], s[2])
        elif pad == "VALID":
            oh, ow = valid_out(h, k[1], s[1]), valid_out(w, k[2], s[2])
            pt = pb = pl = pr = 0
        else:
            raise ConvertError(f"node {name}: padding {pad}")
        attrs = dict(kernel_shape=[k[1], k[2]], strides=[s[1], s[2]], pads=[pt, pl, pb, pr])
        if onnx_op == "AveragePool":
            attrs["count_include_pad"] = 0      # TF SAME average excludes the padding
        self.emit(onnx_op, [x], [name], **attrs)
        self.shape[name] = [n, oh, ow, c]

    def op_MaxPool(self, node):
        self.pool(node, "MaxPool")

    def op_AvgPool(self, node):
        self.pool(node, "AveragePool")


def broadcast_shape(shapes, name):
    r = max(len(s) for s in shapes)
    out = []
    for i in range(r):
        dims = [s[i - r + len(s)] for s in shapes if i - r + len(s) >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ConvertError(f"node {name}: shapes {shapes} do not broadcast")
        out.append(known.pop() if known else (None if None in dims else 1))
    return out


def onnx_shape(tf_shape):
    s = ["N" if d is None else d for d in tf_shape]
    if len(s) == 4:
        s = [s[0], s[3], s[1], s[2]]
    return s


def convert(model_json, outputs, input_hw=None, fp16=False, doc=""):
    with open(model_json) as f:
        model = json.load(f)
    if model.get("format") != "graph-model":
        raise ConvertError(f"{model_json}: format {model.get('format')!r}, expected graph-model")
    weights = decode_weights(model_json, model["weightsManifest"])
    conv = Converter(model, weights, input_hw, fp16)
    conv.convert(outputs)
    if len(conv.inputs) != 1:
        raise ConvertError(f"{model_json}: {len(conv.inputs)} inputs reached, expected 1")
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, onnx_shape(conv.shape[o])) for o in outputs]
    produced = {o for n in conv.onnx_nodes for o in n.output}
    vinfo = [helper.make_tensor_value_info(t, TensorProto.FLOAT, onnx_shape(s))
             for t, s in conv.shape.items() if t in produced and t not in outputs]
    inits = [numpy_helper.from_array(a, n) for n, a in conv.inits.items()]
    graph = helper.make_graph(conv.onnx_nodes, os.path.basename(model_json), conv.inputs, outs,
                              initializer=inits, value_info=vinfo)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="tensorlens tfjs2onnx", producer_version="1")
    m.ir_version = 7
    m.doc_string = doc
    onnx.checker.check_model(m)
    return m


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_json")
    ap.add_argument("out")
    ap.add_argument("--output", action="append", required=True, help="TF node name to expose (repeatable)")
    ap.add_argument("--input-size", help="H,W when the placeholder is dynamic")
    ap.add_argument("--weights", choices=["fp32", "fp16"], default="fp32")
    a = ap.parse_args(argv)
    hw = tuple(int(v) for v in a.input_size.split(",")) if a.input_size else None
    j = json.load(open(a.model_json))
    files = [a.model_json] + [os.path.join(os.path.dirname(a.model_json), p)
                              for g in j["weightsManifest"] for p in g["paths"]]
    doc = "Converted by tools/convert/tfjs2onnx.py from " + ", ".join(
        f"{os.path.basename(p)} sha256 {sha256(p)}" for p in files)
    try:
        m = convert(a.model_json, a.output, hw, a.weights == "fp16", doc)
    except ConvertError as e:
        print(f"tfjs2onnx: {a.model_json}: {e}", file=sys.stderr)
        return 1
    onnx.save(m, a.out)
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"{a.out}: {len(m.graph.node)} nodes, {len(m.graph.initializer)} initializers, ops {' '.join(ops)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
