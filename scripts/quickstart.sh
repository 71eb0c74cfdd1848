#!/usr/bin/env bash
# The quick start: builds Tangent, trains the paper's MNIST CNN on the MNIST sample shipped in the package
# for 5 epochs with the probe's NTK tracked every epoch and a small robust (PGD-20) evaluation, then analyses
# the run and says where the plots are. Extra options go to `tangent train` (e.g. --adversarial pgd).
# usage: scripts/quickstart.sh [RUN_DIR] [train options…]     (default RUN_DIR: runs/quickstart)
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-runs/quickstart}
shift || true
scripts/install-deps.sh
swift build -c release --product tangent
tangent=.build/release/tangent
start=$(date +%s)
$tangent train --epochs 5 --momentum 0.9 --ntk-every-epoch --ntk-probe-size 100 --robust-eval-subset 200 \
    --run-dir "$run" --overwrite "$@"
$tangent analyze "$run"
echo "training and analysis took $(( $(date +%s) - start )) s"
echo "open $run/analysis/index.html for every plot (kernel distance to K0, norm, concentration, polar dynamics, accuracy)"
