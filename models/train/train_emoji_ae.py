#!/usr/bin/python3
"""Train the colour emoji autoencoder (latent 32) on Google Noto emoji from npm.

    npm pack emoji-datasource-google@16.0.0        (sha256 fb5fd131...c438, 74 MB)
    tar xzf emoji-datasource-google-16.0.0.tgz -C DIR
    EMOJI_DIR=DIR/package models/train/train_emoji_ae.py

Data: every img/google/64/*.png (Noto Emoji, Apache-2.0), sorted by file name,
alpha-composited on white, box-downsampled to 32x32 RGB, pixel/255 in [0,1].
Split: index % 10 == 9 is held out (test), the rest is training.
Writes models/emoji-ae-{encoder,decoder}.onnx, models/emoji-ae-latents.npy
(encoded training split, file order) and the log with the test MSE.
Seeded; NOT run in CI. 45 epochs (MSE, Adam 1e-3, cosine decay; models/train/ae_train.py):
53 min of epochs on 1 torch thread of the shared 2-core machine (31-158 s per epoch under
loads of 6-19; ~20 s on an idle core). Test MSE 0.0120 per pixel (15 epochs gave 0.0187).
Picture of held-out reconstructions and samples: models/train/show_ae.py emoji-ae OUT.png
"""
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ae_train  # noqa: E402
import onnx_tidy  # noqa: E402

SEED = 20261128
LATENT = 32
EPOCHS = int(os.environ.get("EPOCHS", "45"))
THREADS = int(os.environ.get("TORCH_THREADS", "1"))  # <= 2; 1 is fastest on a shared CPU
BATCH = 64
LR = 1e-3
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
EMOJI_DIR = os.environ.get("EMOJI_DIR", "/work/cache/emoji/package")


def load_images():
    d = os.path.join(EMOJI_DIR, "img", "google", "64")
    names = sorted(f for f in os.listdir(d) if f.endswith(".png"))
    h = hashlib.sha256()
    out = np.zeros((len(names), 3, 32, 32), np.uint8)
    for i, n in enumerate(names):
        with open(os.path.join(d, n), "rb") as f:
            raw = f.read()
        h.update(raw)
        im = Image.open(os.path.join(d, n)).convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        rgb = Image.alpha_composite(bg, im).convert("RGB").resize((32, 32), Image.BOX)
        out[i] = np.asarray(rgb).transpose(2, 0, 1)
    return names, out, h.hexdigest()


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(3, 32, 4, 2, 1), nn.ReLU(),     # 16x16
            nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),    # 8x8
            nn.Conv2d(64, 128, 4, 2, 1), nn.ReLU())   # 4x4
        self.fc = nn.Linear(128 * 4 * 4, LATENT)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(LATENT, 128 * 4 * 4)
        self.conv = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(128, 96, 3, padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(96, 64, 3, padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 3, 3, padding=1), nn.Sigmoid())

    def forward(self, z):
        return self.conv(F.relu(self.fc(z)).reshape(-1, 128, 4, 4))


def main():
    torch.set_num_threads(THREADS)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    names, imgs, digest = load_images()
    idx = np.arange(len(imgs))
    test = idx % 10 == 9
    x = torch.from_numpy(imgs.astype(np.float32) / 255.0)
    xtr, xte = x[~test], x[test]
    enc, dec = Encoder(), Decoder()
    t0 = time.time()
    log = ae_train.train(enc, dec, xtr, xte, seed=SEED, epochs=EPOCHS, batch=BATCH, lr=LR,
                         ckpt="/work/cache/emoji-ae.ckpt")
    with torch.no_grad():
        bank = enc(xtr).numpy().astype(np.float32)
    mse = ae_train.test_mse(enc, dec, xte)
    np.save(os.path.join(OUT, "emoji-ae-latents.npy"), bank)
    torch.onnx.export(enc, torch.zeros(1, 3, 32, 32), os.path.join(OUT, "emoji-ae-encoder.onnx"),
                      opset_version=13, input_names=["image"], output_names=["latent"],
                      dynamic_axes={"image": {0: "n"}, "latent": {0: "n"}})
    torch.onnx.export(dec, torch.zeros(1, LATENT), os.path.join(OUT, "emoji-ae-decoder.onnx"),
                      opset_version=13, input_names=["latent"], output_names=["image"],
                      dynamic_axes={"image": {0: "n"}, "latent": {0: "n"}})
    onnx_tidy.tidy(os.path.join(OUT, "emoji-ae-encoder.onnx"), {"latent": ['n', 32]})
    onnx_tidy.tidy(os.path.join(OUT, "emoji-ae-decoder.onnx"), {"image": ['n', 3, 32, 32]})
    with open(os.path.join(OUT, "train", "emoji-ae.log.json"), "w") as f:
        json.dump({"seed": SEED, "epochs": EPOCHS, "batch": BATCH, "latent": LATENT,
                   "torch": torch.__version__, "images": len(names), "train": int((~test).sum()),
                   "test": int(test.sum()), "png_sha256_concat": digest,
                   "test_mse": mse, "lr": LR, "threads": THREADS,
                   "train_seconds": time.time() - t0, "log": log}, f, indent=1)
    torch.save({"enc": enc.state_dict(), "dec": dec.state_dict()}, "/work/cache/emoji-ae.pt")


if __name__ == "__main__":
    main()
