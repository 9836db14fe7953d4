#!/usr/bin/python3
"""Fixtures for the latent-measure tests (tests/latent/test-measures.c), from
NumPy/SciPy written independently of the C code. Run from this directory.

  meas_a.npy, meas_b.npy, meas_train.npy   three float32 sets (unequal sizes)
  measures_ref.txt   FID (scipy.linalg.sqrtm, pytorch-fid's formula),
                     sliced W2 (the directions drawn with ref_sampler.Rng),
                     mean W1 (scipy.stats.wasserstein_distance),
                     precision/recall k=3 (NumPy brute force),
                     memorisation quantiles (np.quantile, linear)
"""
import math
import sys

import numpy as np
from scipy import linalg, stats

from ref_sampler import Rng

SLICED_SEED = 20230821
SLICED_DIRECTIONS = 1000


def fid(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def directions(d, count, seed):
    rng = Rng(seed)
    out = np.zeros((count, d))
    for c in range(count):
        v = []
        while len(v) < d:
            u1, u2 = rng.uniform(), rng.uniform()
            r = math.sqrt(-2.0 * math.log(1.0 - u1))
            v += [r * math.cos(2.0 * math.pi * u2), r * math.sin(2.0 * math.pi * u2)]
        v = np.array(v[:d])
        out[c] = v / np.linalg.norm(v)
    return out


def w2sq_1d(x, y):
    """Exact ∫(F⁻¹ - G⁻¹)² on the merged grid of quantile breakpoints."""
    x, y = np.sort(x), np.sort(y)
    grid = np.union1d(np.arange(1, len(x) + 1) / len(x), np.arange(1, len(y) + 1) / len(y))
    lo = np.concatenate([[0.0], grid[:-1]])
    mid = (lo + grid) / 2
    qx = x[np.minimum((mid * len(x)).astype(int), len(x) - 1)]
    qy = y[np.minimum((mid * len(y)).astype(int), len(y) - 1)]
    return float(((qx - qy) ** 2 * (grid - lo)).sum())


def sliced_w2(a, b):
    dirs = directions(a.shape[1], SLICED_DIRECTIONS, SLICED_SEED)
    a, b = a.astype(np.float64), b.astype(np.float64)
    return math.sqrt(np.mean([w2sq_1d(a @ v, b @ v) for v in dirs]))


def mean_w1(a, b):
    return float(np.mean([stats.wasserstein_distance(a[:, j].astype(np.float64),
                                                     b[:, j].astype(np.float64))
                          for j in range(a.shape[1])]))


def dists(x, y):
    x, y = x.astype(np.float64), y.astype(np.float64)
    return np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))


def precision_recall(real, gen, k=3):
    rr = np.sort(dists(real, real), axis=1)[:, k]    # column 0 is the point itself
    gg = np.sort(dists(gen, gen), axis=1)[:, k]
    dgr = dists(gen, real)
    precision = float((dgr <= rr[None, :]).any(axis=1).mean())
    recall = float((dgr.T <= gg[None, :]).any(axis=1).mean())
    return precision, recall


def main():
    g = np.random.default_rng(7)
    d = 4
    A = (g.standard_normal((300, d)) @ g.standard_normal((d, d))).astype(np.float32)
    B = (g.standard_normal((200, d)) @ g.standard_normal((d, d)) * 0.8 + 0.5).astype(np.float32)
    T = (g.standard_normal((400, d)) @ g.standard_normal((d, d))).astype(np.float32)
    np.save("meas_a.npy", A)
    np.save("meas_b.npy", B)
    np.save("meas_train.npy", T)
    p, r = precision_recall(A, B)
    ds = dists(B, T).min(1)    # samples = B, held-out = A, train = T
    dh = dists(A, T).min(1)
    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    with open("measures_ref.txt", "w") as f:
        f.write("# written by measures_ref.py (NumPy %s, SciPy)\n" % np.__version__)
        f.write("fid_ab %.17g\n" % fid(A, B))
        f.write("sliced_w2_ab %.17g\n" % sliced_w2(A, B))
        f.write("mean_w1_ab %.17g\n" % mean_w1(A, B))
        f.write("precision_real_a_gen_b %.17g\n" % p)
        f.write("recall_real_a_gen_b %.17g\n" % r)
        f.write("memo_samples_b %s\n" % " ".join("%.17g" % v for v in np.quantile(ds, levels)))
        f.write("memo_heldout_a %s\n" % " ".join("%.17g" % v for v in np.quantile(dh, levels)))
        f.write("memo_below_q05 %.17g\n" % float((ds < np.quantile(dh, 0.05)).mean()))
        f.write("w2sq_1d_ab_dim0 %.17g\n" % w2sq_1d(A[:, 0].astype(np.float64),
                                                    B[:, 0].astype(np.float64)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
