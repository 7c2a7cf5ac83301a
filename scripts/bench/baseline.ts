import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The blog's rotation (seeds/004: rotate-certs.sh, restart-control-plane.sh, sleep 60,
 * restart-data-plane.sh, sleep 60, update-bundle.sh) replayed as its shell scripts, with two
 * stand-ins: `cmctl renew` is the same status write done with kubectl (cmctl is not
 * installed here), and `sleep N` sleeps N/factor seconds and records N, so the run can be
 * reported both as measured and as its real-time equivalent.
 */
const script = String.raw`
set -euo pipefail
sleep() { local s; s=$(printf '%s' "$1" | tr -d s); command sleep "$(awk -v s="$s" -v f="$FACTOR" 'BEGIN { printf "%.3f", s / f }')"; echo "$s" >>"$LEDGER"; }
cmctl() { # cmctl renew -n NS NAME: Issuing=True (ManuallyTriggered), whole status written back
  local ns=$3 name=$4
  kubectl get certificate -n "$ns" "$name" -o json \
    | jq --arg now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '.status.conditions = ([(.status.conditions // [])[] | select(.type != "Issuing")] + [{type: "Issuing", status: "True", reason: "ManuallyTriggered", message: "Certificate re-issuance manually triggered", lastTransitionTime: $now}])' \
    | kubectl replace --subresource=status -f - >/dev/null
}
mark() { echo "PHASE $1 $(date +%s%3N)"; }

rotate_certs() {
  echo "renewing linkerd-trusted-anchor"
  cmctl renew -n cert-manager linkerd-trust-anchor
  echo "Waiting 120 seconds to allow for certs to update"
  sleep 120
  echo "renewing linkerd-identity-issuer"
  cmctl renew -n linkerd linkerd-identity-issuer
  echo "Waiting 120 seconds to allow for certs to update"
  sleep 120
}
restart_control_plane() {
  kubectl rollout restart -n linkerd deploy --selector=linkerd.io/control-plane-ns=linkerd
  kubectl rollout status -n linkerd deploy --selector=linkerd.io/control-plane-ns=linkerd
  echo "Waiting 20 seconds for stabilization..."
  sleep 20
  kubectl rollout restart -n linkerd-viz deploy --selector=linkerd.io/extension=viz
  kubectl rollout status -n linkerd-viz deploy --selector=linkerd.io/extension=viz
}
restart_data_plane() {
  NAMESPACES=$(kubectl get ns -o json | jq -r '.items[] | select(.metadata.annotations."linkerd.io/inject" == "enabled") | .metadata.name')
  for NAMESPACE in $NAMESPACES; do
    kubectl rollout restart -n "$NAMESPACE" deployment
    kubectl rollout status -n "$NAMESPACE" deployment
    echo "Waiting 10 seconds for stabilization..."
    sleep 10
  done
}
update_bundle() {
  kubectl get secret -n cert-manager linkerd-trust-anchor -o yaml \
    | sed -e s/linkerd-trust-anchor/linkerd-previous-anchor/ \
    | grep -E -v '^  *(resourceVersion|uid)' \
    | kubectl apply -f -
}

# The state the blog's procedure keeps (a previous-anchor Secret copied from the anchor Secret,
# type kubernetes.io/tls): the rotator writes it as a certificate-only Opaque Secret, and a
# Secret's type cannot change, so the blog's update-bundle.sh would fail on it. Not timed.
kubectl delete secret -n cert-manager linkerd-previous-anchor --ignore-not-found >/dev/null
update_bundle >/dev/null

mark rotate-certs; rotate_certs
mark restart-control-plane; restart_control_plane
mark sleep-60; sleep 60s
mark restart-data-plane; restart_data_plane
mark sleep-60; sleep 60s
mark update-bundle; update_bundle
mark end
`;

export interface BaselinePhase {
  phase: string;
  measuredMs: number;
  /** Seconds the blog's scripts sleep in this phase (unscaled). */
  sleptSeconds: number;
  /** What the phase would take with the blog's real sleeps. */
  realTimeMs: number;
}

export interface BaselineRun {
  code: number | null;
  factor: number;
  phases: BaselinePhase[];
  measuredMs: number;
  realTimeMs: number;
  /** Sum of the unscaled fixed waits. */
  fixedWaitSeconds: number;
  output: string;
}

/** Runs the blog's procedure with `kubectl` (a directory holding it is put first on PATH). */
export async function runBaseline(kubeconfig: string, kubectl: string, factor: number): Promise<BaselineRun> {
  const dir = mkdtempSync(join(tmpdir(), 'lcr-bench-baseline-'));
  const ledger = join(dir, 'sleeps');
  writeFileSync(ledger, '');
  writeFileSync(join(dir, 'kubectl'), `#!/bin/sh\nexec ${JSON.stringify(kubectl)} "$@"\n`, { mode: 0o755 });
  const child = spawn('bash', ['-c', script], {
    env: { PATH: `${dir}:${process.env.PATH ?? ''}`, KUBECONFIG: kubeconfig, FACTOR: String(factor), LEDGER: ledger },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const marks: { phase: string; at: number; sleptBefore: number }[] = [];
  const slept = (): number =>
    readFileSync(ledger, 'utf8')
      .split('\n')
      .filter(Boolean)
      .reduce((sum, s) => sum + Number(s), 0);
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const match = /^PHASE (\S+) (\d+)$/.exec(line);
      if (match?.[1] && match[2]) marks.push({ phase: match[1], at: Number(match[2]), sleptBefore: slept() });
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  rmSync(dir, { recursive: true, force: true });
  const phases: BaselinePhase[] = [];
  for (let i = 0; i + 1 < marks.length; i++) {
    const from = marks[i];
    const to = marks[i + 1];
    if (!from || !to) continue;
    const measuredMs = to.at - from.at;
    const sleptSeconds = to.sleptBefore - from.sleptBefore;
    phases.push({ phase: from.phase, measuredMs, sleptSeconds, realTimeMs: measuredMs + sleptSeconds * 1000 * (1 - 1 / factor) });
  }
  const sum = (pick: (p: BaselinePhase) => number): number => phases.reduce((total, p) => total + pick(p), 0);
  return {
    code,
    factor,
    phases,
    measuredMs: sum((p) => p.measuredMs),
    realTimeMs: sum((p) => p.realTimeMs),
    fixedWaitSeconds: sum((p) => p.sleptSeconds),
    output,
  };
}
