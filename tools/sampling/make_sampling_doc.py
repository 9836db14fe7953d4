#!/usr/bin/python3
"""Everything docs/sampling.md shows, from the `tensorlens` CLI only (plus
NumPy for the pixel-space memorisation check and matplotlib for pictures).

  /usr/bin/python3 tools/sampling/make_sampling_doc.py [--tensorlens BIN] [--work DIR]
                                                       [--only fmnist|emoji] [--force]

Per autoencoder (fmnist-ae, emoji-ae):
  1. sweep: `tensorlens eval-sampling MODEL --sampler pmf --levels ... --radius ...`
     over q x r on the real latent bank (FID too for fmnist-ae; latent measures only
     for emoji-ae, whose feature network costs ~0.1 s an image);
  2. table: `tensorlens eval-sampling MODEL` for pmf (the code's defaults), gmm (k = 10),
     a single Gaussian and (fmnist-ae) the N(0, I) prior, with FID/precision/recall
     through the feature network;
  3. grids: `tensorlens sample MODEL --sampler S --count 64 --columns 8`;
  4. memorisation: `tensorlens sample MODEL -o S.npy`, decoded with `tensorlens run`
     on the card's decoder, nearest training image in pixels, against decoded
     held-out latents (new images through the same decoder) and decoded training
     latents (pure copies).
Each command is printed and recorded with its output in WORK/commands.log; results
go to docs/sampling-data/*.json, pictures to docs/sampling-*.png, and the generated
part of docs/sampling.md (between the GENERATED markers) is rewritten. Steps whose
JSON exists in WORK are not rerun unless --force (so an interrupted run resumes).
Threads: TENSORLENS_THREADS=1 (the machine is shared; set it yourself to change)."""
import argparse
import gzip
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time

os.environ.setdefault("TENSORLENS_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402 (after the thread settings, which OpenBLAS reads at load)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs")
DATA = os.path.join(DOCS, "sampling-data")
FMNIST = "/usr/share/datasets/fashion-mnist"
EMOJI_DIR = os.environ.get("EMOJI_DIR", "/work/cache/emoji/package")

LEVELS = "5,10,20,50,100,200"
RADII = "0,1,2,4"
SETTINGS = {
    "fmnist-ae": dict(table_count=5000, table_seeds=3, sweep_count=5000, sweep_seeds=1,
                      samplers="pmf,gmm,gaussian,prior", sweep_features=True),
    "emoji-ae": dict(table_count=500, table_seeds=1, sweep_count=3000, sweep_seeds=3,
                     samplers="pmf,gmm,gaussian", sweep_features=False,
                     feature_model="centernet"),
}
# The table's PMF rows: session 1's provisional q = 20 and the default the sweep chose
# (radius: the default, 2, for both).
TABLE_LEVELS = "20,50"
GRID_SAMPLERS = ["pmf", "gmm", "gaussian", "prior"]
SEED = 1


class Runner:
    def __init__(self, tl, work):
        self.tl, self.work = tl, work
        self.log = open(os.path.join(work, "commands.log"), "a")
        self.commands = []

    def __call__(self, *args, record=True):
        cmd = [self.tl] + [str(a) for a in args]
        text = "tensorlens " + " ".join(shlex.quote(str(a)) for a in args)
        print("$ " + text, flush=True)
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        self.log.write("$ %s\n%s%s(exit %d, %.1f s)\n\n" % (text, r.stdout, r.stderr,
                                                            r.returncode, time.time() - t0))
        self.log.flush()
        if r.returncode != 0:
            sys.exit("failed: %s\n%s" % (text, r.stderr))
        if record:
            self.commands.append(text.replace(self.work, "$WORK").replace(ROOT + "/", ""))
        return r.stdout


def card_of(model):
    path = os.path.join(ROOT, "models", model + ".json")
    raw = open(path, "rb").read()
    return json.loads(raw), hashlib.sha256(raw).hexdigest()


