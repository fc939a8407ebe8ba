#!/usr/bin/env bash
# Masking throughput: MaskTheFace (the Python tool of Anwar and Raychowdhury,
# dlib's HOG detector and 68-point model, a surgical template warped onto six
# landmark points) against `maskface mask`, on the same N LFW images.
#
#   bash scripts/bench_maskthefaces.sh MASKTHEFACE_DIR [N=500] [OUT=target/bench-maskthefaces]
#
# MASKTHEFACE_DIR is a folder holding MaskTheFace's public repository: clone
# it from GitHub (aqeelanwar/MaskTheFace), e.g. into third_party/MaskTheFace,
# which .gitignore keeps out of git. It is never committed here; this script
# only reads it, except that it copies dlib's landmark model into its
# dlib_models/ (from models/, made by scripts/setup.sh) so that MaskTheFace
# downloads nothing.
#
# What it does and measures:
#  1. N images drawn from data/lfw with random.Random(42) (the same N every
#     time), copied into OUT/input/half_a/<Name>/ and OUT/input/half_b/<Name>/
#     (alternately). MaskTheFace masks the files of the folder it is given and
#     of its sub-folders one level down, and writes next to it, <folder>_masked.
#  2. A virtual environment for MaskTheFace (OUT/venv, or $MTF_VENV) with
#     dlib-bin, opencv-python-headless, numpy, tqdm, imutils, dotmap, Pillow
#     and requests (its imports; face_recognition is not imported).
#  3.-4. ROUNDS times (default 3), alternating, the two tools below: this
#     machine's speed wanders by 10-20% from run to run, so the table gives
#     each tool's median wall time, and results.json every round's.
#  3. Two MaskTheFace processes at once, one per half (how a user keeps two
#     cores busy): `python mask_the_face.py --path OUT/input/half_X
#     --mask_type surgical --verbose`, run in MASKTHEFACE_DIR (it reads
#     masks/masks.cfg relative to it). Wall clock from the start of both to the
#     end of the last, start-up included. Images written: the files in the
#     _masked folders (moved afterwards to OUT/maskthefaces/); faces masked:
#     the sum of its "Faces found: N" lines (it masks every face it finds, all
#     in one output image).
#  4. `maskface mask OUT/input --out OUT/maskface --mask-type surgical --seed 42`
#     ($MASKFACE, default target/release/maskface; --threads $MASKFACE_THREADS
#     when set, else one thread per core), timed the same way; images written
#     and faces masked from OUT/maskface/report.csv (rows with masked >= 1, the
#     sum of masked). Skipped with a message when the binary is missing or has
#     no `mask` command.
#  5. A table (tool, processes/threads, images, images written, faces masked,
#     wall s, images/s, CPU s: medians over the rounds; CPU s is user +
#     system time of the processes, a check on other load) and the ratio of
#     maskface's images/s to MaskTheFace's (of the median wall times),
#     printed and written to OUT/results.md and OUT/results.json. Logs of
#     every run are under OUT/logs/.
#
# Environment: PYTHON (to make the venv; default python3), MTF_VENV, LFW
# (default data/lfw), MASKFACE, MASKFACE_THREADS, ROUNDS.
# Rerunnable: OUT/input, OUT/maskthefaces, OUT/maskface and OUT/logs are made
# afresh each run; the venv is kept once it imports everything.
set -euo pipefail

