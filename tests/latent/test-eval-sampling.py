#!/usr/bin/python3
"""tensorlens eval-sampling, end to end, as TAP: its JSON numbers for a
sampler and seed must equal NumPy/SciPy measures (tests/data/latent/
measures_ref.py) of the samples `tensorlens sample` writes for the same
sampler and seed; bad input is refused with a named error.
argv[1] = the tensorlens binary."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tap import ok, done  # noqa: E402


def close(a, b, rtol=1e-9):
    return abs(a - b) <= rtol * max(1.0, abs(b))


def main():
    tl = sys.argv[1]
    data = os.path.join(os.environ["TL_TEST_DATA"], "latent")
    try:
        import numpy as np
        sys.path.insert(0, data)
        import measures_ref as ref
    except ImportError as e:
        print("1..0 # SKIP NumPy/SciPy missing (%s)" % e)
        return 0
    train, test = os.path.join(data, "meas_train.npy"), os.path.join(data, "meas_a.npy")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        r = subprocess.run([tl, "eval-sampling", "--latents", train, "--test", test,
                            "--sampler", "pmf,gmm", "--levels", "8", "--radius", "1",
                            "--components", "2", "--count", "150", "--seed", "11",
                            "--json", out], capture_output=True, text=True)
        ok(r.returncode == 0, "eval-sampling runs (%s)" % r.stderr.strip())
        if r.returncode != 0:
            done()
            return 1
        ok("pmf levels=8 radius=1" in r.stdout and "gmm components=2" in r.stdout
           and "bank copy (reference)" in r.stdout, "the table lists every configuration")
        res = {x["label"]: x for x in json.load(open(out))["results"]}
        T, A = np.load(train), np.load(test)
        for label, args in (("pmf levels=8 radius=1", ["--levels", "8", "--radius", "1"]),
                            ("gmm components=2", ["--sampler", "gmm", "--components", "2"])):
            s_path = os.path.join(tmp, "s.npy")
            subprocess.run([tl, "sample", "--latents", train, "--count", "150", "--seed", "11",
                            "-o", s_path] + args, check=True, capture_output=True)
            S = np.load(s_path)
            got = res[label]
            ok(close(got["sliced_w2"], ref.sliced_w2(S, A)), label + ": sliced W2 = SciPy/NumPy")
            ok(close(got["mean_w1"], ref.mean_w1(S, A)), label + ": mean W1 = scipy.stats")
            ok(close(got["frechet"], ref.fid(S, A), 1e-7), label + ": Frechet = scipy sqrtm")
            p, rc = ref.precision_recall(A, S)
            ok(close(got["precision"], p) and close(got["recall"], rc),
               label + ": precision/recall = NumPy brute force")
            ds, dh = ref.dists(S, T).min(1), ref.dists(A, T).min(1)
            ok(close(got["nn_median_samples"], float(np.median(ds)))
               and close(got["nn_median_heldout"], float(np.median(dh)))
               and close(got["below_heldout_q05"], float((ds < np.quantile(dh, 0.05)).mean())),
               label + ": memorisation = NumPy")
            ok(got["fit_seconds"] >= 0 and got["sample_seconds"] >= 0, label + ": times")
            ok((got["em_iterations"] >= 1) == label.startswith("gmm"),
               label + ": EM iterations reported for the GMM only")
        copy = res["bank copy (reference)"]
        ok(copy["nn_median_samples"] == 0 and copy["below_heldout_q05"] == 1.0,
           "the bank-copy row shows pure memorisation")

        def refuses(desc, pattern, *args):
            r = subprocess.run([tl, "eval-sampling"] + list(args), capture_output=True, text=True)
            ok(r.returncode in (1, 2) and pattern in r.stderr,
               "%s (exit %d: %s)" % (desc, r.returncode, r.stderr.strip()))

        refuses("dimension mismatch is named", "latents of dimension 2, but the bank",
                "--latents", train, "--test", os.path.join(data, "gmm_2d.npy"))
        refuses("bad list entry", "levels: 'x' is not an integer >= 1",
                "--latents", train, "--test", test, "--levels", "8,x")
        refuses("negative radius in a list", "radius: '-1' is not an integer >= 0",
                "--latents", train, "--test", test, "--radius", "-1")
        refuses("too few samples", "--count must be at least 4",
                "--latents", train, "--test", test, "--count", "3")
        refuses("huge count before any work", "count: 2000000000 samples",
                "--latents", train, "--test", test, "--count", "2000000000")
        refuses("negative seed", "seed: '-1' is negative",
                "--latents", train, "--test", test, "--seed=-1")
        refuses("NaN in the held-out set", "value at row 2, column 1 is NaN",
                "--latents", os.path.join(data, "pmf_bank.npy"), "--test",
                os.path.join(data, "cli_bank_nan.npy"), "--sampler", "gaussian", "--count", "10")
        refuses("required options", "are required", "--latents", train)
    return done()


if __name__ == "__main__":
    sys.exit(main())
