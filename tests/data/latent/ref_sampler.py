#!/usr/bin/python3
"""Independent Python reference for src/latent's RNG and PMF vicinity sampler
(methods.md, Part B), written from the specification with Python integers, and
the generator of the fixtures next to it. Run with /usr/bin/python3 from this
directory: `./ref_sampler.py` rewrites every fixture.

What the C tests compare against:
  rng_kat.txt            seed, then xoshiro256** outputs and uniforms (exact)
  pmf_bank.npy           a small latent bank (float32), with a constant dim
  pmf_q*_r*_s*.npy       samples of that bank (float32, must match bit for bit)
  cli_bank_*.npy         bad banks (NaN, -Inf, 1 row, 0 rows, 3-D) for the CLI
"""
import math
import sys

import numpy as np

M64 = (1 << 64) - 1


def splitmix64(state):
    """Returns (new_state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


class Rng:
    """xoshiro256** with its four words from four splitmix64 outputs."""

    def __init__(self, seed):
        if seed < 0 or seed > M64:
            raise ValueError("seed must be an unsigned 64-bit integer")
        st = seed
        self.s = []
        for _ in range(4):
            st, out = splitmix64(st)
            self.s.append(out)

    def next(self):
        s0, s1, s2, s3 = self.s
        result = (rotl((s1 * 5) & M64, 7) * 9) & M64
        t = (s1 << 17) & M64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def uniform(self):
        return float(self.next() >> 11) * 2.0 ** -53


class Pmf:
    """Per-dimension quantisation and level counts of a bank Z (n x d)."""

    def __init__(self, Z, q, r):
        Z = np.asarray(Z, dtype=np.float32)
        self.n, self.d = Z.shape
        self.q, self.r = q, r
        self.lo = [float(Z[:, j].min()) for j in range(self.d)]
        hi = [float(Z[:, j].max()) for j in range(self.d)]
        self.delta = [(hi[j] - self.lo[j]) / q for j in range(self.d)]
        self.levels = [[0] * self.d for _ in range(self.n)]
        self.counts = [[0] * q for _ in range(self.d)]
        for i in range(self.n):
            for j in range(self.d):
                if self.delta[j] == 0.0:
                    b = 0
                else:
                    b = math.floor((float(Z[i, j]) - self.lo[j]) / self.delta[j])
                    b = min(max(b, 0), q - 1)
                self.levels[i][j] = b
                self.counts[j][b] += 1

    def sample(self, seed, count, first=0):
        rng = Rng(seed)
        for _ in range(first * (1 + 2 * self.d)):
            rng.next()
        out = np.zeros((count, self.d), dtype=np.float32)
        for k in range(count):
            i = math.floor(rng.uniform() * self.n)
            for j in range(self.d):
                b = self.levels[i][j]
                a, e = max(b - self.r, 0), min(b + self.r, self.q - 1)
                c = self.counts[j]
                total = sum(c[a:e + 1])
                target = rng.uniform() * total
                run, lev = 0, None
                for l in range(a, e + 1):
                    run += c[l]
                    if run > target:
                        lev = l
                        break
                u = rng.uniform()
                out[k, j] = np.float32(self.lo[j] + (lev + u) * self.delta[j])
        return out


def make_bank():
    """200 x 5 float32: three clusters in dims 0-2, a heavy tail in dim 3 and
    a constant dim 4 (exercises Delta = 0)."""
    g = np.random.default_rng(20240601)
    n = 200
    centres = np.array([[-2.0, 0.0, 1.0], [1.5, 2.0, -1.0], [0.0, -2.5, 0.5]])
    lab = g.integers(0, 3, n)
    Z = np.zeros((n, 5))
    Z[:, :3] = centres[lab] + 0.4 * g.standard_normal((n, 3))
    Z[:, 3] = g.standard_t(2, n)
    Z[:, 4] = 0.75
    return Z.astype(np.float32)


PMF_CASES = [  # (q, r, seed, count)
    (8, 1, 42, 300),
    (3, 0, 7, 100),
    (16, 3, 18446744073709551615, 100),
    (50, 100, 1, 100),   # window wider than the whole range: clipped
    (1, 0, 99, 50),      # one level: uniform in [lo, hi]
]


def main():
    with open("rng_kat.txt", "w") as f:
        f.write("# seed, then 8 lines: xoshiro256** output (decimal) and its uniform (%.17g)\n")
        for seed in (0, 1, 42, 1234567, 18446744073709551615):
            rng = Rng(seed)
            f.write("seed %d\n" % seed)
            for _ in range(8):
                x = rng.next()
                f.write("%d %.17g\n" % (x, float(x >> 11) * 2.0 ** -53))
    Z = make_bank()
    np.save("pmf_bank.npy", Z)
    for q, r, seed, count in PMF_CASES:
        np.save("pmf_q%d_r%d_s%d.npy" % (q, r, seed), Pmf(Z, q, r).sample(seed, count))
    # Bad banks for the CLI tests (tests/latent/test-cli-sample.sh).
    bad = Z[:4].copy()
    bad[2, 1] = np.nan
    np.save("cli_bank_nan.npy", bad)
    bad[2, 1] = -np.inf
    np.save("cli_bank_inf.npy", bad)
    np.save("cli_bank_1row.npy", Z[:1])
    np.save("cli_bank_0rows.npy", Z[:0])
    np.save("cli_bank_3d.npy", Z[:4].reshape(2, 2, 5))
    # Self-check: batching independence of the reference itself.
    p = Pmf(Z, 8, 1)
    whole = p.sample(42, 300)
    assert (np.concatenate([p.sample(42, 37), p.sample(42, 263, first=37)]) == whole).all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
