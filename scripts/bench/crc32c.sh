#!/usr/bin/env bash
# CRC-32C speed: the implementation in the work tree against the one of a
# baseline revision (by default the byte-at-a-time table it replaced), built
# alike and measured alternately in one invocation.
#
# Each side is one program: that revision's Sources/Catalog/Digest.swift,
# Summary/*.swift and Hashing/CRC32C.swift compiled with swiftc -O together
# with scripts/bench/crc32c-main.swift. It reports the median over RUNS of
#   crc     CRC-32C of 8 MiB of random bytes (the largest filter), and
#   apply   SummaryDelta.apply of a 3-entry delta (120 bytes) to an 8 MiB
#           filter, bytes in and bytes out, as the gossip layer's merge does
#           (decode with its checksum, apply, serialize with a new one),
# in thread CPU time, so that other jobs on a shared machine do not count.
# The sides run ROUNDS times in turn; the table shows the median of rounds.
#
# Usage: scripts/bench/crc32c.sh
# Environment: BASELINE (git revision, 381d3b2), RUNS (9), ROUNDS (3).
set -euo pipefail
cd "$(dirname "$0")/../.."

BASELINE=${BASELINE:-381d3b2}
RUNS=${RUNS:-9}
ROUNDS=${ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

files=(Digest.swift Hashing/CRC32C.swift Summary/BloomFilter+Serialization.swift Summary/BloomFilter.swift
  Summary/BloomGeometry.swift Summary/SummaryDelta.swift Summary/SummaryFormatError.swift Summary/SummaryKey.swift
  Summary/SummaryWireFormat.swift)
for side in baseline current; do
  mkdir -p "$work/$side"
  for file in "${files[@]}"; do
    if [ "$side" = baseline ]; then
      git show "$BASELINE:Sources/Catalog/$file" > "$work/$side/$(basename "$file")"
    else
      cp "Sources/Catalog/$file" "$work/$side/$(basename "$file")"
    fi
  done
  cp scripts/bench/crc32c-main.swift "$work/$side/main.swift"
  (cd "$work/$side" && swiftc -O -o bench ./*.swift)
done

declare -A crc apply
for _ in $(seq "$ROUNDS"); do
  for side in baseline current; do
    line=$("$work/$side/bench" "$RUNS")
    crc[$side]+="$(grep -oE 'crc_ms=[0-9.]+' <<<"$line" | cut -d= -f2) "
    apply[$side]+="$(grep -oE 'apply_ms=[0-9.]+' <<<"$line" | cut -d= -f2) "
    checksum=$(grep -oE 'crc32c=[0-9a-f]+' <<<"$line")
    [ -z "${first:-}" ] && first=$checksum
    [ "$checksum" = "$first" ] || { echo "the two sides disagree: $first, $checksum" >&2; exit 1; }
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "CRC-32C: $(git rev-parse --short HEAD)$(git diff --quiet -- Sources/Catalog || echo '+changes') against $BASELINE;" \
  "median of $ROUNDS rounds of median-of-$RUNS, thread CPU time, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
printf '| %-54s | %12s | %12s | %8s |\n' measurement baseline current speed-up
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..56})" "-------------:" "-------------:" "--------:"
for row in crc apply; do
  declare -n values=$row
  b=$(median <<<"${values[baseline]}")
  c=$(median <<<"${values[current]}")
  label=$([ $row = crc ] && echo "CRC-32C of 8 MiB (ms)" || echo "SummaryDelta.apply, 120-byte delta, 8 MiB filter (ms)")
  printf '| %-54s | %12.1f | %12.1f | %7.0f× |\n' "$label" "$b" "$c" "$(awk -v b="$b" -v c="$c" 'BEGIN {print b / c}')"
done
awk -v c="$(median <<<"${crc[current]}")" 'BEGIN {printf "current CRC-32C: %.0f MB/s (8 MiB = 8388608 bytes)\n", 8388608 / 1e6 / (c / 1e3)}'
