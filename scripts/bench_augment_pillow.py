#!/usr/bin/env python3
"""Times Pillow's bilinear rotation (what torchvision's RandomRotation calls on
PIL images) on the same fixture images as `cargo bench --bench augment_throughput`,
for the ratio in docs/benchmarks.md. Needs `pip install pillow`.

    python3 scripts/bench_augment_pillow.py [--threads 2]
"""
import argparse
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from bench_common import best_of, fixture_paths


def rotate3(img, i):
    # Three copies, as the paper's policy; Pillow turns counter-clockwise too.
    return [img.rotate((k * 7.0 - 7.0) + (i % 5), resample=Image.BILINEAR, fillcolor=(0, 0, 0)) for k in range(3)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    faces = [Image.open(p).convert("RGB") for p in fixture_paths()]
    for f in faces:
        f.load()
    face = faces[0]

    n = 500
    t = best_of(lambda: [face.rotate(13.7, resample=Image.BILINEAR, fillcolor=(0, 0, 0)) for _ in range(n)])
    print(f"pillow rotate_one_250x250: {n / t:.1f} images/s ({t / n * 1e3:.3f} ms each)")

    batch = [faces[i % len(faces)] for i in range(64)]
    with ThreadPoolExecutor(args.threads) as pool:
        t = best_of(lambda: list(pool.map(rotate3, batch, range(len(batch)))))
    print(f"pillow policy_batch64_{args.threads}threads paper_3x_rotate: {len(batch) / t:.1f} source images/s")


if __name__ == "__main__":
    main()
