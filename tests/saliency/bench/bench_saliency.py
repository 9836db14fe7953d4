#!/usr/bin/python3
"""Saliency maths: tensorlens (C, `tensorlens bench-saliency`) against the
same maths done NumPy-style, at 1 thread, and the section "Saliency maths"
of docs/benchmarks.md. A benchmark, not a test: numbers depend on the
machine and its load.

NumPy-style means what the Python toolkits do: EigenCAM and
Multivec-EigenCAM from a full SVD of the centred N×C unfolding
(pytorch-grad-cam's get_2d_projection, np.linalg.svd(full_matrices=True));
TSM/MTSM from HOOI with SVDs of the unfoldings as TensorLy's `tucker` does it
(init='svd': one thin SVD per unfolding, whose singular values also give the
numerical ranks; each sweep one thin SVD per projected unfolding; the same stop
rule and sweep cap as tensorlens, so the same maths and the same number of
sweeps), in double as methods.md asks. Lean on purpose: no SVD is done twice.

usage: bench_saliency.py BUILD_DIR [--repeat N] [--write]
"""
import os
import sys

for v in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ[v] = '1'

import argparse  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'data', 'saliency'))
import ref_saliency as ref  # noqa: E402

SHAPES = [(2048, 7, 7), (480, 16, 16)]
# The targets: CPU time of the saliency maths at one thread, and the
# speed-up over the NumPy-style rendering of the same maths.
TARGET_MS = {(2048, 7, 7): 1.0, (480, 16, 16): 5.0}
TARGET_SPEEDUP = 50
ROWS = [  # label as printed by bench-saliency, NumPy-style function
    ('eigencam', lambda F, H, W: pgc_eigencam(F)),
    ('multivec-eigencam', lambda F, H, W: pgc_multivec(F)),
    ('tsm (full ranks)', lambda F, H, W: tly_tucker_map(F, 'tsm', H, W)),
    ('tsm (rho 0.5)', lambda F, H, W: tly_tucker_map(F, 'tsm', -(-H // 2), -(-W // 2))),
    ('mtsm (full ranks)', lambda F, H, W: tly_tucker_map(F, 'mtsm', H, W)),
    ('mtsm (rho 0.5)', lambda F, H, W: tly_tucker_map(F, 'mtsm', -(-H // 2), -(-W // 2))),
]


def pgc_eigencam(F):
    """pytorch-grad-cam's get_2d_projection, plus the finishing."""
    C, H, W = F.shape
    X = F.reshape(C, -1).T
    X = X - X.mean(axis=0)
    U, S, VT = np.linalg.svd(X, full_matrices=True)
    p = X @ VT[0, :]
    return ref.finish(p).reshape(H, W)


def pgc_multivec(F):
    C, H, W = F.shape
    X = F.reshape(C, -1).T
    X = X - X.mean(axis=0)
    U, S, VT = np.linalg.svd(X, full_matrices=True)
    m = F.reshape(C, -1).mean(axis=0)
    r = ref.numerical_rank(S)
    out = np.zeros(H * W)
    for k in range(r):
        u = U[:, k]
        out += S[k] * np.maximum(ref.sign_rule(u, m) * u, 0)
    return ref.finish(out).reshape(H, W)


def unfold(T, mode):
    return np.moveaxis(T, mode, 0).reshape(T.shape[mode], -1)


def mode_dot_t(T, U, mode):
    """T ×_mode Uᵀ as TensorLy's mode_dot: a product with the unfolding, folded back."""
    shape = list(T.shape)
    shape[mode] = U.shape[1]
    rest = [s for i, s in enumerate(shape) if i != mode]
    return np.moveaxis((U.T @ unfold(T, mode)).reshape([U.shape[1]] + rest), 0, mode)


def tly_tucker(F, ranks, sweeps=20):
    """HOOI as TensorLy's partial_tucker (truncated_svd = thin np.linalg.svd)."""
    F = F.astype(np.float64)
    norm = np.linalg.norm(F)
    fac, R = [], list(ranks)
    for i in range(3):
        U, s, _ = np.linalg.svd(unfold(F, i), full_matrices=False)
        fac.append(U)
        R[i] = min(R[i], ref.numerical_rank(s))
    changed = True
    while changed:
        changed = False
        for i in range(3):
            p = R[(i + 1) % 3] * R[(i + 2) % 3]
            if R[i] > p:
                R[i], changed = p, True
    fac = [fac[i][:, :R[i]] for i in range(3)]

    def core():
        return mode_dot_t(mode_dot_t(mode_dot_t(F, fac[0], 0), fac[1], 1), fac[2], 2)

    G = core()
    fits = [np.linalg.norm(G) / norm]
    for _ in range(sweeps):
        for i in range(3):
            Y = F
            for j in range(3):
                if j != i:
                    Y = mode_dot_t(Y, fac[j], j)
            U, s, _ = np.linalg.svd(unfold(Y, i), full_matrices=False)
            fac[i] = U[:, :min(fac[i].shape[1], ref.numerical_rank(s))]
        G = core()
        fits.append(np.linalg.norm(G) / norm)
        if abs(fits[-1] - fits[-2]) <= 1e-9 * fits[-2]:
            break
    return G, fac


def tly_tucker_map(F, method, R2, R3):
    C, H, W = F.shape
    G, (A, B, D) = tly_tucker(F, (min(C, R2 * R3), R2, R3))
    sig = np.linalg.norm(G.reshape(G.shape[0], -1), axis=1)
    m = F.reshape(C, -1).mean(axis=0, dtype=np.float64)
    out = np.zeros(H * W)
    for k in np.argsort(-sig, kind='stable')[:ref.numerical_rank(np.sort(sig)[::-1])]:
        P = (B @ G[k] @ D.T).ravel()
        s = ref.sign_rule(P, m)
        if method == 'tsm':
            return ref.finish(s * P).reshape(H, W)
        out += np.maximum(s * P, 0)
    return ref.finish(out).reshape(H, W)


def median_time(fn, repeat):
    """Median wall and CPU (this process) time in ms."""
    t, c = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        t.append(time.perf_counter() - t0)
        c.append(time.process_time() - c0)
    return 1e3 * float(np.median(t)), 1e3 * float(np.median(c))


def c_times(exe, path, repeat):
    out = subprocess.run([exe, 'bench-saliency', '--features', path, '--repeat', str(repeat),
                          '--threads', '1'], check=True, capture_output=True, text=True).stdout
    times = {}
    for line in out.splitlines():
        if line.startswith('#'):
            continue
        label = line[:20].strip()
        rest = line[20:].split()
        # "<wall> ms <cpu> ms-cpu [ranks ...]"
        times[label] = (float(rest[0]), float(rest[2]), ' '.join(rest[4:]))
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('build_dir')
    ap.add_argument('--repeat', type=int, default=50)
    ap.add_argument('--write', action='store_true', help='update docs/benchmarks.md')
    a = ap.parse_args()
    exe = os.path.join(a.build_dir, 'src', 'cli', 'tensorlens')
    rng = np.random.default_rng(1)
    lines = ['## Saliency maths', '',
             'Feature tensor in, map at feature resolution out (sign rule, ReLU, min–max; no',
             'upsampling), one OpenBLAS thread, median of runs; synthetic low-rank + noise',
             'features (`ref_saliency.structured_features`). NumPy-style = full SVD of the centred',
             'unfolding as pytorch-grad-cam (EigenCAM, Multivec; float32, as it gets the activations)',
             'and HOOI with thin SVDs of the unfoldings as TensorLy (TSM, MTSM; double, same stop rule',
             'and sweep count as tensorlens). Made by `tests/saliency/bench/bench_saliency.py BUILD',
             '--repeat %d --write` on %s, load average %s at the start (%s);' % (
                 a.repeat, time.strftime('%Y-%m-%d'), ' '.join('%.1f' % x for x in os.getloadavg()),
                 'idle cores' if os.getloadavg()[0] < 2.0
                 else 'other jobs shared the 2 cores, so wall times are pessimistic'),
             'CPU time (of the one computing thread) is the steadier',
             'figure and the speed-up is computed from it. Targets: CPU time ≤ 1 ms at 2048×7×7',
             'and ≤ 5 ms at 480×16×16, and ≥ %d× the NumPy-style CPU time.' % TARGET_SPEEDUP, '',
             '| features | method | tensorlens wall / CPU (ms) | NumPy-style wall / CPU (ms) '
             '| speed-up (CPU) | time target | ≥ %d× | ranks / sweeps |' % TARGET_SPEEDUP,
             '|---|---|---:|---:|---:|:-:|:-:|---|']
    met = {'time': [0, 0], 'speed': [0, 0]}
    with tempfile.TemporaryDirectory() as tmp:
        for C, H, W in SHAPES:
            F = ref.structured_features(rng, C, H, W, 4, 0.3)
            path = os.path.join(tmp, 'f.npy')
            np.save(path, F)
            ct = c_times(exe, path, a.repeat)
            for label, fn in ROWS:
                reps = max(3, min(a.repeat, 15))
                pw, pc = median_time(lambda: fn(F, H, W), reps)
                cw, cc, extra = ct[label]
                t_ok = cc <= TARGET_MS[(C, H, W)]
                s_ok = pc / cc >= TARGET_SPEEDUP
                for key, ok in (('time', t_ok), ('speed', s_ok)):
                    met[key][0] += ok
                    met[key][1] += 1
                lines.append('| %dx%dx%d | %s | %.3f / %.3f | %.1f / %.1f | %.0f× | %s | %s | %s |' % (
                    C, H, W, label, cw, cc, pw, pc, pc / cc, 'met' if t_ok else '**not met**',
                    'met' if s_ok else '**not met**', extra or '–'))
                print(lines[-1], flush=True)
    lines += ['', 'Time target met in %d of %d rows, speed-up target in %d of %d (load average %s'
              ' at the end of the run).' % (
                  met['time'][0], met['time'][1], met['speed'][0], met['speed'][1],
                  ' '.join('%.1f' % x for x in os.getloadavg())), '']
    text = '\n'.join(lines)
    if a.write:
        doc = os.path.join(ROOT, 'docs', 'benchmarks.md')
        old = open(doc).read() if os.path.exists(doc) else '# Benchmarks\n\n'
        # replace the section where it stands (its notes below the table,
        # up to the next '## ', are kept), else append it
        start = old.find('## Saliency maths')
        if start >= 0:
            end = old.find('\n## ', start + 1)
            end = len(old) if end < 0 else end + 1
            section = old[start:end]
            notes = section.find('\n### ')
            keep = section[notes + 1:] if notes >= 0 else ''
            new = old[:start] + text + ('\n' + keep if keep else '\n') + old[end:]
        else:
            new = old.rstrip('\n') + '\n\n' + text
        with open(doc, 'w') as f:
            f.write(new)
    else:
        print(text)


if __name__ == '__main__':
    main()
