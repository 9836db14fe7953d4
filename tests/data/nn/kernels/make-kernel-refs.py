#!/usr/bin/python3
"""Reference fixtures for the op kernels in src/nn/kernels.

Every forward reference below is written directly from the ONNX operator
specification, in float64 NumPy, independently of the C code (no im2col, no
index tables: windows are sliced or enumerated as the spec describes them).
Where PyTorch can express the same operation it is used as a second, fully
independent check inside this script (assert, so a wrong reference cannot
produce fixtures).

Backward (input-gradient) fixtures:
- for the linear ops (Conv, ConvTranspose, AveragePool, global pools,
  Resize) dx = J^T dy with the Jacobian J built column by column by running
  the forward reference on unit inputs; it involves no hand-derived adjoint;
- for Gemm, MatMul, Softmax and MaxPool, torch autograd in float64 (MaxPool
  through a -inf pre-padding, so asymmetric pads are covered as well).

Layout: <kernel>/cases.json lists the cases (parameters and the .npy file
of each tensor, relative to this directory). Run from anywhere:
    /usr/bin/python3 tests/data/nn/kernels/make-kernel-refs.py
"""
import json
import math
import os
import shutil
import zlib

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261126)


def reseed(tag):
    """One stream per kernel, so that adding a case to one kernel (at the
    end of its list) leaves every other fixture byte-identical."""
    global rng
    rng = np.random.default_rng(zlib.crc32(tag.encode()))
torch.set_default_dtype(torch.float64)


def rand(*shape, scale=1.0):
    return np.asarray(rng.standard_normal(shape) * scale, dtype=np.float32)


class Writer:
    def __init__(self, kernel):
        self.kernel = kernel
        reseed(kernel)
        self.dir = os.path.join(HERE, kernel)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.cases = []

    def add(self, name, params, tensors):
        entry = {"name": name, "params": params, "tensors": {}}
        for key, arr in tensors.items():
            fn = f"{name}.{key}.npy"
            np.save(os.path.join(self.dir, fn), np.ascontiguousarray(arr, dtype=np.float32))
            entry["tensors"][key] = f"{self.kernel}/{fn}"
        self.cases.append(entry)

    def close(self):
        with open(os.path.join(self.dir, "cases.json"), "w") as f:
            json.dump({"cases": self.cases}, f, indent=1)
            f.write("\n")


def close(a, b, tol=1e-9):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    err = np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30)
    assert err <= tol, err


def vjp_linear(f, x, dy):
    """dx = J^T dy for a map f that is linear and independent per batch item."""
    n = x.shape[0]
    d = int(np.prod(x.shape[1:]))
    basis = np.eye(d).reshape((d,) + x.shape[1:])
    cols = f(basis).reshape(d, -1)          # row i = f(e_i) (one sample)
    return np.stack([cols @ dy[i].reshape(-1) for i in range(n)]).reshape(x.shape)


def activation(y, act, lo, hi):
    if act == "relu":
        return np.maximum(y, 0)
    if act == "clip":
        return np.minimum(np.maximum(y, lo), hi)
    if act == "hardswish":
        return y * np.clip(y + 3, 0, 6) / 6
    return y


# ---------------------------------------------------------------- Conv

