#!/usr/bin/python3
"""The CNN engine against ONNX Runtime, and its convolutions against bare
cblas_sgemm, measured in one run (a benchmark, not a test).

  tests/nn/bench/bench_engine.py BUILD [--runs 30] [--rounds 3] [--write]

1. Exports torchvision ResNet-18, MobileNetV2, SqueezeNet 1.1, ShuffleNetV2
   x1.0 and DenseNet-121 (random init, torch.manual_seed(0), the same
   constructors as tests/nn/make-torchvision-refs.py, static 1x3x224x224
   input, opset 13) into BUILD/bench-model-cache (reused when present).
2. For 1 and 2 threads, runs `tensorlens bench MODEL --runs N --threads T`
   and `tools/ref/nn-ort-bench.js MODEL N T` (ONNX Runtime, intra-op
   threads = T) back to back, `--rounds` times with the order swapped each
   round, so both see the same machine load. Each side: 3 untimed warm-up
   runs, then the median of N. The ratio is taken within each round and the
   median over rounds is reported, with the range.
3. Runs BUILD/tests/nn/kernels/bench-conv 1 and 2 (conv GFLOP/s against
   cblas_sgemm on the same GEMM shapes), and `bench-conv T dw` (the
   MobileNetV2 depthwise layers' total time).
4. Prints a Markdown section; --write puts it into docs/benchmarks.md as
   "## CNN engine vs ONNX Runtime" (replacing an earlier one).

OPENBLAS_CORETYPE is passed through as it is set (the project pins it).
"""
import argparse
import datetime
import importlib.util
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MODELS = [("resnet18", "ResNet-18"), ("mobilenet_v2", "MobileNetV2"),
          ("squeezenet1_1", "SqueezeNet 1.1"), ("shufflenet_v2_x1_0", "ShuffleNetV2 x1.0"),
          ("densenet121", "DenseNet-121")]
TARGETS = {"resnet18": 2.0, "mobilenet_v2": 1.25}   # at most this x ORT's median
GEMM_TARGET = 0.8
SECTION = "## CNN engine vs ONNX Runtime"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def export(cache):
    """Export the models that are not in the cache yet."""
    todo = [m for m, _ in MODELS if not os.path.exists(os.path.join(cache, m + ".onnx"))]
    if not todo:
        return
    import torch
    spec = importlib.util.spec_from_file_location(
        "refs", os.path.join(ROOT, "tests", "nn", "make-torchvision-refs.py"))
    refs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(refs)
    os.makedirs(cache, exist_ok=True)
    for name in todo:
        ctor, shape = refs.MODELS[name][0], refs.MODELS[name][1]
        torch.manual_seed(0)
        model = ctor().eval()
        x = torch.rand(shape)
        tmp = os.path.join(cache, name + ".onnx.part")
        torch.onnx.export(model, x, tmp, opset_version=13, input_names=["input"],
                          output_names=["logits"])
        os.replace(tmp, os.path.join(cache, name + ".onnx"))
        print(f"exported {name}", file=sys.stderr)


def openblas_core():
    """The kernel set OpenBLAS picked (as the engine's process would, same
    environment): whether GEMMs run AVX2 or AVX-512 code matters here."""
    try:
        import ctypes
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return "unknown"


def parse_kv(text, what):
    """(median, min) in ms from the first output line"""
    m = re.search(r"median_ms=([0-9.]+) min_ms=([0-9.]+)", text)
    if not m:
        sys.exit(f"bench_engine: no median_ms/min_ms in the output of {what}:\n{text}")
    return float(m.group(1)), float(m.group(2))


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"bench_engine: {' '.join(cmd)} failed:\n{p.stdout}{p.stderr}")
    return p.stdout


def time_tl(build, model, runs, threads):
    out = run([os.path.join(build, "src", "cli", "tensorlens"), "bench", model,
               "--runs", str(runs), "--warmup", "3", "--threads", str(threads)])
    return parse_kv(out, "tensorlens bench")


def time_ort(model, runs, threads):
    env = dict(os.environ, NODE_PATH=os.path.join(ROOT, "tools", "ref", "node_modules"))
    out = run(["node", os.path.join(ROOT, "tools", "ref", "nn-ort-bench.js"), model,
               str(runs), str(threads)], env=env)
    return parse_kv(out, "nn-ort-bench.js")


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def bench_conv(build, threads):
    out = run([os.path.join(build, "tests", "nn", "kernels", "bench-conv"), str(threads)])
    rows = []
    for line in out.splitlines()[2:]:
        # name (with spaces), conv, +b+relu, sgemm, ratio
        parts = line.split()
        if len(parts) < 5:
            continue
        name = " ".join(parts[:-4])
        conv, fused, sgemm, ratio = parts[-4:]
        rows.append((name, float(conv), float(fused),
                     None if sgemm == "-" else float(sgemm),
                     None if ratio == "-" else float(ratio)))
    return rows


