#!/bin/sh
# Cross-check of Tangent's full empirical NTK against neural-tangents (issue 5, BENCHMARKS.md):
# the MNIST CNN (seed 0) on the first 300 images of the real MNIST training set.
#
#   swift build -c release && Benchmarks/ntk_crosscheck/run.sh
#
# Environment: TANGENT (the CLI), DATA (the MNIST folder), PY (python with jax + neural-tangents + flax),
# OUT (where the exchanged files go; default bench-out/ntk_crosscheck, not committed).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TANGENT=${TANGENT:-$ROOT/.build/release/tangent}
DATA=${DATA:-$ROOT/../shared/data/mnist}
PY=${PY:-/work/envs/venv_nt/bin/python}
OUT=${OUT:-$ROOT/bench-out/ntk_crosscheck}
mkdir -p "$OUT"

# 1. Export a seeded MNIST CNN as a plain parameter file (conv1.weight, ..., metadata model=mnist-cnn).
"$TANGENT" ntk --model mnist-cnn --seed 0 --data-dir "$DATA" --probe first --probe-size 300 --ntk-kind full \
    --save-model "$OUT/model.safetensors.zst" --out "$OUT/kernel-fresh.safetensors.zst"

# 2. Tangent's full kernel of the exported model, loaded back from the file, with the probe images saved.
"$TANGENT" ntk "$OUT/model.safetensors.zst" --data-dir "$DATA" --probe first --probe-size 300 --ntk-kind full \
    --save-inputs --out "$OUT/kernel.safetensors.zst"

# 3. neural-tangents on the same weights and inputs.
"$PY" "$ROOT/Benchmarks/ntk_crosscheck/crosscheck.py" --model "$OUT/model.safetensors.zst" \
    --kernel "$OUT/kernel.safetensors.zst"
