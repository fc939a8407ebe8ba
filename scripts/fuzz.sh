#!/usr/bin/env bash
# Fuzzes every reader of outside files (fuzz/README.md) with cargo-fuzz
# (libFuzzer, nightly toolchain): installs cargo-fuzz when it is missing,
# builds the targets and runs each for SECONDS (default 600), one after the
# other, at the lowest priority.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]      (default: every target)
#
# Seeds come from fuzz/corpus/<target> (committed, read only here); what the
# fuzzer finds goes to fuzz/work/<target>, crashes to fuzz/artifacts/<target>,
# the logs to fuzz/logs/<target>.log (all git-ignored). The last lines print
# each target's executions and crashes. To keep new coverage, merge it into
# the committed corpus:
#   cargo +nightly fuzz run -s none TARGET -- -merge=1 fuzz/corpus/TARGET fuzz/work/TARGET
# and copy each crash into fuzz/regressions/TARGET/ once it is fixed (a crash
# of a model-file reader becomes a unit test that builds its bytes instead:
# model-shaped files stay out of git).
set -euo pipefail
cd "$(dirname "$0")/.."

per_target="${1:-600}"
shift || true

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "error: cargo-fuzz needs a nightly toolchain: rustup toolchain install nightly" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz: installing"
    cargo install cargo-fuzz --locked
fi

# No sanitizer: the project's crates forbid unsafe code, and without ASan
# the targets build and run about twice as fast. Debug assertions (overflow
# checks) are on.
cargo +nightly fuzz build -s none

# The model-shaped seeds (tiny dlib networks and shape predictors, PyTorch
# files, facenet-pytorch's P-Net from models/) are written here, not kept in
# git: weights come from the setup script, not the repository.
python3 fuzz/make_seeds.py

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
mkdir -p fuzz/logs
status=0
for t in "${targets[@]}"; do
    mkdir -p "fuzz/work/$t" "fuzz/corpus/$t" "fuzz/artifacts/$t"
    echo "== $t: ${per_target} s"
    # -timeout: an input that takes a minute is a hang; -rss_limit_mb: the
    # image budget (512 MiB) plus the decoder's working memory.
    if ! nice -n 19 cargo +nightly fuzz run -s none "$t" "fuzz/work/$t" "fuzz/corpus/$t" -- \
        -max_total_time="$per_target" -timeout=60 -rss_limit_mb=4096 \
        -print_final_stats=1 >"fuzz/logs/$t.log" 2>&1; then
        status=1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "fuzz/logs/$t.log" | grep -o '[0-9]*$' || true)
    crashes=$(find "fuzz/artifacts/$t" -type f | wc -l)
    echo "$t: ${runs:-?} executions in ${per_target} s, ${crashes} crash files in fuzz/artifacts/$t"
done
exit "$status"
