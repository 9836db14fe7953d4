#!/bin/sh
# tensorlens info / run / bench on the committed width-reduced MobileNetV2:
# outputs and taps written by `run` against the ONNX Runtime references
# (relative L2 <= 1e-4, compared with NumPy), batch 2, and the error exits.
# Usage: test-nn-cli.sh TENSORLENS-EXECUTABLE
set -u
tl=$1
d=${TL_TEST_DATA:-tests/data}/nn/models/mobilenetv2-w01
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../tap.sh"
py=/usr/bin/python3
close () {  # close GOT.npy WANT.npy: relative L2 <= 1e-4
  "$py" -c "
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
e = np.linalg.norm(a.astype(np.float64) - b) / np.linalg.norm(b)
print('#', sys.argv[1], 'relative L2', e)
sys.exit(0 if a.shape == b.shape and e <= 1e-4 else 1)" "$1" "$2"
}
target=/features/features.18/features.18.2/Clip_output_0
tapfile=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$d/ort.json" "$target")

tap_plan 18
"$tl" info "$d/model.onnx" >"$tmp/info.txt" 2>&1
check "info names the default target layer" grep -q "^default target layer: $target\$" "$tmp/info.txt"
check "info lists the input shape" grep -q "^  input  1x3x64x64\$" "$tmp/info.txt"
check "info reports peak memory" grep -q "^peak memory: [0-9.]* MiB" "$tmp/info.txt"

"$tl" run "$d/model.onnx" --input "$d/input.npy" --output "$tmp/y.npy" \
  --tap "$target=$tmp/f.npy" --threads 1 >"$tmp/run.txt" 2>&1
check "run: logits match ONNX Runtime" close "$tmp/y.npy" "$d/ort/000.npy"
check "run: tapped target layer matches ONNX Runtime" close "$tmp/f.npy" "$d/$tapfile"
"$tl" run "$d/model.onnx" --input "$d/input.npy" --outputs "$tmp/outs" >/dev/null 2>&1
check "run --outputs writes every output by name" close "$tmp/outs/logits.npy" "$d/ort/000.npy"

"$py" -c "
import numpy as np, sys
x = np.load(sys.argv[1]); np.save(sys.argv[2], np.concatenate([x, 1 - x]))" "$d/input.npy" "$tmp/x2.npy"
"$tl" run "$d/model.onnx" --input "$tmp/x2.npy" --output "$tmp/y2.npy" >/dev/null 2>&1
check "run: batch 2 input gives batch 2 output, first row as batch 1" "$py" -c "
import numpy as np, sys
y2, y = np.load(sys.argv[1]), np.load(sys.argv[2])
sys.exit(0 if y2.shape == (2, 10) and np.allclose(y2[:1], y, rtol=1e-5, atol=0) else 1)" "$tmp/y2.npy" "$d/ort/000.npy"

"$tl" bench "$d/model.onnx" --runs 3 --threads 1 >"$tmp/bench.txt" 2>&1
check "bench prints median_ms" grep -q "^median_ms=[0-9.]* .*runs=3 threads=1" "$tmp/bench.txt"
"$tl" bench "$d/model.onnx" --runs 3 --threads 1 --profile 70 >"$tmp/prof.txt" 2>&1
check "bench --profile: per-op table sums every node, and lists every node, slowest first" "$py" -c "
import sys, re
t = open(sys.argv[1]).read().split(chr(10))
ops = [l.split() for l in t[t.index(next(l for l in t if l.startswith('op type'))) + 1:] if l.strip()]
rows = []
for p in ops:
    if p[0] == '(sum': break
    rows.append(p)
s = next(l for l in t if l.startswith('(sum over nodes)')).split()
nodes = sum(int(p[1]) for p in rows)
ms = sum(float(p[2]) for p in rows)
conv = [p for p in rows if p[0] == 'Conv']
i = next(k for k, l in enumerate(t) if 'slowest nodes' in l)
slow = [l for l in t[i + 1:] if l.strip()]
times = [float(l.split()[0]) for l in slow]
ok = (conv and nodes == int(s[3]) and abs(ms - float(s[4])) < 0.01 and len(slow) == nodes
      and times == sorted(times, reverse=True))
sys.exit(0 if ok else 1)" "$tmp/prof.txt"
# the 1x1 expansion at 32x32 and its depthwise conv run as one (conv-pair.c)
check "bench --profile: the pointwise + depthwise pair at 32x32 ran as one" \
  grep -q "Conv+Conv(dw) .* /features/features.2/conv/conv.0/conv.0.2/Clip_output_0\$" \
  "$tmp/prof.txt"
"$tl" bench "$d/model.onnx" --profile -1 >/dev/null 2>&1
rc=$?
check "bench with a negative --profile exits 2" test $rc -eq 2

printf 'garbage' >"$tmp/bad.onnx"
"$tl" info "$tmp/bad.onnx" >"$tmp/err.txt" 2>&1
rc=$?
check "info on a corrupt file exits 1 naming it" sh -c "[ $rc -eq 1 ] && grep -q 'bad.onnx: not an ONNX model' '$tmp/err.txt'"
"$tl" run "$d/model.onnx" --input "$d/input.npy" --tap "nope=$tmp/z.npy" >"$tmp/err.txt" 2>&1
rc=$?
check "run with an unknown tap exits 1 naming it" sh -c "[ $rc -eq 1 ] && grep -q \"no runtime tensor named 'nope'\" '$tmp/err.txt'"
"$tl" run "$d/model.onnx" --input "$d/input.npy" >/dev/null 2>&1
rc=$?
check "run without an output exits 2" test $rc -eq 2
"$tl" bench "$d/model.onnx" --threads -1 >/dev/null 2>&1
rc=$?
check "bench with negative threads exits 2" test $rc -eq 2
tiny=${TL_TEST_DATA:-tests/data}/nn/models/tinynet/model.onnx
"$tl" info "$tiny" --shape 2x3x48x48 >"$tmp/info2.txt" 2>&1
check "info --shape re-infers every shape (batch 2, 48x48)" grep -q "^  logits  2x10\$" "$tmp/info2.txt"
"$tl" info "$tiny" --shape 2x3x4y >"$tmp/err.txt" 2>&1
rc=$?
check "a malformed --shape exits 1 saying why" sh -c "[ $rc -eq 1 ] && grep -q 'not like 1x3x224x224' '$tmp/err.txt'"
add=/usr/share/libonnx-testdata/data/node/test_add/model.onnx
if [ -f "$add" ]; then
  "$py" -c "
import numpy as np, sys
np.save(sys.argv[1], np.arange(60, dtype=np.float32).reshape(3, 4, 5))
np.save(sys.argv[2], np.full((3, 4, 5), 0.5, np.float32))" "$tmp/a.npy" "$tmp/b.npy"
  "$tl" run "$add" --input "$tmp/a.npy" --input "$tmp/b.npy" --output "$tmp/sum.npy" >/dev/null 2>&1
  check "run with two --input for a two-input model" "$py" -c "
import numpy as np, sys
s = np.load(sys.argv[1])
sys.exit(0 if np.array_equal(s, np.arange(60, dtype=np.float32).reshape(3, 4, 5) + 0.5) else 1)" "$tmp/sum.npy"
else
  skip "libonnx-testdata not installed"
fi
tap_done
