#!/usr/bin/python3
"""Fixtures for tests/imaging/test-image.c.

PNGs are written by a minimal encoder below (so every colour type and bit
depth, palette and tRNS case is exactly what we say it is); each one is then
decoded by PIL and checked against the intended samples wherever PIL keeps
full precision. Expected decoded values go to <name>.npy as float32 in [0,1]
(sample / (2^depth - 1), grey depths < 8 scaled as libpng and PIL do), HWC.
JPEGs are written and decoded by PIL (same libjpeg-turbo as the C code).
Run from anywhere: /usr/bin/python3 tests/data/imaging/make-image-fixtures.py
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261126)
W, H = 7, 5


def chunk(tag, data):
    c = struct.pack(">I", len(data)) + tag + data
    return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """samples: 1-D ints for one row (all channels interleaved)."""
    if depth == 8:
        return bytes(int(v) for v in samples)
    if depth == 16:
        return b"".join(struct.pack(">H", int(v)) for v in samples)
    per = 8 // depth
    out = bytearray()
    for i in range(0, len(samples), per):
        byte = 0
        for j in range(per):
            v = int(samples[i + j]) if i + j < len(samples) else 0
            byte |= v << (8 - depth * (j + 1))
        out.append(byte)
    return bytes(out)


def adam7_passes(h, w):
    starts = [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2),
              (0, 1, 2, 2), (1, 0, 2, 1)]
    for y0, x0, dy, dx in starts:
        ys = list(range(y0, h, dy))
        xs = list(range(x0, w, dx))
        if ys and xs:
            yield ys, xs


def write_png(name, samples, depth, ctype, palette=None, trns=None, interlace=False):
    """samples: H x W x ch int array (palette: indices)."""
    h, w = samples.shape[:2]
    raw = bytearray()
    if interlace:
        for ys, xs in adam7_passes(h, w):
            for y in ys:
                raw += b"\x00" + pack_row(samples[y, xs].reshape(-1), depth)
    else:
        for y in range(h):
            # alternate PNG filter types 0 and 1 (Sub) to exercise unfiltering
            row = pack_row(samples[y].reshape(-1), depth)
            if y % 2:
                bpp = max(1, depth * samples.shape[2] // 8)
                f = bytes((row[i] - (row[i - bpp] if i >= bpp else 0)) & 0xFF
                          for i in range(len(row)))
                raw += b"\x01" + f
            else:
                raw += b"\x00" + row
    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, int(interlace)))
    if palette is not None:
        png += chunk(b"PLTE", bytes(palette.reshape(-1).astype(np.uint8)))
    if trns is not None:
        png += chunk(b"tRNS", trns)
    png += chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    png += chunk(b"IEND", b"")
    with open(os.path.join(HERE, name + ".png"), "wb") as f:
        f.write(png)
    return png


def save_expected(name, arr):
    np.save(os.path.join(HERE, name + ".npy"), np.ascontiguousarray(arr, dtype=np.float32))


def expect(name, values, maxval):
    v = np.asarray(values, dtype=np.float32) / np.float32(maxval)
    save_expected(name, v)
    return v


def pil_check(name, want_u8=None, want=None):
    im = Image.open(os.path.join(HERE, name + ".png"))
    im.load()
    if im.mode == "1":
        im = im.convert("L")
    a = np.asarray(im)
    if a.ndim == 2:
        a = a[:, :, None]
    got = a
    ref = want if want is not None else want_u8
    assert got.shape == ref.shape and np.array_equal(got.astype(np.int64), ref.astype(np.int64)), \
        (name, im.mode, got[..., 0], ref[..., 0])


def ints(ch, depth):
    return rng.integers(0, 2 ** depth, size=(H, W, ch))


# grey, all depths
for depth in (1, 2, 4, 8, 16):
    s = ints(1, depth)
    s[0, 0, 0] = 0
    s[0, 1, 0] = 2 ** depth - 1
    write_png(f"grey{depth}", s, depth, 0)
    expect(f"grey{depth}", s, 2 ** depth - 1)
    if depth in (8, 16):
        pil_check(f"grey{depth}", want=s)
    else:  # PIL scales low-depth grey to 8 bits; libpng expands the same way
        pil_check(f"grey{depth}", want=(s * 255 // (2 ** depth - 1)) if depth > 1 else s * 255)
# grey + alpha, RGB, RGBA at 8 and 16 bits
for ctype, ch, tag in ((4, 2, "greya"), (2, 3, "rgb"), (6, 4, "rgba")):
    for depth in (8, 16):
        s = ints(ch, depth)
        write_png(f"{tag}{depth}", s, depth, ctype)
        expect(f"{tag}{depth}", s, 2 ** depth - 1)
        if depth == 8:
            pil_check(f"{tag}{depth}", want=s)
# Adam7 interlaced RGB
s = ints(3, 8)
write_png("rgb8_interlaced", s, 8, 2, interlace=True)
expect("rgb8_interlaced", s, 255)
pil_check("rgb8_interlaced", want=s)
# palette at 1, 2, 4, 8 bits, without and with tRNS (shorter than the palette)
for depth in (1, 2, 4, 8):
    n = min(2 ** depth, 11)
    pal = rng.integers(0, 256, size=(n, 3))
    idx = rng.integers(0, n, size=(H, W, 1))
    write_png(f"pal{depth}", idx, depth, 3, palette=pal)
    rgb = pal[idx[:, :, 0]]
    expect(f"pal{depth}", rgb, 255)
    im = Image.open(os.path.join(HERE, f"pal{depth}.png")).convert("RGB")
    assert np.array_equal(np.asarray(im), rgb)
    alpha = rng.integers(0, 256, size=max(1, n - 1))
    write_png(f"pal{depth}_trns", idx, depth, 3, palette=pal, trns=bytes(alpha.astype(np.uint8)))
    a_full = np.concatenate([alpha, np.full(n - len(alpha), 255)])
    rgba = np.concatenate([rgb, a_full[idx[:, :, 0]][:, :, None]], axis=2)
    expect(f"pal{depth}_trns", rgba, 255)
    im = Image.open(os.path.join(HERE, f"pal{depth}_trns.png")).convert("RGBA")
    assert np.array_equal(np.asarray(im), rgba), depth
# grey + tRNS and RGB + tRNS (colour key -> alpha 0, others 255)
s = ints(1, 8)
key = int(s[1, 2, 0])
write_png("grey8_trns", s, 8, 0, trns=struct.pack(">H", key))
expect("grey8_trns", np.concatenate([s, np.where(s == key, 0, 255)], axis=2), 255)
assert np.array_equal(np.asarray(Image.open(os.path.join(HERE, "grey8_trns.png")).convert("LA")),
                      np.concatenate([s, np.where(s == key, 0, 255)], axis=2))
s = ints(3, 16)
s[2, 3] = s[0, 0]
key = s[0, 0]
write_png("rgb16_trns", s, 16, 2, trns=struct.pack(">HHH", *[int(k) for k in key]))
mask = np.all(s == key, axis=2, keepdims=True)
expect("rgb16_trns", np.concatenate([s, np.where(mask, 0, 65535)], axis=2), 65535)

# JPEG: grey and colour, baseline and progressive, decoded by PIL
img = (np.stack(np.meshgrid(np.linspace(0, 255, 40), np.linspace(0, 255, 30)), -1)).astype(np.uint8)
rgb = np.concatenate([img, (255 - img[:, :, :1])], axis=2)
rgb = np.clip(rgb.astype(int) + rng.integers(-20, 21, size=rgb.shape), 0, 255).astype(np.uint8)
for name, im, kw in (("jpeg_rgb", Image.fromarray(rgb), dict(quality=90)),
                     ("jpeg_rgb_progressive", Image.fromarray(rgb),
                      dict(quality=80, progressive=True, subsampling=2)),
                     ("jpeg_grey", Image.fromarray(rgb[:, :, 0]), dict(quality=90))):
    p = os.path.join(HERE, name + ".jpg")
    im.save(p, **kw)
    d = np.asarray(Image.open(p))
    if d.ndim == 2:
        d = d[:, :, None]
    expect(name, d, 255)
Image.fromarray(rgb).convert("CMYK").save(os.path.join(HERE, "bad_cmyk.jpg"), quality=90)

# A full 6000 x 4000 photo size must load: uniform grey (tiny files; the PNG
# also shows the inflate-ratio guard accepts a real, extremely compressible file)
big = Image.new("L", (6000, 4000), 128)
big.save(os.path.join(HERE, "big_6000x4000.png"), optimize=True)
big.save(os.path.join(HERE, "big_6000x4000.jpg"), quality=75)

# Bad files
with open(os.path.join(HERE, "rgb8.png"), "rb") as f:
    good_png = f.read()
with open(os.path.join(HERE, "jpeg_rgb.jpg"), "rb") as f:
    good_jpg = f.read()
bad = {
    "bad_empty.png": b"",
    "bad_garbage.png": bytes(rng.integers(0, 256, 300).astype(np.uint8)),
    "bad_text.jpg": b"this is not an image\n",
    "bad_truncated.png": good_png[: len(good_png) // 2],
    "bad_truncated_sig.png": good_png[:5],
    "bad_truncated.jpg": good_jpg[: len(good_jpg) // 2],
    "bad_jpeg_soi_only.jpg": b"\xff\xd8\xff",
}
# IHDR with valid CRC claiming 100000 x 100000 (above the pixel limit)
def huge_png(w, h):
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
bad["bad_huge.png"] = huge_png(100000, 100000)
# 16000 x 16000 is under the pixel limit but cannot fit in ~100 bytes of deflate
bad["bad_lying_size.png"] = huge_png(16000, 16000)
# bad CRC on IHDR
b = bytearray(good_png)
b[29] ^= 0xFF
bad["bad_crc.png"] = bytes(b)
# JPEG whose SOF0 claims 60000 x 60000
b = bytearray(good_jpg)
i = b.find(b"\xff\xc0")
assert i > 0
b[i + 5:i + 9] = struct.pack(">HH", 60000, 60000)
bad["bad_huge.jpg"] = bytes(b)
# ... and 16000 x 16000: under the pixel limit, but 4 M blocks in a few KB
b[i + 5:i + 9] = struct.pack(">HH", 16000, 16000)
bad["bad_lying_size.jpg"] = bytes(b)
# a PNG named .jpg and a JPEG named .png: content decides
bad["png_named.jpg"] = good_png
bad["jpeg_named.png"] = good_jpg
for name, data in bad.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
print("ok")
