#!/usr/bin/env bash
# Builds the DocC documentation of every library module (articles in Sources/Tangent/Tangent.docc) with
# warnings treated as errors, and checks that every public declaration has a /// comment.
# The archives land in .build/plugins/Swift-DocC/outputs/.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/check-doc-comments.py
targets=()
for t in Kernels Autodiff NN Datasets Checkpoints Robustness NTK KernelMachines Plots TensorBoard Training Workbench Tangent; do targets+=(--target "$t"); done
swift package generate-documentation --warnings-as-errors "${targets[@]}"
