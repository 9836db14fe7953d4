#!/usr/bin/python3
"""Fixtures for the faithfulness metrics and their Gaussian blur, computed
independently with NumPy and scipy.ndimage (methods.md "Faithfulness
metrics"). Run: /usr/bin/python3 tests/data/saliency/make_faith_fixtures.py"""
import os

import numpy as np
from scipy.ndimage import gaussian_filter

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(5150)


def save(name, a):
    np.save(os.path.join(here, name), np.asarray(a, dtype=np.float32))


# Blur: the reference runs in float64 on the float32 input.
# 3×13×17 at σ = 5 has a radius (20) larger than both sides: periodic reflection.
blur_in = rng.random((3, 13, 17)).astype(np.float32)
save('blur_in.npy', blur_in)
for sigma, tag in ((5.0, 's5'), (1.5, 's1_5')):
    save('blur_%s.npy' % tag, gaussian_filter(blur_in.astype(np.float64), sigma=(0, sigma, sigma),
                                               mode='reflect', truncate=4.0))
big = rng.random((1, 40, 50)).astype(np.float32)
save('blur_big_in.npy', big)
save('blur_big_s5.npy', gaussian_filter(big.astype(np.float64), sigma=(0, 5, 5), mode='reflect',
                                        truncate=4.0))

# Metrics with a linear toy score f(x) = 0.05 + Σ w·x / Σ w (f(clean) > 0).
C, H, W = 3, 12, 10
x = rng.random((C, H, W)).astype(np.float32)
w = rng.random((C, H, W)).astype(np.float32)
sal = np.round(rng.random((H, W)) * 10).astype(np.float32) / 10   # many ties
save('faith_x.npy', x)
save('faith_w.npy', w)
save('faith_map.npy', sal)


def f(img):
    img = img.reshape(w.shape).astype(np.float64)
    return 0.05 + float(np.sum(w.astype(np.float64) * img) / np.sum(w, dtype=np.float64))


P = H * W
order = np.argsort(-sal.ravel(), kind='stable')          # ties by raster index
blurred = gaussian_filter(x.astype(np.float64), sigma=(0, 5, 5), mode='reflect',
                          truncate=4.0).astype(np.float32)
rows = []
for T in (50, 7):
    dele, ins = [], []
    for t in range(T + 1):
        k = t * P // T
        d = x.reshape(C, P).copy()
        d[:, order[:k]] = 0
        dele.append(f(d))
        b = blurred.reshape(C, P).copy()
        b[:, order[:k]] = x.reshape(C, P)[:, order[:k]]
        ins.append(f(b))
    auc = lambda c: sum((c[i - 1] + c[i]) / 2 for i in range(1, T + 1)) / T
    fc, fm = f(x), f(x * sal[None])
    rows.append([T, fc, fm, max(0, fc - fm) / fc, float(fm > fc), auc(dele), auc(ins)])
    save('faith_curves_T%d.npy' % T, np.stack([dele, ins]))
np.save(os.path.join(here, 'faith_scalars.npy'), np.array(rows, dtype=np.float64).astype(np.float32))
