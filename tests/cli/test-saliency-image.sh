#!/bin/sh
# `tensorlens saliency MODEL IMAGE`, as TAP. $1 = the tensorlens binary.
# Label-dependent maps against PyTorch autograd (tests/data/cli/
# make-labelled-fixtures.py), the features form + upsampling against the
# image form, errors.
tl=$1
data=${TL_TEST_DATA:-tests/data}/cli
py=/usr/bin/python3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../tap.sh"
# expect_fail DESC RC PATTERN ARGS...: exit status RC and PATTERN on stderr, no output file.
expect_fail() {
  desc=$1; want=$2; pat=$3; shift 3
  rm -f "$tmp/x.npy"
  "$tl" saliency "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ $rc -eq "$want" ] && grep -q -- "$pat" "$tmp/err" && [ ! -e "$tmp/x.npy" ]; then ok "$desc"
  else nok "$desc (rc $rc)"; sed 's/^/# /' "$tmp/err"; fi
}
have_numpy() { $py -c 'import numpy' 2>/dev/null; }
# close A.npy B.npy TOL: same shape, float32, max abs difference ≤ TOL.
close() {
  $py -c "
import sys, numpy as np
a = np.load(sys.argv[1]); b = np.load(sys.argv[2])
assert a.dtype == np.float32 and a.shape == b.shape, (a.dtype, a.shape, b.shape)
d = np.abs(a.astype(np.float64) - b).max(); assert d <= float(sys.argv[3]), d
assert a.max() > 0.5, 'map is (nearly) empty'
" "$@"
}

# -- label-dependent methods against PyTorch autograd (tolerance 2e-5 on maps in [0,1])
for m in tinycls tinydet tinyemb; do
  for meth in gradcam gradcam++ scorecam; do
    extra=
    [ $m = tinyemb ] && [ $meth != scorecam ] && extra="--reference $data/ref.png"
    if "$tl" saliency "$data/$m.json" "$data/photo.png" --method $meth $extra -o "$tmp/$m-$meth.npy" >"$tmp/log" 2>&1 \
       && { ! have_numpy || close "$tmp/$m-$meth.npy" "$data/ref-$m-$meth.npy" 2e-5 >>"$tmp/log" 2>&1; }; then
      if have_numpy; then ok "$meth on $m equals PyTorch autograd"; else skip "numpy not installed"; fi
    else nok "$meth on $m equals PyTorch autograd"; sed 's/^/# /' "$tmp/log"; fi
  done
done
# the target and score the reference used (ref-targets.json)
check "top-1 target and score of the classifier" sh -c "'$tl' saliency '$data/tinycls.json' '$data/photo.png' --method gradcam --print-params -o '$tmp/p.npy' | grep -q '^target: 0 a$' && '$tl' saliency '$data/tinycls.json' '$data/photo.png' --method scorecam --print-params -o '$tmp/p.npy' | grep -q '^score: 0.2539254'"
check "top-1 channel and heat-map sum of the detector" sh -c "'$tl' saliency '$data/tinydet.json' '$data/photo.png' --method scorecam --print-params -o '$tmp/p.npy' | grep -q '^target: 1 q$' && '$tl' saliency '$data/tinydet.json' '$data/photo.png' --method scorecam --print-params -o '$tmp/p.npy' | grep -q '^score: 36.948'"
check "Score-CAM batch size does not change the map" sh -c "'$tl' saliency '$data/tinycls.json' '$data/photo.png' --method scorecam --batch 5 -o '$tmp/b5.npy' && '$tl' saliency '$data/tinycls.json' '$data/photo.png' --method scorecam --batch 1 -o '$tmp/b1.npy' && cmp -s '$tmp/b5.npy' '$tmp/b1.npy'"
# centernet's graph cannot be re-batched (a Resize with explicit sizes): one input per pass
photo=${TL_SOURCE_ROOT:-.}/models/photos/coffee.jpg
check "Score-CAM on centernet (not re-batchable) gives the same map at --batch 4 and 1" sh -c "'$tl' saliency centernet '$photo' --method scorecam --channels 3 --batch 4 -o '$tmp/cb4.npy' && '$tl' saliency centernet '$photo' --method scorecam --channels 3 --batch 1 -o '$tmp/cb1.npy' && cmp -s '$tmp/cb4.npy' '$tmp/cb1.npy'"
check "Score-CAM --channels 4 reports 4 channels" sh -c "'$tl' saliency '$data/tinycls.json' '$data/photo.png' --method scorecam --channels 4 --print-params -o '$tmp/c4.npy' | grep -q '^channels: 4$'"
check "--target 3 explains another class" sh -c "'$tl' saliency '$data/tinycls.json' '$data/photo.png' --method gradcam --target 3 --print-params -o '$tmp/t3.npy' | grep -q '^target: 3 d$' && ! cmp -s '$tmp/t3.npy' '$tmp/tinycls-gradcam.npy'"

