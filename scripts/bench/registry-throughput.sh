#!/usr/bin/env bash
# Registry throughput on loopback, measured in ONE run against baselines:
#
#   nginx (sendfile on, tcp_nopush on)  the practical loopback limit
#   nginx proxy                        a second nginx relaying from the first,
#                                      1 MiB buffers, no verification: the same
#                                      two TCP hops as the peer path, minus hashing
#   docker-registry                    the same blob pushed with skopeo
#   gossip-mirror node A               serving an OCI layout (local, FileRegion/sendfile)
#   gossip-mirror node B               holding nothing, fetching from A (peer path)
#   sha256 of this CPU                 openssl speed (in memory), openssl dgst -sha256
#                                      and sha256sum on the file
#
# Relay cost, in the same run: CPU-seconds per GB of node B (utime + stime of
# its process around each of its GETs) against the nginx proxy's worker
# (likewise) plus one SHA-256 pass (openssl speed, one core): the "a proxy
# plus one hash" bound of issue 10.
#
# Every server serves the same random blob (BLOB_MIB, 256 MiB by default) from
# the page cache (warmed first). Each GET is `curl -s -o /dev/null -w
# '%{speed_download}'`; servers are measured in turn, REPS rounds, median kept.
# Prints a table (MB/s = 10^6 bytes/s, ratios against nginx of the same run) and
# writes it into docs/benchmarks.md between markers (replacing the previous run).
#
# Usage: scripts/bench/registry-throughput.sh [--no-build] [--no-docs] [--strace]
#   --no-build  use .build-bench/release/gossip-mirror as it is
#   --no-docs   print only, leave docs/benchmarks.md alone
#   --strace    also count node A's system calls during one GET (strace -c -f)
# Environment: BLOB_MIB (256), REPS (21), GOSSIP_MIRROR_BIN (a built binary),
#   SCRATCH (.build-bench, the swift build scratch path).
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

BLOB_MIB=${BLOB_MIB:-256}
REPS=${REPS:-21}
SCRATCH=${SCRATCH:-.build-bench}
STRACE=0
# shellcheck source=scripts/bench/lib.sh
. scripts/bench/lib.sh
bench_option() {
  case "$1" in
    --strace) STRACE=1 ;;
    *) return 1 ;;
  esac
}
bench_options "$@"

bench_require curl nginx docker-registry skopeo openssl sha256sum jq
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

bench_binary
bench_workdir gm-bench

# One loopback subnet of our own: every server gets its own address, fixed ports.
NET="127.$((180 + RANDOM % 20)).$((1 + RANDOM % 250))"
IP_NGINX=$NET.1 IP_REG=$NET.2 IP_A=$NET.3 IP_B=$NET.4 IP_PROXY=$NET.5

wait_http() {  # URL [seconds]: until it answers 200
  local url=$1 deadline=$((SECONDS + ${2:-30}))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 200 ]; do
    [ $SECONDS -lt $deadline ] || { echo "no answer from $url" >&2; return 1; }
    sleep 0.1
  done
}

# ---------------------------------------------------------------- the image
# One platform, one layer: a plain tar holding BLOB_MIB MiB of random bytes
# (scripts/cluster/make-image.sh), named docker.io/bench/blob:v1.
LAYOUT=$WORK/layout
echo "== generating a $BLOB_MIB MiB random layer"
PLATFORMS=amd64 LAYER_COMPRESSION=none scripts/cluster/make-image.sh "$LAYOUT" docker.io/bench/blob:v1 "${BLOB_MIB}M" >/dev/null
read -r HEX SIZE < <(awk '$2 == "layer" {sub(/^sha256:/, "", $3); print $3, $4}' "$LAYOUT/blobs.txt")
read -r CHEX < <(awk '$2 == "config" {sub(/^sha256:/, "", $3); print $3}' "$LAYOUT/blobs.txt")
BLOB=$LAYOUT/blobs/sha256/$HEX
# nginx workers run as an unprivileged user: let them read the tree.
chmod 755 "$WORK" "$LAYOUT" "$LAYOUT/blobs" "$LAYOUT/blobs/sha256"
chmod 644 "$LAYOUT/blobs/sha256/"*

