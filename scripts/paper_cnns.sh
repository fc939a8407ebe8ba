#!/usr/bin/env bash
# The paper's experiment in full (Ning and Cai, 2023, section 3.2 and tables
# 1-5): InceptionResnetV1, ResNet50 and VGG16 fine-tuned on the masked upper
# faces of the authors' split with the paper's recipe (Adam 1e-3, batch 8,
# the classifier alone for 2 epochs except InceptionResnetV1, at most 35 / 50
# / 50 epochs, best by validation loss), each evaluated at its best and its
# last epoch, and each against 1,000 masked strangers.
#
# Meant for a GPU machine: two CPU cores take about 20 minutes an epoch for
# InceptionResnetV1, 55 for ResNet50 and 2.2 hours for VGG16 (see
# docs/results.md). Build first with the backend's feature:
#
#   cargo build --release -p maskface-cli --features cuda   # or wgpu
#   BACKEND=cuda INIT=distilled bash scripts/paper_cnns.sh
#
# Environment: BACKEND (flex, wgpu or cuda; default flex), INIT (random,
# distilled or a weight file; default random; `distilled` runs `maskface
# pretrain` first when models/<model>-distilled.bpk is missing), NETS
# (default "inception-resnet-v1 resnet50 vgg16"), EPOCHS (overrides the
# paper's), DATA (default data/paper), BIN (default target/release/maskface).
# Every step resumes: run it again after an interruption.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND="${BACKEND:-flex}"
INIT="${INIT:-random}"
NETS="${NETS:-inception-resnet-v1 resnet50 vgg16}"
DATA="${DATA:-data/paper}"
BIN="${BIN:-target/release/maskface}"
[ -x "$BIN" ] || { echo "error: $BIN not built (cargo build --release -p maskface-cli)" >&2; exit 1; }

"$BIN" generate --manifest data/curated/manifest.csv --out "$DATA/masked" --variants masked-upper --backend "$BACKEND"
"$BIN" augment --manifest "$DATA/masked/masked_upper/manifest.csv" --out "$DATA/augmented"

for net in $NETS; do
    if [ "$INIT" = distilled ] && [ ! -f "models/$net-distilled.bpk" ]; then
        "$BIN" pretrain --model "$net" --backend "$BACKEND" --out "$DATA/pretrain-$net" --install
    fi
    out="$DATA/train-$net-$INIT"
    "$BIN" train --model "$net" --train "$DATA/augmented/manifest.csv" --init "$INIT" \
        --backend "$BACKEND" ${EPOCHS:+--epochs "$EPOCHS"} --out "$out"
    for model in model model-last; do
        "$BIN" evaluate --model "$out/$model.json" --manifest "$DATA/augmented/manifest.csv"
    done
    "$BIN" openset --model "$out/model.json" --targets "$DATA/masked/masked_upper/manifest.csv" \
        --scores confidence,max-logit --out "$DATA/openset-$net-$INIT"
done