# -- the features form on the tapped layer + half-pixel upsampling = the image form
layer=/body/r3/Relu_output_0
if have_numpy; then
  $py -c "
import numpy as np
# the photo as the model input: PNG pixels / 255, the card's mean/std (no resize: 32x32)
from PIL import Image
p = np.asarray(Image.open('$data/photo.png').convert('RGB'), np.float32) / 255
m = np.array([0.485, 0.456, 0.406], np.float32); s = np.array([0.229, 0.224, 0.225], np.float32)
np.save('$tmp/x.npy', ((p - m) / s).transpose(2, 0, 1)[None].astype(np.float32))
" >"$tmp/log" 2>&1 || { nok "make the input tensor"; sed 's/^/# /' "$tmp/log"; }
  for meth in eigencam multivec-eigencam tsm mtsm; do
    if "$tl" run "$data/tinycls.onnx" --input "$tmp/x.npy" --tap "$layer=$tmp/f.npy" >"$tmp/log" 2>&1 \
       && "$tl" saliency --features "$tmp/f.npy" --method $meth --ranks 6,5,6 -o "$tmp/fmap.npy" >>"$tmp/log" 2>&1 \
       && "$tl" saliency "$data/tinycls.json" "$data/photo.png" --method $meth --ranks 6,5,6 -o "$tmp/imap.npy" >>"$tmp/log" 2>&1 \
       && $py -c "
import numpy as np
f = np.load('$tmp/fmap.npy').astype(np.float64); im = np.load('$tmp/imap.npy')
def up(a, n):   # half-pixel bilinear along axis 0, edge-clamped (OpenCV / PyTorch)
    src = np.clip((np.arange(n) + 0.5) * a.shape[0] / n - 0.5, 0, a.shape[0] - 1)
    i0 = np.floor(src).astype(int); i1 = np.minimum(i0 + 1, a.shape[0] - 1); w = (src - i0)[:, None]
    return a[i0] * (1 - w) + a[i1] * w
ref = up(up(f, 32).T, 32).T
assert im.shape == (32, 32) and f.shape == (8, 8), (im.shape, f.shape)
d = np.abs(ref - im).max(); assert d <= 1e-5, d
" >>"$tmp/log" 2>&1; then ok "$meth: --features on the tapped layer + upsampling equals the image form"
    else nok "$meth: --features on the tapped layer + upsampling equals the image form"; sed 's/^/# /' "$tmp/log"; fi
  done
else
  for i in 1 2 3 4; do skip "numpy not installed"; done
fi

# -- --letterbox: a 32x16 photo fits the 32x32 input at scale 1, rows 8..23, border
# 0 (so no resize is involved); by hand: that input, the tapped layer, --features,
# then the feature rows of the content (2..5 of 8) upsampled to 32x16
if have_numpy; then
  $py -c "
import numpy as np; from PIL import Image
p = np.asarray(Image.open('$data/photo.png').convert('RGB'))[8:24]
Image.fromarray(p).save('$tmp/flat.png')
x = np.zeros((32, 32, 3), np.float32); x[8:24] = p / np.float32(255)
m = np.array([0.485, 0.456, 0.406], np.float32); s = np.array([0.229, 0.224, 0.225], np.float32)
np.save('$tmp/lx.npy', ((x - m) / s).transpose(2, 0, 1)[None].astype(np.float32))
" >"$tmp/log" 2>&1 || { nok "make the letterboxed input"; sed 's/^/# /' "$tmp/log"; }
  if "$tl" run "$data/tinycls.onnx" --input "$tmp/lx.npy" --tap "$layer=$tmp/lf.npy" >"$tmp/log" 2>&1 \
     && "$tl" saliency --features "$tmp/lf.npy" --method tsm -o "$tmp/lfmap.npy" >>"$tmp/log" 2>&1 \
     && "$tl" saliency "$data/tinycls.json" "$tmp/flat.png" --method tsm --letterbox -o "$tmp/lmap.npy" >>"$tmp/log" 2>&1 \
     && "$tl" saliency "$data/tinycls.json" "$tmp/flat.png" --method tsm -o "$tmp/smap.npy" >>"$tmp/log" 2>&1 \
     && $py -c "
