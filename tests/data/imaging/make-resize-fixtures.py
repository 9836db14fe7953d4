#!/usr/bin/python3
"""Reference resizes for tests/imaging/test-resize.c, computed in float64 by
plain per-pixel NumPy code written from the definitions in src/resize.h (not
from the C), and cross-checked against torch.nn.functional.interpolate
(bilinear, align_corners=False) and adaptive_avg_pool2d where they define
the same thing. Files: resize_<case>_in.npy (H x W x C) and
resize_<case>_<mode>.npy, float32."""
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


def bilinear_axis_coords(n_in, n_out, mode, start=0.0, length=None):
    i = np.arange(n_out, dtype=np.float64)
    if mode == "half-pixel":
        s = (i + 0.5) * n_in / n_out - 0.5
    elif mode == "tf-legacy":
        s = i * n_in / n_out
    elif mode == "window":
        s = start + (i + 0.5) * length / n_out - 0.5
    return np.clip(s, 0, n_in - 1)


def bilinear(img, oh, ow, mode, window=None):
    h, w, c = img.shape
    if window:
        x0, y0, ww, wh = window
        sy = bilinear_axis_coords(h, oh, "window", y0, wh)
        sx = bilinear_axis_coords(w, ow, "window", x0, ww)
    else:
        sy = bilinear_axis_coords(h, oh, mode)
        sx = bilinear_axis_coords(w, ow, mode)
    out = np.zeros((oh, ow, c))
    for y in range(oh):
        y0_ = int(np.floor(sy[y])); y1_ = min(y0_ + 1, h - 1); ly = sy[y] - y0_
        for x in range(ow):
            x0_ = int(np.floor(sx[x])); x1_ = min(x0_ + 1, w - 1); lx = sx[x] - x0_
            out[y, x] = ((1 - ly) * ((1 - lx) * img[y0_, x0_] + lx * img[y0_, x1_])
                         + ly * ((1 - lx) * img[y1_, x0_] + lx * img[y1_, x1_]))
    return out


def area_matrix(n_in, n_out):
    """n_out x n_in; shrinking: box coverage; growing: half-pixel bilinear."""
    if n_out > n_in:
        m = np.zeros((n_out, n_in))
        s = bilinear_axis_coords(n_in, n_out, "half-pixel")
        for i, si in enumerate(s):
            i0 = int(np.floor(si)); i1 = min(i0 + 1, n_in - 1)
            m[i, i0] += 1 - (si - i0); m[i, i1] += si - i0
        return m
    r = n_in / n_out
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        a, b = i * r, min((i + 1) * r, n_in)
        for j in range(n_in):
            m[i, j] = max(0.0, min(j + 1, b) - max(j, a)) / r
    return m


def area(img, oh, ow):
    my, mx = area_matrix(img.shape[0], oh), area_matrix(img.shape[1], ow)
    return np.einsum("yh,hwc,xw->yxc", my, img, mx)


def torch_bilinear(img, oh, ow):
    t = torch.from_numpy(img.transpose(2, 0, 1)[None].astype(np.float32))
    return F.interpolate(t, size=(oh, ow), mode="bilinear", align_corners=False)[0] \
        .numpy().transpose(1, 2, 0)


cases = {
    # name: (in h, w, c), (out h, w)
    "up16": ((16, 16, 1), (61, 97)),
    "down": ((23, 37, 3), (7, 10)),
    "down_int": ((24, 36, 3), (6, 9)),
    "mixed": ((3, 40, 4), (11, 13)),
    "one": ((1, 1, 2), (4, 5)),
    "same": ((5, 6, 3), (5, 6)),
    "to_one": ((9, 7, 1), (1, 1)),
}
for name, ((h, w, c), (oh, ow)) in cases.items():
    img = rng.random((h, w, c)).astype(np.float32)
    np.save(os.path.join(HERE, f"resize_{name}_in.npy"), img)
    x = img.astype(np.float64)
    hp = bilinear(x, oh, ow, "half-pixel")
    assert np.abs(hp - torch_bilinear(img, oh, ow)).max() < 1e-6, name
    tf = bilinear(x, oh, ow, "tf-legacy")
    ar = area(x, oh, ow)
    if oh <= h and ow <= w and h % oh == 0 and w % ow == 0:
        t = torch.from_numpy(img.transpose(2, 0, 1)[None])
        pool = F.adaptive_avg_pool2d(t, (oh, ow))[0].numpy().transpose(1, 2, 0)
        assert np.abs(ar - pool).max() < 1e-6, name
    if (oh, ow) == (h, w):
        assert np.array_equal(hp, x) and np.array_equal(tf, x) and np.allclose(ar, x)
    for mode, out in (("half-pixel", hp), ("tf-legacy", tf), ("area", ar)):
        np.save(os.path.join(HERE, f"resize_{name}_{mode}.npy"), out.astype(np.float32))

# windows: the letterbox way back (a sub-rectangle of a 16 x 16 map)
img = np.load(os.path.join(HERE, "resize_up16_in.npy")).astype(np.float64)
for name, win, (oh, ow) in (("win_full", (0, 0, 16, 16), (61, 97)),
                            ("win_band", (0, 3.5, 16, 9), (30, 53)),
                            ("win_frac", (2.25, 1.5, 11.5, 13), (17, 20))):
    out = bilinear(img, oh, ow, None, window=win)
    if name == "win_full":
        assert np.allclose(out, np.load(os.path.join(HERE, "resize_up16_half-pixel.npy")), atol=1e-6)
    np.save(os.path.join(HERE, f"resize_{name}.npy"), out.astype(np.float32))
print("ok")
