#!/usr/bin/env python3
"""Records reference MTCNN detections (boxes, scores, five landmarks) for
crates/maskface-nets/tests/mtcnn_reference.rs.

An independent implementation: a numpy port of facenet-pytorch 2.6.0's
`detect_face` (models/utils/detect_face.py) and of its PNet / RNet / ONet
(models/mtcnn.py), run in float32 over the same `pnet.pt`, `rnet.pt`,
`onet.pt`, read without torch by scripts/record_pt_reference.py's pickle
reader. Parameters: `MTCNN()`'s (min face 20, factor 0.709, thresholds
0.6 / 0.7 / 0.7), which are also maskface's defaults.

JPEG decoders differ: Pillow's libjpeg-turbo and the `image` crate's
decoder disagree on 14% of the values of these JPEGs (by up to 18 grey
levels), and that alone moves MTCNN's boxes by several pixels. So the
reference runs on the pixels maskface decodes, dumped as PNGs by the test's
ignored `dump_decoded_images` (`--decoded DIR`); without `--decoded` it
decodes with Pillow, as a facenet-pytorch user would. Each entry records a CRC-32 of the
RGB bytes it ran on, which the test checks first.

Images: the detection fixtures (tests/fixtures/lfw-mini, 16 JPEGs, and the
face chips in tests/fixtures/face_chips, 10 PNGs) and the authors' 196 test
images (seed-split/test.csv, read from the LFW folder).

    MASKFACE_DUMP_DECODED=/tmp/decoded cargo test -p maskface-nets \\
        --test mtcnn_reference -- --ignored dump_decoded_images
    python3 scripts/record_mtcnn_reference.py --decoded /tmp/decoded models ../shared \\
        > crates/maskface-nets/tests/fixtures/mtcnn/reference_detections.json

Needs numpy and Pillow only.
"""
import csv
import json
import math
import os
import sys
import zlib

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record_pt_reference import read_legacy  # noqa: E402

CRATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "maskface-nets")
MIN_FACE, FACTOR, THRESHOLDS = 20, 0.709, (0.6, 0.7, 0.7)
F32 = np.float32


# --- weights -----------------------------------------------------------------

def load_weights(path):
    """State dict of a legacy torch file as float32 arrays (strides honoured)."""
    out = {}
    for key, t in read_legacy(path).items():
        data = np.asarray(t.storage.data, dtype=F32)
        strided = np.lib.stride_tricks.as_strided(
            data[t.offset:], shape=t.size, strides=[s * 4 for s in t.stride])
        out[key] = np.ascontiguousarray(strided)
    return out


# --- layers (NCHW, float32) --------------------------------------------------

def conv(x, w, b):
    """Conv2d, stride 1, no padding."""
    k = w.shape[2]
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))  # N C H W k k
    y = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))  # N H W O
    return (y.transpose(0, 3, 1, 2) + b[None, :, None, None]).astype(F32)


def prelu(x, a):
    a = a.reshape((1, -1) + (1,) * (x.ndim - 2))
    return np.where(x >= 0, x, a * x).astype(F32)


def maxpool(x, k, s):
    """MaxPool2d(k, s, ceil_mode=True): a last window may hang over the edge
    but must start inside the input."""
    n, c, h, w = x.shape

    def out_len(size):
        o = math.ceil((size - k) / s) + 1
        return o - 1 if (o - 1) * s >= size else o

    oh, ow = out_len(h), out_len(w)
    padded = np.full((n, c, (oh - 1) * s + k, (ow - 1) * s + k), -np.inf, dtype=F32)
    padded[:, :, :h, :w] = x
    win = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    return win.max(axis=(4, 5))


