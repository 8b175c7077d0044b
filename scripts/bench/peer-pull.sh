#!/usr/bin/env bash
# A containerd pull through a peer against a direct pull, measured in ONE run:
#
#   direct        containerd pulls the image from docker-registry on loopback
#                 (plain HTTP), no mirror configured
#   through peer  containerd's mirror is gossip-mirror node B, which holds
#                 nothing and relays (verified) from node A, which serves the
#                 image from an OCI layout; the upstream in that hosts.toml is
#                 a closed port, so every byte comes through B
#
# One containerd (its own root, state and socket; native snapshotter), one
# multi-layer image (make-image.sh: gzip layers of random bytes, an index of
# two platforms; the pull fetches this machine's). Runs alternate direct and
# through-peer, RUNS of each; before every pull the image is removed with
# `ctr images rm --sync`, which garbage-collects its content and snapshots, so
# every pull fetches every byte. Two measures per run: `ctr images pull`
# (fetch and unpack: what a node does) and `ctr content fetch` (fetch only:
# the stricter comparison, as unpacking costs the same on both paths).
# Prints the medians and ratios and writes them into docs/benchmarks.md
# between markers (replacing the previous run).
#
# Usage: scripts/bench/peer-pull.sh [--no-build] [--no-docs]
# Environment: RUNS (7), LAYERS ("8M 16M 32M 64M"), GOSSIP_MIRROR_BIN, SCRATCH (.build-bench).
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

RUNS=${RUNS:-7}
LAYERS=${LAYERS:-8M 16M 32M 64M}
SCRATCH=${SCRATCH:-.build-bench}
# shellcheck source=scripts/bench/lib.sh
. scripts/bench/lib.sh
bench_options "$@"
[ "$(id -u)" = 0 ] || { echo "containerd needs root" >&2; exit 1; }
bench_require curl containerd ctr docker-registry skopeo sha256sum jq

bench_binary
bench_workdir gm-pull

NET="127.$((160 + RANDOM % 20)).$((1 + RANDOM % 250))"
IP_REG=$NET.2 IP_A=$NET.3 IP_B=$NET.4 IP_NOWHERE=$NET.9
REGISTRY=$IP_REG:5000
REF=$REGISTRY/bench/pull:v1

# ---------------------------------------------------------------- image and upstream
echo "== image: layers of $LAYERS (random, gzip), two platforms"
# shellcheck disable=SC2086
scripts/cluster/make-image.sh "$WORK/image" v1 $LAYERS >/dev/null
bench_registry "$WORK/registry" "$REGISTRY"
skopeo --insecure-policy copy --quiet --all --preserve-digests --dest-tls-verify=false \
  "oci:$WORK/image:v1" "docker://$REF"

# ---------------------------------------------------------------- gossip-mirror A (holder) and B (relay)
skopeo --insecure-policy copy --quiet --all --preserve-digests "oci:$WORK/image:v1" "oci:$WORK/a-layout:$REF"
bench_mirror_pair pull "$IP_A" "$IP_B" "$WORK/a-layout"
wait_for 30 bench_locates "$IP_B" "$REF" pull-a ||
  { echo "B never located the image on A"; cat "$WORK/pull-a.log" "$WORK/pull-b.log"; exit 1; }

# ---------------------------------------------------------------- containerd
bench_containerd "$WORK/containerd"

mkdir -p "$WORK/direct/$REGISTRY" "$WORK/peer/$REGISTRY"
# containerd 1.6 refuses a hosts.toml without a [host] table ("invalid `host`
# tree") and falls back to its defaults: name the registry as its own host.
cat > "$WORK/direct/$REGISTRY/hosts.toml" <<EOF
server = "http://$REGISTRY"

[host."http://$REGISTRY"]
  capabilities = ["pull", "resolve"]
EOF
cat > "$WORK/peer/$REGISTRY/hosts.toml" <<EOF
server = "http://$IP_NOWHERE:5000"

[host."http://$IP_B:5000"]
  capabilities = ["pull", "resolve"]
EOF

