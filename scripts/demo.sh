#!/usr/bin/env bash
# The main job, on one machine: three hosts (network namespaces on a bridge),
# each with its own containerd and gossip-mirror node, and a docker-registry
# upstream. Host 1 pulls an image (from the upstream); then the upstream
# becomes unreachable (an nft drop rule on every host) and hosts 2 and 3 pull
# the same image through their mirrors, from their peers. Prints where each
# blob came from and how long each pull took, then leaves the cluster running
# until Ctrl-C; with --cleanup it tears everything down at the end instead.
#
#   sudo scripts/demo.sh [--cleanup]
#
# Needs root (namespaces, veth, nft). Touches nothing of the machine's own:
# its containerd, ruleset and routes stay as they are; everything the demo
# creates (a bridge with a free 10.239.X.0/24, namespaces gmd-*, processes,
# /tmp/gm-demo.*) is recorded and removed on exit (scripts/cluster/lib.sh).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
trap 'echo "demo.sh: \`$BASH_COMMAND\` failed (line $LINENO)" >&2' ERR

cleanup_only=false
for arg in "$@"; do
  case $arg in
    --cleanup) cleanup_only=true ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  # Network namespaces, veths and nft rules need root.
  if command -v sudo >/dev/null 2>&1; then
    exec sudo env "PATH=$PATH" "$0" "$@"
  fi
  echo "the demo creates network namespaces: run it as root" >&2
  exit 1
fi

scripts/install-deps.sh
if [ -n "${GM_BIN:-}" ] && [ -x "$GM_BIN" ]; then
  echo "== using $GM_BIN (GM_BIN)"
else
  echo "== building gossip-mirror"
  swift build --product gossip-mirror 2>&1 | tail -n 1
  GM_BIN="$(swift build --show-bin-path)/gossip-mirror"
fi
export GM_BIN

# shellcheck source=cluster/lib.sh
source scripts/cluster/lib.sh
cluster_sweep_stale gm-demo.
sleeper=""
finish() {
  local status=$?
  trap - EXIT INT TERM ERR
  [ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null || true
  if [ -n "$CLUSTER_DIR" ]; then
    if [ $status -ne 0 ] && [ $status -ne 130 ] && [ -d "$CLUSTER_DIR" ]; then
      echo "== the demo failed; the nodes' last log lines:" >&2
      for n in 1 2 3; do
        [ -f "$(host_dir "$n")/gossip-mirror.log" ] || continue
        echo "-- host-$n" >&2
        grep -v ServiceLifecycle "$(host_dir "$n")/gossip-mirror.log" | tail -n 15 >&2
      done
    fi
    echo "== cleaning up (processes, namespaces, bridge, $CLUSTER_DIR)"
    cluster_cleanup
  fi
  exit $status
}
trap finish EXIT
trap 'exit 130' INT TERM

cluster_init gm-demo
echo "== network: bridge $CLUSTER_BRIDGE with $CLUSTER_SUBNET.0/24 (work dir $CLUSTER_DIR)"
cluster_upstream
echo "== upstream: docker-registry with TLS on https://$UPSTREAM"

case $(uname -m) in
  aarch64 | arm64) arch=arm64 ;;
  *) arch=amd64 ;;
esac
image_dir="$CLUSTER_DIR/image"
scripts/cluster/make-image.sh "$image_dir" v1 4K 2M 12M >/dev/null
ref="$UPSTREAM/demo/app:v1"
cluster_push "$image_dir" v1 demo/app
echo "== image: $ref, generated here (index of linux/amd64 and linux/arm64, three random layers each), pushed upstream"

for n in 1 2 3; do
  cluster_host "$n" 2>>"$CLUSTER_DIR/setup.log"
  echo "   host-$n  $(host_ip "$n")  namespace $(host_ns "$n")  containerd $(host_dir "$n")/containerd.sock"
done
echo "   hosts.toml written by 'gossip-mirror configure-containerd' (host-1's):"
sed 's/^/     | /' "$(host_dir 1)/hosts.d/$UPSTREAM/hosts.toml"
t0=$(now_ms)
wait_for 30 members_alive 3 3 || { echo "the cluster did not form" >&2; exit 1; }
echo "== cluster formed in $(( $(now_ms) - t0 )) ms; host-3's view:"
"$GM_BIN" members --status-addr "$(host_ip 3):9090" | sed 's/^/   /'

# Blob table for this machine's platform: KIND DIGEST SIZE.
blobs=$(awk -v a="$arch" '$1 == "-" || $1 == a { print $2, $3, $4 }' "$image_dir/blobs.txt" |
  awk '{ o = ($1 == "index") ? 0 : ($1 == "manifest") ? 1 : ($1 == "config") ? 2 : 3; print o, NR, $0 }' | sort -n -k1,1 -k2,2 | cut -d' ' -f3-)
human() { awk -v b="$1" 'BEGIN { if (b >= 1e6) printf "%.1f MB", b / 1e6; else if (b >= 1e3) printf "%.1f kB", b / 1e3; else printf "%d B", b }'; }

