# shellcheck shell=bash
# What the benchmark scripts share: the gossip-mirror binary, a work
# directory and the processes started in it (all stopped and removed on
# exit), polling with a deadline, and the median of a list.
#
# Source it after setting ROOT, SCRATCH and BUILD, then: bench_binary (sets
# BIN), bench_workdir NAME (sets WORK; PIDS+=($!) for every process started).

# The release binary: GOSSIP_MIRROR_BIN, or built into $SCRATCH unless BUILD=0.
bench_binary() {
  if [ -n "${GOSSIP_MIRROR_BIN:-}" ]; then
    BIN=$GOSSIP_MIRROR_BIN
  else
    if [ "$BUILD" = 1 ]; then
      echo "== swift build --scratch-path $SCRATCH -c release --product gossip-mirror"
      swift build --scratch-path "$SCRATCH" -c release --product gossip-mirror 2>&1 | tail -n 2
    fi
    BIN=$ROOT/$SCRATCH/release/gossip-mirror
  fi
  [ -x "$BIN" ] || { echo "no gossip-mirror binary at $BIN" >&2; exit 1; }
}

# A work directory; on exit every process in PIDS is stopped (TERM, then KILL
# after 5 s) and the directory removed.
bench_workdir() {
  WORK=$(mktemp -d "/tmp/$1.XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  trap 'echo "$0: failed at line $LINENO (exit $?)" >&2' ERR
}

bench_cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}

# SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds; fails after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# The median of the numbers on stdin, one a line.
median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
