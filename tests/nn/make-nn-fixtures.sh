#!/bin/sh
# Regenerates the committed whole-model fixtures in tests/data/nn/models:
# PyTorch exports + autograd gradients, then ONNX Runtime outputs and taps.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
models="tinynet tinynet-op9 tinynet-op11 mobilenetv2-w01"
/usr/bin/python3 "$root/tests/nn/make-torchvision-refs.py" "$tmp" $models
(cd "$root/tools/ref" && [ -d node_modules ] || npm ci --no-audit --no-fund)
NODE_PATH="$root/tools/ref/node_modules" node "$root/tools/ref/nn-ort-ref.js" $(for m in $models; do echo "$tmp/$m"; done)
for m in $models; do
  rm -rf "$root/tests/data/nn/models/$m"
  rm "$tmp/$m/model-taps.onnx"
  mkdir -p "$root/tests/data/nn/models"
  cp -r "$tmp/$m" "$root/tests/data/nn/models/$m"
done
rm -rf "$tmp"