def softmax(x, axis=1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(F32)


def linear(x, p, name):
    return (x @ p[name + ".weight"].T + p[name + ".bias"]).astype(F32)


def flatten_whc(x):
    """facenet-pytorch's `x.permute(0, 3, 2, 1)` before the dense layers."""
    return np.ascontiguousarray(x.transpose(0, 3, 2, 1)).reshape(x.shape[0], -1)


def pnet(p, x):
    x = maxpool(prelu(conv(x, p["conv1.weight"], p["conv1.bias"]), p["prelu1.weight"]), 2, 2)
    x = prelu(conv(x, p["conv2.weight"], p["conv2.bias"]), p["prelu2.weight"])
    x = prelu(conv(x, p["conv3.weight"], p["conv3.bias"]), p["prelu3.weight"])
    prob = softmax(conv(x, p["conv4_1.weight"], p["conv4_1.bias"]))
    reg = conv(x, p["conv4_2.weight"], p["conv4_2.bias"])
    return reg, prob


def rnet(p, x):
    x = maxpool(prelu(conv(x, p["conv1.weight"], p["conv1.bias"]), p["prelu1.weight"]), 3, 2)
    x = maxpool(prelu(conv(x, p["conv2.weight"], p["conv2.bias"]), p["prelu2.weight"]), 3, 2)
    x = prelu(conv(x, p["conv3.weight"], p["conv3.bias"]), p["prelu3.weight"])
    x = prelu(linear(flatten_whc(x), p, "dense4"), p["prelu4.weight"])
    return linear(x, p, "dense5_2"), softmax(linear(x, p, "dense5_1"))


def onet(p, x):
    x = maxpool(prelu(conv(x, p["conv1.weight"], p["conv1.bias"]), p["prelu1.weight"]), 3, 2)
    x = maxpool(prelu(conv(x, p["conv2.weight"], p["conv2.bias"]), p["prelu2.weight"]), 3, 2)
    x = maxpool(prelu(conv(x, p["conv3.weight"], p["conv3.bias"]), p["prelu3.weight"]), 2, 2)
    x = prelu(conv(x, p["conv4.weight"], p["conv4.bias"]), p["prelu4.weight"])
    x = prelu(linear(flatten_whc(x), p, "dense5"), p["prelu5.weight"])
    return linear(x, p, "dense6_2"), linear(x, p, "dense6_3"), softmax(linear(x, p, "dense6_1"))


# --- detect_face -------------------------------------------------------------

def imresample(img, oh, ow):
    """torch's interpolate(mode="area") = adaptive average pooling: output
    cell i averages input cells floor(i*n/o) .. ceil((i+1)*n/o)."""
    c, h, w = img.shape
    out = np.empty((c, oh, ow), dtype=F32)
    for i in range(oh):
        y0, y1 = i * h // oh, -(-(i + 1) * h // oh)
        for j in range(ow):
            x0, x1 = j * w // ow, -(-(j + 1) * w // ow)
            out[:, i, j] = img[:, y0:y1, x0:x1].sum(axis=(1, 2), dtype=F32) / F32((y1 - y0) * (x1 - x0))
    return out


def normalise(x):
    return ((x - F32(127.5)) * F32(0.0078125)).astype(F32)


def nms(boxes, scores, threshold):
    """torchvision's nms: IoU with areas (x2-x1)*(y2-y1); drops IoU > threshold.
    Returns the kept indices, best first."""
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x2 - x1) * (y2 - y1)
    keep, dropped = [], np.zeros(len(order), bool)
    for a, i in enumerate(order):
        if dropped[i]:
            continue
        keep.append(i)
        rest = order[a + 1:]
        w = np.maximum(F32(0), np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(F32(0), np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        dropped[rest[inter / (area[i] + area[rest] - inter) > threshold]] = True
    return np.array(keep, dtype=np.int64)


def nms_min(boxes, scores, threshold):
    """facenet-pytorch's nms_numpy(..., 'Min'): areas (w+1)*(h+1), overlap
    over the smaller box, keeps overlap <= threshold. Returns the kept
    indices and, per kept box, the dropped boxes with exactly its score:
    two candidates whose crops clip to the same pixels score the same, and
    which one wins is up to the sort (a stable one here; numpy's quicksort
    is stable below 17 elements)."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores, kind="stable")
    pick, tied = [], []
    while order.size > 0:
        i = order[-1]
        idx = order[:-1]
        w = np.maximum(0.0, np.minimum(x2[i], x2[idx]) - np.maximum(x1[i], x1[idx]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[idx]) - np.maximum(y1[i], y1[idx]) + 1)
        keep = (w * h) / np.minimum(area[i], area[idx]) <= threshold
        pick.append(i)
        tied.append([j for j in idx[~keep] if scores[j] == scores[i]])
        order = idx[keep]
    return np.array(pick, dtype=np.int64), tied


def bbreg(b, reg):
    w, h = b[:, 2] - b[:, 0] + 1, b[:, 3] - b[:, 1] + 1
    b = b.copy()
    for k, side in enumerate((w, h, w, h)):
        b[:, k] = b[:, k] + reg[:, k] * side
    return b


def rerec(b):
    b = b.copy()
    h, w = b[:, 3] - b[:, 1], b[:, 2] - b[:, 0]
    l = np.maximum(w, h)
    b[:, 0] = b[:, 0] + w * F32(0.5) - l * F32(0.5)
    b[:, 1] = b[:, 1] + h * F32(0.5) - l * F32(0.5)
    b[:, 2] = b[:, 0] + l
    b[:, 3] = b[:, 1] + l
    return b


def crops(img, boxes, size):
    """facenet-pytorch's `pad` (truncate, clip to 1..w / 1..h) and the crops
    img[:, y-1:ey, x-1:ex] resized to size x size."""
    h, w = img.shape[1:]
    t = np.trunc(boxes[:, :4]).astype(np.int64)
    x, y = np.maximum(t[:, 0], 1), np.maximum(t[:, 1], 1)
    ex, ey = np.minimum(t[:, 2], w), np.minimum(t[:, 3], h)
    out = []
    for k in range(len(boxes)):
        # facenet-pytorch skips an empty crop without dropping its box, which
        # would misalign boxes and scores; it never happens on these images.
        assert ey[k] > y[k] - 1 and ex[k] > x[k] - 1, "empty crop"
        out.append(imresample(img[:, y[k] - 1:ey[k], x[k] - 1:ex[k]], size, size))
    return normalise(np.stack(out))


def detect_face(img, nets):
    """One image (H x W x 3 uint8): boxes (n x 5: x1 y1 x2 y2 score),
    points (n x 5 x 2), in facenet-pytorch's final order, and per box the
    (box, points) of the candidates that tied with it in the last NMS."""
    p, r, o = nets
    img = img.transpose(2, 0, 1).astype(F32)
    h, w = img.shape[1:]
    m = 12.0 / MIN_FACE
    minl = min(h, w) * m
    scales, scale = [], m
    while minl >= 12:
        scales.append(scale)
        scale *= FACTOR
        minl *= FACTOR

    # Stage 1: P-Net over the pyramid, NMS 0.5 per scale then 0.7 over all.
    found = []
    for scale in scales:
        level = normalise(imresample(img, int(h * scale + 1), int(w * scale + 1)))
        reg, prob = pnet(p, level[None])
        ys, xs = np.nonzero(prob[0, 1] >= THRESHOLDS[0])
        score = prob[0, 1, ys, xs]
        s = F32(scale)
        bb = np.stack([xs, ys], axis=1).astype(F32)
        q1 = np.floor((2 * bb + 1) / s)
        q2 = np.floor((2 * bb + 12) / s)
        boxes = np.concatenate([q1, q2, score[:, None], reg[0][:, ys, xs].T], axis=1).astype(F32)
        found.append(boxes[nms(boxes[:, :4], boxes[:, 4], 0.5)])
    boxes = np.concatenate(found) if found else np.zeros((0, 9), F32)
    boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
    regw, regh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    boxes = np.stack([boxes[:, 0] + boxes[:, 5] * regw, boxes[:, 1] + boxes[:, 6] * regh,
                      boxes[:, 2] + boxes[:, 7] * regw, boxes[:, 3] + boxes[:, 8] * regh,
                      boxes[:, 4]], axis=1).astype(F32)
    boxes = rerec(boxes)
    if len(boxes) == 0:
        return boxes, np.zeros((0, 5, 2), F32), []

    # Stage 2: R-Net on 24x24 crops.
    reg, prob = rnet(r, crops(img, boxes, 24))
    ipass = prob[:, 1] > THRESHOLDS[1]
    boxes = np.concatenate([boxes[ipass, :4], prob[ipass, 1:2]], axis=1)
    reg = reg[ipass]
    pick = nms(boxes[:, :4], boxes[:, 4], 0.7)
    boxes = rerec(bbreg(boxes[pick], reg[pick]))
    if len(boxes) == 0:
        return boxes, np.zeros((0, 5, 2), F32), []

    # Stage 3: O-Net on 48x48 crops; landmarks from the box before regression.
    reg, pts, prob = onet(o, crops(img, boxes, 48))
    ipass = prob[:, 1] > THRESHOLDS[2]
    boxes = np.concatenate([boxes[ipass, :4], prob[ipass, 1:2]], axis=1)
    reg, pts = reg[ipass], pts[ipass]
    wi, hi = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
    px = wi[:, None] * pts[:, :5] + boxes[:, 0:1] - 1
    py = hi[:, None] * pts[:, 5:] + boxes[:, 1:2] - 1
    points = np.stack([px, py], axis=2).astype(F32)
    boxes = bbreg(boxes, reg)
    pick, tied = nms_min(boxes[:, :4], boxes[:, 4], 0.7)
    return boxes[pick], points[pick], [[(boxes[j], points[j]) for j in t] for t in tied]


# --- images and output -------------------------------------------------------

def image_list(shared):
    fixtures = os.path.join(CRATE, "tests", "fixtures")
    out = []
    for person in sorted(os.listdir(os.path.join(fixtures, "lfw-mini"))):
        for f in sorted(os.listdir(os.path.join(fixtures, "lfw-mini", person))):
            out.append(("fixture", f"lfw-mini/{person}/{f}", os.path.join(fixtures, "lfw-mini", person, f)))
    for f in sorted(os.listdir(os.path.join(fixtures, "face_chips"))):
        if f.endswith(".png"):
            out.append(("fixture", f"face_chips/{f}", os.path.join(fixtures, "face_chips", f)))
    names = {}
    with open(os.path.join(shared, "seed-split", "target_names.csv")) as f:
        for row in csv.reader(f):
            if row and row[0].isdigit():
                names[int(row[0])] = row[1]
    with open(os.path.join(shared, "seed-split", "test.csv")) as f:
        for row in csv.DictReader(f):
            rel = f"{names[int(row['label_train'])]}/{row['img_train']}"
            out.append(("seed_test", rel, os.path.join(shared, "lfw", rel)))
    return out


def face(box, pts):
    return {"box": [round(float(v), 3) for v in box[:4]], "score": round(float(box[4]), 7),
            "landmarks": [[round(float(v), 3) for v in pt] for pt in pts]}


def main():
    args = sys.argv[1:]
    decoded = None
    if args[:1] == ["--decoded"]:
        decoded, args = args[1], args[2:]
    models = args[0] if args else "models"
    shared = args[1] if len(args) > 1 else "../shared"
    nets = [load_weights(os.path.join(models, f"{n}.pt")) for n in ("pnet", "rnet", "onet")]
    out = {
        "reference": "numpy port of facenet-pytorch 2.6.0 detect_face (scripts/record_mtcnn_reference.py), "
                     "float32, JPEGs decoded by " + ("maskface (the test's PNG dump)" if decoded else
                                                     "Pillow " + Image.__version__),
        "min_face_size": MIN_FACE, "factor": FACTOR, "thresholds": list(THRESHOLDS),
        "images": [],
    }
    for group, rel, path in image_list(shared):
        if decoded and not path.endswith(".png"):
            path = os.path.join(decoded, group, rel + ".png")
        img = np.uint8(Image.open(path).convert("RGB"))
        boxes, points, tied = detect_face(img, nets)
        # Best score first (the Rust detector's order).
        order = np.argsort(-boxes[:, 4], kind="stable")
        faces = []
        for i in order:
            f = face(boxes[i], points[i])
            if tied[i]:
                f["tied"] = [face(b, p) for b, p in tied[i]]
            faces.append(f)
        out["images"].append({"group": group, "path": rel, "width": img.shape[1], "height": img.shape[0],
                              "rgb_crc32": zlib.crc32(img.tobytes()), "faces": faces})
        print(f"{rel}: {len(faces)} faces", file=sys.stderr)
    json.dump(out, sys.stdout, separators=(",", ":"))
    print()


if __name__ == "__main__":
    main()
