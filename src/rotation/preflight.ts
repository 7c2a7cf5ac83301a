import type { Finding } from '../certs/index.js';
import type { RotatorConfig } from '../config.js';
import { formatDuration } from '../duration.js';
import type { ObservedState } from './state.js';

/**
 * What a new rotation must know before it renews the trust anchor. From step 1 until gate 1
 * passes, every issuer cert-manager signs chains to the new anchor, which stale proxies do not
 * trust yet: anything that can hold the rotation there (pods nobody restarts, cert-manager's
 * own issuer renewal falling due, linked clusters sharing the anchor) must be settled first.
 */

/** cert-manager's default renewBefore is a third of the lifetime (when neither renewBefore nor a percentage is set). */
const defaultRenewalFraction = 2 / 3;

/** When cert-manager renews the issuer by itself and how long a fresh issuer lasts before its own renewal. */
export interface IssuerRenewal {
  /** Undefined: cert-manager never renews it (spec.renewal.policy Disabled). */
  at?: Date;
  /** From issuance to cert-manager's renewal, for an issuer issued now with the same spec. */
  intervalMs?: number;
  /** True when status.renewalTime was absent and the time is cert-manager's default (two thirds of the lifetime). */
  estimated: boolean;
}

/** Reads cert-manager's renewal schedule of the issuer from its Certificate and certificate. */
export function issuerRenewal(issuer: ObservedState['issuer']): IssuerRenewal {
  const { certificate, cert } = issuer;
  if (certificate.renewalDisabled) return { estimated: false };
  const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
  const at = certificate.renewalTime ?? new Date(cert.notBefore.getTime() + lifetime * defaultRenewalFraction);
  return { at, intervalMs: at.getTime() - cert.notBefore.getTime(), estimated: certificate.renewalTime === undefined };
}

/**
 * How the issuer's own schedule bears on a new rotation starting now:
 * - `ok`: cert-manager will not renew it within the margin (or never);
 * - `renew-first`: it would, so renew it first, under the old anchor every proxy trusts; the
 *   fresh issuer then leaves the whole margin for steps 1-3;
 * - `refuse`: even a fresh issuer is renewed sooner than the margin: the rotation could not
 *   reach gate 1 before the first new-anchor issuer appears.
 */
export type IssuerTiming = { kind: 'ok' | 'renew-first' | 'refuse'; reason: string };

export function issuerTiming(state: Pick<ObservedState, 'now' | 'issuer'>, marginMs: number): IssuerTiming {
  const renewal = issuerRenewal(state.issuer);
  const margin = formatDuration(marginMs);
  if (!renewal.at || renewal.intervalMs === undefined)
    return { kind: 'ok', reason: 'cert-manager does not renew the issuer on its own (renewal policy Disabled)' };
  const left = renewal.at.getTime() - state.now.getTime();
  const when = `${renewal.estimated ? "by cert-manager's default schedule, " : ''}cert-manager renews the issuer at ${renewal.at.toISOString()}`;
  if (left >= marginMs) return { kind: 'ok', reason: `${when}, in ${formatDuration(left)}: more than the ${margin} steps 1-3 may take` };
  if (renewal.intervalMs < marginMs) {
    return {
      kind: 'refuse',
      reason: `cert-manager renews the identity issuer every ${formatDuration(renewal.intervalMs)}, less than the ${margin} (--issuer-renewal-margin) steps 1-3 may take: after the anchor renewal, a renewed issuer would chain to the new anchor before every proxy trusts it. Lengthen the issuer's renewal interval (duration minus renewBefore) or, if steps 1-3 are surely faster here, lower --issuer-renewal-margin`,
    };
  }
  return {
    kind: 'renew-first',
    reason: `${when}, in ${formatDuration(Math.max(0, left))}, inside the ${margin} steps 1-3 may take: renew it first, while it still chains to the current anchor`,
  };
}

/** Meshed pods that no step of this run will restart, by owner: they would hold the rotation at gate 1. */
export function heldOwners(state: Pick<ObservedState, 'pods'>, config: Pick<RotatorConfig, 'deleteStalePods'>): string[] {
  const held = new Map<string, string>();
  for (const pod of state.pods) {
    if (!pod.hold || pod.pod.terminating) continue;
    if (config.deleteStalePods && pod.deletable) continue;
    held.set(`${pod.pod.namespace}/${pod.owner}`, pod.hold);
  }
  return [...held.values()].sort();
}

/**
 * Every reason a new rotation must not start now; empty when it may. Pure: the caller refuses
 * (exit 3) with all of them at once, before anything is changed.
 */
export function newRotationRefusals(
  state: Pick<ObservedState, 'now' | 'issuer' | 'pods' | 'links'>,
  config: Pick<RotatorConfig, 'deleteStalePods' | 'acceptHeldPods' | 'issuerRenewalMarginMs'>,
): string[] {
  const reasons: string[] = [];
  const held = heldOwners(state, config);
  if (held.length > 0 && !config.acceptHeldPods) {
    const examples = held.slice(0, 5).join('; ');
    reasons.push(
      `${held.length} meshed owner(s) will not be restarted and would hold the rotation at gate 1 while cert-manager's issuer renewals chain to the new anchor: ${examples}${held.length > 5 ? '; ...' : ''}. Restart or remove them, widen the restart scope, pass --delete-stale-pods (bare pods, Jobs, OnDelete), or accept the cost with --accept-held-pods`,
    );
  }
  if (state.links.length > 0) {
    const names = state.links
      .slice(0, 5)
      .map((l) => `${l.namespace}/${l.name}`)
      .join(', ');
    reasons.push(
      `Linkerd multicluster Link(s) present (${names}${state.links.length > 5 ? ', ...' : ''}): linked clusters trust this cluster's anchor, and rotating it here alone breaks cross-cluster mTLS. The issuer is still renewed and restarts still run; anchor rotation across clusters is not supported yet`,
    );
  }
  const timing = issuerTiming(state, config.issuerRenewalMarginMs);
  if (timing.kind === 'refuse') reasons.push(timing.reason);
  return reasons;
}

/**
 * While a rotation waits before gate 1 (the anchor renewed, the issuer not yet), the time left
 * until cert-manager renews the issuer: from then on new leaves chain to the new anchor, which the
 * stale pods do not trust. Undefined when no such wait is under way or cert-manager never renews it.
 */
export function issuerRenewalBeforeGate(state: Pick<ObservedState, 'now' | 'issuer' | 'anchor'>): { at: Date; leftMs: number } | undefined {
  if (state.issuer.signer?.fingerprint === state.anchor.cert.fingerprint || !state.issuer.signer) return undefined;
  const renewal = issuerRenewal(state.issuer);
  if (!renewal.at) return undefined;
  return { at: renewal.at, leftMs: renewal.at.getTime() - state.now.getTime() };
}

/** The finding a rotation waiting before gate 1 carries in every run and in status. */
export function issuerRenewalFinding(renewal: { at: Date; leftMs: number }): Finding {
  return {
    severity: 'warning',
    subject: 'identity issuer',
    message: `cert-manager renews the issuer at ${renewal.at.toISOString()} (in ${formatDuration(renewal.leftMs)}): from then on new leaves chain to the new anchor, so every stale pod must be restarted before then`,
  };
}
