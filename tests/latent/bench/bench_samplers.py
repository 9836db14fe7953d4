#!/usr/bin/python3
"""Latent sampling benchmark: PMF vicinity sampler fit + 10 000 samples against
our GMM (k = 10, full covariances) fit + sampling and scikit-learn's
GaussianMixture(n_components=10, covariance_type='full') on the same data,
n = 60 000 latents of d = 16 (synthetic, clustered and warped like an
autoencoder's latents). Prints a Markdown section for docs/benchmarks.md.

Usage: bench_samplers.py PATH/TO/tensorlens [--repeats R] [--threads T] [--scaling]
                         [--plot PNG]
--scaling adds a table of our fit + sampling times as n, d and k grow;
--plot draws fit and fit + sampling time against n (d = 16) and against d
(n = 60 000) on log-log axes, for both samplers, with a slope-1 guide: the
PMF's linear growth is the claim the picture has to show.
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


def run_c(tensorlens, Z, H, count, seeds, components, samplers="pmf,gmm"):
    """fit/sample seconds and EM iterations per sampler from eval-sampling's JSON."""
    import numpy as np
    with tempfile.TemporaryDirectory() as tmp:
        zp, hp, jp = (os.path.join(tmp, f) for f in ("z.npy", "h.npy", "r.json"))
        np.save(zp, Z)
        np.save(hp, H)
        gmm = ["--components", ",".join(map(str, components))] if "gmm" in samplers else []
        subprocess.run([tensorlens, "eval-sampling", "--latents", zp, "--test", hp,
                        "--sampler", samplers] + gmm +
                       ["--count", str(count), "--seeds", str(seeds), "--no-reference",
                        "--json", jp], check=True, stdout=subprocess.DEVNULL)
        return json.load(open(jp))["results"]


