#!/usr/bin/env bash
# One real node in a 1000-member cluster where every member advertises
# 10,000 digests: its resident memory, CPU and gossip bytes per second in
# steady state, and how long a digest new on one member takes to be
# locatable on it.
#
#   real node   `gossip-mirror run` (release build), an OCI layout of 100
#               images holding 10,000 digests, joined through one member of
#               the harness; measured from /proc (VmRSS, utime + stime) and
#               its /status.json (gossip bytes)
#   harness     MEMBERS − 1 lightweight members in one process
#               (Tests/EndToEndTests/Scale, run as a test of the shared
#               release build, report.sh's bench_build): each a real SWIM.Instance with its own
#               loopback address, UDP socket and TCP listener (NIOTransport),
#               speaking the real protocol to the real node (sealed datagrams
#               and chunked streams, real Bloom summaries of DIGESTS random
#               digests, real deltas); among themselves they talk in memory
#   baseline    the same binary and layout alone (a cluster of one), for
#               memory and CPU, measured first in the same run
#
# Phases: the harness forms its cluster and publishes its summaries; the
# real node joins and fetches them all; SETTLE s; a QUIET window of WINDOW s
# with nothing changing; a BUSY window of WINDOW s with NEWS new-digest
# deltas a second somewhere in the harness; then PROBES times, a digest
# added on a random harness member, timed until the real node's /locate
# names that member. The harness competes with the node for this machine's 2
# CPUs: the node's CPU is its own (from /proc), and the machine's total busy
# share over each window is reported beside it.
#
# Usage: scripts/bench/scale.sh [--no-build] [--no-docs] [--quick]
# Environment: MEMBERS (1000), DIGESTS (10000), WINDOW (120), SETTLE (120),
#   BASELINE (30), NEWS (1), PROBES (10), GOSSIP_MIRROR_BIN, SCRATCH (.build-bench).
# SETTLE follows the join: once the real node holds every summary, the 999
# harness members may still be fetching the real node's own, and a member
# whose fetch was refused retries after 1, 2, 4, … 32 s (SWIM.Instance's
# payloadFetchBackoff): 120 s covers six refusals in a row, so the windows
# measure the steady state rather than the join's tail. BASELINE is how
# long the node alone settles and is measured.
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

MEMBERS=${MEMBERS:-1000} DIGESTS=${DIGESTS:-10000} WINDOW=${WINDOW:-120} SETTLE=${SETTLE:-120} BASELINE=${BASELINE:-30}
NEWS=${NEWS:-1} PROBES=${PROBES:-10}
SCRATCH=${SCRATCH:-.build-bench}
# shellcheck source=scripts/bench/report.sh
. scripts/bench/report.sh
bench_options "$@"
if [ "${BENCH_QUICK:-0}" = 1 ]; then WINDOW=30 SETTLE=15 BASELINE=15 PROBES=5; fi
bench_require curl python3

[ "$BUILD" = 0 ] || bench_build
BUILD=0 bench_binary
bench_workdir gm-scale
LOAD_BEFORE=$(bench_load)
# Two sockets per harness member, and connections: more descriptors than the default.
ulimit -n 65536 2>/dev/null || ulimit -n 16384

REAL_IP=127.76.0.1
"$BIN" keygen --out "$WORK/cluster.key" >/dev/null

# ---------------------------------------------------------------- the real node's store
# 100 images of (DIGESTS / 100 − 2) tiny layers, a config and a manifest each:
# DIGESTS digests in all, as the harness members advertise.
python3 - "$WORK/layout" "$DIGESTS" <<'EOF'
import hashlib, json, os, sys
root, digests = sys.argv[1], int(sys.argv[2])
images, per = 100, max(3, digests // 100)
os.makedirs(f"{root}/blobs/sha256")
def put(data):
    h = hashlib.sha256(data).hexdigest()
    with open(f"{root}/blobs/sha256/{h}", "wb") as f:
        f.write(data)
    return {"digest": f"sha256:{h}", "size": len(data)}
index = []
for i in range(images):
    layers = [put(os.urandom(64)) for _ in range(per - 2)]
    config = put(json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **l} for l in layers]}
    m = put(json.dumps(manifest).encode())
    index.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", **m,
                  "annotations": {"org.opencontainers.image.ref.name": f"docker.io/bench/scale-{i:03d}:v1"}})
