#!/usr/bin/env bash
# Sets up a maskface checkout; safe to run again (it only does what is missing).
#
#   data/lfw         -> an LFW deep-funneled copy ($MASKFACE_LFW, else ../shared/lfw)
#   data/seed-split  -> the authors' published split, when ../shared/seed-split exists
#   data/lfw-meta    -> LFW's protocol files (pairs.txt), when ../shared/lfw-meta exists
#   OpenBLAS         the system LAPACK the Eigenface crate links (Debian: libopenblas-dev);
#                    installed with apt-get when missing and running as root
#   models/          <- weight files from two PyPI packages, checked against SHA-256:
#                       facenet-pytorch 2.6.0 (MTCNN: pnet.pt, rnet.pt, onet.pt) and
#                       face-recognition-models 0.3.0 (dlib's landmark and ResNet models)
#
# Environment: MASKFACE_LFW (LFW folder), PYTHON (default python3),
#              MASKFACE_SKIP_MODELS=1 (data links only).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
mkdir -p data models

# maskface-eigen links LAPACK from the system OpenBLAS (ndarray-linalg's
# openblas-system feature): the build needs libopenblas.so and its headers.
if ! ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so '; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "OpenBLAS: apt-get install libopenblas-dev"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libopenblas-dev
    else
        echo "warning: OpenBLAS not found; install it (Debian/Ubuntu: sudo apt-get install libopenblas-dev) before building" >&2
    fi
else
    echo "OpenBLAS: found"
fi

link_data() { # name source
    local name="$1" src="$2"
    if [ -d "data/$name" ] && [ ! -L "data/$name" ]; then
        echo "data/$name: a folder of your own, kept"
    elif [ -d "$src" ]; then
        ln -sfn "$(cd "$src" && pwd)" "data/$name"
        echo "data/$name -> $(readlink "data/$name")"
    else
        return 1
    fi
}

if ! link_data lfw "${MASKFACE_LFW:-../shared/lfw}"; then
    cat >&2 <<'MSG'
error: no LFW copy found.
maskface needs Labeled Faces in the Wild, deep-funneled version (13,233 JPEGs of
250x250 in <Person>/<Person>_NNNN.jpg folders; the archive lfw-deepfunneled.tgz
of the LFW project at the University of Massachusetts, Amherst). Unpack it and
run again with MASKFACE_LFW=/path/to/lfw-deepfunneled, or put it at ../shared/lfw.
MSG
    exit 1
fi
link_data seed-split ../shared/seed-split || echo "data/seed-split: not available (maskface run will draw its own split)"
link_data lfw-meta "${MASKFACE_LFW_META:-../shared/lfw-meta}" || echo "data/lfw-meta: not available (maskface verify needs LFW's pairs.txt)"

[ "${MASKFACE_SKIP_MODELS:-0}" = 1 ] && exit 0

"$PYTHON" - <<'PY'
import hashlib, os, subprocess, sys, tarfile, zipfile

WANTED = {
    "pnet.pt": "a2a71925e0b9996a42f63e47efc1ca19043e69558b5c523b978d611dfae49c8f",
    "rnet.pt": "bbb937de72efc9ef83b186c49f5f558467a1d7e3453a8ece0d71a886633f6a86",
    "onet.pt": "165bfbe42940416ccfb977545cf0e976d5bf321f67083ae2aaaa5c764280118d",
    "shape_predictor_68_face_landmarks.dat": "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
    "dlib_face_recognition_resnet_model_v1.dat": "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    "shape_predictor_5_face_landmarks.dat": "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
}
PACKAGES = [
    # (requirement, pip options, which files it carries)
    ("facenet-pytorch==2.6.0", ["--only-binary=:all:"], ["pnet.pt", "rnet.pt", "onet.pt"]),
    ("face-recognition-models==0.3.0", ["--no-binary=:all:"],
     ["shape_predictor_68_face_landmarks.dat", "dlib_face_recognition_resnet_model_v1.dat",
      "shape_predictor_5_face_landmarks.dat"]),
]
MODELS, CACHE = "models", os.path.join("models", ".download")

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

def ok(name):
    p = os.path.join(MODELS, name)
    return os.path.isfile(p) and sha256(p) == WANTED[name]

def members(archive):
    if archive.endswith(".whl") or archive.endswith(".zip"):
        z = zipfile.ZipFile(archive)
        return [(n, lambda n=n: z.read(n)) for n in z.namelist()]
    t = tarfile.open(archive)
    return [(m.name, lambda m=m: t.extractfile(m).read()) for m in t.getmembers() if m.isfile()]

for req, opts, files in PACKAGES:
    if all(ok(f) for f in files):
        print(f"models: {', '.join(files)} present and verified")
        continue
    os.makedirs(CACHE, exist_ok=True)
    name, version = req.split("==")
    stem = name.replace("-", "_")
    def find():
        for f in sorted(os.listdir(CACHE)):
            if f.lower().replace("-", "_").startswith(f"{stem}_{version}"):
                return os.path.join(CACHE, f)
    if find() is None:
        print(f"models: pip download {req}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        "--disable-pip-version-check", *opts, "-d", CACHE, req], check=True)
    archive = find()
    if archive is None:
        sys.exit(f"error: pip download {req} produced no archive in {CACHE}")
    found = {}
    for member, read in members(archive):
        base = os.path.basename(member)
        if base in files:
            found[base] = read
    for f in files:
        if f not in found:
            sys.exit(f"error: {archive} has no {f}")
        data = found[f]()
        digest = hashlib.sha256(data).hexdigest()
        if digest != WANTED[f]:
            sys.exit(f"error: {f} from {archive} has SHA-256 {digest}, expected {WANTED[f]}")
        tmp = os.path.join(MODELS, f"." + f + ".tmp")
        with open(tmp, "wb") as out:
            out.write(data)
        os.replace(tmp, os.path.join(MODELS, f))
        print(f"models: {f} extracted and verified")
PY
