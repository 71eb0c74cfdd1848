#!/bin/sh
# Accuracy runs for BENCHMARKS.md with the paper's settings (SGD lr 0.01, no momentum, batch 300/250,
# training images in file order as in the reference script ../shared/anchors/train_ref_torch.py).
# The jobs run two at a time, one thread each (TANGENT_THREADS=1, OMP_NUM_THREADS=1: no oversubscription
# of the 2 cores), longest first. A run folder that already has checkpoints is resumed rather than
# restarted (resume is bit-exact). With TORCH_PYTHON, the PyTorch reference CIFAR-10 runs join the queue.
# usage: Benchmarks/run_accuracy.sh DATA_ROOT OUT_DIR [TORCH_PYTHON]     (DATA_ROOT has mnist/ and cifar10/)
set -eu
if [ "${1:-}" = "--job" ]; then
  job=$2 DATA=$3 OUT=$4 PY=${5:-}
  T=$(cd "$(dirname "$0")/.." && pwd)/.build/release/tangent
  A=$(cd "$(dirname "$0")/.." && pwd)/../shared/anchors
  CIFAR=$DATA/cifar10/cifar-10-binary-from-jpeg.tar.gz
  common="--no-shuffle --eval-train-subset 1000"
  train() {  # NAME ARGS...: a new run, or the continuation of an interrupted one
    name=$1; shift
    if [ -d "$OUT/$name/checkpoints" ]; then $T train --resume "$OUT/$name" >> "$OUT/$name.log"
    else $T train "$@" --run-dir "$OUT/$name" > "$OUT/$name.log"; fi
  }
  case $job in
    # PGD-20 adversarial training (ε 0.3, step 0.01, start at 0); clean and PGD-20 accuracy on 1,000 test images.
    mnist-pgd) train mnist-pgd --data-dir $DATA/mnist --epochs 3 $common --adversarial pgd --robust-eval-subset 1000 ;;
    # CIFAR-10 CNN, 3 epochs, all 10,000 test images (a common test set for both frameworks).
    cifar-seed*) train $job --model cifar-cnn --data-dir $CIFAR --epochs 3 --seed ${job#cifar-seed} $common --robust-eval-subset 0 ;;
    torch-cifar-seed*) $PY $A/train_ref_torch.py --dataset cifar --data $CIFAR --epochs 3 --seed ${job#torch-cifar-seed} > "$OUT/$job.jsonl" ;;
    # Standard training, 10 epochs, then PGD-20 at three ε on 1,000 test images; seeds 1 and 2 for 3 epochs.
    mnist-standard)
      train mnist-standard --data-dir $DATA/mnist --epochs 10 $common --robust-eval-subset 0
      $T eval $OUT/mnist-standard --eps 0.1,0.2,0.3 --test-subset 1000 > $OUT/mnist-standard-eval.txt ;;
    mnist-standard-seed*) train $job --data-dir $DATA/mnist --epochs 3 --seed ${job#mnist-standard-seed} $common --robust-eval-subset 0 ;;
  esac
  exit 0
fi
DATA=${1:?usage: run_accuracy.sh DATA_ROOT OUT_DIR [TORCH_PYTHON]}
OUT=${2:?usage: run_accuracy.sh DATA_ROOT OUT_DIR [TORCH_PYTHON]}
PY=${3:-}
export TANGENT_THREADS=1 OMP_NUM_THREADS=1
mkdir -p "$OUT"
jobs="mnist-pgd cifar-seed0 cifar-seed1 cifar-seed2 mnist-standard mnist-standard-seed1 mnist-standard-seed2"
[ -n "$PY" ] && jobs="mnist-pgd cifar-seed0 torch-cifar-seed0 cifar-seed1 torch-cifar-seed1 cifar-seed2 torch-cifar-seed2 mnist-standard mnist-standard-seed1 mnist-standard-seed2"
for j in $jobs; do echo "$j"; done | xargs -P 2 -I JOB sh "$0" --job JOB "$DATA" "$OUT" "$PY"
