#!/usr/bin/env bash
# Static checks of the Helm chart in chart/: helm lint and helm template with the default values and
# with every values file under chart/ci/, a few assertions on what gets rendered (RBAC scope, env),
# and proof that the schema and the templates' `fail` calls reject bad values.
#
# Usage:
#   scripts/chart-check.sh               run every check
#   scripts/chart-check.sh --print-helm  print the path of the helm binary (building it if needed) and exit
#   scripts/chart-check.sh --print-kube-version  print the Kubernetes version of offline renderings and exit
# Environment:
#   OUT=FILE         also write the manifests rendered from the default values (or OUT_VALUES) to FILE,
#                    e.g. for a server-side dry run against an apiserver
#   OUT_VALUES=FILE  values file for the OUT rendering (default: none, i.e. the chart's defaults)
#   RELEASE=NAME     release name used for rendering (default: lcr)
#   NAMESPACE=NS     release namespace used for rendering (default: linkerd-cert-rotator)
#   HELM=PATH        helm binary to use
#   KUBE_VERSION=V   Kubernetes version of offline renderings (default: KUBERNETES_VERSION of versions.env)
#   LCR_CACHE_DIR    cache of built binaries (default: ~/.cache/linkerd-cert-rotator)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chart="$root/chart"
cache="${LCR_CACHE_DIR:-$HOME/.cache/linkerd-cert-rotator}"
release="${RELEASE:-lcr}"
namespace="${NAMESPACE:-linkerd-cert-rotator}"

