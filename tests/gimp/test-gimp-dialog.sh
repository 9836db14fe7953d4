#!/bin/sh
# Smoke test of the interactive path (TAP): under Xvfb, gimp-console runs
# plug-in-tensorlens-saliency in RUN-INTERACTIVE mode, the dialog appears
# ("Saliency Map" window), OK is pressed with xdotool, and the new layer
# comes back to Script-Fu with the dialog's defaults (a heat map, pixels as
# the gegl CLI's, in a normal layer at opacity 50); then the same for plug-in-tensorlens-latent-samples
# ("Latent Samples" window: its defaults make a new 266x266 image of 16
# fmnist-ae samples). Usage: test-gimp-dialog.sh PLUGIN_DIR GIMP_LIBDIR SRCDIR
plugdir=$1
gimplibdir=$2
data=$3/../data/gegl
. "$(dirname "$0")/../tap.sh"
for tool in gimp-console-2.10 Xvfb xdotool xwininfo; do
  if ! command -v $tool >/dev/null; then
    skip_all "$tool not installed (Debian: gimp, xvfb, xdotool, x11-utils)"
  fi
done
tmp=$(mktemp -d /tmp/tl-gimp-ui.XXXXXX)
xpid=
gpid=
cleanup () {
  [ -n "$gpid" ] && kill "$gpid" 2>/dev/null
  [ -n "$xpid" ] && kill "$xpid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
# a free display: Xvfb writes its number to fd 3
Xvfb -displayfd 3 -screen 0 1024x768x24 3>"$tmp/display" >/dev/null 2>&1 &
xpid=$!
for i in $(seq 50); do [ -s "$tmp/display" ] && break; sleep 0.1; done
export DISPLAY=":$(cat "$tmp/display")"
printf '(plug-in-path "%s:%s/plug-ins")\n' "$plugdir" "$gimplibdir" >"$tmp/gimprc"
export GIMP2_DIRECTORY="$tmp/home" XDG_DATA_HOME="$tmp/xdg"
# wait_window TITLE: prints the id of the window titled TITLE (60 s at most).
wait_window () {
  for i in $(seq 120); do
    w=$(xwininfo -root -tree 2>/dev/null | grep "\"$1\"" | awk '{print $1}' | head -1)
    [ -n "$w" ] && { echo "$w"; return; }
    sleep 0.5
  done
}
# press_ok WIN LOG MARKER: Return in the dialog (its default response is OK;
# without a window manager, focus it and type through XTEST), falling back
# to clicking the OK button (bottom right) if MARKER does not reach LOG.
press_ok () {
  sleep 1
  xdotool windowfocus --sync "$1" key Return 2>/dev/null
  for i in $(seq 60); do grep -q "$3" "$2" && return; sleep 0.5; done
  eval "$(xdotool getwindowgeometry --shell "$1")"
  xdotool mousemove $((X + WIDTH - 50)) $((Y + HEIGHT - 22)) click 1
}

timeout 240 gimp-console-2.10 -i -d -f -g "$tmp/gimprc" -b "
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$data/coffee-300x200.png\" \"c.png\")))
       (drawable (car (gimp-image-get-active-drawable image)))
       (layer (car (plug-in-tensorlens-saliency RUN-INTERACTIVE image drawable
                     \"emotion\" \"\" \"eigencam\" \"overlay\" \"jet\" 50.0 \"\"))))
  (gimp-message (string-append \"TL-UI \" (car (gimp-item-get-name layer))))
  (gimp-message (string-append \"TL-UI-LAYER opacity \"
                               (number->string (car (gimp-layer-get-opacity layer)))
                               \" mode \" (number->string (car (gimp-layer-get-mode layer)))
                               (if (= (car (gimp-layer-get-mode layer)) LAYER-MODE-NORMAL)
                                   \" normal\" \" other\")))
  (file-png-save2 RUN-NONINTERACTIVE image layer \"$tmp/ui-layer.png\" \"ui-layer.png\"
                  0 9 0 0 0 0 0 0 0))" \
  -b '(gimp-quit 0)' >"$tmp/log" 2>&1 &
gpid=$!

win=$(wait_window "Saliency Map")
if [ -n "$win" ]; then ok "the dialog opens"; else nok "the dialog opens"; fi
[ -n "$win" ] && press_ok "$win" "$tmp/log" TL-UI
wait "$gpid"
gpid=
# interactive runs start from the defaults / last values (a fresh user dir:
# the defaults, EigenCAM on centernet), not from the arguments
if grep -q "TL-UI Saliency — EigenCAM (centernet)" "$tmp/log"; then
  ok "OK adds the layer and returns it"
else
  nok "OK adds the layer and returns it"; sed 's/^/# /' "$tmp/log" | tail -20
fi
# the dialog's defaults (issue 8): a heat map in a normal layer at 50%
if grep -q "TL-UI-LAYER opacity 50\(\.0*\)\? mode [0-9]* normal" "$tmp/log"; then
  ok "default: a normal layer at opacity 50"
else
  nok "default: a normal layer at opacity 50"; grep TL-UI "$tmp/log" | sed 's/^/# /'
fi
if ! command -v gegl >/dev/null; then
  skip "gegl CLI not installed"
else
  gegl "$data/coffee-300x200.png" -o "$tmp/cli-heatmap.png" -- tensorlens:saliency \
    model=centernet method=eigencam output=heatmap colormap=jet >/dev/null 2>&1
  # gegl-imgcmp "succeeds" on a missing file: check that first
  if [ -s "$tmp/ui-layer.png" ] && [ -s "$tmp/cli-heatmap.png" ] \
     && gegl-imgcmp "$tmp/ui-layer.png" "$tmp/cli-heatmap.png" 1.0 >"$tmp/cmp" 2>&1; then
    ok "default: its pixels are the gegl CLI's heat map (output=heatmap colormap=jet)"
  else
    nok "default: its pixels are the gegl CLI's heat map (output=heatmap colormap=jet)"
    sed 's/^/# /' "$tmp/cmp" 2>/dev/null
  fi
fi

# The latent-samples dialog (its seed widget once crashed the plug-in).
timeout 240 gimp-console-2.10 -i -d -f -g "$tmp/gimprc" -b "
(let* ((image (car (gimp-image-new 120 80 RGB)))
       (layer (car (gimp-layer-new image 120 80 RGB-IMAGE \"bg\" 100 LAYER-MODE-NORMAL)))
       (dummy (gimp-image-insert-layer image layer 0 -1))
       (out (car (plug-in-tensorlens-latent-samples RUN-INTERACTIVE image layer
                   \"fmnist-ae\" \"pmf\" 0 16 4 64 0 \"\"))))
  (gimp-message (string-append \"TL-UI-LATENT \" (number->string (car (gimp-image-width out)))
                               \"x\" (number->string (car (gimp-image-height out))))))" \
  -b '(gimp-quit 0)' >"$tmp/log2" 2>&1 &
gpid=$!
win=$(wait_window "Latent Samples")
if [ -n "$win" ]; then ok "the latent-samples dialog opens"
else nok "the latent-samples dialog opens"; sed 's/^/# /' "$tmp/log2" | tail -20; fi
[ -n "$win" ] && press_ok "$win" "$tmp/log2" TL-UI-LATENT
wait "$gpid"
gpid=
if grep -q "TL-UI-LATENT 266x266" "$tmp/log2" && ! grep -q "execution error\|crashed" "$tmp/log2"; then
  ok "OK renders the default grid into a new image"
else
  nok "OK renders the default grid into a new image"; sed 's/^/# /' "$tmp/log2" | tail -20
fi
tap_done