# ---- data sets ---------------------------------------------------------------

def fmnist_images(name):
    with gzip.open(os.path.join(FMNIST, name), "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    return np.frombuffer(raw, np.uint8, offset=16).reshape(n, 28, 28)


def emoji_images():
    """(train, test) uint8 N x 32 x 32 x 3 exactly as models/train/train_emoji_ae.py
    makes them (alpha over white, 2x2 box), split index % 10 == 9 = held out."""
    from PIL import Image
    d = os.path.join(EMOJI_DIR, "img", "google", "64")
    if not os.path.isdir(d):
        sys.exit("%s missing: npm pack emoji-datasource-google@16.0.0 and untar it, then "
                 "set EMOJI_DIR to its package/ directory" % d)
    names = sorted(f for f in os.listdir(d) if f.endswith(".png"))
    out = np.zeros((len(names), 32, 32, 3), np.uint8)
    for i, n in enumerate(names):
        im = Image.open(os.path.join(d, n)).convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        out[i] = np.asarray(Image.alpha_composite(bg, im).convert("RGB")
                            .resize((32, 32), Image.BOX))
    test = np.arange(len(names)) % 10 == 9
    return out[~test], out[test]


def heldout_data(model, work):
    """The --test argument for eval-sampling, and (train, test) images in [0,1],
    N x H x W x C, in the geometry the memorisation check compares."""
    if model == "fmnist-ae":
        tr = fmnist_images("train-images-idx3-ubyte.gz")[..., None] / 255.0
        te = fmnist_images("t10k-images-idx3-ubyte.gz")[..., None] / 255.0
        return os.path.join(FMNIST, "t10k-images-idx3-ubyte.gz"), tr, te
    from PIL import Image
    tr, te = emoji_images()
    d = os.path.join(work, "emoji-heldout")
    if not os.path.isdir(d) or len(os.listdir(d)) != len(te):
        os.makedirs(d, exist_ok=True)
        for i, im in enumerate(te):
            Image.fromarray(im).save(os.path.join(d, "%04d.png" % i))
    return d, tr / 255.0, te / 255.0


# ---- steps -------------------------------------------------------------------

def eval_json(run, work, name, force, args):
    out = os.path.join(work, name + ".json")
    if force or not os.path.exists(out):
        run("eval-sampling", *args, "--json", out)
    else:
        run.commands.append("tensorlens eval-sampling " + " ".join(
            shlex.quote(str(a)) for a in args) + " --json $WORK/" + name + ".json")
    res = json.load(open(out))
    json.dump(res, open(os.path.join(DATA, name + ".json"), "w"), indent=1)
    return res


def grids(run, work, model, samplers):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image
    fig, axes = plt.subplots(1, len(samplers), figsize=(3.1 * len(samplers), 3.4))
    for ax, s in zip(axes, samplers):
        p = os.path.join(work, "%s-grid-%s.png" % (model, s))
        run("sample", model, "--sampler", s, "--count", 64, "--columns", 8, "--cell-size", 32,
            "--spacing", 1, "--seed", SEED, "-o", p)
        ax.imshow(np.asarray(Image.open(p)), interpolation="nearest")
        ax.set_title(s, fontsize=10)
        ax.axis("off")
    fig.suptitle("%s: 64 samples per sampler (seed %d)" % (model, SEED), fontsize=11)
    fig.tight_layout()
    out = os.path.join(DOCS, "sampling-%s-grids.png" % model.split("-")[0])
    fig.savefig(out, dpi=72)
    plt.close(fig)
    return out


def decode(run, work, model, z, tag):
    card, _ = card_of(model)
    ae = card["autoencoder"]
    zp, dp = os.path.join(work, tag + "-z.npy"), os.path.join(work, tag + "-x.npy")
    np.save(zp, z.astype(np.float32))
    run("run", os.path.join(ROOT, "models", ae["decoder"]), "-i", zp, "-s",
        "%dx%d" % z.shape, "-o", dp, "-j", 1)
    x = np.clip(np.load(dp), 0, 1).transpose(0, 2, 3, 1)   # N x H x W x C
    if card["input"]["pad"] != [0, 0, 0, 0]:
        t, l, b, r = card["input"]["pad"]
        x = x[:, t:x.shape[1] - b, l:x.shape[2] - r]
    return x


def encode(run, work, model, images, tag):
    card, _ = card_of(model)
    ae = card["autoencoder"]
    # the encoder input is pixel/255 for both shipped autoencoders
    assert abs(card["input"]["scale"] * 255 - 1) < 1e-9 and not any(card["input"]["mean"]) \
        and all(v == 1 for v in card["input"]["std"]), "card normalisation changed"
    t, l, b, r = card["input"]["pad"]
    n, h, w, c = images.shape
    x = np.zeros((n, c, h + t + b, w + l + r), np.float32)
    x[:, :, t:t + h, l:l + w] = images.transpose(0, 3, 1, 2)
    xp, zp = os.path.join(work, tag + "-in.npy"), os.path.join(work, tag + "-enc.npy")
    np.save(xp, x)
    run("run", os.path.join(ROOT, "models", ae["encoder"]), "-i", xp, "-s",
        "x".join(map(str, x.shape)), "-o", zp, "-j", 1)
    return np.load(zp).reshape(n, -1)


def nearest(x, train, block=500):
    """Index and Euclidean pixel distance of each row's nearest training image."""
    x = x.reshape(len(x), -1).astype(np.float32)
    t = train.reshape(len(train), -1).astype(np.float32)
    tn = (t * t).sum(1)
    idx, dist = np.zeros(len(x), int), np.zeros(len(x))
    for s in range(0, len(x), block):
        q = x[s:s + block]
        d2 = (q * q).sum(1)[:, None] + tn[None] - 2 * q @ t.T
        idx[s:s + block] = d2.argmin(1)
        dist[s:s + block] = np.sqrt(np.maximum(d2.min(1), 0))
    return idx, dist


def memorisation(run, work, model, train, test, samplers, m=500):
    """Pixel distance of decoded samples to the nearest training image, against
    decoded held-out latents and decoded training latents; a picture of 8
    samples per sampler over their nearest training images."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rng = np.random.default_rng(SEED)
    bank = np.load(os.path.join(ROOT, "models", card_of(model)[0]["autoencoder"]["latent_bank"]))
    sel = rng.choice(len(test), min(m, len(test)), replace=False)
    rows = {}
    held = decode(run, work, model, encode(run, work, model, test[sel], model + "-heldout"),
                  model + "-heldout")
    rows["held-out, encoded and decoded"] = held
    rows["training latents, decoded (copies)"] = decode(
        run, work, model, bank[rng.choice(len(bank), len(sel), replace=False)], model + "-bank")
    for s in samplers:
        p = os.path.join(work, "%s-memo-%s.npy" % (model, s))
        run("sample", model, "--sampler", s, "--count", len(sel), "--seed", SEED, "-o", p)
        rows[s] = decode(run, work, model, np.load(p), "%s-memo-%s" % (model, s))
    stats, nn = {}, {}
    for k, x in rows.items():
        nn[k] = nearest(x, train)
    q05 = np.quantile(nn["held-out, encoded and decoded"][1], 0.05)
    for k, (i, d) in nn.items():
        stats[k] = dict(median=float(np.median(d)), q05=float(np.quantile(d, 0.05)),
                        below_heldout_q05=float((d < q05).mean()), n=len(d))
    show = samplers[:2]
    fig, axes = plt.subplots(2 * len(show), 8, figsize=(8 * 0.9, 2 * len(show) * 1.0))
    gray = train.shape[-1] == 1
    for r, s in enumerate(show):
        idx, dist = nn[s]
        for j in range(8):
            a, b = axes[2 * r, j], axes[2 * r + 1, j]
            a.imshow(rows[s][j].squeeze(), cmap="gray" if gray else None, vmin=0, vmax=1)
            b.imshow(train[idx[j]].squeeze(), cmap="gray" if gray else None, vmin=0, vmax=1)
            b.set_title("%.2f" % dist[j], fontsize=7)
            for ax in (a, b):
                ax.set_xticks([])
                ax.set_yticks([])
        axes[2 * r, 0].set_ylabel(s, fontsize=8)
        axes[2 * r + 1, 0].set_ylabel("nearest\ntrain", fontsize=8)
    fig.suptitle("%s: samples (rows 1, 3) over their nearest training images "
                 "(pixel L2 above each)" % model, fontsize=8)
    fig.tight_layout()
    out = os.path.join(DOCS, "sampling-%s-memorisation.png" % model.split("-")[0])
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return stats


def sweep_plot(sweeps):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = [("fmnist-ae", "fid", "fmnist-ae: FID (fmnist-classifier features)"),
              ("fmnist-ae", "ratio", "fmnist-ae: distance ratio (sample / held-out\n"
               "median distance to the nearest training latent)"),
              ("emoji-ae", "sliced_w2", "emoji-ae: sliced W2 (latent)"),
              ("emoji-ae", "ratio", "emoji-ae: distance ratio")]
    for m in sweeps:
        for r in sweeps[m]["results"]:
            r["ratio"] = r["nn_median_samples"] / r["nn_median_heldout"]
    panels = [p for p in panels if p[0] in sweeps]
    fig, axes = plt.subplots(2, 2, figsize=(7.5, 5.6))
    axes = axes.ravel()
    for ax in axes[len(panels):]:
        ax.axis("off")
    for ax, (model, key, title) in zip(axes, panels):
        res = [r for r in sweeps[model]["results"] if r["sampler"] == "pmf"]
        for rad in sorted({r["radius"] for r in res}):
            pts = sorted((r["levels"], r[key]) for r in res if r["radius"] == rad)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", ms=3, label="r = %d" % rad)
        ref = [r for r in sweeps[model]["results"] if r["sampler"] == "bank-copy"]
        if ref and key != "ratio":
            ax.axhline(ref[0][key], color="gray", ls=":", lw=1, label="bank copy")
        if key == "ratio":
            ax.axhspan(0.9, 1.3, color="gray", alpha=0.2, label="0.9 .. 1.3")
            ax.set_yscale("log")
        ax.set_xscale("log")
        qs = sorted({r["levels"] for r in res})
        ax.set_xticks(qs)
        ax.set_xticklabels([str(q) for q in qs])
        ax.minorticks_off()
        ax.set_xlabel("levels q")
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    fig.tight_layout()
    out = os.path.join(DOCS, "sampling-sweep.png")
    fig.savefig(out, dpi=90)
    plt.close(fig)


# ---- markdown ----------------------------------------------------------------

def fmt(r, key, digits):
    v = r.get(key)
    if v is None:
        return "–"
    sd = r.get(key + "_sd", 0)
    return ("%.*f" % (digits, v)) + (" ± %.*f" % (digits, sd) if sd else "")


def table_md(res, images):
    head = ("| sampler | fit ms | sample ms | sliced W2 | mean W1 | latent P / R "
            "| NN-dist median (held-out %.2f) | < held-out q05 |" % res["results"][0]
            ["nn_median_heldout"])
    sep = "|---|---:|---:|---:|---:|---:|---:|---:|"
    if images:
        head += " FID | precision | recall |"
        sep += "---:|---:|---:|"
    lines = [head, sep]
    for r in res["results"]:
        cells = [r["label"], "%.1f" % (1e3 * r["fit_seconds"]),
                 "%.1f" % (1e3 * r["sample_seconds"]), fmt(r, "sliced_w2", 3),
                 fmt(r, "mean_w1", 3), "%.2f / %.2f" % (r["precision"], r["recall"]),
                 "%.2f" % r["nn_median_samples"], "%.3f" % r["below_heldout_q05"]]
        if images:
            cells += [fmt(r, "fid", 3), "%.3f" % r["feature_precision"],
                      "%.3f" % r["feature_recall"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sweep_md(res, images):
    res = [r for r in res["results"] if r["sampler"] == "pmf"]
    for r in res:
        r["ratio"] = r["nn_median_samples"] / r["nn_median_heldout"]
    levels = sorted({r["levels"] for r in res})
    radii = sorted({r["radius"] for r in res})
    keys = ([("fid", "FID", 2)] if images else []) + [
        ("sliced_w2", "sliced W2 (latent, against the held-out latents)", 3),
        ("ratio", "distance ratio: median distance of a sample to its nearest training latent "
         "over the same for held-out latents", 2),
        ("below_heldout_q05", "share of samples nearer the bank than the held-out 5 % "
         "quantile", 3)]
    out = []
    for k, title, digits in keys:
        out.append("%s:\n\n| q \\ r | %s |\n|---|%s" % (
            title, " | ".join(str(r) for r in radii), "---:|" * len(radii)))
        for q in levels:
            row = {r["radius"]: r[k] for r in res if r["levels"] == q}
            out.append("| %d | %s |" % (q, " | ".join("%.*f" % (digits, row[r]) for r in radii)))
        out.append("")
    return "\n".join(out)


def memo_md(stats):
    lines = ["| decoded set | median | 5 % quantile | < held-out q05 |", "|---|---:|---:|---:|"]
    for k, s in stats.items():
        lines.append("| %s | %.3f | %.3f | %.3f |" % (k, s["median"], s["q05"],
                                                     s["below_heldout_q05"]))
    return "\n".join(lines)


def main():
    global LEVELS
    ap = argparse.ArgumentParser()
    ap.add_argument("--tensorlens", default=os.path.join(ROOT, "build", "src", "cli",
                                                         "tensorlens"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build-sampling-work"))
    ap.add_argument("--only", choices=list(SETTINGS))
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to test the script")
    ap.add_argument("--render", action="store_true",
                    help="only redraw the sweep plot and rewrite docs/sampling.md "
                    "from docs/sampling-data")
    ap.add_argument("--reduced", action="store_true",
                    help="sweep q in 10,20,50,100 on <= 2000 samples, <= 2 table seeds")
    a = ap.parse_args()
    if a.reduced:   # when time is short: a coarser, smaller sweep and 2 seeds in the table
        LEVELS = "10,20,50,100"
        for st in SETTINGS.values():
            st["sweep_count"] = min(st["sweep_count"], 2000)
            st["table_seeds"] = min(st["table_seeds"], 2)
    if a.quick:   # a smoke run of the whole pipeline, minutes instead of an hour
        global RADII
        LEVELS, RADII = "10,50", "1,2"
        for st in SETTINGS.values():
            for k in ("table_count", "sweep_count"):
                st[k] = 200
            st["table_seeds"] = st["sweep_seeds"] = 1
    os.makedirs(a.work, exist_ok=True)
    os.makedirs(DATA, exist_ok=True)
    run = Runner(os.path.abspath(a.tensorlens), os.path.abspath(a.work))
    for model, st in SETTINGS.items():
        if (a.only and model != a.only) or a.render:
            continue
        run.commands = []
        card, sha = card_of(model)
        test, train_img, test_img = heldout_data(model, run.work)
        fm = ["--feature-model", st["feature_model"]] if "feature_model" in st else []
        sw = eval_json(run, run.work, model + "-sweep", a.force,
                       [model, "--test", test, "--sampler", "pmf", "--levels", LEVELS,
                        "--radius", RADII, "--count", st["sweep_count"], "--seeds",
                        st["sweep_seeds"], "--seed", SEED]
                       + (fm if st["sweep_features"] else ["--feature-model", "none"]))
        tb = eval_json(run, run.work, model + "-table", a.force,
                       [model, "--test", test, "--sampler", st["samplers"], "--components",
                        10, "--levels", TABLE_LEVELS, "--count", st["table_count"], "--seeds", st["table_seeds"],
                        "--seed", SEED] + fm)
        samplers = [s for s in GRID_SAMPLERS if s in st["samplers"].split(",")]
        grids(run, run.work, model, samplers)
        memo = memorisation(run, run.work, model, train_img, test_img, samplers)
        summary = dict(card_sha256=sha, files={f["path"]: f["sha256"][:12]
                                                      for f in card["files"]},
                              epochs=card["source"].get("epochs"),
                              commands=run.commands, memorisation=memo,
                              table_md=table_md(tb, "fid" in tb["results"][0]),
                              sweep_md=sweep_md(sw, "fid" in sw["results"][0]),
                              memo_md=memo_md(memo), feature=tb.get("feature_model"),
                              feature_tensor=tb.get("feature_tensor"),
                              feature_dim=tb.get("feature_dim"), heldout=tb["heldout"],
                              train=tb["train"])
        json.dump(summary, open(os.path.join(DATA, model + "-summary.json"), "w"), indent=1)
    # Pictures and text from whatever the runs so far have produced (so one model can
    # be rerun alone, or both at once in two processes with --only).
    done = [m for m in SETTINGS if os.path.exists(os.path.join(DATA, m + "-summary.json"))]
    sweep_plot({m: json.load(open(os.path.join(DATA, m + "-sweep.json"))) for m in done})
    write_md({m: json.load(open(os.path.join(DATA, m + "-summary.json"))) for m in done})


def sizes(model):
    tb = json.load(open(os.path.join(DATA, model + "-table.json")))
    sw = json.load(open(os.path.join(DATA, model + "-sweep.json")))
    return ("table %d samples per run, %d seed(s) from %s; sweep %d samples per run, %d seed(s) "
            "from %s" % (tb["count"], tb["seeds"], tb["first_seed"], sw["count"], sw["seeds"],
                         sw["first_seed"]))


def write_md(summary):
    path = os.path.join(DOCS, "sampling.md")
    text = open(path).read() if os.path.exists(path) else \
        "# Latent sampling: results\n\n<!-- BEGIN GENERATED -->\n<!-- END GENERATED -->\n"
    parts = ["<!-- BEGIN GENERATED (tools/sampling/make_sampling_doc.py; do not edit) -->", ""]
    for model, s in summary.items():
        parts += ["### %s" % model, "",
                  "Card `models/%s.json` sha256 `%s` (%s epochs; files %s). %d training "
                  "latents, %d held-out images." % (
                      model, s["card_sha256"][:16], s["epochs"],
                      ", ".join("`%s` %s" % kv for kv in s["files"].items()),
                      s["train"], s["heldout"]), "", "Sizes: %s." % sizes(model), ""]
        if s["feature"]:
            parts += ["FID / precision / recall: %d-d `%s` of `%s`." % (
                s["feature_dim"], s["feature_tensor"], s["feature"]), ""]
        sw = json.load(open(os.path.join(DATA, model + "-sweep.json")))
        tb = json.load(open(os.path.join(DATA, model + "-table.json")))
        parts += ["Table:", "", table_md(tb, "fid" in tb["results"][0]), "", "q/r sweep (PMF):",
                  "",
                  sweep_md(sw, "fid" in sw["results"][0]),
                  "Memorisation in pixels (Euclidean distance of each decoded image to its "
                  "nearest training image, [0,1] pixels):", "", s["memo_md"], "",
                  "Commands (`$WORK` = the script's work directory):", "", "```sh"]
        parts += s["commands"] + ["```", ""]
    parts.append("<!-- END GENERATED -->")
    a = text.index("<!-- BEGIN GENERATED")
    b = text.index("<!-- END GENERATED -->") + len("<!-- END GENERATED -->")
    open(path, "w").write(text[:a] + "\n".join(parts) + text[b:])


if __name__ == "__main__":
    main()
