#!/usr/bin/env bash
# Micro-benchmarks of the hot small paths with package-benchmark
# (ordo-one/benchmark), each beside a baseline measured in the same run:
#
#   Tests/Benchmarks/CatalogBenchmarks   Bloom lookup over 1000 members' filters
#                                        (and PeerDirectory.candidates), summary
#                                        decode, delta apply
#   Tests/Benchmarks/GossipBenchmarks    envelope seal and open, datagram decode
#   Tests/Benchmarks/RegistryBenchmarks  route parse
#
# The targets exist only with GOSSIP_MIRROR_BENCHMARKS=1 (see Package.swift),
# so that the normal build never compiles package-benchmark; they are part
# of the shared release build (report.sh's bench_build, scratch path
# .build-bench). Times are package-benchmark's
# wall clock per iteration: median (p50) and the p1–p99 range of the samples.
#
# Usage: scripts/bench/micro.sh [--no-build] [--no-docs] [--quick]
# Environment: SCRATCH (.build-bench).
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

# shellcheck source=scripts/bench/report.sh
. scripts/bench/report.sh
bench_begin gm-micro "$@"

echo "== swift package benchmark (load average $LOAD_BEFORE)"
bench_swift package --scratch-path "$BENCH_SCRATCH" --allow-writing-to-directory "$WORK" \
  benchmark --Xswiftc enable-testing --format histogramPercentiles --path "$WORK/out" --no-progress 2>&1 | grep -v '^Building\|^Build of' || true
