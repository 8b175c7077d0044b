# shellcheck shell=bash
# What the benchmark scripts share: the gossip-mirror binary, a work
# directory and the processes started in it (all stopped and removed on
# exit), the daemons they measure against (docker-registry and containerd,
# configured from scripts/cluster/templates/ as the demo and the Swift
# harness configure theirs), a pair of gossip-mirror nodes (a holder and a
# relay), and the median of a list. Polling with a deadline (wait_for) and
# render_template come from scripts/cluster/lib.sh.
#
# Source it after setting ROOT, SCRATCH and BUILD, then: bench_binary (sets
# BIN), bench_workdir NAME (sets WORK; PIDS+=($!) for every process started).

# shellcheck source=../cluster/lib.sh
. "$ROOT/scripts/cluster/lib.sh"

# The options every benchmark script takes: --no-build (BUILD=0: use the
# build as it is), --no-docs (DOCS=0: print only), --quick (BENCH_QUICK=1:
# small and short, to check that it works), -h/--help (the script's header
# comment). A script with options of its own defines bench_option ARG, which
# returns 1 for an argument it does not know.
bench_options() {
  BUILD=${BUILD:-1} DOCS=${DOCS:-1} BENCH_QUICK=${BENCH_QUICK:-0}
  local arg
  for arg in "$@"; do
    case "$arg" in
      --no-build) BUILD=0 ;;
      --no-docs) DOCS=0 ;;
      --quick) BENCH_QUICK=1 ;;
      -h | --help) sed -n '2,/^set -/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
      *)
        if ! declare -F bench_option >/dev/null || ! bench_option "$arg"; then
          echo "unknown argument: $arg (--help lists them)" >&2
          exit 2
        fi
        ;;
    esac
  done
  export BENCH_QUICK
}

# TOOL...: fails unless every tool is on PATH (or in /usr/sbin, nginx's home).
bench_require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
      echo "missing $tool: run scripts/install-deps.sh" >&2
      exit 1
    }
  done
}

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

# DIR ADDRESS [quiet]: docker-registry (the template without TLS) on
# HOST:PORT, storage and log in DIR; `quiet` turns its access log off and its
# level to error, as a load benchmark wants of every server. Returns once
# /v2/ answers; $! is its pid.
bench_registry() {
  local dir=$1 address=$2 quiet=${3:-}
  mkdir -p "$dir"
  render_template docker-registry.yml STORAGE="$dir/storage" ADDRESS="$address" CERTIFICATE= KEY= |
    grep -v '# tls$' |
    if [ "$quiet" = quiet ]; then
      sed 's/^  level: info$/  level: error/; s/^    disabled: false$/    disabled: true/'
    else
      cat
    fi >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  PIDS+=($!)
  wait_for 30 curl -sf "http://$address/v2/" || { tail -n 20 "$dir/log" >&2; return 1; }
}

# DIR WORKERS LEVEL HTTP SERVER: nginx (NGINX, the binary) with its
# configuration, pid, logs and temporary paths in DIR: WORKERS worker
# processes, errors at LEVEL, sendfile, no access log, plus the http-level
# directives HTTP and the server (or upstream) blocks SERVER. $! is its pid.
bench_nginx() {
  local dir=$1 workers=$2 level=$3 http=$4 server=$5
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/error.log $level;
daemon off;
events { worker_connections 1024; }
http {
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  access_log off;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
$http
$server
}
EOF
  "$NGINX" -p "$dir" -c "$dir/nginx.conf" 2>>"$dir/error.log" &
  PIDS+=($!)
}

# DIR: containerd with root, state and socket in DIR; sets CTR (ctr on that
# socket, namespace bench) and returns once it answers.
bench_containerd() {
  local dir=$1
  mkdir -p "$dir"
  render_template containerd.toml ROOT="$dir/root" STATE="$dir/state" SOCKET="$dir/containerd.sock" \
    >"$dir/config.toml"
  containerd --config "$dir/config.toml" >"$dir/log" 2>&1 &
  PIDS+=($!)
  CTR=(ctr -a "$dir/containerd.sock" -n bench)
  wait_for 30 "${CTR[@]}" version || { tail -n 20 "$dir/log" >&2; return 1; }
}

# DIR: an empty OCI image layout (what a node that holds nothing serves from).
bench_empty_layout() {
  mkdir -p "$1"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$1/oci-layout"
  printf '{"schemaVersion":2,"manifests":[]}' >"$1/index.json"
}

# NAME IP_A IP_B LAYOUT: node NAME-a serving the OCI layout LAYOUT on IP_A and
# node NAME-b holding nothing on IP_B, joined to A (so that B relays from A);
# registry on port 5000, status on 9090, gossip on 7946; cluster key and logs
# in WORK. Sets PID_A and PID_B; returns once B lists A alive.
bench_mirror_pair() {
  local name=$1 ip_a=$2 ip_b=$3 layout=$4
  [ -f "$WORK/cluster.key" ] || "$BIN" keygen --out "$WORK/cluster.key" >/dev/null
  bench_empty_layout "$WORK/$name-b-layout"
  "$BIN" run --name "$name-a" --gossip-addr "$ip_a:7946" --registry-addr "$ip_a:5000" --status-addr "$ip_a:9090" \
    --store oci-layout --oci-layout "$layout" --key-file "$WORK/cluster.key" --log-level warning --no-access-log \
    >"$WORK/$name-a.log" 2>&1 &
  PID_A=$!
  PIDS+=($!)
  "$BIN" run --name "$name-b" --gossip-addr "$ip_b:7946" --registry-addr "$ip_b:5000" --status-addr "$ip_b:9090" \
    --join "$ip_a:7946" --store oci-layout --oci-layout "$WORK/$name-b-layout" --key-file "$WORK/cluster.key" \
    --log-level warning --no-access-log >"$WORK/$name-b.log" 2>&1 &
  PID_B=$!
  PIDS+=($!)
  wait_for 30 sh -c "'$BIN' members --status-addr '$ip_b:9090' --json | jq -e 'any(.name == \"$name-a\" and .state == \"alive\")'" ||
    { echo "$name-b never saw $name-a alive" >&2; tail -n 20 "$WORK/$name-a.log" "$WORK/$name-b.log" >&2; return 1; }
}

# IP_B REF HOLDER: succeeds once the node whose status is on IP_B locates REF on HOLDER.
bench_locates() {
  "$BIN" locate "$2" --status-addr "$1:9090" --json 2>/dev/null | jq -e --arg h "$3" '.holders | index($h)' >/dev/null
}

# NAME TEXT: replaces the section of docs/benchmarks.md between the markers
# <!-- NAME:begin ...--> and <!-- NAME:end --> with TEXT (which carries both
# markers), or appends TEXT if the document has no such section yet. Written
# to a temporary file first, then renamed.
bench_write_section() {
  local name=$1 doc=$ROOT/docs/benchmarks.md
  if grep -q "<!-- $name:begin" "$doc"; then
    SECTION="$2" awk -v begin="<!-- $name:begin" -v end="<!-- $name:end" '
      index($0, begin) == 1 {print ENVIRON["SECTION"]; skip=1; next}
      index($0, end) == 1 {skip=0; next}
      !skip {print}' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
  else
    printf '\n%s\n' "$2" >>"$doc"
  fi
  echo "wrote the section $name of $doc"
}

# The median of the numbers on stdin, one a line.
median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
