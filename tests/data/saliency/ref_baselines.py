#!/usr/bin/python3
"""NumPy/PyTorch reference for the label-dependent baselines' maths
(methods.md "Label-dependent baselines"): Grad-CAM and Grad-CAM++ weights as
pytorch-grad-cam computes them, Score-CAM's combination (softmax over
channels) and its masks (bilinear upsampling with half-pixel centres, i.e.
torch interpolate(align_corners=False), then min-max per channel).
Maps are finished like every map (ref_saliency.finish).
Run: /usr/bin/python3 tests/data/saliency/ref_baselines.py"""
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from ref_saliency import finish  # noqa: E402

rng = np.random.default_rng(777)
C, H, W = 16, 5, 6
F = np.maximum(rng.standard_normal((C, H, W)), 0).astype(np.float32)
G = (rng.standard_normal((C, H, W)) * 0.1).astype(np.float32)
G[rng.random((C, H, W)) < 0.2] = 0        # exact zeros exercise the g = 0 branch
F64, G64 = F.astype(np.float64), G.astype(np.float64)

w_gc = G64.mean(axis=(1, 2))
gc = finish(np.maximum(np.tensordot(w_gc, F64, axes=1), 0).ravel()).reshape(H, W)

g2 = G64 ** 2
g3 = g2 * G64
A = F64.sum(axis=(1, 2))
aij = g2 / (2 * g2 + A[:, None, None] * g3 + 1e-6)
aij = np.where(G64 != 0, aij, 0)
w_pp = (np.maximum(G64, 0) * aij).sum(axis=(1, 2))
pp = finish(np.maximum(np.tensordot(w_pp, F64, axes=1), 0).ravel()).reshape(H, W)

scores = (rng.standard_normal(C) * 3).astype(np.float32).astype(np.float64)  # as stored
alpha = np.exp(scores - scores.max())
alpha /= alpha.sum()
sc = finish(np.tensordot(alpha, F64, axes=1).ravel()).reshape(H, W)
# Cap 5: the channels with the largest mean activation (stable), softmax over those.
top = np.argsort(-F64.mean(axis=(1, 2)), kind='stable')[:5]
a5 = np.exp(scores[top] - scores[top].max())
a5 /= a5.sum()
sc5 = finish(np.tensordot(a5, F64[top], axes=1).ravel()).reshape(H, W)

up = torch.nn.functional.interpolate(torch.from_numpy(F)[None], size=(10, 13), mode='bilinear',
                                     align_corners=False)[0].numpy().astype(np.float64)
lo = up.min(axis=(1, 2), keepdims=True)
hi = up.max(axis=(1, 2), keepdims=True)
masks = np.where(hi > lo, (up - lo) / np.where(hi > lo, hi - lo, 1), 0)

np.save(os.path.join(here, 'base_F.npy'), F)
np.save(os.path.join(here, 'base_G.npy'), G)
np.save(os.path.join(here, 'base_scores.npy'), scores.astype(np.float32))
np.save(os.path.join(here, 'base_maps.npy'), np.stack([gc, pp, sc, sc5]).astype(np.float32))
np.save(os.path.join(here, 'base_weights.npy'),
        np.stack([w_gc, w_pp, alpha]).astype(np.float32))
np.save(os.path.join(here, 'base_top5.npy'), top.astype(np.float32))
np.save(os.path.join(here, 'base_masks.npy'), masks.astype(np.float32))
