#!/bin/sh
# Peak memory of tensorlens:saliency on a 6000x4000 photo through the gegl
# command line (docs/gegl-gimp.md, "Memory"), against the same pipeline
# (JPEG load -> op -> PNG save) with GEGL's pass-through gegl:nop and with
# GEGL's own whole-image filter gegl:stretch-contrast: the difference to
# gegl:nop is what the op needs beyond the image. Prints a Markdown table.
# Usage (from the source root, after a build):
#   tests/gegl/bench-gegl-memory.sh BUILD_DIR [MODEL]
set -eu
build=$1
model=${2:-centernet}
tmp=$(mktemp -d /tmp/tl-mem.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export GEGL_PATH="$build/operations:$(pkg-config --variable=pluginsdir gegl-0.4)"
export TENSORLENS_MODELS_DIR="$PWD/models" XDG_DATA_HOME="$tmp/xdg"
/usr/bin/python3 -c "
from PIL import Image
Image.open('models/photos/coffee.jpg').convert('RGB').resize((6000, 4000), Image.BICUBIC).save('$tmp/in.jpg', quality=92)"
peak () {   # max RSS in MB of gegl IN -o OUT -- OP...
  /usr/bin/time -f '%M %e %U %S' -o "$tmp/time" gegl "$tmp/in.jpg" -o "$tmp/out.png" -- "$@" \
    >"$tmp/log" 2>&1
  awk '{ printf "%.0f | %.1f | %.1f", $1 / 1024, $2, $3 + $4 }' "$tmp/time"
}
nop=$(peak gegl:nop)
sc=$(peak gegl:stretch-contrast)
tl=$(peak tensorlens:saliency model="$model")
nop_mb=${nop%% *}
echo "| pipeline (6000x4000 JPEG -> op -> 16-bit PNG) | peak RSS (MB) | wall (s) | CPU (s) | beyond gegl:nop (MB) |"
echo "|---|---:|---:|---:|---:|"
for row in "gegl:nop|$nop" "gegl:stretch-contrast|$sc" "tensorlens:saliency model=$model (EigenCAM overlay)|$tl"; do
  name=${row%%|*}
  vals=${row#*|}
  mb=${vals%% *}
  echo "| \`$name\` | $vals | $((mb - nop_mb)) |"
done
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
