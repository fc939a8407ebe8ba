#!/usr/bin/env python3
"""Records dlib's face boxes and 68 landmarks on LFW images, as the reference
that maskface's detector and landmark tests compare against.

Uses the real dlib (`pip install dlib-bin`): the HOG frontal face detector
(upsampling once) and shape_predictor_68_face_landmarks.dat from models/.
Images: the authors' test split (seed-split/test.csv, 196 images), read from
the LFW folder. For each image it keeps dlib's most central face.

    python3 scripts/record_dlib_landmarks.py data/lfw data/seed-split models \
        > fixtures/reference/dlib_hog68_seed_test.json
"""
import csv
import json
import os
import sys

import dlib
import numpy as np
from PIL import Image


def main():
    lfw, seed_split, models = (sys.argv[1:4] + ["data/lfw", "data/seed-split", "models"][len(sys.argv[1:4]):])[:3]
    names = {}
    with open(os.path.join(seed_split, "target_names.csv")) as f:
        for row in csv.reader(f):
            if row and row[0].isdigit():
                names[int(row[0])] = row[1]
    files = []
    with open(os.path.join(seed_split, "test.csv")) as f:
        for row in csv.DictReader(f):
            files.append(f"{names[int(row['label_train'])]}/{row['img_train']}")

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(os.path.join(models, "shape_predictor_68_face_landmarks.dat"))
    out = {"dlib_version": dlib.__version__, "detector": "hog frontal, upsample 1",
           "landmarks": "shape_predictor_68_face_landmarks", "images": {}}
    for rel in files:
        img = np.asarray(Image.open(os.path.join(lfw, rel)).convert("RGB"))
        h, w = img.shape[:2]
        dets = detector(img, 1)
        if len(dets) == 0:
            out["images"][rel] = None
            continue
        d = min(dets, key=lambda r: ((r.left() + r.right()) / 2 - w / 2) ** 2 + ((r.top() + r.bottom()) / 2 - h / 2) ** 2)
        shape = predictor(img, d)
        out["images"][rel] = {
            "box": [d.left(), d.top(), d.right(), d.bottom()],
            "points": [[shape.part(i).x, shape.part(i).y] for i in range(68)],
        }
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
    print()


if __name__ == "__main__":
    main()
