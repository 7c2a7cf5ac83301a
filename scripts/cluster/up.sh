#!/usr/bin/env bash
# Starts the project's local Kubernetes control plane as loopback-only processes:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (fake nodes),
#   cert-manager's controller and trust-manager (with their CRDs).
# Usage: up.sh [STATE_DIR]   (default: ${LCR_CLUSTER_DIR:-/tmp/lcr-cluster})
# Writes STATE_DIR/kubeconfig, STATE_DIR/env (shell-sourceable), logs/<name>.log, pids/<name>.pid.
# Idempotent: if STATE_DIR already holds a healthy cluster it only prints the summary.
# Non-interactive; on failure it stops what it started, prints the failing component's log tail
# and exits non-zero (state dir kept for inspection; remove it with down.sh).
# Env: LCR_CACHE_DIR (binary cache), LCR_NODES (fake node count, default 3),
#      LCR_UP_TIMEOUT (seconds per readiness wait, default 60),
#      KUBECTL (default: the kubectl built by build.sh, same version as the apiserver),
#      LCR_AUDIT=1 (audit log of every `secrets` request with request and response bodies in
#      STATE_DIR/logs/audit.log, JSON lines: what proves which identity received a private key;
#      default 0, the e2e suite turns it on: it costs little, only Secret requests are recorded).
#      LCR_KCM_API_QPS / LCR_KCM_API_BURST: kube-controller-manager's --kube-api-qps / --kube-api-burst
#      (default: its own, 20 / 30, which caps Deployment rollouts at about 2.5 a second; managed
#      clusters often raise them: the bench's controller-bound variant does).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"

STATE_DIR="${1:-${LCR_CLUSTER_DIR:-/tmp/lcr-cluster}}"
mkdir -p "$STATE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
NODES="${LCR_NODES:-3}"
TIMEOUT="${LCR_UP_TIMEOUT:-60}"
KUBECTL="${KUBECTL:-$LCR_BIN/kubectl-$KUBERNETES_VERSION}"  # version-matched kubectl built by build.sh
TRUST_NAMESPACE=cert-manager
start_time=$SECONDS

# ---------------------------------------------------------------- already up?
if [[ -s "$STATE_DIR/env" ]]; then
  all=1
  for c in "${LCR_COMPONENTS[@]}"; do lcr_pid_alive "$STATE_DIR/pids/$c.pid" || all=0; done
  if (( all )) && curl -fsS --max-time 3 --cacert "$STATE_DIR/pki/ca.crt" \
      "$(sed -n "s/^export LCR_APISERVER_URL='\(.*\)'$/\1/p" "$STATE_DIR/env")/readyz" >/dev/null 2>&1; then
    lcr_log "cluster in $STATE_DIR is already up"
    cat "$STATE_DIR/summary.txt" >&2 2>/dev/null || true
    exit 0
  fi
  lcr_log "stale cluster state in $STATE_DIR: starting afresh"
fi
# Processes of an earlier (possibly interrupted) run: only recorded pids running our binaries.
lcr_stop_all "$STATE_DIR" 10
rm -rf "${STATE_DIR:?}/pki" "$STATE_DIR/logs" "$STATE_DIR/pids" "$STATE_DIR/data" "$STATE_DIR/run" \
  "$STATE_DIR/env" "$STATE_DIR/kubeconfig" "$STATE_DIR/summary.txt"
mkdir -p "$STATE_DIR"/{pki,logs,pids,data,run}
PKI="$STATE_DIR/pki"; LOGS="$STATE_DIR/logs"; PIDS="$STATE_DIR/pids"; RUN="$STATE_DIR/run"

