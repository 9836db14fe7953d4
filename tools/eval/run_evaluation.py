#!/usr/bin/python3
"""Runs the evaluation behind docs/evaluation.md: `tensorlens eval` over the
four models with every saliency method and the parameter settings that
methods.md asks to choose by measurement. Writes RESULTS/<job>.csv, .md and
-images.csv (per image and method); `make_evaluation_doc.py` turns them into
the tables.

usage: run_evaluation.py BUILD_DIR RESULTS_DIR [--jobs j1,j2] [--scale F]

The data: the first 1000 Fashion-MNIST test images (Debian dataset-fashion-mnist);
the 100 face crops of scikit-image's LFW subset (lfw_subset.npy, 25x25 grey,
written out as PNGs by this script) for emotion and faceres; the five bundled
photos (models/photos) for centernet. One network thread per run: the
machine is shared (2 cores, load average 10-21 while this ran, i.e. a few
per cent of a core per process), so the runs are sized to fit in about an
hour of the CPU share one got:
- Fashion-MNIST: every method and the candidate defaults on 1000 images,
  the rest of the parameter sweep on the first 300, T = 20 deletion and
  insertion steps (methods.md's default is 50).
- emotion: the first 60 faces, T = 20, Score-CAM on the 64 channels of
  largest mean activation (of 256).
- faceres (224x224) gets the first 12 faces and centernet (512x512, batch
  1) its five photos, both with T = 10, and Score-CAM capped at the 64 / 32
  channels of largest mean activation (of 1024 / 480).
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FMNIST = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'
LFW = '/usr/lib/python3/dist-packages/skimage/data/lfw_subset.npy'
PHOTOS = os.path.join(ROOT, 'models', 'photos')

# Every method at the candidate defaults (methods.md: rho in {1, 0.75, 0.5}),
# EigenCAM with and without the sign rule, and the label-dependent baselines.
MAIN = ['eigencam', 'eigencam:sign=off', 'multivec-eigencam',
        'tsm:rho=1', 'tsm:rho=0.5', 'mtsm:rho=1', 'mtsm:rho=0.5',
        'gradcam', 'gradcam++', 'scorecam']
# The rest of the (param) sweep, and the proposed centring fix for the
# uncentred Tucker maps (params.centre, not methods.md).
SWEEP = ['multivec-eigencam:w=sigma2', 'multivec-eigencam:w=uniform',
         'multivec-eigencam:k=2', 'multivec-eigencam:k=4',
         'tsm:rho=0.75', 'mtsm:rho=0.75', 'mtsm:rho=0.5:w=sigma2', 'mtsm:rho=0.5:w=uniform']
CENTRE = ['tsm:rho=1:centre=on', 'tsm:rho=0.5:centre=on',
          'mtsm:rho=1:centre=on', 'mtsm:rho=0.5:centre=on']

# centre=auto: centring only where the sign rule leaves more negative than
# positive mass (the targeted form of the fix, added after the first runs).
AUTO = ['tsm:rho=1:centre=auto', 'mtsm:rho=1:centre=auto']

# job: (model, data, image limit (0 = all), steps T, methods)
JOBS = {
    'fmnist-auto': ('fmnist-classifier', 'fmnist', 300, 20, AUTO),
    'centernet-auto': ('centernet', 'photos', 0, 10, AUTO),
    'emotion-auto': ('emotion', 'faces', 60, 20, AUTO),
    'fmnist-main': ('fmnist-classifier', 'fmnist', 1000, 20, MAIN),
    'fmnist-sweep': ('fmnist-classifier', 'fmnist', 300, 20, SWEEP + CENTRE),
    'emotion-main': ('emotion', 'faces', 60, 20,
                     [m if m != 'scorecam' else 'scorecam:channels=64' for m in MAIN]
                     + CENTRE[:2]),
    'emotion-sweep': ('emotion', 'faces', 60, 20, SWEEP),
    # Grad-CAM(++) are undefined here: the cosine of an embedding with itself
    # is at its maximum, so its gradient is zero (the CLI refuses them).
    'faceres-main': ('faceres', 'faces', 6, 10,
                     [m if m != 'scorecam' else 'scorecam:channels=64' for m in MAIN
                      if not m.startswith('gradcam')] + CENTRE[:2]),
    'centernet-main': ('centernet', 'photos', 0, 10,
                       ['eigencam', 'multivec-eigencam', 'tsm:rho=1', 'tsm:rho=0.5',
                        'mtsm:rho=1', 'mtsm:rho=0.5', 'gradcam', 'gradcam++',
                        'scorecam:channels=32', 'tsm:rho=1:centre=on', 'tsm:rho=0.5:centre=on']),
}


def face_crops(results):
    d = os.path.join(results, 'lfw-faces')
    os.makedirs(d, exist_ok=True)
    faces = np.load(LFW)[:100]  # the first 100 of the 200 are faces
    for i, f in enumerate(faces):
        p = os.path.join(d, 'face%03d.png' % i)
        if not os.path.exists(p):
            Image.fromarray(np.round(f * 255).astype(np.uint8)).save(p)
    return d


def idx_chunk(results, start, stop):
    """Fashion-MNIST test images start..stop-1 as an IDX file of their own, so
    that one job can run as parallel processes (one per chunk)."""
    import gzip
    import struct
    raw = gzip.open(FMNIST).read()
    n, h, w = struct.unpack('>III', raw[4:16])
    stop = min(stop, n)
    p = os.path.join(results, 'fmnist-%d-%d-idx3-ubyte.gz' % (start, stop))
    with gzip.open(p, 'wb') as f:
        f.write(struct.pack('>IIII', 0x803, stop - start, h, w)
                + raw[16 + start * h * w:16 + stop * h * w])
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('build')
    ap.add_argument('results')
    ap.add_argument('--jobs', default=','.join(JOBS))
    ap.add_argument('--chunk', help='I/N: run only the I-th of N equal parts of the images '
                    '(Fashion-MNIST jobs; results go to JOB-cI; make_evaluation_doc.py joins them)')
    ap.add_argument('--scale', type=float, default=1.0,
                    help='fraction of each data set (for a quick trial)')
    a = ap.parse_args()
    tl = os.path.join(a.build, 'src', 'cli', 'tensorlens')
    os.makedirs(a.results, exist_ok=True)
    for job in a.jobs.split(','):
        model, kind, limit, steps, methods = JOBS[job]
        path = {'fmnist': FMNIST, 'photos': PHOTOS}.get(kind) or face_crops(a.results)
        limit = max(1, int(round(limit * a.scale))) if limit else 0
        prefix = os.path.join(a.results, job)
        if a.chunk and kind == 'fmnist':
            i, nc = (int(x) for x in a.chunk.split('/'))
            size = -(-limit // nc)
            path = idx_chunk(a.results, i * size, min(limit, (i + 1) * size))
            prefix += '-c%d' % i
            limit = 0
        cmd = [tl, 'eval', model, '--data', path, '--methods', ','.join(methods),
               '--steps', str(steps), '--threads', '1', '-o', prefix]
        if limit:
            cmd += ['--limit', str(limit)]
        t0, c0 = time.time(), os.times()
        print(' '.join(cmd), flush=True)
        subprocess.run(cmd, check=True)
        c1 = os.times()
        print('%s: %.0f s wall, %.0f s CPU' % (job, time.time() - t0,
                                               c1.children_user - c0.children_user), flush=True)


if __name__ == '__main__':
    sys.exit(main())
