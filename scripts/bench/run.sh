#!/usr/bin/env bash
# Every benchmark, in one command: builds gossip-mirror in release mode once,
# runs each benchmark script on this machine, and lets each rewrite its own
# generated section of docs/benchmarks.md (the hand-written analysis around
# the sections stays). Then writes the run-summary section: what ran, how
# long each took, and what failed.
#
#   scripts/bench/run.sh [--only NAME,...] [--skip NAME,...] [--quick]
#                        [--no-build] [--no-docs] [--list] [--dry-run]
#
#   --only / --skip  a subset, by the names --list prints
#   --quick          fewer rounds and smaller sizes everywhere (minutes, not
#                    an hour): for checking that everything runs; its figures
#                    are not for the document, so --quick implies --no-docs
#                    unless --docs is given too
#   --no-build       use the build already made (.build-bench)
#   --no-docs        print results only
#   --list           the benchmarks, in the order they run, with their scripts
#   --dry-run        print what the selection would run (each script with its
#                    arguments and environment) and stop
#
# Needs root (containerd, network namespaces) and the packages of
# scripts/install-deps.sh. Logs go to .build-bench/logs/NAME.log. A benchmark
# that fails does not stop the others; the exit status is non-zero if any did.
set -Euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
# shellcheck source=scripts/bench/report.sh
. scripts/bench/report.sh

# NAME|SCRIPT|what it measures. Order: the cheap and self-contained first,
# the long cluster benchmarks last.
BENCHMARKS=(
  "micro|scripts/bench/micro.sh|package-benchmark micro-benchmarks: Bloom lookup, summary decode and delta apply, envelope, route parse"
  "simulator|scripts/bench/simulator.sh|the deterministic simulator at 10, 100 and 1000 members: detection, dissemination, bandwidth, false deaths"
  "load|scripts/bench/load.sh|wrk at 64 connections: miss, manifest HEAD, small blob; gossip-mirror, docker-registry, nginx"
  "throughput|scripts/bench/registry-throughput.sh|one 256 MiB GET at a time: local, through a peer, nginx, docker-registry, SHA-256"
  "pulls|scripts/bench/pulls.sh|containerd pulls of 10 MB, 100 MB, 1 GB (1 and 8 layers): direct, cold through the mirror, from a peer"
  "peer-pull|scripts/bench/peer-pull.sh|containerd pull through a peer against a direct pull (issue 10)"
  "cold-pull|scripts/bench/cold-pull.sh|four hosts pulling one image at once from a rate-limited upstream (issue 15)"
  "idle-cpu|scripts/bench/idle-cpu.sh|CPU of idle nodes (issue 13)"
  "scale|scripts/bench/scale.sh|one real node in a 1000-member cluster, every member advertising 10,000 digests"
)

ONLY="" SKIP="" QUICK=0 BUILD=1 DOCS=1 DOCS_SET=0 LIST=0 DRY=0
while (($#)); do
  case $1 in
    --only) ONLY=$2; shift 2 ;;
    --skip) SKIP=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --no-docs) DOCS=0 DOCS_SET=1; shift ;;
    --docs) DOCS=1 DOCS_SET=1; shift ;;
    --list) LIST=1; shift ;;
    --dry-run) DRY=1; shift ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done
[ "$QUICK" = 1 ] && [ "$DOCS_SET" = 0 ] && DOCS=0

if [ "$LIST" = 1 ]; then
  for b in "${BENCHMARKS[@]}"; do
    IFS='|' read -r name script what <<<"$b"
    printf '%-11s %-38s %s%s\n' "$name" "$script" "$what" "$([ -x "$script" ] || echo ' (not in this checkout)')"
  done
  exit 0
