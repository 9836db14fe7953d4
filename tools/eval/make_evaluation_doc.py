#!/usr/bin/python3
"""The tables of docs/evaluation.md from the per-image results of
run_evaluation.py (RESULTS/<job>-images.csv, or .csv.gz as kept in
docs/evaluation-data: `make_evaluation_doc.py docs/evaluation-data`
regenerates the page's tables without a rerun), with bootstrap confidence
intervals, and the TSM sign diagnostic on the bundled photos. Replaces the
text between the '<!-- tables:begin -->' and '<!-- tables:end -->' markers
of docs/evaluation.md (or prints it with --print).

usage: make_evaluation_doc.py RESULTS_DIR [--build BUILD_DIR] [--print]
"""
import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DOC = os.path.join(ROOT, 'docs', 'evaluation.md')
METRICS = [('drop', 'AD % ↓', 100.0), ('increase', 'IC % ↑', 100.0),
           ('deletion_auc', 'Deletion AUC ↓', 1.0), ('insertion_auc', 'Insertion AUC ↑', 1.0)]
MODELS = [('fmnist-classifier', 'fmnist', 'Fashion-MNIST classifier, first 1000 test images, T = 20'),
          ('emotion', 'emotion', 'emotion (mini-Xception), first 60 LFW face crops, T = 20'),
          ('faceres', 'faceres', 'faceres (embedding, cosine score), first 6 LFW face crops, T = 10'),
          ('centernet', 'centernet', 'centernet (detector, top-class heat-map sum), 5 bundled photos, T = 10')]
B = 2000  # bootstrap resamples


def exists(path):
    return os.path.exists(path) or os.path.exists(path + '.gz')


def open_csv(path):
    """A per-image CSV, or its gzip copy (docs/evaluation-data keeps those)."""
    import gzip
    return open(path) if os.path.exists(path) else gzip.open(path + '.gz', 'rt')


def load(results, job):
    """Per method, the per-image values of a job, its chunks (JOB-c0, -c1, ...,
    see run_evaluation.py --chunk) joined in order."""
    paths = [os.path.join(results, job + '-images.csv')]
    if not exists(paths[0]):
        paths = []
        while exists(os.path.join(results, '%s-c%d-images.csv' % (job, len(paths)))):
            paths.append(os.path.join(results, '%s-c%d-images.csv' % (job, len(paths))))
    by = {}
    offset = 0   # IDX images are numbered within their chunk: number them globally
    for path in paths:
        rows = list(csv.DictReader(open_csv(path)))
        count = 0
        for row in rows:
            if row['image'].isdigit():
                count = max(count, int(row['image']) + 1)
                row['image'] = str(offset + int(row['image']))
            by.setdefault(row['method'], []).append(row)
        offset += count
    if not by:
        return {}
    return {m: {k: np.array([float(r[k]) for r in rows]) for k, *_ in METRICS}
            | {'image': [r['image'] for r in rows]} for m, rows in by.items()}


def ci(v, rng, scale):
    """mean and a 95 % percentile bootstrap interval over images."""
    v = v * scale
    if len(v) < 10:
        return '%.3g (%.3g–%.3g)' % (v.mean(), v.min(), v.max())
    idx = rng.integers(0, len(v), (B, len(v)))
    lo, hi = np.percentile(v[idx].mean(axis=1), [2.5, 97.5])
    return '%.3g [%.3g, %.3g]' % (v.mean(), lo, hi)


def table(res, methods, note):
    rng = np.random.default_rng(0)
    out = ['| method | images | ' + ' | '.join(t for _, t, _ in METRICS) + ' |',
           '|---|---:|' + '---:|' * len(METRICS)]
    for m in methods:
        if m not in res:
            continue
        r = res[m]
        out.append('| %s | %d | ' % (m, len(r['image']))
                   + ' | '.join(ci(r[k], rng, s) for k, _, s in METRICS) + ' |')
    return '\n'.join(out) + '\n\n' + note + '\n'


def paired(res, a, b, rng):
    """mean of a − b per metric on the images both have, with a bootstrap CI;
    a star when the interval excludes 0."""
    if a not in res or b not in res:
        return None
    n = min(len(res[a]['image']), len(res[b]['image']))
    assert res[a]['image'][:n] == res[b]['image'][:n]
    cells = []
    for k, _, s in METRICS:
        d = (res[a][k][:n] - res[b][k][:n]) * s
        if n >= 10:
            idx = rng.integers(0, n, (B, n))
            lo, hi = np.percentile(d[idx].mean(axis=1), [2.5, 97.5])
            star = '**' if lo > 0 or hi < 0 else ''
            cells.append('%s%+.3g [%+.3g, %+.3g]%s' % (star, d.mean(), lo, hi, star))
        else:
            cells.append('%+.3g (%d of %d better)' % (
                d.mean(), int(np.sum(d < 0) if k in ('drop', 'deletion_auc') else np.sum(d > 0)), n))
    return n, cells


