#!/usr/bin/python3
"""Writes the .npy fixtures of tests/core/test-npy.c with NumPy itself.

Good files come straight from np.save / np.lib.format, so the C reader is
checked against what users actually produce; bad files are made by
corrupting good ones in the ways a truncated download or a wrong dtype would.
Run from this directory: /usr/bin/python3 make-npy-fixtures.py
"""
import io
import numpy as np

D = "npy/"


def good(name, a, version=None):
    if version is None:
        np.save(D + name, a)
    else:
        with open(D + name, "wb") as f:
            np.lib.format.write_array(f, a, version=version)


def raw(name, data):
    with open(D + name, "wb") as f:
        f.write(data)


def npy_bytes(a, version=(1, 0)):
    b = io.BytesIO()
    np.lib.format.write_array(b, a, version=version)
    return b.getvalue()


a23 = (np.arange(6, dtype="<f4").reshape(2, 3) * 0.5 - 1).astype("<f4")
good("f32_2x3.npy", a23)
good("f32_scalar.npy", np.array(3.25, dtype="<f4"))
good("f32_1d.npy", np.array([1.5, -2, 0, 1e-30, 3e38], dtype="<f4"))
good("f32_1x3x4x5.npy", (np.arange(60, dtype="<f4") / 7).reshape(1, 3, 4, 5))
good("f32_0x3.npy", np.zeros((0, 3), dtype="<f4"))
good("f32_2x3_v2.npy", a23, version=(2, 0))
good("f32_special.npy", np.array([np.inf, -np.inf, -0.0, np.nan], dtype="<f4"))

# dtype and layout mismatches: must be refused, never misread
good("bad_f64.npy", a23.astype("<f8"))
good("bad_u8.npy", np.arange(6, dtype="u1").reshape(2, 3))
good("bad_i64.npy", np.arange(6, dtype="<i8"))
good("bad_bigendian.npy", a23.astype(">f4"))
good("bad_fortran.npy", np.asfortranarray(np.arange(12, dtype="<f4").reshape(3, 4)))
good("bad_structured.npy", np.zeros(3, dtype=[("x", "<f4"), ("y", "<f4")]))

full = npy_bytes(a23)
raw("bad_truncated_data.npy", full[:-5])
raw("bad_trailing.npy", full + b"\0\0\0\0")
raw("bad_truncated_header.npy", full[:40])
raw("bad_short.npy", full[:5])
raw("bad_magic.npy", b"\x93NUMPZ" + full[6:])
raw("bad_version.npy", full[:6] + b"\x09\x00" + full[8:])
raw("bad_empty.npy", b"")


def with_header(text, data=b"", version=1):
    """A syntactically valid preamble around an arbitrary header text."""
    h = text.encode("latin1")
    pad = (64 - (10 + len(h) + 1) % 64) % 64
    h = h + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h + data


raw("bad_absurd_shape.npy",
    with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }"))
raw("bad_lying_shape.npy",
    with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (50000, 50000), }"))
raw("bad_overflow_shape.npy",
    with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }"))
raw("bad_negative_shape.npy",
    with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }"))
raw("bad_garbage_header.npy", with_header("{'descr': '<f4', 'fortran_ord"))
raw("bad_missing_key.npy", with_header("{'descr': '<f4', 'shape': (1,), }", b"\0\0\0\0"))
raw("bad_huge_header_len.npy", b"\x93NUMPY\x02\x00" + (0xFFFFFFF0).to_bytes(4, "little") + b"{")