def conv_ref(x, w, b, strides, dil, pads, groups):
    """ONNX Conv: y[n,o,i,j] = b[o] + sum_{c,ki,kj} x_pad[n, g*Cg+c,
    i*sh + ki*dh, j*sw + kj*dw] * w[o,c,ki,kj], pads (top, left, bottom, right)."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    sh, sw = strides
    dh, dw = dil
    pt, pl, pb, pr = pads
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    ho = (h + pt + pb - ((kh - 1) * dh + 1)) // sh + 1
    wo = (wd + pl + pr - ((kw - 1) * dw + 1)) // sw + 1
    og = o // groups
    y = np.zeros((n, o, ho, wo))
    for g in range(groups):
        for ki in range(kh):
            for kj in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg,
                           ki * dh: ki * dh + sh * (ho - 1) + 1: sh,
                           kj * dw: kj * dw + sw * (wo - 1) + 1: sw]
                y[:, g * og:(g + 1) * og] += np.einsum(
                    "nchw,oc->nohw", patch, w[g * og:(g + 1) * og, :, ki, kj])
    if b is not None:
        y += np.asarray(b, np.float64)[None, :, None, None]
    return y


def make_conv():
    wr = Writer("conv")
    # name, N, C, H, W, O, (kh, kw), strides, dilations, pads(t,l,b,r), groups, bias, act
    cases = [
        ("basic3x3", 1, 3, 7, 6, 4, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1, True, "none"),
        ("pointwise", 2, 5, 5, 7, 6, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1, True, "none"),
        ("pointwise_s2", 1, 4, 7, 7, 3, (1, 1), (2, 2), (1, 1), (0, 0, 0, 0), 1, True, "none"),
        ("pointwise_pad", 1, 4, 5, 4, 3, (1, 1), (1, 1), (1, 1), (1, 0, 0, 2), 1, False, "none"),
        ("s2_same_upper", 1, 3, 8, 9, 5, (3, 3), (2, 2), (1, 1), (0, 1, 1, 1), 1, True, "none"),
        ("dil2", 2, 3, 9, 8, 4, (3, 3), (1, 1), (2, 2), (2, 2, 2, 2), 1, True, "none"),
        ("groups2", 1, 4, 6, 7, 6, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 2, True, "none"),
        ("dw3x3", 2, 5, 7, 6, 5, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 5, True, "none"),
        ("dw3x3_s2", 1, 4, 9, 8, 4, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), 4, True, "none"),
        ("dw5x5_s2_dil2_asym", 1, 3, 13, 11, 3, (5, 5), (2, 2), (2, 2), (2, 1, 3, 0), 3, True, "none"),
        ("dw_mult2", 1, 3, 6, 6, 6, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 3, True, "none"),
        ("s3_k4x2", 1, 2, 11, 10, 3, (4, 2), (3, 3), (1, 1), (1, 0, 2, 1), 1, True, "none"),
        ("stem7x7", 1, 3, 13, 12, 4, (7, 7), (2, 2), (1, 1), (3, 3, 3, 3), 1, True, "none"),
        ("nobias_relu", 2, 3, 6, 5, 4, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1, False, "relu"),
        ("dw_clip6", 1, 6, 5, 5, 6, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 6, True, "clip"),
        ("hardswish", 1, 4, 6, 6, 5, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1, True, "hardswish"),
        ("kernel_fills", 1, 2, 4, 3, 3, (5, 4), (1, 1), (1, 1), (1, 0, 0, 1), 1, True, "none"),
        ("aniso", 1, 3, 9, 12, 2, (3, 3), (2, 1), (1, 3), (1, 3, 1, 3), 1, True, "none"),
        ("groups3_s2", 2, 6, 7, 8, 9, (3, 3), (2, 2), (1, 1), (1, 1, 0, 0), 3, True, "none"),
        ("k1x3", 1, 3, 5, 9, 2, (1, 3), (1, 2), (1, 1), (0, 1, 0, 1), 1, True, "none"),
        # planes too big for the depthwise kernel's padded copy (> 576 floats
        # padded), with wide rows: its vectorised row interior (>= 16 columns)
        ("dw3x3_wide", 1, 2, 6, 100, 2, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 2, True, "relu"),
        ("dw3x3_s2_wide", 2, 2, 5, 101, 2, (3, 3), (2, 2), (1, 1), (0, 0, 1, 1), 2, True, "none"),
        ("dw5x5_wide_dil2", 1, 2, 9, 45, 2, (5, 5), (1, 1), (2, 2), (4, 4, 4, 4), 2, True, "none"),
        ("dw5x5_s2_wide", 1, 3, 7, 60, 3, (5, 5), (2, 2), (1, 1), (2, 1, 2, 3), 3, False, "none"),
        ("dw7x7_wide", 1, 2, 8, 30, 2, (7, 7), (1, 1), (1, 1), (3, 3, 3, 3), 2, True, "none"),
    ]
    for (name, n, c, h, w, o, k, st, dl, pd, g, has_b, act) in cases:
        x = rand(n, c, h, w)
        # clip gets larger weights so that both bounds are hit
        wscale = (8.0 if act == "clip" else 1.0) / math.sqrt(c // g * k[0] * k[1])
        wt = rand(o, c // g, *k, scale=wscale)
        b = rand(o) * (8.0 if act == "clip" else 1.0) if has_b else None
        lo, hi = 0.0, 6.0
        y = conv_ref(x, wt, b, st, dl, pd, g)
        # second opinion: torch on an explicitly padded input
        xt = F.pad(torch.from_numpy(x.astype(np.float64)), (pd[1], pd[3], pd[0], pd[2]))
        yt = F.conv2d(xt, torch.from_numpy(wt.astype(np.float64)),
                      None if b is None else torch.from_numpy(b.astype(np.float64)),
                      stride=st, dilation=dl, groups=g)
        close(y, yt.numpy())
        ya = activation(y, act, lo, hi)
        if act == "clip":
            assert (ya == lo).any() and (ya == hi).any() and ((ya > lo) & (ya < hi)).any()
        dy = rand(*y.shape)
        dx = vjp_linear(lambda e: conv_ref(e, wt, None, st, dl, pd, g), x, dy)
        # torch autograd agrees with the Jacobian transpose
        xg = torch.from_numpy(x.astype(np.float64)).requires_grad_()
        yg = F.conv2d(F.pad(xg, (pd[1], pd[3], pd[0], pd[2])),
                      torch.from_numpy(wt.astype(np.float64)), stride=st, dilation=dl, groups=g)
        yg.backward(torch.from_numpy(dy.astype(np.float64)))
        close(dx, xg.grad.numpy())
        params = {"strides": list(st), "dilations": list(dl), "pads": list(pd),
                  "groups": g, "act": act, "lo": lo, "hi": hi}
        tensors = {"x": x, "w": wt, "y": ya, "dy": dy, "dx": dx}
        if b is not None:
            tensors["b"] = b
        wr.add(name, params, tensors)
    wr.close()


# ---------------------------------------------------------- ConvTranspose

def conv_transpose_ref(x, w, b, strides, dil, pads, out_pad, groups):
    """ONNX ConvTranspose: every input pixel scatters w into the full output
    of size s*(in-1) + output_padding + (k-1)*d + 1, which is then cropped by
    pads (begin, end)."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    sh, sw = strides
    dh, dw = dil
    pt, pl, pb, pr = pads
    cg = c // groups
    fh = sh * (h - 1) + out_pad[0] + (kh - 1) * dh + 1
    fw = sw * (wd - 1) + out_pad[1] + (kw - 1) * dw + 1
    full = np.zeros((n, og * groups, fh, fw))
    for g in range(groups):
        for ki in range(kh):
            for kj in range(kw):
                full[:, g * og:(g + 1) * og,
                     ki * dh: ki * dh + sh * (h - 1) + 1: sh,
                     kj * dw: kj * dw + sw * (wd - 1) + 1: sw] += np.einsum(
                    "nchw,co->nohw", x[:, g * cg:(g + 1) * cg], w[g * cg:(g + 1) * cg, :, ki, kj])
    y = full[:, :, pt: fh - pb, pl: fw - pr]
    if b is not None:
        y = y + np.asarray(b, np.float64)[None, :, None, None]
    return y


