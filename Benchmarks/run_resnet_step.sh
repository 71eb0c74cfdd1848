#!/bin/sh
# ResNet-20 SGD step at batch 128 against its PyTorch twin (Benchmarks/reference/resnet20_torch.py), and the paper
# CNNs' SGD step of a baseline binary against the current one — interleaved rounds, each under the anchors'
# run_isolated.py (peak RSS, wall time, CPU used by other processes meanwhile).
# usage: Benchmarks/run_resnet_step.sh BASELINE_BIN NEW_BIN ENV_ROOT OUT.jsonl [ROUNDS]
set -u
BASE=${1:?usage: run_resnet_step.sh BASELINE_BIN NEW_BIN ENV_ROOT OUT.jsonl [ROUNDS]}
NEW=${2:?}; ENV=${3:?}; OUT=${4:?}; ROUNDS=${5:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
A=$HERE/../shared/anchors
ISO="python3 $A/run_isolated.py --limit-gb 20 --timeout-s 900 --"
run() { echo "# round $round $*" >> "$OUT"; $ISO "$@" >> "$OUT" 2>/dev/null; }
round=1
while [ $round -le "$ROUNDS" ]; do
  run "$NEW" bench --model resnet20 --task train --batch-size 128 --reps 10
  run "$ENV/venv_torch/bin/python" "$HERE/Benchmarks/reference/resnet20_torch.py" --reps 10
  for net in mnist-cnn cifar-cnn; do
    reps=20; [ $net = cifar-cnn ] && reps=10
    run "$BASE" bench --model $net --task train --reps $reps
    run "$NEW" bench --model $net --task train --reps $reps
  done
  round=$((round + 1))
done
