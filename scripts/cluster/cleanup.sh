#!/usr/bin/env bash
# Removes what a demo or a cluster test run left behind when it was killed
# before it could clean up (SIGKILL, a CI timeout, a closed terminal):
# processes, network namespaces, the bridge and veths, work directories.
# Only what such a run recorded in its ledger (/tmp/gm-demo.*/resources,
# /tmp/gm-cluster-test-*/resources), and only if its owner process is gone.
# The demo and the tests do this themselves when they start.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cluster_sweep_stale gm-demo.
cluster_sweep_stale gm-cluster-test-
echo "nothing left behind by dead runs"
