#!/usr/bin/env bash
# CPU of idle gossip-mirror nodes: a five-node cluster on loopback addresses,
# nothing to serve, nothing changing. After the cluster has formed and settled,
# utime + stime of every node is read from /proc/<pid>/stat before and after
# a window of IDLE seconds; the result is CPU-seconds per second, as a
# percentage of one CPU.
#
# With BASELINE_BIN set, a second five-node cluster runs that binary at the
# same time (another loopback subnet), so both are measured under the same
# load of the machine and the ratio is of one run.
#
# Usage: scripts/bench/idle-cpu.sh [--no-build]
#   --no-build  use .build-bench/release/gossip-mirror as it is
# Environment: IDLE (60 s), SETTLE (20 s), GOSSIP_MIRROR_BIN (a built binary),
#   BASELINE_BIN (a binary to compare with), SCRATCH (.build-bench).
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

IDLE=${IDLE:-60}
SETTLE=${SETTLE:-20}
SCRATCH=${SCRATCH:-.build-bench}
# shellcheck source=scripts/bench/lib.sh
. "$ROOT/scripts/bench/lib.sh"
bench_options "$@"

bench_binary
if [ -n "${BASELINE_BIN:-}" ]; then
  [ -x "$BASELINE_BIN" ] || { echo "no baseline binary at $BASELINE_BIN" >&2; exit 1; }
fi
bench_workdir gossip-idle

"$BIN" keygen --out "$WORK/cluster.key" >/dev/null

# start_cluster NAME BINARY SUBNET: five nodes, node i joining node i-1 (node 1 joins node 5).
start_cluster() {
  local name=$1 binary=$2 subnet=$3
  for i in 1 2 3 4 5; do
    local seed=$(( i == 1 ? 5 : i - 1 )) dir="$WORK/$name-$i"
    mkdir -p "$dir/layout"
    "$binary" run --name "$name-$i" --gossip-addr "$subnet.$i:7946" --join "$subnet.$seed:7946" \
      --registry-addr "$subnet.$i:5000" --status-addr "$subnet.$i:9090" --key-file "$WORK/cluster.key" \
      --store oci-layout --oci-layout "$dir/layout" --log-level warning --no-access-log \
      >"$dir/log" 2>&1 &
    PIDS+=($!)
    echo "$!" >>"$WORK/$name.pids"
  done
}

# formed BINARY SUBNET: every node lists five members alive.
formed() {
  local binary=$1 subnet=$2 i
  for i in 1 2 3 4 5; do
    [ "$("$binary" members --status-addr "$subnet.$i:9090" --json 2>/dev/null | grep -o '"state" *: *"alive"' | wc -l)" = 5 ] || return 1
  done
}

# wait_formed NAME BINARY SUBNET: until formed (60 s at most).
wait_formed() {
  wait_for 60 formed "$2" "$3" || { echo "cluster $1 did not form; node logs:" >&2; tail -n 5 "$WORK/$1"-*/log >&2; exit 1; }
}

# ticks PID: utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat,
# counted after the parenthesised command name, which may contain spaces).
ticks() {
  local stat rest
  stat=$(cat "/proc/$1/stat")
  rest=${stat##*) }
  set -- $rest
  echo $(( ${12} + ${13} ))
}

SUBNET="127.$((200 + RANDOM % 20)).$((RANDOM % 250 + 1))"
BASE_SUBNET="127.$((220 + RANDOM % 20)).$((RANDOM % 250 + 1))"
start_cluster new "$BIN" "$SUBNET"
[ -n "${BASELINE_BIN:-}" ] && start_cluster base "$BASELINE_BIN" "$BASE_SUBNET"
wait_formed new "$BIN" "$SUBNET"
[ -n "${BASELINE_BIN:-}" ] && wait_formed base "$BASELINE_BIN" "$BASE_SUBNET"
echo "== formed; settling ${SETTLE} s, then measuring ${IDLE} s"
sleep "$SETTLE"

HZ=$(getconf CLK_TCK)
CLUSTERS=(new)
[ -n "${BASELINE_BIN:-}" ] && CLUSTERS+=(base)
declare -A START MEAN
for c in "${CLUSTERS[@]}"; do
  for pid in $(cat "$WORK/$c.pids"); do START[$pid]=$(ticks "$pid"); done
done
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
UP_BEFORE=$(cut -d' ' -f1 /proc/uptime)
sleep "$IDLE"
UP_AFTER=$(cut -d' ' -f1 /proc/uptime)
LOAD_AFTER=$(cut -d' ' -f1 /proc/loadavg)
# The window as it passed (a stopped or starved script sleeps longer than IDLE).
WINDOW=$(awk -v a="$UP_BEFORE" -v b="$UP_AFTER" 'BEGIN { printf "%.2f", b - a }')

echo
echo "Idle CPU over ${WINDOW} s, % of one CPU per node (1-minute load average ${LOAD_BEFORE} / ${LOAD_AFTER}):"
echo
echo "| binary | node 1 | node 2 | node 3 | node 4 | node 5 | mean |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for c in "${CLUSTERS[@]}"; do
  row="| $c"
  total=0
  for pid in $(cat "$WORK/$c.pids"); do
    used=$(( $(ticks "$pid") - START[$pid] ))
    total=$(( total + used ))
    row+=" | $(awk -v t="$used" -v hz="$HZ" -v s="$WINDOW" 'BEGIN { printf "%.3f", 100 * t / hz / s }')"
  done
  MEAN[$c]=$(awk -v t="$total" -v hz="$HZ" -v s="$WINDOW" 'BEGIN { printf "%.3f", 100 * t / hz / s / 5 }')
  echo "$row | ${MEAN[$c]} |"
done
if [ -n "${BASELINE_BIN:-}" ]; then
  echo
  awk -v n="${MEAN[new]}" -v b="${MEAN[base]}" 'BEGIN { if (b > 0) printf "new / base: %.2f\n", n / b }'
fi
echo
echo "binary: $BIN${BASELINE_BIN:+; base: $BASELINE_BIN}"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); clock ticks of $HZ Hz"
