#!/usr/bin/python3
"""tensorlens eval-sampling MODEL, end to end, as TAP. For fmnist-ae and 40
Fashion-MNIST test images (tests/data/latent/fmnist40-idx3-ubyte), every
number of the JSON must equal an independent computation: ONNX Runtime (npm
onnxruntime-node) runs the card's encoder on the padded held-out images, its
decoder on the latents `tensorlens sample` writes for the same sampler and
seed, and the feature network (fmnist-classifier 'features') on the central
28x28 crops of both; NumPy/SciPy (tests/data/latent/measures_ref.py) then
compute the measures. The same images as a directory of PNGs give the same
numbers; bad input is refused with a named error.
argv[1] = the tensorlens binary. SKIPs without node + onnxruntime-node or
NumPy/SciPy."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tap import ok, done  # noqa: E402


def rel(a, b):
    return abs(a - b) / max(1e-12, abs(b))


def main():
    tl = sys.argv[1]
    root = os.environ["TL_SOURCE_ROOT"]
    data = os.path.join(os.environ["TL_TEST_DATA"], "latent")
    modules = os.path.join(root, "tools", "ref", "node_modules")
    try:
        import numpy as np
        from PIL import Image
        sys.path.insert(0, data)
        import measures_ref as ref
    except ImportError as e:
        print("1..0 # SKIP NumPy/SciPy/PIL missing (%s)" % e)
        return 0
    if not shutil.which("node") or not os.path.isdir(os.path.join(modules, "onnxruntime-node")):
        print("1..0 # SKIP node or tools/ref/node_modules/onnxruntime-node missing")
        return 0
    models = os.path.join(root, "models")
    card = json.load(open(os.path.join(models, "fmnist-ae.json")))
    ae = card["autoencoder"]
    idx = os.path.join(data, "fmnist40-idx3-ubyte")
    raw = np.fromfile(idx, dtype=np.uint8, offset=16).reshape(40, 28, 28)
    env = dict(os.environ, NODE_PATH=modules)

    def ort(onnx, inp, out, x, tmp):
        a, b = os.path.join(tmp, "in.npy"), os.path.join(tmp, "out.npy")
        np.save(a, np.ascontiguousarray(x, dtype=np.float32))
        subprocess.run(["node", os.path.join(os.path.dirname(__file__), "ort-run.js"),
                        os.path.join(models, onnx), inp, out, a, b], check=True, env=env)
        return np.load(b)

    with tempfile.TemporaryDirectory() as tmp:
        # The independent side: held-out latents and real features.
        real = raw.astype(np.float32) / 255.0
        padded = np.zeros((40, 1, 32, 32), np.float32)
        padded[:, 0, 2:30, 2:30] = real
        H = ort(ae["encoder"], "image", ae["encoder_output"], padded, tmp).reshape(40, -1)
        R = ort("fmnist-classifier.onnx", "input", "features", real[:, None], tmp)

        out = os.path.join(tmp, "r.json")
        cmd = [tl, "eval-sampling", "fmnist-ae", "--test", idx, "--sampler", "pmf,gmm",
               "--components", "2", "--levels", "30", "--radius", "3", "--count", "60", "--seed", "9", "--json", out]
        r = subprocess.run(cmd, capture_output=True, text=True)
        ok(r.returncode == 0, "eval-sampling fmnist-ae runs (%s)" % r.stderr.strip())
        if r.returncode != 0:
            done()
            return 1
        ok("FID, f-prec, f-rec: 128-d features 'features' of fmnist-classifier" in r.stdout,
           "the table names the feature network")
        js = json.load(open(out))
        ok(js["heldout"] == 40 and js["train"] == 60000 and js["feature_dim"] == 128,
           "JSON: 40 held-out images, the 60000-latent bank, 128-d features")
        res = {x["label"]: x for x in js["results"]}
        for label, args in (("pmf levels=30 radius=3", ["--levels", "30", "--radius", "3"]),
                            ("gmm components=2", ["--sampler", "gmm", "--components", "2"])):
            s_path = os.path.join(tmp, "s.npy")
            subprocess.run([tl, "sample", "fmnist-ae", "--count", "60", "--seed", "9",
                            "-o", s_path] + args, check=True, capture_output=True)
            S = np.load(s_path)
            D = ort(ae["decoder"], ae["decoder_input"], ae["decoder_output"], S, tmp)
            D = np.clip(D, 0.0, 1.0)[:, :, 2:30, 2:30]
            G = ort("fmnist-classifier.onnx", "input", "features", D, tmp)
            got = res[label]
            ok(rel(got["sliced_w2"], ref.sliced_w2(S, H)) < 1e-4,
               "%s: sliced W2 against the ORT-encoded held-out latents (%.6g vs %.6g)"
               % (label, got["sliced_w2"], ref.sliced_w2(S, H)))
            f = ref.fid(G, R)
            ok(rel(got["fid"], f) < 1e-3,
               "%s: FID = SciPy on ORT features (%.6g vs %.6g)" % (label, got["fid"], f))
            p, rc = ref.precision_recall(R, G)
            ok(abs(got["feature_precision"] - p) <= 1 / 60 and
               abs(got["feature_recall"] - rc) <= 1 / 40,
               "%s: feature precision/recall = NumPy (%.4f/%.4f vs %.4f/%.4f)"
               % (label, got["feature_precision"], got["feature_recall"], p, rc))
        copy = res["bank copy (reference)"]
        ok(copy["nn_median_samples"] == 0 and copy["fid"] > 0,
           "bank-copy row: decoded training latents, FID > 0")

        # The same images as PNG files in a directory give the same numbers.
        pngs = os.path.join(tmp, "pngs")
        os.mkdir(pngs)
        for i in range(40):
            Image.fromarray(raw[i]).save(os.path.join(pngs, "img-%02d.png" % i))
        open(os.path.join(pngs, "notes.txt"), "w").write("not an image\n")
        a, b = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
        base = [tl, "eval-sampling", "fmnist-ae", "--sampler", "gaussian", "--count", "20",
                "--no-reference", "--test-count", "30"]
        ra = subprocess.run(base + ["--test", idx, "--json", a], capture_output=True)
        rb = subprocess.run(base + ["--test", pngs, "--json", b], capture_output=True)
        ok(ra.returncode == 0 and rb.returncode == 0, "IDX and PNG-directory forms run")
        if ra.returncode == 0 and rb.returncode == 0:
            ja, jb = json.load(open(a)), json.load(open(b))
            ok(ja["heldout"] == 30 and jb["heldout"] == 30, "--test-count 30 keeps 30 images")
            ok(all(ja["results"][0][k] == jb["results"][0][k]
                   for k in ("sliced_w2", "mean_w1", "fid", "feature_precision")),
               "a directory of PNGs gives the IDX file's numbers")
        rn = subprocess.run(base + ["--test", idx, "--feature-model", "none", "--json", a],
                            capture_output=True, text=True)
        ok(rn.returncode == 0 and "FID" not in rn.stdout
           and "fid" not in json.load(open(a))["results"][0],
           "--feature-model none: latent measures only")

        def refuses(desc, pattern, *args):
            r = subprocess.run([tl, "eval-sampling"] + list(args), capture_output=True,
                               text=True)
            ok(r.returncode in (1, 2) and pattern in r.stderr,
               "%s (exit %d: %s)" % (desc, r.returncode, r.stderr.strip()))

        empty = os.path.join(tmp, "empty")
        os.mkdir(empty)
        refuses("missing data set is named", "nonexistent-idx", "fmnist-ae", "--test",
                os.path.join(tmp, "nonexistent-idx"))
        refuses("a directory without images", "no images", "fmnist-ae", "--test", empty)
        refuses("a JSON file is not an IDX file", "r.json", "fmnist-ae", "--test", out)
        refuses("an autoencoder is not a feature network", "needs a card with a network",
                "fmnist-ae", "--test", idx, "--feature-model", "emoji-ae")
        refuses("a classifier has no latent space", "not an autoencoder",
                "fmnist-classifier", "--test", idx)
        refuses("negative --test-count", "out of range", "fmnist-ae", "--test", idx,
                "--test-count", "-1")
        refuses("--feature-model needs MODEL", "apply to MODEL only", "--latents",
                os.path.join(data, "meas_train.npy"), "--test", idx, "--feature-model", "x")
        # A latent bank whose dimension is not the decoder's input (emoji's 32-d bank under
        # fmnist-ae's card, latent_dim 16): refused by eval-sampling and by sample, by name.
        bad = os.path.join(tmp, "badcard")
        os.mkdir(bad)
        shutil.copy(os.path.join(models, "fmnist-ae.json"), bad)
        for f in (ae["encoder"], ae["decoder"]):
            os.symlink(os.path.join(models, f), os.path.join(bad, f))
        shutil.copy(os.path.join(models, "emoji-ae-latents.npy"),
                    os.path.join(bad, ae["latent_bank"]))
        refuses("a bank of the wrong dimension", "latents of dimension 32, the card says 16",
                os.path.join(bad, "fmnist-ae.json"), "--test", idx, "--feature-model", "none")
        r = subprocess.run([tl, "sample", os.path.join(bad, "fmnist-ae.json"), "--count", "4",
                            "-o", os.path.join(tmp, "g.png")], capture_output=True, text=True)
        ok(r.returncode == 1 and "latent bank is 3408x32, the card says n x 16" in r.stderr,
           "sample MODEL refuses the same bank (%s)" % r.stderr.strip())
        refuses("3 held-out images are too few", "need at least 4", "fmnist-ae", "--test", idx,
                "--test-count", "3")
    return done()


if __name__ == "__main__":
    sys.exit(main())