def bench_dw(build, threads):
    """Total microseconds of MobileNetV2's 17 depthwise layers (bench-conv T dw)."""
    out = run([os.path.join(build, "tests", "nn", "kernels", "bench-conv"), str(threads), "dw"])
    for line in out.splitlines():
        if line.startswith("total"):
            return float(line.split()[1])
    sys.exit("bench_engine: no total in the output of bench-conv dw")


def fmt(x):
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def machine_state(load0, load1):
    """How to read the absolute times: a 1-minute load average above ~2 on
    the 2 cores means other jobs were running alongside."""
    busy = max(float(load0.split()[0]), float(load1.split()[0]))
    if busy < 2.0:
        return "on 2 otherwise idle cores"
    return ("on 2 cores shared with other jobs: absolute times are inflated and noisy")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--cache", default=None)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    cache = a.cache or os.path.join(build, "bench-model-cache")
    threads = [int(t) for t in a.threads.split(",")]
    export(cache)

    load0 = loadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    res = {}   # (model, T) -> list of (tl_ms, ort_ms)
    for r in range(a.rounds):
        for t in threads:
            for m, _ in MODELS:
                path = os.path.join(cache, m + ".onnx")
                if r % 2 == 0:
                    tl = time_tl(build, path, a.runs, t)
                    ort = time_ort(path, a.runs, t)
                else:
                    ort = time_ort(path, a.runs, t)
                    tl = time_tl(build, path, a.runs, t)
                res.setdefault((m, t), []).append((tl, ort))
                print(f"round {r + 1} threads {t} {m}: tensorlens {tl[0]:.2f} ms "
                      f"(min {tl[1]:.2f}), ORT {ort[0]:.2f} ms (min {ort[1]:.2f}), "
                      f"ratio {tl[0] / ort[0]:.2f}", file=sys.stderr)
    conv = {t: bench_conv(build, t) for t in threads}
    dw = {t: bench_dw(build, t) for t in threads}
    load1 = loadavg()

    cmd = (f"tests/nn/bench/bench_engine.py BUILD --runs {a.runs} --rounds {a.rounds}"
           f"{' --write' if a.write else ''}")
    core = os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    L = [SECTION, "",
         f"`{cmd}` on {started:%Y-%m-%d %H:%M} UTC (BUILD = `buildtype=debugoptimized`), "
         f"OPENBLAS_CORETYPE={core} (OpenBLAS uses its {openblas_core()} kernels), ONNX Runtime = onnxruntime-node 1.30.0 (CPU provider, "
         f"`intraOpNumThreads` = T, `interOpNumThreads` = 1). Load average (1/5/15 min) "
         f"**{load0}** before and **{load1}** after, {machine_state(load0, load1)}; "
         f"the ratios are what count, each taken "
         f"between the two runtimes measured back to back in the same round.", "",
         f"Models: torchvision, random init (seed 0), exported to ONNX opset 13 with a static "
         f"1×3×224×224 input; both runtimes get uniform [0, 1) random inputs of that shape "
         f"(each its own generator: values do not change the work of these networks). "
         f"Each cell: {a.rounds} rounds × (3 warm-up runs, median of {a.runs} timed runs) per "
         f"runtime, tensorlens first in odd rounds and ONNX Runtime first in even ones; "
         f"the table gives the median over rounds of each runtime's median and of the "
         f"per-round ratio, with the ratio's range over rounds.", "",
         "The last column is the same ratio taken between the fastest runs (min over all "
         "rounds): the best case, when the cores happened to be free, which is less "
         "perturbed by the other jobs; the targets are judged on the median ratio.", "",
         "| model | threads | tensorlens median ms | ONNX Runtime median ms | ratio of medians (min–max over rounds) | target | met? | ratio of minima (ms/ms) |",
         "|---|---:|---:|---:|---:|---:|:-:|---:|"]
    verdicts = []
    for m, label in MODELS:
        for t in threads:
            v = res[(m, t)]
            ratios = [tl[0] / ort[0] for tl, ort in v]
            tmin = min(tl[1] for tl, _ in v)
            omin = min(ort[1] for _, ort in v)
            rat = median(ratios)
            tgt = TARGETS.get(m)
            met = "–" if tgt is None else ("met" if rat <= tgt else "**not met**")
            if tgt is not None:
                verdicts.append((label, t, rat, tgt, rat <= tgt))
            L.append(f"| {label} | {t} | {fmt(median([x[0] for x, _ in v]))} | "
                     f"{fmt(median([y[0] for _, y in v]))} | {rat:.2f}× "
                     f"({min(ratios):.2f}–{max(ratios):.2f}) | "
                     f"{'≤ %.2f×' % tgt if tgt else '–'} | {met} | "
                     f"{tmin / omin:.2f}× ({fmt(tmin)}/{fmt(omin)}) |")
    # ONNX Runtime slower with 2 threads than with 1: its spinning intra-op
    # pool lost the cores to other jobs, so ratios at T > 1 mostly measure
    # the load, not the engines; say so next to the table.
    if len(threads) > 1:
        slow = [label for m, label in MODELS
                if median([y[0] for _, y in res[(m, threads[-1])]])
                > median([y[0] for _, y in res[(m, threads[0])]])]
        if slow:
            L += ["", f"Caution: ONNX Runtime's median at T={threads[-1]} was slower than at "
                  f"T={threads[0]} for {', '.join(slow)}: its worker threads spin-wait and lose "
                  "the shared cores to other jobs (the engine's pool spins at most 100 µs), so the ratios at "
                  f"T={threads[-1]} for those models say more about the machine's load than "
                  "about the two engines."]
    L += ["", "Latency targets (batch 1): " + "; ".join(
        f"{lb} at {t} thread{'s' if t > 1 else ''}: {r:.2f}× vs ≤ {g:.2f}× — "
        f"{'met' if ok else 'NOT met'}" for lb, t, r, g, ok in verdicts) + ".", ""]

    L += ["Convolution GEMMs: `build/tests/nn/kernels/bench-conv T` in the same run: per layer "
          "4 rounds of (`conv` and `+b+relu` timed in turn for 0.25 s, then `sgemm` for 0.25 s), "
          "best of each, so that the noisy periods of the shared VM hit both sides. `conv` = "
          "`tl_conv2d_forward_packed` including im2col, no bias/activation (the same arithmetic "
          "as the GEMM; weights packed where the engine packs them, i.e. the 320→1280 layer on "
          "an AVX-512 CPU), on the engine's T threads (OpenBLAS kept at 1, GEMMs split by the engine); "
          "`sgemm` = `cblas_sgemm` alone on the same M×N×K with ready-made operands, on "
          "OpenBLAS's own T threads; ratio = conv / sgemm GFLOP/s, target ≥ "
          f"{GEMM_TARGET:.2f} for the GEMM layers (depthwise layers do not use a GEMM and have no "
          "sgemm column).", "",
          "| layer | " + " | ".join(f"T={t}: conv / +b+relu / sgemm GFLOP/s | ratio" for t in threads)
          + " | ≥ 0.8 |",
          "|---|" + "---:|---:|" * len(threads) + ":-:|"]
    gemm_ok = gemm_n = 0
    for i, row in enumerate(conv[threads[0]]):
        cells, oks = [], []
        for t in threads:
            name, c, f, s, r = conv[t][i]
            cells.append(f"{fmt(c)} / {fmt(f)} / {fmt(s) if s else '–'}")
            cells.append(f"{r:.2f}" if r is not None else "–")
            if r is not None:
                oks.append(r >= GEMM_TARGET)
        if oks:
            gemm_n += 1
            gemm_ok += all(oks)
        L.append(f"| {row[0]} | " + " | ".join(cells) + " | "
                 + ("–" if not oks else ("met" if all(oks) else "**not met**")) + " |")
    L += ["", f"GEMM target (≥ {GEMM_TARGET:.0%} of sgemm GFLOP/s at every thread count): "
          f"met on {gemm_ok} of {gemm_n} GEMM layers.", "",
          "MobileNetV2's 17 depthwise 3×3 layers with their fused bias + ReLU6 "
          "(`bench-conv T dw`, best of ≥ 3 repetitions each, summed): "
          + ", ".join(f"{dw[t] / 1000:.2f} ms at T={t}" for t in threads) + ".", ""]
    text = "\n".join(L)
    print(text)
    if a.write:
        doc = os.path.join(ROOT, "docs", "benchmarks.md")
        with open(doc) as f:
            old = f.read()
        i = old.find(SECTION)
        if i >= 0:
            j = old.find("\n## ", i + len(SECTION))
            new = old[:i] + text + ("\n" + old[j + 1:] if j >= 0 else "")
        else:
            new = old.rstrip("\n") + "\n\n" + text
        with open(doc, "w") as f:
            f.write(new)


if __name__ == "__main__":
    main()
