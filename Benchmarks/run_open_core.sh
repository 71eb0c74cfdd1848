#!/bin/sh
# Issue 10 benchmarks for BENCHMARKS.md, in one sitting: the rewritten core against a frozen build of the code
# before it (no regression, unchanged kernels), and the full empirical NTK of ResNet-20 against neural-tangents.
# Every measurement runs in its own process under run_isolated.py (peak RSS, wall time, CPU used by other
# processes meanwhile).
# usage: Benchmarks/run_open_core.sh BASELINE_BIN NEW_BIN ENV_ROOT OUT.jsonl [regression kernels resnet]
#   regression  `tangent bench --model mnist-cnn|cifar-cnn --task train|pgd|ntk --ntk full`, both binaries,
#               interleaved (baseline, new, baseline, new, ...; ROUNDS pairs per workload)
#   kernels     the paper CNNs' full kernels from both binaries (seed 0; first 300 MNIST / 250 CIFAR-10 training
#               images), compared tensor by tensor (ntk_resnet/compare_kernels.py)
#   resnet      ResNet-20's full kernel from NEW_BIN for N in RESNET_SIZES, then neural-tangents' three
#               implementations on the same weights and inputs, each in its own process (ntk_resnet/resnet_nt.py)
# ENV_ROOT holds venv_nt from ../shared/anchors/setup_envs.sh. Settings (environment):
#   ROUNDS (3), WORKLOADS (regression workloads to run, e.g. "cifar-cnn pgd,mnist-cnn ntk"; all), NOISE (0.05: before each measurement wait up to QUIET_WAIT=600 s until other processes use less
#   than this share of the machine, and repeat a measurement during which they used more, ATTEMPTS=3 times at
#   most; every attempt stays in OUT), RESNET_SIZES ("50 100 250"), WORK (kernel and model files;
#   bench-out/open_core), LIMIT_GB (21, RSS ceiling of one process).
# Summary tables: python3 Benchmarks/ntk_resnet/summarize_open_core.py OUT.jsonl
set -u
usage="usage: run_open_core.sh BASELINE_BIN NEW_BIN ENV_ROOT OUT.jsonl [sections]"
BASE=${1:?$usage}
NEW=${2:?$usage}
ENV=${3:?$usage}
OUT=${4:?$usage}
shift 4
SECTIONS=${*:-regression kernels resnet}
HERE=$(cd "$(dirname "$0")/.." && pwd)
A=$HERE/../shared/anchors
DATA=$HERE/../shared/data
MNIST=$DATA/mnist
CIFAR=$DATA/cifar10/cifar-10-binary-from-jpeg.tar.gz
PY=$ENV/venv_nt/bin/python
ROUNDS=${ROUNDS:-3}
NOISE=${NOISE:-0.05}
ATTEMPTS=${ATTEMPTS:-3}
QUIET_WAIT=${QUIET_WAIT:-600}
RESNET_SIZES=${RESNET_SIZES:-50 100 250}
WORKLOADS=${WORKLOADS:-all}
WORK=${WORK:-$HERE/bench-out/open_core}
LIMIT_GB=${LIMIT_GB:-21}
ISO="python3 $A/run_isolated.py --limit-gb $LIMIT_GB --timeout-s 1800 --"
TMP=$(mktemp)
mkdir -p "$WORK"

# busy and total jiffies of the whole machine (user nice system irq softirq steal; plus idle iowait)
jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

# Waits until the machine has been quiet (busy share < NOISE) for 3 s, at most QUIET_WAIT seconds.
wait_quiet() {
  waited=0
  while [ "$waited" -lt "$QUIET_WAIT" ]; do
    set -- $(jiffies); b0=$1; t0=$2
    sleep 3
    set -- $(jiffies)
    share=$(awk "BEGIN{print ($1 - $b0) / ($2 - $t0 + 1e-9)}")
    awk "BEGIN{exit !($share < $NOISE)}" && return 0
    waited=$((waited + 3))
  done
  echo "# busy (share $share) for ${QUIET_WAIT} s; measuring anyway" >> "$OUT"
}

# run LABEL CMD...: one measurement, repeated (up to ATTEMPTS) while other processes used more than NOISE.
# A command that fails (or is killed at LIMIT_GB) is not repeated.
run() {
  label=$1; shift
  attempt=1
  while :; do
    wait_quiet
    echo "# $label attempt=$attempt: $*" >> "$OUT"
    $ISO "$@" > "$TMP" 2> "$TMP.err"
    cat "$TMP" >> "$OUT"
    if ! grep -q '"exit": 0,' "$TMP"; then  # a failure is not repeated; its last error line goes to OUT
      { grep -i 'error\|exhausted' "$TMP.err" || tail -1 "$TMP.err"; } | tail -1 | cut -c1-300 | sed 's/^/## stderr: /' >> "$OUT"
      break
    fi
    frac=$(sed -n 's/.*"foreign_cpu_frac": \([0-9.]*\).*/\1/p' "$TMP" | tail -1)
    [ -n "$frac" ] && [ "$attempt" -lt "$ATTEMPTS" ] && awk "BEGIN{exit !($frac > $NOISE)}" || break
    attempt=$((attempt + 1))
  done
}

