#!/usr/bin/env bash
# The test suite: installs missing system libraries, then builds and runs every test in release
# mode (numeric code is 10-100x slower in debug builds).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --build-tests
swift test -c release --skip-build "$@"
