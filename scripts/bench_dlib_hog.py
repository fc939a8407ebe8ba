#!/usr/bin/env python3
"""Times dlib's HOG face detector (pip install dlib-bin; what face_recognition
uses by default) on the same 32 images as `cargo bench --bench detect_throughput`
(the fixtures cycled), on a 2-thread pool, for the ratio in docs/benchmarks.md.

    python3 scripts/bench_dlib_hog.py [--threads 2]
"""
import argparse
import threading
from concurrent.futures import ThreadPoolExecutor

import dlib
import numpy as np
from PIL import Image

from bench_common import best_of, fixture_paths


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    paths = fixture_paths()
    imgs = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    batch = [imgs[i % len(imgs)] for i in range(32)]
    # One detector per thread: sharing one across threads crashes dlib.
    local = threading.local()

    def detect(im, upsample):
        if not hasattr(local, "detector"):
            local.detector = dlib.get_frontal_face_detector()
        return local.detector(im, upsample)

    detector = dlib.get_frontal_face_detector()
    with ThreadPoolExecutor(args.threads) as pool:
        for upsample in (0, 1):
            t = best_of(lambda: list(pool.map(lambda im: detect(im, upsample), batch)))
            found = sum(1 for im in imgs if len(detector(im, upsample)) > 0)
            print(f"dlib {dlib.__version__} HOG upsample={upsample}, {args.threads} threads: "
                  f"{len(batch) / t:.1f} images/s ({t / len(batch) * 1e3:.2f} ms each); "
                  f"faces found in {found}/{len(imgs)} fixtures")


if __name__ == "__main__":
    main()
