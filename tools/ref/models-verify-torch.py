#!/usr/bin/python3
"""Verify the models trained here: ONNX Runtime on models/*.onnx against
PyTorch on the trained weights (/work/cache/*.pt, written by models/train/*),
on real held-out images. Also checks that each latent bank is what the shipped
encoder computes for the first training images. Prints a Markdown table and
exits 1 if any relative L2 error exceeds 1e-4.

    tools/ref/models-verify-torch.py [--fixtures tests/data/models] [--json out.json]
                                     [--only NAME ...]
Needs python3-torch, python3-onnx and tools/ref/node_modules.
"""
import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TRAIN = os.path.join(ROOT, "models", "train")
CACHE = os.environ.get("TL_CACHE", "/work/cache")
TOL = 1e-4
N = 16          # held-out images per model


def module(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(TRAIN, name + ".py"))
    m = importlib.util.module_from_spec(spec)
    sys.path.insert(0, TRAIN)
    spec.loader.exec_module(m)
    return m


def card(name):
    with open(os.path.join(ROOT, "models", name + ".json")) as f:
        return json.load(f)


def augment(src, dst, names):
    m = onnx.load(src)
    have = {o.name for o in m.graph.output}
    for n in names:
        if n not in have:
            m.graph.output.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, None))
    onnx.save(m, dst)


def save(d, name, a):
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name.replace("/", "_") + ".npy")
    np.save(p, np.ascontiguousarray(a, dtype="<f4"))
    return p


def classifier_jobs(tmp):
    tr = module("train_fmnist_classifier")
    fm = module("fmnist")
    c = card("fmnist-classifier")
    net = tr.Net()
    net.load_state_dict(torch.load(os.path.join(CACHE, "fmnist-classifier.pt")))
    net.eval()
    xte, _ = fm.load("t10k")
    x = torch.from_numpy(xte[:N].astype(np.float32) / 255.0).unsqueeze(1)
    acts = {}
    h = net.c4.register_forward_hook(lambda m, i, o: acts.__setitem__("t", o))
    with torch.no_grad():
        logits, feats = net(x)
    h.remove()
    d = os.path.join(tmp, "fmnist-classifier")
    onnx_path = os.path.join(tmp, "fmnist-classifier.onnx")
    augment(os.path.join(ROOT, "models", c["model"]), onnx_path, [c["target_layer"]])
    outs = {"logits": save(d, "ref_logits", logits.numpy()),
            "features": save(d, "ref_features", feats.numpy()),
            c["target_layer"]: save(d, "ref_target", acts["t"].numpy())}
    return [{"name": "fmnist-classifier", "onnx": onnx_path,
             "inputs": {c["input"]["name"]: save(d, "input", x.numpy())}, "outputs": outs}]


def ae_jobs(tmp, name, script, pt, images):
    tr = module(script)
    c = card(name)
    a = c["autoencoder"]
    enc, dec = tr.Encoder(), tr.Decoder()
    sd = torch.load(os.path.join(CACHE, pt))
    enc.load_state_dict(sd["enc"])
    dec.load_state_dict(sd["dec"])
    enc.eval()
    dec.eval()
    xtr, xte = images(tr)
    bank = np.load(os.path.join(ROOT, "models", a["latent_bank"]))
    with torch.no_grad():
        z = enc(xte[:N])
        y = dec(z)
        zb = torch.from_numpy(bank[:N].copy())
        yb = dec(zb)
    d = os.path.join(tmp, name)
    mdir = os.path.join(ROOT, "models")
    return [
        {"name": name + " encoder", "onnx": os.path.join(mdir, a["encoder"]),
         "inputs": {c["input"]["name"]: save(d, "input", xte[:N].numpy())},
         "outputs": {a["encoder_output"]: save(d, "ref_latent", z.numpy())}},
        {"name": name + " decoder", "onnx": os.path.join(mdir, a["decoder"]),
         "inputs": {a["decoder_input"]: save(d, "latent", z.numpy())},
         "outputs": {a["decoder_output"]: save(d, "ref_decoded", y.numpy())}},
        {"name": name + " decoder on bank rows", "onnx": os.path.join(mdir, a["decoder"]),
         "inputs": {a["decoder_input"]: save(d, "bank_rows", zb.numpy())},
         "outputs": {a["decoder_output"]: save(d, "ref_bank_decoded", yb.numpy())}},
        # The bank must be what the shipped encoder gives for the training images.
        {"name": name + " encoder vs latent bank", "onnx": os.path.join(mdir, a["encoder"]),
         "inputs": {c["input"]["name"]: save(d, "train_input", xtr[:N].numpy())},
         "outputs": {a["encoder_output"]: save(d, "bank_head", bank[:N])}},
    ]


