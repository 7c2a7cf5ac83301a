#!/usr/bin/env bash
# Static checks of the Helm chart in chart/: helm lint with the default values and with every values
# file under chart/ci/; then scripts/chart-check.ts renders them, parses the manifests as YAML and asserts
# on the objects (RBAC scope, env, pod specs, admission policies, NOTES), and proves that the schema and
# the templates' `fail` calls reject bad values. This script only finds helm and runs it.
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

render() { "$helm" template "$release" "$chart" --namespace "$namespace" --kube-version "$kube_version" "$@"; }

# 1. helm lint --strict with the defaults and with every CI values file.
value_sets=("")
for file in "$chart"/ci/*.yaml; do [[ -e "$file" ]] && value_sets+=("$file"); done
for file in "${value_sets[@]}"; do
  args=(); label="default values"
  if [[ -n "$file" ]]; then args=(--values "$file"); label="${file#"$root"/}"; fi
  "$helm" lint --strict "$chart" --namespace "$namespace" --kube-version "$kube_version" "${args[@]}" >/dev/null || { "$helm" lint --strict "$chart" --kube-version "$kube_version" "${args[@]}"; die "helm lint ($label)"; }
  log "ok   helm lint --strict ($label)"
done

# 2-4. What gets rendered, parsed as YAML and asserted on as objects, and the values that must be refused:
# scripts/chart-check.ts (node runs the TypeScript directly).
HELM="$helm" KUBE_VERSION="$kube_version" RELEASE="$release" NAMESPACE="$namespace" node "$root/scripts/chart-check.ts" || die "rendering checks (above)"

# 5. Optional rendering to a file for later checks against a real apiserver.
if [[ -n "${OUT:-}" ]]; then
  out_args=()
  [[ -n "${OUT_VALUES:-}" ]] && out_args=(--values "$OUT_VALUES")
  render "${out_args[@]}" >"$OUT"
  log "wrote the rendered manifests (${OUT_VALUES:-default values}, release $release, namespace $namespace) to $OUT"
fi

log "all checks passed"
