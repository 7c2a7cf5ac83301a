#!/usr/bin/env bash
# Builds the local control plane's binaries from Go modules into a cache outside the work tree:
#   ${LCR_CACHE_DIR:-$HOME/.cache/linkerd-cert-rotator}/bin/<name>-<version>
# Cached binaries are skipped. Usage: build.sh [component...]
#   components: kubernetes etcd kwok trust-manager cert-manager helm promql crds (default: all)
# Progress (component, elapsed seconds) goes to stderr; a build's full output goes to
# $cache/tmp/build-<component>.log and its tail is printed on failure.
# Uses the usual GOCACHE/GOMODCACHE, so fresh clones on the same machine reuse them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache="${LCR_CACHE_DIR:-$HOME/.cache/linkerd-cert-rotator}"
bin="$cache/bin"
mkdir -p "$bin" "$cache/crds" "$cache/tmp"

export GOFLAGS="${GOFLAGS:-} -mod=mod -buildvcs=false"
export CGO_ENABLED=0

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

total_start=$SECONDS
built=()

# run_timed LABEL CMD...: runs CMD with a heartbeat every 30s, reports elapsed seconds.
run_timed() {
  local label=$1; shift
  local start=$SECONDS logf="$cache/tmp/build-$label.log"
  log "building $label ..."
  "$@" >"$logf" 2>&1 &
  local pid=$! next=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if (( SECONDS >= next )) && kill -0 "$pid" 2>/dev/null; then
      log "  $label still building ($((SECONDS - start))s)"
      next=$((SECONDS + 30))
    fi
  done
  if ! wait "$pid"; then
    log "FAILED $label after $((SECONDS - start))s; last lines of $logf:"
    tail -n 40 "$logf" >&2
    return 1
  fi
  log "built $label in $((SECONDS - start))s"
  built+=("$label:$((SECONDS - start))s")
}

