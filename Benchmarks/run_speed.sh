#!/bin/sh
# Speed benchmarks for BENCHMARKS.md, back to back in one sitting: for each workload, Tangent, then
# PyTorch, then JAX / neural-tangents (the reference scripts in ../shared/anchors), each in its own
# process under run_isolated.py (peak RSS, wall time, CPU used by other processes meanwhile).
# usage: Benchmarks/run_speed.sh ENV_ROOT OUT.jsonl [ceiling train eval pgd ntk tracking linearized conv checkpoint
#                                                    memory busy]
# ENV_ROOT holds venv_torch, venv_jax, venv_nt from ../shared/anchors/setup_envs.sh.
set -u
ENV=${1:?usage: run_speed.sh ENV_ROOT OUT.jsonl [sections]}
OUT=${2:?usage: run_speed.sh ENV_ROOT OUT.jsonl [sections]}
shift 2
SECTIONS=${*:-ceiling train eval pgd ntk tracking linearized conv checkpoint}
HERE=$(cd "$(dirname "$0")/.." && pwd)
A=$HERE/../shared/anchors
T=$HERE/.build/release/tangent
ISO="python3 $A/run_isolated.py --limit-gb 20 --timeout-s 900 --"
run() { echo "# $*" >> "$OUT"; $ISO "$@" >> "$OUT" 2>/dev/null; }

for s in $SECTIONS; do
  case $s in
  ceiling)
    # The anchors' cblas_sgemm probe, with the kernel set OpenBLAS picks by itself and with the one
    # Tangent selects (they differ on processors this OpenBLAS does not know; see BLASCore).
    probe=$(mktemp -d)/sgemm_bench
    gcc -O2 -o "$probe" "$A/sgemm_bench.c" -lopenblas
    echo "# sgemm_bench, OpenBLAS's own kernel choice" >> "$OUT"
    "$probe" >> "$OUT" 2>&1
    core=$($T bench --model mnist-cnn --task conv --reps 1 | head -1 | sed 's/.*"blas_core":"\([A-Za-z]*\)".*/\1/')
    echo "# sgemm_bench, OPENBLAS_CORETYPE=$core" >> "$OUT"
    OPENBLAS_CORETYPE=$core "$probe" >> "$OUT" 2>&1 ;;
  conv)
    run $T bench --model mnist-cnn --task conv --reps 10
    run $T bench --model cifar-cnn --task conv --reps 5 ;;
  checkpoint)
    run $T bench --model mnist-cnn --task checkpoint --reps 10
    run $T bench --model cifar-cnn --task checkpoint --reps 10 ;;
  train)
    run $T bench --model mnist-cnn --task train --reps 20
    run $ENV/venv_torch/bin/python $A/bench_torch.py --net mnist --task train --reps 20
    run $ENV/venv_jax/bin/python $A/bench_jax.py --net mnist --task train --reps 20
    run $T bench --model cifar-cnn --task train --reps 10
    run $ENV/venv_torch/bin/python $A/bench_torch.py --net cifar --task train --reps 10
    run $ENV/venv_jax/bin/python $A/bench_jax.py --net cifar --task train --reps 10 ;;
  eval)
    run $T bench --model mnist-cnn --task eval --reps 10
    run $ENV/venv_torch/bin/python $A/bench_torch.py --net mnist --task eval --reps 10
    run $ENV/venv_jax/bin/python $A/bench_jax.py --net mnist --task eval --reps 10
    run $T bench --model cifar-cnn --task eval --reps 5
    run $ENV/venv_torch/bin/python $A/bench_torch.py --net cifar --task eval --reps 5
    run $ENV/venv_jax/bin/python $A/bench_jax.py --net cifar --task eval --reps 5 ;;
  pgd)
    run $T bench --model mnist-cnn --task pgd --reps 5 --warmup 1
    run $ENV/venv_torch/bin/python $A/bench_torch.py --net mnist --task pgd --reps 5
    run $ENV/venv_jax/bin/python $A/bench_jax.py --net mnist --task pgd --reps 5
    run $T bench --model cifar-cnn --task pgd --reps 2 --warmup 1
    run $ENV/venv_torch/bin/python $A/bench_torch.py --net cifar --task pgd --reps 2 ;;
  tracking)
    # Three epochs of real-MNIST training without and with one full N = 300 kernel per epoch (plus K_0).
    D=$HERE/../shared/data/mnist
    for extra in "" "--ntk-every-epoch"; do
      dir=$(mktemp -d)
      start=$(date +%s.%N)
      $T train --data-dir $D --epochs 3 --no-shuffle --robust-eval-subset 0 --eval-train-subset 1000 --run-dir $dir $extra > /dev/null
      end=$(date +%s.%N)
      echo "{\"framework\": \"tangent\", \"task\": \"epoch$extra\", \"wall_s\": $(echo "$end - $start" | bc), \"ntk_seconds\": [$(grep ntk_seconds $dir/metrics.jsonl | sed 's/.*value":\([0-9.e-]*\).*/\1/' | paste -sd,)]}" >> "$OUT"
      rm -rf $dir
    done
    # Where one tracking event's time goes: the kernel, its eigenvalues, distances and the kernel file.
    run $T bench --model mnist-cnn --task tracking --reps 3 ;;
  linearized)
    for task in train pgd; do
      run $T bench --model mnist-cnn --task $task --reps 5 --warmup 1
      run $T bench --model mnist-cnn --task $task --linearized --reps 5 --warmup 1
    done ;;
  ntk)
    for k in full traced; do
      run $T bench --model mnist-cnn --task ntk --ntk-kind $k --reps 3 --warmup 1
    done
    run $ENV/venv_nt/bin/python $A/bench_jax.py --net mnist --task ntk --impl 3 --ntk full --reps 2
    run $ENV/venv_nt/bin/python $A/bench_jax.py --net mnist --task ntk --impl 3 --ntk trace --reps 2
    for k in full traced; do
      run $T bench --model cifar-cnn --task ntk --ntk-kind $k --reps 2 --warmup 1
    done
    run $ENV/venv_nt/bin/python $A/bench_jax.py --net cifar --task ntk --impl 3 --ntk full --reps 1
    run $ENV/venv_nt/bin/python $A/bench_jax.py --net cifar --task ntk --impl 1 --ntk trace --reps 1 ;;
  memory)
    # The CIFAR full NTK's time-memory curve: smaller budgets process the layers in more groups.
    for budget in 4096 1600 1024 700 500; do
      run $T bench --model cifar-cnn --task ntk --ntk-kind full --reps 1 --warmup 0 --memory-budget $budget
    done
    run $ENV/venv_nt/bin/python $A/bench_jax.py --net cifar --task ntk --impl 3 --ntk full --reps 1 ;;
  busy)
    # One of the two cores busy with another process (a pure-Python spin loop pinned to CPU 0): the
    # MNIST SGD step on one and on two threads, Tangent then PyTorch.
    taskset -c 0 python3 -c "while True: pass" &
    hog=$!
    for threads in 1 2; do
      echo "# busy core, $threads threads" >> "$OUT"
      TANGENT_THREADS=$threads run $T bench --model mnist-cnn --task train --reps 20 --warmup 2
      OMP_NUM_THREADS=$threads run $ENV/venv_torch/bin/python $A/bench_torch.py --net mnist --task train --reps 20
    done
    kill $hog ;;
  esac
done
