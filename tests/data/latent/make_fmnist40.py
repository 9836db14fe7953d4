#!/usr/bin/python3
"""fmnist40-idx3-ubyte: the first 40 Fashion-MNIST test images (Debian
dataset-fashion-mnist, MIT, Zalando Research) as an uncompressed IDX file,
the held-out set of tests/latent/test-eval-sampling-model.py. Run from this
directory."""
import gzip
import struct

SRC = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
N = 40

with gzip.open(SRC, "rb") as f:
    magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
    assert magic == 0x803 and rows == 28 and cols == 28
    pixels = f.read(N * rows * cols)
with open("fmnist40-idx3-ubyte", "wb") as f:
    f.write(struct.pack(">IIII", 0x803, N, rows, cols))
    f.write(pixels)
