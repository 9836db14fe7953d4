#!/bin/sh
# The 12-megapixel benchmark of tensorlens:saliency through the GEGL API
# (docs/benchmarks.md, "GEGL op"): prints its Markdown table.
# Usage (from the source root, after a build):
#   tests/gegl/bench-gegl.sh BUILD_DIR [RUNS [MODEL [WIDTH HEIGHT]]]
# Two GEGL threads and OpenBLAS's default (2 on this machine), the build's
# ops only (never an installed copy), tile swap in RAM.
set -eu
build=$1
shift
runs=${1:-9}
[ $# -gt 0 ] && shift
export GEGL_PATH="$build/operations:$(pkg-config --variable=pluginsdir gegl-0.4)"
export TL_GEGL_OPS_DIR="$build/operations" TL_SOURCE_ROOT="$PWD"
export TENSORLENS_MODELS_DIR="$PWD/models"
export GEGL_THREADS=2 GEGL_SWAP=RAM XDG_DATA_HOME=$(mktemp -d /tmp/tl-bench-xdg.XXXXXX)
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
"$build/tests/gegl/bench-gegl-saliency" "$runs" "$@"
