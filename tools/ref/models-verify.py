#!/usr/bin/python3
"""Verify the converted models: ONNX Runtime on models/<name>.onnx against
TF.js (wasm) on the original model.json, on real photos, preprocessed as each
card says. Prints the results table (Markdown, pasted into docs/models.md) and
exits 1 if any relative L2 error exceeds 1e-4 or a shape differs.

    tools/ref/models-verify.py [--package-dir /work/cache/package/models]
                               [--fixtures tests/data/models] [--json out.json]

With --fixtures, ORT outputs on one photo per model are written there as
.npy (NCHW float32) for the engine's future "matches ORT" test.
Needs: tools/ref/node_modules (npm ci), /usr/bin/python3 with python3-onnx.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
FACE = [165, 60, 115, 125]          # astronaut face box x,y,w,h (models-notes)
TOL = 1e-4

# (model, tensors compared besides the card outputs)
EXTRA = {
    "centernet": ["tower_0/CenternetHead/centernet_cls_output/BiasAdd"],
    "faceres": [],
    "emotion": [],
}
PHOTOS = ["astronaut.png", "coffee.png", "chelsea.png"]
# Fixture photo per model (one each, small tensors): see tests/data/models/README.md.
FIXTURE = {"centernet": ("camera.png", None), "faceres": ("astronaut.png", FACE),
           "emotion": ("astronaut.png", FACE)}


def load_card(name):
    with open(os.path.join(ROOT, "models", name + ".json")) as f:
        return json.load(f)


def augment(src, dst, names):
    m = onnx.load(src)
    have = {o.name for o in m.graph.output}
    for n in names:
        if n not in have:
            m.graph.output.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, None))
    onnx.save(m, dst)


def job(card, tfjs, onnx_path, photo, crop, compare, dump=None):
    i = card["input"]
    return {"name": card["name"], "tfjs": tfjs, "onnx": onnx_path,
            "photo": os.path.join(SKIMAGE, photo), "crop": crop,
            "size": [i["height"], i["width"]], "color": i["color"],
            "gray": i.get("gray_weights", [0, 0, 0]), "scale": i["scale"],
            "mean": i["mean"], "std": i["std"], "compare": compare, "dump": dump}


def write_fixture(name, card, dump, outdir):
    """Keep the small tensors; reduce the centernet heat-map to per-class sums/max + class 0."""
    os.makedirs(outdir, exist_ok=True)
    safe = lambda n: n.replace("/", "_")  # noqa: E731 (same rule as models-verify.js)
    keep = {}
    tl = card["target_layer"]
    keep["target.npy"] = np.load(os.path.join(dump, safe(tl) + ".npy"))
    if name == "centernet":
        kp = np.load(os.path.join(dump, "tower_0_keypoints.npy"))
        keep["keypoints_sum.npy"] = kp.sum(axis=(2, 3), dtype=np.float64).astype(np.float32)
        keep["keypoints_max.npy"] = kp.max(axis=(2, 3))
        keep["keypoints_class0.npy"] = kp[:, :1].copy()
        keep["wh.npy"] = np.load(os.path.join(dump, "tower_0_wh.npy"))
    else:
        keep["input.npy"] = np.load(os.path.join(dump, "input.npy"))
        for k, v in card["outputs"].items():
            keep[k + ".npy"] = np.load(os.path.join(dump, safe(v) + ".npy"))
    for f, a in keep.items():
        np.save(os.path.join(outdir, f), a.astype("<f4"))
    return sorted(keep)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--package-dir", default="/work/cache/package/models")
    ap.add_argument("--fixtures")
    ap.add_argument("--json")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tl-verify-")
    jobs, fixture_jobs = [], {}
    for name in EXTRA:
        card = load_card(name)
        compare = list(card["outputs"].values()) + [card["target_layer"]] + EXTRA[name]
        aug = os.path.join(tmp, name + ".onnx")
        augment(os.path.join(ROOT, "models", card["model"]), aug, compare)
        tfjs = os.path.join(a.package_dir, name + ".json")
        photos = [(p, None) for p in PHOTOS]
        if card["task"] != "detector":
            photos.insert(0, ("astronaut.png", FACE))
        for p, crop in photos:
            jobs.append(job(card, tfjs, aug, p, crop, compare))
        if a.fixtures:
            p, crop = FIXTURE[name]
            d = os.path.join(tmp, "dump-" + name)
            fixture_jobs[name] = (card, d)
            jobs.append(job(card, tfjs, aug, p, crop, compare, d))
    with open(os.path.join(tmp, "jobs.json"), "w") as f:
        json.dump(jobs, f)
    env = dict(os.environ, NODE_PATH=os.path.join(ROOT, "tools", "ref", "node_modules"))
    out = subprocess.run(["node", os.path.join(ROOT, "tools", "ref", "models-verify.js"),
                          os.path.join(tmp, "jobs.json")], env=env, check=True,
                         capture_output=True, text=True).stdout
    rows = json.loads(out)
    seen, table, bad = set(), [], 0
    print("| model | photo | tensor | shape (NCHW) | rel. L2 error | max abs error | max abs value |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        key = (r["model"], r["photo"], r["tensor"])
        if key in seen:
            continue
        seen.add(key)
        ok = r["shape_match"] and r["rel_l2"] <= TOL
        bad += not ok
        print(f"| {r['model']} | {r['photo']} | `{r['tensor']}` | {r['shape']} | {r['rel_l2']:.2e} | "
              f"{r['max_abs']:.2e} | {r['max_ref']:.3g} |" + ("" if ok else " **FAIL**"))
        table.append(r)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(table, f, indent=1)
    for name, (card, d) in fixture_jobs.items():
        files = write_fixture(name, card, d, os.path.join(a.fixtures, name))
        print(f"fixtures {name}: {', '.join(files)}", file=sys.stderr)
    print(f"{len(table)} comparisons, {bad} above rel. L2 {TOL:g}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
