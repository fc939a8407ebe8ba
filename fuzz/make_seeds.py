#!/usr/bin/env python3
"""Writes the structured seeds of fuzz/corpus/ (small, valid files of every
format the readers take), from the formats' definitions, without the
libraries that normally write them:

  shape_predictor  dlib shape predictors of 2 and 3 points (dlib's serialize.h)
  dlib_resnet      dlib DNN files of fuzz/src/readers.rs's `small_resnet()`
  torch_pt         a PyTorch 1.6+ zip state dict with P-Net's keys and shapes
                   (the legacy pnet.pt of facenet-pytorch 2.6.0 is copied in
                   from models/ when present)
  gallery          galleries (crates/maskface-recognize/src/gallery.rs)
  manifest         manifest.json, a NUL, manifest.csv (docs/manifest.md)
  image            tiny PNG, GIF, BMP, TIFF, WebP, JPEG (needs Pillow; the
                   fixtures' JPEGs are copied too)

The checkpoint seed is written by a Rust test (`cargo test -p maskface-cli
--test fuzz_corpus -- --ignored write_checkpoint_seed`), which trains a tiny
network for one epoch. Run from the repository root: python3 fuzz/make_seeds.py
"""
import io
import os
import pickle
import shutil
import struct
import sys
import types
import zipfile

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- dlib's serialization -------------------------------------------------
def dint(v):
    """An integer: control byte (sign bit, byte count), magnitude LE."""
    neg = v < 0
    m = -v if neg else v
    body = b""
    while True:
        body += bytes([m & 0xFF])
        m >>= 8
        if m == 0:
            break
    return bytes([(0x80 if neg else 0) | len(body)]) + body


def dfloat(x):
    """A float as dlib writes it: an integer mantissa, then the exponent."""
    if x == 0:
        return dint(0) + dint(0)
    e = 0
    m = x
    while m != int(m) and e > -60:
        m *= 2
        e -= 1
    return dint(int(m)) + dint(e)


def dstr(s):
    b = s.encode()
    return dint(len(b)) + b


def column(values):
    return dint(-len(values)) + dint(-1) + b"".join(dfloat(v) for v in values)


def shape_predictor(parts, cascades, trees, depth):
    """A valid model: `parts` points, `cascades` levels of `trees` trees
    of `depth` levels, 4 feature pixels per level."""
    dims = 2 * parts
    mean = [((i * 37) % 11) / 16 for i in range(dims)]
    b = dint(1) + column(mean) + dint(cascades)
    n_splits = 2 ** depth - 1
    for c in range(cascades):
        b += dint(trees)
        for t in range(trees):
            b += dint(n_splits)
            for s in range(n_splits):
                b += dint((s + t) % 4) + dint((s + c + 1) % 4) + dfloat((s - 1) * 4.0)
            b += dint(n_splits + 1)
            for leaf in range(n_splits + 1):
                b += column([((leaf + k) % 5 - 2) / 64 for k in range(dims)])
    b += dint(cascades)
    for c in range(cascades):
        b += dint(4) + b"".join(dint((c + k) % parts) for k in range(4))
    b += dint(cascades)
    for c in range(cascades):
        b += dint(4) + b"".join(dfloat(((k % 3) - 1) / 8) + dfloat(((k % 2) * 2 - 1) / 16) for k in range(4))
    return b


def tensor(dims, values):
    return dint(2) + b"".join(dint(d) for d in dims) + struct.pack("<%df" % len(values), *values)


def empty_tensor():
    return tensor([0, 0, 0, 0], [])


def alias(dims):
    return dint(1) + b"".join(dint(d) for d in dims)


