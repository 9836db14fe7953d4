#!/bin/sh
# Whole torchvision architectures (random init, fixed seed) against ONNX
# Runtime and PyTorch autograd: ResNet-18, MobileNetV2, SqueezeNet 1.1,
# DenseNet-121, ShuffleNetV2, and with squeeze-excite MobileNetV3-Small and
# EfficientNet-B0. The models and references are too big to
# commit, so they are regenerated into a cache in the build dir (once per
# version of the generating scripts). Prints TAP; SKIPs without torch or node.
# Usage: test-torchvision.sh TEST-NN-MODELS-EXECUTABLE
set -u
exe=$1
root=${TL_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cache=${TL_BUILD_ROOT:-/tmp}/nn-model-cache
models="resnet18 mobilenet_v2 squeezenet1_1 densenet121 shufflenet_v2_x1_0 mobilenet_v3_small efficientnet_b0"

. "$(dirname "$0")/../tap.sh"
/usr/bin/python3 -c "import torch, torchvision, onnx" 2>/dev/null || skip_all "PyTorch/torchvision/onnx not installed"
command -v node >/dev/null 2>&1 || skip_all "node not installed"
if [ ! -d "$root/tools/ref/node_modules/onnxruntime-node" ]; then
  (cd "$root/tools/ref" && npm ci --no-audit --no-fund >/dev/null 2>&1) || skip_all "onnxruntime-node not installable"
fi
stamp=$(cat "$root/tests/nn/make-torchvision-refs.py" "$root/tools/ref/nn-ort-ref.js" "$root/tools/ref/npy.js" | sha256sum | cut -c1-16)
if [ "$(cat "$cache/stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$cache" && mkdir -p "$cache"
  /usr/bin/python3 "$root/tests/nn/make-torchvision-refs.py" "$cache" $models >"$cache/make.log" 2>&1 \
    || { echo "Bail out! make-torchvision-refs.py failed (see $cache/make.log)"; exit 1; }
  dirs=""
  for m in $models; do dirs="$dirs $cache/$m"; done
  NODE_PATH="$root/tools/ref/node_modules" node "$root/tools/ref/nn-ort-ref.js" $dirs >>"$cache/make.log" 2>&1 \
    || { echo "Bail out! nn-ort-ref.js failed (see $cache/make.log)"; exit 1; }
  echo "$stamp" >"$cache/stamp"
fi
list=""
for m in $models; do
  list="$list${list:+:}$cache/$m"
done
TL_NN_ONLY_EXTRA=1 TL_NN_MODEL_DIRS=$list exec "$exe" --tap