CLAIMS = [('tsm:rho=0.5', 'tsm:rho=1'), ('mtsm:rho=0.5', 'mtsm:rho=1'),
          ('tsm:rho=0.75', 'tsm:rho=1'), ('mtsm:rho=0.75', 'mtsm:rho=1'),
          ('multivec-eigencam:w=sigma2', 'multivec-eigencam'),
          ('multivec-eigencam:w=uniform', 'multivec-eigencam'),
          ('multivec-eigencam:k=2', 'multivec-eigencam'), ('multivec-eigencam:k=4', 'multivec-eigencam'),
          ('mtsm:rho=0.5:w=sigma2', 'mtsm:rho=0.5'), ('mtsm:rho=0.5:w=uniform', 'mtsm:rho=0.5'),
          ('tsm:rho=0.5', 'eigencam'), ('tsm:rho=1', 'eigencam'),
          ('mtsm:rho=0.5', 'tsm:rho=0.5'), ('mtsm:rho=1', 'tsm:rho=1'),
          ('multivec-eigencam', 'eigencam'), ('mtsm:rho=0.5', 'multivec-eigencam'),
          ('tsm:rho=0.5:centre=on', 'tsm:rho=0.5'), ('tsm:rho=1:centre=on', 'tsm:rho=1'),
          ('mtsm:rho=1:centre=on', 'mtsm:rho=1'), ('tsm:rho=1:centre=auto', 'tsm:rho=1'),
          ('mtsm:rho=1:centre=auto', 'mtsm:rho=1'), ('mtsm:rho=1', 'multivec-eigencam'),
          ('mtsm:rho=1', 'gradcam'), ('mtsm:rho=0.5', 'gradcam'), ('multivec-eigencam', 'gradcam'),
          ('tsm:rho=1', 'gradcam'), ('mtsm:rho=1', 'scorecam'),
          ('eigencam', 'eigencam:sign=off')]


def merge(*dicts):
    out = {}
    for d in dicts:
        for k, v in d.items():
            out.setdefault(k, v)
    return out


def sign_diagnostic(build):
    tl = os.path.join(build, 'src', 'cli', 'tensorlens')
    photos = ['astronaut.jpg', 'camera.png', 'chelsea.jpg', 'coffee.jpg', 'rocket.jpg']
    tmp = tempfile.mkdtemp()
    out = ['| photo | ' + ' | '.join('TSM ρ=%s%s' % (r, ', centred' if c else '')
                                    for r in ('1', '0.5') for c in (False, True)) + ' |',
           '|---|' + ':-:|' * 4]
    for ph in photos:
        cells = []
        for rho in ('1', '0.5'):
            for centre in ('off', 'on'):
                npy = os.path.join(tmp, 'm.npy')
                r = subprocess.run([tl, 'saliency', 'centernet', os.path.join(ROOT, 'models', 'photos', ph),
                                    '--method', 'tsm', '--rho', rho, '--centre', centre, '--threads', '1',
                                    '--print-params', '-o', npy], capture_output=True, text=True, check=True)
                info = dict(line.split(': ', 1) for line in r.stdout.splitlines() if ': ' in line)
                m = np.load(npy)
                cells.append('sign %s, %.0f %% > 0.1' % (info['sign'], 100 * np.mean(m > 0.1)))
        out.append('| %s | %s |' % (ph, ' | '.join(cells)))
    return '\n'.join(out) + '\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('results')
    ap.add_argument('--build')
    ap.add_argument('--print', action='store_true')
    a = ap.parse_args()
    parts = []
    rng = np.random.default_rng(1)
    for model, job, title in MODELS:
        main_res = load(a.results, job + '-main')
        sweep_res = merge(load(a.results, job + '-sweep'), load(a.results, job + '-auto'))
        if not main_res:
            continue
        order = list(main_res)
        parts.append('### %s\n\n' % title)
        parts.append(table(main_res, order,
                           'Mean over images; in brackets the 95 %% bootstrap interval of the mean '
                           '(%d resamples of the images)' % B if len(next(iter(main_res.values()))['image']) >= 10
                           else 'Mean over the images (too few for an interval); in brackets the smallest and largest.'))
        if sweep_res:
            n = len(next(iter(sweep_res.values()))['image'])
            sub = {m: {k: (v[:n] if k != 'image' else v[:n]) for k, v in r.items()}
                   for m, r in main_res.items() if not m.startswith(('gradcam', 'scorecam'))}
            both = merge(sub, sweep_res)
            parts.append('\nParameter sweep on the first %d of these images (the rows of the main '
                         'table restricted to the same images, for comparison):\n\n' % n)
            parts.append(table(both, sorted(both, key=lambda m: (m.split(':')[0], m)), ''))
        allres = merge(main_res, sweep_res)
        rows = []
        for x, y in CLAIMS:
            p = paired(allres, x, y, rng)
            if p:
                rows.append('| %s − %s | %d | %s |' % (x, y, p[0], ' | '.join(p[1])))
        if rows:
            parts.append('\nPaired differences (same images; ** = the 95 % bootstrap interval '
                         'excludes 0; for AD and deletion negative is better, for IC and insertion '
                         'positive):\n\n| comparison | images | ' + ' | '.join(t for _, t, _ in METRICS)
                         + ' |\n|---|---:|' + '---:|' * len(METRICS) + '\n' + '\n'.join(rows) + '\n\n')
    # the diagnostic is computed with --build and kept in RESULTS for later runs
    diag = os.path.join(a.results, 'tsm-sign-diagnostic.md')
    if a.build:
        open(diag, 'w').write(sign_diagnostic(a.build))
    if os.path.exists(diag):
        parts.append('### TSM on centernet: sign and coverage\n\nFor each photo, the sign the rule '
                     'chose and the share of map pixels above 0.1 (the map at the photo\'s size):\n\n')
        parts.append(open(diag).read())
    text = ''.join(parts)
    if a.print:
        print(text)
        return 0
    doc = open(DOC).read()
    new = re.sub(r'(<!-- tables:begin -->\n).*(<!-- tables:end -->)',
                 lambda mm: mm.group(1) + '\n' + text + '\n' + mm.group(2), doc, flags=re.S)
    open(DOC, 'w').write(new)
    print('updated', DOC)


if __name__ == '__main__':
    sys.exit(main())
