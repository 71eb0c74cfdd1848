#!/bin/sh
# NTK eigen-features for 10,000 MNIST training images, Tangent against numpy/scipy in one sitting
# (BENCHMARKS.md, "Eigen-features at scale"). Each round runs, one after the other and each on one core:
#   tangent-top   tangent features evaluate --eigenpairs 100 (block Krylov)
#   scipy-subset  scale_numpy.py --solver subset (scipy.linalg.eigh subset_by_index, LAPACK dsyevr)
#   numpy-full    scale_numpy.py --solver full   (numpy.linalg.eigh, LAPACK dsyevd)
#   tangent-full  tangent features evaluate --eigenpairs all (LAPACK dsyevd)
# all on the same work: the FC-1 kernel of the first 10,000 training images, its top 100 eigenpairs, the
# usefulness of features 1-100 on the first 1,000 test images and FGSM (eps 0.1) robustness of features 1-5.
# Every run is timed by /usr/bin/time -v (wall clock, max RSS) with the load average before and after.
# OPENBLAS_CORETYPE, when set, applies to both sides (numpy's, scipy's and Tangent's OpenBLAS all obey it).
#
# usage: sh Benchmarks/eigen_features/run_scale.sh MNIST_DIR OUT [ROUNDS]
#   TANGENT=path/to/tangent (default .build/release/tangent), PYTHON=python with numpy and scipy
#   (default /work/envs/venv_nt/bin/python), SKIP_FULL=1 leaves out the two full decompositions.
set -eu
MNIST=$1
OUT=$2
ROUNDS=${3:-2}
TANGENT=${TANGENT:-.build/release/tangent}
PYTHON=${PYTHON:-/work/envs/venv_nt/bin/python}
HERE=$(dirname "$0")
export TANGENT_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p "$OUT"

measure() {
    name=$1
    shift
    cut -d' ' -f1-3 /proc/loadavg > "$OUT/$name.load-before"
    echo "$(date -u +%H:%M:%S) $name: $*"
    nice -n 5 /usr/bin/time -v -o "$OUT/$name.time" "$@" > "$OUT/$name.log" 2>&1
    cut -d' ' -f1-3 /proc/loadavg > "$OUT/$name.load-after"
}

tangent() {
    name=$1
    shift
    measure "$name" "$TANGENT" features evaluate --dataset mnist --data-dir "$MNIST" --task all --train 10000 --test 1000 \
        --pick first --features 1-100 --attacked 1-5 --eps 0.1 --grid 1-4 --out "$OUT/$name" "$@"
}

numpy() {
    name=$1
    shift
    measure "$name" "$PYTHON" "$HERE/scale_numpy.py" "$MNIST" "$OUT/$name.json" --train 10000 --test 1000 --top 100 \
        --attacked 1-5 --eps 0.1 "$@"
}

lscpu | grep -E "Model name|^CPU\(s\)" > "$OUT/machine.txt"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset (each OpenBLAS picks its own kernels)}" >> "$OUT/machine.txt"
"$PYTHON" -c "import numpy, scipy; print('numpy', numpy.__version__, 'scipy', scipy.__version__)" >> "$OUT/machine.txt"
for round in $(seq 1 "$ROUNDS"); do
    tangent "tangent-top-r$round" --eigenpairs 100
    numpy "scipy-subset-r$round" --solver subset
    if [ "${SKIP_FULL:-0}" != 1 ]; then
        numpy "numpy-full-r$round" --solver full
        tangent "tangent-full-r$round" --eigenpairs all
    fi
done
cat "$OUT/machine.txt"
"$PYTHON" "$HERE/scale_numpy.py" --summarize "$OUT"
