#!/bin/sh
# tensorlens explain (TAP): the CLI runs the same pipeline as the GEGL op,
# so its rendering equals the gegl command line's; the map it writes is
# the image's size; bad input exits 1 with a message naming the problem.
# Usage: test-cli-explain.sh TENSORLENS   (env: TL_TEST_DATA, TL_SOURCE_ROOT)
exe=$1
data=$TL_TEST_DATA/gegl
export TENSORLENS_MODELS_DIR="$TL_SOURCE_ROOT/models"
tmp=$(mktemp -d /tmp/tl-cli-explain.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$tmp/log"; }
check () { desc=$1; shift; if "$@" >"$tmp/log" 2>&1; then ok "$desc"; else not_ok "$desc"; fi; }
fails_with () {   # fails_with DESC PATTERN ARGS...: exit 1 and PATTERN on stderr
  desc=$1; pat=$2; shift 2
  "$exe" explain "$@" >"$tmp/log" 2>&1
  rc=$?
  if [ $rc -eq 1 ] && grep -q -- "$pat" "$tmp/log"; then ok "$desc"; else not_ok "$desc (rc $rc)"; fi
}

check "explain a photo (TSM overlay, 16-bit)" \
  "$exe" explain "$data/astronaut-320.png" --model centernet --method tsm --mode overlay \
  --bits 16 --output "$tmp/cli.png" --map "$tmp/map.npy" --print-params
grep -q "^layer: tower_0/extern1/hard_swish/mul_1" "$tmp/log" && ok "prints the default layer" \
  || not_ok "prints the default layer"
# .npy v1 header (128 bytes here) + 320 x 320 float32
size=$(wc -c <"$tmp/map.npy")
if [ "$size" -eq $((128 + 320 * 320 * 4)) ]; then ok "map at the image's size"
else echo "size $size" >"$tmp/log"; not_ok "map at the image's size"; fi

if command -v gegl >/dev/null && command -v gegl-imgcmp >/dev/null && [ -n "${GEGL_PATH:-}" ]; then
  gegl "$data/astronaut-320.png" -o "$tmp/gegl.png" -- tensorlens:saliency model=centernet \
    method=tsm output=overlay >/dev/null 2>&1
  # gegl-imgcmp "succeeds" when a file is missing: check first
  if [ -s "$tmp/gegl.png" ] && gegl-imgcmp "$tmp/cli.png" "$tmp/gegl.png" 0.01 >"$tmp/log" 2>&1; then
    ok "same pixels as the gegl command line"
  else not_ok "same pixels as the gegl command line"; fi
else
  n=$((n + 1)); echo "ok $n # SKIP gegl, gegl-imgcmp or the built ops not available"
fi

check "gradcam of the predicted class" \
  "$exe" explain "$data/coffee-300x200.png" --model emotion --method gradcam --mode heatmap \
  --output "$tmp/g.png" --print-params
grep -q "^target: [0-9]" "$tmp/log" && ok "prints the predicted class" || not_ok "prints the predicted class"

fails_with "unknown model" "model 'no-such-model'" "$data/coffee-300x200.png" --model no-such-model -o "$tmp/x.png"
fails_with "unknown method" "method 'nope'" "$data/coffee-300x200.png" --model emotion --method nope -o "$tmp/x.png"
fails_with "missing image" "nonexistent.png" "$tmp/nonexistent.png" --model emotion -o "$tmp/x.png"
fails_with "unknown layer" "layer 'no/such'" "$data/coffee-300x200.png" --model emotion --layer no/such -o "$tmp/x.png"
fails_with "bad ranks" "ranks '1,x,3'" "$data/coffee-300x200.png" --model emotion --ranks 1,x,3 -o "$tmp/x.png"
fails_with "bad opacity" "opacity" "$data/coffee-300x200.png" --model emotion --opacity 2 -o "$tmp/x.png"
fails_with "no output" "--output" "$data/coffee-300x200.png" --model emotion

echo "1..$n"
[ $fails -eq 0 ]
