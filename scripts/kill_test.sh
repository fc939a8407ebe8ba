#!/usr/bin/env bash
# The crash-safety harness at full strength: each resumable command
# (generate, augment, train, enroll, openset) killed with SIGKILL at 20 seeded random
# moments, then run to its end and compared byte for byte with an
# uninterrupted run (crates/maskface-cli/tests/reliability.rs; CI runs 3
# kills each). Also runs the disk-full and concurrent-enroll tests, which
# need root (for the tmpfs) and the models (scripts/setup.sh).
#
#   bash scripts/kill_test.sh [kills]
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS="${1:-20}"
MASKFACE_KILLS="$KILLS" cargo test --locked -p maskface-cli --test reliability -- --test-threads 1 --nocapture
