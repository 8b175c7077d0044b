# shellcheck shell=bash
# Writing benchmark results: the facts every section states (machine, load,
# commit), statistics over repeated runs, and the replacement of one
# generated section of docs/benchmarks.md.
#
# A generated section lies between
#   <!-- NAME:begin (written by SCRIPT; edits here are replaced) -->
#   <!-- NAME:end -->
# and everything outside such markers is written by hand and kept. Source
# this file after setting ROOT (the repository); it sources lib.sh.

# shellcheck source=scripts/bench/lib.sh
. "$ROOT/scripts/bench/lib.sh"

# The one release build every benchmark runs from (run.sh builds it once, in
# SCRATCH, .build-bench by default): the gossip-mirror binary, the tests (the
# scale harness and the simulator benchmarks use `@testable import`, hence
# -enable-testing, which the binary then carries too) and the package-benchmark
# targets, which Package.swift declares only with GOSSIP_MIRROR_BENCHMARKS=1.
# One set of flags, so that no script rebuilds what another built.
BENCH_SCRATCH=${SCRATCH:-.build-bench}
BENCH_SWIFT_FLAGS=(--scratch-path "$BENCH_SCRATCH" -c release -Xswiftc -enable-testing)

# swift ARGUMENTS... with the benchmark targets declared. Resolving them
# adds package-benchmark to Package.resolved, which is put back afterwards.
bench_swift() {
  local saved status=0
  saved=$(mktemp)
  cp "$ROOT/Package.resolved" "$saved"
  GOSSIP_MIRROR_BENCHMARKS=1 "${BENCH_NICE[@]}" swift "$@" || status=$?
  cp "$saved" "$ROOT/Package.resolved"
  rm -f "$saved"
  return "$status"
}
BENCH_NICE=()

# The test bundle of the shared build run directly (Swift Testing's entry
# point, as `swift test` runs it): no manifest, no lock on the scratch path,
# so a test-driven benchmark can run while another uses the build:
# "${BENCH_TESTS[@]}" --filter NAME. BENCH_TESTS_BUNDLE names another bundle
# (a debug one: the simulator's figures are in simulated time, the same in any build).
BENCH_TESTS=("${BENCH_TESTS_BUNDLE:-$ROOT/$BENCH_SCRATCH/release/gossip-mirrorPackageTests.xctest}" --testing-library swift-testing)

# The shared release build, at nice 10 (the machine is shared; the
# benchmarks themselves run at the priority they were started with).
bench_build() {
  echo "== swift build --build-tests ${BENCH_SWIFT_FLAGS[*]} (GOSSIP_MIRROR_BENCHMARKS=1, nice 10)"
  local t=$SECONDS
  # An array cannot be a command's prefix assignment (bash would pass the
  # string "(nice -n 10)"), so it is set for this function's scope.
  local BENCH_NICE=(nice -n 10)
  bench_swift build --build-tests "${BENCH_SWIFT_FLAGS[@]}" 2>&1 | tail -n 3
  [ "${PIPESTATUS[0]}" = 0 ] || { echo "the release build failed" >&2; return 1; }
  BENCH_BUILD_SECONDS=$((SECONDS - t))
  echo "   built in $BENCH_BUILD_SECONDS s"
}

# Which build BIN (and the test bundle) came from: "release build", or, for a
# binary from a debug build, a warning that its CPU figures are upper bounds.
bench_build_note() {
  case "${BIN:-}${BENCH_TESTS_BUNDLE:-}" in
    */debug/*) echo "**debug build** (the release build was not ready in this session: CPU and latency figures are upper bounds of the release build's)" ;;
    *) echo "release build" ;;
  esac
}

# The machine in one line: CPUs, model, memory, kernel, TCP congestion control.
bench_machine() {
  local cpu mem
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  mem=$(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
  echo "$(nproc) CPUs ($cpu), $mem, $(uname -sr), TCP congestion control $(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null || echo unknown)"
}

# The commit measured, noting uncommitted changes to the sources.
bench_commit() {
  local c
  c=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$ROOT" diff --quiet HEAD -- Sources Tests Package.swift 2>/dev/null || c="$c (with uncommitted changes)"
  echo "$c"
}

# The 1-minute load average.
bench_load() { cut -d' ' -f1 /proc/loadavg; }

# NAME ARGUMENTS...: what a benchmark of the test bundle does first: its
# options (bench_options), a work directory /tmp/NAME.*, LOAD_BEFORE, and the
# shared build unless --no-build (BUILD_SECONDS: how long it took, else "").
bench_begin() {
  local name=$1
  shift
  bench_options "$@"
  LOAD_BEFORE=$(bench_load)
  bench_workdir "$name"
  BUILD_SECONDS=""
  [ "$BUILD" = 0 ] || { bench_build; BUILD_SECONDS=$BENCH_BUILD_SECONDS; }
}

# "taken under load" when the machine was busy with other work: a load
# average above the CPU count before the benchmark started (its own load
# comes on top of that).
bench_load_note() {
  awk -v l="$1" -v n="$(nproc)" 'BEGIN { if (l > n) printf "**provisional: taken under load** (1-minute load average %s on %d CPUs before the run; other work shared the machine)", l, n; else printf "quiet machine (1-minute load average %s on %d CPUs before the run)", l, n }'
}

# Statistics of the numbers on stdin (one a line, blank lines ignored).
stat_median() { local v; v=$(grep -v '^$'); if [ -n "$v" ]; then median <<<"$v"; else echo nan; fi; }
# "LOW–HIGH" with FORMAT (printf) applied to both ends.
stat_range() { grep -v '^$' | sort -g | awk -v f="${1:-%g}" 'NR == 1 {lo = $1} {hi = $1} END {if (NR) printf f "–" f, lo, hi}'; }
# A / B as "1.23×" (or "—" when either is missing or B is zero).
stat_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "nan" || b == "nan" || b + 0 == 0) printf "—"; else printf "%.2f×", a / b }'; }
# A number formatted with FORMAT, or "—" when missing.
stat_format() { awk -v f="$1" -v x="$2" 'BEGIN { if (x == "" || x == "nan") printf "—"; else printf f, x }'; }

# PID... and all their descendants, one a line.
proc_tree() {
  local p
  for p in "$@"; do
    echo "$p"
    # shellcheck disable=SC2046
    proc_tree $(pgrep -P "$p")
  done
}

# CPU time (user + system) of one process, in clock ticks (fields 14 and 15
# of /proc/PID/stat, counted after the parenthesised command name).
proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }

# CPU time of PID... and their descendants, in clock ticks.
proc_tree_ticks() {
  local p
  for p in $(proc_tree "$@"); do proc_ticks "$p"; done | awk '{s += $1} END {print s + 0}'
}

# Resident memory of one process in KiB (VmRSS).
proc_rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# NAME SCRIPT FILE: puts FILE (the section's body) between NAME's markers in
# docs/benchmarks.md (lib.sh's bench_write_section), naming SCRIPT as the writer.
bench_publish() {
  bench_write_section "$1" "$(printf '<!-- %s:begin (written by %s; edits here are replaced) -->\n%s\n<!-- %s:end -->' \
    "$1" "$2" "$(cat "$3")" "$1")"
}
