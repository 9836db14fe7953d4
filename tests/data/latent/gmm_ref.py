#!/usr/bin/python3
"""Fixtures for the GMM tests (tests/latent/test-gmm.c). Run from this
directory with /usr/bin/python3 (NumPy, scikit-learn).

  gmm_{2d,5d,hard}.npy      synthetic 3-component mixtures (float32)
  gmm_{2d,5d,hard}_ref.txt  their true weights and means, and scikit-learn's
                         GaussianMixture(n_components=3, covariance_type='full')
                         mean log-likelihood and fitted weights/means, and
                         KMeans(3, n_init=1) centres (rows sorted) and inertia
  gmm_sample_ref.npy     samples of a fixed 2-component 3-D mixture drawn
                         with ref_sampler.Rng exactly as tl_gmm_sample draws
"""
import math
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from ref_sampler import Rng


def mixture(d, n, seed, sep=1.0):
    g = np.random.default_rng(seed)
    w = np.array([0.5, 0.3, 0.2])
    means = np.zeros((3, d))
    means[0, 0], means[1, 1], means[2, :] = 3.0 * sep, 3.0 * sep, -2.0 * sep
    covs = []
    for c in range(3):
        a = g.standard_normal((d, d)) * 0.4
        covs.append(a @ a.T + np.eye(d) * (0.3 + 0.3 * c))
    lab = g.choice(3, size=n, p=w)
    X = np.stack([g.multivariate_normal(means[c], covs[c]) for c in lab])
    return X.astype(np.float32), w, means


def write_ref(name, X, w, means):
    gm = GaussianMixture(n_components=3, covariance_type="full", random_state=0).fit(X)
    order = np.argsort(gm.weights_)[::-1]
    with open(name, "w") as f:
        f.write("# written by gmm_ref.py; one vector per line, means row-major\n")
        f.write("n %d\nd %d\n" % X.shape)
        f.write("true_weights %s\n" % " ".join("%.17g" % v for v in w))
        f.write("true_means %s\n" % " ".join("%.17g" % v for v in means.ravel()))
        f.write("sklearn_score %.17g\n" % gm.score(X.astype(np.float64)))
        f.write("sklearn_weights %s\n" % " ".join("%.17g" % v for v in gm.weights_[order]))
        f.write("sklearn_means %s\n" % " ".join("%.17g" % v for v in gm.means_[order].ravel()))
        km = KMeans(n_clusters=3, n_init=1, random_state=0).fit(X.astype(np.float64))
        c = km.cluster_centers_[np.lexsort(km.cluster_centers_.T[::-1])]   # rows sorted
        f.write("sklearn_kmeans_centres %s\n" % " ".join("%.17g" % v for v in c.ravel()))
        f.write("sklearn_kmeans_inertia %.17g\n" % km.inertia_)


def gmm_sample(weights, means, covs, seed, count):
    """Same draw order as tl_gmm_sample: component, then ceil(d/2) Box-Muller pairs."""
    k, d = means.shape
    L = [np.linalg.cholesky(c) for c in covs]
    rng = Rng(seed)
    out = np.zeros((count, d), dtype=np.float32)
    for s in range(count):
        u, run, comp = rng.uniform(), 0.0, k - 1
        for c in range(k):
            run += weights[c]
            if run > u:
                comp = c
                break
        eps = []
        for _ in range((d + 1) // 2):
            u1, u2 = rng.uniform(), rng.uniform()
            r = math.sqrt(-2.0 * math.log(1.0 - u1))
            eps += [r * math.cos(2.0 * math.pi * u2), r * math.sin(2.0 * math.pi * u2)]
        for j in range(d):
            v = means[comp, j]
            for l in range(j + 1):
                v += L[comp][j, l] * eps[l]
            out[s, j] = np.float32(v)
    return out


SAMPLE_W = np.array([0.25, 0.75])
SAMPLE_MEANS = np.array([[1.0, -2.0, 0.5], [-3.0, 0.0, 2.0]])
SAMPLE_COVS = np.array([[[2.0, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 0.5]],
                        [[0.5, 0.0, 0.1], [0.0, 0.5, 0.0], [0.1, 0.0, 1.5]]])


def main():
    # 2d, 5d: overlapping; hard: heavily overlapping, EM needs many iterations
    for name, d, n, seed, sep in (("2d", 2, 900, 1, 1.0), ("5d", 5, 1500, 2, 1.0),
                                  ("hard", 2, 900, 3, 0.4)):
        X, w, means = mixture(d, n, seed, sep)
        np.save("gmm_%s.npy" % name, X)
        write_ref("gmm_%s_ref.txt" % name, X, w, means)
    np.save("gmm_sample_ref.npy", gmm_sample(SAMPLE_W, SAMPLE_MEANS, SAMPLE_COVS, 2024, 200))
    return 0


if __name__ == "__main__":
    sys.exit(main())
