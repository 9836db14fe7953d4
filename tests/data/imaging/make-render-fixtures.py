#!/usr/bin/python3
"""References for tests/imaging/test-cli-render.c: `tensorlens render` on a
small photo-like PNG and a 4 x 5 map, recomputed here from the definitions
(render.h, preprocess.h) with NumPy float64 and matplotlib's colour maps.
Outputs render_<case>.npy (H x W x C, float in [0,1], before the 8-bit PNG
quantisation the test allows for)."""
import os

import matplotlib
import numpy as np
from PIL import Image

from ref_resize import bilinear

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(5)
H, W = 17, 23
rgb = rng.integers(0, 256, size=(H, W, 3)).astype(np.uint8)
alpha = rng.integers(0, 256, size=(H, W, 1)).astype(np.uint8)
Image.fromarray(rgb).save(os.path.join(HERE, "render_img.png"))
Image.fromarray(np.concatenate([rgb, alpha], axis=2), "RGBA").save(
    os.path.join(HERE, "render_img_rgba.png"))
m = rng.random((4, 5)).astype(np.float32)
m[0, 0], m[3, 4] = -0.5, 1.5  # clamped by the renderer
np.save(os.path.join(HERE, "render_map.npy"), m)
np.save(os.path.join(HERE, "render_map_bad.npy"), np.zeros((2, 4, 5), np.float32))
img = rgb / 255.0
a = alpha / 255.0


def colormap(name, s):
    lut = matplotlib.colormaps[name](np.arange(256))[:, :3]
    pos = np.clip(s, 0, 1) * 255
    i0 = np.minimum(np.floor(pos).astype(int), 254)
    f = (pos - i0)[..., None]
    return (1 - f) * lut[i0] + f * lut[i0 + 1]


def unmap(win):
    return bilinear(m.astype(np.float64)[:, :, None], H, W, None, window=win)[:, :, 0]


stretch = unmap((0, 0, 5, 4))
assert np.allclose(stretch, bilinear(m.astype(np.float64)[:, :, None], H, W, "half-pixel")[:, :, 0])
# letterbox into 32 x 32: s = 32/23, content 32 x round(17*32/23) = 32 x 24, y0 = 4
fx, fy = 5 / 32, 4 / 32
letter = unmap((0, 4 * fy, 32 * fx, 24 * fy))

s = np.clip(stretch, 0, 1)
cases = {
    "overlay": 0.7 * img + 0.3 * colormap("jet", s),
    "heatmap_letterbox": colormap("turbo", np.clip(letter, 0, 1)),
    "masked_rgba": np.concatenate([img * s[..., None], a], axis=2),
    "greymap": s[..., None],
}
for name, v in cases.items():
    np.save(os.path.join(HERE, f"render_{name}.npy"), v.astype(np.float32))
print("ok")
