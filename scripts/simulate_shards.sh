#!/usr/bin/env bash
# Rehearses a sharded `maskface mask` on one machine through the deployment
# files themselves: for each N, N shard processes at once and the merge, run
# by deploy/slurm/mask-array.sh as a Slurm array task would run it, and by
# the `sh -c` commands of deploy/kubernetes/*.yaml with the volume's paths
# mapped to local folders. Checks that every merged tree is byte-identical
# (and to one plain process without --shard), that a shard or merge run
# again after the merge changes nothing, and prints each run's time and peak
# memory; writes WORK/results.json.
#
#   bash scripts/simulate_shards.sh [INPUT=data/lfw] [WORK=target/shard-sim]
#
# Environment:
#   MASKFACE   the binary (default target/release/maskface)
#   MODELS     the weights (default models)
#   MASK_ARGS  mask options, split on spaces (default "--mask-type surgical --seed 42")
#   NS         shard counts run through the Slurm script (default "1 2 4";
#              empty skips them)
#   K8S_NS     shard counts also run through the Kubernetes commands (default
#              "2"; empty skips them; needs PyYAML)
#   SINGLE     1 (default): also one process without --shard, the reference
#   COPIES     when > 0 (e.g. 10): also mask, in one process, a tree that lists
#              every input image COPIES times (WORK/synth/copyK/..., links),
#              for the peak memory of a run that large; and run
#              `augment --shard 0/100` over a manifest of the input and one of
#              that tree, for the memory of a shard reading a manifest COPIES
#              times larger
#   SYNTH_MASK 1 (default): mask the COPIES tree; 0: only the augment shards
#   THREADS    --threads for every process (default: one thread per core)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

INPUT="$(realpath "${1:-data/lfw}")"
WORK="$(realpath -m "${2:-target/shard-sim}")"
MASKFACE="${MASKFACE:-target/release/maskface}"
MODELS="$(realpath -m "${MODELS:-models}")"
MASK_ARGS="${MASK_ARGS:---mask-type surgical --seed 42}"
NS="${NS-1 2 4}"
K8S_NS="${K8S_NS-2}"
SINGLE="${SINGLE:-1}"
COPIES="${COPIES:-0}"
SYNTH_MASK="${SYNTH_MASK:-1}"
read -r -a mask_args <<<"$MASK_ARGS"
threads=()
if [ -n "${THREADS:-}" ]; then threads=(--threads "$THREADS"); fi

