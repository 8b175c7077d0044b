#!/usr/bin/env bash
# The main job: builds gossip-mirror and starts a three-node cluster on
# loopback addresses, shows the members each node sees, then kills one node
# and shows the others detecting it. Leaves the cluster running until Ctrl-C
# unless --cleanup is given.
set -euo pipefail
cd "$(dirname "$0")/.."

cleanup_only=false
[ "${1:-}" = "--cleanup" ] && cleanup_only=true

scripts/install-deps.sh
echo "== building"
swift build --product gossip-mirror 2>&1 | tail -n 1
bin="$(swift build --show-bin-path)/gossip-mirror"

work="$(mktemp -d /tmp/gossip-mirror-demo.XXXXXX)"
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap stop EXIT

"$bin" keygen --out "$work/cluster.key"
for i in 1 2 3; do
  "$bin" run --name "demo-$i" --gossip-addr "127.0.10.$i:7946" --status-addr "127.0.10.$i:9090" \
    --registry-addr "127.0.10.$i:5000" --key-file "$work/cluster.key" --join "127.0.10.1:7946" \
    --store oci-layout >"$work/demo-$i.log" 2>&1 &
  pids+=("$!")
done

echo "== waiting for three alive members"
for _ in $(seq 1 100); do
  n=$("$bin" members --status-addr 127.0.10.3:9090 2>/dev/null | awk '$3 == "alive" || $4 == "alive"' | wc -l)
  [ "$n" = 3 ] && break
  sleep 0.1
done
"$bin" members --status-addr 127.0.10.3:9090

echo "== killing demo-2 (SIGKILL); the others detect it"
kill -9 "${pids[1]}"
start=$(date +%s%N)
for _ in $(seq 1 400); do
  state=$("$bin" members --status-addr 127.0.10.1:9090 2>/dev/null | awk '$1 == "demo-2" {print $3}')
  [ "$state" = dead ] && break
  sleep 0.1
done
echo "demo-2 is $state after $(( ($(date +%s%N) - start) / 1000000 )) ms"
"$bin" members --status-addr 127.0.10.1:9090

if $cleanup_only; then exit 0; fi
echo "== cluster running (logs in $work); Ctrl-C to stop"
wait