# ---------------------------------------------------------------- runs
ms() { echo $(( $(date +%s%N) / 1000000 )); }
forget() {  # removes the image and garbage-collects its content and snapshots
  "${CTR[@]}" images rm --sync "$REF" >/dev/null 2>&1 || true
  [ -z "$("${CTR[@]}" content ls -q)" ] || { echo "content left after images rm --sync" >&2; "${CTR[@]}" content ls >&2; exit 1; }
}
timed() {  # HOSTS_DIR ctr-subcommand... -> milliseconds
  local t0 t1
  forget
  t0=$(ms)
  "${CTR[@]}" "${@:2}" --hosts-dir "$1" "$REF" >/dev/null
  t1=$(ms)
  echo $((t1 - t0))
}
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
echo "== warm-up (one pull each way)"
timed "$WORK/direct" images pull --snapshotter native >/dev/null
timed "$WORK/peer" images pull --snapshotter native >/dev/null
declare -A T=()
echo "== $RUNS runs of each, alternating (load average $LOAD_BEFORE)"
for run in $(seq "$RUNS"); do
  pd=$(timed "$WORK/direct" images pull --snapshotter native)
  pp=$(timed "$WORK/peer" images pull --snapshotter native)
  fd=$(timed "$WORK/direct" content fetch)
  fp=$(timed "$WORK/peer" content fetch)
  T[pull_direct]+="$pd " T[pull_peer]+="$pp " T[fetch_direct]+="$fd " T[fetch_peer]+="$fp "
  echo "   run $run: pull $pd ms direct, $pp ms through the peer; fetch $fd ms direct, $fp ms through the peer"
done
LOAD_AFTER=$(cut -d' ' -f1 /proc/loadavg)
forget
declare -A MED=() ALL=()
for k in pull_direct pull_peer fetch_direct fetch_peer; do
  MED[$k]=$(echo "${T[$k]}" | tr ' ' '\n' | grep -v '^$' | median)
  ALL[$k]=$(echo "${T[$k]}" | tr ' ' '\n' | grep -v '^$' | sort -n | tr '\n' ' ' | sed 's/ $//')
done
PEER_BYTES=$("$BIN" status --status-addr "$IP_B:9090" --json | jq -r '.registry.peerBytes // empty')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f×", a / b}'; }
ARCH=$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')
IMAGE_BYTES=$(awk -v arch="$ARCH" '$1 == arch || $1 == "-" {s += $4} END {print s}' "$WORK/image/blobs.txt")

TABLE=$(cat <<EOF
| pull of a ${IMAGE_BYTES:-?}-byte image (layers $LAYERS) | direct from docker-registry, ms | through peer B from A, ms | peer ÷ direct | target |
|---|---:|---:|---:|---|
| \`ctr images pull\` (fetch and unpack), median of $RUNS | ${MED[pull_direct]} | ${MED[pull_peer]} | $(ratio "${MED[pull_peer]}" "${MED[pull_direct]}") | ≤ 1.10× |
| \`ctr content fetch\` (fetch only), median of $RUNS | ${MED[fetch_direct]} | ${MED[fetch_peer]} | $(ratio "${MED[fetch_peer]}" "${MED[fetch_direct]}") | |

All runs, ms: pull direct ${ALL[pull_direct]}; pull through peer ${ALL[pull_peer]};
fetch direct ${ALL[fetch_direct]}; fetch through peer ${ALL[fetch_peer]}. Bytes B relayed in all: ${PEER_BYTES:-?}.
EOF
)
echo
echo "$TABLE"
echo

if [ "$DOCS" = 1 ]; then
  SECTION=$(cat <<EOF
<!-- peer-pull:begin (written by scripts/bench/peer-pull.sh; edits here are replaced) -->
## containerd pull through a peer

One containerd (native snapshotter) pulls the same multi-layer image, alternately
straight from docker-registry on loopback and through gossip-mirror node B, which
relays (verified) from node A; the image is removed and garbage-collected before
every pull. Medians of $RUNS runs each.

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Machine: $(nproc) CPUs, $(uname -sr); containerd $(containerd --version | awk '{print $3}'), docker-registry $(docker-registry --version | awk '{print $3}')
- gossip-mirror: release build, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources 2>/dev/null || echo ' (with uncommitted changes in Sources)')
- 1-minute load average before/after: $LOAD_BEFORE / $LOAD_AFTER
- Command: \`scripts/bench/peer-pull.sh\` (RUNS=$RUNS LAYERS="$LAYERS")

$TABLE
<!-- peer-pull:end -->
EOF
)
  bench_write_section peer-pull "$SECTION"
fi