import numpy as np
f = np.load('$tmp/lfmap.npy').astype(np.float64); im = np.load('$tmp/lmap.npy'); st = np.load('$tmp/smap.npy')
def up(a, n, a0, w):   # half-pixel bilinear of the window [a0, a0 + w) along axis 0, clamped
    src = np.clip(a0 + (np.arange(n) + 0.5) * w / n - 0.5, 0, a.shape[0] - 1)
    i0 = np.floor(src).astype(int); i1 = np.minimum(i0 + 1, a.shape[0] - 1); t = (src - i0)[:, None]
    return a[i0] * (1 - t) + a[i1] * t
ref = up(up(f, 16, 2, 4).T, 32, 0, 8).T
assert im.shape == st.shape == (16, 32), (im.shape, st.shape)
d = np.abs(ref - im).max(); assert d <= 1e-5, d
assert np.abs(st - im).max() > 0.05, 'letterboxed map equals the stretched one'
" >>"$tmp/log" 2>&1; then ok "--letterbox: map at the image's size, unlike the stretched one, equal to letterboxing by hand"
  else nok "--letterbox: map at the image's size, unlike the stretched one, equal to letterboxing by hand"; sed 's/^/# /' "$tmp/log"; fi
  check "--letterbox with Grad-CAM: the image's size, unlike the stretched map" sh -c "'$tl' saliency '$data/tinycls.json' '$tmp/flat.png' --method gradcam --letterbox -o '$tmp/lg.npy' && '$tl' saliency '$data/tinycls.json' '$tmp/flat.png' --method gradcam -o '$tmp/sg.npy' && $py -c \"
import numpy as np; a = np.load('$tmp/lg.npy'); b = np.load('$tmp/sg.npy')
assert a.shape == b.shape == (16, 32) and np.abs(a - b).max() > 0.05
\""
  check "--print-params names the resize" sh -c "'$tl' saliency '$data/tinycls.json' '$tmp/flat.png' --letterbox --print-params -o '$tmp/p.npy' | grep -q '^resize: letterbox$' && '$tl' saliency '$data/tinycls.json' '$tmp/flat.png' --print-params -o '$tmp/p.npy' | grep -q '^resize: stretch$'"
else
  for i in 1 2 3; do skip "numpy not installed"; done
fi

# -- outputs: PNG map, overlay, progress only on a terminal
check "PNG map and overlay, no progress line when stderr is not a terminal" sh -c "'$tl' saliency '$data/tinycls.json' '$data/wide.png' --method tsm -o '$tmp/m.png' --overlay '$tmp/o.png' --colormap turbo --opacity 0.7 2>'$tmp/err' && [ -s '$tmp/m.png' ] && [ -s '$tmp/o.png' ] && [ ! -s '$tmp/err' ]"
if have_numpy; then
  check "PNG map is 8-bit grey and the overlay RGB, at the image's size" $py -c "
from PIL import Image
a = Image.open('$tmp/m.png'); b = Image.open('$tmp/o.png')
assert a.mode == 'L' and a.size == (56, 40), (a.mode, a.size)
assert b.mode == 'RGB' and b.size == (56, 40), (b.mode, b.size)
"
  "$tl" saliency "$data/tinycls.json" "$data/wide.png" --method tsm -o "$tmp/m.npy" >/dev/null 2>&1
  check "PNG map = round(255 * .npy map)" $py -c "
import numpy as np; from PIL import Image
a = np.asarray(Image.open('$tmp/m.png')).astype(int); b = np.load('$tmp/m.npy')
assert a.shape == b.shape == (40, 56); assert np.abs(a - np.round(b * 255)).max() <= 1
"
else
  skip "numpy not installed"; skip "numpy not installed"
fi

# a progress line when stderr is a terminal (script(1) gives it one)
if command -v script >/dev/null 2>&1; then
  script -qc "'$tl' saliency '$data/tinycls.json' '$data/photo.png' --method scorecam -o '$tmp/tty.npy'" /dev/null >"$tmp/tty" 2>&1
  if grep -q "100% done" "$tmp/tty" && grep -q "scoring masked inputs" "$tmp/tty"; then ok "progress line on a terminal"
  else nok "progress line on a terminal"; sed 's/^/# /' "$tmp/tty"; fi
