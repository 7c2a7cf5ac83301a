#!/usr/bin/env bash
# Stops the local cluster started by up.sh: only the pids recorded in STATE_DIR/pids
# (SIGTERM, then SIGKILL after LCR_DOWN_TIMEOUT seconds, default 15), then removes STATE_DIR
# unless KEEP=1. Usage: down.sh [STATE_DIR]   (default: ${LCR_CLUSTER_DIR:-/tmp/lcr-cluster})
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"

STATE_DIR="${1:-${LCR_CLUSTER_DIR:-/tmp/lcr-cluster}}"
if [[ ! -d "$STATE_DIR" ]]; then
  lcr_log "no cluster state at $STATE_DIR: nothing to stop"
  exit 0
fi
# Refuse to rm -rf something that is not ours.
if [[ ! -d "$STATE_DIR/pids" && ! -f "$STATE_DIR/env" && ! -d "$STATE_DIR/pki" ]]; then
  lcr_log "$STATE_DIR does not look like a cluster state dir (no pids/, env, pki/): refusing"
  exit 1
fi
lcr_stop_all "$STATE_DIR" "${LCR_DOWN_TIMEOUT:-15}"
lcr_release_ports "$(cd "$STATE_DIR" && pwd)"
lcr_log "stopped the cluster in $STATE_DIR"
if [[ "${KEEP:-0}" == 1 ]]; then
  lcr_log "KEEP=1: state dir kept"
else
  rm -rf "${STATE_DIR:?}"
  lcr_log "removed $STATE_DIR"
fi