def make_conv_transpose():
    wr = Writer("conv_transpose")
    # name, N, C, H, W, O, k, strides, dil, pads, output_padding, groups, bias, act
    cases = [
        ("k3s2p1op1", 1, 3, 4, 5, 2, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), (1, 1), 1, True, "none"),
        ("k4s2p1", 2, 2, 3, 4, 3, (4, 4), (2, 2), (1, 1), (1, 1, 1, 1), (0, 0), 1, True, "none"),
        ("groups2", 1, 4, 5, 4, 6, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), (0, 0), 2, True, "none"),
        ("dil2_s3_asym", 1, 2, 4, 3, 3, (3, 2), (3, 3), (2, 2), (1, 0, 2, 1), (2, 1), 1, True, "none"),
        ("dw_k4s2", 1, 3, 4, 4, 3, (4, 4), (2, 2), (1, 1), (1, 1, 1, 1), (0, 0), 3, False, "none"),
        ("k1", 2, 3, 3, 4, 2, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), (0, 0), 1, True, "none"),
        ("k2s2_relu", 1, 3, 3, 3, 4, (2, 2), (2, 2), (1, 1), (0, 0, 0, 0), (0, 0), 1, True, "relu"),
    ]
    for (name, n, c, h, w, o, k, st, dl, pd, op, g, has_b, act) in cases:
        x = rand(n, c, h, w)
        wt = rand(c, o // g, *k, scale=0.5)
        b = rand(o) if has_b else None
        y = conv_transpose_ref(x, wt, b, st, dl, pd, op, g)
        if pd[0] == pd[2] and pd[1] == pd[3]:
            yt = F.conv_transpose2d(torch.from_numpy(x.astype(np.float64)),
                                    torch.from_numpy(wt.astype(np.float64)),
                                    None if b is None else torch.from_numpy(b.astype(np.float64)),
                                    stride=st, padding=(pd[0], pd[1]), output_padding=op,
                                    groups=g, dilation=dl)
            close(y, yt.numpy())
        dy = rand(*y.shape)
        dx = vjp_linear(lambda e: conv_transpose_ref(e, wt, None, st, dl, pd, op, g), x, dy)
        params = {"strides": list(st), "dilations": list(dl), "pads": list(pd),
                  "output_padding": list(op), "groups": g, "act": act, "lo": 0.0, "hi": 6.0}
        tensors = {"x": x, "w": wt, "y": activation(y, act, 0, 6), "dy": dy, "dx": dx}
        if b is not None:
            tensors["b"] = b
        wr.add(name, params, tensors)
    wr.close()


# ------------------------------------------------------------ Gemm/MatMul

def make_gemm():
    wr = Writer("gemm")
    # name, M, K, N, transA, transB, alpha, beta, C shape (None = no C)
    cases = [
        ("plain_c1d", 3, 4, 5, 0, 0, 1.0, 1.0, (5,)),
        ("transA_col", 3, 4, 5, 1, 0, 0.5, 2.0, (3, 1)),
        ("transB_full", 4, 6, 3, 0, 1, 1.0, 1.0, (4, 3)),
        ("both_scalar", 2, 3, 4, 1, 1, -1.5, 0.25, ()),
        ("no_c", 5, 2, 3, 0, 0, 1.0, 1.0, None),
        ("row_c", 3, 7, 5, 0, 1, 1.0, 1.0, (1, 5)),
        ("beta0", 3, 4, 2, 0, 0, 2.0, 0.0, (3, 2)),
        ("fc", 2, 64, 10, 0, 1, 1.0, 1.0, (10,)),
    ]
    for (name, m, k, n, ta, tb, alpha, beta, cs) in cases:
        a = rand(*((k, m) if ta else (m, k)))
        bm = rand(*((n, k) if tb else (k, n)))
        c = rand(*cs) if cs is not None else None
        A = torch.from_numpy(a.astype(np.float64)).requires_grad_()
        B = torch.from_numpy(bm.astype(np.float64)).requires_grad_()
        y = alpha * ((A.T if ta else A) @ (B.T if tb else B))
        if c is not None:
            y = y + beta * torch.from_numpy(c.astype(np.float64))
        # NumPy from the spec as the forward reference, torch must agree
        yn = alpha * ((a.T if ta else a).astype(np.float64) @ (bm.T if tb else bm).astype(np.float64))
        if c is not None:
            yn = yn + beta * np.broadcast_to(c.astype(np.float64), (m, n))
        close(yn, y.detach().numpy())
        dy = rand(m, n)
        y.backward(torch.from_numpy(dy.astype(np.float64)))
        params = {"m": m, "k": k, "n": n, "trans_a": ta, "trans_b": tb,
                  "alpha": alpha, "beta": beta, "c_shape": list(cs) if cs is not None else None}
        tensors = {"a": a, "b": bm, "y": yn, "dy": dy, "da": A.grad.numpy(), "db": B.grad.numpy()}
        if c is not None:
            tensors["c"] = c
        wr.add(name, params, tensors)
    wr.close()


def make_matmul():
    wr = Writer("matmul")
    cases = [
        ("2d", (3, 4), (4, 5)),
        ("fold", (2, 3, 4), (4, 5)),
        ("batched", (2, 3, 4), (2, 4, 5)),
        ("bcast", (2, 1, 3, 4), (3, 4, 2)),
        ("vec_mat", (4,), (4, 5)),
        ("mat_vec", (3, 4), (4,)),
        ("dot", (6,), (6,)),
        ("bcast2", (1, 3, 4), (2, 1, 4, 5)),
        ("bcast_a", (5, 3, 4), (1, 4, 2)),
        ("b_batched_a_2d", (3, 4), (2, 4, 2)),
    ]
    for (name, ash, bsh) in cases:
        a = rand(*ash)
        b = rand(*bsh)
        yn = np.matmul(a.astype(np.float64), b.astype(np.float64))
        A = torch.from_numpy(a.astype(np.float64)).requires_grad_()
        B = torch.from_numpy(b.astype(np.float64)).requires_grad_()
        y = torch.matmul(A, B)
        close(yn, y.detach().numpy())
        dy = rand(*yn.shape)
        y.backward(torch.from_numpy(dy.astype(np.float64)))
        wr.add(name, {"a_shape": list(ash), "b_shape": list(bsh), "y_shape": list(yn.shape)},
               {"a": a, "b": b, "y": yn, "dy": dy, "da": A.grad.numpy(), "db": B.grad.numpy()})
    wr.close()


# --------------------------------------------------------------- Pooling

def pool_out(n, k, s, d, pb, pe, ceil):
    """Output length: ONNX formula; with ceil_mode the last window must start
    inside the input or its begin padding (PyTorch's rule, the ONNX
    reference implementation's since 1.16)."""
    eff = (k - 1) * d + 1
    span = n + pb + pe - eff
    o = (-(-span // s) if ceil else span // s) + 1
    if ceil and (o - 1) * s >= n + pb:
        o -= 1
    return o


def pool_ref(x, kind, k, st, dl, pads, ceil, cip):
    """Enumerates each window's taps as the spec describes; vectorised over
    (N, C) only. Max ignores padding; average divides by the taps inside the
    input (cip 0) or inside the padded input [-pb, in + pe) (cip 1)."""
    x = np.asarray(x, np.float64)
    n, c, h, w = x.shape
    pt, pl, pb, pr = pads
    ho = pool_out(h, k[0], st[0], dl[0], pt, pb, ceil)
    wo = pool_out(w, k[1], st[1], dl[1], pl, pr, ceil)
    y = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            vals, cnt_pad = [], 0
            for ki in range(k[0]):
                for kj in range(k[1]):
                    ih = i * st[0] - pt + ki * dl[0]
                    iw = j * st[1] - pl + kj * dl[1]
                    if -pt <= ih < h + pb and -pl <= iw < w + pr:
                        cnt_pad += 1
                    if 0 <= ih < h and 0 <= iw < w:
                        vals.append(x[:, :, ih, iw])
            if kind == "max":
                y[:, :, i, j] = np.max(vals, axis=0) if vals else 0.0
            else:
                s = np.sum(vals, axis=0) if vals else 0.0
                cnt = cnt_pad if cip else len(vals)
                y[:, :, i, j] = s / cnt if cnt else 0.0
    return y


def maxpool_grad_torch(x, k, st, dl, pads, ceil, dy):
    """torch autograd through a -inf pre-padding (covers asymmetric pads).
    Torch's own ceil rule would see the padding as input, so the output is
    cropped to the ONNX size, which only ever drops trailing windows."""
    xt = torch.from_numpy(x.astype(np.float64)).requires_grad_()
    xp = F.pad(xt, (pads[1], pads[3], pads[0], pads[2]), value=-math.inf)
    y = F.max_pool2d(xp, k, st, 0, dl, ceil_mode=ceil)
    y = y[:, :, :dy.shape[2], :dy.shape[3]]
    y.backward(torch.from_numpy(dy.astype(np.float64)))
    return y.detach().numpy(), xt.grad.numpy()


def make_pool():
    wr = Writer("pool")
    # name, N, C, H, W, k, strides, dilations, pads, ceil
    cases = [
        ("k2s2", 1, 2, 8, 7, (2, 2), (2, 2), (1, 1), (0, 0, 0, 0), False),
        ("k3s2p1", 2, 2, 9, 9, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), False),
        ("k3s2_ceil", 1, 2, 8, 8, (3, 3), (2, 2), (1, 1), (0, 0, 0, 0), True),
        ("k3s2p1_ceil", 1, 3, 10, 9, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), True),
        ("same_upper", 1, 2, 7, 7, (2, 2), (2, 2), (1, 1), (0, 0, 1, 1), False),
        ("dil2", 1, 2, 9, 8, (3, 3), (1, 1), (2, 2), (2, 2, 2, 2), False),
        ("k3s3_ceil", 2, 1, 10, 11, (3, 3), (3, 3), (1, 1), (0, 0, 0, 0), True),
        ("k3s1p1", 1, 2, 6, 5, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), False),
        ("k2x3_asym", 1, 2, 7, 9, (2, 3), (1, 2), (1, 1), (1, 0, 0, 2), False),
        ("dil2_ceil_asym", 1, 2, 10, 9, (2, 3), (2, 2), (2, 1), (1, 0, 0, 1), True),
        # ceil_mode would add a window starting in the end padding: dropped (H)
        ("ceil_drop", 1, 1, 5, 6, (2, 2), (2, 2), (1, 1), (1, 1, 1, 1), True),
        ("ceil_drop_s3", 1, 2, 7, 10, (3, 3), (3, 3), (1, 1), (1, 1, 1, 1), True),
    ]
    for (name, n, c, h, w, k, st, dl, pd, ceil) in cases:
        # distinct values spaced 1/64 apart: no ties, so argmax and the
        # finite-difference probe in C are well defined
        x = (rng.permutation(n * c * h * w).reshape(n, c, h, w) / 64.0 - 1.0).astype(np.float32)
        base = {"kernel": list(k), "strides": list(st), "dilations": list(dl),
                "pads": list(pd), "ceil_mode": int(ceil)}
        y = pool_ref(x, "max", k, st, dl, pd, ceil, 0)
        dy = rand(*y.shape)
        yt, dx = maxpool_grad_torch(x, k, st, dl, pd, ceil, dy)
        close(y, yt)
        wr.add("max_" + name, dict(base, kind="max", count_include_pad=0),
               {"x": x, "y": y, "dy": dy, "dx": dx})
        for cip in (0, 1):
            y = pool_ref(x, "avg", k, st, dl, pd, ceil, cip)
            if dl == (1, 1) and pd[0] == pd[2] and pd[1] == pd[3] and \
                    pd[0] <= k[0] // 2 and pd[1] <= k[1] // 2:
                yt = F.avg_pool2d(torch.from_numpy(x.astype(np.float64)), k, st,
                                  (pd[0], pd[1]), ceil_mode=ceil, count_include_pad=bool(cip))
                close(y, yt.numpy())
            dy = rand(*y.shape)
            dx = vjp_linear(lambda e: pool_ref(e, "avg", k, st, dl, pd, ceil, cip), x, dy)
            wr.add(f"avg{cip}_" + name, dict(base, kind="avg", count_include_pad=cip),
                   {"x": x, "y": y, "dy": dy, "dx": dx})
    # global pools
    x = (rng.permutation(2 * 3 * 5 * 4).reshape(2, 3, 5, 4) / 64.0 - 1.0).astype(np.float32)
    y = x.astype(np.float64).mean(axis=(2, 3), keepdims=True)
    dy = rand(2, 3, 1, 1)
    dx = vjp_linear(lambda e: e.mean(axis=(2, 3), keepdims=True), x, dy)
    wr.add("global_avg", {"kind": "global_avg"}, {"x": x, "y": y, "dy": dy, "dx": dx})
    xt = torch.from_numpy(x.astype(np.float64)).requires_grad_()
    yt = xt.amax(dim=(2, 3), keepdim=True)
    yt.backward(torch.from_numpy(dy.astype(np.float64)))
    wr.add("global_max", {"kind": "global_max"},
           {"x": x, "y": x.max(axis=(2, 3), keepdims=True), "dy": dy, "dx": xt.grad.numpy()})
    wr.close()


