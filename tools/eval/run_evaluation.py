#!/usr/bin/python3
"""Runs the evaluation behind docs/evaluation.md: `tensorlens eval` over the
four models with every saliency method and the parameter settings that
methods.md asks to choose by measurement. Writes RESULTS/<model>-<group>.csv,
.md and -images.csv (per image and method); `make_evaluation_doc.py` turns
them into the tables.

usage: run_evaluation.py BUILD_DIR RESULTS_DIR [--models m1,m2] [--groups g1,g2]
                         [--limit-scale F]

The data: the first 1000 Fashion-MNIST test images (Debian dataset-fashion-mnist);
the 100 face crops of scikit-image's LFW subset (lfw_subset.npy, 25x25 grey,
written out as PNGs by this script) for emotion and faceres; the bundled
photos (models/photos) for centernet. Runs at one network thread: the
machine is shared.
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

# Label-free settings swept to choose the defaults (methods.md's (param)s).
SWEEP = ['eigencam', 'eigencam:sign=off',
         'multivec-eigencam', 'multivec-eigencam:w=sigma2', 'multivec-eigencam:w=uniform',
         'multivec-eigencam:k=2', 'multivec-eigencam:k=4',
         'tsm:rho=1', 'tsm:rho=0.75', 'tsm:rho=0.5',
         'mtsm:rho=1', 'mtsm:rho=0.75', 'mtsm:rho=0.5',
         'mtsm:rho=0.5:w=sigma2', 'mtsm:rho=0.5:w=uniform']
# The costlier models (224x224 and 512x512 inputs) get the settings that
# decide the defaults, not the whole sweep.
SWEEP_SMALL = ['eigencam', 'eigencam:sign=off', 'multivec-eigencam',
               'multivec-eigencam:w=uniform', 'tsm:rho=1', 'tsm:rho=0.75', 'tsm:rho=0.5',
               'mtsm:rho=1', 'mtsm:rho=0.5']
# The proposed fix for single-signed uncentred Tucker maps (params.centre,
# not methods.md), measured beside the sweep.
CENTRE = ['tsm:rho=1:centre=on', 'tsm:rho=0.75:centre=on', 'tsm:rho=0.5:centre=on',
          'mtsm:rho=1:centre=on', 'mtsm:rho=0.5:centre=on']
# pytorch-grad-cam-style baselines; Score-CAM's channel cap per model below.
BASELINES = ['gradcam', 'gradcam++', 'scorecam']

# model: (data, image limit, Score-CAM channel cap (0 = all), sweep). Sized
# so that the whole run fits in about an hour of one shared core: a faceres
# image costs ~3.5 s of CPU per method (103 forward passes at 224x224), so it
# gets the first 30 faces; Score-CAM is capped at the 64 channels of largest
# mean activation where the layer has 480 (centernet) or 1024 (faceres).
MODELS = {
    'fmnist-classifier': ('fmnist', 1000, 0, SWEEP),
    'emotion': ('faces', 100, 0, SWEEP),
    'faceres': ('faces', 30, 64, SWEEP_SMALL),
    'centernet': ('photos', 0, 64, SWEEP_SMALL),
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('build')
    ap.add_argument('results')
    ap.add_argument('--models', default=','.join(MODELS))
    ap.add_argument('--groups', default='sweep,baselines')
    ap.add_argument('--limit-scale', type=float, default=1.0,
                    help='fraction of each data set (for a quick trial)')
    a = ap.parse_args()
    tl = os.path.join(a.build, 'src', 'cli', 'tensorlens')
    os.makedirs(a.results, exist_ok=True)
    data = {'fmnist': FMNIST, 'faces': None, 'photos': os.path.join(ROOT, 'models', 'photos')}
    for model in a.models.split(','):
        kind, limit, channels, sweep = MODELS[model]
        path = data[kind] or face_crops(a.results)
        limit = int(round(limit * a.limit_scale)) if limit else 0
        for group in a.groups.split(','):
            methods = sweep if group == 'sweep' else CENTRE if group == 'centre' else [
                m + (':channels=%d' % channels if m == 'scorecam' and channels else '')
                for m in BASELINES]
            prefix = os.path.join(a.results, '%s-%s' % (model, group))
            cmd = [tl, 'eval', model, '--data', path, '--methods', ','.join(methods),
                   '--threads', '1', '-o', prefix]
            if limit:
                cmd += ['--limit', str(limit)]
            t0 = time.time()
            print(' '.join(cmd), flush=True)
            subprocess.run(cmd, check=True)
            print('%s %s: %.0f s' % (model, group, time.time() - t0), flush=True)


if __name__ == '__main__':
    sys.exit(main())
