#!/usr/bin/env bash
# Fuzzes the checkpoint decoders (SafeTensorsCodec.decode and the zstd + decode file path) with libFuzzer
# and AddressSanitizer.
#
# Usage: Fuzz/run-checkpoint-fuzz.sh [SECONDS] [extra libFuzzer flags...]
#   SECONDS defaults to 600. Run from anywhere; paths are relative to the repository root.
#   Build products go to Fuzz/.build-fuzz/ (ignored), the corpus to Fuzz/corpus/checkpoint/ (ignored),
#   crash reproducers to Fuzz/corpus/artifacts/ (ignored) (reproduce with: Fuzz/.build-fuzz/checkpoint-fuzz ARTIFACT).
set -euo pipefail

SECONDS_TO_RUN="${1:-600}"
shift || true
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/Fuzz/.build-fuzz"
CORPUS="$ROOT/Fuzz/corpus/checkpoint"
ARTIFACTS="$ROOT/Fuzz/corpus/artifacts"
mkdir -p "$BUILD" "$CORPUS" "$ARTIFACTS"

SOURCES=("$ROOT"/Sources/Checkpoints/*.swift)
ZSTD_FLAGS=(-I "$ROOT/Sources/CZstd" -lzstd)

echo "== building seed-corpus writer"
swiftc -O -parse-as-library -module-name CheckpointFuzz "${ZSTD_FLAGS[@]}" \
    "${SOURCES[@]}" "$ROOT/Fuzz/CheckpointFuzz/SeedCorpus.swift" -o "$BUILD/seed-corpus"
"$BUILD/seed-corpus" "$CORPUS"

echo "== building fuzzer (-sanitize=fuzzer,address)"
swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name CheckpointFuzz "${ZSTD_FLAGS[@]}" \
    "${SOURCES[@]}" "$ROOT/Fuzz/CheckpointFuzz/CheckpointFuzz.swift" -o "$BUILD/checkpoint-fuzz" \
    2> >(grep -v "Cannot export local symbol '__asan" >&2)

echo "== fuzzing for ${SECONDS_TO_RUN} s"
# Run inside the ignored corpus folder: with -jobs=N libFuzzer writes fuzz-N.log files to the current directory.
cd "$ROOT/Fuzz/corpus"
rm -f fuzz-*.log
status=0
"$BUILD/checkpoint-fuzz" "$CORPUS" \
    -max_total_time="$SECONDS_TO_RUN" -artifact_prefix="$ARTIFACTS/" -print_final_stats=1 "$@" || status=$?
for log in fuzz-*.log; do
    [ -e "$log" ] || continue
    echo "== summary of Fuzz/corpus/$log"
    grep -E "INITED|DONE|cov:" "$log" | sed -n '1p;$p'
    grep -E "^stat::|ERROR|SUMMARY|Test unit written" "$log" || true
done
echo "== corpus: $(ls "$CORPUS" | wc -l) files; artifacts: $(ls "$ARTIFACTS" | wc -l)"
exit "$status"