# ---------------------------------------------------------------- Resize

COORDS = ["half_pixel", "pytorch_half_pixel", "asymmetric", "align_corners",
          "tf_half_pixel_for_nn"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]


def src_coord(mode, o, scale, n_in, n_out, from_scales=False):
    """ONNX Resize coordinate_transformation_mode, evaluated in float32 in
    the order ONNX Runtime writes the formulas (with float64 a few nearest
    picks differ from ORT, e.g. o / 1.1f). align_corners with scales given:
    the spec's length_resized = scale * n_in (scale = length_resized /
    length_original), as in ONNX's node test
    resize_downsample_scales_linear_align_corners; ONNX Runtime uses the
    floored output length there (from_scales=False reproduces it)."""
    f = np.float32
    o, scale = f(o), f(scale)
    if mode == "half_pixel":
        return float((o + f(0.5)) / scale - f(0.5))
    if mode == "pytorch_half_pixel":
        return float((o + f(0.5)) / scale - f(0.5)) if n_out > 1 else 0.0
    if mode == "asymmetric":
        return float(o / scale)
    if mode == "align_corners":
        length = scale * f(n_in) if from_scales else f(n_out)
        return 0.0 if length <= 1 else float(o * f(n_in - 1) / (length - f(1)))
    if mode == "tf_half_pixel_for_nn":
        return float((o + f(0.5)) / scale)
    raise ValueError(mode)


