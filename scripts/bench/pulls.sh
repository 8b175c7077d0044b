#!/usr/bin/env bash
# containerd pulls of images of several sizes, one layer and many, measured in
# ONE run against a direct pull:
#
#   (a) direct   containerd pulls from docker-registry on loopback; no mirror
#   (b) cold     containerd's first host is its own mirror, gossip-mirror node
#                B, in a cluster where no member holds the image: every
#                request is a miss (404) and containerd goes on to the upstream
#   (c) peer     the same mirror B, in a cluster where node A holds the image
#                (an OCI layout); the upstream in hosts.toml is a closed port,
#                so every byte comes from A through B, verified
#
# Images (scripts/cluster/make-image.sh, one platform, uncompressed tar
# layers of random bytes, so that a pull is not mostly gzip's time): SIZES MB
# in 1 layer and the same total in LAYERS layers. One containerd (its own
# root, native snapshotter); B is its mirror with --store containerd, as on
# a real node. Phase 1 runs B with an empty member E: runs alternate (a) and
# (b). Phase 2 replaces E with A: runs alternate (a) and (c). Before every
# pull the image is removed with `ctr images rm --sync`, which collects its
# content and snapshots, so every pull fetches and unpacks every byte. Each
# run times `ctr images pull` (fetch and unpack, what a node does) and `ctr
# content fetch` (fetch only: the stricter comparison, as unpacking costs the
# same on every path). Ratios b/a and c/a are of medians within a phase.
#
# Usage: scripts/bench/pulls.sh [--no-build] [--no-docs] [--quick]
# Environment: RUNS (3), SIZES ("10 100 1000", MB = 10^6 bytes), LAYERS (8),
#   B_OPTIONS (more options for node B's `gossip-mirror run`, e.g.
#   "--no-cold-pull" to see what the cold pulls' claims cost; with --no-docs),
#   GOSSIP_MIRROR_BIN, SCRATCH (.build-bench).
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

RUNS=${RUNS:-3} SIZES=${SIZES:-10 100 1000} LAYERS=${LAYERS:-8}
SCRATCH=${SCRATCH:-.build-bench}
# shellcheck source=scripts/bench/report.sh
. scripts/bench/report.sh
bench_options "$@"
[ "${BENCH_QUICK:-0}" = 1 ] && RUNS=1 SIZES="10 100"
[ "$(id -u)" = 0 ] || { echo "containerd needs root" >&2; exit 1; }
bench_require curl containerd ctr docker-registry skopeo sha256sum

[ "$BUILD" = 0 ] || bench_build
BUILD=0 bench_binary
bench_workdir gm-pulls
LOAD_BEFORE=$(bench_load)

NET="127.$((120 + RANDOM % 20)).$((1 + RANDOM % 250))"
IP_REG=$NET.2 IP_A=$NET.3 IP_B=$NET.4 IP_E=$NET.5 IP_NOWHERE=$NET.9
REGISTRY=$IP_REG:5000
ARCH=$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')

# ---------------------------------------------------------------- upstream
# docker-registry from the template the demo and the tests use (scripts/cluster/templates).
bench_registry "$WORK/registry" "$REGISTRY"

# ---------------------------------------------------------------- images
# IMAGES: "NAME MB LAYERS"; A's layout holds them all under their full names.
IMAGES=()
for mb in $SIZES; do
  for layers in 1 "$LAYERS"; do IMAGES+=("pull-${mb}mb-$layers $mb $layers"); done
done
A_LAYOUT=$WORK/a-layout
mkdir -p "$A_LAYOUT/blobs/sha256"
printf '{"imageLayoutVersion":"1.0.0"}' >"$A_LAYOUT/oci-layout"
A_INDEX=""
declare -A IMAGE_BYTES=()
for image in "${IMAGES[@]}"; do
  read -r name mb layers <<<"$image"
  per_layer=$((mb * 1000000 / layers))
  sizes=$(for _ in $(seq "$layers"); do printf '%s ' "$per_layer"; done)
  echo "== image $name: $layers layer(s) of $per_layer bytes"
  # shellcheck disable=SC2086
  index=$(PLATFORMS=$ARCH LAYER_COMPRESSION=none scripts/cluster/make-image.sh "$WORK/images/$name" v1 $sizes)
  IMAGE_BYTES[$name]=$(awk '{s += $4} END {print s}' "$WORK/images/$name/blobs.txt")
  skopeo --insecure-policy copy --quiet --all --preserve-digests --dest-tls-verify=false \
    "oci:$WORK/images/$name:v1" "docker://$REGISTRY/bench/$name:v1"
  ln -f "$WORK/images/$name/blobs/sha256/"* "$A_LAYOUT/blobs/sha256/"
  size=$(awk '$2 == "index" {print $4}' "$WORK/images/$name/blobs.txt")
  A_INDEX+="${A_INDEX:+,}{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"$index\",\"size\":$size,\"annotations\":{\"org.opencontainers.image.ref.name\":\"$REGISTRY/bench/$name:v1\"}}"
