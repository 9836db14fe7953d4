#!/bin/sh
# Headless GIMP 2.10 test of the tensorlens plug-in (TAP), in a hermetic
# user directory (toolchain.md section 7, P8-P10): gimp-console's exit code
# says nothing, so every check prints a marker that is grepped from the log.
# Usage: test-gimp.sh PLUGIN_DIR GIMP_LIBDIR SRCDIR
# (env from meson: GEGL_PATH, GEGL_SWAP, TENSORLENS_MODELS_DIR)
plugdir=$1
gimplibdir=$2
src=$3
data=$src/../data/gegl
. "$(dirname "$0")/../tap.sh"

if ! command -v gimp-console-2.10 >/dev/null; then
  skip_all "gimp-console-2.10 not installed (Debian package gimp)"
fi
tmp=$(mktemp -d /tmp/tl-gimp.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf '(plug-in-path "%s:%s/plug-ins")\n' "$plugdir" "$gimplibdir" >"$tmp/gimprc"
export GIMP2_DIRECTORY="$tmp/home"        # must not exist yet (P8)
export XDG_DATA_HOME="$tmp/xdg"           # no stale user copy of our ops (P2)

card=$src/../data/generate/tiny-ae.json
scheme_script () { sed -e "s|@DATA@|$data|g" -e "s|@TMP@|$tmp|g" -e "s|@CARD@|$card|g" "$src/$1"; }
timeout 600 gimp-console-2.10 -i -d -f -g "$tmp/gimprc" \
  -b "$(scheme_script saliency.scm)" \
  -b "$(scheme_script bad-model.scm)" \
  -b '(gimp-message "TL-ALIVE-1")' \
  -b "$(scheme_script bad-option.scm)" \
  -b '(gimp-message "TL-ALIVE-2")' \
  -b "$(scheme_script bad-opacity-option.scm)" \
  -b "$(scheme_script bad-opacity.scm)" \
  -b "$(scheme_script latent.scm)" \
  -b "$(scheme_script bad-latent.scm)" \
  -b '(gimp-quit 0)' >"$tmp/log" 2>&1

dump () { sed 's/^/# /' "$tmp/log" | tail -40; }

# the checks the script made (one TAP line each)
grep -o 'TL-OK .*\|TL-FAIL .*' "$tmp/log" >"$tmp/checks"
while IFS= read -r line; do
  case $line in
    TL-OK*) ok "${line#TL-OK }" ;;
    *) nok "${line#TL-FAIL }" ;;
  esac
done <"$tmp/checks"
if [ "$(grep -c '^TL-OK' "$tmp/checks")" -eq 26 ] && grep -q TL-DONE "$tmp/log" \
   && grep -q TL-LATENT-DONE "$tmp/log"; then
  ok "saliency and latent scripts ran to the end (26 checks)"
else
  nok "saliency and latent scripts ran to the end (26 checks)"; dump
fi

# The new layers' pixels equal the gegl command line's rendering.
same_image () {
  # gegl-imgcmp "succeeds" on a missing file: check that first
  if [ -s "$1" ] && [ -s "$2" ] && gegl-imgcmp "$1" "$2" 1.0 >"$tmp/cmp" 2>&1; then ok "$3"
  else nok "$3"; sed 's/^/# /' "$tmp/cmp"; fi
}
if command -v gegl >/dev/null; then
  # the op's default overlay weight (0.5): the PDB opacity (30) is the
  # layer's, not folded into the pixels
  gegl "$data/astronaut-320.png" -o "$tmp/cli-tsm.png" -- tensorlens:saliency model=centernet \
    method=tsm output=overlay colormap=jet >/dev/null 2>&1
  same_image "$tmp/gimp-tsm-overlay.png" "$tmp/cli-tsm.png" "rgb layer pixels equal the gegl CLI's"
  gegl "$data/coffee-300x200.png" -o "$tmp/cli-ov08.png" -- tensorlens:saliency model=emotion \
    method=eigencam output=overlay colormap=turbo opacity=0.8 >/dev/null 2>&1
  same_image "$tmp/gimp-eigencam-overlay08.png" "$tmp/cli-ov08.png" \
    "overlay with option opacity=0.8 equals the gegl CLI's opacity=0.8"
  gegl "$data/coffee-300x200.png" -o "$tmp/cli-eig.png" -- tensorlens:saliency model=emotion \
    method=eigencam output=heatmap colormap=viridis >/dev/null 2>&1
  same_image "$tmp/gimp-eigencam-heatmap.png" "$tmp/cli-eig.png" "'all' EigenCAM layer equals the gegl CLI's"
  gegl -o "$tmp/cli-latent.png" -- tensorlens:latent-samples "model=$card" sampler=pmf seed=3 \
    count=6 columns=3 cell-size=16 spacing=2 background=white >/dev/null 2>&1
  same_image "$tmp/gimp-latent.png" "$tmp/cli-latent.png" "latent samples image equals the gegl CLI's"
