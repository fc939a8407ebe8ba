#!/usr/bin/env python3
"""Checks the figures of a `maskface run` output folder against floors.

Usage: python3 scripts/check_run_results.py DATA_DIR

The floors sit below the figures docs/results.md reports (99.5% closed set,
DIR 95.9% at FPIR 1%, AUROC 0.995) by the spread seen between training runs,
and far above dlib's network without fine-tuning (DIR 69-74%), so a change
that breaks fine-tuning, the cohort head or the open-set test fails here.
The held-out protocol (people outside training enrolled unmasked, probed in
unseen masks) has floors below the installed network's figures (rank-1
88.4%, DIR 44.2% at FPIR 1%) and above dlib's network (68.7%, 22.4%).
The mask classifier, fitted on other people in the training masks, must
find the held-out masks and leave unmasked faces unmasked (99% each when
measured).
"""
import json
import sys
from pathlib import Path

FLOORS = {
    "closed-set accuracy": 0.985,
    "AUROC": 0.98,
    "DIR at FPIR 1%": 0.90,
    "held-out rank-1": 0.80,
    "held-out DIR at FPIR 1%": 0.30,
    "mask classifier, held-out masks found": 0.95,
    "mask classifier, unmasked faces left": 0.95,
}


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    data = Path(sys.argv[1])
    recognize = json.loads((data / "recognize" / "report.json").read_text())
    openset = json.loads((data / "openset-resnet" / "report.json").read_text())
    baseline = json.loads((data / "openset-dlib" / "report.json").read_text())

    def dir_at_1(report, score):
        r = next(r for r in report["reports"] if r["score"] == score)
        p = next(p for p in r["operating_points"] if abs(p["target_fpir"] - 0.01) < 1e-9)
        return r["auroc"], p["dir"]

    auroc, dir1 = dir_at_1(openset, "max_logit")
    _, dlib_dir1 = dir_at_1(baseline, "confidence")
    heldout = json.loads((data / "heldout" / "report-held-out.json").read_text())
    unmasked = json.loads((data / "heldout" / "report-none.json").read_text())
    got = {
        "closed-set accuracy": recognize["accuracy"],
        "AUROC": auroc,
        "DIR at FPIR 1%": dir1,
        "held-out rank-1": heldout["rank1"],
        "held-out DIR at FPIR 1%": heldout["at_fpir_1"]["dir"],
        "mask classifier, held-out masks found": heldout["found_masked"],
        "mask classifier, unmasked faces left": 1.0 - unmasked["found_masked"],
    }
    failed = False
    for name, floor in FLOORS.items():
        ok = got[name] >= floor
        failed |= not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {got[name]:.4f} (floor {floor})")
    if dir1 <= dlib_dir1:
        failed = True
        print(f"FAIL fine-tuning does not beat dlib's network: DIR {dir1:.4f} vs {dlib_dir1:.4f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
