#!/usr/bin/python3
"""Fashion-MNIST from the Debian package dataset-fashion-mnist (gzip IDX, big-endian)."""
import gzip
import os
import struct

import numpy as np

DIR = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def _read(name, magic):
    with gzip.open(os.path.join(DIR, name), "rb") as f:
        data = f.read()
    m, n = struct.unpack(">II", data[:8])
    if m != magic:
        raise ValueError(f"{name}: magic {m:#x}, expected {magic:#x}")
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, n * rows * cols, 16).reshape(n, rows, cols)
    return np.frombuffer(data, np.uint8, n, 8)


def load(split):
    """split = 'train' or 't10k'; returns (uint8 [n,28,28], uint8 [n])."""
    x = _read(f"{split}-images-idx3-ubyte.gz", 0x803)
    y = _read(f"{split}-labels-idx1-ubyte.gz", 0x801)
    assert len(x) == len(y)
    return x, y