def small_resnet(loss_name):
    """fuzz/src/readers.rs `small_resnet()`: stem 2 channels 7x7/2, max pool
    3x3/2, a block of 2 channels, a downsampling block of 4, global average,
    3 outputs."""
    # The wrappers, innermost first: ("L", kind) or ("M",).
    layers = [
        ("conv", 2, 7, 2), ("affine",), ("relu",), ("maxpool", 3, 2),
        # block 1 (stride 1): tag, conv, affine, relu, conv, affine, add, relu
        ("M",), ("conv", 2, 3, 1), ("affine",), ("relu",), ("conv", 2, 3, 1), ("affine",),
        ("add",), ("relu",),
        # block 2 (stride 2): + tag2, skip1, avg_pool
        ("M",), ("conv", 4, 3, 2), ("affine",), ("relu",), ("conv", 4, 3, 1), ("affine",),
        ("M",), ("M",), ("avgpool", 2), ("add",), ("relu",),
        ("avgall",), ("fc", 4, 3),
    ]
    b = dint(1) + dstr(loss_name)
    if loss_name == "loss_metric_2":
        b += dfloat(0.04) + dfloat(0.6)
    for i in reversed(range(len(layers))):
        b += dint(1 if layers[i][0] == "M" else (3 if i == 0 else 2))
    b += dstr("input_rgb_image_sized") + dfloat(122.75) + dfloat(117.0) + dfloat(104.25)
    b += dint(150) + dint(150)
    channels = 3
    first = True
    for layer in layers:
        kind = layer[0]
        if kind == "M":
            continue
        if kind == "conv":
            _, f, k, s = layer
            p = k // 2 if s == 1 else 0
            n = f * channels * k * k
            b += dstr("con_5") + tensor([n + f, 1, 1, 1], [((i % 7) - 3) / 8 for i in range(n + f)])
            b += dint(f) + dint(k) + dint(k) + dint(s) + dint(s) + dint(p) + dint(p)
            b += alias([f, channels, k, k]) + alias([1, f, 1, 1])
            b += dfloat(1) + dfloat(1) + dfloat(0) + dfloat(0) + b"1"
            channels = f
        elif kind == "affine":
            b += dstr("affine_") + tensor([2 * channels, 1, 1, 1], [1.0] * channels + [0.5] * channels)
            b += alias([1, channels, 1, 1]) + alias([1, channels, 1, 1]) + dint(0)
        elif kind == "relu":
            b += dstr("relu_")
        elif kind == "maxpool":
            _, w, s = layer
            b += dstr("max_pool_2") + dint(w) + dint(w) + dint(s) + dint(s) + dint(0) + dint(0)
        elif kind == "avgpool":
            _, w = layer
            b += dstr("avg_pool_2") + dint(w) + dint(w) + dint(w) + dint(w) + dint(0) + dint(0)
        elif kind == "avgall":
            b += dstr("avg_pool_2") + dint(0) + dint(0) + dint(1) + dint(1) + dint(0) + dint(0)
        elif kind == "add":
            b += dstr("add_prev_")
        elif kind == "fc":
            _, i, o = layer
            b += dstr("fc_2") + dint(o) + dint(i) + tensor([i, o, 1, 1], [(k % 3) / 4 for k in range(i * o)])
            b += alias([i, o, 1, 1]) + alias([1, o, 1, 1]) + dint(1)
            b += dfloat(1) + dfloat(1) + dfloat(0) + dfloat(0)
        b += b"000" + empty_tensor() * 3
        if first:
            b += dint(1)
            first = False
    return b


