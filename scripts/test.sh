#!/usr/bin/env bash
# The test command: installs what is needed, builds, and runs every test
# (unit, simulator, real processes, real containerd and docker-registry).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== build"
swift build --build-tests 2>&1 | tail -n 3

if [ "$#" -gt 0 ]; then
  swift test --skip-build "$@"
  exit
fi

echo "== unit, simulator and catalog tests (in parallel)"
swift test --skip-build --skip EndToEndTests

echo "== end-to-end tests with real processes (one suite at a time: they assert timings)"
swift test --skip-build --filter EndToEndTests --no-parallel
