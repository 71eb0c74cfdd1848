#!/bin/sh
# Accuracy runs for BENCHMARKS.md with the paper's settings (SGD lr 0.01, no momentum, batch 300/250,
# training images in file order as in the reference script ../shared/anchors/train_ref_torch.py).
# usage: Benchmarks/run_accuracy.sh DATA_ROOT OUT_DIR     (DATA_ROOT has mnist/ and cifar10/)
set -eu
DATA=${1:?usage: run_accuracy.sh DATA_ROOT OUT_DIR}
OUT=${2:?usage: run_accuracy.sh DATA_ROOT OUT_DIR}
T=$(cd "$(dirname "$0")/.." && pwd)/.build/release/tangent
mkdir -p "$OUT"
common="--no-shuffle --eval-train-subset 1000"
# 1. Standard training, 10 epochs, then PGD-20 at three ε on 1,000 test images.
$T train --data-dir $DATA/mnist --epochs 10 $common --robust-eval-subset 0 --run-dir $OUT/mnist-standard > $OUT/mnist-standard.log
$T eval $OUT/mnist-standard --eps 0.1,0.2,0.3 --test-subset 1000 > $OUT/mnist-standard-eval.txt
# 2. Seeds 1 and 2 for 3 epochs (seed spread).
for s in 1 2; do
  $T train --data-dir $DATA/mnist --epochs 3 --seed $s $common --robust-eval-subset 0 --run-dir $OUT/mnist-standard-seed$s > $OUT/mnist-standard-seed$s.log
done
# 3. CIFAR-10 CNN, 3 epochs, 2,000 test images.
$T train --model cifar-cnn --data-dir $DATA/cifar10/cifar-10-binary-from-jpeg.tar.gz --epochs 3 --test-subset 2000 $common --robust-eval-subset 0 --run-dir $OUT/cifar-standard > $OUT/cifar-standard.log
# 4. PGD-20 adversarial training (ε 0.3, step 0.01, start at 0), 3 epochs; clean and PGD-20 accuracy on 1,000 test images.
$T train --data-dir $DATA/mnist --epochs 3 $common --adversarial pgd --robust-eval-subset 1000 --run-dir $OUT/mnist-pgd > $OUT/mnist-pgd.log
