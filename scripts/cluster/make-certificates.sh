#!/usr/bin/env bash
# A CA of its own and a server certificate for IP, for the upstream
# docker-registry of the demo (scripts/cluster/lib.sh) and of the Swift
# cluster tests (Tests/EndToEndTests/Cluster/UpstreamRegistry.swift):
#
#   scripts/cluster/make-certificates.sh DIR IP
#
# Writes DIR/ca.{key,crt}, DIR/server.{key,crt} (subjectAltName IP:IP), and
# DIR/trust/ca.crt (the CA alone in a folder, for skopeo --dest-cert-dir).
# Valid for two days: these are throwaway certificates of a test run.
set -euo pipefail
if (($# != 2)); then
  echo "usage: $0 DIR IP" >&2
  exit 2
fi
dir=$1 ip=$2
mkdir -p "$dir/trust"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=gossip-mirror test CA" \
  -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=$ip" \
  -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\n' "$ip" >"$dir/ext.cnf"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
  -days 2 -extfile "$dir/ext.cnf" -out "$dir/server.crt" 2>/dev/null
cp "$dir/ca.crt" "$dir/trust/ca.crt"