fi
selected() {  # NAME
  local n=",$1,"
  if [ -n "$ONLY" ] && [[ ",$ONLY," != *"$n"* ]]; then return 1; fi
  if [ -n "$SKIP" ] && [[ ",$SKIP," == *"$n"* ]]; then return 1; fi
  return 0
}
for name in ${ONLY//,/ } ${SKIP//,/ }; do
  printf '%s\n' "${BENCHMARKS[@]}" | grep -q "^$name|" || { echo "no benchmark named $name (try --list)" >&2; exit 2; }
done
# Arguments for each script: ours take --no-build, --no-docs and --quick;
# the others take what they take (cold-pull.sh and idle-cpu.sh print their
# results and write no section), and their quick knobs are mapped here.
arguments() {  # NAME -> the script's arguments, one a line
  case $1 in
    cold-pull) [ "$QUICK" = 1 ] && printf '%s\n' --runs 1 ;;  # builds nothing when GM_BIN is set
    idle-cpu) printf '%s\n' --no-build ;;
    *)
      printf '%s\n' --no-build
      [ "$DOCS" = 1 ] || printf '%s\n' --no-docs
      ;;
  esac
  case $1 in micro | simulator | load | pulls | scale) [ "$QUICK" = 1 ] && printf '%s\n' --quick ;; esac
  return 0
}
environment() {  # NAME -> VAR=VALUE lines for the quick mode of the others' scripts
  [ "$QUICK" = 1 ] || return 0
  case $1 in
    throughput) printf '%s\n' BLOB_MIB=64 REPS=3 ;;
    peer-pull) printf '%s\n' RUNS=2 ;;
    idle-cpu) printf '%s\n' IDLE=10 SETTLE=5 ;;
  esac
}

if [ "$DRY" = 1 ]; then
  for b in "${BENCHMARKS[@]}"; do
    IFS='|' read -r name script what <<<"$b"
    selected "$name" || continue
    mapfile -t args < <(arguments "$name")
    mapfile -t envs < <(environment "$name")
    echo "$name: ${envs[*]:+${envs[*]} }$script ${args[*]}$([ -x "$script" ] || echo ' (not in this checkout)')"
  done
  exit 0
fi
[ "$DRY" = 1 ] || [ "$(id -u)" = 0 ] || { echo "run it as root: containerd and network namespaces need it" >&2; exit 1; }

export SCRATCH=${SCRATCH:-.build-bench}
# Package.resolved as committed, whatever the scripts' resolutions with the
# benchmark targets do to it (they put it back themselves, but two at once may not).
RESOLVED=$(mktemp)
cp Package.resolved "$RESOLVED"
trap 'cp "$RESOLVED" Package.resolved; rm -f "$RESOLVED"; [ -z "${SIM_PID:-}" ] || kill "$SIM_PID" 2>/dev/null || true' EXIT
LOGS=$ROOT/$SCRATCH/logs
mkdir -p "$LOGS"
export BENCH_QUICK=$QUICK
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC') LOAD_BEFORE=$(bench_load) T0=$SECONDS

# ---------------------------------------------------------------- build
BUILD_SECONDS=""
if [ "$BUILD" = 1 ]; then
  bench_build || exit 1
  BUILD_SECONDS=$BENCH_BUILD_SECONDS
fi
# GOSSIP_MIRROR_BIN (and BENCH_TESTS_BUNDLE, report.sh) name another build's binary and tests.
export GOSSIP_MIRROR_BIN=${GOSSIP_MIRROR_BIN:-$ROOT/$SCRATCH/release/gossip-mirror}
export GM_BIN=$GOSSIP_MIRROR_BIN
[ -x "$GOSSIP_MIRROR_BIN" ] || { echo "no binary at $GOSSIP_MIRROR_BIN (build without --no-build first)" >&2; exit 1; }

