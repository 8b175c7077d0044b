#!/usr/bin/env bash
# The network of a cluster on one machine, shared by the demo
# (scripts/cluster/lib.sh) and the Swift cluster tests
# (Tests/EndToEndTests/Cluster): a bridge holding SUBNET.1/24 and, per host,
# a network namespace whose eth0 is one end of a veth pair enslaved to the
# bridge. Everything created is appended to DIR/resources ("netns NAME",
# "link NAME"; the callers add "pid PID" for the processes they start) before
# the next step, so that `teardown` removes exactly what was made, newest
# first, even after a failure half-way.
#
#   network.sh bridge DIR NAME PREFIX     a bridge NAME on a /24 under PREFIX
#                                         (e.g. 10.238) that no interface or route
#                                         uses; prints the subnet (10.238.X)
#   network.sh host DIR NAMESPACE VETH BRIDGE ADDRESS
#                                         a namespace with eth0 = ADDRESS/24 and lo up
#   network.sh teardown DIR               stops DIR's processes (SIGTERM, SIGKILL
#                                         after 5 s), deletes its namespaces and
#                                         links, removes DIR
#   network.sh sweep PREFIX               tears down /tmp/PREFIX* directories whose
#                                         owner process (DIR/owner) is gone
#
# Nothing outside a ledger is touched: not the machine's containerd, its
# nftables ruleset, its routes beyond the bridge's own /24, or other runs.
set -euo pipefail

record() { echo "$2 $3" >>"$1/resources"; }

bridge() {
  local dir=$1 name=$2 prefix=$3 x used
  used=$( { ip -4 -o addr show; ip -4 route show; } 2>/dev/null)
  for _ in $(seq 1 100); do
    x=$((RANDOM % 253 + 2))
    grep -qF "$prefix.$x." <<<"$used" || break
    x=""
  done
  [ -n "$x" ] || { echo "no free $prefix.X.0/24" >&2; return 1; }
  ip link add "$name" type bridge
  record "$dir" link "$name"
  ip addr add "$prefix.$x.1/24" dev "$name"
  ip link set "$name" up
  echo "$prefix.$x"
}

host() {
  local dir=$1 ns=$2 veth=$3 bridge=$4 address=$5
  ip netns add "$ns"
  record "$dir" netns "$ns"
  ip link add "$veth" type veth peer name "${veth}p"
  record "$dir" link "$veth"
  ip link set "${veth}p" netns "$ns"
  ip link set "$veth" master "$bridge" up
  ip -n "$ns" link set "${veth}p" name eth0
  ip -n "$ns" addr add "$address/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
}

teardown() {
  local dir=$1 kind name p
  [ -f "$dir/resources" ] || { rm -rf "$dir"; return 0; }
  local -a lines=() pids=()
  mapfile -t lines < <(tac "$dir/resources")
  # Processes first: SIGTERM (a mirror leaves the cluster), then SIGKILL. Only
  # processes whose command line names this directory (all of ours do): a pid
  # recorded by a run long gone may belong to somebody else by now.
  for line in "${lines[@]}"; do
    read -r kind name <<<"$line"
    [ "$kind" = pid ] || continue
    tr '\0' ' ' 2>/dev/null <"/proc/$name/cmdline" | grep -qF "$dir" && pids+=("$name")
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do
      # Gone, or a zombie its parent has not reaped yet.
      [ -e "/proc/$p" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$p" 2>/dev/null || true
  done
  for line in "${lines[@]}"; do
    read -r kind name <<<"$line"
    case $kind in
      netns)
        # Anything still running in a namespace of ours (a ctr cut short) is ours.
        for p in $(ip netns pids "$name" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        ip netns del "$name" 2>/dev/null || true
        ;;
      link) ip link del "$name" 2>/dev/null || true ;;
    esac
  done
  rm -rf "$dir"
}

sweep() {
  local prefix=$1 dir owner
  for dir in /tmp/"$prefix"*; do
    [ -f "$dir/resources" ] || continue
    owner=$(cat "$dir/owner" 2>/dev/null || echo 0)
    [ "$owner" = "$PPID" ] && continue
    if [ "$owner" != 0 ] && kill -0 "$owner" 2>/dev/null; then continue; fi
    echo "removing what an earlier run left behind ($dir)" >&2
    teardown "$dir"
  done
}

usage() { sed -n '2,20p' "$0" >&2; exit 2; }
command=${1:-}
shift || true
case $command in
  bridge) [ $# = 3 ] || usage; bridge "$@" ;;
  host) [ $# = 5 ] || usage; host "$@" ;;
  teardown) [ $# = 1 ] || usage; teardown "$@" ;;
  sweep) [ $# = 1 ] || usage; sweep "$@" ;;
  *) usage ;;
esac