usage() {
    echo "usage: bash scripts/bench_maskthefaces.sh MASKTHEFACE_DIR [N=500] [OUT=target/bench-maskthefaces]" >&2
    exit 2
}
[ $# -ge 1 ] && [ $# -le 3 ] || usage
# Paths given by the caller are relative to where it runs; the defaults to
# the repository root.
CALLER="$(pwd)"
from_caller() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$CALLER/$1" ;; esac; }
MTF_ARG="$(from_caller "$1")"
N="${2:-500}"
case "$N" in '' | *[!0-9]*) echo "error: N must be a positive integer, not '$N'" >&2; usage ;; esac
N=$((10#$N))
ROUNDS="${ROUNDS:-3}"
case "$ROUNDS" in '' | *[!0-9]*) echo "error: ROUNDS must be a positive integer, not '$ROUNDS'" >&2; usage ;; esac
ROUNDS=$((10#$ROUNDS))
[ "$ROUNDS" -gt 0 ] || { echo "error: ROUNDS must be a positive integer" >&2; usage; }
[ "$N" -gt 0 ] || { echo "error: N must be a positive integer" >&2; usage; }
[ $# -ge 3 ] && OUT_ARG="$(from_caller "$3")"
[ -n "${MTF_VENV:-}" ] && MTF_VENV="$(from_caller "$MTF_VENV")"
[ -n "${LFW:-}" ] && LFW="$(from_caller "$LFW")"
[ -n "${MASKFACE:-}" ] && MASKFACE="$(from_caller "$MASKFACE")"
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
OUT_ARG="${OUT_ARG:-target/bench-maskthefaces}"

if [ ! -f "$MTF_ARG/mask_the_face.py" ] || [ ! -f "$MTF_ARG/masks/masks.cfg" ]; then
    echo "error: '$1' does not hold MaskTheFace (mask_the_face.py, masks/masks.cfg);" >&2
    echo "       clone GitHub's aqeelanwar/MaskTheFace, e.g. into third_party/MaskTheFace" >&2
    exit 1
fi
MTF_DIR="$(cd "$MTF_ARG" && pwd)"
mkdir -p "$OUT_ARG"
OUT="$(cd "$OUT_ARG" && pwd)"
LFW_DIR="${LFW:-$ROOT/data/lfw}"
[ -d "$LFW_DIR" ] || { echo "error: no LFW folder at '$LFW_DIR' (run scripts/setup.sh or set LFW)" >&2; exit 1; }
LANDMARKS="$ROOT/models/shape_predictor_68_face_landmarks.dat"
[ -f "$LANDMARKS" ] || { echo "error: $LANDMARKS is missing; run scripts/setup.sh" >&2; exit 1; }
CORES="$(nproc)"
elapsed() { "${PYTHON:-python3}" -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.3f}")' "$1" "$2"; }
# cpu_run FILE COMMAND...: runs COMMAND, writes its CPU seconds (user + system,
# its children included) to FILE, exits with its status.
cpu_run() {
    "${PYTHON:-python3}" -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
u = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(f"{u.ru_utime + u.ru_stime:.3f}\n")
sys.exit(rc)' "$@"
}
echo "machine: $CORES cores ($(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1))"

# --- 1. the images -----------------------------------------------------------
rm -rf "$OUT/input" "$OUT/maskthefaces" "$OUT/maskface" "$OUT/logs"
rm -f "$OUT/results.md" "$OUT/results.json"
mkdir -p "$OUT/input" "$OUT/maskthefaces" "$OUT/logs"
"${PYTHON:-python3}" - "$LFW_DIR" "$N" "$OUT" <<'PY'
import os, random, shutil, sys
lfw, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
paths = sorted(
    os.path.join(name, f)
    for name in os.listdir(lfw) if os.path.isdir(os.path.join(lfw, name))
    for f in os.listdir(os.path.join(lfw, name)) if f.lower().endswith(".jpg")
)
if n > len(paths):
    sys.exit(f"error: N={n} but {lfw} holds only {len(paths)} images")
chosen = sorted(random.Random(42).sample(paths, n))
with open(os.path.join(out, "images.txt"), "w") as list_file:
    for i, rel in enumerate(chosen):
        half = "half_a" if i % 2 == 0 else "half_b"
        dest = os.path.join(out, "input", half, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(os.path.join(lfw, rel), dest)
        list_file.write(f"{half}/{rel}\n")
print(f"images: {n} of {len(paths)} from {lfw} (random.Random(42)), "
      f"{(n + 1) // 2} in input/half_a, {n // 2} in input/half_b")
PY

# --- 2. MaskTheFace's environment ---------------------------------------------
VENV="${MTF_VENV:-$OUT/venv}"
PY="$VENV/bin/python"
IMPORTS='import dlib, cv2, numpy, tqdm, imutils, dotmap, PIL, requests'
if [ ! -x "$PY" ] || ! "$PY" -c "$IMPORTS" 2>/dev/null; then
    echo "venv: $VENV (pip install)"
    "${PYTHON:-python3}" -m venv "$VENV"
    "$PY" -m pip install --quiet dlib-bin opencv-python-headless numpy tqdm imutils dotmap Pillow requests
    "$PY" -c "$IMPORTS"
else
    echo "venv: $VENV (already set up)"
fi
"$PY" -m pip freeze > "$OUT/logs/pip-freeze.txt"
mkdir -p "$MTF_DIR/dlib_models"
if [ ! -f "$MTF_DIR/dlib_models/shape_predictor_68_face_landmarks.dat" ]; then
    cp "$LANDMARKS" "$MTF_DIR/dlib_models/shape_predictor_68_face_landmarks.dat"
elif ! cmp -s "$LANDMARKS" "$MTF_DIR/dlib_models/shape_predictor_68_face_landmarks.dat"; then
    echo "warning: $MTF_DIR/dlib_models/shape_predictor_68_face_landmarks.dat differs from models/; MaskTheFace uses its own" >&2
fi
MTF_COMMIT=unknown
if [ "$(git -C "$MTF_DIR" rev-parse --show-toplevel 2>/dev/null || true)" = "$MTF_DIR" ]; then
    MTF_COMMIT="$(git -C "$MTF_DIR" rev-parse HEAD)"
fi

MTF_WALLS=""
MF_WALLS=""
for ROUND in $(seq 1 "$ROUNDS"); do
    # --- 3. MaskTheFace, two processes ---------------------------------------------
    # Another busy process on the machine slows both tools; the CPU seconds (and
    # the load before each run, in results.json) show it.
    LOAD_MTF="$(cut -d ' ' -f 1 /proc/loadavg)"
    rm -rf "$OUT/maskthefaces"; mkdir -p "$OUT/maskthefaces"
    rm -rf "$OUT/input/half_a_masked" "$OUT/input/half_b_masked"
    mtf() { # half; run in the background, so the cd stays in its subshell
        cd "$MTF_DIR" && cpu_run "$OUT/logs/maskthefaces-$1-r$ROUND.cpu" "$PY" mask_the_face.py --path "$OUT/input/$1" --mask_type surgical --verbose \
            >"$OUT/logs/maskthefaces-$1.out" 2>"$OUT/logs/maskthefaces-$1.err"
    }
    echo "round $ROUND of $ROUNDS: MaskTheFace ($MTF_DIR): 2 processes, --mask_type surgical"
    start=$(date +%s.%N)
    mtf half_a & pid_a=$!
    mtf half_b & pid_b=$!
    rc_a=0; wait "$pid_a" || rc_a=$?
    rc_b=0; wait "$pid_b" || rc_b=$?
    end=$(date +%s.%N)
    MTF_WALLS="$MTF_WALLS $(elapsed "$start" "$end")"
    for half in half_a half_b; do
        rc=$rc_a; [ "$half" = half_b ] && rc=$rc_b
        if [ "$rc" != 0 ]; then
            echo "error: MaskTheFace on $half exited with $rc; the end of its output:" >&2
            tail -n 20 "$OUT/logs/maskthefaces-$half.out" "$OUT/logs/maskthefaces-$half.err" >&2
            exit 1
        fi
        # Out of input/, so that maskface masks the originals only.
        if [ -d "$OUT/input/${half}_masked" ]; then
            mv "$OUT/input/${half}_masked" "$OUT/maskthefaces/${half}_masked"
        fi
    done

    # --- 4. maskface mask ----------------------------------------------------------
    MASKFACE="${MASKFACE:-$ROOT/target/release/maskface}"
    LOAD_MF=""
    MF_THREADS="${MASKFACE_THREADS:-0}"
    if [ ! -x "$MASKFACE" ]; then
        echo "maskface: $MASKFACE not found (cargo build --release -p maskface-cli); skipped"
    elif ! "$MASKFACE" mask --help >/dev/null 2>&1; then
        echo "maskface: $MASKFACE has no \`mask\` command yet; skipped"
    else
        threads_arg=()
        [ "$MF_THREADS" != 0 ] && threads_arg=(--threads "$MF_THREADS")
        shown=$MF_THREADS; [ "$shown" = 0 ] && shown=$CORES
        echo "round $ROUND of $ROUNDS: maskface ($MASKFACE): mask --mask-type surgical --seed 42, $shown threads"
        LOAD_MF="$(cut -d ' ' -f 1 /proc/loadavg)"
        rm -rf "$OUT/maskface"
        start=$(date +%s.%N)
        rc=0
        cpu_run "$OUT/logs/maskface-r$ROUND.cpu" "$MASKFACE" "${threads_arg[@]}" mask "$OUT/input" --out "$OUT/maskface" --mask-type surgical --seed 42 \
            >"$OUT/logs/maskface.out" 2>"$OUT/logs/maskface.err" || rc=$?
        end=$(date +%s.%N)
        if [ "$rc" != 0 ]; then
            echo "error: maskface mask exited with $rc; the end of its output:" >&2
            tail -n 20 "$OUT/logs/maskface.out" "$OUT/logs/maskface.err" >&2
            exit 1
        fi
        MF_WALLS="$MF_WALLS $(elapsed "$start" "$end")"
        echo "maskface says: $(tail -n 1 "$OUT/logs/maskface.out")"
    fi
done

# --- 5. the table --------------------------------------------------------------
"${PYTHON:-python3}" - "$OUT" "$N" "$CORES" "$MTF_WALLS" "$MF_WALLS" "$MF_THREADS" "$MTF_COMMIT" "$MASKFACE" \
    "$LOAD_MTF" "$LOAD_MF" "$ROUNDS" <<'PY'
import csv, json, os, platform, re, statistics, sys

out, n, cores, mtf_walls, mf_walls, mf_threads, mtf_commit, maskface, load_mtf, load_mf, rounds = sys.argv[1:]
n, cores, rounds = int(n), int(cores), int(rounds)
mtf_walls = [float(w) for w in mtf_walls.split()]
mf_walls = [float(w) for w in mf_walls.split()]
mtf_wall = statistics.median(mtf_walls)

def cpu_seconds(*names):
    """The median over the rounds of the summed CPU seconds of `names`
    (each with {r} standing for the round)."""
    per_round = [sum(float(open(os.path.join(out, "logs", name.format(r=r))).read()) for name in names)
                 for r in range(1, rounds + 1)]
    return round(statistics.median(per_round), 2)

def files_under(path):
    return sum(len(files) for _, _, files in os.walk(path))

# MaskTheFace: its verbose output, one "Processing:" and one "Faces found" line per image.
processed = faces = with_face = 0
for half in ("half_a", "half_b"):
    with open(os.path.join(out, "logs", f"maskthefaces-{half}.out"), errors="replace") as f:
        text = f.read()
    processed += len(re.findall(r"^Processing: ", text, re.M))
    found = [int(x) for x in re.findall(r"Faces found:\s*(\d+)", text)]
    faces += sum(found)
    with_face += sum(1 for x in found if x > 0)
written = files_under(os.path.join(out, "maskthefaces"))
if processed != n:
    print(f"warning: MaskTheFace processed {processed} images, not {n}", file=sys.stderr)
if written != with_face:
    print(f"warning: MaskTheFace found faces in {with_face} images but wrote {written}", file=sys.stderr)

packages = {}
with open(os.path.join(out, "logs", "pip-freeze.txt")) as f:
    for line in f:
        if "==" in line:
            name, version = line.strip().split("==", 1)
            packages[name] = version

rows = [{
    "tool": "MaskTheFace",
    "parallelism": "2 processes",
    "images": n,
    "images_written": written,
    "faces_masked": faces,
    "wall_s": round(mtf_wall, 2),
    "images_per_s": round(n / mtf_wall, 2),
    "images_with_faces_found": with_face,
    "images_processed": processed,
    "cpu_s": cpu_seconds("maskthefaces-half_a-r{r}.cpu", "maskthefaces-half_b-r{r}.cpu"),
    "wall_s_per_round": mtf_walls,
    "load_before": float(load_mtf),
}]

ratio = None
if mf_walls:
    mf_wall = statistics.median(mf_walls)
    with open(os.path.join(out, "maskface", "report.csv"), newline="") as f:
        report = list(csv.DictReader(f))
    mf_written = sum(1 for r in report if int(r["masked"] or 0) >= 1)
    mf_faces = sum(int(r["masked"] or 0) for r in report)
    if len(report) != n:
        print(f"warning: maskface's report.csv has {len(report)} rows, not {n}", file=sys.stderr)
    threads = int(mf_threads) or cores
    rows.append({
        "tool": "maskface mask",
        "parallelism": f"{threads} threads",
        "images": n,
        "images_written": mf_written,
        "faces_masked": mf_faces,
        "wall_s": round(mf_wall, 2),
        "images_per_s": round(n / mf_wall, 2),
        "faces_found": sum(int(r["faces"] or 0) for r in report),
        "report_rows": len(report),
        "outputs_listed": sum(len([o for o in r["outputs"].split(";") if o]) for r in report),
        "cpu_s": cpu_seconds("maskface-r{r}.cpu"),
        "wall_s_per_round": mf_walls,
        "load_before": float(load_mf),
    })
    ratio = round((n / mf_wall) / (n / mtf_wall), 2)

columns = [("tool", "tool"), ("parallelism", "processes/threads"), ("images", "images"),
           ("images_written", "images written"), ("faces_masked", "faces masked"),
           ("wall_s", "wall s"), ("images_per_s", "images/s"), ("cpu_s", "CPU s")]
table = ["| " + " | ".join(title for _, title in columns) + " |",
         "|" + "|".join("---" if i < 2 else "---:" for i in range(len(columns))) + "|"]
for row in rows:
    table.append("| " + " | ".join(str(row[key]) for key, _ in columns) + " |")
ratio_line = (f"maskface / MaskTheFace, images per second: {ratio}" if ratio is not None
              else "maskface / MaskTheFace, images per second: n/a (maskface mask not run)")
rounds_line = (f"{rounds} rounds, wall s per round: MaskTheFace {mtf_walls}, maskface {mf_walls}; "
               "the table has the medians")
machine = f"{cores} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}"
try:
    with open("/proc/cpuinfo") as f:
        model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), None)
    if model:
        machine = f"{cores} cores ({model})"
except OSError:
    pass
lower = {k.lower(): (k, v) for k, v in packages.items()}
versions = ", ".join(f"{lower[k][0]} {lower[k][1]}" for k in
                     ("dlib-bin", "dlib", "opencv-python-headless", "numpy", "pillow") if k in lower)

print()
print("\n".join(table))
print(ratio_line)
print(rounds_line)
with open(os.path.join(out, "results.md"), "w") as f:
    f.write(f"N = {n} LFW images (random.Random(42)), surgical masks, {machine}.\n")
    f.write(f"MaskTheFace commit: {mtf_commit}; {versions}.\n\n")
    f.write("\n".join(table) + "\n\n" + ratio_line + "\n" + rounds_line + "\n")
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump({
        "n": n, "cores": cores, "machine": machine, "maskthefaces_commit": mtf_commit,
        "maskface": maskface if mf_walls else None, "pip": packages, "rows": rows,
        "ratio_images_per_s": ratio, "rounds": rounds,
    }, f, indent=2)
    f.write("\n")
print(f"written: {os.path.join(out, 'results.md')}, {os.path.join(out, 'results.json')}")
PY