# ---------------------------------------------------------------- runs
declare -A RESULT=() ELAPSED=()
FAILED=0
for b in "${BENCHMARKS[@]}"; do
  IFS='|' read -r name script what <<<"$b"
  selected "$name" || continue
  if [ ! -x "$script" ]; then
    RESULT[$name]="not in this checkout"
    echo "== $name: $script is not in this checkout; skipped"
    continue
  fi
  mapfile -t args < <(arguments "$name")
  mapfile -t envs < <(environment "$name")
  echo "== $name: $script ${args[*]} ${envs[*]} (log: $LOGS/$name.log)"
  if [ "$name" = simulator ]; then
    # Simulated time does not depend on the machine's load, so the simulator
    # runs beside the others, at nice 19, where it takes only what they leave.
    SIM_T0=$SECONDS
    env "${envs[@]}" nice -n 19 "$script" "${args[@]}" >"$LOGS/$name.log" 2>&1 &
    SIM_PID=$!
    echo "   in the background at nice 19 (pid $SIM_PID)"
    continue
  fi
  t=$SECONDS
  env "${envs[@]}" "$script" "${args[@]}" 2>&1 | tee "$LOGS/$name.log"
  status=${PIPESTATUS[0]}
  ELAPSED[$name]=$((SECONDS - t))
  if [ "$status" = 0 ]; then RESULT[$name]=ok; else RESULT[$name]="failed (exit $status, see the log)"; FAILED=1; fi
  echo "== $name: ${RESULT[$name]} in ${ELAPSED[$name]} s"
done
if [ -n "${SIM_PID:-}" ]; then
  echo "== simulator: waiting for the background run (log: $LOGS/simulator.log)"
  status=0
  wait "$SIM_PID" || status=$?
  ELAPSED[simulator]=$((SECONDS - SIM_T0))
  if [ "$status" = 0 ]; then RESULT[simulator]="ok (in the background, nice 19)"; else RESULT[simulator]="failed (exit $status, see the log)"; FAILED=1; fi
  grep '^\[sim-bench\]\|^|' "$LOGS/simulator.log" | tail -n 5
  echo "== simulator: ${RESULT[simulator]} in ${ELAPSED[simulator]} s"
fi
TOTAL=$((SECONDS - T0))

# ---------------------------------------------------------------- summary
minutes() { awk -v s="$1" 'BEGIN {if (s == "") printf "—"; else if (s < 90) printf "%d s", s; else printf "%.1f min", s / 60}'; }
SUMMARY="| benchmark | script | result | time |
|---|---|---|---:|"
[ -n "$BUILD_SECONDS" ] && SUMMARY+="
| the shared release build (binary, tests, package-benchmark targets; nice 10) | \`swift build --build-tests -c release -Xswiftc -enable-testing\` | ok | $(minutes "$BUILD_SECONDS") |"
for b in "${BENCHMARKS[@]}"; do
  IFS='|' read -r name script what <<<"$b"
  [ -n "${RESULT[$name]:-}" ] || continue
  SUMMARY+="
| $name: $what | \`$script\` | ${RESULT[$name]} | $(minutes "${ELAPSED[$name]:-}") |"
done
echo
echo "$SUMMARY"
echo "total: $(minutes "$TOTAL")"

# The run section: after a full run, or after a partial one (--only, --skip)
# saying which benchmarks it left out, so that the document never claims a
# full run it did not have.
if [ "$DOCS" = 1 ] && [ "$QUICK" = 0 ]; then
  if [ -z "$ONLY" ] && [ -z "$SKIP" ]; then
    TITLE="The last full run" SCOPE="regenerated every section marked as generated below"
  else
    TITLE="The last run (partial)"
    SCOPE="(\`${ONLY:+--only $ONLY}${SKIP:+--skip $SKIP}\`) regenerated the sections of the benchmarks in the table below; the others keep the figures of an earlier run"
  fi
  cat >"$LOGS/run-section.md" <<EOF
## $TITLE

\`scripts/bench/run.sh\` $SCOPE, in $(minutes "$TOTAL") on this machine, $([ -n "$BUILD_SECONDS" ] && echo "the shared release build
included" || echo "on a release build made before (\`--no-build\`)"). The benchmarks ran at normal priority (nice 0), the simulator
beside them at nice 19; each section states the machine's load before it. Ratios within one
run are the figures to trust.

- Date: $STARTED; $(bench_load_note "$LOAD_BEFORE")
- Machine: $(bench_machine)
- Commit: $(bench_commit)

$SUMMARY
EOF
  bench_publish run scripts/bench/run.sh "$LOGS/run-section.md"
fi
exit "$FAILED"