# ---------------------------------------------------------------- nginx
bench_nginx "$WORK/nginx" 1 warn "  default_type application/octet-stream;" "  server {
    listen $IP_NGINX:8080;
    root $LAYOUT/blobs/sha256;
  }"

# A second nginx (its own worker, as node B is its own process) relaying from
# the first with buffers like B's chunks: what two loopback hops cost without
# verification.
bench_nginx "$WORK/nginx-proxy" 1 warn "  default_type application/octet-stream;" "  upstream origin { server $IP_NGINX:8080; keepalive 4; }
  server {
    listen $IP_PROXY:8080;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_buffering on;
      proxy_buffer_size 1m;
      proxy_buffers 2 1m;
      proxy_busy_buffers_size 1m;
      proxy_max_temp_file_size 0;
    }
  }"

# ---------------------------------------------------------------- docker-registry
bench_registry "$WORK/registry" "$IP_REG:5000"

# ---------------------------------------------------------------- gossip-mirror A and B
bench_mirror_pair bench "$IP_A" "$IP_B" "$LAYOUT"

URL_NGINX="http://$IP_NGINX:8080/$HEX"
URL_PROXY="http://$IP_PROXY:8080/$HEX"
URL_REG="http://$IP_REG:5000/v2/bench/blob/blobs/sha256:$HEX"
URL_A="http://$IP_A:5000/v2/bench/blob/blobs/sha256:$HEX"
URL_B="http://$IP_B:5000/v2/bench/blob/blobs/sha256:$HEX"

wait_http "http://$IP_NGINX:8080/$CHEX" || { cat "$WORK/nginx/error.log"; exit 1; }
wait_http "http://$IP_PROXY:8080/$CHEX" || { cat "$WORK/nginx-proxy/error.log"; exit 1; }
echo "== skopeo copy into docker-registry"
skopeo --insecure-policy copy --quiet --preserve-digests --dest-tls-verify=false \
  "oci:$LAYOUT:docker.io/bench/blob:v1" "docker://$IP_REG:5000/bench/blob:v1"
wait_http "$URL_A" 30 || { echo "node A does not serve the blob"; cat "$WORK/bench-a.log"; exit 1; }
# B: wait until it sees A's summary holding the digest (or give up after 15 s).
B_LOCATES=0
wait_for 15 bench_locates "$IP_B" "sha256:$HEX" bench-a && B_LOCATES=1

# ---------------------------------------------------------------- correctness, warm-up
echo "== warming the page cache and checking digests"
cat "$BLOB" >/dev/null
check() {  # NAME URL: the body's sha256 must be the blob's
  local got
  got=$(curl -s "$2" | sha256sum | cut -d" " -f1) || got="(curl failed)"
  [ "$got" = "$HEX" ] || { echo "$1 served wrong bytes (sha256 $got)" >&2; return 1; }
}
check nginx "$URL_NGINX"
check nginx-proxy "$URL_PROXY"
check docker-registry "$URL_REG"
check node-a "$URL_A"
B_STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$URL_B")
if [ "$B_STATUS" = 200 ]; then
  check node-b "$URL_B"
fi