def fmnist_images(tr):
    fm = module("fmnist")
    xtr, _ = fm.load("train")
    xte, _ = fm.load("t10k")
    return tr.prep(xtr[:N]), tr.prep(xte[:N])


def emoji_images(tr):
    _, imgs, _ = tr.load_images()
    x = torch.from_numpy(imgs.astype(np.float32) / 255.0)
    test = np.arange(len(x)) % 10 == 9
    return x[~test], x[test]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures")
    ap.add_argument("--json")
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    torch.set_num_threads(2)
    tmp = tempfile.mkdtemp(prefix="tl-verify-torch-")
    makers = {
        "fmnist-classifier": lambda: classifier_jobs(tmp),
        "fmnist-ae": lambda: ae_jobs(tmp, "fmnist-ae", "train_fmnist_ae", "fmnist-ae.pt", fmnist_images),
        "emoji-ae": lambda: ae_jobs(tmp, "emoji-ae", "train_emoji_ae", "emoji-ae.pt", emoji_images),
    }
    jobs = []
    for name, make in makers.items():
        if a.only and name not in a.only:
            continue
        if not os.path.exists(os.path.join(ROOT, "models", name + ".json")):
            print(f"{name}: no card, skipped", file=sys.stderr)
            continue
        jobs += make()
    if a.fixtures:
        for j in jobs:
            j["dump"] = os.path.join(tmp, "ort-" + j["name"].replace(" ", "-"))
    with open(os.path.join(tmp, "jobs.json"), "w") as f:
        json.dump(jobs, f)
    env = dict(os.environ, NODE_PATH=os.path.join(ROOT, "tools", "ref", "node_modules"))
    out = subprocess.run(["node", os.path.join(ROOT, "tools", "ref", "models-ort-compare.js"),
                          os.path.join(tmp, "jobs.json")], env=env, check=True,
                         capture_output=True, text=True).stdout
    rows = json.loads(out)
    bad = 0
    print(f"| model | tensor | shape | rel. L2 error | max abs error | max abs value |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        ok = r["shape_match"] and r["rel_l2"] <= TOL
        bad += not ok
        print(f"| {r['model']} | `{r['tensor']}` | {r['shape']} | {r['rel_l2']:.2e} | {r['max_abs']:.2e} | "
              f"{r['max_ref']:.3g} |" + ("" if ok else " **FAIL**"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    if a.fixtures:
        write_fixtures(jobs, a.fixtures)
    print(f"{len(rows)} comparisons (batches of {N} held-out images), {bad} above rel. L2 {TOL:g}",
          file=sys.stderr)
    return 1 if bad else 0


def write_fixtures(jobs, root):
    """Image 0 of each batch: the input and ORT's outputs (small)."""
    def first(p):
        return np.load(p)[:1]
    for j in jobs:
        name = j["name"]
        if name == "fmnist-classifier":
            c = card(name)
            d = os.path.join(root, name)
            os.makedirs(d, exist_ok=True)
            np.save(os.path.join(d, "input.npy"), first(list(j["inputs"].values())[0]))
            dump = j["dump"]
            np.save(os.path.join(d, "logits.npy"), first(os.path.join(dump, "logits.npy")))
            np.save(os.path.join(d, "features.npy"), first(os.path.join(dump, "features.npy")))
            np.save(os.path.join(d, "target.npy"), first(os.path.join(dump, safe_js(c["target_layer"]) + ".npy")))
        elif name.endswith(" encoder"):
            base = name[:-len(" encoder")]
            d = os.path.join(root, base)
            os.makedirs(d, exist_ok=True)
            np.save(os.path.join(d, "input.npy"), first(list(j["inputs"].values())[0]))
            np.save(os.path.join(d, "latent.npy"), first(os.path.join(j["dump"], "latent.npy")))
        elif name.endswith(" decoder"):
            base = name[:-len(" decoder")]
            d = os.path.join(root, base)
            np.save(os.path.join(d, "decoder_input.npy"), first(list(j["inputs"].values())[0]))
            np.save(os.path.join(d, "decoded.npy"), first(os.path.join(j["dump"], "image.npy")))


def safe_js(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


if __name__ == "__main__":
    sys.exit(main())
