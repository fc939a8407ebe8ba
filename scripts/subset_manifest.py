#!/usr/bin/env python3
"""Writes a smaller copy of a maskface manifest for timing runs: every
TRAIN-th training sample and every VAL-th validation sample (test samples
are left out), beside the manifest's own sidecar so maskface reads it.

Usage: python3 scripts/subset_manifest.py MANIFEST OUT.csv [--train 52] [--val 8]

docs/results.md times the paper's networks on
`data/paper/augmented/timing.csv` made with the defaults.
"""

import argparse
import csv
import shutil
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--train", type=int, default=52, help="keep every N-th training sample")
    parser.add_argument("--val", type=int, default=8, help="keep every N-th validation sample")
    args = parser.parse_args()
    if args.out.parent.resolve() != args.manifest.parent.resolve():
        parser.error("OUT must sit beside MANIFEST: sample paths are relative to its folder")
    with args.manifest.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    split = header.index("split")
    every = {"train": args.train, "val": args.val}
    seen = {"train": 0, "val": 0}
    kept = [header]
    for row in body:
        s = row[split]
        if s not in every:
            continue
        seen[s] += 1
        if seen[s] % every[s] == 0:
            kept.append(row)
    tmp = args.out.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as f:
        csv.writer(f).writerows(kept)
    tmp.replace(args.out)
    shutil.copyfile(args.manifest.with_suffix(".json"), args.out.with_suffix(".json"))
    counts = {s: sum(r[split] == s for r in kept[1:]) for s in every}
    print(f"{args.out}: {counts['train']} training and {counts['val']} validation samples")


if __name__ == "__main__":
    main()