# ---------------------------------------------------------------- measurements
speed() { curl -s -o /dev/null -w '%{speed_download}' "$1"; }  # bytes/s
declare -A SAMPLES=()
NAMES=(nginx proxy registry a)
[ "$B_STATUS" = 200 ] && NAMES+=(b)
declare -A URL=([nginx]=$URL_NGINX [proxy]=$URL_PROXY [registry]=$URL_REG [a]=$URL_A [b]=$URL_B)
# CPU time (user + system, clock ticks) of the relaying processes, summed over their GETs.
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
PID_PROXY_WORKER=$(pgrep -P "${PIDS[1]}" | head -n 1)
declare -A CPU_PID=([proxy]=$PID_PROXY_WORKER [b]=$PID_B) TICKS=([proxy]=0 [b]=0) GETS=([proxy]=0 [b]=0)
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
echo "== $REPS rounds of GET $BLOB_MIB MiB from: ${NAMES[*]} (load average $LOAD_BEFORE)"
for round in $(seq "$REPS"); do
  for n in "${NAMES[@]}"; do
    if [ -n "${CPU_PID[$n]:-}" ]; then
      t0=$(proc_ticks "${CPU_PID[$n]}")
      SAMPLES[$n]+="$(speed "${URL[$n]}") "
      TICKS[$n]=$(( TICKS[$n] + $(proc_ticks "${CPU_PID[$n]}") - t0 ))
      GETS[$n]=$(( GETS[$n] + 1 ))
    else
      SAMPLES[$n]+="$(speed "${URL[$n]}") "
    fi
  done
