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

echo "== release build, image and archive (the image test runs this image)"
release_log="$(mktemp)"
if ! scripts/release/release.sh --out .build/release-artifacts >"$release_log" 2>&1; then
  tail -n 40 "$release_log"
  exit 1
fi
cat "$release_log"
rm -f "$release_log"
version=$(sed -n 's/^ *static let version = "\(.*\)"$/\1/p' Sources/gossip-mirror/Observability/BuildInfo.swift)
GM_IMAGE_ARCHIVE="$(ls "$PWD"/.build/release-artifacts/gossip-mirror-"$version"-linux-*-oci.tar)"
export GM_IMAGE_ARCHIVE

echo "== end-to-end tests with real processes (one suite at a time: they assert timings)"
swift test --skip-build --filter EndToEndTests --no-parallel

# Last: the fuzz build reuses .build's debug dependencies (only this package's
# modules are rebuilt, instrumented), which leaves those modules instrumented
# until the next `swift build`.
echo "== fuzz targets, ${FUZZ_SECONDS:-2} s each (scripts/fuzz.sh; docs/security.md, Fuzzing)"
SCRATCH=.build FUZZ_CONFIGURATION=debug scripts/fuzz.sh -seconds "${FUZZ_SECONDS:-2}"