ls "$WORK/out"/*.tsv >/dev/null 2>&1 || { echo "package-benchmark wrote no results" >&2; exit 1; }
LOAD_AFTER=$(bench_load)

# ---------------------------------------------------------------- report
# One file per benchmark and metric: "<baseline>.<Target>.<name>.<metric>.histogram.percentiles.tsv",
# its first line names the unit, then "percentile<TAB>value" for 0...100.
percentile() {  # FILE P
  awk -F'\t' -v p="$2" 'NR > 1 && $1 == p {print $2}' "$1"
}
result_file() {  # BENCHMARK-NAME METRIC: the file (names are shell-cleaned by the tool)
  local wanted
  wanted=$(printf '%s' "$1" | tr -c 'A-Za-z0-9_.,-' '_')
  for f in "$WORK/out"/*."$2".histogram.percentiles.tsv; do
    local base=${f##*/}
    [[ $base == *".$wanted.$2.histogram.percentiles.tsv" ]] && { echo "$f"; return; }
  done
}
unit_of() { head -n 1 "$1" | cut -f2 | sed 's/^[^(]*(//; s/)$//'; }
TABLE="| benchmark | median | p1–p99 | mallocs (median) | baseline | baseline median | × baseline |
|---|---:|---:|---:|---|---:|---:|"
declare -A BASELINE_OF=()
mapfile -t NAMES < <(for f in "$WORK/out"/*.wallClock.histogram.percentiles.tsv; do basename "$f"; done |
  sed 's/^[^.]*\.[A-Za-z]*Benchmarks\.//; s/\.wallClock\.histogram\.percentiles\.tsv$//')
# A benchmark's baseline: in its target, the "baseline: …" benchmark listed
# after it whose size or variant (the text after the last comma) matches, else
# the first baseline of the target.
# Names are package-benchmark's file names: spaces as underscores, and a
# baseline's begins "baseline:_".
baseline_for() {
  local name=$1 target=$2 variant=${1##*,_} candidate
  for candidate in "${NAMES[@]}"; do
    [[ $candidate == baseline[:_]* ]] || continue
    result_file_target "$candidate" "$target" >/dev/null || continue
    [[ ${candidate##*,_} == "$(printf '%s' "$variant" | tr -c 'A-Za-z0-9_.,-' '_')" ]] && { echo "$candidate"; return; }
  done
  for candidate in "${NAMES[@]}"; do
    [[ $candidate == baseline[:_]* ]] && result_file_target "$candidate" "$target" >/dev/null && { echo "$candidate"; return; }
  done
  return 0  # no baseline in the target: an empty answer, not a failure (set -e)
}
result_file_target() { ls "$WORK/out"/*."$2".$1.wallClock.histogram.percentiles.tsv 2>/dev/null | head -n 1; }
fmt_time() {  # VALUE UNIT
  awk -v v="$1" -v u="$2" 'BEGIN {
    ns = v; if (u == "μs" || u == "us") ns = v * 1e3; else if (u == "ms") ns = v * 1e6; else if (u == "s") ns = v * 1e9
    if (ns < 1e3) printf "%.0f ns", ns; else if (ns < 1e6) printf "%.2f µs", ns / 1e3; else printf "%.2f ms", ns / 1e6 }'
}
to_ns() { awk -v v="$1" -v u="$2" 'BEGIN {ns = v; if (u == "μs" || u == "us") ns = v * 1e3; else if (u == "ms") ns = v * 1e6; else if (u == "s") ns = v * 1e9; print ns}'; }
for f in "$WORK/out"/*.wallClock.histogram.percentiles.tsv; do
  base=${f##*/}
  target=$(sed -E 's/^[^.]*\.([A-Za-z]*Benchmarks)\..*/\1/' <<<"$base")
  name=$(sed -E 's/^[^.]*\.[A-Za-z]*Benchmarks\.//; s/\.wallClock\.histogram\.percentiles\.tsv$//' <<<"$base")
  [[ $name == baseline[:_]* ]] && continue
  unit=$(unit_of "$f")
  p50=$(percentile "$f" 50) p1=$(percentile "$f" 1) p99=$(percentile "$f" 99)
  mf=$(ls "$WORK/out"/*."$target".$name.mallocCountTotal.histogram.percentiles.tsv 2>/dev/null | head -n 1)
  mallocs=$([ -n "$mf" ] && percentile "$mf" 50 || echo —)
  b=$(baseline_for "$name" "$target")
  if [ -n "$b" ]; then
    bf=$(result_file_target "$b" "$target") bunit=$(unit_of "$bf") b50=$(percentile "$bf" 50)
    TABLE+="
| $target: ${name//_/ } | $(fmt_time "$p50" "$unit") | $(fmt_time "$p1" "$unit")–$(fmt_time "$p99" "$unit") | $mallocs | ${b//_/ } | $(fmt_time "$b50" "$bunit") | $(stat_ratio "$(to_ns "$p50" "$unit")" "$(to_ns "$b50" "$bunit")") |"
  else
    TABLE+="
| $target: ${name//_/ } | $(fmt_time "$p50" "$unit") | $(fmt_time "$p1" "$unit")–$(fmt_time "$p99" "$unit") | $mallocs | | | |"
  fi
done
echo
echo "$TABLE"

if [ "$DOCS" = 1 ]; then
  cat >"$WORK/section.md" <<EOF
## Micro-benchmarks (package-benchmark)

Wall-clock time per iteration, as package-benchmark $(git -C /opt/swift-packages/ordo-one/package-benchmark.git describe --tags 2>/dev/null || echo 1.38) measures it
(release build; its malloc interposer counts allocations); each beside the baseline named
in its row, measured in the same run. Names keep package-benchmark's underscores for spaces.

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(bench_load_note "$LOAD_BEFORE"); load average after: $LOAD_AFTER
- Machine: $(bench_machine)
- Commit: $(bench_commit)
- Command: \`scripts/bench/micro.sh\`$([ "$BENCH_QUICK" = 1 ] && echo ' --quick (0.2 s per benchmark)')$([ -n "$BUILD_SECONDS" ] && echo "; the shared release build took $BUILD_SECONDS s")

$TABLE
EOF
  bench_publish micro scripts/bench/micro.sh "$WORK/section.md"
fi
