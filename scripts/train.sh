#!/usr/bin/env bash
# The main job: installs missing system libraries, builds in release mode, and runs `tangent train`
# with the given options (default: the paper's MNIST CNN on the embedded MNIST sample).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product tangent
exec .build/release/tangent train "$@"
