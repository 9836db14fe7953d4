#!/usr/bin/python3
"""Picture of an autoencoder for people: held-out images, their reconstructions, and
decodes of latents drawn from a full-covariance Gaussian fitted to the latent bank.

    show_ae.py emoji-ae|fmnist-ae OUT.png [WEIGHTS.pt]

Rows: 2 x (12 held-out originals over their reconstructions), then 2 rows of 12 samples.
Reads the weights the training script keeps (/work/cache/NAME.pt by default) and the
bank in models/; the Gaussian draw is seeded, so the picture is reproducible.
"""
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

COLS, SCALE = 12, 3


def held_out(name):
    if name == "emoji-ae":
        import train_emoji_ae as m
        _, imgs, _ = m.load_images()
        x = torch.from_numpy(imgs.astype(np.float32) / 255.0)
        x = x[np.arange(len(x)) % 10 == 9]
    else:
        import fmnist
        import train_fmnist_ae as m
        xte, _ = fmnist.load("t10k")
        x = m.prep(xte)
    return m, x


def tile(rows):
    """rows: list of [COLS, C, 32, 32] arrays in [0,1] -> one RGB PIL image."""
    h = len(rows) * 34 + 2
    w = COLS * 34 + 2
    canvas = np.full((h, w, 3), 128, np.uint8)
    for r, row in enumerate(rows):
        for c, im in enumerate(row):
            im = np.clip(im * 255.0 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
            if im.shape[2] == 1:
                im = np.repeat(im, 3, axis=2)
            canvas[2 + r * 34:2 + r * 34 + 32, 2 + c * 34:2 + c * 34 + 32] = im
    return Image.fromarray(canvas).resize((w * SCALE, h * SCALE), Image.NEAREST)


def main():
    name, out = sys.argv[1], sys.argv[2]
    weights = sys.argv[3] if len(sys.argv) > 3 else f"/work/cache/{name}.pt"
    m, x = held_out(name)
    enc, dec = m.Encoder(), m.Decoder()
    st = torch.load(weights)
    enc.load_state_dict(st["enc"]); dec.load_state_dict(st["dec"])
    enc.eval(); dec.eval()
    pick = x[torch.linspace(0, len(x) - 1, 2 * COLS).long()]
    bank = np.load(os.path.join(HERE, "..", f"{name}-latents.npy")).astype(np.float64)
    rng = np.random.default_rng(7)
    z = rng.multivariate_normal(bank.mean(0), np.cov(bank, rowvar=False), 2 * COLS)
    with torch.no_grad():
        rec = dec(enc(pick)).numpy()
        smp = dec(torch.from_numpy(z.astype(np.float32))).numpy()
    pick = pick.numpy()
    rows = [pick[:COLS], rec[:COLS], pick[COLS:], rec[COLS:], smp[:COLS], smp[COLS:]]
    tile(rows).save(out, optimize=True)
    mse = float(((rec - pick) ** 2).mean())
    print(f"{out}: {len(rows)} rows; MSE of the shown reconstructions {mse:.5f}")


if __name__ == "__main__":
    main()
