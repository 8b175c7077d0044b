# shellcheck shell=bash
# A multi-host cluster on one machine, for the demo (scripts/demo.sh):
# one network namespace per host, joined by a bridge and veth pairs, in each a
# real containerd and a gossip-mirror node, plus one docker-registry upstream
# (TLS, its own CA) bound to the bridge's address.
#
# Everything created is recorded in "$CLUSTER_DIR/resources" and removed by
# cluster_cleanup, in reverse order; nothing else is touched: not the
# machine's containerd, not its nftables ruleset (rules live in the hosts'
# namespaces), not its routes beyond the bridge's own /24.
#
# Source it, set GM_BIN (the gossip-mirror binary), then:
#   cluster_init PREFIX   # a work dir, a free 10.239.X.0/24, the bridge
#   cluster_upstream      # docker-registry with TLS on 10.239.X.1:5000
#   cluster_host N        # namespace, containerd, hosts.toml, gossip-mirror
#   ...                   # cluster_pull, cluster_block_upstream, status_number...
#   cluster_cleanup
#
# The daemons' configuration comes from scripts/cluster/templates/, the files
# the Swift cluster harness renders too (Tests/TestSupport/DaemonTemplates.swift);
# what a node knows is read with the binary's own `members`, `status` and
# `locate` commands in their --json form (parsed with jq).

CLUSTER_DIR=""
CLUSTER_SUBNET=""      # e.g. 10.239.42
CLUSTER_TAG=""         # short random tag in interface and namespace names
CLUSTER_BRIDGE=""
UPSTREAM=""            # HOST:PORT of the upstream registry
CLUSTER_KEY=""
CLUSTER_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLUSTER_TEMPLATES="$CLUSTER_SCRIPTS/templates"

log() { printf '%s\n' "$*" >&2; }

