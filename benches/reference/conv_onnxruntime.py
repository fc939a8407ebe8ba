#!/usr/bin/env python3
"""The reference for `cargo bench --bench conv`: the same convolutions
(benches/conv_shapes.csv) through ONNX Runtime's CPU engine, forward only,
with as many threads as the machine has cores, and the machine's fp32 peak.

    pip install onnx onnxruntime
    python3 benches/reference/conv_onnxruntime.py [--batches 1,8,32] [--out FILE]

Writes target/conv-reference/onnxruntime.json (by default): per shape and
batch the median seconds of one run and its GFLOP/s (a multiply-add counts
as two operations, as in the Rust benchmark), and the peak it assumed.
"""

import argparse
import csv
import json
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ROOT / "benches" / "conv_shapes.csv"


def shapes():
    with open(SHAPES, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k in r:
            if k != "name":
                r[k] = int(r[k])
    return rows


def output_size(s):
    oh = (s["height"] + 2 * s["pad_h"] - s["kernel_h"]) // s["stride"] + 1
    ow = (s["width"] + 2 * s["pad_w"] - s["kernel_w"]) // s["stride"] + 1
    return oh, ow


def forward_flop(s, batch):
    oh, ow = output_size(s)
    return 2 * batch * s["out_channels"] * oh * ow * s["in_channels"] * s["kernel_h"] * s["kernel_w"]


def cpu_peak():
    """fp32 peak: cores x clock x FLOP per cycle per core.

    FLOP per cycle: 32 for AVX2 with FMA (two 256-bit FMA units: 2 x 8 lanes x
    2) and for AMD's AVX-512 on Zen 4 (CPU family 25: 512-bit FMAs made of
    two 256-bit halves); 64 for AVX-512 with two full 512-bit FMA units
    (AMD's Zen 5, family 26, and Intel's server parts);
    MASKFACE_FLOP_PER_CYCLE overrides it. The clock is the highest `cpu MHz`
    in /proc/cpuinfo (the nominal clock on a virtual machine; boost clocks
    go above it, so the share of peak can pass 100%)."""
    cores = os.cpu_count() or 1
    mhz, flags, vendor, family = 0.0, set(), "", 0
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "cpu MHz":
                mhz = max(mhz, float(value))
            elif key == "flags" and not flags:
                flags = set(value.split())
            elif key == "vendor_id":
                vendor = value.strip()
            elif key == "cpu family":
                family = int(value)
    except OSError:
        pass
    if "MASKFACE_FLOP_PER_CYCLE" in os.environ:
        per_cycle = int(os.environ["MASKFACE_FLOP_PER_CYCLE"])
    elif "avx512f" in flags:
        per_cycle = 32 if vendor == "AuthenticAMD" and family < 26 else 64
    elif "fma" in flags and "avx2" in flags:
        per_cycle = 32
    else:
        per_cycle = 8
    return {
        "cores": cores,
        "vendor": vendor,
        "family": family,
        "mhz": mhz,
        "flop_per_cycle": per_cycle,
        "peak_gflops": cores * mhz * 1e-3 * per_cycle,
    }


def conv_model(s, batch):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    import numpy as np

    rng = np.random.default_rng(0)
    kh, kw = s["kernel_h"], s["kernel_w"]
    w = rng.standard_normal((s["out_channels"], s["in_channels"], kh, kw), dtype=np.float32)
    b = rng.standard_normal(s["out_channels"], dtype=np.float32)
    oh, ow = output_size(s)
    node = helper.make_node(
        "Conv",
        ["x", "w", "b"],
        ["y"],
        kernel_shape=[kh, kw],
        strides=[s["stride"]] * 2,
        pads=[s["pad_h"], s["pad_w"], s["pad_h"], s["pad_w"]],
    )
    graph = helper.make_graph(
        [node],
        s["name"],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, s["in_channels"], s["height"], s["width"]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, s["out_channels"], oh, ow])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def time_one(s, batch, threads, min_seconds):
    import numpy as np
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(conv_model(s, batch), opts, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).standard_normal(
        (batch, s["in_channels"], s["height"], s["width"]), dtype=np.float32
    )
    for _ in range(3):
        sess.run(None, {"x": x})
    runs, start = [], time.perf_counter()
    while len(runs) < 10 or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        sess.run(None, {"x": x})
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", default="1,8,32")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--min-seconds", type=float, default=1.0)
    p.add_argument("--out", type=Path, default=ROOT / "target" / "conv-reference" / "onnxruntime.json")
    a = p.parse_args()
    import onnxruntime as ort

    batches = [int(b) for b in a.batches.split(",") if b.strip()]
    results = []
    for s in shapes():
        for batch in batches:
            secs = time_one(s, batch, a.threads, a.min_seconds)
            gflops = forward_flop(s, batch) / secs * 1e-9
            results.append({"shape": s["name"], "batch": batch, "seconds": secs, "gflops": gflops})
            print(f"{s['name']:32} batch {batch:3}  {secs * 1e3:9.3f} ms  {gflops:7.1f} GFLOP/s", flush=True)
    report = {"onnxruntime": ort.__version__, "threads": a.threads, "machine": cpu_peak(), "results": results}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1))
    tmp.replace(a.out)
    m = report["machine"]
    print(f"peak: {m['cores']} cores x {m['mhz']:.0f} MHz x {m['flop_per_cycle']} FLOP/cycle = {m['peak_gflops']:.0f} GFLOP/s")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
