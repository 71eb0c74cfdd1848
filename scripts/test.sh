#!/usr/bin/env bash
# The test suite: installs missing system libraries, then builds and runs every test in release
# mode (numeric code is 10-100x slower in debug builds). The suite is XCTest only, so Swift Testing's
# empty run is switched off, and the last line is the plain "N passed, N failed, N skipped" summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
swift test -c release --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log" || status=$?
summary=$(grep -E "Executed [0-9]+ tests?, with" "$log" | tail -1 || true)
if [ -n "$summary" ]; then
  executed=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
  skipped=$(echo "$summary" | sed -nE 's/.* ([0-9]+) tests? skipped.*/\1/p')
  failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) failures?.*/\1/')
  skipped=${skipped:-0}
  echo "tests: $((executed - skipped - failed)) passed, $failed failed, $skipped skipped"
fi
exit $status
