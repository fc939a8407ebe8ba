#!/usr/bin/env bash
# The CubeCL kernels of maskface-kernels (the fused convolution + bias +
# PReLU) on burn's GPU backend, against burn's own operations on the CPU:
# the kernel's cases (outputs, and gradients under autodiff) and MTCNN's
# R-Net layers.
#
# Outside CI: building wgpu takes 12 to 30 minutes on two cores. Any Vulkan,
# Metal or DirectX device works; on a machine without a GPU, Debian's
# `mesa-vulkan-drivers` (lavapipe) is a Vulkan device on the CPU:
#
#   apt-get install mesa-vulkan-drivers
#   bash scripts/test_gpu_kernels.sh            # wgpu
#   FEATURE=cuda bash scripts/test_gpu_kernels.sh   # an NVIDIA GPU
#
# Environment: FEATURE (wgpu or cuda; default wgpu): the tests run on that
# backend's default device.
set -euo pipefail
cd "$(dirname "$0")/.."
FEATURE="${FEATURE:-wgpu}"
case "$FEATURE" in
    wgpu | cuda) ;;
    *) echo "error: FEATURE must be wgpu or cuda, not '$FEATURE'" >&2; exit 2 ;;
esac

echo "== the fused kernel's cases on $FEATURE ($(date +%T))"
cargo test --locked -p maskface-kernels --features "$FEATURE" --test conv2d_prelu -- --test-threads 1
echo "== MTCNN's layers on $FEATURE ($(date +%T))"
cargo test --locked -p maskface-nets --features "$FEATURE" --lib -- mtcnn::nets::tests --test-threads 1
echo "== done ($(date +%T))"
