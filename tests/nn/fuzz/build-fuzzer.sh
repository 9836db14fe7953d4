#!/bin/sh
# Builds the libFuzzer harness of the ONNX loader with clang (apt: clang,
# libclang-rt-14-dev) into BUILDDIR/fuzz-onnx-load, reusing the protobuf-c
# bindings meson generated in BUILDDIR. Then run, e.g.:
#   nice BUILDDIR/fuzz-onnx-load -max_total_time=600 -rss_limit_mb=2048 \
#        -max_len=65536 CORPUS_DIR tests/data/nn/fuzz-corpus
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:?usage: build-fuzzer.sh BUILDDIR (a configured meson build dir)}
ninja -C "$build" src/nn/onnx.pb-c.c src/nn/onnx.pb-c.h >/dev/null
srcs="$root/src/error.c $root/src/tensor.c $root/src/npy.c $build/src/nn/onnx.pb-c.c"
srcs="$srcs $(ls "$root"/src/nn/*.c "$root"/src/nn/kernels/*.c)"
# shellcheck disable=SC2046
clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/src" -I"$root/src/nn" -I"$root/src/nn/kernels" -I"$build/src/nn" -I"$build" \
  $(pkg-config --cflags glib-2.0 openblas libprotobuf-c) \
  "$root/tests/nn/fuzz/fuzz-onnx-load.c" $srcs \
  $(pkg-config --libs glib-2.0 openblas libprotobuf-c) -lm \
  -o "$build/fuzz-onnx-load"
echo "$build/fuzz-onnx-load"