def out_size(n, scale):
    """ORT's output length for a scale: floor(scale * n) in float32."""
    return int(np.float32(scale) * np.float32(n))


def round_nearest(mode, v, scale):
    if mode == "simple":
        # ONNX Runtime's Upsample / Resize-10 (observed, see ort_crosscheck)
        return math.ceil(v) if scale < 1 else math.floor(v)
    if mode == "round_prefer_floor":
        return math.floor(v) if v == math.floor(v) + 0.5 else round(v)
    if mode == "round_prefer_ceil":
        return math.ceil(v) if v == math.floor(v) + 0.5 else round(v)
    if mode == "floor":
        return math.floor(v)
    return math.ceil(v)


def resize_ref(x, mode, coord, nearest, scales, out_hw, ort_lengths=False):
    """ONNX Resize on H, W. Linear interpolation follows the spec's reference:
    the two neighbours of the source coordinate in the edge-padded input.
    ort_lengths: align_corners on the floored output length even when scales
    are given, as ONNX Runtime does (only for the cross-check)."""
    x = np.asarray(x, np.float64)
    n, c, h, w = x.shape
    ho, wo = out_hw
    sh = scales[0] if scales[0] > 0 else np.float32(ho) / np.float32(h)
    sw = scales[1] if scales[1] > 0 else np.float32(wo) / np.float32(w)
    y = np.zeros((n, c, ho, wo))

    def taps(o, scale, n_in, n_out, from_given):
        if np.float32(scale) == 1.0 and n_in == n_out:
            # ONNX Runtime copies an axis whose scale is 1 (checked below);
            # the formula agrees except for tf_half_pixel_for_nn's shift
            return [(o, 1.0)]
        v = src_coord(coord, o, scale, n_in, n_out, from_given and not ort_lengths)
        if mode == "nearest":
            return [(min(max(round_nearest(nearest, v, scale), 0), n_in - 1), 1.0)]
        v = min(max(v, 0.0), n_in - 1.0)  # edge padding, as ORT clamps
        i0 = math.floor(v)
        lam = float(np.float32(v) - np.float32(i0))
        edge = lambda i: min(max(i, 0), n_in - 1)  # edge padding
        return [(edge(i0), 1.0 - lam), (edge(i0 + 1), lam)]

    for i in range(ho):
        ti = taps(i, sh, h, ho, scales[0] > 0)
        for j in range(wo):
            tj = taps(j, sw, w, wo, scales[1] > 0)
            for (a, wa) in ti:
                for (b, wb) in tj:
                    y[:, :, i, j] += wa * wb * x[:, :, a, b]
    return y


