#!/usr/bin/python3
"""`tensorlens eval`, as TAP. argv[1] = the tensorlens binary.

The metrics are recomputed here with NumPy/SciPy from the maps the command
saved (--save-maps) and from scores of the perturbed inputs built here
(x ⊙ S, deletion and insertion steps, SciPy's Gaussian blur), run through
`tensorlens run` on the same ONNX file: per image and per method
(P-images.csv) and averaged (P.csv). Also: an IDX file gives the same
numbers as the same pixels as PNG files; errors."""
import csv, gzip, os, shutil, struct, subprocess, sys, tempfile

tl = sys.argv[1]
data = os.environ.get('TL_TEST_DATA', 'tests/data')
cli = os.path.join(data, 'cli')
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tap import ok, skip, done  # noqa: E402


try:
    import numpy as np
    from PIL import Image
    from scipy.ndimage import gaussian_filter
except ImportError as e:
    print('1..1\nok 1 # SKIP numpy/scipy/PIL not installed (%s)' % e)
    sys.exit(0)

MEAN = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
STD = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]
tmp = tempfile.mkdtemp()


def run(args):
    return subprocess.run([tl] + args, capture_output=True, text=True)


def outputs(model, xs):
    np.save(os.path.join(tmp, 'xs.npy'), ((xs - MEAN) / STD).astype(np.float32))
    r = run(['run', os.path.join(cli, model + '.onnx'), '--input', os.path.join(tmp, 'xs.npy'),
             '--output', os.path.join(tmp, 'ys.npy')])
    assert r.returncode == 0, r.stderr
    return np.load(os.path.join(tmp, 'ys.npy')).astype(np.float64)


def recompute(model, x, smap, T):
    """f for [clean, masked, deletion 0..T, insertion 0..T] as methods.md says."""
    C, H, W = x.shape
    P = H * W
    order = np.argsort(-smap.ravel(), kind='stable')
    blurred = gaussian_filter(x.astype(np.float64), sigma=(0, 5, 5), mode='reflect', truncate=4).astype(np.float32)
    inputs = [x, x * smap[None]]
    for t in range(T + 1):
        k = t * P // T
        d = x.reshape(C, P).copy(); d[:, order[:k]] = 0
        inputs.append(d.reshape(C, H, W))
    for t in range(T + 1):
        k = t * P // T
        b = blurred.reshape(C, P).copy(); b[:, order[:k]] = x.reshape(C, P)[:, order[:k]]
        inputs.append(b.reshape(C, H, W))
    y = outputs(model, np.stack(inputs))
    if model == 'tinyemb':
        v = y[0]
        f = np.maximum(0, y @ v / (np.linalg.norm(y, axis=1) * np.linalg.norm(v)))
    else:
        p = np.exp(y - y.max(axis=1, keepdims=True)); p /= p.sum(axis=1, keepdims=True)
        f = p[:, np.argmax(y[0])]
    clean, masked = f[0], f[1]
    dc, ic = f[2:T + 3], f[T + 3:]
    ts = np.arange(T + 1) / T
    return dict(score_clean=clean, score_masked=masked, drop=max(0, clean - masked) / clean,
                increase=float(masked > clean), deletion_auc=np.trapz(dc, ts), insertion_auc=np.trapz(ic, ts))


# three 32x32 images (the models' input size: no resize)
dset = os.path.join(tmp, 'data')
os.mkdir(dset)
photo = np.asarray(Image.open(os.path.join(cli, 'photo.png')).convert('RGB'))
Image.fromarray(photo).save(os.path.join(dset, 'a.png'))
Image.open(os.path.join(cli, 'ref.png')).convert('RGB').save(os.path.join(dset, 'b.png'))
Image.fromarray(photo[::-1, ::-1].copy()).save(os.path.join(dset, 'c.png'))
names = ['a.png', 'b.png', 'c.png']

