#!/bin/sh
# The gegl command line and XML compositions (TAP). Every rendering of
# tensorlens:saliency is compared, with gegl-imgcmp, against the library
# pipeline's rendering of the same image (explain-png, no GEGL involved):
# live for the CLI, and through committed reference PNGs for the XML files.
# Usage: test-gegl-cli.sh EXPLAIN_PNG SRCDIR TENSORLENS  (env from meson: GEGL_PATH, ...)
exe=$1
src=$2
tensorlens=$3
data=$src/../data/gegl
tmp=$(mktemp -d /tmp/tl-gegl-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../tap.sh"

for tool in gegl gegl-imgcmp; do
  if ! command -v $tool >/dev/null; then
    skip_all "$tool not installed (Debian package gegl)"
  fi
done

# gegl-imgcmp prints "identical" or the max/avg ΔE and fails above the limit,
# but "succeeds" when a file is missing: check that first. It also writes
# <second>-diff.png when the images differ at all: the second file is
# always the one in $tmp, never one in the source tree.
imgcmp () { [ -s "$1" ] && [ -s "$2" ] && gegl-imgcmp "$@"; }
# 16-bit vs 16-bit live renderings: only float rounding may differ.
cmp_live () { imgcmp "$1" "$2" 0.01; }
# committed 8-bit references: quantisation gives up to ~0.5 ΔE.
cmp_ref () { imgcmp "$1" "$2" 1.0; }

check "gegl --exists tensorlens:saliency" gegl --exists tensorlens:saliency
gegl --info tensorlens:saliency >"$tmp/info" 2>&1
if grep -q "^method " "$tmp/info" && grep -q "^opacity " "$tmp/info" \
   && grep -q "^categories  *enhance:analysis" "$tmp/info"; then ok "gegl --info lists the properties"
else cp "$tmp/info" "$tmp/log"; nok "gegl --info lists the properties" "$tmp/log"; fi

# The command line from the README, against the library pipeline.
check "gegl IMG -o OUT -- tensorlens:saliency method=tsm output=overlay" \
  gegl "$data/astronaut-320.png" -o "$tmp/cli.png" -- tensorlens:saliency method=tsm output=overlay
check "library pipeline renders the same image" \
  "$exe" "$data/astronaut-320.png" centernet tsm overlay jet 0.5 16 "$tmp/lib.png"
check "CLI overlay equals the library's (gegl-imgcmp)" cmp_live "$tmp/cli.png" "$tmp/lib.png"

check "gegl CLI: emotion eigencam map on RGBA" \
  gegl "$data/chelsea-alpha.png" -o "$tmp/cli2.png" -- tensorlens:saliency model=emotion method=eigencam output=map
"$exe" "$data/chelsea-alpha.png" emotion eigencam map jet 0.5 16 "$tmp/lib2.png" 2>"$tmp/log"
check "CLI grey map equals the library's" cmp_live "$tmp/cli2.png" "$tmp/lib2.png"

# Score-CAM: the op's grey map against the tensorlens CLI's own rendering
# of its map (saliency --overlay --mode map, 16-bit), same model and image.
check "gegl CLI: emotion scorecam map" \
  gegl "$data/chelsea-alpha.png" -o "$tmp/cli4.png" -- tensorlens:saliency model=emotion method=scorecam output=map
check "tensorlens saliency --method scorecam renders its map" \
  "$tensorlens" saliency emotion "$data/chelsea-alpha.png" --method scorecam -o "$tmp/sc.npy" \
  --overlay "$tmp/lib4.png" --mode map --bits 16
check "scorecam: gegl op map equals the tensorlens CLI's" cmp_live "$tmp/cli4.png" "$tmp/lib4.png"

# A different method must give a different picture (the comparison can fail).
gegl "$data/astronaut-320.png" -o "$tmp/cli3.png" -- tensorlens:saliency method=eigencam output=overlay >/dev/null 2>&1
if [ ! -s "$tmp/cli3.png" ] || imgcmp "$tmp/cli3.png" "$tmp/lib.png" 0.01 >"$tmp/log" 2>&1; then
  nok "eigencam and tsm overlays differ" "$tmp/log"; else ok "eigencam and tsm overlays differ"; fi

# A user's ONNX file without a card (defaults read from the graph; the
# Fashion-MNIST classifier's card says what they say): the same picture.
cp "$src/../../models/fmnist-classifier.onnx" "$tmp/mine.onnx"
gegl "$data/astronaut-320.png" -o "$tmp/card.png" -- tensorlens:saliency model=fmnist-classifier method=eigencam output=map >/dev/null 2>&1
check "gegl CLI: model=/path/mine.onnx without a card" \
  gegl "$data/astronaut-320.png" -o "$tmp/nocard.png" -- tensorlens:saliency model="$tmp/mine.onnx" method=eigencam output=map
check "no-card map equals the bundled model's" cmp_live "$tmp/card.png" "$tmp/nocard.png"
gegl "$data/coffee-300x200.png" -o "$tmp/bad2.png" -- tensorlens:saliency model="$src/../data/models/nocard/nhwc.onnx" >"$tmp/log" 2>&1
if grep -q "nhwc.onnx: no model card, and its input 'image' is 1x8x8x3" "$tmp/log"; then ok "cardless NHWC model: warning says why"
else nok "cardless NHWC model: warning says why" "$tmp/log"; fi

# latent-samples with the GMM: the op's grid equals `tensorlens sample
# --sampler gmm --seed S` (8-bit PNG: quantisation only), the CLI pinned to
# one OpenBLAS thread and the op run with GEGL's 2 threads, so the grid does
# not depend on the thread count; another seed gives another grid.
lat="model=tiny-ae sampler=gmm components=3 count=9 columns=3 cell-size=16 spacing=2"
check "gegl CLI: latent-samples gmm seed=5" gegl -o "$tmp/gmm-op.png" -- tensorlens:latent-samples $lat seed=5
check "tensorlens sample --sampler gmm --seed 5" env OPENBLAS_NUM_THREADS=1 \
  "$tensorlens" sample tiny-ae --sampler gmm --components 3 --count 9 --columns 3 \
  --cell-size 16 --spacing 2 --seed 5 -o "$tmp/gmm-cli.png"
check "gmm grid: op equals the tensorlens CLI for the same seed" \
  imgcmp "$tmp/gmm-cli.png" "$tmp/gmm-op.png" 1.0
gegl -o "$tmp/gmm-op6.png" -- tensorlens:latent-samples $lat seed=6 >/dev/null 2>&1
if [ ! -s "$tmp/gmm-op6.png" ] || imgcmp "$tmp/gmm-cli.png" "$tmp/gmm-op6.png" 1.0 >"$tmp/log" 2>&1; then
  nok "gmm grid: seed 6 differs from seed 5" "$tmp/log"; else ok "gmm grid: seed 6 differs from seed 5"; fi

# XML compositions against committed references from the library pipeline.
for xml in "$src"/compositions/*.xml; do
  name=$(basename "$xml" .xml)
  if gegl -i "$xml" -o "$tmp/$name.png" >"$tmp/log" 2>&1 \
     && cmp_ref "$src/compositions/reference/$name.png" "$tmp/$name.png" >"$tmp/log" 2>&1; then
    ok "composition $name matches its reference"
  else
    nok "composition $name matches its reference" "$tmp/log"
  fi
done

# A missing model: a warning naming it, and the input passes through.
gegl "$data/coffee-300x200.png" -o "$tmp/bad.png" -- tensorlens:saliency model=no-such-model >"$tmp/log" 2>&1
if grep -q "tensorlens:saliency: model 'no-such-model'" "$tmp/log"; then ok "bad model: warning names it"
else nok "bad model: warning names it" "$tmp/log"; fi
check "bad model: output equals input" imgcmp "$data/coffee-300x200.png" "$tmp/bad.png" 0

tap_done