with open(f"{root}/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(f"{root}/index.json", "w") as f:
    json.dump({"schemaVersion": 2, "manifests": index}, f)
EOF

# ---------------------------------------------------------------- helpers
status_json() { "$BIN" status --status-addr "$REAL_IP:9090" --json; }
# Fields of /status.json: alive members, members whose summary is held, gossip bytes sent and received.
status_fields() {
  status_json | python3 -c '
import json, sys
s = json.load(sys.stdin)
alive = sum(1 for m in s["members"] if m["state"] == "alive")
summaries = sum(1 for m in s["members"] if not m["isSelf"] and (m.get("catalogEntries") or 0) > 0)
g = s.get("gossip", {})
print(alive, summaries, g.get("bytesSent", 0), g.get("bytesReceived", 0))'
}
cpu_ticks_total() { awk '/^cpu / {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
hz=$(getconf CLK_TCK)
start_real() {  # NAME [--join SEED]
  local name=$1
  shift
  "$BIN" run --name "$name" --gossip-addr "$REAL_IP:7946" --registry-addr "$REAL_IP:5000" --status-addr "$REAL_IP:9090" \
    --store oci-layout --oci-layout "$WORK/layout" --key-file "$WORK/cluster.key" --log-level warning --no-access-log \
    "$@" >>"$WORK/real.log" 2>&1 &
  PIDS+=($!)
  REAL_PID=$!
}
stop_real() {
  kill -TERM "$REAL_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$REAL_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$REAL_PID" 2>/dev/null || true
  wait "$REAL_PID" 2>/dev/null || true
}
# Measures the real node for SECONDS: prints "rss_kib_end rss_kib_max cpu_percent bytes_per_s machine_busy_percent harness_cpu_percent"
measure_window() {
  local seconds=$1 t0 c0 m0 h0 b0 t1 c1 m1 h1 b1 rss max=0 end
  read -r _ _ s0 r0 < <(status_fields)
  c0=$(proc_ticks "$REAL_PID") h0=$(proc_tree_ticks ${HARNESS_PID:-$$}) t0=$(date +%s%N)
  read -r m0 b0 < <(cpu_ticks_total)
  end=$((SECONDS + seconds))
  while [ $SECONDS -lt $end ]; do
    rss=$(proc_rss_kib "$REAL_PID")
    [ "${rss:-0}" -gt "$max" ] && max=$rss
    sleep 5
  done
  read -r _ _ s1 r1 < <(status_fields)
  c1=$(proc_ticks "$REAL_PID") h1=$(proc_tree_ticks ${HARNESS_PID:-$$}) t1=$(date +%s%N)
  read -r m1 b1 < <(cpu_ticks_total)
  rss=$(proc_rss_kib "$REAL_PID")
  [ "$rss" -gt "$max" ] && max=$rss
  awk -v rss="$rss" -v max="$max" -v dc=$((c1 - c0)) -v dh=$((h1 - h0)) -v hz="$hz" -v ns=$((t1 - t0)) \
    -v db=$(((s1 - s0) + (r1 - r0))) -v dm=$((m1 - m0)) -v dbusy=$((b1 - b0)) 'BEGIN {
      s = ns / 1e9
      printf "%d %d %.3f %.0f %.1f %.1f\n", rss, max, dc / hz / s * 100, db / s, dbusy / dm * 100, dh / hz / s * 100 }'
}

# ---------------------------------------------------------------- baseline: the node alone
echo "== baseline: the real node alone, ${BASELINE}s"
start_real scale-alone
wait_for 60 status_json || { cat "$WORK/real.log"; exit 1; }
sleep "$BASELINE"
read -r B_RSS B_RSS_MAX B_CPU B_BYTES B_BUSY _ < <(measure_window "$BASELINE")
echo "   alone: VmRSS $((B_RSS / 1024)) MiB, CPU $B_CPU % of one CPU"
stop_real

# ---------------------------------------------------------------- the harness
echo "== harness: $((MEMBERS - 1)) members, $DIGESTS digests each"
mkdir -p "$WORK/harness"
GM_SCALE_DIR=$WORK/harness GM_SCALE_MEMBERS=$((MEMBERS - 1)) GM_SCALE_DIGESTS=$DIGESTS GM_SCALE_BIN=$BIN \
  GM_SCALE_KEY_FILE=$WORK/cluster.key GM_SCALE_REAL=$REAL_IP:7946 GM_SCALE_STATUS=$REAL_IP:9090 \
  "${BENCH_TESTS[@]}" --filter ScaleBenchmark >"$WORK/harness.log" 2>&1 &
PIDS+=($!)
HARNESS_PID=$!
wait_for 900 test -f "$WORK/harness/ready" || { echo "the harness did not get ready"; tail -n 40 "$WORK/harness.log"; exit 1; }
SEED=$(cat "$WORK/harness/seed")
echo "   ready; seed $SEED"

echo "== the real node joins through $SEED"
JOIN_T0=$SECONDS
start_real scale-real --join "$SEED"
joined() { read -r alive summaries _ _ < <(status_fields) && [ "$alive" -ge "$MEMBERS" ] && [ "$summaries" -ge $((MEMBERS - 1)) ]; }
wait_for 600 joined || { echo "the real node did not see every member and summary:"; status_fields; tail -n 20 "$WORK/real.log"; exit 1; }
JOIN_SECONDS=$((SECONDS - JOIN_T0))
echo "   all $MEMBERS members alive and $((MEMBERS - 1)) summaries held after $JOIN_SECONDS s; settling ${SETTLE}s"
sleep "$SETTLE"

echo "== quiet window, ${WINDOW}s"
read -r Q_RSS Q_RSS_MAX Q_CPU Q_BYTES Q_BUSY Q_HARNESS < <(measure_window "$WINDOW")
echo "   VmRSS $((Q_RSS / 1024)) MiB (max $((Q_RSS_MAX / 1024))), CPU $Q_CPU %, $Q_BYTES B/s, machine busy $Q_BUSY %, harness $Q_HARNESS %"

echo "== busy window, ${WINDOW}s, $NEWS deltas a second"
echo "$NEWS" >"$WORK/harness/news"
read -r N_RSS N_RSS_MAX N_CPU N_BYTES N_BUSY N_HARNESS < <(measure_window "$WINDOW")
rm -f "$WORK/harness/news"
echo "   VmRSS $((N_RSS / 1024)) MiB (max $((N_RSS_MAX / 1024))), CPU $N_CPU %, $N_BYTES B/s, machine busy $N_BUSY %, harness $N_HARNESS %"

echo "== $PROBES new digests, each timed until the real node locates it"
sleep 10
echo "$PROBES" >"$WORK/harness/probe"
wait_for $((PROBES * 15 + 60)) test -f "$WORK/harness/probes.done" || { echo "the probes did not finish"; tail -n 20 "$WORK/harness.log"; exit 1; }
LOCATE=$(cat "$WORK/harness/probes.txt")  # seconds, one a line
touch "$WORK/harness/stop"
wait_for 60 sh -c "! kill -0 $HARNESS_PID 2>/dev/null" || true
HARNESS_STATS=$(cat "$WORK/harness/stats.txt" 2>/dev/null || echo "")
LOAD_AFTER=$(bench_load)

# ---------------------------------------------------------------- report
LOC_P50=$(echo "$LOCATE" | stat_median)
LOC_MAX=$(echo "$LOCATE" | sort -g | tail -n 1)
LOC_RANGE=$(echo "$LOCATE" | stat_range %.2f)
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
# Models. Memory: the node alone, plus every other member's summary held once
# (the node's own summary has the same size: $DIGESTS digests, 1 % false
# positives at twice the entries, NodeSummary's sizing), plus about 1 KiB of
# membership state per member. Bytes: a probe of its own and one of it by
# someone each second (ping and ack each way, about 110 bytes sealed), and
# push/pull: the node starts one exchange per push/pull interval (180 s at
# 1000 members: 30 s × (⌈log2(1000/32)⌉ + 1)) and answers about as many, each
# carrying every member's state both ways: about 137 bytes a record on wire
# version 2 (name, endpoint, incarnation, metadata, generation, public key
# and signature; 43 bytes on version 1, docs/benchmarks.md "Signed records").
SUMMARY_BYTES=$(status_json | python3 -c 'import json, sys; print((json.load(sys.stdin).get("catalog") or {}).get("summaryBytes") or 0)' 2>/dev/null || echo 0)
MODEL_RSS=$(awk -v b="$B_RSS" -v n="$MEMBERS" -v s="$SUMMARY_BYTES" 'BEGIN {print b + (n - 1) * s / 1024 + n}')
MODEL_BYTES=$(awk -v n="$MEMBERS" 'BEGIN {
  pp = 30 * ((n > 32 ? int(log(n) / log(2) - 5 + 0.999999) : 0) + 1)
  printf "%.0f", 4 * 110 + 4 * n * 137 / pp }')
verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v < t ? "met" : "**not met**")}'; }
TABLE="| figure | quiet | busy ($NEWS deltas/s) | alone (baseline) | target |
|---|---:|---:|---:|---|
| resident memory (VmRSS) at the end of the window | $(mib "$Q_RSS") | $(mib "$N_RSS") | $(mib "$B_RSS") | < 64 MiB: $(verdict "$(awk -v k="$N_RSS" 'BEGIN {print k / 1024}')" 64); model $(mib "$MODEL_RSS") (alone + $((MEMBERS - 1)) summaries of $SUMMARY_BYTES B + 1 KiB a member) |
| largest VmRSS sampled (every 5 s) | $(mib "$Q_RSS_MAX") | $(mib "$N_RSS_MAX") | $(mib "$B_RSS_MAX") | |
| CPU of the node, % of one CPU | $Q_CPU % | $N_CPU % | $B_CPU % | < 2 %: $(verdict "$N_CPU" 2) |
| gossip bytes per second (sealed, sent + received) | $Q_BYTES | $N_BYTES | $B_BYTES | quiet model $MODEL_BYTES B/s (probes, push/pull every 180 s) |
| machine busy (all CPUs, /proc/stat), % | $Q_BUSY % | $N_BUSY % | $B_BUSY % | |
| the harness's CPU, % of one CPU | $Q_HARNESS % | $N_HARNESS % | | |