# ---------------------------------------------------------------- failure handling
current=""
on_exit() {
  local rc=$?
  if (( rc != 0 )); then
    [[ -z "${failed_reported:-}" ]] && lcr_log "up.sh failed (exit $rc)${current:+ while starting $current}"
    if [[ -n "$current" && -s "$LOGS/$current.log" && -z "${failed_reported:-}" ]]; then
      echo "----- last 40 lines of $LOGS/$current.log -----" >&2
      tail -n 40 "$LOGS/$current.log" >&2
    fi
    lcr_log "stopping the processes started so far (logs kept in $LOGS)"
    lcr_stop_all "$STATE_DIR" 5
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM HUP
fail() {
  lcr_log "FAILED${current:+ while starting $current}: $*"
  if [[ -n "$current" && -s "$LOGS/$current.log" ]]; then
    echo "----- last 40 lines of $LOGS/$current.log -----" >&2
    tail -n 40 "$LOGS/$current.log" >&2
    echo "-----" >&2
  fi
  failed_reported=1
  exit 1
}

# ---------------------------------------------------------------- binaries
"$here/build.sh" || { current=""; fail "build.sh failed"; }
bin() {
  local f
  case "$1" in
    etcd) f="$LCR_BIN/etcd-$ETCD_VERSION" ;;
    kube-*) f="$LCR_BIN/$1-$KUBERNETES_VERSION" ;;
    kwok) f="$LCR_BIN/kwok-$KWOK_VERSION" ;;
    cert-manager) f="$LCR_BIN/cert-manager-controller-$CERT_MANAGER_VERSION" ;;
    trust-manager) f="$LCR_BIN/trust-manager-$TRUST_MANAGER_VERSION" ;;
    helm) f="$LCR_BIN/helm-$HELM_VERSION" ;;
  esac
  [[ -x "$f" ]] || fail "missing binary $f"
  printf '%s' "$f"
}
command -v "$KUBECTL" >/dev/null || fail "kubectl not found: $KUBECTL (set KUBECTL)"
command -v openssl >/dev/null || fail "openssl not found"
command -v curl >/dev/null || fail "curl not found"

# ---------------------------------------------------------------- ports
# Several clusters start at once (the e2e suite runs one per jest worker, other checkouts run
# their own): each port is claimed under a lock in LCR_PORTS_DIR as a file naming this state dir,
# so two up.sh never pick the same port in the seconds before their components bind it. Ports
# come from below the kernel's ephemeral range, which outgoing connections take from meanwhile.
port_names=(ETCD_CLIENT ETCD_PEER APISERVER KCM SCHEDULER KWOK CM_METRICS CM_HEALTHZ TM_WEBHOOK TM_METRICS TM_READYZ)
exec 9>"$LCR_PORTS_DIR/.lock"
flock -w 30 9 || fail "could not lock $LCR_PORTS_DIR/.lock"
lcr_release_ports "$STATE_DIR"
for claim in "$LCR_PORTS_DIR"/[0-9]*; do
  # A claim outlives its cluster only while the state dir is kept; a removed dir frees it.
  [[ -f "$claim" && ! -d "$(<"$claim")" ]] && rm -f "$claim"
