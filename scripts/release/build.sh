#!/usr/bin/env bash
# The release binary: optimised, with the Swift standard library and
# Foundation linked statically (the image then needs only the C libraries),
# and the git commit stored as the ELF build ID (0x<commit>676d<flags>: see
# Sources/gossip-mirror/Observability/ELFBuildID.swift), so that
# `gossip-mirror --version` names the commit without any generated source.
#
#   scripts/release/build.sh        # prints the binary's path on the last line
set -euo pipefail
cd "$(dirname "$0")/../.."

commit=$(git rev-parse HEAD)
flags=00
# Uncommitted changes to tracked files make the build "-dirty".
git diff --quiet HEAD -- 2>/dev/null || flags=01

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift build -c release --static-swift-stdlib --product gossip-mirror \
    -Xlinker "--build-id=0x${commit}676d${flags}" >"$log" 2>&1; then
  grep -E "error" "$log" | head -n 40 || true
  tail -n 30 "$log" >&2
  exit 1
fi
bin="$(swift build -c release --show-bin-path)/gossip-mirror"
"$bin" --version >&2
echo "$bin"
