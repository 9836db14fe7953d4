#!/bin/sh
# `tensorlens sample MODEL`, as TAP. $1 = the tensorlens binary.
# On the tiny autoencoder fixture (tests/data/generate): the latents equal
# the --latents form's on the card's bank, bit for bit; the per-sample PNGs
# equal a NumPy decode of those latents (weights read from the ONNX file);
# the grid's cells are those images; errors. The real Fashion-MNIST
# autoencoder (models/fmnist-ae.json) is sampled when it is committed.
tl=$1
data=${TL_TEST_DATA:-tests/data}
ae=$data/generate/tiny-ae.json
bank=$data/generate/tiny-ae-latents.npy
py=/usr/bin/python3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../tap.sh"
expect_fail() {
  desc=$1; want=$2; pat=$3; shift 3
  "$tl" sample "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ $rc -eq "$want" ] && grep -q -- "$pat" "$tmp/err"; then ok "$desc"
  else nok "$desc (rc $rc)"; sed 's/^/# /' "$tmp/err"; fi
}
have_numpy() { $py -c 'import numpy, onnx, PIL' 2>/dev/null; }

for s in "pmf --levels 7 --radius 1" "gmm --components 3" gaussian prior; do
  set -- $s
  check "$1: MODEL latents = --latents on the card's bank, bit for bit" sh -c "'$tl' sample '$ae' --sampler $* --count 9 --seed 11 -o '$tmp/a.npy' && '$tl' sample --latents '$bank' --sampler $* --count 9 --seed 11 -o '$tmp/b.npy' && cmp '$tmp/a.npy' '$tmp/b.npy'"
done

mkdir "$tmp/dir"
"$tl" sample "$ae" --count 7 --seed 5 -o "$tmp/z.npy" >/dev/null 2>&1
check "DIR/ writes one PNG per sample" sh -c "'$tl' sample '$ae' --count 7 --seed 5 -o '$tmp/dir/' >'$tmp/said' && [ -f '$tmp/dir/sample-0000.png' ] && [ -f '$tmp/dir/sample-0006.png' ] && [ ! -e '$tmp/dir/sample-0007.png' ] && grep -q 'dir/' '$tmp/said'"
check "grid .png" "$tl" sample "$ae" --count 7 --seed 5 --columns 3 --cell-size 8 --spacing 0 -o "$tmp/grid.png"
check "grid with spacing and large cells" "$tl" sample "$ae" --count 7 --seed 5 --columns 4 --cell-size 20 --spacing 3 -o "$tmp/grid2.png"
if have_numpy; then
  check "sample images = NumPy decode of the latents (8-bit rounding)" $py -c "
import numpy as np, onnx
from onnx import numpy_helper
from PIL import Image
w = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in onnx.load('$data/generate/tiny-ae-decoder.onnx').graph.initializer}
z = np.load('$tmp/z.npy').astype(np.float64)
assert z.shape == (7, 4), z.shape
h = np.maximum(z @ w['fc.weight'].T + w['fc.bias'], 0).reshape(7, 2, 4, 4)
# ConvTranspose2d(2, 3, 4, stride 2, padding 1): scatter, then crop the padding
W = w['up.weight']; full = np.zeros((7, 3, 10, 10))
for y in range(4):
    for x in range(4):
        full[:, :, 2*y:2*y+4, 2*x:2*x+4] += np.einsum('ni,iokl->nokl', h[:, :, y, x], W)
img = 1 / (1 + np.exp(-(full[:, :, 1:9, 1:9] + w['up.bias'][None, :, None, None])))
for k in range(7):
    got = np.asarray(Image.open('$tmp/dir/sample-%04d.png' % k).convert('RGB')).astype(int)
    want = np.round(img[k].transpose(1, 2, 0) * 255)
    assert got.shape == (8, 8, 3), got.shape
    assert np.abs(got - want).max() <= 1, (k, np.abs(got - want).max())
"
  check "grid cells (cell = decoder size, no spacing) are the sample images" $py -c "
import numpy as np
from PIL import Image
g = np.asarray(Image.open('$tmp/grid.png')).astype(int)
assert g.shape == (24, 24, 3), g.shape   # 3 columns x 3 rows of 8 px
for k in range(9):
    cell = g[8*(k//3):8*(k//3)+8, 8*(k%3):8*(k%3)+8]
    if k < 7:
        s = np.asarray(Image.open('$tmp/dir/sample-%04d.png' % k).convert('RGB')).astype(int)
        assert np.abs(cell - s).max() <= 1, k
    else:
        assert not cell.any(), k   # empty cells: the black background
"
  check "grid geometry with spacing 3 and 20-px cells" $py -c "
from PIL import Image
assert Image.open('$tmp/grid2.png').size == (4*20 + 5*3, 2*20 + 3*3)
"
else
  for i in 1 2 3; do skip "numpy/onnx/PIL not installed"; done
fi

fm=${TL_SOURCE_ROOT:-.}/models/fmnist-ae.json
if [ -f "$fm" ]; then
  check "Fashion-MNIST autoencoder: 16 samples into a grid" "$tl" sample fmnist-ae --count 16 --seed 1 -o "$tmp/fm.png"
else
  skip "models/fmnist-ae.json is not committed yet"
fi

expect_fail "not an autoencoder" 1 "is a classifier, not an autoencoder" "$data/cli/tinycls.json" --count 4 -o "$tmp/x.png"
expect_fail "missing model" 1 "no-such-ae" no-such-ae --count 4 -o "$tmp/x.png"
expect_fail "count 0" 1 "--count 0: must be 1..4096" "$ae" --count 0 -o "$tmp/x.png"
expect_fail "count too large" 1 "--count 5000" "$ae" --count 5000 -o "$tmp/x.png"
expect_fail "bad output name" 1 "give GRID.png, LATENTS.npy or a directory" "$ae" --count 4 -o "$tmp/x.jpg"
expect_fail "missing output directory" 1 "does not exist or is not writable" "$ae" --count 4 -o "$tmp/no/such/"
expect_fail "bad cell size" 1 "cell-size 5000 is out of range" "$ae" --count 4 --cell-size 5000 -o "$tmp/x.png"
expect_fail "MODEL and --latents" 2 "not both" "$ae" --latents "$bank" --count 4 -o "$tmp/x.npy"
expect_fail "grid options with --latents" 2 "apply to MODEL only" --latents "$bank" --columns 3 --count 4 -o "$tmp/x.npy"
expect_fail "negative seed" 1 "is negative" "$ae" --count 4 --seed -3 -o "$tmp/x.png"
tap_done