else
  skip "script(1) not installed"
fi

# -- errors: exit status 1 and a message naming the problem
expect_fail "missing model" 1 "model 'no-such-model': no no-such-model.json" no-such-model "$data/photo.png" -o "$tmp/x.npy"
expect_fail "missing model file" 1 "nope.onnx': no such file" "$tmp/nope.onnx" "$data/photo.png" -o "$tmp/x.npy"
expect_fail "bad layer name" 1 "layer 'conv9' is not a tensor of model 'tinycls'" "$data/tinycls.json" "$data/photo.png" --layer conv9 -o "$tmp/x.npy"
expect_fail "bad layer name (label-dependent)" 1 "layer 'conv9' is not a tensor of model 'tinycls'" "$data/tinycls.json" "$data/photo.png" --method gradcam --layer conv9 -o "$tmp/x.npy"
expect_fail "layer that is not a feature map" 1 "logits' of model 'tinycls' is 1x5; saliency needs" "$data/tinycls.json" "$data/photo.png" --layer logits -o "$tmp/x.npy"
expect_fail "unreadable image" 1 "nope.png" "$data/tinycls.json" "$tmp/nope.png" -o "$tmp/x.npy"
printf 'not an image' >"$tmp/bad.png"
expect_fail "corrupt image" 1 "bad.png" "$data/tinycls.json" "$tmp/bad.png" -o "$tmp/x.npy"
expect_fail "wrong method" 1 "unknown saliency method 'gradcan'" "$data/tinycls.json" "$data/photo.png" --method gradcan -o "$tmp/x.npy"
expect_fail "target out of range (Grad-CAM)" 1 "target 7 is out of range" "$data/tinycls.json" "$data/photo.png" --method gradcam --target 7 -o "$tmp/x.npy"
expect_fail "target out of range (Score-CAM)" 1 "target class 7 is out of range (the model has 5 classes)" "$data/tinycls.json" "$data/photo.png" --method scorecam --target 7 -o "$tmp/x.npy"
expect_fail "reference with a classifier" 1 "a reference image is for embeddings" "$data/tinycls.json" "$data/photo.png" --method scorecam --reference "$data/ref.png" -o "$tmp/x.npy"
check "gradcam-plus-plus is Grad-CAM++" sh -c "'$tl' saliency '$data/tinydet.json' '$data/photo.png' --method gradcam-plus-plus -o '$tmp/pp.npy' && cmp -s '$tmp/pp.npy' '$tmp/tinydet-gradcam++.npy'"
expect_fail "detector channel out of range" 1 "has no channel 3" "$data/tinydet.json" "$data/photo.png" --method scorecam --target 3 -o "$tmp/x.npy"
expect_fail "Grad-CAM on an embedding without a reference" 1 "needs a reference image" "$data/tinyemb.json" "$data/photo.png" --method gradcam -o "$tmp/x.npy"
expect_fail "output name" 1 "the name must end in .png" "$data/tinycls.json" "$data/photo.png" -o "$tmp/x.jpg"
expect_fail "output directory" 1 "does not exist or is not writable" "$data/tinycls.json" "$data/photo.png" -o "$tmp/no/dir/x.npy"
expect_fail "bad colormap" 1 "jett" "$data/tinycls.json" "$data/photo.png" -o "$tmp/x.npy" --overlay "$tmp/o.png" --colormap jett
expect_fail "bad opacity" 1 "opacity" "$data/tinycls.json" "$data/photo.png" -o "$tmp/x.npy" --overlay "$tmp/o.png" --opacity 2
expect_fail "autoencoder" 1 "autoencoder" "${TL_TEST_DATA:-tests/data}/generate/tiny-ae.json" "$data/photo.png" -o "$tmp/x.npy"
expect_fail "missing IMAGE" 2 "give MODEL IMAGE or --features" "$data/tinycls.json" -o "$tmp/x.npy"
expect_fail "--letterbox with --features" 2 "--letterbox need MODEL IMAGE, not --features" --features "$data/ref-tinycls-gradcam.npy" --letterbox -o "$tmp/x.npy"
expect_fail "missing --output" 2 "--output is required" "$data/tinycls.json" "$data/photo.png"
tap_done