# probe_folder N DIR: a CIFAR-10 folder whose training split starts with the archive's first N images (and holds
# only 4 more), so that Tangent's peak RSS is the engine's, not that of the 60,000-image data set.
probe_folder() {
  mkdir -p "$2"
  tar -xzOf "$CIFAR" cifar-10-batches-bin/data_batch_1.bin | head -c $(($1 * 3073)) > "$2/data_batch_1.bin"
  for f in data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
    head -c 3073 "$2/data_batch_1.bin" > "$2/$f.bin"
  done
}

for s in $SECTIONS; do
  case $s in
  regression)
    for w in "mnist-cnn train --reps 20" "cifar-cnn train --reps 10" \
             "mnist-cnn pgd --reps 5 --warmup 1" "cifar-cnn pgd --reps 2 --warmup 1" \
             "mnist-cnn ntk --ntk full --reps 3 --warmup 1" "cifar-cnn ntk --ntk full --reps 2 --warmup 1"; do
      set -- $w; model=$1; task=$2; shift 2
      case ",$WORKLOADS," in *",$model $task,"*|",all,") ;; *) continue ;; esac
      r=1
      while [ "$r" -le "$ROUNDS" ]; do
        run "regression baseline $model $task round=$r" "$BASE" bench --model $model --task $task "$@"
        run "regression new $model $task round=$r" "$NEW" bench --model $model --task $task "$@"
        r=$((r + 1))
      done
    done ;;
  kernels)
    W=$WORK/kernels
    mkdir -p "$W"
    for spec in "mnist-cnn 300 $MNIST" "cifar-cnn 250 $CIFAR"; do
      set -- $spec
      for b in baseline new; do
        if [ $b = new ]; then bin=$NEW; else bin=$BASE; fi
        run "kernels $b $1" "$bin" ntk --model $1 --seed 0 --probe-size $2 --data-dir $3 --save-inputs \
          --save-model "$W/$1-$b-model.safetensors.zst" --out "$W/$1-$b.safetensors.zst"
      done
      echo "# kernels compare $1" >> "$OUT"
      "$PY" "$HERE/Benchmarks/ntk_resnet/compare_kernels.py" --label "$1 baseline vs new" \
        "$W/$1-baseline.safetensors.zst" "$W/$1-new.safetensors.zst" \
        --model-a "$W/$1-baseline-model.safetensors.zst" --model-b "$W/$1-new-model.safetensors.zst" >> "$OUT" 2>&1
    done ;;
  resnet)
    failed=""
    for n in $RESNET_SIZES; do
      W=$WORK/resnet20-n$n
      mkdir -p "$W"
      run "resnet tangent n=$n" "$NEW" ntk --model resnet20 --seed 0 --probe-size $n --data-dir "$CIFAR" \
        --save-inputs --save-model "$W/model.safetensors.zst" --out "$W/kernel.safetensors.zst"
      probe_folder $n "$W/probe-data"
      run "resnet tangent-probe-data n=$n" "$NEW" ntk --model resnet20 --seed 0 --probe-size $n \
        --data-dir "$W/probe-data" --out "$W/kernel-probe-data.safetensors.zst"
      echo "# resnet compare n=$n" >> "$OUT"
      "$PY" "$HERE/Benchmarks/ntk_resnet/compare_kernels.py" --label "resnet20 n=$n archive vs probe folder" \
        "$W/kernel.safetensors.zst" "$W/kernel-probe-data.safetensors.zst" >> "$OUT" 2>&1
      for impl in 1 2 3; do
        case " $failed " in
        *" $impl "*)
          echo "{\"skipped\": {\"impl\": $impl, \"samples\": $n, \"why\": \"out of memory at a smaller N\"}}" >> "$OUT"
          continue ;;
        esac
        run "resnet nt impl=$impl n=$n" "$PY" "$HERE/Benchmarks/ntk_resnet/resnet_nt.py" \
          --model "$W/model.safetensors.zst" --kernel "$W/kernel.safetensors.zst" --impl $impl
        grep -q '"killed": "rss\|RESOURCE_EXHAUSTED' "$TMP" "$TMP.err" && failed="$failed $impl"
      done
    done ;;
  *) echo "unknown section $s" >&2 ;;
  esac
done
rm -f "$TMP" "$TMP.err"
