#!/usr/bin/python3
"""Reference resizes for tests/imaging/test-resize.c, computed in float64 by
plain per-pixel NumPy code written from the definitions in src/resize.h (not
from the C), and cross-checked against torch.nn.functional.interpolate
(bilinear, align_corners=False) and adaptive_avg_pool2d where they define
the same thing; check-resize-tfjs.js checks the half-pixel and tf-legacy
files against TF.js tf.image.resizeBilinear (agreement <= 6e-8). Files: resize_<case>_in.npy (H x W x C) and
resize_<case>_<mode>.npy, float32."""
import os

import numpy as np
import torch
import torch.nn.functional as F

from ref_resize import area, bilinear

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


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
