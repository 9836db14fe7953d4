#!/usr/bin/python3
"""docs/evaluation-methods.png: one photo (models/photos/coffee.jpg) through
centernet, every saliency method side by side, each as the CLI's overlay
(`tensorlens saliency centernet coffee.jpg --method M --overlay ...`, turbo
colour map) at the defaults stated in docs/evaluation.md, plus the settings
that docs/evaluation.md discusses (TSM under methods.md's sign rule with and
without the proposed `--centre auto`).

usage: make_figure.py BUILD_DIR [OUT.png]
"""
import os
import subprocess
import sys
import tempfile

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
PHOTO = os.path.join(ROOT, 'models', 'photos', 'coffee.jpg')
# (title, saliency options)
PANELS = [
    ('EigenCAM', ['--method', 'eigencam']),
    ('Multivec-EigenCAM', ['--method', 'multivec-eigencam']),
    ('TSM (ρ = 1)', ['--method', 'tsm', '--rho', '1']),
    ('TSM (ρ = 0.5)', ['--method', 'tsm', '--rho', '0.5']),
    ('TSM (ρ = 1), --centre auto', ['--method', 'tsm', '--rho', '1', '--centre', 'auto']),
    ('MTSM (ρ = 1)', ['--method', 'mtsm', '--rho', '1']),
    ('MTSM (ρ = 0.5)', ['--method', 'mtsm', '--rho', '0.5']),
    ('Grad-CAM', ['--method', 'gradcam']),
    ('Grad-CAM++', ['--method', 'gradcam++']),
    ('Score-CAM (64 channels)', ['--method', 'scorecam', '--channels', '64']),
]


def main():
    build = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, 'docs', 'evaluation-methods.png')
    tl = os.path.join(build, 'src', 'cli', 'tensorlens')
    tmp = tempfile.mkdtemp()
    cols = 4
    rows = (len(PANELS) + 1 + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 3.0, rows * 2.2))
    axes = axes.ravel()
    axes[0].imshow(Image.open(PHOTO))
    axes[0].set_title('coffee.jpg (centernet)', fontsize=9)
    for i, (title, opts) in enumerate(PANELS, start=1):
        png = os.path.join(tmp, '%d.png' % i)
        subprocess.run([tl, 'saliency', 'centernet', PHOTO, '--threads', '1', '-o',
                        os.path.join(tmp, '%d.npy' % i), '--overlay', png,
                        '--colormap', 'turbo', '--opacity', '0.6'] + opts, check=True)
        axes[i].imshow(Image.open(png))
        axes[i].set_title(title, fontsize=9)
    for ax in axes:
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(os.path.join(tmp, 'fig.png'), dpi=80)
    # a palette PNG keeps the file well under 300 KB
    Image.open(os.path.join(tmp, 'fig.png')).convert('RGB').quantize(
        256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print('wrote %s (%d bytes)' % (out, os.path.getsize(out)))


if __name__ == '__main__':
    main()
