#!/usr/bin/env bash
# Builds the libFuzzer driver and runs fuzz targets (docs/security.md, "Fuzzing").
#
#   scripts/fuzz.sh                        every target, 1,000,000 executions each
#   scripts/fuzz.sh -runs 200000 summary range
#   scripts/fuzz.sh -seconds 3             every target for 3 s each
#   SCRATCH=.build FUZZ_CONFIGURATION=debug scripts/fuzz.sh -seconds 3
#                                          what CI (scripts/test.sh) runs: reuses
#                                          the debug build's dependencies
#   scripts/fuzz.sh -list                  the targets
#
# Prints one line per target: executions, coverage (libFuzzer's `cov`, edges
# reached, and `ft`, features), corpus size, speed and the result. An input
# that crashes or breaks a property is kept in .build-fuzz/findings/<target>/;
# reproduce it with `.build-fuzz/release/gossip-mirror-fuzz <target> FILE` and,
# once fixed, commit it under Tests/Fuzz/Regressions/<target>/ (swift test
# runs those). The corpus grows in .build-fuzz/corpus/<target>/ across runs.
#
# Environment: FUZZ_CONFIGURATION (release; debug builds faster and runs
# slower), FUZZ_NICE (10: the machine is shared), SCRATCH (.build-fuzz),
# FUZZ_FLAGS (extra libFuzzer flags, e.g. "-max_len=8192"), FUZZ_BUILD (0: run
# the driver already built, e.g. while a rebuild of changed code is pending).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1000000
seconds=""
list=""
targets=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    -runs) runs="$2"; shift 2 ;;
    -seconds) seconds="$2"; shift 2 ;;
    -list) list=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

script_start=$(date +%s)
configuration="${FUZZ_CONFIGURATION:-release}"
niceness="${FUZZ_NICE:-10}"
scratch="${SCRATCH:-.build-fuzz}"

# The fuzz flags (-sanitize=fuzzer,address on this package's code) are in
# Package.swift, behind GOSSIP_MIRROR_FUZZ=1.
if [ "${FUZZ_BUILD:-1}" = 0 ]; then
  echo "== using the built gossip-mirror-fuzz ($configuration, scratch path $scratch; FUZZ_BUILD=0)"
else
echo "== build gossip-mirror-fuzz ($configuration, scratch path $scratch)"
log="$(mktemp)"
start=$(date +%s)
if ! GOSSIP_MIRROR_FUZZ=1 nice -n "$niceness" swift build -c "$configuration" --product gossip-mirror-fuzz \
    --scratch-path "$scratch" >"$log" 2>&1; then
  grep -E "error" "$log" | head -n 40 || true
  tail -n 20 "$log"
  exit 1
fi
echo "built in $(( $(date +%s) - start )) s"
rm -f "$log"
fi
driver="$scratch/$configuration/gossip-mirror-fuzz"

if [ -n "$list" ]; then "$driver" --list; exit 0; fi
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <("$driver" --list | cut -f1)
fi

if [ -n "$seconds" ]; then budget=(-max_total_time="$seconds"); else budget=(-runs="$runs"); fi
# Leak checking is off: the Swift runtime's caches and libsodium's state live
# until exit by design and would be reported as leaks. Allocation stacks are
# not recorded (a crash still shows its own stack): Swift code allocates a
# lot, and recording them cost 15 % of a run. The Swift runtime's
# backtracer is off too: on a trap it reads the crashed process's memory in a
# way AddressSanitizer reports as an error of its own, hiding the real one.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:malloc_context_size=0}"
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

failed=0
printf '%-18s %12s %7s %7s %8s %9s %8s  %s\n' target executions cov ft corpus exec/s seconds result
for target in "${targets[@]}"; do
  corpus="$scratch/corpus/$target"
  findings="$scratch/findings/$target"
  logfile="$scratch/logs/$target.log"
  mkdir -p "$corpus" "$findings" "$(dirname "$logfile")"
  "$driver" "$target" --seeds "$corpus"
  inputs=("$corpus")
  if [ -d "Tests/Fuzz/Regressions/$target" ]; then inputs+=("Tests/Fuzz/Regressions/$target"); fi
  start=$(date +%s)
  status=0
  # shellcheck disable=SC2086  # FUZZ_FLAGS is a list of flags
  nice -n "$niceness" "$driver" "$target" "${budget[@]}" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$findings/" ${FUZZ_FLAGS:-} "${inputs[@]}" >"$logfile" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - start ))
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$logfile" | tail -n 1 || true)"
  [ -n "$done_line" ] || done_line="$(grep -E '^#[0-9]+[[:space:]]' "$logfile" | tail -n 1 || true)"
  executions="$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$logfile" | grep -oE '[0-9]+$' || true)"
  field() { grep -oE "$1: [0-9]+" <<<"$done_line" | grep -oE '[0-9]+$' || echo "?"; }
  corpus_size="$(grep -oE 'corp: [0-9]+' <<<"$done_line" | grep -oE '[0-9]+$' || echo "?")"
  speed="$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$logfile" | grep -oE '[0-9]+$' || echo "?")"
  if [ "$status" -eq 0 ]; then
    result="ok"
  else
    failed=1
    artifact="$(grep -oE 'Test unit written to [^ ]+' "$logfile" | tail -n 1 | sed 's/Test unit written to //' || true)"
    reason="$(grep -m1 -oE '(Fatal error: .*|ERROR: AddressSanitizer: [a-z-]+|ERROR: libFuzzer: [a-z-]+)' "$logfile" || true)"
    result="FAILED: ${reason:-exit $status} ${artifact:+($artifact)}"
  fi
  printf '%-18s %12s %7s %7s %8s %9s %8s  %s\n' "$target" "${executions:-?}" "$(field cov)" "$(field ft)" \
    "$corpus_size" "$speed" "$elapsed" "$result"
done
echo "total $(( $(date +%s) - script_start )) s (build and runs)"
if [ "$failed" -ne 0 ]; then
  echo "logs: $scratch/logs/<target>.log" >&2
  exit 1
fi
