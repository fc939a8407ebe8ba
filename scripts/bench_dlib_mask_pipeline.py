#!/usr/bin/env python3
"""Times the masked-dataset pipeline done with dlib in Python, the reference
for `cargo bench --bench mask_throughput` (same 32 images, the fixtures
cycled, same 2 threads): dlib's HOG detector (upsampling once, as
face_recognition runs it), the 68-point model, the paper's mask polygon
(points 2..=14 and 28) filled with Pillow, the upper half of the face crop
resized to 160x80, PNG encoding. Also the 68-point model alone per face.

    pip install dlib-bin numpy pillow
    python3 scripts/bench_dlib_mask_pipeline.py [--threads 2]

With --manifest, the whole job instead, as `maskface generate --variants
masked-upper` does it: every image of a manifest decoded from --root, the
upper part written as PNG under --out, the wall time of the whole process
(models loaded included) printed at the end:

    python3 scripts/bench_dlib_mask_pipeline.py --manifest data/curated/manifest.csv \
        --root data/lfw --out /tmp/dlib-masked
"""
import csv
import os
import argparse
import io
import threading
import time

START = time.perf_counter()
from concurrent.futures import ThreadPoolExecutor

import dlib
import numpy as np
from PIL import Image, ImageDraw

from bench_common import best_of, fixture_paths

MODEL = "models/shape_predictor_68_face_landmarks.dat"
OUTLINE = list(range(2, 15)) + [28]
COLORS = [(0, 0, 0), (255, 255, 255), (135, 206, 250)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--manifest", help="a maskface manifest: mask every image it lists")
    ap.add_argument("--root", default="data/lfw", help="where the manifest's paths start")
    ap.add_argument("--out", default="target/dlib-masked", help="where --manifest writes")
    args = ap.parse_args()
    predictor = dlib.shape_predictor(MODEL)
    local = threading.local()

    def detector():
        # One detector per thread: sharing one across threads crashes dlib.
        if not hasattr(local, "detector"):
            local.detector = dlib.get_frontal_face_detector()
        return local.detector

    def one(k_img):
        png = masked_upper(k_img)
        return 0 if png is None else len(png)

    def masked_upper(k_img):
        k, img = k_img
        h, w = img.shape[:2]
        dets = detector()(img, 1)
        if len(dets) == 0:
            return None
        d = min(dets, key=lambda r: ((r.left() + r.right()) / 2 - w / 2) ** 2
                + ((r.top() + r.bottom()) / 2 - h / 2) ** 2)
        shape = predictor(img, d)
        pts = [(shape.part(i).x, shape.part(i).y) for i in OUTLINE]
        pil = Image.fromarray(img)
        ImageDraw.Draw(pil).polygon(pts, fill=COLORS[k % 3])
        top = max(1, shape.part(28).y)
        upper = pil.crop((max(0, d.left()), max(0, d.top() - d.height() // 4), min(w, d.right()), top))
        buf = io.BytesIO()
        upper.resize((160, 80), Image.BILINEAR).save(buf, format="PNG")
        return buf.getvalue()

    if args.manifest:
        whole_job(args, masked_upper)
        return

    imgs = [np.asarray(Image.open(p).convert("RGB")) for p in fixture_paths()]
    batch = [imgs[i % len(imgs)] for i in range(32)]

    det0 = dlib.get_frontal_face_detector()
    boxes = [max(det0(im, 1), key=lambda r: r.area()) for im in batch]
    t = best_of(lambda: [predictor(im, b) for im, b in zip(batch, boxes)])
    print(f"dlib {dlib.__version__} 68 landmarks, 1 thread: {t / len(batch) * 1e3:.3f} ms per face")
    with ThreadPoolExecutor(args.threads) as pool:
        t = best_of(lambda: list(pool.map(lambda im_b: predictor(*im_b), zip(batch, boxes))))
        print(f"dlib 68 landmarks, {args.threads} threads: {len(batch) / t:.1f} faces/s")
        t = best_of(lambda: list(pool.map(one, enumerate(batch))))
        print(f"dlib pipeline (HOG upsample 1 + 68 points + paper mask + upper half + PNG), "
              f"{args.threads} threads: {len(batch) / t:.1f} images/s ({t / len(batch) * 1e3:.2f} ms each)")


def whole_job(args, masked_upper):
    """Decode, mask and write every image the manifest lists, on --threads."""
    with open(args.manifest, newline="") as f:
        paths = [row["path"] for row in csv.DictReader(f)]

    def job(k_path):
        k, path = k_path
        img = np.asarray(Image.open(os.path.join(args.root, path)).convert("RGB"))
        png = masked_upper((k, img))
        if png is None:
            return False
        out = os.path.join(args.out, os.path.splitext(path)[0] + ".png")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(png)
        return True

    with ThreadPoolExecutor(args.threads) as pool:
        written = sum(pool.map(job, enumerate(paths)))
    seconds = time.perf_counter() - START
    print(f"dlib {dlib.__version__} whole job, {args.threads} threads: {len(paths)} images, "
          f"{written} masked, {seconds:.2f} s ({len(paths) / seconds:.1f} images/s)")


if __name__ == "__main__":
    main()