# go_build_in MODULE_DIR OUT PKG [LDFLAGS]: go build inside one of our recipe modules.
go_build_in() {
  local dir=$1 out=$2 pkg=$3 ldflags=${4:-}
  (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg") && mv "$out.tmp" "$out"
}

# go_install_at OUT PKG@VERSION [LDFLAGS]: go install of a module that needs no replace directives.
go_install_at() {
  local out=$1 pkgv=$2 ldflags=${3:-}
  local gobin; gobin="$(mktemp -d "$cache/tmp/gobin.XXXXXX")"
  (cd "$cache/tmp" && GOBIN="$gobin" go install -trimpath -ldflags "-s -w $ldflags" "$pkgv")
  local name=${pkgv%@*}; name=${name##*/}
  mv "$gobin/$name" "$out"
  rmdir "$gobin"
}

build_kubernetes() {
  local v=$KUBERNETES_VERSION minor
  minor=${v#v1.}; minor=${minor%%.*}
  local ld="-X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1"
  ld+=" -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  ld+=" -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
  grep -q "k8s.io/kubernetes $v\$" "$here/go/kubernetes/go.mod" \
    || { log "go/kubernetes/go.mod does not require k8s.io/kubernetes $v"; return 1; }
  local c
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [[ -x "$bin/$c-$v" ]] && continue
    run_timed "$c" go_build_in "$here/go/kubernetes" "$bin/$c-$v" "k8s.io/kubernetes/cmd/$c" "$ld"
  done
}

build_etcd() {
  [[ -x "$bin/etcd-$ETCD_VERSION" ]] && return 0
  run_timed etcd go_build_in "$here/go/etcd" "$bin/etcd-$ETCD_VERSION" . \
    "-X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"
}

build_kwok() {
  [[ -x "$bin/kwok-$KWOK_VERSION" ]] && return 0
  run_timed kwok go_install_at "$bin/kwok-$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" \
    "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION"
}

# trust-manager: upstream's packages and flags with a wrapper main (go/trust-manager) that binds
# its metrics and readiness servers to loopback (upstream hard-codes 0.0.0.0).
build_trust_manager() {
  local v=$TRUST_MANAGER_VERSION
  [[ -x "$bin/trust-manager-$v" ]] && return 0
  grep -q "github.com/cert-manager/trust-manager $v\$" "$here/go/trust-manager/go.mod" \
    || { log "go/trust-manager/go.mod does not require trust-manager $v"; return 1; }
  run_timed trust-manager go_build_in "$here/go/trust-manager" "$bin/trust-manager-$v" .
}

build_cert_manager() {
  local v=$CERT_MANAGER_VERSION
  [[ -x "$bin/cert-manager-controller-$v" ]] && return 0
  grep -q "github.com/cert-manager/cert-manager $v\$" "$here/go/cert-manager/go.mod" \
    || { log "go/cert-manager/go.mod does not require cert-manager $v"; return 1; }
  run_timed cert-manager-controller go_build_in "$here/go/cert-manager" "$bin/cert-manager-controller-$v" . \
    "-X github.com/cert-manager/cert-manager/pkg/util.AppVersion=$v -X github.com/cert-manager/cert-manager/pkg/util.AppGitCommit=$v"
}

build_helm() {
  [[ -x "$bin/helm-$HELM_VERSION" ]] && return 0
  run_timed helm go_install_at "$bin/helm-$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
}

# promql-eval: Prometheus' own PromQL engine and test language (promqltest) as a test binary
# (go/promql); the e2e suite evaluates the chart's alert expressions with it. Only the engine's
# packages are compiled (promtool would build every service-discovery SDK).
build_promql() {
  local v=$PROMETHEUS_VERSION
  [[ -x "$bin/promql-eval-$v" ]] && return 0
  grep -q "github.com/prometheus/prometheus $v\$" "$here/go/promql/go.mod" \
    || { log "go/promql/go.mod does not require prometheus $v"; return 1; }
  run_timed promql-eval bash -c "cd '$here/go/promql' && go test -c -trimpath -o '$bin/promql-eval-$v.tmp' . && mv '$bin/promql-eval-$v.tmp' '$bin/promql-eval-$v'"
}

# CRDs: copied out of the modules' zips into $cache/crds/<name>-<version>/.
build_crds() {
  local dir src
  dir="$cache/crds/cert-manager-$CERT_MANAGER_VERSION"
  if [[ ! -s "$dir/crds.yaml" ]]; then
    src=$(cd "$cache/tmp" && go mod download -json "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    mkdir -p "$dir"
    "$here/lib/strip-crds.sh" "$src/deploy/crds" >"$dir/crds.yaml.tmp" && mv "$dir/crds.yaml.tmp" "$dir/crds.yaml"
    log "cert-manager CRDs -> $dir/crds.yaml"
  fi
  dir="$cache/crds/trust-manager-$TRUST_MANAGER_VERSION"
  if [[ ! -s "$dir/crds.yaml" ]]; then
    src=$(cd "$cache/tmp" && go mod download -json "github.com/cert-manager/trust-manager@$TRUST_MANAGER_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    mkdir -p "$dir"
    "$here/lib/strip-crds.sh" "$src/deploy/crds" >"$dir/crds.yaml.tmp" && mv "$dir/crds.yaml.tmp" "$dir/crds.yaml"
    log "trust-manager CRDs -> $dir/crds.yaml"
  fi
}

components=("$@")
(( ${#components[@]} )) || components=(crds kubernetes etcd kwok trust-manager cert-manager helm promql)
for c in "${components[@]}"; do
  case "$c" in
    kubernetes) build_kubernetes ;;
    etcd) build_etcd ;;
    kwok) build_kwok ;;
    trust-manager) build_trust_manager ;;
    cert-manager) build_cert_manager ;;
    helm) build_helm ;;
    promql) build_promql ;;
    crds) build_crds ;;
    *) log "unknown component $c"; exit 2 ;;
  esac
done

if (( ${#built[@]} )); then
  log "built: ${built[*]}"
fi
log "done in $((SECONDS - total_start))s (cache: $bin)"
