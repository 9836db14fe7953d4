#!/bin/sh
# tensorlens saliency MODEL IMAGE (TAP): the CLI runs the same pipeline as
# the GEGL op, so its rendering (--overlay, --mode, --bits) equals the gegl
# command line's; the map it writes is the image's size; bad input exits 1
# (2 for a usage error) with a message naming the problem. (These were the
# tests of the former `tensorlens explain`, which `saliency` replaced.)
# Usage: test-cli-explain.sh TENSORLENS   (env: TL_TEST_DATA, TL_SOURCE_ROOT)
exe=$1
data=$TL_TEST_DATA/gegl
export TENSORLENS_MODELS_DIR="$TL_SOURCE_ROOT/models"
tmp=$(mktemp -d /tmp/tl-cli-explain.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../tap.sh"
fails_with () {   # fails_with DESC RC PATTERN ARGS...: exit RC and PATTERN on stderr
  desc=$1; want=$2; pat=$3; shift 3
  "$exe" saliency "$@" >"$tmp/log" 2>&1
  rc=$?
  if [ $rc -eq "$want" ] && grep -q -- "$pat" "$tmp/log"; then ok "$desc"; else nok "$desc (rc $rc)" "$tmp/log"; fi
}

check "saliency of a photo (TSM overlay, 16-bit)" \
  "$exe" saliency centernet "$data/astronaut-320.png" --method tsm --mode overlay \
  --bits 16 --overlay "$tmp/cli.png" --output "$tmp/map.npy" --print-params
grep -q "^layer: tower_0/extern1/hard_swish/mul_1" "$tmp/log" && ok "prints the default layer" \
  || nok "prints the default layer" "$tmp/log"
# .npy v1 header (128 bytes here) + 320 x 320 float32
size=$(wc -c <"$tmp/map.npy")
if [ "$size" -eq $((128 + 320 * 320 * 4)) ]; then ok "map at the image's size"
else echo "size $size" >"$tmp/log"; nok "map at the image's size" "$tmp/log"; fi

if command -v gegl >/dev/null && command -v gegl-imgcmp >/dev/null && [ -n "${GEGL_PATH:-}" ]; then
  gegl "$data/astronaut-320.png" -o "$tmp/gegl.png" -- tensorlens:saliency model=centernet \
    method=tsm output=overlay >/dev/null 2>&1
  # gegl-imgcmp "succeeds" when a file is missing: check first
  if [ -s "$tmp/gegl.png" ] && gegl-imgcmp "$tmp/cli.png" "$tmp/gegl.png" 0.01 >"$tmp/log" 2>&1; then
    ok "same pixels as the gegl command line"
  else nok "same pixels as the gegl command line" "$tmp/log"; fi
else
  skip "gegl, gegl-imgcmp or the built ops not available"
fi

check "gradcam of the predicted class" \
  "$exe" saliency emotion "$data/coffee-300x200.png" --method gradcam --mode heatmap \
  --overlay "$tmp/g.png" --output "$tmp/g.npy" --print-params
grep -q "^target: [0-9]" "$tmp/log" && ok "prints the predicted class" || nok "prints the predicted class" "$tmp/log"

c=$data/coffee-300x200.png
fails_with "unknown model" 1 "model 'no-such-model'" no-such-model "$c" -o "$tmp/x.npy"
fails_with "unknown method" 1 "method 'nope'" emotion "$c" --method nope -o "$tmp/x.npy"
fails_with "missing image" 1 "nonexistent.png" emotion "$tmp/nonexistent.png" -o "$tmp/x.npy"
fails_with "unknown layer" 1 "layer 'no/such'" emotion "$c" --layer no/such -o "$tmp/x.npy"
fails_with "bad ranks" 1 "ranks '1,x,3'" emotion "$c" --ranks 1,x,3 -o "$tmp/x.npy"
fails_with "bad opacity" 1 "opacity" emotion "$c" --opacity 2 --overlay "$tmp/x.png" -o "$tmp/x.npy"
fails_with "bad mode" 1 "mode 'nope'" emotion "$c" --mode nope --overlay "$tmp/x.png" -o "$tmp/x.npy"
fails_with "bad bits" 1 "bits 12" emotion "$c" --bits 12 --overlay "$tmp/x.png" -o "$tmp/x.npy"
fails_with "no output" 2 "--output" emotion "$c"

tap_done