# Pulls on host N and reports where each blob came from: the upstream if its
# access log shows a GET of that digest during the pull, else the peer that
# host N's mirror names in its own access log (`source=peer peer=…`), else the
# peers that (by their Bloom summaries) held it; and the mirrors' and upstream's counts.
pull_and_report() {
  local n=$1 why=$2 t took h kind digest size source
  local -A up_before=() holders_of=() answered_before=()
  local peer0 local0 miss0 bytes0 upstream0 drops0 log0 relayed_by
  local mirror_log; mirror_log="$(host_dir "$n")/gossip-mirror.log"
  log0=$(wc -l <"$mirror_log")
  drops0=$(upstream_drops "$n")
  peer0=$(requests_count "$n" peer); local0=$(requests_count "$n" local)
  miss0=$(requests_count "$n" miss); bytes0=$(status_number "$n" .registry.peerBytes)
  upstream0=$(upstream_requests)
  for h in 1 2 3; do answered_before[$h]=$(requests_count "$h" local); done
  while read -r kind digest size; do
    up_before[$digest]=$(upstream_requests "${digest#sha256:}")
    holders_of[$digest]=$(holders "$n" "$digest")
  done <<<"$blobs"

  echo "== host-$n pulls $ref ($why)"
  t=$(now_ms)
  cluster_pull "$n" "$ref" >"$(host_dir "$n")/pull.out" 2>&1 ||
    { cat "$(host_dir "$n")/pull.out" >&2; return 1; }
  took=$(( $(now_ms) - t ))

  printf '   %-9s %-21s %9s   %s\n' "blob" "digest" "size" "came from"
  while read -r kind digest size; do
    # The peer host N's mirror relayed this blob from, by its access log.
    relayed_by=$(tail -n +"$((log0 + 1))" "$mirror_log" | grep ' request$' | grep -F "$digest" |
      grep -F 'method=GET' | grep -F 'source=peer' | grep -o 'peer=[^ ]*' | tail -n 1 | cut -d= -f2) || true
    if [ "$(upstream_requests "${digest#sha256:}")" -gt "${up_before[$digest]}" ]; then
      source="upstream (the mirror answered 404)"
    elif [ -n "$relayed_by" ]; then
      source="peer: $relayed_by (verified)"
    elif [[ ${holders_of[$digest]} == *" "* ]]; then
      source="peer: one of ${holders_of[$digest]// /, }"
    elif [ -n "${holders_of[$digest]}" ]; then
      source="peer: ${holders_of[$digest]}"
    else
      source="?"
    fi
    printf '   %-9s %-21s %9s   %s\n' "$kind" "${digest:0:19}…" "$(human "$size")" "$source"
  done <<<"$blobs"

  local peer local_ miss bytes upstream_delta answered="" d
  peer=$(( $(requests_count "$n" peer) - peer0 ))
  local_=$(( $(requests_count "$n" local) - local0 ))
  miss=$(( $(requests_count "$n" miss) - miss0 ))
  bytes=$(( $(status_number "$n" .registry.peerBytes) - bytes0 ))
  upstream_delta=$(( $(upstream_requests) - upstream0 ))
  for h in 1 2 3; do
    [ "$h" = "$n" ] && continue
    d=$(( $(requests_count "$h" local) - ${answered_before[$h]} ))
    answered+="${answered:+, }host-$h $d"
  done
  echo "   took $took ms. host-$n's mirror: $peer answers relayed from peers ($(human "$bytes")), $local_ local, $miss misses."
  echo "   requests the other nodes answered from their own containerd (one GET per manifest or blob): $answered."
  if [ -n "${blocked:-}" ]; then
    echo "   upstream: $upstream_delta manifest/blob GETs served; $(( $(upstream_drops "$n") - drops0 )) packets from host-$n caught by the drop rule."
  else
    echo "   upstream: $upstream_delta manifest/blob GETs served."
  fi
  summary+=("host-$n  $(printf '%6s ms' "$took")  from peers: $(human "$bytes") in $peer answers; upstream GETs: $upstream_delta")
}

summary=()
pull_and_report 1 "nobody holds it yet: the mirror answers 404 at once and containerd goes upstream"

t0=$(now_ms)
for n in 2 3; do wait_for 20 locates "$n" "$ref" host-1 || { echo "host-$n never learned that host-1 holds it" >&2; exit 1; }; done
echo "== hosts 2 and 3 learned that host-1 holds it in $(( $(now_ms) - t0 )) ms (Bloom summaries over gossip)"

cluster_block_upstream 1 2 3
blocked=yes
if in_host 2 curl -s --max-time 2 --cacert "$CLUSTER_DIR/upstream/ca.crt" "https://$UPSTREAM/v2/" >/dev/null; then
  echo "the upstream is still reachable from host-2" >&2
  exit 1
fi
echo "== the upstream is down for every host (nft drop rule in each namespace; https://$UPSTREAM/v2/ from host-2: timed out)"

pull_and_report 2 "upstream down: only host-1 has it"
pull_and_report 3 "upstream down: host-1 and host-2 have it"

echo "== summary (image of $(human "$(awk '{ s += $3 } END { print s }' <<<"$blobs")") for linux/$arch)"
for line in "${summary[@]}"; do echo "   $line"; done

if $cleanup_only; then
  exit 0
fi
cat <<EOF
== the cluster keeps running; Ctrl-C stops it and removes everything. Try:
   $GM_BIN members --status-addr $(host_ip 1):9090
   $GM_BIN locate $ref --status-addr $(host_ip 2):9090
   $GM_BIN status --status-addr $(host_ip 3):9090 --json
   ip netns exec $(host_ns 2) ctr -a $(host_dir 2)/containerd.sock -n k8s.io images ls
   logs: $CLUSTER_DIR/h{1,2,3}/gossip-mirror.log
EOF
# `wait` (unlike a foreground sleep) returns as soon as SIGINT/SIGTERM arrives.
# The placeholder names the work dir, so a sweep after a SIGKILL ends it too.
tail -f "$CLUSTER_DIR/owner" >/dev/null &
sleeper=$!
cluster_record pid "$sleeper"
wait "$sleeper"