T = 5
for model, methods in [('tinycls', ['eigencam', 'gradcam', 'mtsm']), ('tinyemb', ['tsm', 'scorecam'])]:
    maps = os.path.join(tmp, 'maps-' + model)
    os.mkdir(maps)
    prefix = os.path.join(tmp, 'res-' + model)
    r = run(['eval', os.path.join(cli, model + '.json'), '--data', dset, '--methods', ','.join(methods),
             '--steps', str(T), '--batch', '4', '--save-maps', maps, '--output-prefix', prefix])
    ok(r.returncode == 0 and os.path.exists(prefix + '.md'), '%s: eval runs, writes CSV and Markdown' % model,
       r.stderr)
    if r.returncode:
        continue
    rows = list(csv.DictReader(open(prefix + '-images.csv')))
    ok(len(rows) == 3 * len(methods), '%s: one row per image and method' % model, rows)
    ref = {}
    worst = 0.0
    for i, name in enumerate(names):
        x = (np.asarray(Image.open(os.path.join(dset, name)).convert('RGB'), np.float32) / 255).transpose(2, 0, 1)
        for m in methods:
            smap = np.load(os.path.join(maps, '%04d-%s.npy' % (i, m)))
            want = recompute(model, x, smap, T)
            ref[(name, m)] = want
            got = [row for row in rows if row['image'] == name and row['method'] == m][0]
            for key, v in want.items():
                worst = max(worst, abs(float(got[key]) - v))
    ok(worst <= 2e-6, '%s: per-image scores, drop, increase and AUCs equal the NumPy recomputation (max diff %.2g)'
       % (model, worst))
    summary = {row['method']: row for row in csv.DictReader(open(prefix + '.csv'))}
    worst = 0.0
    for m in methods:
        vals = [ref[(name, m)] for name in names]
        want = dict(average_drop_pct=100 * np.mean([v['drop'] for v in vals]),
                    increase_pct=100 * np.mean([v['increase'] for v in vals]),
                    deletion_auc=np.mean([v['deletion_auc'] for v in vals]),
                    insertion_auc=np.mean([v['insertion_auc'] for v in vals]))
        for key, v in want.items():
            worst = max(worst, abs(float(summary[m][key]) - v))
        worst = max(worst, abs(int(summary[m]['images']) - 3))
    ok(worst <= 2e-4, '%s: averages (AD %%, IC %%, AUCs) equal NumPy (max diff %.2g)' % (model, worst))

# --letterbox: a 32x16 image fits the 32x32 input at scale 1, rows 8..23, border 0
# (no resize involved), so the x the metrics perturb is built here by hand
ldir = os.path.join(tmp, 'flat')
os.mkdir(ldir)
Image.fromarray(photo[8:24].copy()).save(os.path.join(ldir, 'a.png'))
xl = np.zeros((3, 32, 32), np.float32)
xl[:, 8:24] = photo[8:24].transpose(2, 0, 1) / np.float32(255)
for flag in ['--letterbox', None]:
    lmaps = os.path.join(tmp, 'lmaps' if flag else 'smaps')
    os.mkdir(lmaps)
    r = run(['eval', os.path.join(cli, 'tinycls.json'), '--data', ldir, '--methods', 'eigencam,gradcam',
             '--steps', str(T), '--save-maps', lmaps, '-o', os.path.join(tmp, 'lb' if flag else 'st')]
            + ([flag] if flag else []))
    if r.returncode:
        ok(False, 'eval %s runs' % flag, r.stderr)
        break
rows = list(csv.DictReader(open(os.path.join(tmp, 'lb-images.csv')))) if r.returncode == 0 else []
worst = 1.0 if len(rows) != 2 else 0.0
differ = True
for row in rows:
    smap = np.load(os.path.join(tmp, 'lmaps', '0000-%s.npy' % row['method']))
    stretched = np.load(os.path.join(tmp, 'smaps', '0000-%s.npy' % row['method']))
    differ = differ and smap.shape == (32, 32) and np.abs(smap - stretched).max() > 0.05
    for key, v in recompute('tinycls', xl, smap, T).items():
        worst = max(worst, abs(float(row[key]) - v))
