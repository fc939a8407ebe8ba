#!/usr/bin/env python3
"""The table of docs/benchmarks.md's convolution section: criterion's
results of `cargo bench --bench conv` beside ONNX Runtime's
(conv_onnxruntime.py), as GFLOP/s, the ratio to ONNX Runtime and the share
of the machine's fp32 peak.

    python3 benches/reference/conv_table.py [--criterion target/criterion]
        [--reference target/conv-reference/onnxruntime.json] [--batches 8]
        [--drift target/conv-reference/onnxruntime-after.json]

Run both benchmarks in one sitting: the machine's load moves both.
"""

import argparse
import json
import statistics
from pathlib import Path

from conv_onnxruntime import ROOT, forward_flop, shapes


def criterion_seconds(root, group, shape, batch):
    f = root / group / shape / str(batch) / "new" / "estimates.json"
    if not f.is_file():
        return None
    est = json.loads(f.read_text())
    return est["mean"]["point_estimate"] * 1e-9


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--criterion", type=Path, default=ROOT / "target" / "criterion")
    p.add_argument("--reference", type=Path, default=ROOT / "target" / "conv-reference" / "onnxruntime.json")
    p.add_argument("--batches", default="1,8,32")
    p.add_argument(
        "--drift",
        type=Path,
        help="a second ONNX Runtime run: print how far the machine moved between the two",
    )
    a = p.parse_args()
    ref = json.loads(a.reference.read_text())
    peak = ref["machine"]["peak_gflops"]
    ort = {(r["shape"], r["batch"]): r["gflops"] for r in ref["results"]}
    backends = sorted(
        d.name[len("conv_forward_"):] for d in a.criterion.glob("conv_forward_*") if d.is_dir()
    )
    batches = [int(b) for b in a.batches.split(",") if b.strip()]

    head = ["shape", "batch", "ONNX Runtime fwd"]
    for b in backends:
        head += [f"{b} fwd", f"{b} / ORT", f"{b} fwd % peak", f"{b} fwd+bwd", f"{b} fwd+bwd % peak"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for s in shapes():
        for batch in batches:
            flop = forward_flop(s, batch)
            o = ort.get((s["name"], batch))
            row = [s["name"], str(batch), f"{o:.1f}" if o else "-"]
            for b in backends:
                fwd = criterion_seconds(a.criterion, f"conv_forward_{b}", s["name"], batch)
                bwd = criterion_seconds(a.criterion, f"conv_backward_{b}", s["name"], batch)
                g = flop / fwd * 1e-9 if fwd else None
                gb = 3 * flop / bwd * 1e-9 if bwd else None
                row += [
                    f"{g:.1f}" if g else "-",
                    f"{g / o:.2f}" if g and o else "-",
                    f"{100 * g / peak:.0f}%" if g else "-",
                    f"{gb:.1f}" if gb else "-",
                    f"{100 * gb / peak:.0f}%" if gb else "-",
                ]
            print("| " + " | ".join(row) + " |")
    if a.drift:
        other = json.loads(a.drift.read_text())
        moved = [r["gflops"] / ort[(r["shape"], r["batch"])] for r in other["results"]
                 if (r["shape"], r["batch"]) in ort]
        print()
        print(
            f"ONNX Runtime, {a.drift.name} against {a.reference.name}: median {statistics.median(moved):.2f}x, "
            f"from {min(moved):.2f}x to {max(moved):.2f}x over {len(moved)} rows."
        )
    m = ref["machine"]
    print()
    print(
        f"GFLOP/s. Peak: {m['cores']} cores x {m['mhz']:.0f} MHz x {m['flop_per_cycle']} FLOP/cycle = "
        f"{peak:.0f} GFLOP/s; ONNX Runtime {ref['onnxruntime']} on {ref['threads']} threads."
    )


if __name__ == "__main__":
    main()
