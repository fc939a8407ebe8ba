#!/usr/bin/env python3
"""Times dlib's own face descriptors (pip install dlib-bin; what
face_recognition's `face_encodings` runs) on 32 aligned 150x150 chips of the
fixtures, as `cargo bench --bench embed_throughput` does: one call with the
batch of 32 (dlib runs a batch through the network at once), and the chips
split over a 2-thread pool (one network per thread), for the ratio in
docs/benchmarks.md.

    python3 scripts/bench_dlib_face_descriptor.py [--threads 2]
"""
import argparse
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import dlib
import numpy as np
from PIL import Image

from bench_common import best_of, fixture_paths

MODELS = os.path.join(os.path.dirname(__file__), "..", "models")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    detector = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(os.path.join(MODELS, "shape_predictor_68_face_landmarks.dat"))
    model = os.path.join(MODELS, "dlib_face_recognition_resnet_model_v1.dat")
    rec = dlib.face_recognition_model_v1(model)
    chips = []
    for p in fixture_paths():
        im = np.asarray(Image.open(p).convert("RGB"))
        dets = detector(im, 1)
        if dets:
            chips.append(dlib.get_face_chip(im, sp(im, dets[0]), size=150, padding=0.25))
    batch = [chips[i % len(chips)] for i in range(32)]

    t = best_of(lambda: rec.compute_face_descriptor(batch), repeats=3)
    print(f"dlib {dlib.__version__} compute_face_descriptor, batch of 32 in one call: "
          f"{len(batch) / t:.1f} faces/s")
    t1 = best_of(lambda: rec.compute_face_descriptor(batch[0]), repeats=10)
    print(f"  one chip: {1 / t1:.1f} faces/s ({t1 * 1e3:.1f} ms)")

    local = threading.local()

    def embed(part):
        if not hasattr(local, "rec"):
            local.rec = dlib.face_recognition_model_v1(model)
        return local.rec.compute_face_descriptor(part)

    halves = [batch[k::args.threads] for k in range(args.threads)]
    with ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(embed, halves))
        t = best_of(lambda: list(pool.map(embed, halves)), repeats=3)
    print(f"  32 chips over {args.threads} threads: {len(batch) / t:.1f} faces/s")


if __name__ == "__main__":
    main()
