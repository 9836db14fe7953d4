#!/bin/sh
# GeglBuffer leaks of our ops at exit, through the gegl command line (TAP).
# GEGL prints "EEEEeEeek! N GeglBuffers leaked" at gegl_exit when a buffer
# is still referenced. An XML composition must render both ops with no
# such message. The "gegl IN -o OUT -- op" chain form of gegl 0.4.42
# leaks one buffer for ANY op whose cached region is the whole image,
# GEGL's own gegl:stretch-contrast included (that is the CLI's, not ours):
# there our ops may leak no more than gegl:stretch-contrast does.
# Usage: test-gegl-leaks.sh SRCDIR   (env from meson: GEGL_PATH, ...)
src=$1
photo=$src/../../models/photos/coffee.jpg
tmp=$(mktemp -d /tmp/tl-gegl-leaks.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../tap.sh"
leaks () { grep -c "GeglBuffers leaked\|gegl_tile_cache_destroy" "$tmp/log"; }
# run DESC OUT CMD...: renders, output must exist, no leak message
clean () { desc=$1; out=$2; shift 2; rm -f "$out"
  timeout 120 "$@" >"$tmp/log" 2>&1
  if [ -s "$out" ] && [ "$(leaks)" -eq 0 ]; then ok "$desc"; else nok "$desc" "$tmp/log"; fi; }
# no_worse DESC BASELINE OUT CMD...: leak messages <= BASELINE's
no_worse () { desc=$1; base=$2; out=$3; shift 3; rm -f "$out"
  timeout 120 "$@" >"$tmp/log" 2>&1
  if [ -s "$out" ] && [ "$(leaks)" -le "$base" ]; then ok "$desc"; else nok "$desc (baseline $base)" "$tmp/log"; fi; }

if ! command -v gegl >/dev/null; then
  skip_all "gegl not installed (Debian package gegl)"
fi
tap_plan 6

# A small image (under one tile) keeps the networks cheap.
clean "gegl:scale-size makes the small input" "$tmp/small.png" \
  gegl "$photo" -o "$tmp/small.png" -- gegl:scale-size x=96 y=64

cat >"$tmp/sal.xml" <<XML
<?xml version='1.0' encoding='UTF-8'?>
<gegl>
  <node operation='tensorlens:saliency'><params>
    <param name='model'>faceres</param><param name='method'>tsm</param>
    <param name='output'>overlay</param></params></node>
  <node operation='gegl:load'><params><param name='path'>$tmp/small.png</param></params></node>
</gegl>
XML
clean "tensorlens:saliency in an XML composition leaks no GeglBuffer" "$tmp/sal.png" \
  gegl "$tmp/sal.xml" -o "$tmp/sal.png"

cat >"$tmp/lat.xml" <<XML
<?xml version='1.0' encoding='UTF-8'?>
<gegl>
  <node operation='tensorlens:latent-samples'><params>
    <param name='model'>fmnist-ae</param><param name='count'>4</param></params></node>
</gegl>
XML
clean "tensorlens:latent-samples in an XML composition leaks no GeglBuffer" "$tmp/lat.png" \
  gegl "$tmp/lat.xml" -o "$tmp/lat.png"

# The CLI chain form: GEGL's own whole-image filter sets the baseline.
rm -f "$tmp/sc.png"
timeout 120 gegl "$tmp/small.png" -o "$tmp/sc.png" -- gegl:stretch-contrast >"$tmp/log" 2>&1
base=$(leaks)
if [ -s "$tmp/sc.png" ]; then ok "gegl:stretch-contrast chain form ($base leak messages)"
else nok "gegl:stretch-contrast chain form" "$tmp/log"; fi
no_worse "tensorlens:saliency chain form leaks no more than gegl:stretch-contrast" "$base" \
  "$tmp/sal2.png" gegl "$tmp/small.png" -o "$tmp/sal2.png" -- \
  tensorlens:saliency model=faceres method=tsm output=overlay
no_worse "tensorlens:latent-samples chain form leaks no more than gegl:stretch-contrast" "$base" \
  "$tmp/lat2.png" gegl -o "$tmp/lat2.png" -- tensorlens:latent-samples model=fmnist-ae count=4
tap_done
