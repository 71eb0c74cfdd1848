#!/usr/bin/env bash
# Fuzz/run.sh TARGET [SECONDS]: builds a fuzz target with libFuzzer (coverage over the whole library) and
# runs it for SECONDS (default 600) on both cores' worth of one process, from seeds the target writes itself.
#   TARGET: FuzzRestore      (training checkpoints: mutated metadata and tensors inside valid framing, restored)
#           FuzzDataReaders  (IDX, gzip, tar and CIFAR-10 records through the data loaders)
# Findings (crash, timeout, out-of-memory inputs) go to Fuzz/findings/TARGET/; replay one with a plain build:
#   swift build -c release --product TARGET && .build/release/TARGET Fuzz/findings/TARGET/crash-…
# The last line says how many inputs ran and how many findings there were; the exit status is non-zero
# when there was one.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: Fuzz/run.sh FuzzRestore|FuzzDataReaders [SECONDS]}
seconds=${2:-600}
scratch=.build-fuzz
swift build -c release --scratch-path "$scratch" --product "$target" \
    -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xswiftc -use-ld=lld 2>&1 | grep -E "error|warning: unre|Compiling|Build" | grep -v "^\[" || true
binary="$scratch/release/$target"
[ -x "$binary" ] || { echo "error: $binary was not built" >&2; exit 1; }
corpus=Fuzz/corpus/$target findings=Fuzz/findings/$target
mkdir -p "$corpus" "$findings"
dict=()
[ -f "Fuzz/$target.dict" ] && dict=(-dict="Fuzz/$target.dict")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# -timeout: an input that takes 20 s is a hang; -rss_limit_mb/-malloc_limit_mb: memory bombs are findings.
SWIFT_BACKTRACE=enable=no TANGENT_FUZZ_SEEDS="$corpus" TANGENT_THREADS=1 "$binary" "$corpus" "${dict[@]}" -max_total_time="$seconds" \
    -timeout=20 -rss_limit_mb=3072 -malloc_limit_mb=1536 -artifact_prefix="$findings/" -print_final_stats=1 \
    > "$log" 2>&1 || status=$?
tail -25 "$log"
grep -E "^#[0-9]+.*cov:" "$log" | tail -1 || true
runs=$(grep -E "stat::number_of_executed_units" "$log" | awk '{print $2}' | tail -1)
found=$(find "$findings" -type f | wc -l)
echo "fuzz $target: ${runs:-?} inputs in $seconds s, $found findings (libFuzzer status $status)"
[ "$status" -eq 0 ] && [ "$found" -eq 0 ]