ok(worst <= 2e-6 and differ, '--letterbox: scores and AUCs equal NumPy on the letterboxed input built by hand, '
   'maps differ from stretch (max diff %.2g)' % worst, r.stderr)

# an IDX file and the same pixels as grey PNGs give the same numbers
imgs = np.stack([np.asarray(Image.open(os.path.join(cli, f)).convert('L').resize((28, 28)))
                 for f in ['photo.png', 'ref.png', 'wide.png']]).astype(np.uint8)
idx = os.path.join(tmp, 'imgs-idx3-ubyte.gz')
with gzip.open(idx, 'wb') as f:
    f.write(struct.pack('>IIII', 0x803, 3, 28, 28) + imgs.tobytes())
pdir = os.path.join(tmp, 'grey')
os.mkdir(pdir)
for i in range(3):
    Image.fromarray(imgs[i]).save(os.path.join(pdir, '%d.png' % i))
ra = run(['eval', os.path.join(cli, 'tinycls.json'), '--data', idx, '--methods', 'tsm', '--steps', '4',
          '-o', os.path.join(tmp, 'idx')])
rb = run(['eval', os.path.join(cli, 'tinycls.json'), '--data', pdir, '--methods', 'tsm', '--steps', '4',
          '-o', os.path.join(tmp, 'png')])
same = (ra.returncode == 0 and rb.returncode == 0
        and open(os.path.join(tmp, 'idx.csv')).read() == open(os.path.join(tmp, 'png.csv')).read())
ok(same, 'IDX (.gz) images = the same pixels as PNG files', ra.stderr + rb.stderr)
r = run(['eval', os.path.join(cli, 'tinycls.json'), '--data', idx, '--limit', '2', '--methods', 'eigencam',
         '--metrics', 'ad,ic', '-o', os.path.join(tmp, 'lim')])
s = open(os.path.join(tmp, 'lim.csv')).read() if r.returncode == 0 else ''
ok(s.startswith('method,images,average_drop_pct,increase_pct\neigencam,2,'), '--limit and --metrics', s + r.stderr)

# the real Fashion-MNIST classifier on the Debian data set's test images
fm = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'
root = os.environ.get('TL_SOURCE_ROOT', '.')
if os.path.exists(fm) and os.path.exists(os.path.join(root, 'models', 'fmnist-classifier.json')):
    r = run(['eval', 'fmnist-classifier', '--data', fm, '--limit', '3', '--methods', 'tsm,gradcam',
             '--steps', '4', '-o', os.path.join(tmp, 'fm')])
    rows = list(csv.DictReader(open(os.path.join(tmp, 'fm-images.csv')))) if r.returncode == 0 else []
    good = (len(rows) == 6 and all(0 < float(x['score_clean']) <= 1 for x in rows)
            and all(0 <= float(x['deletion_auc']) <= 1 for x in rows))
    ok(good, 'fmnist-classifier on 3 Fashion-MNIST test images (IDX .gz)', r.stderr + str(rows))
else:
    skip('Fashion-MNIST data set or fmnist-classifier not available')

# method settings (NAME:key=value...): each map equals the saliency command's with the same options
specs = {'tsm:rho=0.5': ['--method', 'tsm', '--rho', '0.5'],
         'multivec-eigencam:k=2:w=uniform': ['--method', 'multivec-eigencam', '--components', '2',
                                             '--weighting', 'uniform'],
         'mtsm:ranks=4x3x3:sweeps=2': ['--method', 'mtsm', '--ranks', '4,3,3', '--sweeps', '2'],
         'eigencam:sign=off': ['--method', 'eigencam', '--sign-rule', 'off'],
         'tsm:centre=on': ['--method', 'tsm', '--centre', 'on']}
