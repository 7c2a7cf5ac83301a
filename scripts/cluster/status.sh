#!/usr/bin/env bash
# Shows the local cluster's state: processes (pid alive?), ports, nodes, CRDs, and the health of
# cert-manager and trust-manager. Exit status 0 only if every process is alive and healthy.
# Usage: status.sh [STATE_DIR]   (default: ${LCR_CLUSTER_DIR:-/tmp/lcr-cluster})
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"

STATE_DIR="${1:-${LCR_CLUSTER_DIR:-/tmp/lcr-cluster}}"
KUBECTL="${KUBECTL:-$LCR_BIN/kubectl-$KUBERNETES_VERSION}"
command -v "$KUBECTL" >/dev/null || KUBECTL=kubectl
if [[ ! -s "$STATE_DIR/env" ]]; then
  echo "no cluster at $STATE_DIR (no env file)"
  exit 1
fi
# shellcheck disable=SC1091
source "$STATE_DIR/env"
rc=0

echo "== processes ($STATE_DIR)"
for c in "${LCR_COMPONENTS[@]}"; do
  f="$STATE_DIR/pids/$c.pid"
  if lcr_pid_alive "$f"; then state="running"; else state="NOT RUNNING"; rc=1; fi
  printf '  %-24s pid %-8s %s\n' "$c" "$(cat "$f" 2>/dev/null || echo -)" "$state"
done

echo "== ports (127.0.0.1)"
printf '  %-34s %s\n' apiserver "$LCR_APISERVER_URL" etcd "$LCR_ETCD_URL" \
  kube-controller-manager "$LCR_KCM_PORT" kube-scheduler "$LCR_SCHEDULER_PORT" kwok "$LCR_KWOK_PORT" \
  cert-manager-metrics "$LCR_CERT_MANAGER_METRICS_PORT" cert-manager-healthz "$LCR_CERT_MANAGER_HEALTHZ_PORT" \
  trust-manager-webhook "$LCR_TRUST_MANAGER_WEBHOOK_PORT" trust-manager-metrics "$LCR_TRUST_MANAGER_METRICS_PORT" \
  trust-manager-readyz "$LCR_TRUST_MANAGER_READYZ_PORT"

probe() {
  local name=$1; shift
  if out=$("$@" 2>&1); then printf '  %-24s ok\n' "$name"; else printf '  %-24s FAIL %s\n' "$name" "${out:0:120}"; rc=1; fi
}
echo "== health"
probe kube-apiserver curl -fsS --max-time 3 --cacert "$LCR_CA_CERT" "$LCR_APISERVER_URL/readyz"
probe kube-controller-manager curl -fsSk --max-time 3 "https://127.0.0.1:$LCR_KCM_PORT/healthz"
probe kube-scheduler curl -fsSk --max-time 3 "https://127.0.0.1:$LCR_SCHEDULER_PORT/healthz"
probe kwok curl -fsS --max-time 3 "http://127.0.0.1:$LCR_KWOK_PORT/healthz"
probe cert-manager curl -fsS --max-time 3 "http://127.0.0.1:$LCR_CERT_MANAGER_HEALTHZ_PORT/readyz"
probe trust-manager curl -fsS --max-time 3 "http://127.0.0.1:$LCR_TRUST_MANAGER_READYZ_PORT/readyz"

echo "== nodes"
"$KUBECTL" --request-timeout=5s get nodes 2>&1 | sed 's/^/  /' || rc=1
echo "== CRDs"
"$KUBECTL" --request-timeout=5s get crd -o custom-columns=NAME:.metadata.name,ESTABLISHED:'.status.conditions[?(@.type=="Established")].status' 2>&1 \
  | sed 's/^/  /' || rc=1
exit $rc