else
  skip "gegl CLI not installed"
fi

# Failures: an execution error with our message, and GIMP carries on.
if grep -q "Procedure execution of plug-in-tensorlens-saliency failed: model '/nonexistent/model.onnx': no such file" "$tmp/log"; then
  ok "bad model path: execution error naming it"
else
  nok "bad model path: execution error naming it"; dump
fi
if grep -q "rank1: 'lots' is not an integer" "$tmp/log"; then ok "bad option: error naming it"
else nok "bad option: error naming it"; dump; fi
if grep -q "options: opacity: '50' is not a number in 0..1 (the op's overlay weight; the new layer's opacity is the opacity argument, 0..100)" "$tmp/log"; then
  ok "layer opacity given as the op's opacity option: error saying which is which"
else
  nok "layer opacity given as the op's opacity option: error saying which is which"; dump
fi
if grep -q "opacity 150 is not in 0..100" "$tmp/log"; then ok "layer opacity 150: error"
else nok "layer opacity 150: error"; dump; fi
# One undo step: GIMP 2.10's PDB can neither undo nor count undo steps, so
# this checks what it can see: the plug-in closes the undo group it opens
# (else GIMP closes it with this warning when the plug-in returns).
if grep -q "left image undo in inconsistent state" "$tmp/log"; then
  nok "undo groups closed by the plug-in"; dump
else
  ok "undo groups closed by the plug-in"
fi
if grep -q "Procedure execution of plug-in-tensorlens-latent-samples failed: .*'emotion' is not an autoencoder" "$tmp/log"; then
  ok "latent samples of a classifier: error naming it"
else
  nok "latent samples of a classifier: error naming it"; dump
fi
if grep -q TL-ALIVE-1 "$tmp/log" && grep -q TL-ALIVE-2 "$tmp/log"; then
  ok "GIMP keeps running after a failed call"
else
  nok "GIMP keeps running after a failed call"; dump
fi
# An installed bundle <plug-ins>/tensorlens/{tensorlens,gegl-ops/*.so} with
# GEGL_PATH unset: the plug-in loads the ops next to itself.
mkdir -p "$tmp/bundle/tensorlens/gegl-ops"
cp "$plugdir/tensorlens/tensorlens" "$tmp/bundle/tensorlens/"
for so in $(echo "$GEGL_PATH" | cut -d: -f1)/tensorlens-*.so; do cp "$so" "$tmp/bundle/tensorlens/gegl-ops/"; done
printf '(plug-in-path "%s:%s/plug-ins")\n' "$tmp/bundle" "$gimplibdir" >"$tmp/gimprc2"
(
  unset GEGL_PATH
  export GIMP2_DIRECTORY="$tmp/home2"
  timeout 300 gimp-console-2.10 -i -d -f -g "$tmp/gimprc2" -b "
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$data/coffee-300x200.png\" \"c.png\")))
       (drawable (car (gimp-image-get-active-drawable image)))
       (layer (car (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
                     \"emotion\" \"\" \"eigencam\" \"map\" \"jet\" 50.0 \"\"))))
  (gimp-message (string-append \"TL-BUNDLE \" (car (gimp-item-get-name layer)))))" \
    -b '(gimp-quit 0)' >"$tmp/log2" 2>&1
)
if grep -q "TL-BUNDLE Saliency — EigenCAM (emotion)" "$tmp/log2"; then
  ok "bundle without GEGL_PATH: the plug-in loads the ops next to it"
else
  nok "bundle without GEGL_PATH: the plug-in loads the ops next to it"; sed 's/^/# /' "$tmp/log2" | tail -20
fi

# nothing else went wrong
if grep -v "nonexistent\|rank1\|opacity\|plug-in-tensorlens-\|not an autoencoder" "$tmp/log" | grep -qi "critical\|segmentation\|fatal"; then
  nok "no criticals or crashes in the log"; dump
else
  ok "no criticals or crashes in the log"
fi
tap_done
