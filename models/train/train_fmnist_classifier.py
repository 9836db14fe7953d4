#!/usr/bin/python3
"""Train the Fashion-MNIST GAP-head classifier (models/fmnist-classifier.onnx).

Seeded and single-process; NOT run in CI. Takes ~10-15 min on 2 cores.
Input: 1x1x28x28 float32, pixel/255 (0..1), no mean/std.
Its GAP output (tensor 'features', 128-d) is also the FID feature network for Fashion-MNIST.
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
import onnx_tidy  # noqa: E402

SEED = 20261126
EPOCHS = int(os.environ.get("EPOCHS", "12"))
BATCH = 128
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = block(1, 32)      # 28x28
        self.c2 = block(32, 64)     # 14x14
        self.c3 = block(64, 128)    # 7x7
        self.c4 = block(128, 128)   # 7x7: the default target layer (last 4-D map before GAP)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(self.c1(x), 2)
        x = F.max_pool2d(self.c2(x), 2)
        x = self.c4(self.c3(x))
        f = x.mean(dim=(2, 3))
        return self.fc(f), f


class Export(nn.Module):
    """Same net, returning (logits, features) with the graph of a plain forward."""
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)


def evaluate(net, x, y):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            logits, _ = net(x[i:i + 1000])
            correct += (logits.argmax(1) == y[i:i + 1000]).sum().item()
    return correct / len(x)


def main():
    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.use_deterministic_algorithms(True)
    xtr, ytr = fmnist.load("train")
    xte, yte = fmnist.load("t10k")
    xtr = torch.from_numpy(xtr.astype(np.float32) / 255.0).unsqueeze(1)
    xte = torch.from_numpy(xte.astype(np.float32) / 255.0).unsqueeze(1)
    ytr = torch.from_numpy(ytr.astype(np.int64))
    yte = torch.from_numpy(yte.astype(np.int64))
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    steps = EPOCHS * ((len(xtr) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3, total_steps=steps)
    g = torch.Generator().manual_seed(SEED)
    log = []
    for ep in range(EPOCHS):
        net.train()
        t0 = time.time()
        perm = torch.randperm(len(xtr), generator=g)
        tot = 0.0
        for i in range(0, len(xtr), BATCH):
            idx = perm[i:i + BATCH]
            xb = xtr[idx]
            # random horizontal flip: clothing is left/right symmetric enough
            flip = torch.rand(len(idx), generator=g) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            logits, _ = net(xb)
            loss = F.cross_entropy(logits, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
        acc = evaluate(net, xte, yte)
        log.append({"epoch": ep + 1, "train_loss": tot / len(xtr), "test_acc": acc,
                    "seconds": time.time() - t0})
        print(json.dumps(log[-1]), flush=True)
    net.eval()
    onnx_path = os.path.join(OUT, "fmnist-classifier.onnx")
    torch.onnx.export(Export(net), torch.zeros(1, 1, 28, 28), onnx_path, opset_version=13,
                      input_names=["input"], output_names=["logits", "features"],
                      do_constant_folding=True)
    onnx_tidy.tidy(onnx_path, {"input": ["N", 1, 28, 28], "logits": ["N", 10], "features": ["N", 128]})
    with open(os.path.join(OUT, "train", "fmnist-classifier.log.json"), "w") as f:
        json.dump({"seed": SEED, "epochs": EPOCHS, "batch": BATCH, "torch": torch.__version__,
                   "test_accuracy": log[-1]["test_acc"], "log": log}, f, indent=1)
    torch.save(net.state_dict(), "/work/cache/fmnist-classifier.pt")


if __name__ == "__main__":
    main()