A new digest on one member, locatable on the real node (\`gossip-mirror locate --json\` names the member), $PROBES
times: median $(stat_format %.2f "$LOC_P50") s, range $LOC_RANGE s (target ≤ 2 s: $(verdict "${LOC_MAX:-99}" 2.0001) for the slowest).
Model: the delta spreads by push gossip among the harness members (every 200 ms to 3, and at once
from members whose queues were empty), reaching the node with probability 3/$((MEMBERS - 1)) per sender per
round: $(awk -v n="$MEMBERS" 'BEGIN {printf "%.2f", 0.2 * log(n - 1) / log(4) + 0.1}') s at most (log base 4 of $((MEMBERS - 1)) rounds of 200 ms, and half a round; the
eager first wave of a quiet group is faster), plus the locate command's own start.
Join: every member alive and every summary held $JOIN_SECONDS s after the real node started.
${HARNESS_STATS:+Harness: $HARNESS_STATS}"
echo
echo "$TABLE"

if [ "$DOCS" = 1 ]; then
  cat >"$WORK/section.md" <<EOF
## One real node in a 1000-member cluster

One \`gossip-mirror run\` (an OCI layout of $DIGESTS digests) joins a cluster of
$MEMBERS members whose other $((MEMBERS - 1)) are lightweight members in one harness process
(\`Tests/EndToEndTests/Scale\`): real \`SWIM.Instance\`s, each with its own loopback address, UDP
socket and TCP listener, speaking the real protocol to the node (sealed datagrams, chunked
sealed streams, real Bloom summaries of $DIGESTS random digests each, real deltas); among
themselves they exchange the same packets in memory (what lets 999 fit in one process). The
node is measured from /proc (its own CPU, not the harness's) and \`gossip-mirror status --json\`;
the baseline is the same binary and store alone, measured first in the same run. The harness
runs on the same 2 CPUs at the same priority, beside the other engineers' builds at nice 10.

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(bench_load_note "$LOAD_BEFORE"); load average after: $LOAD_AFTER
- Machine: $(bench_machine)
- gossip-mirror: $(bench_build_note), commit $(bench_commit)
- Command: \`scripts/bench/scale.sh\` (MEMBERS=$MEMBERS DIGESTS=$DIGESTS WINDOW=$WINDOW SETTLE=$SETTLE NEWS=$NEWS PROBES=$PROBES)

$TABLE
EOF
  bench_publish scale scripts/bench/scale.sh "$WORK/section.md"
fi
