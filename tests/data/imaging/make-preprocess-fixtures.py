#!/usr/bin/python3
"""References for tests/imaging/test-preprocess.c: NumPy float64, written
from the steps in src/preprocess.h, on resampling from ref_resize.py.
Each case's parameters are repeated in the C test (same order)."""
import os

import numpy as np

from ref_resize import area, bilinear

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(11)

IMG = {c: rng.random((17, 23, c)).astype(np.float32) for c in (1, 3, 4)}
for c, a in IMG.items():
    np.save(os.path.join(HERE, f"pre_img{c}.npy"), a)


def resize(img, oh, ow, mode):
    if mode == "area":
        return area(img, oh, ow)
    return bilinear(img, oh, ow, mode)


def geometry(W, H, iw, ih, letterbox):
    if not letterbox:
        return 0, 0, W, H
    s = min(W / iw, H / ih)
    cw = min(max(int(np.floor(iw * s + 0.5)), 1), W)
    ch = min(max(int(np.floor(ih * s + 0.5)), 1), H)
    return (W - cw) // 2, (H - ch) // 2, cw, ch


def preprocess(img, W, H, C, mode, scale, mean, std, gw, bgr, letterbox, fill):
    img = img.astype(np.float64)
    ih, iw, sc = img.shape
    x0, y0, cw, ch = geometry(W, H, iw, ih, letterbox)
    content = resize(img, ch, cw, mode)
    canvas = np.full((H, W, 3), float(fill))
    rgb = content[:, :, :3] if sc >= 3 else np.repeat(content[:, :, :1], 3, axis=2)
    canvas[y0:y0 + ch, x0:x0 + cw] = rgb
    if C == 1:
        x = (canvas @ np.asarray(gw, np.float64))[:, :, None]
        if sc < 3:  # a grey image is used as is
            x = canvas[:, :, :1]
    else:
        x = canvas[:, :, ::-1] if bgr else canvas
    x = (x * scale - np.asarray(mean[:C])) / np.asarray(std[:C])
    return x.transpose(2, 0, 1)[None], (x0, y0, cw, ch)


CASES = [
    # img channels, W, H, C, mode, scale, mean, std, gray weights, bgr, letterbox, fill
    (3, 8, 6, 3, "half-pixel", 1.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225),
     (0.299, 0.587, 0.114), False, False, 0.0),
    (3, 12, 10, 1, "tf-legacy", 255.0, (0, 0, 0), (1, 1, 1), (0.2989, 0.5870, 0.1140),
     False, False, 0.0),
    (4, 10, 10, 3, "area", 255.0, (103.939, 116.779, 123.68), (1, 1, 1),
     (0.299, 0.587, 0.114), True, True, 0.5),
    (1, 9, 16, 3, "half-pixel", 2.0, (1, 1, 1), (0.5, 0.25, 2), (0.299, 0.587, 0.114),
     False, True, 0.25),
    (1, 30, 40, 1, "area", 1.0, (0.5, 0, 0), (0.5, 1, 1), (0.299, 0.587, 0.114),
     False, False, 0.0),
]
for i, case in enumerate(CASES):
    sc = case[0]
    x, geo = preprocess(IMG[sc], *case[1:])
    np.save(os.path.join(HERE, f"pre_case{i}.npy"), x.astype(np.float32))
    # unmap: a 5 x 4 map over the model input back onto the 23 x 17 image
    W, H = case[1], case[2]
    m = rng.random((4, 5, 1)).astype(np.float32)
    np.save(os.path.join(HERE, f"pre_map{i}.npy"), m)
    x0, y0, cw, ch = geo
    fx, fy = 5 / W, 4 / H
    back = bilinear(m.astype(np.float64), 17, 23, None, window=(x0 * fx, y0 * fy, cw * fx, ch * fy))
    if (x0, y0, cw, ch) == (0, 0, W, H):  # stretch: a plain half-pixel resize
        assert np.allclose(back, bilinear(m.astype(np.float64), 17, 23, "half-pixel"))
    np.save(os.path.join(HERE, f"pre_unmap{i}.npy"), back[:, :, 0].astype(np.float32))
    print(i, "geometry", geo)

# Against the models' own reference: astronaut_face.png is the face crop
# (x=165, y=60, w=115, h=125) of skimage's astronaut.png, and
# emotion_input_tfjs.npy is a copy of tests/data/models/emotion/input.npy
# (models branch), the emotion model's input made from that crop by TF.js
# (tf.image.resizeBilinear legacy, gray 0.2989/0.587/0.114, (x/255-0.5)/0.5;
# tools/ref/models-verify.py). test-preprocess.c checks tl_preprocess against it.
from PIL import Image  # noqa: E402

astro = Image.open("/usr/lib/python3/dist-packages/skimage/data/astronaut.png").convert("RGB")
astro.crop((165, 60, 165 + 115, 60 + 125)).save(os.path.join(HERE, "astronaut_face.png"),
                                                 optimize=True)
