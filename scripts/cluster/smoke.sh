#!/usr/bin/env bash
# End-to-end smoke test of a running local cluster (up.sh): a Deployment rolls out on kwok nodes;
# cert-manager issues a self-signed CA, a CA ClusterIssuer and a certificate signed by it; a
# cmctl-style renew bumps status.revision; a trust-manager Bundle reaches a labelled namespace.
# Creates objects named lcr-smoke-<random> (namespaces, cluster-scoped objects, and objects in
# cert-manager) and deletes them afterwards; safe to run repeatedly against the same cluster.
# Usage: smoke.sh [STATE_DIR]   (default: ${LCR_CLUSTER_DIR:-/tmp/lcr-cluster})
set -euo pipefail
STATE_DIR="${1:-${LCR_CLUSTER_DIR:-/tmp/lcr-cluster}}"
# shellcheck disable=SC1091
source "$STATE_DIR/env"
k() { "$LCR_KUBECTL" --request-timeout=20s "$@"; }
step() { printf '[smoke %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { step "FAILED: $*"; exit 1; }
# poll DEADLINE_SECONDS CMD...: until CMD succeeds.
poll() {
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do (( SECONDS < end )) || return 1; sleep 0.3; done
}
id="lcr-smoke-$(printf %05d $((RANDOM % 100000)))"
cleanup() {
  k delete namespace $id $id-cp --ignore-not-found --wait=false >/dev/null 2>&1 || true
  k delete bundle $id-roots clusterissuer $id-ca --ignore-not-found >/dev/null 2>&1 || true
  k -n cert-manager delete certificate $id-anchor --ignore-not-found >/dev/null 2>&1 || true
  k -n cert-manager delete issuer $id-selfsigned --ignore-not-found >/dev/null 2>&1 || true
  k -n cert-manager delete secret $id-anchor $id-previous --ignore-not-found >/dev/null 2>&1 || true
}
tmp=$(mktemp -d); trap 'cleanup; rm -rf "$tmp"' EXIT

step "Deployment on kwok nodes"
k create namespace $id >/dev/null
k -n "$id" create deployment web --image=example.invalid/web:1 --replicas=3 >/dev/null
k -n "$id" rollout status deployment/web --timeout=60s >/dev/null || die "deployment rollout"
k -n "$id" rollout restart deployment/web >/dev/null
k -n "$id" rollout status deployment/web --timeout=60s >/dev/null || die "deployment restart rollout"

step "cert-manager: SelfSigned Issuer -> CA Certificate -> CA ClusterIssuer -> Certificate"
k apply -f - >/dev/null <<EOF
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: $id-selfsigned, namespace: cert-manager}
spec: {selfSigned: {}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: $id-anchor, namespace: cert-manager}
spec:
  isCA: true
  commonName: root.linkerd.cluster.local
  secretName: $id-anchor
  duration: 87600h
  privateKey: {algorithm: ECDSA, size: 256}
  issuerRef: {name: $id-selfsigned, kind: Issuer}
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: $id-ca}
spec: {ca: {secretName: $id-anchor}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: issuer, namespace: $id}
spec:
  isCA: true
  commonName: identity.linkerd.cluster.local
  dnsNames: [identity.linkerd.cluster.local]
  secretName: issuer
  duration: 48h
  renewBefore: 25h
  privateKey: {algorithm: ECDSA, size: 256}
  usages: [cert sign, crl sign, server auth, client auth]
  issuerRef: {name: $id-ca, kind: ClusterIssuer}
EOF
k -n cert-manager wait --for=condition=Ready certificate/$id-anchor --timeout=60s >/dev/null || die "anchor not Ready"
k -n "$id" wait --for=condition=Ready certificate/issuer --timeout=60s >/dev/null || die "issuer not Ready"
secret_key() { k -n "$1" get secret "$2" -o "jsonpath={.data.${3//./\\.}}" | base64 -d; }
for key in tls.crt tls.key ca.crt; do
  [[ -n "$(secret_key "$id" issuer "$key")" ]] || die "Secret issuer lacks $key"
  [[ -n "$(secret_key cert-manager $id-anchor "$key")" ]] || die "Secret $id-anchor lacks $key"
done
secret_key cert-manager $id-anchor tls.crt >"$tmp/anchor.crt"
secret_key "$id" issuer tls.crt >"$tmp/issuer.crt"
openssl verify -CAfile "$tmp/anchor.crt" "$tmp/issuer.crt" >/dev/null || die "issuer does not chain to anchor"

step "cmctl-style renew of the anchor (Issuing=True, ManuallyTriggered via status subresource)"
rev0=$(k -n cert-manager get certificate $id-anchor -o jsonpath='{.status.revision}')
k -n cert-manager get certificate $id-anchor -o json \
  | jq --arg now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '.status.conditions = ([.status.conditions[]? | select(.type != "Issuing")]
      + [{type: "Issuing", status: "True", reason: "ManuallyTriggered", message: "Certificate re-issuance manually triggered",
          lastTransitionTime: $now, observedGeneration: .metadata.generation}])' \
  | k replace --subresource=status -f - >/dev/null
revision_bumped() { [[ "$(k -n cert-manager get certificate $id-anchor -o jsonpath='{.status.revision}')" -gt "$rev0" ]]; }
poll 60 revision_bumped || die "status.revision did not go past $rev0"
not_issuing() { [[ -z "$(k -n cert-manager get certificate $id-anchor -o jsonpath='{.status.conditions[?(@.type=="Issuing")].status}')" ]]; }
poll 30 not_issuing || die "Issuing condition still present"
secret_key cert-manager $id-anchor tls.crt >"$tmp/anchor2.crt"
cmp -s "$tmp/anchor.crt" "$tmp/anchor2.crt" && die "anchor Secret unchanged after renew"

step "trust-manager: Bundle -> ConfigMap in a namespace labelled linkerd.io/is-control-plane=true"
k create namespace $id-cp >/dev/null
k label namespace $id-cp linkerd.io/is-control-plane=true >/dev/null
k -n cert-manager create secret generic $id-previous --from-file=tls.crt="$tmp/anchor.crt" >/dev/null
k apply -f - >/dev/null <<EOF
apiVersion: trust.cert-manager.io/v1alpha1
kind: Bundle
metadata: {name: $id-roots}
spec:
  sources:
  - secret: {name: $id-anchor, key: tls.crt}
  - secret: {name: $id-previous, key: tls.crt}
  target:
    configMap: {key: ca-bundle.crt}
    namespaceSelector:
      matchLabels: {linkerd.io/is-control-plane: "true"}
EOF
two_certs() { [[ "$(k -n $id-cp get configmap $id-roots -o jsonpath='{.data.ca-bundle\.crt}' | grep -c 'BEGIN CERTIFICATE')" == 2 ]]; }
poll 60 two_certs || die "ConfigMap $id-roots with 2 certificates did not appear in $id-cp"
k -n "$id" get configmap $id-roots >/dev/null 2>&1 && die "ConfigMap appeared in an unlabelled namespace"
step "OK: all smoke checks passed"
