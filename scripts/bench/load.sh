#!/usr/bin/env bash
# Small requests under concurrent load, measured in ONE run against baselines:
#
#   nginx             static files at the same paths (its 404 for the miss):
#                     the practical limit of an HTTP/1.1 server on this machine
#   docker-registry   the same image pushed with skopeo
#   gossip-mirror     one node serving the image from an OCI layout, access log
#                     off (as for the other two); and once more with the
#                     production default (access log on, log level info)
#
# Three requests, each at 64 connections for DURATION seconds per round:
#   miss       GET of a blob nobody holds: a 404 (for gossip-mirror, the
#              answer that sends containerd on to the upstream); wrk -t2 -c64
#   head       HEAD of the manifest by digest (Accept: OCI manifest), by
#              ApacheBench (ab -i -k -c64, one thread): wrk 4.1 cannot measure
#              HEAD, its parser waits for a body after an answer that carries
#              Content-Length (as a HEAD answer must) and no request completes
#   blob       GET of a small blob (BLOB_BYTES, 4 KiB by default); wrk -t2 -c64
# and the miss again at a light fixed rate (RATE requests per second) for its
# latency when the server is not saturated: wrk has no fixed-rate mode, so
# each of two connections pauses 2000/RATE ms after every answer (wrk's Lua
# delay()); see "Latency of a miss at a light rate" in docs/benchmarks.md.
# Rounds go through every server and request in turn, ROUNDS times; medians
# and ranges over the rounds are reported, with each server's CPU time per
# request (its processes' utime + stime over the round).
#
# Usage: scripts/bench/load.sh [--no-build] [--no-docs] [--quick]
# Environment: ROUNDS (3), DURATION (10), RATE (100), RATE_DURATION (15),
#   BLOB_BYTES (4096), GOSSIP_MIRROR_BIN, SCRATCH (.build-bench).
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10} RATE=${RATE:-100} RATE_DURATION=${RATE_DURATION:-15}
BLOB_BYTES=${BLOB_BYTES:-4096}
SCRATCH=${SCRATCH:-.build-bench}
# shellcheck source=scripts/bench/report.sh
. scripts/bench/report.sh
bench_options "$@"
[ "${BENCH_QUICK:-0}" = 1 ] && ROUNDS=1 DURATION=3 RATE_DURATION=5
bench_require curl wrk ab nginx docker-registry skopeo sha256sum
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

[ "$BUILD" = 0 ] || bench_build
BUILD=0 bench_binary
bench_workdir gm-load
LOAD_BEFORE=$(bench_load)

NET="127.$((140 + RANDOM % 20)).$((1 + RANDOM % 250))"
IP_NGINX=$NET.1 IP_REG=$NET.2 IP_GM=$NET.3 IP_GM_LOG=$NET.4
REPO=bench/small

# ---------------------------------------------------------------- the image
# An OCI layout written by hand: one small random blob as the layer, a config,
# a manifest, and index.json naming the image docker.io/bench/small:v1.
LAYOUT=$WORK/layout
mkdir -p "$LAYOUT/blobs/sha256"
put_blob() {  # FILE -> prints "hex size", the file moved under its digest
  local hex size
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  mv "$1" "$LAYOUT/blobs/sha256/$hex"
  echo "$hex $size"
}
head -c "$BLOB_BYTES" /dev/urandom >"$WORK/layer"
read -r HEX SIZE < <(put_blob "$WORK/layer")
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$HEX" >"$WORK/config"
read -r CHEX CSIZE < <(put_blob "$WORK/config")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$CHEX" "$CSIZE" "$HEX" "$SIZE" >"$WORK/manifest"
read -r MHEX MSIZE < <(put_blob "$WORK/manifest")
printf '{"imageLayoutVersion":"1.0.0"}' >"$LAYOUT/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"docker.io/%s:v1"}}]}' \
  "$MHEX" "$MSIZE" "$REPO" >"$LAYOUT/index.json"
MISS=$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json

