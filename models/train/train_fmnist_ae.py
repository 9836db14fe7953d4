#!/usr/bin/python3
"""Train the deterministic Fashion-MNIST convolutional autoencoder (latent 16).

RAE protocol (Ghosh et al. 2020): images zero-padded 28 -> 32, pixel/255 in [0,1].
Writes models/fmnist-ae-encoder.onnx, models/fmnist-ae-decoder.onnx,
models/fmnist-ae-latents.npy (the encoded training set, 60000x16 float32, in
file order) and the training log with the test reconstruction MSE.
Seeded; NOT run in CI. 16 epochs (MSE, Adam 1e-3, cosine decay; models/train/ae_train.py):
48 min of epochs on 1 torch thread of the shared 2-core machine (77-291 s per epoch under
loads of 10-20). Test MSE 0.00885 per pixel on 32x32, 0.01155 on the central 28x28 (4 epochs
gave 0.01152 / 0.01505). Picture: models/train/show_ae.py fmnist-ae OUT.png
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402
import ae_train  # noqa: E402
import onnx_tidy  # noqa: E402

SEED = 20261127
LATENT = 16
EPOCHS = int(os.environ.get("EPOCHS", "16"))
THREADS = int(os.environ.get("TORCH_THREADS", "1"))  # <= 2; 1 is fastest on a shared CPU
BATCH = 128
LR = 1e-3
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 4, 2, 1), nn.ReLU(),     # 16x16
            nn.Conv2d(16, 32, 4, 2, 1), nn.ReLU(),    # 8x8
            nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU())    # 4x4
        self.fc = nn.Linear(64 * 4 * 4, LATENT)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))


class Decoder(nn.Module):
    # Nearest upsampling + conv instead of transposed convs: only Gemm, Reshape,
    # Resize(nearest), Conv, Relu, Sigmoid in the exported graph.
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(LATENT, 64 * 4 * 4)
        self.conv = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(32, 16, 3, padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid())

    def forward(self, z):
        return self.conv(F.relu(self.fc(z)).reshape(-1, 64, 4, 4))


def prep(x):
    x = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)
    return F.pad(x, (2, 2, 2, 2))


def main():
    torch.set_num_threads(THREADS)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    xtr, _ = fmnist.load("train")
    xte, _ = fmnist.load("t10k")
    xtr, xte = prep(xtr), prep(xte)
    enc, dec = Encoder(), Decoder()
    t0 = time.time()
    log = ae_train.train(enc, dec, xtr, xte, seed=SEED, epochs=EPOCHS, batch=BATCH, lr=LR,
                         ckpt="/work/cache/fmnist-ae.ckpt")
    enc.eval(); dec.eval()
    with torch.no_grad():
        bank = torch.cat([enc(xtr[i:i + 1000]) for i in range(0, len(xtr), 1000)]).numpy()
        zte = torch.cat([enc(xte[i:i + 1000]) for i in range(0, len(xte), 1000)])
        rec = torch.cat([dec(zte[i:i + 1000]) for i in range(0, len(zte), 1000)])
        mse32 = F.mse_loss(rec, xte).item()
        mse28 = F.mse_loss(rec[:, :, 2:30, 2:30], xte[:, :, 2:30, 2:30]).item()
    np.save(os.path.join(OUT, "fmnist-ae-latents.npy"), bank.astype(np.float32))
    torch.onnx.export(enc, torch.zeros(1, 1, 32, 32), os.path.join(OUT, "fmnist-ae-encoder.onnx"),
                      opset_version=13, input_names=["image"], output_names=["latent"],
                      dynamic_axes={"image": {0: "n"}, "latent": {0: "n"}})
    torch.onnx.export(dec, torch.zeros(1, LATENT), os.path.join(OUT, "fmnist-ae-decoder.onnx"),
                      opset_version=13, input_names=["latent"], output_names=["image"],
                      dynamic_axes={"image": {0: "n"}, "latent": {0: "n"}})
    onnx_tidy.tidy(os.path.join(OUT, "fmnist-ae-encoder.onnx"), {"latent": ['n', 16]})
    onnx_tidy.tidy(os.path.join(OUT, "fmnist-ae-decoder.onnx"), {"image": ['n', 1, 32, 32]})
    with open(os.path.join(OUT, "train", "fmnist-ae.log.json"), "w") as f:
        json.dump({"seed": SEED, "epochs": EPOCHS, "batch": BATCH, "latent": LATENT,
                   "torch": torch.__version__, "test_mse_32": mse32, "test_mse_28": mse28,
                   "lr": LR, "threads": THREADS, "train_seconds": time.time() - t0,
                   "log": log}, f, indent=1)
    torch.save({"enc": enc.state_dict(), "dec": dec.state_dict()}, "/work/cache/fmnist-ae.pt")


if __name__ == "__main__":
    main()
