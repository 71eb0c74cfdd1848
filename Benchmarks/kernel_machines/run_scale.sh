#!/bin/bash
# Issue 13, deliverable 7: kernel machines at scale, Tangent against neural-tangents / JAX, one core each,
# alternating in one sitting (BENCHMARKS.md, "Kernel machines at scale").
# usage: Benchmarks/kernel_machines/run_scale.sh MNIST_DIR OUT [TANGENT] [PYTHON]
#   TANGENT defaults to .build/release/tangent, PYTHON to /work/envs/venv_nt/bin/python (../shared/anchors/setup_envs.sh).
set -euo pipefail
MNIST=${1:?usage: run_scale.sh MNIST_DIR OUT [TANGENT] [PYTHON]}
OUT=${2:?usage: run_scale.sh MNIST_DIR OUT [TANGENT] [PYTHON]}
TANGENT=${3:-.build/release/tangent}
PYTHON=${4:-/work/envs/venv_nt/bin/python}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
export TANGENT_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
measure() { # NAME COMMAND...: runs on core 1, keeps the log, prints the result lines, time and peak memory
  local name=$1; shift
  uptime
  /usr/bin/time -v taskset -c 1 "$@" > "$OUT/$name.log" 2>&1
  grep -E "^\{|fit:|accuracy|Maximum resident|Elapsed" "$OUT/$name.log"
}
# The notebook's FC-1 kernel on 10,000 MNIST images: kernel and t -> infinity predictor.
for round in 1 2; do
  measure "fc1-tangent-$round" "$TANGENT" kernel fit --kernel fc1 --data-dir "$MNIST" --task all --train 10000 --test 1000 \
    --pick first --out "$OUT/fc1-tangent-$round"
  measure "fc1-nt-$round" "$PYTHON" "$HERE/scale_nt.py" "$MNIST" --train 10000 --test 1000
done
measure fc1-nt-float32 "$PYTHON" "$HERE/scale_nt.py" "$MNIST" --train 10000 --test 1000 --float32
# PGD-10 through the empirical NTK predictor of the MNIST CNN at initialisation, 1,000 training images.
measure empirical-tangent "$TANGENT" kernel attack --kernel empirical-init:mnist-cnn:0 --data-dir "$MNIST" --task all \
  --train 1000 --test 20 --pick first --attack pgd --eps 0.1 --steps 10 --step-size 0.01 --out "$OUT/empirical-tangent"
measure empirical-jax "$PYTHON" "$HERE/empirical_attack_jax.py" "$MNIST" --train 1000 --test 20 --reps 2 --block 50