done
mbps() { tr ' ' '\n' | grep -v '^$' | median | awk '{printf "%.0f", $1/1e6}'; }
range() { tr ' ' '\n' | grep -v '^$' | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%.0f–%.0f", lo/1e6, hi/1e6}'; }
declare -A MED=() RNG=()
for n in "${NAMES[@]}"; do
  MED[$n]=$(echo "${SAMPLES[$n]}" | mbps)
  RNG[$n]=$(echo "${SAMPLES[$n]}" | range)
done

# sha256 of this CPU: median of 3 passes over the cached file.
hash_speed() {  # command... -> MB/s
  local s=() t0 t1
  for _ in 1 2 3; do
    t0=$(date +%s%N); "$@" "$BLOB" >/dev/null; t1=$(date +%s%N)
    s+=("$(awk -v b="$SIZE" -v ns=$((t1 - t0)) 'BEGIN {print b / (ns / 1e9)}')")
  done
  printf '%s\n' "${s[@]}" | median | awk '{printf "%.0f", $1/1e6}'
}
LOAD_AFTER=$(cut -d' ' -f1 /proc/loadavg)
# In memory, 1 MiB blocks: the fastest this CPU hashes one stream.
SHA_MEMORY=$(openssl speed -seconds 3 -bytes 1048576 -evp sha256 2>/dev/null \
  | awk '/^sha256/ {v=$2; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1e6}')
SHA_OPENSSL=$(hash_speed openssl dgst -sha256)
SHA_SUM=$(hash_speed sha256sum)

if [ "$STRACE" = 1 ] && command -v strace >/dev/null; then
  echo "== strace -c -f on node A during one GET"
  strace -c -f -p "$PID_A" -o "$WORK/strace.txt" &
  ST=$!
  sleep 1
  curl -s -o /dev/null "$URL_A"
  sleep 0.5
  kill -INT $ST; wait $ST 2>/dev/null || true
  head -n 20 "$WORK/strace.txt"
fi

# ---------------------------------------------------------------- report
ratio() { awk -v x="$1" -v n="${MED[nginx]}" 'BEGIN {printf "%.2f×", x / n}'; }
HZ=$(getconf CLK_TCK)
per_gb() { awk -v t="${TICKS[$1]}" -v hz="$HZ" -v n="${GETS[$1]}" -v size="$SIZE" 'BEGIN {if (n == 0) print "n/a"; else printf "%.2f", (t / hz) / (n * size / 1e9)}'; }
CPU_PROXY=$(per_gb proxy)
CPU_B=$(per_gb b)
CPU_SHA=$(awk -v mbps="$SHA_MEMORY" 'BEGIN {printf "%.2f", 1000 / mbps}')
CPU_BOUND=$(awk -v p="$CPU_PROXY" -v h="$CPU_SHA" 'BEGIN {printf "%.2f", p + h}')
CPU_VERDICT=$(awk -v b="$CPU_B" -v bound="$CPU_BOUND" 'BEGIN {if (b == "n/a") print "n/a"; else printf "%.2f× the bound (%s)", b / bound, (b <= bound ? "met" : "not met")}')
if [ "$B_STATUS" = 200 ]; then
  B_ROW="| gossip-mirror B, through peer A | ${MED[b]} | ${RNG[b]} | $(ratio "${MED[b]}") | ≥ 0.45× |"
else
  why="B answers $B_STATUS"
  [ "$B_LOCATES" = 1 ] && why="$why although it locates the blob on A" || why="$why and never located the blob on A"
  B_ROW="| gossip-mirror B, through peer A | not available ($why) | | | ≥ 0.45× |"
fi
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
TABLE=$(cat <<EOF
| Source | MB/s (median of $REPS) | range | × nginx | target |
|---|---:|---:|---:|---|
| nginx $("$NGINX" -v 2>&1 | cut -d/ -f2) (sendfile, 1 worker) | ${MED[nginx]} | ${RNG[nginx]} | 1.00× | |
| nginx proxy of that nginx (1 MiB buffers, no verification) | ${MED[proxy]} | ${RNG[proxy]} | $(ratio "${MED[proxy]}") | |
| docker-registry $(docker-registry --version | awk '{print $3}') | ${MED[registry]} | ${RNG[registry]} | $(ratio "${MED[registry]}") | |
| gossip-mirror A, local (OCI layout) | ${MED[a]} | ${RNG[a]} | $(ratio "${MED[a]}") | ≥ 0.95× |
$B_ROW
| sha256 in memory, \`openssl speed -evp sha256\` (1 MiB blocks) | $SHA_MEMORY | | $(ratio "$SHA_MEMORY") | |
| sha256, \`openssl dgst -sha256\` | $SHA_OPENSSL | | $(ratio "$SHA_OPENSSL") | |
| sha256, \`sha256sum\` | $SHA_SUM | | $(ratio "$SHA_SUM") | |

| Relay cost (CPU-seconds per GB, the process alone, user + system) | CPU-s/GB |
|---|---:|
| nginx proxy worker (${GETS[proxy]} GETs) | $CPU_PROXY |
| SHA-256, one pass (\`openssl speed\`, one core) | $CPU_SHA |
| bound: proxy + one hash | $CPU_BOUND |
| gossip-mirror B relaying (${GETS[b]} GETs) | $CPU_B: $CPU_VERDICT |
EOF
)
echo
echo "$TABLE"
echo

if [ "$DOCS" = 1 ]; then
  SECTION=$(cat <<EOF
<!-- registry-throughput:begin (written by scripts/bench/registry-throughput.sh; edits here are replaced) -->
## Registry throughput on loopback

One GET of a $BLOB_MIB MiB random blob at a time, \`curl -s -o /dev/null -w '%{speed_download}'\`,
page cache warm, servers measured in turn for $REPS rounds, median kept. MB/s = 10^6 bytes/s.
Every server sends the same file; ratios are against nginx measured in the same run.

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Machine: $(nproc) CPUs, $CPU, $(uname -sr), TCP congestion control $(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null || echo unknown)
- gossip-mirror: release build, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources 2>/dev/null || echo ' (with uncommitted changes in Sources)')
- 1-minute load average before/after the GETs: $LOAD_BEFORE / $LOAD_AFTER (other jobs share the machine;
  with 2 CPUs, server, client and kernel compete, so single GETs vary by ±30 %: read the medians and ratios)
- Command: \`scripts/bench/registry-throughput.sh\` (BLOB_MIB=$BLOB_MIB REPS=$REPS)

$TABLE

Targets: local ≥ 0.95× nginx, through a peer ≥ 0.45× nginx (issue 10), and B's
CPU per GB relayed at most the nginx proxy's plus one SHA-256 pass. The nginx proxy row is
the same two loopback hops as the peer path without verification; the sha256 rows
are the CPU's hashing speed: the ceiling of any path that verifies one stream
(SHA-256 is sequential, so one core hashes it).
<!-- registry-throughput:end -->
EOF
)
  bench_write_section registry-throughput "$SECTION"
fi
