#!/bin/bash
# Issue 15, deliverable 5: whole-training-set Gram matrices on one machine (BENCHMARKS.md, "Whole-training-set
# kernels"). Tangent's tiled on-disk store under an 8 GB budget, then the top-100 eigenpairs and the kernel-regression
# solve out of core; neural-tangents on the same work where it fits in memory. One process at a time, on whatever
# cores the caller gives it (BENCHMARKS.md runs it on one: TANGENT_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 1).
# usage: Benchmarks/kernel_machines/run_gram.sh MNIST_DIR OUT STORE_ROOT [TANGENT] [PYTHON] [SECTIONS]
#   SECTIONS: any of fc1-10k empirical-10k fc1-60k (default: all three)
#   TANGENT defaults to .build/release/tangent, PYTHON to /work/envs/venv_nt/bin/python (../shared/anchors/setup_envs.sh).
set -euo pipefail
MNIST=${1:?usage: run_gram.sh MNIST_DIR OUT STORE_ROOT [TANGENT] [PYTHON] [SECTIONS]}
OUT=${2:?usage: run_gram.sh MNIST_DIR OUT STORE_ROOT [TANGENT] [PYTHON] [SECTIONS]}
STORE=${3:?usage: run_gram.sh MNIST_DIR OUT STORE_ROOT [TANGENT] [PYTHON] [SECTIONS]}
TANGENT=${4:-.build/release/tangent}
PYTHON=${5:-/work/envs/venv_nt/bin/python}
SECTIONS=${6:-fc1-10k empirical-10k fc1-60k}
HERE=$(cd "$(dirname "$0")" && pwd)
ANCHORS=$HERE/../../../shared/anchors
mkdir -p "$OUT" "$STORE"
measure() { # NAME COMMAND...: keeps the log, prints the result lines, wall time and peak memory
  local name=$1; shift
  uptime
  /usr/bin/time -v "$@" > "$OUT/$name.log" 2>&1 || echo "$name failed (exit status $?): see $OUT/$name.log"
  grep -E "^\{|tiles computed|eigenpairs|solve:|peak resident|Maximum resident|Elapsed" "$OUT/$name.log"
}
gram() { # NAME KERNEL TRAIN TEST EXTRA...: a fresh store (KEEP_STORES=1 keeps a finished one), then --top 100
  # and --solve within BUDGET_MB (default 8192)
  local name=$1 kernel=$2 train=$3 test=$4; shift 4
  [ "${KEEP_STORES:-0}" = 1 ] || rm -rf "${STORE:?}/$name"
  measure "$name" "$TANGENT" kernel gram --kernel "$kernel" --data-dir "$MNIST" --task all --train "$train" --test "$test" \
    --pick first --store "$STORE/$name" --top 100 --solve --memory-budget "${BUDGET_MB:-8192}" --out "$OUT/$name" "$@"
  du -sb "$STORE/$name/tiles" | awk '{printf "store: %.2f GB on disk\n", $1 / 1e9}'
}
for section in $SECTIONS; do
  case $section in
  fc1-10k)
    # The notebook's FC-1 kernel on 10,000 images, no ridge: Tangent's store against neural-tangents' nt.batch
    # kernel_fn and its t -> infinity predictor (an eigendecomposition of the whole Gram matrix), float64 both.
    gram fc1-10k-tangent fc1 10000 1000
    measure fc1-10k-nt "$PYTHON" "$HERE/scale_nt.py" "$MNIST" --train 10000 --test 1000 ;;
  fc1-60k)
    # The whole MNIST training set: 60,000 x 60,000 in float64 is 28.8 GB, more than this machine's memory, so
    # neural-tangents' dense kernel and predictor do not fit; a small ridge keeps conjugate gradients short.
    gram fc1-60k-tangent fc1 60000 10000 --ridge 0.1 --tolerance 1e-3 ;;
  empirical-10k)
    # The traced empirical NTK of the MNIST CNN at initialisation on 10,000 images (Tangent: the upper triangle in
    # tiles); neural-tangents' structured empirical_ntk_fn through nt.batch on a 1,000 x 10,000 slab of the same
    # size of problem (its record extrapolates to the full kernel, which it computes whole, not by symmetry).
    # Without a ridge, conjugate gradients stall here (relative residual 0.013 after 2,000 iterations).
    gram empirical-10k-tangent empirical-init:mnist-cnn:0 10000 1000 --ridge 10 --tolerance 1e-3
    measure empirical-10k-nt "$PYTHON" "$ANCHORS/bench_jax.py" --net mnist --task ntk --impl 3 --ntk trace \
      --batch 10000 --rows 1000 --block 500 --reps 1 --warmup 0 ;;
  *) echo "unknown section $section" >&2; exit 2 ;;
  esac
done