def make_resize():
    wr = Writer("resize")
    k = 0
    shapes = [((1, 2, 4, 5), (9, 7)), ((1, 2, 7, 9), (3, 4)), ((2, 1, 5, 3), (5, 8))]
    for coord in COORDS:
        for nm in NEAREST:
            xs, ohw = shapes[k % 3]
            k += 1
            x = rand(*xs)
            cases = [(f"nearest_{coord}_{nm}", (0.0, 0.0), ohw)]
            if coord in ("asymmetric", "half_pixel"):
                cases.append((f"nearest_{coord}_{nm}_scales", (2.0, 1.5),
                              (out_size(xs[2], 2.0), out_size(xs[3], 1.5))))
            for (name, sc, o) in cases:
                y = resize_ref(x, "nearest", coord, nm, sc, o)
                dy = rand(*y.shape)
                dx = vjp_linear(lambda e: resize_ref(e, "nearest", coord, nm, sc, o), x, dy)
                wr.add(name, {"mode": "nearest", "coord": coord, "nearest": nm,
                              "scales": list(sc), "out": list(o)},
                       {"x": x, "y": y, "dy": dy, "dx": dx})
    for coord in COORDS[:4]:
        for si, (xs, o) in enumerate(shapes + [((1, 2, 5, 4), (1, 1)), ((1, 1, 3, 4), (1, 7))]):
            x = rand(*xs)
            variants = [(f"linear_{coord}_{si}", (0.0, 0.0), o)]
            if si == 0:
                variants.append((f"linear_{coord}_scales", (2.5, 1.75),
                                 (out_size(xs[2], 2.5), out_size(xs[3], 1.75))))
            for (name, sc, oo) in variants:
                y = resize_ref(x, "linear", coord, "floor", sc, oo)
                if coord in ("half_pixel", "pytorch_half_pixel", "align_corners") \
                        and sc == (0.0, 0.0) and min(oo) > 1:
                    yt = F.interpolate(torch.from_numpy(x.astype(np.float64)), size=oo,
                                       mode="bilinear", align_corners=coord == "align_corners")
                    close(y, yt.numpy(), 1e-6)  # torch: float64 coordinates, ours float32
                dy = rand(*y.shape)
                dx = vjp_linear(lambda e: resize_ref(e, "linear", coord, "floor", sc, oo), x, dy)
                wr.add(name, {"mode": "linear", "coord": coord, "nearest": "floor",
                              "scales": list(sc), "out": list(oo)},
                       {"x": x, "y": y, "dy": dy, "dx": dx})
    # Upsample-9 / Resize-10 (scales given, asymmetric, "simple" rounding)
    for (name, op, mode, xs, sc) in [("upsample9_nearest", "Upsample", "nearest", (1, 2, 4, 5), (2.5, 1.5)),
                                     ("upsample9_linear", "Upsample", "linear", (1, 2, 4, 5), (2.0, 3.0)),
                                     ("resize10_nearest_down", "Resize10", "nearest", (1, 2, 10, 9), (0.6, 0.35)),
                                     ("resize10_nearest_mixed", "Resize10", "nearest", (2, 1, 5, 10), (2.0, 0.6)),
                                     ("resize10_linear_down", "Resize10", "linear", (1, 2, 10, 7), (0.6, 0.5))]:
        x = rand(*xs)
        o = (out_size(xs[2], sc[0]), out_size(xs[3], sc[1]))
        y = resize_ref(x, mode, "asymmetric", "simple", sc, o)
        dy = rand(*y.shape)
        dx = vjp_linear(lambda e: resize_ref(e, mode, "asymmetric", "simple", sc, o), x, dy)
        wr.add(name, {"mode": mode, "coord": "asymmetric", "nearest": "simple",
                      "scales": list(sc), "out": list(o), "legacy_op": op},
               {"x": x, "y": y, "dy": dy, "dx": dx})
    # scales whose float32 coordinates round differently from float64 ones
    # (each picks at least one other pixel in float64 than ORT does)
    for (name, coord, nm, xs, sc) in [("odd_asym_1.1", "asymmetric", "floor", (1, 1, 3, 40), (1.1, 1.1)),
                                      ("odd_half_2.3", "half_pixel", "round_prefer_floor", (1, 1, 2, 40), (1.7, 2.3)),
                                      ("odd_half_0.7", "half_pixel", "round_prefer_floor", (1, 1, 5, 40), (1.0, 0.7))]:
        x = rand(*xs)
        o = (out_size(xs[2], sc[0]), out_size(xs[3], sc[1]))
        y = resize_ref(x, "nearest", coord, nm, sc, o)
        dy = rand(*y.shape)
        dx = vjp_linear(lambda e: resize_ref(e, "nearest", coord, nm, sc, o), x, dy)
        wr.add(name, {"mode": "nearest", "coord": coord, "nearest": nm, "scales": list(sc),
                      "out": list(o)}, {"x": x, "y": y, "dy": dy, "dx": dx})
    # torch's "nearest" is asymmetric + floor (ONNX Upsample): check the reference
    x = rand(1, 2, 4, 5)
    close(resize_ref(x, "nearest", "asymmetric", "floor", (0, 0), (8, 10)),
          F.interpolate(torch.from_numpy(x.astype(np.float64)), size=(8, 10), mode="nearest").numpy())
    close(resize_ref(x, "nearest", "asymmetric", "floor", (0, 0), (7, 13)),
          F.interpolate(torch.from_numpy(x.astype(np.float64)), size=(7, 13), mode="nearest").numpy())
    wr.close()


# ------------------------------------------------------ BatchNorm/Softmax

