#!/usr/bin/env python3
"""Records the real dlib's shape predictors on fixture faces, as the reference
that `crates/maskface-mask/tests/shape_predictor_dlib.rs` compares the pure
Rust predictor against.

Uses `pip install dlib-bin numpy pillow` and the models that
scripts/setup.sh puts in models/. From three faces of fixtures/lfw-mini it
makes six cases, each saved as a PNG (lossless, so that both sides read the
same pixels; JPEG decoders differ by a grey level here and there): upright
faces, a face rotated by 25 degrees, a face cut by the image border, and a
box shifted and enlarged away from the detector's. For each case it writes
the box and dlib's 68 and 5 points (dlib rounds them to whole pixels).

    python3 scripts/record_dlib_shape_reference.py \
        > fixtures/landmarks/dlib_shape_reference.json
"""
import json
import os
import sys

import dlib
import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = "fixtures/landmarks"


def main():
    models = os.path.join(ROOT, "models")
    sp68 = dlib.shape_predictor(os.path.join(models, "shape_predictor_68_face_landmarks.dat"))
    sp5 = dlib.shape_predictor(os.path.join(models, "shape_predictor_5_face_landmarks.dat"))
    detector = dlib.get_frontal_face_detector()

    def load(rel):
        return Image.open(os.path.join(ROOT, "fixtures/lfw-mini", rel)).convert("RGB")

    # (name, image, box or None to detect)
    cases = []
    for rel in ["Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Clare_Short/Clare_Short_0002.jpg",
                "Barbra_Streisand/Barbra_Streisand_0001.jpg"]:
        name = os.path.basename(rel)[:-4].lower()
        cases.append((name, load(rel).crop((50, 50, 200, 200)), None))
    rotated = load("Abel_Pacheco/Abel_Pacheco_0001.jpg").rotate(25, resample=Image.BILINEAR)
    cases.append(("abel_pacheco_0001_rot25", rotated.crop((50, 50, 200, 200)), None))
    # The face's left third is cut off by the border.
    cases.append(("aaron_peirsol_0001_edge", load("Aaron_Peirsol/Aaron_Peirsol_0001.jpg").crop((110, 50, 230, 200)),
                  None))
    cases.append(("clare_short_0002_shifted_box", cases[1][1], "shift"))

    out = {"dlib_version": dlib.__version__, "cases": []}
    for name, img, how in cases:
        path = f"{OUT}/{name}.png" if how != "shift" else f"{OUT}/clare_short_0002.png"
        if how != "shift":
            img.save(os.path.join(ROOT, path), optimize=True)
        a = np.asarray(img)
        dets = detector(a, 1)
        if len(dets) == 0:
            h, w = a.shape[:2]
            box = dlib.rectangle(w // 2 - 50, h // 2 - 45, w // 2 + 50, h // 2 + 55)
        else:
            box = max(dets, key=lambda r: r.area())
        if how == "shift":
            box = dlib.rectangle(box.left() + 9, box.top() - 6, box.right() + 21, box.bottom() + 14)
        if name.endswith("_edge"):
            # Extend the box past the left border, where the face continues.
            box = dlib.rectangle(box.left() - 30, box.top(), box.right(), box.bottom())
        s68, s5 = sp68(a, box), sp5(a, box)
        out["cases"].append({
            "name": name,
            "image": path,
            "box": [box.left(), box.top(), box.right(), box.bottom()],
            "detected": len(dets) > 0,
            "points68": [[s68.part(i).x, s68.part(i).y] for i in range(68)],
            "points5": [[s5.part(i).x, s5.part(i).y] for i in range(5)],
        })
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
