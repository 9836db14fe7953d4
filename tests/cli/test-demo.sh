#!/bin/sh
# scripts/demo (the quick start's main job) on this build, as TAP: every
# output it announces exists and is a valid image of the expected size.
root=${TL_SOURCE_ROOT:-.}
build=${TL_BUILD_ROOT:-build}
py=/usr/bin/python3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../tap.sh"

if TL_BUILD=$build TL_OUT=$tmp/out "$root/scripts/demo" >"$tmp/said" 2>"$tmp/err"; then ok "scripts/demo runs"
else nok "scripts/demo runs"; sed 's/^/# /' "$tmp/said" "$tmp/err"; fi
grep -q "outputs in $tmp/out" "$tmp/said" && ok "it says where the outputs went" || nok "it says where the outputs went"
# png FILE W H MODE: an image of that size and PIL mode
png() { $py -c "
import sys; from PIL import Image
im = Image.open(sys.argv[1]); im.load()
assert im.size == (int(sys.argv[2]), int(sys.argv[3])) and im.mode in sys.argv[4].split(','), (im.size, im.mode)
" "$@" 2>&1; }
if ! $py -c 'import PIL' 2>/dev/null; then
  for i in 1 2 3 4; do skip "PIL not installed"; done
else
  if grep -q '^(a) skipped' "$tmp/said"; then skip "gegl not available"
  elif grep -q "gegl-tsm-overlay.png" "$tmp/said" && png "$tmp/out/gegl-tsm-overlay.png" 600 400 RGB,RGBA >"$tmp/log"; then ok "(a) gegl overlay, 600x400"
  else nok "(a) gegl overlay, 600x400"; sed 's/^/# /' "$tmp/log"; fi
  if png "$tmp/out/tsm-map.png" 600 400 L >"$tmp/log" && png "$tmp/out/tsm-overlay.png" 600 400 RGB >>"$tmp/log"; then ok "(b) CLI map (grey) and overlay, 600x400"
  else nok "(b) CLI map (grey) and overlay, 600x400"; sed 's/^/# /' "$tmp/log"; fi
  if $py -c "import numpy as np; a = np.load('$tmp/out/gradcam-map.npy'); assert a.shape == (400, 600) and 0 <= a.min() and a.max() <= 1 and a.max() > 0.5" >"$tmp/log" 2>&1 \
     && grep -q "target: 41 cup" "$tmp/said"; then ok "(b) Grad-CAM map of the cup"
  else nok "(b) Grad-CAM map of the cup"; sed 's/^/# /' "$tmp/log"; fi
  if grep -q '^(c) skipped: no bundled autoencoder' "$tmp/said"; then
    if ls "$root"/models/*-ae.json >/dev/null 2>&1; then nok "(c) skipped although an autoencoder is bundled"; else ok "(c) skipped with a message (no bundled autoencoder)"; fi
  else
    f=$(sed -n 's/^(c) 64 samples of [^:]*: *\([^ ]*\).*/\1/p' "$tmp/said")
    if [ -n "$f" ] && png "$f" 530 530 RGB >"$tmp/log"; then ok "(c) sampled grid $f"
    else nok "(c) sampled grid"; sed 's/^/# /' "$tmp/said" "$tmp/log"; fi
  fi
fi
tap_done
