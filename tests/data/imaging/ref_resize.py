"""Float64 NumPy reference resampling written from the definitions in
src/resize.h (not from the C); shared by the fixture scripts here."""
import numpy as np


def bilinear_axis_coords(n_in, n_out, mode, start=0.0, length=None):
    i = np.arange(n_out, dtype=np.float64)
    if mode == "half-pixel":
        s = (i + 0.5) * n_in / n_out - 0.5
    elif mode == "tf-legacy":
        s = i * n_in / n_out
    elif mode == "window":
        s = start + (i + 0.5) * length / n_out - 0.5
    return np.clip(s, 0, n_in - 1)


def bilinear(img, oh, ow, mode, window=None):
    h, w, c = img.shape
    if window:
        x0, y0, ww, wh = window
        sy = bilinear_axis_coords(h, oh, "window", y0, wh)
        sx = bilinear_axis_coords(w, ow, "window", x0, ww)
    else:
        sy = bilinear_axis_coords(h, oh, mode)
        sx = bilinear_axis_coords(w, ow, mode)
    out = np.zeros((oh, ow, c))
    for y in range(oh):
        y0_ = int(np.floor(sy[y])); y1_ = min(y0_ + 1, h - 1); ly = sy[y] - y0_
        for x in range(ow):
            x0_ = int(np.floor(sx[x])); x1_ = min(x0_ + 1, w - 1); lx = sx[x] - x0_
            out[y, x] = ((1 - ly) * ((1 - lx) * img[y0_, x0_] + lx * img[y0_, x1_])
                         + ly * ((1 - lx) * img[y1_, x0_] + lx * img[y1_, x1_]))
    return out


def area_matrix(n_in, n_out):
    """n_out x n_in; shrinking: box coverage; growing: half-pixel bilinear."""
    if n_out > n_in:
        m = np.zeros((n_out, n_in))
        s = bilinear_axis_coords(n_in, n_out, "half-pixel")
        for i, si in enumerate(s):
            i0 = int(np.floor(si)); i1 = min(i0 + 1, n_in - 1)
            m[i, i0] += 1 - (si - i0); m[i, i1] += si - i0
        return m
    r = n_in / n_out
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        a, b = i * r, min((i + 1) * r, n_in)
        for j in range(n_in):
            m[i, j] = max(0.0, min(j + 1, b) - max(j, a)) / r
    return m


def area(img, oh, ow):
    my, mx = area_matrix(img.shape[0], oh), area_matrix(img.shape[1], ow)
    return np.einsum("yh,hwc,xw->yxc", my, img, mx)
