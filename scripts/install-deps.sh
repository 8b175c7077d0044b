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
  procps psmisc          # ps/pkill for cleanup
  gzip tar curl ca-certificates
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
for svc in containerd docker-registry nginx docker; do
  pkg=$svc; [ "$svc" = nginx ] && pkg=nginx-light; [ "$svc" = docker ] && pkg=docker.io
  case " ${missing[*]:-} " in *" $pkg "*) ;; *) continue ;; esac
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  elif command -v service >/dev/null 2>&1; then
    service "$svc" stop >/dev/null 2>&1 || true
  fi
done

command -v swift >/dev/null || { echo "the Swift toolchain is required (swift not on PATH)" >&2; exit 1; }
echo "dependencies ready"
