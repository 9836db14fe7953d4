#!/bin/sh
# A user's ONNX file without a sidecar card, through the command line, as TAP.
# $1 = the tensorlens binary. Copies of bundled models whose cards say what the
# graph defaults say (docs/models.md "Without a card") must give the same
# saliency maps and samples as the bundled names, bit for bit; `info` shows
# the defaults; graphs the defaults cannot describe fail with a clear message.
tl=$1
root=${TL_SOURCE_ROOT:-.}
models=$root/models
photo=$models/photos/chelsea.jpg
nocard=${TL_TEST_DATA:-tests/data}/models/nocard
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../tap.sh"
# expect_fail DESC PATTERN COMMAND ARGS...: exit status 1, PATTERN on stderr, no output file.
expect_fail() {
  desc=$1; pat=$2; shift 2
  rm -f "$tmp/x.npy"
  "$tl" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ $rc -eq 1 ] && grep -q -- "$pat" "$tmp/err" && [ ! -e "$tmp/x.npy" ]; then ok "$desc"
  else nok "$desc (rc $rc)"; sed 's/^/# /' "$tmp/err"; fi
}

# -- a classifier: the Fashion-MNIST card's input, layer and score are the defaults
cp "$models/fmnist-classifier.onnx" "$tmp/mine.onnx"
for meth in eigencam tsm gradcam gradcam++; do
  check "classifier without card: $meth map = the bundled model's, bit for bit" sh -c "
    '$tl' saliency fmnist-classifier '$photo' --method $meth -o '$tmp/a.npy' &&
    '$tl' saliency '$tmp/mine.onnx' '$photo' --method $meth -o '$tmp/b.npy' && cmp '$tmp/a.npy' '$tmp/b.npy'"
done
check "classifier without card: the target is named by its index" sh -c "
  '$tl' saliency '$tmp/mine.onnx' '$photo' --method gradcam -o '$tmp/b.npy' --print-params > '$tmp/p' &&
  '$tl' saliency fmnist-classifier '$photo' --method gradcam -o '$tmp/a.npy' --print-params > '$tmp/q' &&
  t=\$(sed -n 's/^target: \\([0-9]*\\) .*/\\1/p' '$tmp/q') && grep -qx \"target: \$t \$t\" '$tmp/p'"
check "info shows the defaults" sh -c "
  '$tl' info '$tmp/mine.onnx' > '$tmp/i' &&
  grep -qx 'card: none; defaults read from the graph' '$tmp/i' && grep -qx '  task: classifier' '$tmp/i' &&
  grep -qx '  labels: 10 (0 .. 9)' '$tmp/i' && grep -qx '  target layer: /net/c4/c4.2/Relu_output_0' '$tmp/i' &&
  grep -q '^  input: input 1x1x28x28 gray, (pixel in 0..255 \\* 0.00392157 - mean) / std, mean 0, std 1' '$tmp/i'"
check "info names the sidecar when there is one" sh -c "
  '$tl' info '$models/fmnist-classifier.onnx' | grep -qx 'card: .*models/fmnist-classifier.json'"

# -- an autoencoder pair: encoder + decoder + latent bank, no card
for f in emoji-ae-encoder.onnx emoji-ae-decoder.onnx emoji-ae-latents.npy; do
  cp "$models/$f" "$tmp/art${f#emoji-ae}"
done
for s in pmf gmm; do
  check "autoencoder pair without card: $s samples = the bundled emoji-ae's, bit for bit" sh -c "
    '$tl' sample emoji-ae --sampler $s --count 16 --seed 4 -o '$tmp/a.png' &&
    '$tl' sample '$tmp/art-decoder.onnx' --sampler $s --count 16 --seed 4 -o '$tmp/b.png' && cmp '$tmp/a.png' '$tmp/b.png'"
done
check "the encoder half names the same autoencoder" sh -c "
  '$tl' sample '$tmp/art-encoder.onnx' --count 4 --seed 2 -o '$tmp/c.npy' &&
  '$tl' sample emoji-ae --count 4 --seed 2 -o '$tmp/d.npy' && cmp '$tmp/c.npy' '$tmp/d.npy'"
check "info shows the pair's defaults" sh -c "
  '$tl' info '$tmp/art-decoder.onnx' > '$tmp/i' && grep -qx '  task: autoencoder' '$tmp/i' &&
  grep -q '^  autoencoder: latent 32, decoder output 3x32x32 in \\[0, 1\\], latent bank .*art-latents.npy' '$tmp/i'"
check "a bundled pair's half uses the pair's card" sh -c "
  '$tl' info '$models/emoji-ae-decoder.onnx' | grep -qx 'card: .*models/emoji-ae.json'"

# -- graphs the defaults cannot describe
expect_fail "NHWC input: says so" "nhwc.onnx: no model card, and its input 'image' is 1x8x8x3.*looks NHWC" \
  saliency "$nocard/nhwc.onnx" "$photo" -o "$tmp/x.npy"
expect_fail "no 4-D input" "vector.onnx: no model card, and its input 'x' is 1x16, not an N×C×H×W image" \
  saliency "$nocard/vector.onnx" "$photo" -o "$tmp/x.npy"
expect_fail "2 channels" "twoch.onnx: no model card, and its input 'image' is 1x2x8x8" \
  saliency "$nocard/twoch.onnx" "$photo" -o "$tmp/x.npy"
expect_fail "two inputs" "twoin.onnx: no model card, and its 2 graph inputs cannot be guessed" \
  saliency "$nocard/twoin.onnx" "$photo" -o "$tmp/x.npy"
expect_fail "nothing to explain" "nomap.onnx: no model card, and it has no 4-D feature map" \
  saliency "$nocard/nomap.onnx" "$photo" -o "$tmp/x.npy"
rm "$tmp/art-latents.npy"
expect_fail "pair without its latent bank" "has no latent bank .*art-latents.npy" \
  sample "$tmp/art-decoder.onnx" --count 4 -o "$tmp/x.npy"
check "info still describes a graph the defaults refuse" sh -c "
  '$tl' info '$nocard/nhwc.onnx' | grep -q '^  (unusable: .*looks NHWC'"
tap_done
