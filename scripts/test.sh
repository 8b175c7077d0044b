#!/usr/bin/env bash
# The test command: installs what is needed, builds, and runs every test
# (unit, simulator, real processes, real containerd and docker-registry).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== build"
log="$(mktemp)"
if ! swift build --build-tests >"$log" 2>&1; then
  grep -E "error|warning: unre" "$log" | head -n 60 || true
  tail -n 40 "$log"
  exit 1
fi
tail -n 1 "$log"
rm -f "$log"

if [ "$#" -gt 0 ]; then
  swift test --skip-build "$@"
  exit
fi

echo "== unit, simulator and catalog tests (in parallel)"
swift test --skip-build --skip EndToEndTests

echo "== fuzz targets, ${FUZZ_SECONDS:-3} s each (scripts/fuzz.sh; docs/security.md, Fuzzing)"
scripts/fuzz.sh -seconds "${FUZZ_SECONDS:-3}"

echo "== end-to-end tests with real processes (one suite at a time: they assert timings)"
swift test --skip-build --filter EndToEndTests --no-parallel