def make_norm():
    wr = Writer("norm")
    n, c, h, w = 2, 3, 4, 5
    x = rand(n, c, h, w)
    gamma, beta, mean = rand(c), rand(c), rand(c)
    var = (rng.random(c) + 0.1).astype(np.float32)
    eps = 1e-5
    s = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    y = (x.astype(np.float64) - mean[None, :, None, None]) * s[None, :, None, None] \
        + beta[None, :, None, None]
    yt = F.batch_norm(torch.from_numpy(x.astype(np.float64)), torch.from_numpy(mean.astype(np.float64)),
                      torch.from_numpy(var.astype(np.float64)), torch.from_numpy(gamma.astype(np.float64)),
                      torch.from_numpy(beta.astype(np.float64)), training=False, eps=eps)
    close(y, yt.numpy())
    dy = rand(n, c, h, w)
    wr.add("batchnorm", {"kind": "batchnorm", "eps": eps},
           {"x": x, "gamma": gamma, "beta": beta, "mean": mean, "var": var, "y": y,
            "dy": dy, "dx": dy.astype(np.float64) * s[None, :, None, None]})
    # conv followed by BN, for the folding helper
    wt = rand(c, 2, 3, 3)
    b = rand(c)
    x2 = rand(1, 2, 6, 5)
    yc = conv_ref(x2, wt, b, (1, 1), (1, 1), (1, 1, 1, 1), 1)
    ybn = (yc - mean[None, :, None, None]) * s[None, :, None, None] + beta[None, :, None, None]
    wr.add("conv_bn", {"kind": "conv_bn", "eps": eps},
           {"x": x2, "w": wt, "b": b, "gamma": gamma, "beta": beta, "mean": mean, "var": var,
            "y": ybn})
    # softmax over [outer, len, inner]
    for (name, outer, ln, inner, scale) in [("sm_mid", 2, 5, 3, 1.0), ("sm_last", 1, 10, 1, 1.0),
                                            ("sm_big", 3, 7, 2, 60.0), ("sm_len1", 3, 1, 4, 1.0)]:
        x = rand(outer, ln, inner, scale=scale)
        xd = x.astype(np.float64)
        e = np.exp(xd - xd.max(axis=1, keepdims=True))
        y = e / e.sum(axis=1, keepdims=True)
        xt = torch.from_numpy(xd).requires_grad_()
        yt = torch.softmax(xt, dim=1)
        close(y, yt.detach().numpy())
        dy = rand(outer, ln, inner)
        yt.backward(torch.from_numpy(dy.astype(np.float64)))
        wr.add(name, {"kind": "softmax", "outer": outer, "len": ln, "inner": inner},
               {"x": x, "y": y, "dy": dy, "dx": xt.grad.numpy()})
    wr.close()


# ------------------------------------------- ONNX Runtime cross-check

