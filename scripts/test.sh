#!/usr/bin/env bash
# The test command: installs what is needed, builds, and runs every test
# (unit, simulator, real processes, real containerd and docker-registry).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== build"
swift build --build-tests 2>&1 | tail -n 3

echo "== test"
# Suites that start processes bind their own loopback addresses and temp dirs.
swift test --skip-build "$@" 2>&1 | tee .build/test-output.log