def ms(x):
    return "%.1f" % (1e3 * x) if x >= 0.01 else "%.3f" % (1e3 * x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tensorlens")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, default=60000)
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--scaling", action="store_true")
    ap.add_argument("--plot", metavar="PNG")
    args = ap.parse_args()
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(args.threads)
    import numpy as np
    import sklearn
    from sklearn.mixture import GaussianMixture

    both = make_latents(args.n + 2000, args.d, 1)
    Z, H = both[:args.n], both[args.n:]
    res = {r["sampler"]: r for r in run_c(args.tensorlens, Z, H, args.count, args.repeats, [10])}
    def total(r, cpu=True):
        if cpu:
            return r["fit_cpu_seconds"] + r["sample_cpu_seconds"]
        return r["fit_seconds"] + r["sample_seconds"]

    pmf, ours = total(res["pmf"]), total(res["gmm"])
    sk_fit, sk_sample, sk_wall, sk_iter = [], [], [], []
    for r in range(args.repeats):
        w0, t0 = time.perf_counter(), time.process_time()
        gm = GaussianMixture(n_components=10, covariance_type="full", random_state=r).fit(Z)
        t1 = time.process_time()
        gm.sample(args.count)
        w2, t2 = time.perf_counter(), time.process_time()
        sk_fit.append(t1 - t0)
        sk_sample.append(t2 - t1)
        sk_wall.append(w2 - w0)
        sk_iter.append(gm.n_iter_)
    sk = float(np.mean(sk_fit) + np.mean(sk_sample))

    print("## Latent sampling\n")
    print("`tests/latent/bench/bench_samplers.py --repeats %d%s`: n = %d synthetic clustered "
          "latents of d = %d (10 overlapping clusters, tanh-squashed), fit + %d samples, mean of "
          "%d runs (seeds 0..%d), %d BLAS thread(s); %s, Python %s, NumPy %s, scikit-learn %s. "
          "Times are CPU milliseconds of the process (wall time in the last column): the "
          "machine is shared, and CPU time is what stays put under load.\n"
          % (args.repeats, " --scaling" if args.scaling else "", args.n, args.d, args.count,
             args.repeats, args.repeats - 1, args.threads,
             platform.processor() or platform.machine(), platform.python_version(),
             np.__version__, sklearn.__version__))
    print("| sampler | fit ms | sample ms | total ms | PMF is faster by | wall ms |")
    print("|---|---:|---:|---:|---:|---:|")
    print("| PMF vicinity (q = %d, r = %d), tensorlens | %s | %s | %s | 1× | %s |"
          % (res["pmf"]["levels"], res["pmf"]["radius"], ms(res["pmf"]["fit_cpu_seconds"]),
             ms(res["pmf"]["sample_cpu_seconds"]), ms(pmf), ms(total(res["pmf"], False))))
    print("| GMM k = 10 full, tensorlens (%.1f EM iterations on average) | %s | %s | %s | %.0f× | %s |"
          % (res["gmm"]["em_iterations"], ms(res["gmm"]["fit_cpu_seconds"]),
             ms(res["gmm"]["sample_cpu_seconds"]), ms(ours), ours / pmf,
             ms(total(res["gmm"], False))))
    print("| GaussianMixture k = 10 full, scikit-learn (%s EM iterations) | %s | %s | %s | %.0f× | %s |"
          % ("/".join(str(i) for i in sk_iter), ms(np.mean(sk_fit)), ms(np.mean(sk_sample)),
             ms(sk), sk / pmf, ms(np.mean(sk_wall))))
    print("\nOur GMM takes %.2f× scikit-learn's time. Both stop EM on the same 1e-3 change of "
          "the mean log-likelihood; the iteration counts differ because the k-means starts "
          "differ."
          % (ours / sk))
    if args.scaling:
        print("\nScaling (tensorlens only, %d samples, 1 seed): fit + sampling CPU ms; the PMF "
              "grows as n·d, the GMM as n·d²·k per EM iteration (iterations in brackets).\n"
              % args.count)
        print("| n | d | k | PMF ms | GMM ms [EM iterations] |")
        print("|---:|---:|---:|---:|---:|")
        cases = [(15000, 16, 10), (30000, 16, 10), (60000, 16, 10), (60000, 8, 10),
                 (60000, 32, 10), (60000, 16, 5), (60000, 16, 20)]
        for n_, d_, k_ in cases:
            both = make_latents(n_ + 2000, d_, 1)
            rs = run_c(args.tensorlens, both[:n_], both[n_:], args.count, 1, [k_])
            rp = [r for r in rs if r["sampler"] == "pmf"][0]
            rg = [r for r in rs if r["sampler"] == "gmm"][0]
            print("| %d | %d | %d | %s | %s [%d] |"
                  % (n_, d_, k_, ms(total(rp)), ms(total(rg)), rg["em_iterations"]))
    if args.plot:
        plot_growth(args.tensorlens, args.count, args.plot)
        print("\n![fit and sampling time against n and d](%s)" % os.path.basename(args.plot))
    return 0


def plot_growth(tensorlens, count, png):
    """Times against n (d = 16) and d (n = 60 000), k = 10 for the GMM. The
    PMF is run with 5 seeds (its fit takes milliseconds, so one run is mostly
    timer noise); the GMM once per point, and not at d = 64 where one fit
    takes minutes. CPU seconds, as in the tables."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ns = [7500, 15000, 30000, 60000, 120000, 240000]
    ds = [4, 8, 16, 32, 64]

    def point(n_, d_, samplers):
        both = make_latents(n_ + 2000, d_, 1)
        out = {}
        for smp, seeds in samplers:
            rs = run_c(tensorlens, both[:n_], both[n_:], count, seeds, [10], smp)
            r = [x for x in rs if x["sampler"] == smp][0]
            out[smp] = (r["fit_cpu_seconds"] * 1e3,
                        (r["fit_cpu_seconds"] + r["sample_cpu_seconds"]) * 1e3)
        return out

    by_n = [point(n_, 16, [("pmf", 5)] + ([("gmm", 1)] if n_ <= 120000 else [])) for n_ in ns]
    by_d = [point(60000, d_, [("pmf", 5)] + ([("gmm", 1)] if d_ <= 32 else [])) for d_ in ds]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, xs, pts, label in ((axes[0], ns, by_n, "n (latents in the bank), d = 16"),
                               (axes[1], ds, by_d, "d (latent dimension), n = 60 000")):
        for smp, colour in (("pmf", "tab:blue"), ("gmm", "tab:red")):
            xv = [x for x, p in zip(xs, pts) if smp in p]
            ax.loglog(xv, [p[smp][0] for p in pts if smp in p], "o-", color=colour,
                      label="%s fit" % smp.upper())
            ax.loglog(xv, [p[smp][1] for p in pts if smp in p], "s--", color=colour,
                      alpha=0.6, label="%s fit + %d samples" % (smp.upper(), count))
        f0 = pts[0]["pmf"][0]
        ax.loglog(xs, [f0 * x / xs[0] for x in xs], ":", color="grey", label="slope 1 (linear)")
        ax.set_xlabel(label)
        ax.set_ylabel("CPU ms")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("Latent sampling cost: the PMF fit grows linearly in n and d", fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=90)


if __name__ == "__main__":
    sys.exit(main())