# ---------------------------------------------------------------- nginx
# The same paths as the registry API, as static files (a colon in a file
# name is fine); the miss is nginx's own 404.
mkdir -p "$WORK/nginx/root/v2/$REPO/blobs" "$WORK/nginx/root/v2/$REPO/manifests"
cp "$LAYOUT/blobs/sha256/$HEX" "$WORK/nginx/root/v2/$REPO/blobs/sha256:$HEX"
cp "$LAYOUT/blobs/sha256/$MHEX" "$WORK/nginx/root/v2/$REPO/manifests/sha256:$MHEX"
chmod -R a+rX "$WORK"
bench_nginx "$WORK/nginx" auto error "  keepalive_requests 1000000;
  log_not_found off;
  default_type $OCI_MANIFEST;" "  server {
    listen $IP_NGINX:8080;
    root $WORK/nginx/root;
    location /v2/$REPO/blobs/ { default_type application/octet-stream; }
  }"
PID_NGINX=$!

# ---------------------------------------------------------------- docker-registry
# The shared template, quiet: access log off, level error, as for the other two servers.
bench_registry "$WORK/registry" "$IP_REG:5000" quiet
PID_REG=$!

# ---------------------------------------------------------------- gossip-mirror
"$BIN" keygen --out "$WORK/cluster.key" >/dev/null
start_node() {  # NAME IP LOG-OPTIONS...
  local name=$1 ip=$2
  shift 2
  "$BIN" run --name "$name" --gossip-addr "$ip:7946" --registry-addr "$ip:5000" --status-addr "$ip:9090" \
    --store oci-layout --oci-layout "$LAYOUT" --key-file "$WORK/cluster.key" "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}
start_node load-gm "$IP_GM" --log-level warning --no-access-log
PID_GM=$!
start_node load-gm-log "$IP_GM_LOG" --log-level info --access-log
PID_GM_LOG=$!

wait_for 30 curl -sf "http://$IP_NGINX:8080/v2/$REPO/blobs/sha256:$HEX" || { cat "$WORK/nginx/error.log"; exit 1; }
skopeo --insecure-policy copy --quiet --preserve-digests --dest-tls-verify=false \
  "oci:$LAYOUT:docker.io/$REPO:v1" "docker://$IP_REG:5000/$REPO:v1"
for ip in "$IP_GM" "$IP_GM_LOG"; do
  wait_for 30 curl -sf "http://$ip:5000/v2/$REPO/blobs/sha256:$HEX" || { echo "gossip-mirror at $ip does not serve the blob"; cat "$WORK"/load-gm*.log; exit 1; }
done

# ---------------------------------------------------------------- what each server answers
declare -A BASE=([nginx]="http://$IP_NGINX:8080" [registry]="http://$IP_REG:5000" [gm]="http://$IP_GM:5000" [gmlog]="http://$IP_GM_LOG:5000")
declare -A SERVER_PID=([nginx]=$PID_NGINX [registry]=$PID_REG [gm]=$PID_GM [gmlog]=$PID_GM_LOG)
SERVERS=(nginx registry gm gmlog)
# ?ns= as containerd sends it to a mirror; the others ignore the query.
declare -A PATH_OF=(
  [miss]="/v2/$REPO/blobs/sha256:$MISS?ns=docker.io"
  [head]="/v2/$REPO/manifests/sha256:$MHEX?ns=docker.io"
  [blob]="/v2/$REPO/blobs/sha256:$HEX?ns=docker.io")
declare -A METHOD=([miss]=GET [head]=HEAD [blob]=GET)
declare -A WANT=([miss]=404 [head]=200 [blob]=200)
REQUESTS=(miss head blob)
echo "== checking every answer"
for s in "${SERVERS[@]}"; do
  for r in "${REQUESTS[@]}"; do
    method=(); [ "${METHOD[$r]}" = HEAD ] && method=(--head)  # not -X HEAD: curl would wait for a body
    code=$(curl -s "${method[@]}" -o "$WORK/answer" -w '%{http_code}' -H "Accept: $OCI_MANIFEST" "${BASE[$s]}${PATH_OF[$r]}")
    [ "$code" = "${WANT[$r]}" ] || { echo "$s answers $code to $r (${METHOD[$r]} ${PATH_OF[$r]}), not ${WANT[$r]}" >&2; exit 1; }
    if [ "$r" = blob ]; then
      [ "$(sha256sum <"$WORK/answer" | cut -d' ' -f1)" = "$HEX" ] || { echo "$s served wrong bytes" >&2; exit 1; }
    fi
  done
done

# ---------------------------------------------------------------- measurements
# ab SERVER REQUEST SECONDS: a HEAD at 64 keep-alive connections for SECONDS
# -> "requests/s p50_us p99_us cpu_us_per_request max_us" (as measure). ab's
# percentiles come from its CSV (-e: ms with three decimals; its printed table
# rounds to whole ms); they are the whole request time on an open connection.
measure_ab() {
  local s=$1 r=$2 seconds=$3
  local t0 t1 out csv=$WORK/ab-percentiles.csv
  t0=$(proc_tree_ticks "${SERVER_PID[$s]}")
  # -n after -t: ab's -t alone stops at 50,000 requests.
  out=$(ab -i -k -c 64 -t "$seconds" -n 100000000 -s 10 -q -e "$csv" -H "Accept: $OCI_MANIFEST" "${BASE[$s]}${PATH_OF[$r]}" 2>&1) ||
    { echo "ab failed for $s $r:" >&2; echo "$out" >&2; exit 1; }
  t1=$(proc_tree_ticks "${SERVER_PID[$s]}")
  local done failed non2xx taken
  done=$(awk '/^Complete requests:/ {print $3}' <<<"$out")
  failed=$(awk '/^Failed requests:/ {print $3}' <<<"$out")
  non2xx=$(awk '/^Non-2xx responses:/ {print $3}' <<<"$out")
  taken=$(awk '/^Time taken for tests:/ {print $5}' <<<"$out")
  if [ -z "$done" ] || [ "$done" = 0 ] || [ "${failed:-0}" != 0 ] || [ "${non2xx:-0}" != 0 ]; then
    echo "$s $r: ab completed ${done:-no} requests, ${failed:-?} failed, ${non2xx:-0} answers other than ${WANT[$r]}" >&2
    echo "$out" >&2
    exit 1
  fi
  awk -F, -v n="$done" -v secs="$taken" -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
    $1 == "50" {p50 = $2} $1 == "99" {p99 = $2} $1 == "100" {max = $2}
    END {printf "%.0f %d %d %.1f %d\n", n / secs, p50 * 1000, p99 * 1000, ticks / hz * 1e6 / n, max * 1000}' "$csv"
}

# wrk SERVER REQUEST SECONDS [wrk options...] -> "requests/s p50_us p99_us cpu_us_per_request max_us"
# (a HEAD goes to measure_ab, whatever the options)
measure() {
  local s=$1 r=$2 seconds=$3
  shift 3
  if [ "${METHOD[$r]}" = HEAD ]; then measure_ab "$s" "$r" "$seconds"; return; fi
  local t0 t1 out line
  t0=$(proc_tree_ticks "${SERVER_PID[$s]}")
  out=$(WRK_METHOD=${METHOD[$r]} WRK_ACCEPT=$OCI_MANIFEST WRK_DELAY_MS=${WRK_DELAY_MS:-0} \
    wrk "$@" -d "${seconds}s" -s scripts/bench/wrk-request.lua "${BASE[$s]}${PATH_OF[$r]}" 2>&1)
  t1=$(proc_tree_ticks "${SERVER_PID[$s]}")
  line=$(grep '^RESULT' <<<"$out") || { echo "wrk gave no result for $s $r:" >&2; echo "$out" >&2; exit 1; }
  local -A v=()
  local kv
  for kv in ${line#RESULT }; do v[${kv%%=*}]=${kv#*=}; done
  # wrk's timeouts (no answer within 2 s) are the server falling behind, not a
  # wrong answer: counted in the log, and in the latencies as the 2 s they waited.
  local errors=$((v[connect_errors] + v[read_errors] + v[write_errors]))
  [ "${v[timeouts]}" = 0 ] || echo "   $s $r: ${v[timeouts]} requests timed out (over 2 s)" >&2
  local wrong=$(( WANT[$r] == 404 ? v[requests] - v[non_2xx_3xx] : v[non_2xx_3xx] ))
  if [ "$errors" != 0 ] || [ "$wrong" != 0 ]; then
    echo "$s $r: $errors socket errors, $wrong answers other than ${WANT[$r]}" >&2
    echo "$out" >&2
    exit 1
  fi
  awk -v n="${v[requests]}" -v us="${v[duration_us]}" -v p50="${v[p50_us]}" -v p99="${v[p99_us]}" -v max="${v[max_us]}" \
    -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%.0f %d %d %.1f %d\n", n / (us / 1e6), p50, p99, ticks / hz * 1e6 / n, max}'
}

declare -A RPS=() P50=() P99=() CPU=() RATE_P50=() RATE_P99=() RATE_MAX=() RATE_RPS=()
echo "== warm-up"
for s in "${SERVERS[@]}"; do for r in "${REQUESTS[@]}"; do measure "$s" "$r" 1 -t2 -c64 >/dev/null; done; done
PAUSE_MS=$((2000 / RATE))
echo "== $ROUNDS rounds: wrk -t2 -c64 for ${DURATION}s per server and request; the miss at $RATE/s for ${RATE_DURATION}s (load average $LOAD_BEFORE)"
for round in $(seq "$ROUNDS"); do
  for r in "${REQUESTS[@]}"; do
    for s in "${SERVERS[@]}"; do
      out=$(measure "$s" "$r" "$DURATION" -t2 -c64)
      read -r rps p50 p99 cpu _ <<<"$out"
      RPS[$s.$r]+="$rps " P50[$s.$r]+="$p50 " P99[$s.$r]+="$p99 " CPU[$s.$r]+="$cpu "
      printf '   round %d %-8s %-5s %8s req/s  p50 %6s µs  p99 %6s µs  %6s CPU-µs/request\n' "$round" "$s" "$r" "$rps" "$p50" "$p99" "$cpu"
    done
  done
  for s in "${SERVERS[@]}"; do
    out=$(WRK_DELAY_MS=$PAUSE_MS measure "$s" miss "$RATE_DURATION" -t1 -c2)
    read -r rps p50 p99 _ max <<<"$out"
    RATE_RPS[$s]+="$rps " RATE_P50[$s]+="$p50 " RATE_P99[$s]+="$p99 " RATE_MAX[$s]+="$max "
    printf '   round %d %-8s miss at %s/s: p50 %s µs, p99 %s µs, max %s µs\n' "$round" "$s" "$rps" "$p50" "$p99" "$max"
  done
done
LOAD_AFTER=$(bench_load)

# ---------------------------------------------------------------- report
med() { tr ' ' '\n' | stat_median; }
rng() { tr ' ' '\n' | stat_range "$1"; }
ms() { awk -v u="$1" 'BEGIN {if (u == "nan") printf "—"; else if (u < 1000) printf "%.0f µs", u; else printf "%.1f ms", u / 1000}'; }
declare -A NAME=(
  [nginx]="nginx $("$NGINX" -v 2>&1 | cut -d/ -f2) (static files, 2 workers)"
  [registry]="docker-registry $(docker-registry --version | awk '{print $3}')"
  [gm]="gossip-mirror, access log off"
  [gmlog]="gossip-mirror, access log on (the default)")
declare -A WHAT=([miss]="miss (404)" [head]="manifest HEAD by digest" [blob]="blob GET, $BLOB_BYTES bytes")
TABLE="| request | server | requests/s (median of $ROUNDS) | range | p50 | p99 (median) | p99 range | server CPU-µs per request | req/s × docker-registry | docker-registry p99 ÷ this p99 |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for r in "${REQUESTS[@]}"; do
  reg_rps=$(echo "${RPS[registry.$r]}" | med) reg_p99=$(echo "${P99[registry.$r]}" | med)
  for s in "${SERVERS[@]}"; do
    rps=$(echo "${RPS[$s.$r]}" | med) p99=$(echo "${P99[$s.$r]}" | med)
    TABLE+="
| ${WHAT[$r]} | ${NAME[$s]} | $(stat_format %.0f "$rps") | $(echo "${RPS[$s.$r]}" | rng %.0f) | $(ms "$(echo "${P50[$s.$r]}" | med)") | $(ms "$p99") | $(echo "${P99[$s.$r]}" | rng %.0f) µs | $(stat_format %.1f "$(echo "${CPU[$s.$r]}" | med)") | $(stat_ratio "$rps" "$reg_rps") | $(stat_ratio "$reg_p99" "$p99") |"
  done
done
RATE_TABLE="| server | achieved rate, req/s | p50 | p99 (median of $ROUNDS) | p99 range | largest single latency |
|---|---:|---:|---:|---:|---:|"
for s in "${SERVERS[@]}"; do
  RATE_TABLE+="
| ${NAME[$s]} | $(stat_format %.0f "$(echo "${RATE_RPS[$s]}" | med)") | $(ms "$(echo "${RATE_P50[$s]}" | med)") | $(ms "$(echo "${RATE_P99[$s]}" | med)") | $(echo "${RATE_P99[$s]}" | rng %.0f) µs | $(ms "$(echo "${RATE_MAX[$s]}" | tr ' ' '\n' | sort -g | tail -n 1)") |"
done
gm_rps=$(echo "${RPS[gm.miss]}" | med) reg_rps=$(echo "${RPS[registry.miss]}" | med)
gm_p99=$(echo "${P99[gm.miss]}" | med) reg_p99=$(echo "${P99[registry.miss]}" | med)
VERDICT=$(awk -v a="$gm_rps" -v b="$reg_rps" -v c="$gm_p99" -v d="$reg_p99" 'BEGIN {
  printf "a miss: %.1f× docker-registry'"'"'s requests per second (target ≥ 10×: %s) and %.1f× better p99 (target ≥ 10×: %s)",
    a / b, (a >= 10 * b ? "met" : "not met"), d / c, (d >= 10 * c ? "met" : "not met") }')

echo
echo "$TABLE"
echo
echo "$RATE_TABLE"
echo
echo "$VERDICT"

if [ "$DOCS" = 1 ]; then
  cat >"$WORK/section.md" <<EOF
## Small requests under load

wrk 4.1 (\`-t2 -c64\`, ${DURATION} s per measurement) against each server in turn, $ROUNDS rounds,
medians and ranges over the rounds; the manifest HEAD by ApacheBench $(ab -V | awk 'NR == 1 {print $5}')
(\`ab -i -k -c 64\`, one client thread, so nginx's HEAD figure is ab's limit more than nginx's),
because wrk 4.1 waits for a body after a HEAD answer that carries Content-Length and completes none. CPU-µs per request: the server's processes' user +
system time over the measurement divided by the requests answered (wrk itself and the
kernel's loopback work for the client are not in it). Ratios are against docker-registry
measured in the same rounds.

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(bench_load_note "$LOAD_BEFORE"); load average after: $LOAD_AFTER
- Machine: $(bench_machine)
- gossip-mirror: $(bench_build_note), commit $(bench_commit)
- Command: \`scripts/bench/load.sh\` (ROUNDS=$ROUNDS DURATION=$DURATION RATE=$RATE BLOB_BYTES=$BLOB_BYTES)

$TABLE

Result: $VERDICT.

### Latency of a miss at a light rate

The miss again at about $RATE requests per second: two connections, each pausing $PAUSE_MS ms
after every answer (wrk's \`delay()\`), for ${RATE_DURATION} s per round.

$RATE_TABLE
EOF
  bench_publish load scripts/bench/load.sh "$WORK/section.md"
fi