die() { echo "simulate_shards.sh: $*" >&2; exit 1; }
if [[ "$MASKFACE" == */* ]]; then
    MASKFACE="$(realpath "$MASKFACE" 2>/dev/null)" ||
        die "no binary at $MASKFACE: cargo build --release -p maskface-cli, or set MASKFACE"
else
    MASKFACE="$(command -v "$MASKFACE")" || die "$MASKFACE is not on PATH"
fi
if [ -n "$K8S_NS" ] && ! python3 -c 'import yaml' 2>/dev/null; then
    die "the Kubernetes route reads the manifests with PyYAML: pip install pyyaml (or K8S_NS= to skip it)"
fi
# The Slurm script reads these; a stray step or shard count would change its mode.
export MASKFACE MODELS
unset MASKFACE_STEP MASKFACE_SHARDS SHARDS
if [ -n "${THREADS:-}" ]; then export THREADS; else unset THREADS; fi

for d in out time logs bin synth manifests; do rm -rf "${WORK:?}/$d"; done
rm -f "$WORK/results.tsv"
mkdir -p "$WORK/out" "$WORK/time" "$WORK/logs" "$WORK/bin"
# The Kubernetes commands call `maskface` from the image's PATH.
ln -s "$MASKFACE" "$WORK/bin/maskface"

# maskface's image extensions; links count, as maskface reads them too.
images_in() {
    find "$1" ! -type d \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.bmp' \
        -o -iname '*.tif' -o -iname '*.tiff' -o -iname '*.gif' -o -iname '*.webp' \) | wc -l
}
images="$(images_in "$INPUT")"
[ "$images" -gt 0 ] || die "no images under $INPUT"
echo "input: $INPUT ($images images); maskface: $MASKFACE; options: $MASK_ARGS"

# timed NAME CMD...: runs CMD with its output in logs/NAME.log and its peak
# memory (KiB) and seconds in time/NAME.
timed() {
    local name="$1"
    shift
    if ! /usr/bin/time -f '%M %e' -o "$WORK/time/$name" "$@" >"$WORK/logs/$name.log" 2>&1; then
        echo "FAILED $name: $*" >&2
        tail -n 20 "$WORK/logs/$name.log" >&2
        return 1
    fi
}
peak_kib() { tail -n 1 "$WORK/time/$1" | cut -d' ' -f1; }
seconds() { tail -n 1 "$WORK/time/$1" | cut -d' ' -f2; }

# row ROUTE N IMAGES SHARD-NAMES MERGE-NAME: one line of results.tsv.
row() {
    local route="$1" n="$2" count="$3" shards="$4" merge="$5" s slowest=0 peak=0
    for s in $shards; do
        slowest="$(awk -v a="$slowest" -v b="$(seconds "$s")" 'BEGIN { print (b > a ? b : a) }')"
        peak="$(awk -v a="$peak" -v b="$(peak_kib "$s")" 'BEGIN { print (b > a ? b : a) }')"
    done
    if [ -n "$merge" ]; then
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$route" "$n" "$count" "$slowest" \
            "$(seconds "$merge")" "$peak" "$(peak_kib "$merge")" >>"$WORK/results.tsv"
    else
        printf '%s\t%s\t%s\t%s\t\t%s\t\n' "$route" "$n" "$count" "$slowest" "$peak" >>"$WORK/results.tsv"
    fi
}

# again NAME SHARD-CMD... --merge-- MERGE-CMD...: once merged, a shard run again
# and the merge run again must both succeed (the tree is compared later).
again() {
    local name="$1" shard=() merge=()
    shift
    while [ "$1" != --merge-- ]; do shard+=("$1"); shift; done
    shift
    merge=("$@")
    timed "$name-shard-again" "${shard[@]}" || die "$name: a shard run after the merge failed"
    timed "$name-merge-again" "${merge[@]}" || die "$name: a second merge failed"
}

# run_shards NAME N CMD...: CMD for I = 0..N-1 at once, with {I} in its
# arguments replaced by I; dies if any fails.
run_shards() {
    local name="$1" n="$2" i pids=() failed=0 cmd a
    shift 2
    for ((i = 0; i < n; i++)); do
        cmd=()
        for a in "$@"; do cmd+=("${a//\{I\}/$i}"); done
        timed "$name-shard-$i" "${cmd[@]}" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || failed=1; done
    [ "$failed" = 0 ] || die "$name: a shard failed (logs in $WORK/logs)"
}
shard_names() { local i; for ((i = 0; i < $2; i++)); do echo "$1-shard-$i"; done; }

trees=()

if [ "$SINGLE" = 1 ]; then
    echo "== one process, no --shard"
    timed single "$MASKFACE" mask "$INPUT" --out "$WORK/out/single" --models "$MODELS" \
        "${threads[@]}" "${mask_args[@]}" || die "the single-process run failed"
    row single 1 "$images" single ""
    trees+=(single)
fi

slurm=(bash "$repo/deploy/slurm/mask-array.sh")
for n in $NS; do
    echo "== Slurm script, $n shards"
    out="$WORK/out/slurm-$n"
    run_shards "slurm-$n" "$n" env SLURM_ARRAY_TASK_ID='{I}' SLURM_ARRAY_TASK_COUNT="$n" \
        "${slurm[@]}" "$INPUT" "$out" "${mask_args[@]}"
    timed "slurm-$n-merge" env MASKFACE_STEP=merge "${slurm[@]}" "$INPUT" "$out" ||
        die "slurm-$n: the merge failed"
    again "slurm-$n" env SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT="$n" \
        "${slurm[@]}" "$INPUT" "$out" "${mask_args[@]}" \
        --merge-- env MASKFACE_STEP=merge "${slurm[@]}" "$INPUT" "$out"
    row slurm "$n" "$images" "$(shard_names "slurm-$n" "$n")" "slurm-$n-merge"
    trees+=("slurm-$n")
done

# k8s_command FILE OUT: defines k8s_script (the container's `sh -c` string,
# verbatim), k8s_argv0 and k8s_env (the Job's env, the volume's paths
# replaced by local ones: INPUT, OUT, MODELS).
k8s_command() {
    eval "$(python3 - "$1" "INPUT=$INPUT" "OUT=$2" "MODELS=$MODELS" <<'PY'
import shlex, sys, yaml

path, local = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
job = next(d for d in yaml.safe_load_all(open(path)) if d and d.get("kind") == "Job")
pod = job["spec"]["template"]["spec"]
c = pod["containers"][0]
mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]
cmd = c["command"]
if cmd[:2] != ["sh", "-c"] or len(cmd) < 3:
    sys.exit(f"{path}: the container's command is not sh -c STRING")
env = []
for e in c.get("env", []):
    if "value" not in e:
        continue  # valueFrom (THREADS): set by the caller
    v = local.get(e["name"], e["value"])
    if any(v == m or v.startswith(m.rstrip("/") + "/") for m in mounts):
        sys.exit(f"{path}: env {e['name']}={v} is on the volume, and no local folder stands for it")
    env.append(f"{e['name']}={v}")
q = lambda xs: " ".join(shlex.quote(x) for x in xs)
print(f"k8s_script={shlex.quote(cmd[2])}")
print(f"k8s_argv0=({q(cmd[3:4] or ['sh'])})")
print(f"k8s_env=({q(env)})")
PY
    )"
}

for n in $K8S_NS; do
    echo "== Kubernetes Jobs' commands, $n shards"
    out="$WORK/out/k8s-$n"
    k8s_command deploy/kubernetes/mask-job.yaml "$out"
    mask_cmd=(env "${k8s_env[@]}" SHARDS="$n" THREADS="${THREADS:-0}" PATH="$WORK/bin:$PATH"
        sh -c "$k8s_script" "${k8s_argv0[@]}" "${mask_args[@]}")
    k8s_command deploy/kubernetes/merge-job.yaml "$out"
    merge_cmd=(env "${k8s_env[@]}" PATH="$WORK/bin:$PATH" sh -c "$k8s_script" "${k8s_argv0[@]}")
    run_shards "k8s-$n" "$n" env JOB_COMPLETION_INDEX='{I}' "${mask_cmd[@]}"
    timed "k8s-$n-merge" "${merge_cmd[@]}" || die "k8s-$n: the merge failed"
    again "k8s-$n" env JOB_COMPLETION_INDEX=0 "${mask_cmd[@]}" --merge-- "${merge_cmd[@]}"
    row kubernetes "$n" "$images" "$(shard_names "k8s-$n" "$n")" "k8s-$n-merge"
    trees+=("k8s-$n")
done

if [ "$COPIES" -gt 0 ]; then
    echo "== one process, every image $COPIES times"
    synth="$WORK/synth"
    mkdir -p "$synth"
    # Links to each image under COPIES other names: a large run at no disk cost.
    cp -rs "$INPUT" "$synth/copy0"
    find "$synth/copy0" ! -type d ! \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \
        -o -iname '*.bmp' -o -iname '*.tif' -o -iname '*.tiff' -o -iname '*.gif' -o -iname '*.webp' \) -delete
    for ((k = 1; k < COPIES; k++)); do cp -a "$synth/copy0" "$synth/copy$k"; done
    if [ "$SYNTH_MASK" = 1 ]; then
        timed synth "$MASKFACE" mask "$synth" --out "$WORK/out/synth" --models "$MODELS" \
            "${threads[@]}" "${mask_args[@]}" || die "the run over $synth failed"
        row "synth-x$COPIES" 1 "$(images_in "$synth")" synth ""
        # Only its time and memory matter; its output is COPIES times the input's.
        rm -rf "$WORK/out/synth"
    fi

    # A manifest of each tree (identity: the image's folder; all training
    # images), and shard 0 of 100 of an augment over it: the shard reads
    # every row but keeps its own.
    for tree in input synth; do
        dir="$INPUT"
        if [ "$tree" = synth ]; then dir="$synth"; fi
        python3 - "$dir" "$WORK/manifests/$tree" <<'PY'
import csv, json, os, sys

root, out = sys.argv[1], sys.argv[2]
exts = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".gif", ".webp"}
paths = sorted(
    os.path.relpath(os.path.join(d, f), root)
    for d, _, files in os.walk(root, followlinks=True)
    for f in files if os.path.splitext(f)[1].lower() in exts
)
who = sorted({os.path.dirname(p) for p in paths})
label = {w: i for i, w in enumerate(who)}
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "manifest.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["path", "identity", "label", "split", "origin", "transform"])
    for p in paths:
        d = os.path.dirname(p)
        w.writerow([p, d, label[d], "train", "", ""])
json.dump({"format_version": 1, "root": os.path.abspath(root), "stages": []},
          open(os.path.join(out, "manifest.json"), "w"))
print(len(paths))
PY
        rows="$(($(wc -l <"$WORK/manifests/$tree/manifest.csv") - 1))"
        timed "augment-$tree" "$MASKFACE" augment --manifest "$WORK/manifests/$tree/manifest.csv" \
            --out "$WORK/out/augment-$tree" --shard 0/100 "${threads[@]}" ||
            die "augment --shard 0/100 over the $tree manifest failed"
        row "augment-shard-$tree" 100 "$rows" "augment-$tree" ""
        rm -rf "$WORK/out/augment-$tree"
    done
fi

# Every file and folder of each merged tree, with the files' SHA-256.
listing() {
    (cd "$WORK/out/$1" && find . -type d | sort | sed 's/^/dir /' &&
        find . ! -type d -print0 | sort -z | xargs -0r sha256sum)
}
identical=true
if [ "${#trees[@]}" -gt 0 ]; then
    ref="${trees[0]}"
    listing "$ref" >"$WORK/logs/$ref.sha256"
    for t in "${trees[@]:1}"; do
        listing "$t" >"$WORK/logs/$t.sha256"
        if ! cmp -s "$WORK/logs/$ref.sha256" "$WORK/logs/$t.sha256"; then
            identical=false
            echo "DIFFERENT: $WORK/out/$t is not $WORK/out/$ref; first differences:" >&2
            diff "$WORK/logs/$ref.sha256" "$WORK/logs/$t.sha256" | head -n 20 >&2 || true
        fi
    done
fi

python3 - "$WORK/results.tsv" "$WORK/results.json" "$identical" "$INPUT" "$MASK_ARGS" "${trees[@]}" <<'PY'
import json, sys

tsv, out, identical, input_, args, trees = sys.argv[1], sys.argv[2], sys.argv[3] == "true", sys.argv[4], sys.argv[5], sys.argv[6:]
mib = lambda kib: round(int(kib) / 1024, 1) if kib else None
runs = []
for line in open(tsv):
    route, n, images, slowest, merge_s, peak, merge_peak = line.rstrip("\n").split("\t")
    wall = float(slowest) + (float(merge_s) if merge_s else 0.0)
    runs.append({
        "route": route, "shards": int(n), "images": int(images),
        "slowest_shard_s": float(slowest), "merge_s": float(merge_s) if merge_s else None,
        # An augment shard's row counts the manifest's rows, not its work.
        "wall_s": round(wall, 2),
        "images_per_s": round(int(images) / wall, 1) if wall and not route.startswith("augment") else None,
        "peak_mib": mib(peak), "merge_peak_mib": mib(merge_peak),
    })
json.dump({"input": input_, "mask_args": args, "compared": trees, "identical": identical,
           "runs": runs}, open(out, "w"), indent=2)
print(f"\n{'route':<12}{'N':>4}{'images':>9}{'wall s':>9}{'images/s':>10}{'peak MiB':>10}{'merge MiB':>11}")
for r in runs:
    fmt = lambda v: "-" if v is None else v
    print(f"{r['route']:<12}{r['shards']:>4}{r['images']:>9}{r['wall_s']:>9}{fmt(r['images_per_s']):>10}"
          f"{fmt(r['peak_mib']):>10}{fmt(r['merge_peak_mib']):>11}")
print("wall s: the slowest shard + the merge; peak MiB: the largest of one process")
print("augment-shard-*: augment --shard 0/100, images = the manifest's rows")
print(f"merged trees {'byte-identical' if identical else 'DIFFERENT'}: {', '.join(trees)}")
print(f"wrote {out}")
PY
[ "$identical" = true ]
