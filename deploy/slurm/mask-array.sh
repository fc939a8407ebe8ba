#!/usr/bin/env bash
# `maskface mask` over a Slurm job array: SHARDS tasks, each masking one
# shard of INPUT into the shared OUT, then one job that merges them.
#
#   bash deploy/slurm/mask-array.sh INPUT OUT [maskface mask options...]
#   e.g. SHARDS=64 MASKFACE=$PWD/target/release/maskface MODELS=$PWD/models \
#        bash deploy/slurm/mask-array.sh data/lfw runs/lfw-masked --mask-type surgical --seed 42
#
# One script, three steps; MASKFACE_STEP chooses, else SLURM_ARRAY_TASK_ID:
#   submit  (default outside an array task) submits the array and the merge
#           job that waits for it (afterok). Run it on a login node.
#   shard   (default when SLURM_ARRAY_TASK_ID is set) runs
#           maskface mask INPUT --out OUT --shard TASK_ID/SHARDS.
#   merge   runs maskface merge OUT.
# The shard and merge steps run as well outside Slurm, which is how a
# sharded run is rehearsed on one machine (scripts/simulate_shards.sh):
#   SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=4 bash deploy/slurm/mask-array.sh IN OUT
#   MASKFACE_STEP=merge bash deploy/slurm/mask-array.sh IN OUT
#
# Environment (submit step; sbatch exports it to every task):
#   SHARDS=16       array size, the N of --shard I/N
#   MAXRUNNING=16   tasks running at once (the %N of --array), to spare the
#                   shared file system
#   ARRAY=0-15      indices to submit, default all; see "Failures" below
#   MASKFACE        the binary, default `maskface` on PATH (on the nodes too)
#   MODELS          weights folder for --models, default maskface's `models`
#   THREADS         --threads per task, default the task's --cpus-per-task
#   LOGS=slurm-logs folder of the tasks' logs
# sbatch's own SBATCH_PARTITION, SBATCH_ACCOUNT and SBATCH_TIMELIMIT
# override the headers below without editing them.
#
# Failures: every shard is resumable, so a task that is requeued (node
# failure, preemption: --requeue) or resubmitted redoes only the images it
# had not finished. When tasks fail, the merge job is cancelled (its
# afterok can no longer be met); submit the failed indices again, with the
# same SHARDS and options, and a new merge job follows them:
#   ARRAY=3,7 SHARDS=16 bash deploy/slurm/mask-array.sh INPUT OUT [options...]
# (this runs sbatch --array=3,7 ...). Shards that had finished are not
# touched; `maskface merge` names any shard still missing.
#
#SBATCH --job-name=maskface-mask
# Images are decoded and masked on rayon threads (--threads).
#SBATCH --cpus-per-task=4
# A shard stays under 1 GiB whatever its size; 2G leaves headroom.
#SBATCH --mem=2G
#SBATCH --time=02:00:00
#SBATCH --requeue
# A requeued task appends to its log instead of truncating it.
#SBATCH --open-mode=append
set -euo pipefail

die() { echo "mask-array.sh: $*" >&2; exit 2; }

[ $# -ge 2 ] || die "usage: bash $0 INPUT OUT [maskface mask options...]"
INPUT="$1" OUT="$2"
shift 2
MASKFACE="${MASKFACE:-maskface}"

if [ -n "${MASKFACE_STEP:-}" ]; then
    step="$MASKFACE_STEP"
elif [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
    step=shard
else
    step=submit
fi

case "$step" in
submit)
    SHARDS="${SHARDS:-16}"
    MAXRUNNING="${MAXRUNNING:-16}"
    ARRAY="${ARRAY:-0-$((SHARDS - 1))}"
    LOGS="${LOGS:-slurm-logs}"
    [ -e "$INPUT" ] || die "$INPUT does not exist"
    # Each of these would fail every task of the array, one by one.
    for a in "$@"; do
        case "$a" in
        --overwrite | --out | --out=* | --shard | --shard=*)
            die "$a is not a mask option here (the script sets --out and --shard; --overwrite cannot be sharded)" ;;
        esac
    done
    mkdir -p "$LOGS"
    # The shard count travels as MASKFACE_SHARDS: SLURM_ARRAY_TASK_COUNT is
    # the size of this submission, 2 for a resubmitted --array=3,7.
    array_id=$(sbatch --parsable --chdir="$PWD" \
        --array="$ARRAY%$MAXRUNNING" \
        --output="$LOGS/%x-%A_%a.out" \
        --export="ALL,MASKFACE_STEP=shard,MASKFACE_SHARDS=$SHARDS" \
        "$0" "$INPUT" "$OUT" "$@")
    array_id="${array_id%%;*}" # --parsable prints "id;cluster" on multi-cluster setups
    # A merge that can never start (a task failed) is cancelled, not left pending.
    merge_id=$(sbatch --parsable --chdir="$PWD" \
        --job-name=maskface-merge --cpus-per-task=1 --mem=2G --time=00:30:00 \
        --dependency="afterok:$array_id" --kill-on-invalid-dep=yes \
        --output="$LOGS/%x-%j.out" \
        --export="ALL,MASKFACE_STEP=merge" \
        "$0" "$INPUT" "$OUT")
    merge_id="${merge_id%%;*}"
    echo "submitted shards $ARRAY of $SHARDS: job $array_id; merge: job $merge_id (logs in $LOGS/)"
    ;;
shard)
    : "${SLURM_ARRAY_TASK_ID:?shard step outside an array task: set SLURM_ARRAY_TASK_ID}"
    shards="${MASKFACE_SHARDS:-${SLURM_ARRAY_TASK_COUNT:?set SLURM_ARRAY_TASK_COUNT or MASKFACE_SHARDS}}"
    threads="${THREADS:-${SLURM_CPUS_PER_TASK:-}}"
    if [ -n "$threads" ]; then set -- --threads "$threads" "$@"; fi
    if [ -n "${MODELS:-}" ]; then set -- --models "$MODELS" "$@"; fi
    exec "$MASKFACE" mask "$INPUT" --out "$OUT" --shard "$SLURM_ARRAY_TASK_ID/$shards" "$@"
    ;;
merge)
    exec "$MASKFACE" merge "$OUT"
    ;;
*)
    die "MASKFACE_STEP=$step: expected submit, shard or merge"
    ;;
esac