log() { printf '[chart-check] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# find_helm: $HELM, then the newest helm-v3.* in the cache (built by scripts/cluster/build.sh), then
# helm on PATH; otherwise build the version pinned in scripts/cluster/versions.env into the cache.
find_helm() {
  if [[ -n "${HELM:-}" ]]; then echo "$HELM"; return; fi
  local cached
  cached="$(find "$cache/bin" -maxdepth 1 -name 'helm-v3.*' -type f -perm -u+x 2>/dev/null | sort -V | tail -n 1)"
  if [[ -n "$cached" ]]; then echo "$cached"; return; fi
  if command -v helm >/dev/null 2>&1; then command -v helm; return; fi
  local version=""
  if [[ -f "$root/scripts/cluster/versions.env" ]]; then
    version="$(sed -n 's/^HELM_VERSION=//p' "$root/scripts/cluster/versions.env")"
  fi
  if [[ -z "$version" ]]; then
    # The newest v3 release the Go module proxy serves.
    version="$(cd /tmp && go list -m -versions helm.sh/helm/v3 | tr ' ' '\n' | grep -E '^v3\.[0-9]+\.[0-9]+$' | sort -V | tail -n 1)"
  fi
  log "no helm found; building helm $version with go install (a few minutes) ..."
  local gobin
  mkdir -p "$cache/bin" "$cache/tmp"
  gobin="$(mktemp -d "$cache/tmp/gobin.XXXXXX")"
  (cd "$cache/tmp" && CGO_ENABLED=0 GOBIN="$gobin" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$version" "helm.sh/helm/v3/cmd/helm@$version") >&2
  mv "$gobin/helm" "$cache/bin/helm-$version"
  rmdir "$gobin"
  echo "$cache/bin/helm-$version"
}

# Offline, helm assumes a Kubernetes version: its own release builds take it from their client-go, but a
# helm built with `go install` (scripts/cluster/build.sh, find_helm) says v1.20.0, which the chart's
# kubeVersion refuses. Render for the version the local cluster runs (scripts/cluster/versions.env).
kube_version="${KUBE_VERSION:-$(sed -n 's/^KUBERNETES_VERSION=//p' "$root/scripts/cluster/versions.env" 2>/dev/null)}"
kube_version="${kube_version:-v1.35.0}"
if [[ "${1:-}" == "--print-kube-version" ]]; then echo "$kube_version"; exit 0; fi
helm="$(find_helm)"
if [[ "${1:-}" == "--print-helm" ]]; then echo "$helm"; exit 0; fi
log "helm: $helm ($("$helm" version --short 2>/dev/null))"

# Temporary paths, removed on exit (also on failure).
cleanup=()
trap 'rm -rf "${cleanup[@]}"; rmdir "$root/node_modules/.cache" 2>/dev/null || true' EXIT

checks=0
pass() { checks=$((checks + 1)); log "ok   $*"; }

render() { "$helm" template "$release" "$chart" --namespace "$namespace" --kube-version "$kube_version" "$@"; }

# expect_in TEXT PATTERN WHAT / expect_not_in: grep-based assertions on a rendering.
expect_in() { grep -qE -- "$2" <<<"$1" || die "$3: expected /$2/ in the rendering"; pass "$3"; }
expect_not_in() { ! grep -qE -- "$2" <<<"$1" || die "$3: did not expect /$2/ in the rendering"; pass "$3"; }

# reject WHAT MESSAGE_PATTERN HELM_ARGS...: rendering must fail, and for the expected reason.
reject() {
  local what=$1 pattern=$2; shift 2
  local output
  if output="$(render "$@" 2>&1)"; then
    die "$what: accepted, but must be rejected (helm template ${*})"
  fi
  grep -qE -- "$pattern" <<<"$output" || die "$what: rejected for another reason than /$pattern/: $output"
  pass "$what is rejected ($(grep -m1 -oE -- "$pattern" <<<"$output"))"
}

# 1. Lint and render with the defaults and with every CI values file.
value_sets=("")
for file in "$chart"/ci/*.yaml; do [[ -e "$file" ]] && value_sets+=("$file"); done
for file in "${value_sets[@]}"; do
  args=(); label="default values"
  if [[ -n "$file" ]]; then args=(--values "$file"); label="${file#"$root"/}"; fi
  "$helm" lint --strict "$chart" --namespace "$namespace" --kube-version "$kube_version" "${args[@]}" >/dev/null || { "$helm" lint --strict "$chart" --kube-version "$kube_version" "${args[@]}"; die "helm lint ($label)"; }
  pass "helm lint --strict ($label)"
  manifests="$(render "${args[@]}" --api-versions admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy)" || die "helm template ($label)"
  pass "helm template ($label): $(grep -c '^kind:' <<<"$manifests") objects ($(grep '^kind:' <<<"$manifests" | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $3; sep=", "}'))"
done

# 2. What the defaults render.
defaults="$(render)"
cluster_role="$(render --show-only templates/clusterrole.yaml)"
expect_in "$cluster_role" '"deployments", "statefulsets", "daemonsets"' "defaults: ClusterRole may restart workloads cluster-wide"
expect_in "$(grep -A1 '"deployments", "statefulsets", "daemonsets"' <<<"$cluster_role")" 'verbs: \["get", "list", "watch", "patch"\]$' "defaults: workloads are read, watched (rollout status) and patched (restarts)"
expect_in "$(render --set rotator.watchRollouts=false --show-only templates/clusterrole.yaml | grep -A1 '"deployments", "statefulsets", "daemonsets"')" \
  'verbs: \["get", "list", "patch"\]$' "watchRollouts=false: no watch permission"
expect_in "$(grep -A1 'resources: \["pods"\]' <<<"$cluster_role")" 'verbs: \["list"\]$' "defaults: pods are only listed cluster-wide (deleteStalePods=false; get only in the release namespace)"
expect_in "$(render --show-only templates/role-release.yaml | grep -A1 'resources: \["pods"\]')" 'verbs: \["get"\]$' "defaults: the run's own pod (and a lock holder's) is read in the release namespace"
expect_in "$(render --set rotator.deleteStalePods=true --show-only templates/clusterrole.yaml | grep -A1 'resources: \["pods/eviction"\]')" \
  'verbs: \["create"\]$' "deleteStalePods=true: pods may be evicted (PodDisruptionBudgets respected)"
expect_not_in "$(render --set rotator.deleteStalePods=true --show-only templates/clusterrole.yaml)" '"delete"' "deleteStalePods=true: still no delete of pods"
expect_not_in "$cluster_role" 'pods/eviction' "defaults: no eviction (deleteStalePods=false)"
expect_not_in "$cluster_role" '"delete"' "defaults: ClusterRole grants no delete"
expect_not_in "$defaults" 'kind: (Certificate|Issuer|ClusterIssuer|Bundle)$' "defaults: no cert-manager objects (certificates.create=false)"
expect_in "$defaults" 'linkerd.io/inject: disabled' "defaults: pod opts out of the mesh"
expect_in "$defaults" 'name: LCR_CONCURRENCY' "defaults: rotator options are rendered as LCR_* env"
expect_not_in "$defaults" 'name: LCR_INCLUDE_NAMESPACES' "defaults: no include list (every meshed namespace)"
expect_in "$defaults" 'readOnlyRootFilesystem: true' "defaults: read-only root filesystem"
expect_in "$defaults" 'value: "--max-old-space-size=128"' "defaults: heap capped below the memory limit (NODE_OPTIONS)"
[ "$(render --set 'extraEnv[0].name=NODE_OPTIONS' --set 'extraEnv[0].value=--max-old-space-size=300' --show-only templates/cronjob.yaml | grep -c 'name: NODE_OPTIONS')" = 1 ] || die "an extraEnv NODE_OPTIONS must replace the chart's own"
pass "an extraEnv NODE_OPTIONS replaces the chart's own (no duplicate env)"
expect_not_in "$defaults" 'kind: PrometheusRule' "defaults: no PrometheusRule (prometheusRule.enabled=false)"
rule="$(render --set prometheusRule.enabled=true --set prometheusRule.anchorExpiryDays=45 --show-only templates/prometheusrule.yaml)"
expect_in "$rule" 'role="anchor"\}\) - time\(\) < 45 \* 86400' "prometheusRule: anchor expiry alert uses the configured window"
expect_in "$rule" 'alert: LinkerdCertRotation(Failed|Overdue)' "prometheusRule: failed and overdue rotation alerts"
expect_in "$rule" 'summary: "The last linkerd-cert-rotator \{\{ \$labels.command \}\} run failed' "prometheusRule: Prometheus templates survive Helm rendering"
# Every alert links its own section of docs/runbook.md (a heading named after the alert, as GitHub makes anchors).
alerts="$(sed -n 's/^ *- alert: //p' <<<"$rule")"
[ "$(grep -c . <<<"$alerts")" = "$(grep -c '^ *description: "' <<<"$rule")" ] || die "prometheusRule: every alert needs a description annotation"
for alert in $alerts; do
  anchor_of="$(tr '[:upper:]' '[:lower:]' <<<"$alert")"
  grep -q "runbook_url: \"https://[^\"]*/docs/runbook.md#$anchor_of\"" <<<"$rule" || die "prometheusRule: $alert has no runbook_url to docs/runbook.md#$anchor_of"
  grep -qx "### $alert" "$root/docs/runbook.md" || die "docs/runbook.md has no section '### $alert' for the alert's runbook_url"
done
pass "prometheusRule: every alert has a description and a runbook_url to its own section of docs/runbook.md"
expect_in "$(render --set prometheusRule.enabled=true --set prometheusRule.runbookBaseUrl=https://wiki.example.com/lcr/ --show-only templates/prometheusrule.yaml)" 'runbook_url: "https://wiki.example.com/lcr#linkerdcertrotatornotrunning"' "prometheusRule: runbookBaseUrl sets the runbook links"
expect_in "$defaults" 'image: "linkerd-cert-rotator:[0-9]' "defaults: image tag defaults to appVersion"
expect_in "$defaults" 'schedule: "17 \* \* \* \*"' "defaults: hourly schedule (an unfinished rotation resumes within the hour)"
expect_in "$defaults" 'startingDeadlineSeconds: 1800$' "defaults: a missed run starts at most half an hour late"
expect_in "$(grep -A1 'name: LCR_SOFT_EXITS' <<<"$defaults")" 'value: "true"' "defaults: soft exits (gate not met, lock held) for scheduled runs"
expect_not_in "$(render --set job.softExits=false)" 'LCR_SOFT_EXITS' "job.softExits=false: real exit codes"
# The helm test hook: `status` as the release's ServiceAccount, hardened as the CronJob's pod
# (test/unit/chart/test-hook.test.ts compares the two pods whole).
hook="$(render --show-only templates/tests/pod-status.yaml)"
expect_in "$hook" '^    helm.sh/hook: test$' "helm test: a test hook Pod (tests.enabled)"
expect_in "$(grep -A1 '^      args:$' <<<"$hook")" '^        - "status"$' "helm test: the Pod runs status"
expect_in "$hook" "^  serviceAccountName: $release-linkerd-cert-rotator\$" "helm test: as the release's ServiceAccount"
expect_in "$hook" 'linkerd.io/inject: disabled' "helm test: the Pod opts out of the mesh"
expect_in "$hook" 'readOnlyRootFilesystem: true' "helm test: the container's hardened securityContext"
expect_in "$hook" 'terminationMessagePolicy: FallbackToLogsOnError' "helm test: a failure's log is the termination message"
expect_in "$(render --show-only templates/cronjob.yaml)" 'terminationMessagePolicy: FallbackToLogsOnError' "CronJob: a failure's log is the termination message"
expect_not_in "$(render --set tests.enabled=false)" 'helm.sh/hook: test' "tests.enabled=false: no test Pod"
expect_not_in "$(render --values "$chart/ci/peer-values.yaml")" 'helm.sh/hook: test' "peerAccess: no test Pod (no run in a peer)"
# kubeVersion: the admission policies' API (admissionregistration.k8s.io/v1) is GA since 1.30.
reject "Kubernetes 1.29 (kubeVersion)" "incompatible with Kubernetes v1.29" --kube-version v1.29.9
render --kube-version v1.30.2-gke.1000 >/dev/null || die "kubeVersion: a 1.30 managed cluster's version must be accepted"
pass "kubeVersion: 1.30 with a vendor suffix is accepted"
trust_role="$(render --show-only templates/role-trust.yaml)"
expect_not_in "$(grep -A1 'resources: \["secrets"\]' <<<"$trust_role")" '"create"|"delete"' "defaults: no create or delete in the trust namespace (the previous-anchor Secret is updated in place)"
expect_in "$(grep -B1 -A2 '"get", "update"\]' <<<"$trust_role")" 'resourceNames: \["linkerd-previous-anchor"\]' "defaults: the previous-anchor Secret is written by name only"
# No read of a Secret that holds a private key: certificates come from CertificateRequests (list, no key in them).
linkerd_role="$(render --show-only templates/role-linkerd.yaml)"
expect_not_in "$(grep -A3 'resources: \["secrets"\]' <<<"$trust_role")" 'resourceNames: \["linkerd-trust-anchor"\]' "defaults: no read of the anchor Secret (it holds the anchor's key)"
expect_not_in "$linkerd_role" 'resources: \["secrets"\]' "defaults: no read of the issuer Secret (it holds the issuer's key)"
for role in "$trust_role" "$linkerd_role"; do
  expect_in "$(grep -A1 'resources: \["certificaterequests"\]' <<<"$role")" 'verbs: \["list"\]$' "defaults: CertificateRequests listed in $(sed -n 's/^  namespace: //p' <<<"$role" | head -n 1)"
done
keyed="$(render --set rotator.readKeySecrets=true --show-only templates/role-trust.yaml --show-only templates/role-linkerd.yaml)"
expect_in "$(grep -A3 'resources: \["secrets"\]' <<<"$keyed" | grep -B1 'linkerd-trust-anchor')" 'verbs: \["get"\]' "readKeySecrets=true: get on the anchor Secret, by name"
expect_in "$(grep -A3 'resources: \["secrets"\]' <<<"$keyed" | grep -B1 'linkerd-identity-issuer')" 'verbs: \["get"\]' "readKeySecrets=true: get on the issuer Secret, by name"
expect_in "$(render --set rotator.readKeySecrets=true --show-only templates/cronjob.yaml | grep -A1 'name: LCR_READ_KEY_SECRETS')" 'value: "true"' "readKeySecrets=true: the rotator is told (LCR_READ_KEY_SECRETS)"
# Grants the code never uses stay out (verbs compared with the calls of src/kube/client.ts and src/unattended/kube.ts).
every_role="$(render --show-only templates/clusterrole.yaml --show-only templates/role-trust.yaml --show-only templates/role-linkerd.yaml --show-only templates/role-release.yaml --show-only templates/role-lock.yaml)"
expect_not_in "$(grep -v '"deployments", "statefulsets", "daemonsets"' <<<"$every_role" | grep -A1 'resources:' | grep 'verbs:')" '"patch"' "defaults: no patch but of workloads (status, Secrets and Events are written whole or created)"
expect_not_in "$(grep -A1 'resources: \["namespaces"\]' <<<"$every_role")" '"get"' "defaults: namespaces are only listed"
expect_not_in "$every_role" '"batch"' "defaults: no read of Jobs (the Events' Job comes from the pod's owner)"

# The admission policies: rendered where the API is served (helm template offline: --api-versions) and on.
vap=(--api-versions admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy)
policies="$(render "${vap[@]}")"
[[ "$(grep -c '^kind: ValidatingAdmissionPolicy$' <<<"$policies")" == 2 && "$(grep -c '^kind: ValidatingAdmissionPolicyBinding$' <<<"$policies")" == 2 ]] ||
  die "admissionPolicy: expected 2 ValidatingAdmissionPolicies and 2 bindings where the API is served"
pass "admissionPolicy: two policies (workloads, previous-anchor Secret) and their bindings where the API is served"
expect_in "$policies" "expression: request.userInfo.username == \"system:serviceaccount:$namespace:$release-linkerd-cert-rotator\"\$" "admissionPolicy: matched on the rotator's ServiceAccount"
expect_in "$(render "${vap[@]}" --set serviceAccount.name=rot --show-only templates/admissionpolicy-workloads.yaml)" "username == \"system:serviceaccount:$namespace:rot\"" "admissionPolicy: follows serviceAccount.name"
[[ "$(grep -c '^  failurePolicy: Fail$' <<<"$policies")" == 2 && "$(grep -c '^  validationActions: \[Deny\]$' <<<"$policies")" == 2 ]] || die "admissionPolicy: failurePolicy Fail and validationActions Deny"
pass "admissionPolicy: failurePolicy Fail, validationActions [Deny]"
expect_in "$(render "${vap[@]}" --set rotator.trustNamespace=trust --set rotator.previousAnchorSecret=prev --show-only templates/admissionpolicy-previous-anchor.yaml)" \
  'request.namespace == "trust" && request.name == "prev"' "admissionPolicy: the one writable Secret follows the values"
expect_not_in "$(render)" 'kind: ValidatingAdmissionPolicy' "admissionPolicy: not rendered where the API is not served"
expect_not_in "$(render "${vap[@]}" --set admissionPolicy.enabled=false)" 'kind: ValidatingAdmissionPolicy' "admissionPolicy.enabled=false: no policy"
expect_not_in "$(render "${vap[@]}" --values "$chart/ci/restricted-values.yaml")" 'kind: ValidatingAdmissionPolicy' "chart/ci/restricted-values.yaml: admissionPolicy off"

# Multicluster, shared anchor (docs/multicluster.md): the primary lists its peers, each peer installs peerAccess.
primary=(--values "$chart/ci/multicluster-values.yaml")
peer=(--values "$chart/ci/peer-values.yaml")
primary_trust="$(render "${primary[@]}" --show-only templates/role-trust.yaml)"
expect_in "$(grep -B1 -A2 'resources: \["secrets"\]' <<<"$primary_trust" | grep -A1 'verbs: \["get"\]$')" 'resourceNames: \["linkerd-trust-anchor"\]' \
  "multicluster primary: get on the anchor Secret (the key it copies into the peers), by name"
expect_not_in "$(grep -A1 'verbs: \["get", "update"\]' <<<"$primary_trust")" 'linkerd-trust-anchor' "multicluster primary: the anchor Secret is read, never written"
[[ "$(grep -c 'resources: \["secrets"\]' <<<"$primary_trust")" == 2 ]] || die "multicluster primary: expected the anchor Secret get and the previous-anchor rule, nothing more on Secrets"
pass "multicluster primary: no Secret grant but the anchor get and the previous-anchor rule"
primary_cron="$(render "${primary[@]}" --show-only templates/cronjob.yaml)"
expect_in "$(grep -A1 'name: LCR_PEERS$' <<<"$primary_cron")" 'value: "west,north=north-admin"$' "multicluster primary: LCR_PEERS lists NAME or NAME=CONTEXT"
expect_in "$(grep -A1 'name: LCR_PEER_KUBECONFIG$' <<<"$primary_cron")" 'value: "/etc/linkerd-cert-rotator/peers/west/kubeconfig:/etc/linkerd-cert-rotator/peers/north/kubeconfig"$' \
  "multicluster primary: LCR_PEER_KUBECONFIG lists each peer's file, colon-separated"
[[ "$(grep -c 'name: LCR_CLUSTER_NAME$' <<<"$primary_cron")" == 1 ]] && expect_in "$(grep -A1 'name: LCR_CLUSTER_NAME$' <<<"$primary_cron")" 'value: "east"$' "multicluster primary: LCR_CLUSTER_NAME once, from rotator.clusterName"
expect_in "$(grep -A6 -- '- name: peer-west$' <<<"$primary_cron" | tail -n 5 | tr -s ' \n' ' ')" 'secretName: lcr-peer-west defaultMode: 256 # 0400 items: - key: kubeconfig path: kubeconfig' \
  "multicluster primary: peer west's Secret on its own volume, mode 0400, one key"
expect_in "$(grep -A6 -- '- name: peer-north$' <<<"$primary_cron" | tr -s ' \n' ' ')" 'secretName: lcr-peer-north defaultMode: 256 # 0400 items: - key: config path: kubeconfig' \
  "multicluster primary: a peer's own Secret key (multicluster.peers[].key)"
[[ "$(grep -A2 -E -- '- name: peer-(west|north)$' <<<"$primary_cron" | grep -c 'readOnly: true')" == 2 ]] || die "multicluster primary: both peer mounts read-only"
pass "multicluster primary: each peer's kubeconfig mounted read-only"
expect_in "$primary_cron" '^            fsGroup: 65532$' "multicluster primary: the pod's fsGroup makes the root-owned 0400 files readable by the rotator's group"
expect_in "$(render "${primary[@]}" --set podSecurityContext.fsGroup=2000 --show-only templates/cronjob.yaml)" '^            fsGroup: 2000$' "multicluster primary: a podSecurityContext.fsGroup of the user's is kept"
expect_not_in "$defaults" 'LCR_PEER|fsGroup|/etc/linkerd-cert-rotator/peers' "defaults: no peers, no peer env, volumes or fsGroup"
expect_not_in "$(render "${primary[@]}" "${vap[@]}")" 'name: .*-anchor-copy$' "multicluster primary: no anchor-copy policy (the primary's anchor is cert-manager's)"

peer_all="$(render "${peer[@]}" "${vap[@]}")"
expect_not_in "$peer_all" '^kind: (CronJob|Job)$' "peerAccess: no CronJob (the primary's rotator drives the peer)"
expect_not_in "$peer_all" "name: $release-linkerd-cert-rotator-(run|lock)\$" "peerAccess: no Role for a run's pod or the lock (no run in the peer)"
expect_not_in "$peer_all" '"events.k8s.io"' "peerAccess: no Events"
peer_trust="$(render "${peer[@]}" --show-only templates/role-trust.yaml)"
expect_not_in "$peer_trust" 'certificates/status' "peerAccess: no renewal in the trust namespace (the peer has no anchor Certificate)"
expect_in "$(grep -A2 'resources: \["certificates"\]' <<<"$peer_trust")" 'resourceNames: \["linkerd-trust-anchor"\]' "peerAccess: get on the anchor Certificate's name (sees that the peer has none)"
expect_in "$(grep -A2 'resources: \["secrets"\]' <<<"$peer_trust" | grep -A1 'verbs: \["get", "update"\]' | tr -d '\n')" 'verbs: \["get", "update"\].*resourceNames: \["linkerd-trust-anchor"\]' \
  "peerAccess: get and update of the anchor copy, by name"
expect_in "$(grep -A1 'resources: \["certificates/status"\]' <<<"$(render "${peer[@]}" --show-only templates/role-linkerd.yaml)" ; grep -A3 'resources: \["certificates/status"\]' <<<"$(render "${peer[@]}" --show-only templates/role-linkerd.yaml)")" \
  'resourceNames: \["linkerd-identity-issuer"\]' "peerAccess: the issuer's renewal, by name"
expect_not_in "$(grep -A1 'resources:' <<<"$peer_all" | grep 'verbs:')" '"create"|"delete"|"deletecollection"' "peerAccess: no create or delete of anything"
expect_not_in "$peer_all" 'name: linkerd-trust-root-issuer$|kind: Issuer$' "peerAccess + certificates.create: no self-signed root Issuer"
expect_not_in "$(grep -B1 -A3 '^kind: Certificate$' <<<"$peer_all")" 'name: linkerd-trust-anchor$' "peerAccess + certificates.create: no anchor Certificate (the anchor is the primary's copy)"
expect_in "$(render "${peer[@]}" --show-only templates/clusterissuer-identity.yaml)" 'secretName: linkerd-trust-anchor$' "peerAccess + certificates.create: the CA ClusterIssuer signs with the anchor copy"
token_secret="$(render "${peer[@]}" --show-only templates/secret-peer-token.yaml)"
expect_in "$token_secret" '^type: kubernetes.io/service-account-token$' "peerAccess: a long-lived token Secret (peerAccess.tokenSecret)"
expect_in "$token_secret" "kubernetes.io/service-account.name: \"$release-linkerd-cert-rotator\"\$" "peerAccess: the token is the chart's own ServiceAccount's"
expect_not_in "$token_secret" '^(data|stringData):' "peerAccess: the token Secret has no data (the token controller fills it in)"
expect_not_in "$(render "${peer[@]}" --set peerAccess.tokenSecret=false)" 'service-account-token' "peerAccess.tokenSecret=false: no token Secret (kubectl create token instead)"
[[ "$(grep -c '^kind: ValidatingAdmissionPolicy$' <<<"$peer_all")" == 3 && "$(grep -c '^kind: ValidatingAdmissionPolicyBinding$' <<<"$peer_all")" == 3 ]] ||
  die "peerAccess: expected 3 admission policies (workloads, previous anchor, anchor copy) and their bindings"
pass "peerAccess: three admission policies (workloads, previous anchor, anchor copy) and their bindings"
anchor_copy="$(render "${peer[@]}" "${vap[@]}" --show-only templates/admissionpolicy-anchor-copy.yaml)"
expect_in "$anchor_copy" "username == \"system:serviceaccount:$namespace:$release-linkerd-cert-rotator\"\$" "anchor-copy policy: matched on the rotator's ServiceAccount"
expect_in "$anchor_copy" 'resourceNames: \["linkerd-trust-anchor"\]' "anchor-copy policy: on the anchor copy's name"
expect_in "$anchor_copy" "== 'kubernetes.io/tls'\$" "anchor-copy policy: the type stays kubernetes.io/tls"
expect_in "$anchor_copy" "keys\\.all\\(k, k in variables\\.data && size\\(variables\\.data\\[k\\]\\) > 0\\)" "anchor-copy policy: tls.crt, tls.key and ca.crt all non-empty"
expect_in "$(render "${peer[@]}" "${vap[@]}" --show-only templates/admissionpolicy-previous-anchor.yaml)" \
  'request.namespace == "cert-manager" && request.name == "linkerd-trust-anchor"' "peerAccess: the previous-anchor policy lets the anchor copy through to its own policy"
expect_in "$(render "${vap[@]}" --show-only templates/admissionpolicy-previous-anchor.yaml | grep -A4 'name: isAnchorCopy')" 'expression: "false"' "defaults: no Secret but the previous anchor is writable"

# Every rule on Secrets, in every mode, is limited by name.
for mode in "defaults:" "readKeySecrets:--set:rotator.readKeySecrets=true" "multicluster primary:--values:$chart/ci/multicluster-values.yaml" \
  "peerAccess:--values:$chart/ci/peer-values.yaml" "peerAccess + readKeySecrets:--values:$chart/ci/peer-values.yaml:--set:rotator.readKeySecrets=true" \
  "restricted:--values:$chart/ci/restricted-values.yaml"; do
  IFS=: read -r -a mode_args <<<"${mode#*:}"
  unnamed="$(render "${mode_args[@]}" | awk '
    /^  - apiGroups:/ { if (secrets && !named) bad++; secrets = 0; named = 0 }
    /^    resources: \[.*"secrets"/ { secrets = 1 }
    /^    resourceNames: \[/ { named = 1 }
    /^(---|kind:)/ { if (secrets && !named) bad++; secrets = 0; named = 0 }
    END { if (secrets && !named) bad++; print bad + 0 }')"
  [[ "$unnamed" == 0 ]] || die "${mode%%:*}: $unnamed rule(s) on Secrets without resourceNames"
  pass "${mode%%:*}: every rule on Secrets has resourceNames"
done

# The rotator block must carry every CLI option with the CLI's own default: compare the LCR_* env
# rendered from the default values with src/options/table.ts (transpiled on the fly, with the local
# modules it imports, so unrelated compile errors elsewhere in src/ do not matter).
if [[ -f "$root/src/options/table.ts" && -d "$root/node_modules/typescript" ]]; then
  # Under node_modules so that bare imports, if any, resolve to the project's packages.
  options_out="$root/node_modules/.cache/chart-check-$$"
  cleanup+=("$options_out")
  mkdir -p "$options_out"
  printf '%s\n' "$defaults" >"$options_out/rendered.yaml"
  # shellcheck disable=SC2016 # the JavaScript below is meant literally
  env_check="$(cd "$root" && OPTIONS_OUT="$options_out" node --input-type=module -e '
    import fs from "node:fs";
    import path from "node:path";
    const ts = (await import("typescript")).default;
    const out = process.env.OPTIONS_OUT;
    const queue = ["options/table.ts"];
    const seen = new Set();
    while (queue.length) {
      const rel = queue.pop();
      if (seen.has(rel)) continue;
      seen.add(rel);
      const text = fs.readFileSync(path.join("src", rel), "utf8");
      for (const m of text.matchAll(/from\s+["\x27](\.{1,2}\/[^"\x27]+)\.js["\x27]/g)) {
        if (!/import\s+type\s/.test(text.slice(text.lastIndexOf("\n", m.index) + 1, m.index + m[0].length))) {
          queue.push(path.normalize(path.join(path.dirname(rel), m[1] + ".ts")));
        }
      }
      const js = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      fs.mkdirSync(path.join(out, path.dirname(rel)), { recursive: true });
      fs.writeFileSync(path.join(out, rel.replace(/\.ts$/, ".js")), js);
    }
    const { allOptions, envName } = await import(path.resolve(out, "options/table.js"));
    const rendered = new Map();
    const yaml = fs.readFileSync(path.join(out, "rendered.yaml"), "utf8");
    for (const m of yaml.matchAll(/- name: (LCR_[A-Z0-9_]+)\n\s+value: "([^"]*)"/g)) rendered.set(m[1], m[2]);
    const problems = [];
    // Chart values that deliberately differ from the CLI default, each for a reason in values.yaml:
    // job.softExits (scheduled runs must not fail their Job while a rotation waits).
    const chartOwn = { LCR_SOFT_EXITS: "true" };
    for (const option of allOptions) {
      const env = envName(option.flag);
      const expected = env in chartOwn ? chartOwn[env] : option.default === undefined || option.default === "" ? undefined : String(option.default);
      const got = rendered.get(env);
      if (got !== expected) problems.push(`${env}: chart renders ${got === undefined ? "nothing" : JSON.stringify(got)}, CLI default ${expected === undefined ? "empty" : JSON.stringify(expected)}`);
      rendered.delete(env);
    }
    for (const env of rendered.keys()) problems.push(`${env}: rendered by the chart but not an option of the CLI`);
    console.log(problems.length ? problems.join("\n") : `${allOptions.length} options`);
    process.exitCode = problems.length ? 1 : 0;
  ' 2>&1)" || die "rotator block and src/options/table.ts disagree:"$'\n'"$env_check"
  pass "defaults: the rotator block renders every CLI option with the CLI's default ($env_check)"
else
  log "SKIPPED the rotator-block/CLI-options comparison: src/options/table.ts or node_modules/typescript missing"
fi

# 3. Restricted RBAC, created certificates and an image by digest.
restricted=(--set 'rbac.restrictToNamespaces={apps}' --set rotator.deleteStalePods=true --set certificates.create=true
  --set image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef)
cluster_role="$(render "${restricted[@]}" --show-only templates/clusterrole.yaml)"
expect_in "$(grep -A1 '"deployments", "statefulsets", "daemonsets"' <<<"$cluster_role")" 'verbs: \["list", "watch"\]$' "restricted: workloads are only listed and watched cluster-wide (no get, no patch)"
expect_not_in "$cluster_role" '"delete"' "restricted: no cluster-wide pod delete"
roles="$(render "${restricted[@]}" --show-only templates/role-workloads.yaml)"
[[ "$(grep -c '^kind: Role$' <<<"$roles")" == 3 ]] || die "restricted: expected 3 workload Roles (apps, linkerd, linkerd-viz)"
pass "restricted: one workload Role per permitted namespace (apps, linkerd, linkerd-viz)"
expect_in "$(grep -A1 'resources: \["pods/eviction"\]' <<<"$roles")" 'verbs: \["create"\]$' "restricted: stale pods are evicted in the permitted namespaces"
expect_not_in "$roles" '"delete"' "restricted: no pod delete in the workload Roles"
expect_in "$(render "${restricted[@]}")" 'value: "apps,linkerd,linkerd-viz"' "restricted: LCR_INCLUDE_NAMESPACES follows the permitted namespaces"
expect_in "$(render "${restricted[@]}")" '@sha256:0123' "restricted: image pinned by digest"
expect_in "$(render "${restricted[@]}" --show-only templates/certificate-trust-anchor.yaml)" 'rotationPolicy: Always' "certificates: anchor key rotates on every issue"
previous_secret="$(render "${restricted[@]}" --show-only templates/secret-previous-anchor.yaml)"
expect_in "$previous_secret" 'helm.sh/resource-policy: keep' "certificates: previous-anchor Secret is kept by Helm"
expect_not_in "$previous_secret" '^(data|stringData):' "certificates: previous-anchor Secret has no data (no render writes or empties tls.crt)"
expect_in "$previous_secret" '^type: Opaque$' "certificates: previous-anchor Secret is Opaque (includeAllKeys)"
expect_in "$(render "${restricted[@]}" --show-only templates/bundle.yaml | grep -A2 'name: "linkerd-previous-anchor"')" 'includeAllKeys: true' \
  "certificates: the Bundle reads the previous anchor with includeAllKeys (a Secret without data is an empty source)"
certs="$(render "${restricted[@]}" --show-only templates/certificate-trust-anchor.yaml --show-only templates/certificate-identity-issuer.yaml)"
[[ "$(grep -c '^    group: cert-manager.io$' <<<"$certs")" == 2 ]] || die "certificates: both Certificates must name issuerRef.group"
pass "certificates: explicit issuerRef.group on both Certificates (cert-manager 1.19.0 re-issued those without)"
expect_in "$certs" 'renewBefore: 720h0m0s' "certificates: the anchor's renewBefore is a safety net close to expiry"
expect_in "$certs" 'duration: 48h0m0s' "certificates: issuer 48h, as Linkerd's guide"
[[ "$(grep -c 'rotationPolicy: Always' <<<"$certs")" == 2 ]] || die "certificates: both Certificates must rotate their key"
pass "certificates: a new key on every issue (rotationPolicy Always) for anchor and issuer"
[[ "$(grep -c 'revisionHistoryLimit: 2$' <<<"$certs")" == 2 ]] || die "certificates: both Certificates must keep the current CertificateRequest through the next issuance"
pass "certificates: revisionHistoryLimit 2 on anchor and issuer (the current CertificateRequest outlives the next issuance's start)"

expect_in "$(render --set rotator.lockNamespace=locks --set rotator.lockName=rot-lock --show-only templates/role-lock.yaml)" \
  'namespace: locks' "lock: the Lease Role follows rotator.lockNamespace"
expect_in "$(render --set rotator.lockName=rot-lock --show-only templates/role-lock.yaml)" \
  'resourceNames: \["rot-lock"\]' "lock: the Lease Role follows rotator.lockName"
expect_in "$(render --set webhookUrlSecret.name=hook)" 'secretKeyRef:' "webhook URL from a Secret, not in the CronJob"

# NOTES.txt: helm template does not render it and helm install --dry-run wants a cluster, so render a
# copy of the chart in which the notes are wrapped in a manifest (tpl sees the chart's named templates).
scratch="$(mktemp -d)"
cleanup+=("$scratch")
cp -r "$chart" "$scratch/chart"
mv "$scratch/chart/templates/NOTES.txt" "$scratch/chart/notes.txt.src"
printf '%s\n' 'notes: |{{ tpl (.Files.Get "notes.txt.src") . | nindent 2 }}' >"$scratch/chart/templates/notes-check.yaml"
notes="$("$helm" template "$release" "$scratch/chart" --namespace "$namespace" --kube-version "$kube_version" "${restricted[@]}" \
  --show-only templates/notes-check.yaml)" || die "NOTES.txt does not render"
expect_in "$notes" "create job --from=cronjob/$release-linkerd-cert-rotator " "NOTES: how to start a run by hand"
# shellcheck disable=SC2016 # a literal $job in the notes
expect_in "$notes" 'logs -f "job/\$job"' "NOTES: how to follow a run"
expect_in "$notes" '^ +4 +gate not met' "NOTES: exit codes"
expect_in "$notes" '"value":"status"' "NOTES: how to run status"
notes_of() { "$helm" template "$release" "$scratch/chart" --namespace "$namespace" --kube-version "$kube_version" --show-only templates/notes-check.yaml "$@"; }
# Where the Events really are: the run's Job in the release namespace (src/unattended/events.ts), the anchor
# Certificate for a run outside a Job; and what only a namespace of the release's own or a pullable image needs.
expect_in "$notes" "^ +kubectl -n $namespace events --for \"job/\\\$job\"\$" "NOTES: the run's Events, on its Job in the release namespace"
expect_in "$notes" '^ +kubectl -n cert-manager events --for certificate/linkerd-trust-anchor$' "NOTES: Events of a run outside a Job, on the anchor Certificate"
expect_in "$notes" "^ +helm test $release -n $namespace --logs\$" "NOTES: how to run the helm test"
expect_not_in "$(notes_of --set tests.enabled=false)" 'helm test' "NOTES: no helm test with tests.enabled=false"
expect_not_in "$notes" '^ +Namespace: ' "NOTES: no namespace advice in a namespace of its own"
expect_in "$("$helm" template "$release" "$scratch/chart" --namespace linkerd --kube-version "$kube_version" --show-only templates/notes-check.yaml)" \
  "Namespace: linkerd is Linkerd's own namespace" "NOTES: advises a namespace of its own when installed into Linkerd's"
expect_in "$(notes_of)" 'Image: linkerd-cert-rotator:[0-9.]+ is the chart.s default, which no registry serves' "NOTES: the default image cannot be pulled"
expect_not_in "$(notes_of --set image.repository=registry.example.com/lcr)" 'Image: ' "NOTES: no image advice once image.repository is set"
expect_in "$(notes_of)" 'WARNING: this cluster does not serve .*ValidatingAdmissionPolicy' "NOTES: warns where no admission policy could be installed"
expect_not_in "$(notes_of "${vap[@]}")" 'WARNING' "NOTES: no warning where the policies are installed"
expect_not_in "$(notes_of --set admissionPolicy.enabled=false)" 'WARNING' "NOTES: no warning when the policies are turned off on purpose"
expect_in "$(notes_of --values "$chart/ci/multicluster-values.yaml")" 'shared with the peers west \(kubeconfig Secret [^)]*/lcr-peer-west\), north' "NOTES (multicluster primary): names the peers"
expect_in "$(notes_of --values "$chart/ci/peer-values.yaml")" 'create secret generic lcr-peer-NAME --from-file=kubeconfig=' "NOTES (peerAccess): how to turn the token into the primary's kubeconfig Secret"
expect_in "$(notes_of --values "$chart/ci/peer-values.yaml" --set peerAccess.tokenSecret=false)" 'create token [^ ]+ --duration=' "NOTES (peerAccess.tokenSecret=false): an expiring token"

# 4. Bad values are refused: typos by the schema, contradictions by the templates.
reject "a typo'd value (rotator.concurency)" "additional properties 'concurency' not allowed" --set rotator.concurency=3
reject "a typo'd top-level key (schedule)" "additional properties 'schedule' not allowed" --set schedule='0 0 * * *'
reject "a malformed duration (rotator.rolloutTimeout=5 minutes)" "rolloutTimeout" --set 'rotator.rolloutTimeout=5 minutes'
reject "an unknown command" "/command" --set command=rotat
reject "concurrencyPolicy Allow" "concurrencyPolicy" --set cronJob.concurrencyPolicy=Allow
reject "a zero concurrency" "/rotator/concurrency" --set rotator.concurrency=0
reject "includeNamespaces beyond restrictToNamespaces" "does not permit" --set 'rbac.restrictToNamespaces={apps}' --set 'rotator.includeNamespaces={other}'
reject "a namespace both included and excluded" "both rotator.includeNamespaces and rotator.excludeNamespaces" --set 'rotator.includeNamespaces={apps}' --set 'rotator.excludeNamespaces={apps}'
reject "the anchor Secret as previous anchor" "must differ" --set rotator.previousAnchorSecret=linkerd-trust-anchor
reject "RBAC for the default ServiceAccount" "default ServiceAccount" --set serviceAccount.create=false
reject "a webhook URL both inline and from a Secret" "not both" --set rotator.webhookUrl=https://hooks.example.com/x --set webhookUrlSecret.name=hook
reject "a webhook URL that is not http(s)" "/rotator/webhookUrl" --set rotator.webhookUrl=hooks.example.com/x
reject "no credentials at all" "without credentials" --set serviceAccount.automount=false
reject "Linkerd's guide anchor renewBefore (7320h): cert-manager renews before rotateBeforeExpiry" "before rotator.rotateBeforeExpiry" \
  --set certificates.create=true --set certificates.anchor.renewBefore=7320h0m0s
reject "an anchor renewBefore that lets cert-manager renew before rotateAfter" "before rotator.rotateAfter" \
  --set certificates.create=true --set certificates.anchor.renewBefore=8500h --set rotator.rotateBeforeExpiry=9000h
reject "a rotateBeforeExpiry that makes every run rotate" "every run would find a fresh anchor due" \
  --set certificates.create=true --set certificates.anchor.duration=1000h --set certificates.anchor.renewBefore=10h --set rotator.rotateBeforeExpiry=60d
reject "an anchor renewBefore not shorter than its duration" "must be shorter than certificates.anchor.duration" \
  --set certificates.create=true --set certificates.anchor.renewBefore=9000h
reject "an issuer renewBefore not shorter than its duration" "must be shorter than certificates.issuer.duration" \
  --set certificates.create=true --set certificates.issuer.renewBefore=48h
reject "rotator.force on a schedule" "on every scheduled run" --set rotator.force=true
peer_west=(--set 'multicluster.peers[0].name=west' --set 'multicluster.peers[0].kubeconfigSecret=lcr-peer-west')
reject "peers without rotator.clusterName" "needs rotator.clusterName" "${peer_west[@]}"
reject "a rotator.clusterName that no Link can carry" "is not a cluster name" "${peer_west[@]}" --set 'rotator.clusterName=Prod EU'
reject "a peer named twice" "is named twice" "${peer_west[@]}" --set rotator.clusterName=east --set 'multicluster.peers[1].name=west' --set 'multicluster.peers[1].kubeconfigSecret=other'
reject "a peer named as this cluster" "is named twice \(or is rotator.clusterName" "${peer_west[@]}" --set rotator.clusterName=west
reject "a peer without its kubeconfig Secret" "kubeconfigSecret" --set rotator.clusterName=east --set 'multicluster.peers[0].name=west'
reject "a peer name that is no DNS label" "/multicluster/peers/0/name" --set rotator.clusterName=east --set 'multicluster.peers[0].name=West_1' --set 'multicluster.peers[0].kubeconfigSecret=s'
reject "a primary that is also a peer" "exclude each other" "${peer_west[@]}" --set rotator.clusterName=east --set peerAccess.enabled=true
reject "peers without the chart's RBAC" "needs rbac.create=true" "${peer_west[@]}" --set rotator.clusterName=east --set rbac.create=false
reject "a long-lived token of the default ServiceAccount" "long-lived token of the namespace's default ServiceAccount" \
  --set peerAccess.enabled=true --set serviceAccount.create=false --set rbac.create=false

# 5. Optional rendering to a file for later checks against a real apiserver.
if [[ -n "${OUT:-}" ]]; then
  out_args=()
  [[ -n "${OUT_VALUES:-}" ]] && out_args=(--values "$OUT_VALUES")
  render "${out_args[@]}" >"$OUT"
  log "wrote the rendered manifests (${OUT_VALUES:-default values}, release $release, namespace $namespace) to $OUT"
fi

log "all $checks checks passed"
