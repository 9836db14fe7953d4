#!/usr/bin/python3
"""emoji-ae: the held-out reconstruction MSE that the card states, reproduced by our engine
(TAP). The 378 held-out Noto emoji (index % 10 == 9 of img/google/64/*.png sorted by name)
are prepared as the card describes (alpha-composited on white, box-downsampled to 32x32,
pixel/255), independently of the training script; `tensorlens run` encodes and decodes them
as one batch. Needs the npm package emoji-datasource-google@16.0.0 unpacked (EMOJI_DIR,
default /work/cache/emoji/package) and PIL: SKIP without them. argv[1] = tensorlens."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

root = os.environ.get("TL_SOURCE_ROOT", ".")
emoji = os.environ.get("EMOJI_DIR", "/work/cache/emoji/package")
pngs = os.path.join(emoji, "img", "google", "64")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tap import ok, done  # noqa: E402


def skip(k, why):
    for i in range(k):
        print(f"ok {i + 1} # SKIP {why}")
    print(f"1..{k}")
    sys.exit(0)


try:
    import numpy as np
    from PIL import Image
except ImportError:
    skip(3, "numpy/PIL not installed")
if not os.path.isdir(pngs):
    skip(3, f"{pngs} not found (npm pack emoji-datasource-google@16.0.0, unpack, set EMOJI_DIR)")

card = json.load(open(os.path.join(root, "models", "emoji-ae.json")))
log = json.load(open(os.path.join(root, "models", "train", "emoji-ae.log.json")))
names = sorted(f for f in os.listdir(pngs) if f.endswith(".png"))
h = hashlib.sha256()
held = []
for i, name in enumerate(names):
    with open(os.path.join(pngs, name), "rb") as f:
        h.update(f.read())
    if i % 10 == 9:
        im = Image.open(os.path.join(pngs, name)).convert("RGBA")
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        rgb = Image.alpha_composite(white, im).convert("RGB").resize((32, 32), Image.BOX)
        held.append(np.asarray(rgb).transpose(2, 0, 1))
ok(h.hexdigest() == log["png_sha256_concat"] and len(held) == card["metrics"]["test_images"],
   f"the {len(names)} PNGs are the ones the model was trained on ({len(held)} held out)")
x = np.stack(held).astype(np.float32) / np.float32(255.0)
ae = card["autoencoder"]
with tempfile.TemporaryDirectory() as tmp:
    def run(onnx, shape, inp, out):
        subprocess.run([sys.argv[1], "run", os.path.join(root, "models", onnx), "--shape", shape,
                        "-i", inp, "-o", out], check=True, capture_output=True)
    np.save(os.path.join(tmp, "x.npy"), x)
    k = len(x)
    run(ae["encoder"], f"{k}x3x32x32", os.path.join(tmp, "x.npy"), os.path.join(tmp, "z.npy"))
    run(ae["decoder"], f"{k}x{ae['latent_dim']}", os.path.join(tmp, "z.npy"), os.path.join(tmp, "y.npy"))
    y = np.load(os.path.join(tmp, "y.npy"))
ok(y.shape == x.shape and np.isfinite(y).all() and y.min() >= 0 and y.max() <= 1,
   f"decoded {y.shape}, values in [0, 1]")
mse = float(np.mean((y.astype(np.float64) - x) ** 2))
want = card["metrics"]["test_reconstruction_mse"]
print(f"# held-out reconstruction MSE by our engine {mse:.7f}, card {want} (tol 0.1% relative)")
ok(abs(mse - want) <= 1e-3 * want, "held-out reconstruction MSE = the card's")
sys.exit(done())
