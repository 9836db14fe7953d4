#!/bin/sh
# Takes the screenshots of the plug-in's two dialogs shown in
# docs/gegl-gimp.md and the README, from the real GIMP 2.10 under Xvfb:
# gimp-console runs each procedure in RUN-INTERACTIVE mode, the dialog
# window is captured with xwd, converted to PNG, and the dialog cancelled.
# Usage (from the source root, after a build):
#   docs/make-dialog-screenshots.sh BUILD_DIR
# Writes docs/gegl-gimp-saliency-dialog.png, docs/gegl-gimp-latent-dialog.png.
set -eu
build=$1
src=$PWD
for tool in gimp-console-2.10 Xvfb xdotool xwininfo xwd; do
  command -v $tool >/dev/null || { echo "$tool is missing (Debian: gimp xvfb xdotool x11-utils x11-apps)"; exit 1; }
done
tmp=$(mktemp -d /tmp/tl-shots.XXXXXX)
xpid=
cleanup () { [ -n "$xpid" ] && kill "$xpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
Xvfb -displayfd 3 -screen 0 1024x768x24 3>"$tmp/display" >/dev/null 2>&1 &
xpid=$!
for i in $(seq 50); do [ -s "$tmp/display" ] && break; sleep 0.1; done
export DISPLAY=":$(cat "$tmp/display")"
gimplibdir=$(pkg-config --variable=gimplibdir gimp-2.0)
printf '(plug-in-path "%s:%s/plug-ins")\n' "$build/plug-ins/tensorlens" "$gimplibdir" >"$tmp/gimprc"
export GIMP2_DIRECTORY="$tmp/home" XDG_DATA_HOME="$tmp/xdg"
export GEGL_PATH="$build/operations:$(pkg-config --variable=pluginsdir gegl-0.4)"
export TENSORLENS_MODELS_DIR="$src/models"

# shot TITLE OUT.png SCHEME: runs SCHEME in gimp-console, captures the
# window titled TITLE, then cancels it (Escape).
shot () {
  timeout 240 gimp-console-2.10 -i -d -f -g "$tmp/gimprc" -b "$3" -b '(gimp-quit 0)' \
    >"$tmp/log" 2>&1 &
  gpid=$!
  win=
  for i in $(seq 120); do
    win=$(xwininfo -root -tree 2>/dev/null | grep "\"$1\"" | awk '{print $1}' | head -1)
    [ -n "$win" ] && break
    sleep 0.5
  done
  if [ -z "$win" ]; then kill "$gpid" 2>/dev/null || true; cat "$tmp/log"; echo "no $1 window"; exit 1; fi
  # pointer out of the way (no tooltip over the dialog), then let GTK draw
  xdotool mousemove 1020 760 2>/dev/null || true
  sleep 2
  xwd -silent -id "$win" >"$tmp/shot.xwd"
  /usr/bin/python3 - "$tmp/shot.xwd" "$2" <<'PY'
import struct, sys
from PIL import Image
d = open(sys.argv[1], 'rb').read()
hs, ver, fmt, depth, w, h = struct.unpack('>6I', d[:24])
bpl = struct.unpack('>I', d[48:52])[0]
ncolors = struct.unpack('>I', d[76:80])[0]
off = hs + 12 * ncolors
img = Image.frombuffer('RGBX', (w, h), d[off:off + bpl * h], 'raw', 'BGRX', bpl, 1)
img.convert('RGB').save(sys.argv[2], optimize=True)
PY
  xdotool windowfocus --sync "$win" key Escape 2>/dev/null || true
  wait "$gpid" || true
  echo "wrote $2"
}

shot "Saliency Map" "$src/docs/gegl-gimp-saliency-dialog.png" "
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$src/tests/data/gegl/coffee-300x200.png\" \"c.png\")))
       (drawable (car (gimp-image-get-active-drawable image))))
  (plug-in-tensorlens-saliency RUN-INTERACTIVE image drawable \"\" \"\" \"eigencam\" \"overlay\" \"jet\" 50.0 \"\"))"
shot "Latent Samples" "$src/docs/gegl-gimp-latent-dialog.png" "
(let* ((image (car (gimp-image-new 400 300 RGB)))
       (layer (car (gimp-layer-new image 400 300 RGB-IMAGE \"bg\" 100 LAYER-MODE-NORMAL))))
  (gimp-image-insert-layer image layer 0 -1)
  (plug-in-tensorlens-latent-samples RUN-INTERACTIVE image layer \"fmnist-ae\" \"pmf\" 0 16 4 64 0 \"\"))"
