#!/usr/bin/python3
"""Small PNG inputs for the GEGL op and GIMP plug-in tests, cut from the
licence-clean photos in models/photos (see models/photos/README.md).
Run from the source root: /usr/bin/python3 tests/data/gegl/make-fixtures.py"""
from PIL import Image
import numpy as np

im = Image.open('models/photos/astronaut.jpg').convert('RGB').resize((320, 320), Image.LANCZOS)
im.save('tests/data/gegl/astronaut-320.png')
im = Image.open('models/photos/coffee.jpg').convert('RGB').resize((300, 200), Image.LANCZOS)
im.save('tests/data/gegl/coffee-300x200.png')
# RGBA with a horizontal alpha ramp: alpha must pass through overlay/masked
im = Image.open('models/photos/chelsea.jpg').convert('RGBA').resize((225, 150), Image.LANCZOS)
a = np.asarray(im).copy()
a[:, :, 3] = np.linspace(60, 255, 225).astype(np.uint8)[None, :]
Image.fromarray(a, 'RGBA').save('tests/data/gegl/chelsea-alpha.png')