# Prints scripts/cluster/templates/NAME with each @KEY@ replaced by VALUE
# (render_template NAME KEY=VALUE...); fails if a placeholder is left.
render_template() {
  local name=$1 pair text
  shift
  text=$(<"$CLUSTER_TEMPLATES/$name")
  for pair in "$@"; do text=${text//"@${pair%%=*}@"/"${pair#*=}"}; done
  if grep -q '@[A-Z_]*@' <<<"$text"; then
    log "render_template $name: $(grep -o '@[A-Z_]*@' <<<"$text" | head -n 1) is not set"
    return 1
  fi
  printf '%s\n' "$text"
}

# Records a resource for cleanup: "netns NAME", "link NAME", "pid PID".
cluster_record() { echo "$*" >>"$CLUSTER_DIR/resources"; }

# Polls COMMAND... every 0.1 s until it succeeds or SECONDS pass; returns 1 on timeout.
wait_for() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# Milliseconds since the epoch.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

cluster_init() {
  local prefix=${1:-gm-cluster}
  CLUSTER_TAG=$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
  CLUSTER_DIR=$(mktemp -d "/tmp/$prefix.XXXXXX")
  echo $$ >"$CLUSTER_DIR/owner"
  : >"$CLUSTER_DIR/resources"
  CLUSTER_BRIDGE="gmd${CLUSTER_TAG}br"
  CLUSTER_SUBNET=$("$CLUSTER_SCRIPTS/network.sh" bridge "$CLUSTER_DIR" "$CLUSTER_BRIDGE" 10.239)
  echo "$CLUSTER_SUBNET" >"$CLUSTER_DIR/subnet"
  CLUSTER_KEY="$CLUSTER_DIR/cluster.key"
  "$GM_BIN" keygen --out "$CLUSTER_KEY" >/dev/null
}

host_ns() { echo "gmd-$CLUSTER_TAG-h$1"; }
host_ip() { echo "$CLUSTER_SUBNET.$((10 + $1))"; }
host_dir() { echo "$CLUSTER_DIR/h$1"; }
in_host() { local n=$1; shift; ip netns exec "$(host_ns "$n")" "$@"; }

# docker-registry with TLS (a CA of its own) on the bridge address.
cluster_upstream() {
  local dir="$CLUSTER_DIR/upstream"
  mkdir -p "$dir/storage"
  UPSTREAM="$CLUSTER_SUBNET.1:5000"
  "$(dirname "${BASH_SOURCE[0]}")/make-certificates.sh" "$dir" "$CLUSTER_SUBNET.1"
  render_template docker-registry.yml STORAGE="$dir/storage" ADDRESS="$UPSTREAM" \
    CERTIFICATE="$dir/server.crt" KEY="$dir/server.key" >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  echo $! >"$dir/pid"
  cluster_record pid $!
  wait_for 20 curl -sf --cacert "$dir/ca.crt" "https://$UPSTREAM/v2/" ||
    { log "docker-registry did not start:"; tail -n 20 "$dir/registry.log" >&2; return 1; }
}

# Pushes an OCI layout's TAG to the upstream as REPOSITORY:TAG (all platforms, digests kept).
cluster_push() {
  local layout=$1 tag=$2 repository=$3
  skopeo --insecure-policy copy --all --preserve-digests --quiet \
    --dest-cert-dir "$CLUSTER_DIR/upstream/trust" \
    "oci:$layout:$tag" "docker://$UPSTREAM/$repository:$tag"
}

# Host N: a namespace on the bridge, containerd, hosts.toml, a gossip-mirror node.
# The first host started is every later host's seed.
cluster_host() {
  local n=$1 ns veth dir ip
  ns=$(host_ns "$n")
  veth="gmd${CLUSTER_TAG}h$n"
  dir=$(host_dir "$n")
  ip=$(host_ip "$n")
  mkdir -p "$dir"

  "$CLUSTER_SCRIPTS/network.sh" host "$CLUSTER_DIR" "$ns" "$veth" "$CLUSTER_BRIDGE" "$ip"

  # containerd with its own root, state and socket; only what an image store needs.
  render_template containerd.toml ROOT="$dir/root" STATE="$dir/state" SOCKET="$dir/containerd.sock" \
    >"$dir/containerd.toml"
  ip netns exec "$ns" containerd --config "$dir/containerd.toml" >"$dir/containerd.log" 2>&1 &
  cluster_record pid $!
  wait_for 30 ctr -a "$dir/containerd.sock" version ||
    { log "containerd on host $n did not start:"; tail -n 20 "$dir/containerd.log" >&2; return 1; }

  # hosts.toml through gossip-mirror itself; the upstream's CA next to it
  # (configure-containerd names Docker-style *.crt files it finds as `ca`).
  mkdir -p "$dir/hosts.d/$UPSTREAM"
  cp "$CLUSTER_DIR/upstream/ca.crt" "$dir/hosts.d/$UPSTREAM/upstream-ca.crt"
  "$GM_BIN" configure-containerd --hosts-dir "$dir/hosts.d" --registry "$UPSTREAM" \
    --mirror-url http://127.0.0.1:5000 >"$dir/configure-containerd.out"

  local join=()
  [ "$n" = 1 ] || join=(--join "$(host_ip 1):7946")
  render_template gossip-mirror.yaml NAME="host-$n" ADDRESS="$ip" GATEWAY="$CLUSTER_SUBNET.1" \
    SOCKET="$dir/containerd.sock" ROOT="$dir/root" DIR="$dir" >"$dir/gossip-mirror.yaml"
  ip netns exec "$ns" "$GM_BIN" run --config "$dir/gossip-mirror.yaml" --key-file "$CLUSTER_KEY" "${join[@]}" \
    >"$dir/gossip-mirror.log" 2>&1 &
  echo $! >"$dir/mirror.pid"
  cluster_record pid $!
  wait_for 20 "$GM_BIN" members --status-addr "$ip:9090" --json ||
    { log "gossip-mirror on host $n did not start:"; tail -n 20 "$dir/gossip-mirror.log" >&2; return 1; }
}

# Host N's full status as JSON (`gossip-mirror status --json`).
status_json() { "$GM_BIN" status --status-addr "$(host_ip "$1"):9090" --json 2>/dev/null; }

# A number from host N's status: status_number N JQ-PATH (e.g. .registry.peerBytes), 0 if absent.
status_number() {
  local v
  v=$(status_json "$1" | jq -r "($2) // 0" 2>/dev/null) || true
  echo "${v:-0}"
}

# Requests host N's registry answered with OUTCOME (local, peer, miss, error).
requests_count() { status_number "$1" ".registry.requests[\"$2\"]"; }

# Succeeds when host N lists COUNT members, all alive (`gossip-mirror members --json`).
members_alive() {
  "$GM_BIN" members --status-addr "$(host_ip "$1"):9090" --json 2>/dev/null |
    jq -e --argjson count "$2" 'length == $count and all(.state == "alive")' >/dev/null
}

# The members host N believes hold REF (a digest or an image reference), space-separated
# (`gossip-mirror locate --json`).
holders() {
  "$GM_BIN" locate "$2" --status-addr "$(host_ip "$1"):9090" --json 2>/dev/null | jq -r '.holders | join(" ")' 2>/dev/null || true
}

# Succeeds when host N's summaries say HOLDER holds REF.
locates() { [[ " $(holders "$1" "$2") " == *" $3 "* ]]; }

# ctr on host N (inside its namespace: ctr fetches, containerd stores).
host_ctr() {
  local n=$1
  shift
  in_host "$n" ctr -a "$(host_dir "$n")/containerd.sock" -n k8s.io "$@"
}

# Pulls REF on host N through its mirror (hosts.toml), for this machine's platform.
cluster_pull() {
  local n=$1 ref=$2
  host_ctr "$n" images pull --snapshotter native --hosts-dir "$(host_dir "$n")/hosts.d" "$ref"
}

# Drops every packet from the hosts to the upstream (nft, in each host's namespace).
cluster_block_upstream() {
  local n
  for n in "$@"; do
    in_host "$n" nft -f - <<EOF
table inet gm_demo {
  chain output {
    type filter hook output priority 0; policy accept;
    ip daddr $CLUSTER_SUBNET.1 tcp dport 5000 counter drop
  }
}
EOF
  done
}

# Packets to the upstream that host N's drop rule caught.
upstream_drops() {
  { in_host "$1" nft list table inet gm_demo 2>/dev/null || true; } |
    awk '{ for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}

# GETs of blobs and manifests the upstream has answered so far; with a
# second argument, only those whose path contains it (e.g. a digest).
upstream_requests() {
  grep '"GET /v2/[^ ]*/\(blobs\|manifests\)/' "$CLUSTER_DIR/upstream/registry.log" | grep -c -- "${1:-}" || true
}

# Stops everything recorded, newest first. Safe to call twice.
cluster_cleanup() {
  [ -n "$CLUSTER_DIR" ] && [ -f "$CLUSTER_DIR/resources" ] || return 0
  "$CLUSTER_SCRIPTS/network.sh" teardown "$CLUSTER_DIR"
  CLUSTER_DIR=""
}

# Removes what an earlier run left behind when it was killed before its
# cleanup (its owner process is gone): /tmp/PREFIX* directories with a
# resources ledger (cluster_init's, or the Swift harness's gm-cluster-test-*).
cluster_sweep_stale() { "$CLUSTER_SCRIPTS/network.sh" sweep "${1:-gm-cluster.}"; }