# --- PyTorch 1.6+ zip state dicts, without torch ----------------------------
def torch_zip(entries):
    """entries: [(key, shape)]; float32 tensors, one storage each."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    collections_mod = sys.modules["collections"]

    class FloatStorage:
        pass

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"
    torch.FloatStorage = FloatStorage

    def _rebuild_tensor_v2(*args):
        raise NotImplementedError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils

    class Storage:
        def __init__(self, key, numel):
            self.key, self.numel = key, numel

    class Tensor:
        def __init__(self, storage, shape):
            self.storage, self.shape = storage, shape

        def __reduce__(self):
            stride = []
            acc = 1
            for d in reversed(self.shape):
                stride.insert(0, acc)
                acc *= d
            return (_rebuild_tensor_v2,
                    (self.storage, 0, tuple(self.shape), tuple(stride), False,
                     collections_mod.OrderedDict()))

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", FloatStorage, obj.key, "cpu", obj.numel)
            return None

    state = collections_mod.OrderedDict()
    data = {}
    for i, (key, shape) in enumerate(entries):
        n = 1
        for d in shape:
            n *= d
        state[key] = Tensor(Storage(str(i), n), shape)
        data[str(i)] = struct.pack("<%df" % n, *[((j % 9) - 4) / 16 for j in range(n)])
    buf = io.BytesIO()
    P(buf, protocol=2).dump(state)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        for k, v in data.items():
            z.writestr("archive/data/" + k, v)
        z.writestr("archive/version", "3\n")
    del sys.modules["torch"], sys.modules["torch._utils"]
    return out.getvalue()


PNET = [
    ("conv1.weight", [10, 3, 3, 3]), ("conv1.bias", [10]), ("prelu1.weight", [10]),
    ("conv2.weight", [16, 10, 3, 3]), ("conv2.bias", [16]), ("prelu2.weight", [16]),
    ("conv3.weight", [32, 16, 3, 3]), ("conv3.bias", [32]), ("prelu3.weight", [32]),
    ("conv4_1.weight", [2, 32, 1, 1]), ("conv4_1.bias", [2]),
    ("conv4_2.weight", [4, 32, 1, 1]), ("conv4_2.bias", [4]),
]


def main():
    put("shape_predictor", "seed_2pt_1x1x1.dat", shape_predictor(2, 1, 1, 1))
    put("shape_predictor", "seed_3pt_2x2x2.dat", shape_predictor(3, 2, 2, 2))
    put("dlib_resnet", "seed_small_metric2.dat", small_resnet("loss_metric_2"))
    put("dlib_resnet", "seed_small_metric.dat", small_resnet("loss_metric_"))
    put("torch_pt", "seed_pnet_zip.pt", torch_zip(PNET))
    put("torch_pt", "seed_two_tensors_zip.pt", torch_zip([("conv1.weight", [2, 1, 1, 1]), ("x.num_batches_tracked", [])]))
    legacy = os.path.join(ROOT, "models", "pnet.pt")
    if os.path.exists(legacy):
        shutil.copy(legacy, os.path.join(CORPUS, "torch_pt", "pnet_facenet_pytorch_2.6.0.pt"))

    put("gallery", "seed_two_people.json", b"""{
  "format": "maskface-gallery",
  "version": 1,
  "embedder": "dlib_face_recognition_resnet_model_v1.dat",
  "threshold": 0.97,
  "people": [
    {"name": "Ada", "templates": [
      {"image": "00ff", "source": "ada.jpg", "embedding": [0.5, 0.5, 0.5, 0.5]},
      {"image": "01ff", "source": "ada.jpg", "embedding": [0.5, -0.5, 0.5, 0.5], "synthetic": "surgical"}]},
    {"name": "Bo", "templates": [
      {"image": "02ff", "source": "bo.png", "embedding": [1.0, 0.0, 0.0, 0.0]}]}
  ]
}
""")
    put("gallery", "seed_tuned_empty.json", b"""{"format":"maskface-gallery","version":1,"embedder":"embedder.bpk","embedder_sha256":"ab12","threshold":0.74,"unmasked_threshold":0.6,"mirror":true,"people":[]}""")

    csv = (b"path,identity,label,split,origin,transform\n"
           b"Ada/Ada_0001.jpg,Ada,0,train,,\n"
           b"Ada/Ada_0002.jpg,Ada,0,test,,\n"
           b"Bo/Bo_0001.jpg,Bo,1,val,Bo/x.jpg,rotate:12.5\n")
    info = (b'{"format_version":1,"root":"../lfw","stages":[{"step":"curate","tool":"maskface-dataset 0.1.0",'
            b'"params":{"seed":42,"ratios":[0.8,0.1,0.1]}}]}')
    put("manifest", "seed_json_and_csv", info + b"\0" + csv)
    put("manifest", "seed_csv_only.csv", csv)

    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        im = Image.new("RGB", (5, 4))
        for x in range(5):
            for y in range(4):
                im.putpixel((x, y), (x * 50, y * 60, 90))
        for fmt, name, mode in [("PNG", "rgb.png", "RGB"), ("PNG", "gray.png", "L"),
                                ("PNG", "rgba.png", "RGBA"), ("GIF", "p.gif", "P"),
                                ("BMP", "rgb.bmp", "RGB"), ("TIFF", "rgb.tiff", "RGB"),
                                ("WEBP", "rgb.webp", "RGB"), ("JPEG", "rgb.jpg", "RGB")]:
            b = io.BytesIO()
            im.convert(mode).save(b, fmt)
            put("image", name, b.getvalue())
    for name in ["truncated_header.jpg", "garbage_after_header.jpg"]:
        shutil.copy(os.path.join(ROOT, "fixtures", "broken", name), os.path.join(CORPUS, "image", name))
    shutil.copy(os.path.join(ROOT, "fixtures", "lfw-mini", "Clare_Short", "Clare_Short_0002.jpg"),
                os.path.join(CORPUS, "image", "lfw_Clare_Short_0002.jpg"))


if __name__ == "__main__":
    main()