maps = os.path.join(tmp, 'maps-specs')
os.mkdir(maps)
r = run(['eval', os.path.join(cli, 'tinycls.json'), '--data', dset, '--limit', '1', '--steps', '2',
         '--methods', ','.join(specs), '--save-maps', maps, '-o', os.path.join(tmp, 'specs')])
worst = 1.0 if r.returncode else 0.0
for spec, opts in (specs.items() if r.returncode == 0 else []):
    q = run(['saliency', os.path.join(cli, 'tinycls.json'), os.path.join(dset, 'a.png'),
             '-o', os.path.join(tmp, 'want.npy')] + opts)
    if q.returncode:
        worst = 1.0
        continue
    worst = max(worst, float(np.abs(np.load(os.path.join(maps, '0000-%s.npy' % spec))
                                    - np.load(os.path.join(tmp, 'want.npy'))).max()))
ok(worst <= 1e-6, 'method settings (rho, k, w, ranks, sweeps, sign, centre) give the saliency command\'s maps '
   '(max diff %.2g)' % worst, r.stderr)


def fails(args, pattern, desc, code=1):
    r = run(args)
    ok(r.returncode == code and pattern in r.stderr, desc, '%d %s' % (r.returncode, r.stderr))


base = ['eval', os.path.join(cli, 'tinycls.json'), '-o', os.path.join(tmp, 'e')]
fails(base + ['--data', dset, '--methods', 'eigencam,nope'], "unknown saliency method 'nope'", 'unknown method')
fails(base + ['--data', dset, '--methods', 'tsm:rank=3'], "unknown key 'rank'", 'unknown method setting')
fails(base + ['--data', dset, '--methods', 'tsm:rho=1.5'], "'rho=1.5' is not a valid setting for tsm",
      'rho out of range')
fails(base + ['--data', dset, '--methods', 'tsm:ranks=2x2'], "'ranks=2x2' is not a valid", 'two ranks')
fails(base + ['--data', dset, '--methods', 'mtsm:w=sigma3'], "'w=sigma3' is not a valid", 'bad weighting')
fails(base + ['--data', dset, '--methods', 'tsm:channels=4'], "'channels=4' is not a valid setting for tsm",
      'a Score-CAM setting on a label-free method')
fails(base + ['--data', dset, '--methods', 'gradcam:rho=0.5'], "not a valid setting for gradcam",
      'a label-free setting on Grad-CAM')
fails(base + ['--data', dset, '--metrics', 'ad,auc'], "unknown metric 'auc'", 'unknown metric')
fails(base + ['--data', os.path.join(tmp, 'none')], 'none', 'missing data')
fails(base + ['--data', os.path.join(tmp, 'maps-tinycls')], 'no .png or .jpg files', 'directory without images')
with gzip.open(os.path.join(tmp, 'short.gz'), 'wb') as f:
    f.write(struct.pack('>IIII', 0x803, 3, 28, 28) + imgs[0].tobytes())
fails(base + ['--data', os.path.join(tmp, 'short.gz')], 'truncated image 1', 'truncated IDX file')
with open(os.path.join(tmp, 'labels'), 'wb') as f:
    f.write(struct.pack('>II', 0x801, 3) + bytes(3))
fails(base + ['--data', os.path.join(tmp, 'labels')], 'magic 0x00000801', 'IDX label file is refused')
fails(['eval', os.path.join(cli, 'tinycls.json'), '--data', dset], '--output-prefix are required',
      'missing --output-prefix', 2)
fails(['eval', os.path.join(data, 'generate', 'tiny-ae.json'), '--data', dset, '-o', os.path.join(tmp, 'e')],
      'autoencoder', 'autoencoder model')
fails(['eval', os.path.join(cli, 'tinyemb.json'), '--data', dset, '--methods', 'gradcam', '-o', os.path.join(tmp, 'e')],
      'needs a reference image', 'Grad-CAM on an embedding')
shutil.rmtree(tmp)
sys.exit(done())
