#!/usr/bin/python3
"""Latent sampling benchmark: PMF vicinity sampler fit + 10 000 samples against
our GMM (k = 10, full covariances) fit + sampling and scikit-learn's
GaussianMixture(n_components=10, covariance_type='full') on the same data,
n = 60 000 latents of d = 16 (synthetic, clustered and warped like an
autoencoder's latents). Prints a Markdown section for docs/benchmarks.md.

Usage: bench_samplers.py PATH/TO/tensorlens [--repeats R] [--threads T]
The C timings come from `tensorlens eval-sampling --json` (wall time of the
fit and of the sampling, measured inside the process, so file loading is not
counted); sklearn's from time.perf_counter around fit() and sample().
BLAS threads are pinned to --threads (1) for both sides.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time


def make_latents(n, d, seed):
    """n latents from one fixed distribution: 10 overlapping anisotropic
    clusters (means ~ N(0, I), within-cluster sd ~ 1 per dimension), squashed
    by tanh like a bounded autoencoder code. Training and held-out sets are
    two slices of one draw."""
    import numpy as np
    g = np.random.default_rng(seed)
    k = 10
    means = g.standard_normal((k, d)) * 1.5
    shapes = [g.standard_normal((d, d)) * (0.6 / np.sqrt(d) * 2) for _ in range(k)]
    lab = g.integers(0, k, n)
    Z = np.empty((n, d))
    for c in range(k):
        idx = lab == c
        Z[idx] = means[c] + g.standard_normal((idx.sum(), d)) @ shapes[c]
    return (np.tanh(Z / 3.0) * 3.0).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tensorlens")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, default=60000)
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--count", type=int, default=10000)
    args = ap.parse_args()
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(args.threads)
    import numpy as np
    import sklearn
    from sklearn.mixture import GaussianMixture

    both = make_latents(args.n + 2000, args.d, 1)
    Z, H = both[:args.n], both[args.n:]
    with tempfile.TemporaryDirectory() as tmp:
        zp, hp, jp = (os.path.join(tmp, f) for f in ("z.npy", "h.npy", "r.json"))
        np.save(zp, Z)
        np.save(hp, H)
        subprocess.run([args.tensorlens, "eval-sampling", "--latents", zp, "--test", hp,
                        "--sampler", "pmf,gmm", "--components", "10", "--count",
                        str(args.count), "--seeds", str(args.repeats), "--no-reference",
                        "--json", jp], check=True, stdout=subprocess.DEVNULL)
        res = {r["sampler"]: r for r in json.load(open(jp))["results"]}
    pmf = res["pmf"]["fit_seconds"] + res["pmf"]["sample_seconds"]
    ours = res["gmm"]["fit_seconds"] + res["gmm"]["sample_seconds"]
    sk_fit, sk_sample, sk_iter = [], [], []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        gm = GaussianMixture(n_components=10, covariance_type="full", random_state=r).fit(Z)
        t1 = time.perf_counter()
        gm.sample(args.count)
        t2 = time.perf_counter()
        sk_fit.append(t1 - t0)
        sk_sample.append(t2 - t1)
        sk_iter.append(gm.n_iter_)
    sk = float(np.mean(sk_fit) + np.mean(sk_sample))

    def ms(x):
        return "%.1f" % (1e3 * x) if x >= 0.01 else "%.3f" % (1e3 * x)

    print("## Latent sampling\n")
    print("`tests/latent/bench/bench_samplers.py`: n = %d synthetic clustered latents of d = %d, "
          "fit + %d samples, mean of %d runs (seeds 0..%d), %d BLAS thread(s); "
          "%s, Python %s, NumPy %s, scikit-learn %s. Shared 2-core machine: "
          "ratios are the stable part.\n"
          % (args.n, args.d, args.count, args.repeats, args.repeats - 1, args.threads,
             platform.processor() or platform.machine(), platform.python_version(),
             np.__version__, sklearn.__version__))
    print("| sampler | fit ms | sample ms | total ms | PMF is faster by |")
    print("|---|---:|---:|---:|---:|")
    print("| PMF vicinity (q = %d, r = %d), tensorlens | %s | %s | %s | 1× |"
          % (res["pmf"]["levels"], res["pmf"]["radius"], ms(res["pmf"]["fit_seconds"]), ms(res["pmf"]["sample_seconds"]), ms(pmf)))
    print("| GMM k = 10 full, tensorlens | %s | %s | %s | %.0f× |"
          % (ms(res["gmm"]["fit_seconds"]), ms(res["gmm"]["sample_seconds"]), ms(ours),
             ours / pmf))
    print("| GaussianMixture k = 10 full, scikit-learn (%s EM iterations) | %s | %s | %s | %.0f× |"
          % ("/".join(str(i) for i in sk_iter), ms(np.mean(sk_fit)), ms(np.mean(sk_sample)),
             ms(sk), sk / pmf))
    print("\nOur GMM against scikit-learn's: %.2f× the time (EM stops on the same 1e-3 "
          "tolerance; iteration counts differ with the k-means start)." % (ours / sk))
    return 0


if __name__ == "__main__":
    sys.exit(main())
