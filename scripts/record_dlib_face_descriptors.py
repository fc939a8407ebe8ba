#!/usr/bin/env python3
"""Records the real dlib's face chips and 128-d face descriptors on fixture
faces, the reference that `crates/maskface-nets/tests/face_resnet_dlib.rs`
and `crates/maskface-mask/tests/face_chip_dlib.rs` compare against.

Uses `pip install dlib-bin numpy pillow` and the models that
scripts/setup.sh puts in models/. The inputs are the lossless landmark
fixtures (fixtures/landmarks/*.png), so both sides read the same pixels, plus
one of them enlarged 3x (written here, PNG), whose face is more than twice
the chip's size: dlib then samples from an image pyramid. For each image it
writes dlib's 68 and 5 points (from dlib's HOG detector, upsample 1), the
150x150 chips from both point sets (PNG) and the descriptor of each chip.

    python3 scripts/record_dlib_face_descriptors.py \
        > fixtures/face_chips/dlib_face_reference.json
"""
import glob
import json
import os

import dlib
import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = "fixtures/face_chips"


def main():
    models = os.path.join(ROOT, "models")
    sp68 = dlib.shape_predictor(os.path.join(models, "shape_predictor_68_face_landmarks.dat"))
    sp5 = dlib.shape_predictor(os.path.join(models, "shape_predictor_5_face_landmarks.dat"))
    rec = dlib.face_recognition_model_v1(os.path.join(models, "dlib_face_recognition_resnet_model_v1.dat"))
    detector = dlib.get_frontal_face_detector()

    inputs = []
    for path in sorted(glob.glob(os.path.join(ROOT, "fixtures/landmarks/*.png"))):
        name = os.path.basename(path)[:-4]
        if name.endswith("_edge"):
            continue  # half a face: dlib finds none
        inputs.append((name, "fixtures/landmarks/" + os.path.basename(path)))
    big = Image.open(os.path.join(ROOT, "fixtures/landmarks/clare_short_0002.png")).convert("RGB")
    big = big.resize((big.width * 3, big.height * 3), Image.BILINEAR)
    big.save(os.path.join(ROOT, OUT, "clare_short_0002_x3.png"), optimize=True)
    inputs.append(("clare_short_0002_x3", OUT + "/clare_short_0002_x3.png"))

    out = {"dlib_version": dlib.__version__, "padding": 0.25, "size": 150, "faces": []}
    for name, rel in inputs:
        a = np.asarray(Image.open(os.path.join(ROOT, rel)).convert("RGB"))
        dets = detector(a, 1)
        if len(dets) == 0:
            continue
        box = max(dets, key=lambda r: r.area())
        face = {"name": name, "image": rel,
                "box": [box.left(), box.top(), box.right(), box.bottom()]}
        for key, sp in (("68", sp68), ("5", sp5)):
            shape = sp(a, box)
            chip = dlib.get_face_chip(a, shape, size=150, padding=0.25)
            chip_rel = f"{OUT}/{name}_chip{key}.png"
            Image.fromarray(chip).save(os.path.join(ROOT, chip_rel), optimize=True)
            descriptor = rec.compute_face_descriptor(chip)
            face["points" + key] = [[p.x, p.y] for p in shape.parts()]
            face["chip" + key] = chip_rel
            face["descriptor" + key] = [float(v) for v in descriptor]
        out["faces"].append(face)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
