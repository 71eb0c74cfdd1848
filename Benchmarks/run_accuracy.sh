#!/bin/sh
# Accuracy runs for BENCHMARKS.md with the paper's settings (SGD lr 0.01, no momentum, batch 300/250,
# training images in file order as in the reference script ../shared/anchors/train_ref_torch.py).
# Two lanes side by side, one thread each (TANGENT_THREADS=1: no oversubscription of the 2 cores).
# A run folder that already has checkpoints is resumed rather than restarted (resume is bit-exact).
# usage: Benchmarks/run_accuracy.sh DATA_ROOT OUT_DIR     (DATA_ROOT has mnist/ and cifar10/)
set -eu
DATA=${1:?usage: run_accuracy.sh DATA_ROOT OUT_DIR}
OUT=${2:?usage: run_accuracy.sh DATA_ROOT OUT_DIR}
T=$(cd "$(dirname "$0")/.." && pwd)/.build/release/tangent
export TANGENT_THREADS=1
mkdir -p "$OUT"
common="--no-shuffle --eval-train-subset 1000"
train() {  # NAME ARGS...: a new run, or the continuation of an interrupted one
  name=$1; shift
  if [ -d "$OUT/$name/checkpoints" ]; then $T train --resume "$OUT/$name" >> "$OUT/$name.log"
  else $T train "$@" --run-dir "$OUT/$name" > "$OUT/$name.log"; fi
}
(
  # Standard training, 10 epochs, then PGD-20 at three ε on 1,000 test images; seeds 1 and 2 for 3 epochs.
  train mnist-standard --data-dir $DATA/mnist --epochs 10 $common --robust-eval-subset 0
  $T eval $OUT/mnist-standard --eps 0.1,0.2,0.3 --test-subset 1000 > $OUT/mnist-standard-eval.txt
  for s in 1 2; do
    train mnist-standard-seed$s --data-dir $DATA/mnist --epochs 3 --seed $s $common --robust-eval-subset 0
  done
  # CIFAR-10 CNN, 3 epochs, 2,000 test images.
  train cifar-standard --model cifar-cnn --data-dir $DATA/cifar10/cifar-10-binary-from-jpeg.tar.gz --epochs 3 \
    --test-subset 2000 $common --robust-eval-subset 0
) &
(
  # PGD-20 adversarial training (ε 0.3, step 0.01, start at 0), 3 epochs; clean and PGD-20 accuracy on 1,000 test images.
  train mnist-pgd --data-dir $DATA/mnist --epochs 3 $common --adversarial pgd --robust-eval-subset 1000
) &
wait