done
low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
ports=()
for (( tries = 0; ${#ports[@]} < ${#port_names[@]} && tries < 1000; tries++ )); do
  port=$(( 20000 + RANDOM % (low > 20100 ? low - 20000 : 100) ))
  [[ -e "$LCR_PORTS_DIR/$port" || " ${ports[*]} " == *" $port "* ]] && continue
  if lcr_port_bindable "$port"; then
    ports+=("$port")
    printf '%s\n' "$STATE_DIR" >"$LCR_PORTS_DIR/$port"
  fi
done
flock -u 9
exec 9>&-
(( ${#ports[@]} == ${#port_names[@]} )) || fail "could not pick free ports"
for i in "${!port_names[@]}"; do printf -v "PORT_${port_names[$i]}" '%s' "${ports[$i]}"; done
APISERVER_URL="https://127.0.0.1:$PORT_APISERVER"

# ---------------------------------------------------------------- PKI (openssl)
current=pki
exec 3>"$LOGS/pki.log"
ossl() { openssl "$@" >&3 2>&1 || fail "openssl $1 failed (see $LOGS/pki.log)"; }
# cert NAME SUBJECT EXT_USAGE [SAN]: key + cert signed by the cluster CA.
cert() {
  local name=$1 subj=$2 usage=$3 san=${4:-}
  ossl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key.tmp"
  ossl pkcs8 -topk8 -nocrypt -in "$PKI/$name.key.tmp" -out "$PKI/$name.key"
  rm -f "$PKI/$name.key.tmp"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n "$san" ]] && echo "subjectAltName=$san"
  } >"$PKI/$name.ext"
  ossl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr"
  ossl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt"
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}
ossl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca.key.tmp"
ossl pkcs8 -topk8 -nocrypt -in "$PKI/ca.key.tmp" -out "$PKI/ca.key"; rm -f "$PKI/ca.key.tmp"
ossl req -x509 -new -key "$PKI/ca.key" -subj "/CN=lcr-cluster-ca" -days 3650 -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
  -out "$PKI/ca.crt"
SERVICE_CIDR=10.96.0.0/12
cert apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert admin "/O=system:masters/CN=admin" clientAuth
cert kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
cert kube-scheduler "/CN=system:kube-scheduler" clientAuth
cert front-proxy-client "/CN=front-proxy-client" clientAuth
cert trust-manager-webhook "/CN=trust-manager-webhook" serverAuth "IP:127.0.0.1,DNS:localhost"
ossl genrsa -out "$PKI/sa.key" 2048
ossl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
mkdir -p "$RUN/trust-manager-tls"
cp "$PKI/trust-manager-webhook.crt" "$RUN/trust-manager-tls/tls.crt"
cp "$PKI/trust-manager-webhook.key" "$RUN/trust-manager-tls/tls.key"
chmod 600 "$PKI"/*.key
exec 3>&-

# kubeconfig NAME USER: writes $STATE_DIR/NAME (certificate credentials embedded by path).
kubeconfig() {
  local file=$1 user=$2
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lcr
  cluster:
    server: $APISERVER_URL
    certificate-authority: $PKI/ca.crt
users:
- name: $user
  user:
    client-certificate: $PKI/$user.crt
    client-key: $PKI/$user.key
contexts:
- name: lcr
  context:
    cluster: lcr
    user: $user
current-context: lcr
EOF
}
kubeconfig "$STATE_DIR/kubeconfig" admin
kubeconfig "$RUN/kube-controller-manager.kubeconfig" kube-controller-manager
kubeconfig "$RUN/kube-scheduler.kubeconfig" kube-scheduler
export KUBECONFIG="$STATE_DIR/kubeconfig"
k() { "$KUBECTL" --request-timeout=20s "$@"; }

# ---------------------------------------------------------------- process helpers
# start NAME ARGS...: runs the component's binary in its own session, loopback only,
# logs to logs/NAME.log, records pid (and the binary path, to guard against pid reuse).
start() {
  local name=$1; shift
  local exe; exe=$(bin "$name")
  current=$name
  printf '%s\n' "$exe" >"$PIDS/$name.exe"
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PIDS/$name.pid" "$exe" "$@" \
    </dev/null >"$LOGS/$name.log" 2>&1 &
  local i
  for i in $(seq 50); do [[ -s "$PIDS/$name.pid" ]] && break; sleep 0.1; done
  [[ -s "$PIDS/$name.pid" ]] || fail "no pid recorded"
  lcr_log "started $name (pid $(<"$PIDS/$name.pid"))"
}
# wait_until DESCRIPTION CMD...: polls CMD until it succeeds, the process dies, or TIMEOUT passes.
wait_until() {
  local what=$1; shift
  local end=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if [[ -n "$current" && -s "$PIDS/$current.pid" ]] && ! kill -0 "$(<"$PIDS/$current.pid")" 2>/dev/null; then
      fail "$current exited while waiting for: $what"
    fi
    (( SECONDS < end )) || fail "timed out after ${TIMEOUT}s waiting for: $what"
    sleep 0.3
  done
  lcr_log "ready: $what"
}
https_ok() { curl -fsS --max-time 3 --cacert "$PKI/ca.crt" "$@"; }
https_insecure_ok() { curl -fsSk --max-time 3 "$@"; }

# ---------------------------------------------------------------- etcd
start etcd --name lcr --data-dir "$STATE_DIR/data/etcd" \
  --listen-client-urls "http://127.0.0.1:$PORT_ETCD_CLIENT" --advertise-client-urls "http://127.0.0.1:$PORT_ETCD_CLIENT" \
  --listen-peer-urls "http://127.0.0.1:$PORT_ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PORT_ETCD_PEER" \
  --initial-cluster "lcr=http://127.0.0.1:$PORT_ETCD_PEER" --listen-metrics-urls "" \
  --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn
wait_until "etcd /health" curl -fsS --max-time 3 "http://127.0.0.1:$PORT_ETCD_CLIENT/health"

# ---------------------------------------------------------------- kube-apiserver
audit_args=()
if [[ "${LCR_AUDIT:-0}" == 1 ]]; then
  # Request and response bodies of Secret requests only (watch streams carry no body here); nothing else.
  cat >"$RUN/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: RequestResponse
    resources:
      - group: ""
        resources: ["secrets"]
  - level: None
POLICY
  audit_args=(--audit-policy-file "$RUN/audit-policy.yaml" --audit-log-path "$LOGS/audit.log" --audit-log-format json --audit-log-maxsize 0)
fi
start kube-apiserver \
  "${audit_args[@]}" \
  --etcd-servers "http://127.0.0.1:$PORT_ETCD_CLIENT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$PORT_APISERVER" \
  --cert-dir "$RUN/kube-apiserver" \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
  --client-ca-file "$PKI/ca.crt" \
  --requestheader-client-ca-file "$PKI/ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
  --authorization-mode Node,RBAC \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --endpoint-reconciler-type none \
  --allow-privileged=true \
  --profiling=false \
  --v=1
wait_until "kube-apiserver /readyz" https_ok "$APISERVER_URL/readyz"

# ---------------------------------------------------------------- kube-controller-manager
start kube-controller-manager \
  --kubeconfig "$RUN/kube-controller-manager.kubeconfig" \
  --authentication-kubeconfig "$RUN/kube-controller-manager.kubeconfig" \
  --authorization-kubeconfig "$RUN/kube-controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$PORT_KCM" --cert-dir "$RUN/kube-controller-manager" \
  --leader-elect=false \
  --controllers '*' \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
  --use-service-account-credentials=true \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  ${LCR_KCM_API_QPS:+--kube-api-qps "$LCR_KCM_API_QPS"} ${LCR_KCM_API_BURST:+--kube-api-burst "$LCR_KCM_API_BURST"} \
  --profiling=false \
  --v=1
wait_until "kube-controller-manager /healthz" https_insecure_ok "https://127.0.0.1:$PORT_KCM/healthz"

# ---------------------------------------------------------------- kube-scheduler
start kube-scheduler \
  --kubeconfig "$RUN/kube-scheduler.kubeconfig" \
  --authentication-kubeconfig "$RUN/kube-scheduler.kubeconfig" \
  --authorization-kubeconfig "$RUN/kube-scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$PORT_SCHEDULER" \
  --leader-elect=false \
  --profiling=false \
  --v=1
wait_until "kube-scheduler /readyz" https_insecure_ok "https://127.0.0.1:$PORT_SCHEDULER/readyz"

# ---------------------------------------------------------------- kwok + fake nodes
# An explicit (empty) config so that a developer's ~/.kwok/kwok.yaml is not picked up; with no
# Stage objects kwok uses its default node (with lease heartbeats) and pod-fast stages.
printf 'apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions: {}\n' >"$RUN/kwok.yaml"
start kwok \
  --config "$RUN/kwok.yaml" \
  --kubeconfig "$STATE_DIR/kubeconfig" \
  --node-lease-duration-seconds 40 \
  --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --cidr 10.244.0.1/16 \
  --node-ip 127.0.0.1 \
  --server-address "127.0.0.1:$PORT_KWOK"
wait_until "kwok /healthz" curl -fsS --max-time 3 "http://127.0.0.1:$PORT_KWOK/healthz"
node_names=()
for i in $(seq 1 "$NODES"); do
  node_names+=("kwok-node-$i")
  cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-$i
    topology.kubernetes.io/zone: zone-$(( (i - 1) % 3 ))
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "2000", ephemeral-storage: 1Ti}
  capacity: {cpu: "64", memory: 256Gi, pods: "2000", ephemeral-storage: 1Ti}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: fake
EOF
done >"$RUN/nodes.yaml"
k apply -f "$RUN/nodes.yaml" >/dev/null || fail "could not create fake nodes"
wait_until "$NODES fake nodes Ready" k wait --for=condition=Ready node --all --timeout=5s
wait_until "ServiceAccount default/default" k get serviceaccount default -n default

# ---------------------------------------------------------------- cert-manager
current=cert-manager
CM_CRDS="$LCR_CACHE/crds/cert-manager-$CERT_MANAGER_VERSION/crds.yaml"
TM_CRDS="$LCR_CACHE/crds/trust-manager-$TRUST_MANAGER_VERSION/crds.yaml"
k apply --server-side --force-conflicts -f "$CM_CRDS" >"$LOGS/crds.log" 2>&1 || { current=crds; fail "applying cert-manager CRDs"; }
k apply --server-side --force-conflicts -f "$TM_CRDS" >>"$LOGS/crds.log" 2>&1 || { current=crds; fail "applying trust-manager CRDs"; }
k create namespace "$TRUST_NAMESPACE" >/dev/null 2>&1 || true
wait_until "CRDs established" k wait --for=condition=Established --timeout=5s \
  crd/certificates.cert-manager.io crd/certificaterequests.cert-manager.io crd/issuers.cert-manager.io \
  crd/clusterissuers.cert-manager.io crd/bundles.trust.cert-manager.io
start cert-manager \
  --kubeconfig "$STATE_DIR/kubeconfig" \
  --leader-elect=false \
  --cluster-resource-namespace "$TRUST_NAMESPACE" \
  --metrics-listen-address "127.0.0.1:$PORT_CM_METRICS" \
  --healthz-listen-address "127.0.0.1:$PORT_CM_HEALTHZ" \
  --v=2
wait_until "cert-manager /readyz" curl -fsS --max-time 3 "http://127.0.0.1:$PORT_CM_HEALTHZ/readyz"

# ---------------------------------------------------------------- trust-manager
start trust-manager \
  --kubeconfig "$STATE_DIR/kubeconfig" \
  --leader-elect=false \
  --trust-namespace "$TRUST_NAMESPACE" \
  --bind-host 127.0.0.1 \
  --webhook-host 127.0.0.1 --webhook-port "$PORT_TM_WEBHOOK" --webhook-certificate-dir "$RUN/trust-manager-tls" \
  --metrics-port "$PORT_TM_METRICS" \
  --readiness-probe-port "$PORT_TM_READYZ" \
  --log-level 2
wait_until "trust-manager /readyz" curl -fsS --max-time 3 "http://127.0.0.1:$PORT_TM_READYZ/readyz"
# The chart's ValidatingWebhookConfiguration, pointed at the loopback webhook by URL.
cat >"$RUN/trust-manager-webhook.yaml" <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: trust-manager
webhooks:
- name: trust.cert-manager.io
  rules:
  - apiGroups: ["trust.cert-manager.io"]
    apiVersions: ["v1alpha1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["bundles"]
  admissionReviewVersions: ["v1"]
  timeoutSeconds: 5
  failurePolicy: Fail
  sideEffects: None
  clientConfig:
    url: https://127.0.0.1:$PORT_TM_WEBHOOK/validate-trust-cert-manager-io-v1alpha1-bundle
    caBundle: $(base64 -w0 <"$PKI/ca.crt")
EOF
k apply -f "$RUN/trust-manager-webhook.yaml" >/dev/null || fail "registering trust-manager's webhook"
current=""

# ---------------------------------------------------------------- env + summary
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
{
  echo "# Generated by scripts/cluster/up.sh; source it: . $STATE_DIR/env"
  echo "export LCR_CLUSTER_DIR=$(q "$STATE_DIR")"
  echo "export KUBECONFIG=$(q "$STATE_DIR/kubeconfig")"
  echo "export LCR_KUBECONFIG=$(q "$STATE_DIR/kubeconfig")"
  echo "export LCR_APISERVER_URL=$(q "$APISERVER_URL")"
  echo "export LCR_APISERVER_PORT=$(q "$PORT_APISERVER")"
  echo "export LCR_ETCD_URL=$(q "http://127.0.0.1:$PORT_ETCD_CLIENT")"
  echo "export LCR_CA_CERT=$(q "$PKI/ca.crt")"
  echo "export LCR_AUDIT_LOG=$(q "$([[ "${LCR_AUDIT:-0}" == 1 ]] && echo "$LOGS/audit.log")")"
  echo "export LCR_CA_KEY=$(q "$PKI/ca.key")"
  echo "export LCR_ADMIN_CERT=$(q "$PKI/admin.crt")"
  echo "export LCR_ADMIN_KEY=$(q "$PKI/admin.key")"
  echo "export LCR_KCM_PORT=$(q "$PORT_KCM")"
  echo "export LCR_SCHEDULER_PORT=$(q "$PORT_SCHEDULER")"
  echo "export LCR_KWOK_PORT=$(q "$PORT_KWOK")"
  echo "export LCR_CERT_MANAGER_METRICS_PORT=$(q "$PORT_CM_METRICS")"
  echo "export LCR_CERT_MANAGER_HEALTHZ_PORT=$(q "$PORT_CM_HEALTHZ")"
  echo "export LCR_TRUST_MANAGER_WEBHOOK_PORT=$(q "$PORT_TM_WEBHOOK")"
  echo "export LCR_TRUST_MANAGER_METRICS_PORT=$(q "$PORT_TM_METRICS")"
  echo "export LCR_TRUST_MANAGER_READYZ_PORT=$(q "$PORT_TM_READYZ")"
  echo "export LCR_TRUST_NAMESPACE=$(q "$TRUST_NAMESPACE")"
  echo "export LCR_NODES=$(q "${node_names[*]}")"
  echo "export LCR_BIN_DIR=$(q "$LCR_BIN")"
  echo "export LCR_HELM=$(q "$LCR_BIN/helm-$HELM_VERSION")"
  echo "export LCR_PROMQL_EVAL=$(q "$LCR_BIN/promql-eval-$PROMETHEUS_VERSION")"
  echo "export LCR_KUBECTL=$(q "$(command -v "$KUBECTL")")"
  echo "export LCR_KUBERNETES_VERSION=$(q "$KUBERNETES_VERSION")"
  echo "export LCR_CERT_MANAGER_VERSION=$(q "$CERT_MANAGER_VERSION")"
  echo "export LCR_TRUST_MANAGER_VERSION=$(q "$TRUST_MANAGER_VERSION")"
} >"$STATE_DIR/env.tmp"
mv "$STATE_DIR/env.tmp" "$STATE_DIR/env"

{
  echo "local cluster up in $((SECONDS - start_time))s (state: $STATE_DIR)"
  echo "  kubernetes $KUBERNETES_VERSION  etcd $ETCD_VERSION  kwok $KWOK_VERSION"
  echo "  cert-manager $CERT_MANAGER_VERSION  trust-manager $TRUST_MANAGER_VERSION (trust namespace $TRUST_NAMESPACE)"
  echo "  apiserver $APISERVER_URL   nodes: ${node_names[*]}"
  for c in "${LCR_COMPONENTS[@]}"; do printf '  %-24s pid %-8s log %s\n' "$c" "$(<"$PIDS/$c.pid")" "$LOGS/$c.log"; done
  echo "  use it:  export KUBECONFIG=$STATE_DIR/kubeconfig   (or: . $STATE_DIR/env)"
  echo "  stop it: $here/down.sh $STATE_DIR"
} >"$STATE_DIR/summary.txt"
cat "$STATE_DIR/summary.txt" >&2