def ort_crosscheck():
    """Runs every forward case as a single-op ONNX model in ONNX Runtime
    (npm onnxruntime-node, tools/ref) and asserts it agrees with the NumPy
    reference, so the references encode ONNX semantics as ORT implements
    them (ceil_mode, count_include_pad, every Resize mode ...). Skipped
    with a note when node or tools/ref/node_modules is missing."""
    import subprocess
    import tempfile
    import onnx
    from onnx import TensorProto, helper

    root = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
    mods = os.path.join(root, "tools", "ref", "node_modules")
    if not shutil.which("node") or not os.path.isdir(os.path.join(mods, "onnxruntime-node")):
        print("note: ONNX Runtime cross-check skipped (run npm ci in tools/ref)")
        return
    tmp = tempfile.mkdtemp(prefix="tl-ort-")
    manifest, expected = [], []

    def load(case, key):
        return np.load(os.path.join(HERE, case["tensors"][key]))

    def emit(name, nodes, inputs, y, opset, inits=()):
        """inputs: list of (onnx name, array); y: expected output."""
        vis = []
        entries = []
        for (nm, arr) in inputs:
            is_i64 = nm.endswith("_i64")
            vis.append(helper.make_tensor_value_info(
                nm, TensorProto.INT64 if is_i64 else TensorProto.FLOAT, list(arr.shape)))
            fn = f"{name}.{nm}.bin"
            np.ascontiguousarray(arr, np.int64 if is_i64 else np.float32).tofile(os.path.join(tmp, fn))
            entries.append({"name": nm, "file": fn, "dims": list(arr.shape)})
        out = helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)
        graph = helper.make_graph(nodes, name, vis, [out], initializer=list(inits))
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8
        onnx.save(model, os.path.join(tmp, name + ".onnx"))
        manifest.append({"model": name + ".onnx", "inputs": entries, "output_file": name + ".out"})
        expected.append((name, y))

    def act_nodes(act, src):
        if act == "relu":
            return [helper.make_node("Relu", [src], ["Y"])]
        if act == "clip":
            return [helper.make_node("Clip", [src, "lo", "hi"], ["Y"])]
        if act == "hardswish":
            return [helper.make_node("HardSwish", [src], ["Y"])]
        return []

    clip_inits = [helper.make_tensor("lo", TensorProto.FLOAT, [], [0.0]),
                  helper.make_tensor("hi", TensorProto.FLOAT, [], [6.0])]
    for kernel in ("conv", "conv_transpose"):
        for c in json.load(open(os.path.join(HERE, kernel, "cases.json")))["cases"]:
            p = c["params"]
            x, w, y = load(c, "x"), load(c, "w"), load(c, "y")
            ins = [("X", x), ("W", w)]
            if "b" in c["tensors"]:
                ins.append(("B", load(c, "b")))
            attrs = dict(kernel_shape=list(w.shape[2:]), strides=p["strides"],
                         dilations=p["dilations"], pads=p["pads"], group=p["groups"])
            if kernel == "conv_transpose":
                attrs["output_padding"] = p["output_padding"]
            tail = act_nodes(p["act"], "Z")
            node = helper.make_node("Conv" if kernel == "conv" else "ConvTranspose",
                                    [n for n, _ in ins], ["Z" if tail else "Y"], **attrs)
            emit(f"{kernel}_{c['name']}", [node] + tail, ins, y, 17,
                 clip_inits if p["act"] == "clip" else ())
    for c in json.load(open(os.path.join(HERE, "pool", "cases.json")))["cases"]:
        p = c["params"]
        x, y = load(c, "x"), load(c, "y")
        if p["kind"].startswith("global"):
            op = "GlobalMaxPool" if p["kind"] == "global_max" else "GlobalAveragePool"
            emit("pool_" + c["name"], [helper.make_node(op, ["X"], ["Y"])], [("X", x)], y, 19)
            continue
        attrs = dict(kernel_shape=p["kernel"], strides=p["strides"], dilations=p["dilations"],
                     pads=p["pads"], ceil_mode=p["ceil_mode"])
        if p["kind"] == "avg":
            attrs["count_include_pad"] = p["count_include_pad"]
        op = "MaxPool" if p["kind"] == "max" else "AveragePool"
        emit("pool_" + c["name"], [helper.make_node(op, ["X"], ["Y"], **attrs)], [("X", x)], y, 19)
    for c in json.load(open(os.path.join(HERE, "resize", "cases.json")))["cases"]:
        p = c["params"]
        x, y = load(c, "x"), load(c, "y")
        attrs = dict(mode=p["mode"], coordinate_transformation_mode=p["coord"],
                     nearest_mode=p["nearest"])
        roi = helper.make_tensor("roi", TensorProto.FLOAT, [0], [])
        if "legacy_op" in p:
            sc = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, 1] + p["scales"])
            op, opset = ("Upsample", 9) if p["legacy_op"] == "Upsample" else ("Resize", 10)
            node = helper.make_node(op, ["X", "scales"], ["Y"], mode=p["mode"])
            emit("resize_" + c["name"], [node], [("X", x)], y, opset, [sc])
        elif p["scales"][0] > 0:
            sc = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, 1] + p["scales"])
            node = helper.make_node("Resize", ["X", "roi", "scales"], ["Y"], **attrs)
            if p["coord"] == "align_corners":
                # ORT resizes align_corners over the floored length (see
                # src_coord): check it against that variant of the reference
                y = resize_ref(x, p["mode"], p["coord"], p["nearest"], p["scales"], p["out"],
                               ort_lengths=True)
            emit("resize_" + c["name"], [node], [("X", x)], y, 11, [roi, sc])
        else:
            sc = helper.make_tensor("scales", TensorProto.FLOAT, [0], [])
            sz = helper.make_tensor("sizes", TensorProto.INT64, [4], list(y.shape))
            node = helper.make_node("Resize", ["X", "roi", "scales", "sizes"], ["Y"], **attrs)
            emit("resize_" + c["name"], [node], [("X", x)], y, 11, [roi, sc, sz])
    for c in json.load(open(os.path.join(HERE, "gemm", "cases.json")))["cases"]:
        p = c["params"]
        ins = [("A", load(c, "a")), ("B", load(c, "b"))]
        if "c" in c["tensors"]:
            ins.append(("C", load(c, "c")))
        node = helper.make_node("Gemm", [n for n, _ in ins], ["Y"], alpha=p["alpha"], beta=p["beta"],
                                transA=p["trans_a"], transB=p["trans_b"])
        emit("gemm_" + c["name"], [node], ins, load(c, "y"), 13)
    for c in json.load(open(os.path.join(HERE, "matmul", "cases.json")))["cases"]:
        node = helper.make_node("MatMul", ["A", "B"], ["Y"])
        emit("matmul_" + c["name"], [node], [("A", load(c, "a")), ("B", load(c, "b"))],
             load(c, "y"), 13)
    for c in json.load(open(os.path.join(HERE, "norm", "cases.json")))["cases"]:
        p = c["params"]
        if p["kind"] == "softmax":
            node = helper.make_node("Softmax", ["X"], ["Y"], axis=1)
            emit("norm_" + c["name"], [node], [("X", load(c, "x"))], load(c, "y"), 13)
        elif p["kind"] == "batchnorm":
            ins = [("X", load(c, "x"))] + [(k, load(c, k.lower())) for k in ("gamma", "beta", "mean", "var")]
            node = helper.make_node("BatchNormalization", [n for n, _ in ins], ["Y"], epsilon=p["eps"])
            emit("norm_" + c["name"], [node], ins, load(c, "y"), 15)
    with open(os.path.join(tmp, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    env = dict(os.environ, NODE_PATH=mods)
    worst, bad = 0.0, []
    try:
        subprocess.run(["node", os.path.join(HERE, "run-ort.js"), tmp], check=True, env=env)
        for (name, y) in expected:
            got = np.fromfile(os.path.join(tmp, name + ".out"), np.float32).reshape(y.shape)
            err = np.linalg.norm(got - y.astype(np.float64)) / max(np.linalg.norm(y), 1e-30)
            if err > 1e-5:
                bad.append(f"{name} ({err:.3g})")
            worst = max(worst, err)
    finally:
        shutil.rmtree(tmp)
    assert not bad, "ONNX Runtime differs from the reference: " + ", ".join(bad)
    print(f"ONNX Runtime agrees on {len(expected)} forward cases (worst rel L2 {worst:.2g})")


if __name__ == "__main__":
    make_conv()
    make_conv_transpose()
    make_gemm()
    make_matmul()
    make_pool()
    make_resize()
    make_norm()
    ort_crosscheck()