done
printf '{"schemaVersion":2,"manifests":[%s]}' "$A_INDEX" >"$A_LAYOUT/index.json"
bench_empty_layout "$WORK/e-layout"

# ---------------------------------------------------------------- containerd
# containerd from the shared template: its own root, state and socket in $WORK/containerd; sets CTR.
bench_containerd "$WORK/containerd"

# containerd 1.6 refuses a hosts.toml without a [host] table, so the direct
# configuration names the registry as its own host.
hosts_toml() {  # DIR SERVER [MIRROR]
  mkdir -p "$1/$REGISTRY"
  {
    printf 'server = "http://%s"\n' "$2"
    [ -n "${3:-}" ] && printf '\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$3"
    printf '\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$2"
  } >"$1/$REGISTRY/hosts.toml"
}
hosts_toml "$WORK/hosts-direct" "$REGISTRY"
hosts_toml "$WORK/hosts-cold" "$REGISTRY" "$IP_B:5000"
mkdir -p "$WORK/hosts-peer/$REGISTRY"
printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' \
  "$IP_NOWHERE:5000" "$IP_B:5000" >"$WORK/hosts-peer/$REGISTRY/hosts.toml"

# ---------------------------------------------------------------- gossip-mirror
"$BIN" keygen --out "$WORK/cluster.key" >/dev/null
declare -A NODE_PID=()
start_node() {  # NAME IP STORE-OPTIONS...
  local name=$1 ip=$2
  shift 2
  "$BIN" run --name "$name" --gossip-addr "$ip:7946" --registry-addr "$ip:5000" --status-addr "$ip:9090" \
    --key-file "$WORK/cluster.key" --log-level warning --no-access-log "$@" >>"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  NODE_PID[$name]=$!
}
stop_node() {  # NAME: SIGTERM (a graceful leave), then wait
  local pid=${NODE_PID[$1]}
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
alive_members() { curl -s "http://$IP_B:9090/status.json" | tr -d ' \n' | grep -o '"status":"alive"' | wc -l; }
# shellcheck disable=SC2086 # B_OPTIONS: options, split at spaces
start_node pull-b "$IP_B" --store containerd --containerd-sock "$WORK/containerd/containerd.sock" \
  --containerd-namespace bench --containerd-content-root "$WORK/containerd/root" ${B_OPTIONS:-}
start_node pull-e "$IP_E" --join "$IP_B:7946" --store oci-layout --oci-layout "$WORK/e-layout"
wait_for 60 bash -o pipefail -c "'$BIN' members --status-addr '$IP_B:9090' --json | jq -e '[.[] | select(.state == \"alive\")] | length >= 2'" ||
  { echo "B and E did not form a cluster"; cat "$WORK"/pull-*.log; exit 1; }

# ---------------------------------------------------------------- runs
forget() {  # removes the image and collects its content and snapshots
  "${CTR[@]}" images rm --sync "$1" >/dev/null 2>&1 || true
  [ -z "$("${CTR[@]}" content ls -q)" ] || { echo "content left after images rm --sync" >&2; "${CTR[@]}" content ls >&2; exit 1; }
}
timed() {  # REF HOSTS-DIR ctr-subcommand... -> milliseconds
  local ref=$1 hosts=$2 t0 t1
  shift 2
  forget "$ref"
  t0=$(date +%s%N)
  "${CTR[@]}" "$@" --hosts-dir "$hosts" "$ref" >"$WORK/ctr.out" 2>&1 || { echo "ctr $* $ref failed:" >&2; cat "$WORK/ctr.out" >&2; exit 1; }
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}
declare -A T=()
run_phase() {  # PHASE MODE: RUNS of (a) and MODE, alternating, for every image
  local phase=$1 mode=$2 image name ref run
  for image in "${IMAGES[@]}"; do
    read -r name _ _ <<<"$image"
    ref=$REGISTRY/bench/$name:v1
    echo "== $name: $RUNS runs of direct and $mode, alternating"
    timed "$ref" "$WORK/hosts-$mode" images pull --snapshotter native >/dev/null  # warm-up
    for run in $(seq "$RUNS"); do
      local pd pm fd fm
      pd=$(timed "$ref" "$WORK/hosts-direct" images pull --snapshotter native)
      pm=$(timed "$ref" "$WORK/hosts-$mode" images pull --snapshotter native)
      fd=$(timed "$ref" "$WORK/hosts-direct" content fetch)
      fm=$(timed "$ref" "$WORK/hosts-$mode" content fetch)
      T[$name.$phase.pull.direct]+="$pd " T[$name.$phase.pull.$mode]+="$pm "
      T[$name.$phase.fetch.direct]+="$fd " T[$name.$phase.fetch.$mode]+="$fm "
      echo "   run $run: pull $pd ms direct, $pm ms $mode; fetch $fd ms direct, $fm ms $mode"
    done
    forget "$ref"
  done
}
requests_before=$(curl -s "http://$IP_B:9090/metrics" | awk '/^gossip_mirror_registry_requests_total/ {s += $2} END {print s + 0}')
run_phase 1 cold
echo "== phase 2: A (holding every image) replaces E"
stop_node pull-e
start_node pull-a "$IP_A" --join "$IP_B:7946" --store oci-layout --oci-layout "$A_LAYOUT"
for image in "${IMAGES[@]}"; do
  read -r name _ _ <<<"$image"
  wait_for 60 bench_locates "$IP_B" "$REGISTRY/bench/$name:v1" pull-a ||
    { echo "B never located $name on A"; cat "$WORK/pull-a.log" "$WORK/pull-b.log"; exit 1; }
done
run_phase 2 peer
LOAD_AFTER=$(bench_load)
PEER_BYTES=$(curl -s "http://$IP_B:9090/status.json" | tr -d ' \n' | grep -o '"peerBytes":[0-9]*' | cut -d: -f2)

# ---------------------------------------------------------------- report
med() { echo "${T[$1]:-}" | tr ' ' '\n' | stat_median; }
rng() { echo "${T[$1]:-}" | tr ' ' '\n' | stat_range %.0f; }
sec() { awk -v m="$1" 'BEGIN {if (m == "nan" || m == "") printf "—"; else printf "%.2f s", m / 1000}'; }
TABLE="| image | measure | (a) direct, median | range, ms | (b) cold through the mirror | range, ms | b ÷ a | (a) direct, phase 2 | (c) from peer A through the mirror | range, ms | c ÷ a |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for image in "${IMAGES[@]}"; do
  read -r name mb layers <<<"$image"
  for m in pull fetch; do
    a1=$(med "$name.1.$m.direct") b=$(med "$name.1.$m.cold") a2=$(med "$name.2.$m.direct") c=$(med "$name.2.$m.peer")
    what=$([ "$m" = pull ] && echo '`ctr images pull`' || echo '`ctr content fetch`')
    TABLE+="
| $mb MB, $layers layer$([ "$layers" = 1 ] || echo s) | $what | $(sec "$a1") | $(rng "$name.1.$m.direct") | $(sec "$b") | $(rng "$name.1.$m.cold") | $(stat_ratio "$b" "$a1") | $(sec "$a2") | $(sec "$c") | $(rng "$name.2.$m.peer") | $(stat_ratio "$c" "$a2") |"
  done
done
echo
echo "$TABLE"
echo

if [ "$DOCS" = 1 ]; then
  cat >"$WORK/section.md" <<EOF
## containerd pulls: direct, cold through the mirror, from a peer

One containerd (native snapshotter) pulls each image, alternately straight from
docker-registry on loopback (a) and through its mirror, gossip-mirror node B: in phase 1
with no member holding the image, so every request is a miss and containerd goes on to
the upstream (b); in phase 2 from node A, which holds it, with the upstream a closed port
(c). The image is removed and its content collected before every pull. Images: random
bytes in uncompressed tar layers, one platform. Medians and ranges of $RUNS runs each;
ratios of medians within a phase.

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(bench_load_note "$LOAD_BEFORE"); load average after: $LOAD_AFTER
- Machine: $(bench_machine)
- containerd $(containerd --version | awk '{print $3}'), docker-registry $(docker-registry --version | awk '{print $3}'); gossip-mirror $(bench_build_note), commit $(bench_commit)
- Command: \`scripts/bench/pulls.sh\` (RUNS=$RUNS SIZES="$SIZES" LAYERS=$LAYERS); bytes B relayed in phase 2: ${PEER_BYTES:-?}

$TABLE
EOF
  bench_publish pulls scripts/bench/pulls.sh "$WORK/section.md"
fi
