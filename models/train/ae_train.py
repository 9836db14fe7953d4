#!/usr/bin/python3
"""The training loop both autoencoder scripts share (MSE, Adam, cosine decay).

The learning rate of epoch e (0-based) is lr * (1 + cos(pi * e / epochs)) / 2, computed in
closed form, so the first epoch is the same whatever the epoch count: a run can be started,
its first epoch timed, and the count fixed afterwards (resume from the epoch-1 checkpoint)
with the same result as a run started with that count.

A checkpoint (weights, Adam state, shuffling generator, log) is written atomically after
every epoch (and kept separately after the first); set RESUME=1 to continue from it after an
interruption, or RESUME=epoch1 to restart from the first epoch with another epoch count. A resumed run equals an
uninterrupted one: nothing else carries state between epochs.
"""
import json
import math
import os
import time

import torch
import torch.nn.functional as F


def lr_at(lr, epoch, epochs):
    return lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


def test_mse(enc, dec, x, chunk=1000):
    """Mean squared error per pixel of dec(enc(x)), in chunks (no grad)."""
    enc.eval(); dec.eval()
    with torch.no_grad():
        tot = sum(F.mse_loss(dec(enc(x[i:i + chunk])), x[i:i + chunk], reduction="sum").item()
                  for i in range(0, len(x), chunk))
    return tot / x.numel()


def _save(path, state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def train(enc, dec, xtr, xte, *, seed, epochs, batch, lr, ckpt):
    """Train in place; returns the per-epoch log (train MSE, test MSE, lr, seconds)."""
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    g = torch.Generator().manual_seed(seed)
    log, start = [], 0
    resume = os.environ.get("RESUME")
    src = ckpt + ".epoch1" if resume == "epoch1" else ckpt
    if resume and os.path.exists(src):
        st = torch.load(src)
        # Only the first epoch's learning rate is independent of the epoch count.
        if st["epochs"] != epochs and st["epoch"] > 1:
            raise SystemExit(f"{src}: made for {st['epochs']} epochs, at epoch {st['epoch']}; "
                             f"cannot continue it as a {epochs}-epoch run")
        enc.load_state_dict(st["enc"]); dec.load_state_dict(st["dec"])
        opt.load_state_dict(st["opt"]); g.set_state(st["gen"])
        log, start = st["log"], st["epoch"]
        print(f"resumed from {src} after epoch {start}", flush=True)
    for ep in range(start, epochs):
        enc.train(); dec.train()
        for group in opt.param_groups:
            group["lr"] = lr_at(lr, ep, epochs)
        t0 = time.time()
        perm = torch.randperm(len(xtr), generator=g)
        tot = 0.0
        for i in range(0, len(xtr), batch):
            xb = xtr[perm[i:i + batch]]
            loss = F.mse_loss(dec(enc(xb)), xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(xb)
        log.append({"epoch": ep + 1, "lr": lr_at(lr, ep, epochs), "train_mse": tot / len(xtr),
                    "test_mse": test_mse(enc, dec, xte), "seconds": time.time() - t0})
        print(json.dumps(log[-1]), flush=True)
        state = {"epoch": ep + 1, "epochs": epochs, "enc": enc.state_dict(),
                 "dec": dec.state_dict(), "opt": opt.state_dict(), "gen": g.get_state(),
                 "log": log}
        _save(ckpt, state)
        if ep == 0:
            # kept: the point from which any epoch count can still be chosen
            _save(ckpt + ".epoch1", state)
    enc.eval(); dec.eval()
    return log
