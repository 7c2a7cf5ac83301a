import { checkCa, checkIssuerKey, checkValidity, shortFingerprint, type Finding } from '../certs/index.js';
import { PreconditionError } from '../errors.js';
import { bundleRefusals, usableTarget } from './bundle-check.js';
import { bundleMismatches, expectedBundle, previousTrimmed } from './gates.js';
import type { ObservedState } from './state.js';

/** @internal exported for its unit tests */
export const expiredProcedure = 'https://linkerd.io/2/tasks/replacing_expired_certificates/';

const dayMs = 86_400_000;

/**
 * The issuer's warning window: `linkerd check`'s 60 days, shortened to a third of its
 * lifetime so that cert-manager's short-lived issuers (48h, renewed daily) only warn when
 * their renewal is overdue.
 * @internal exported for its unit tests
 */
export function issuerWarningDays(issuer: { notBefore: Date; notAfter: Date }, warningDays: number): number {
  const lifetimeDays = (issuer.notAfter.getTime() - issuer.notBefore.getTime()) / dayMs;
  return Math.min(warningDays, lifetimeDays / 3);
}

/**
 * Everything wrong or worth a warning about the certificates and the bundle, as
 * `linkerd check` would judge it, plus the rotator's own concerns (issuer chain, legacy Secret).
 */
export function certificateFindings(state: Pick<ObservedState, 'now' | 'anchor' | 'previous' | 'issuer' | 'bundle'>, warningDays: number): Finding[] {
  const { now } = state;
  const findings: Finding[] = [
    ...checkValidity(state.anchor.cert, 'trust anchor', now, warningDays),
    ...checkCa(state.anchor.cert, 'trust anchor'),
    ...checkValidity(state.issuer.cert, 'identity issuer', now, issuerWarningDays(state.issuer.cert, warningDays)),
    ...checkCa(state.issuer.cert, 'identity issuer'),
    ...checkIssuerKey(state.issuer.cert),
  ];
  if (!state.issuer.signer) {
    findings.push({ severity: 'error', subject: 'identity issuer', message: issuerChainMessage(state) });
  }
  for (const cert of state.previous.certs) {
    if (cert.fingerprint === state.anchor.cert.fingerprint) continue;
    for (const finding of checkValidity(cert, 'previous anchor', now, 0)) findings.push({ ...finding, severity: 'warning' });
  }
  const secret = state.previous.secret;
  // A kubernetes.io/tls copy rewritten in place (empty tls.key; its type is immutable) is clean.
  if (secret && (secret.hasPrivateKey || secret.hasCertManagerMetadata || !['Opaque', 'kubernetes.io/tls'].includes(secret.type))) {
    findings.push({
      severity: 'warning',
      subject: 'previous anchor',
      message: `Secret ${secret.namespace}/${secret.name} is a copy of the anchor Secret (type ${secret.type}${secret.hasPrivateKey ? ', holds a private key' : ''}${secret.hasCertManagerMetadata ? ', cert-manager metadata' : ''}): the next update-bundle rewrites it as a certificate-only Secret`,
    });
  }
  // What would make the next anchor rotation (ours, or cert-manager's own renewal) strand the mesh,
  // or a restart start proxies without anchors, is an error now, not when it happens.
  for (const reason of bundleRefusals(state, state.bundle.names)) findings.push({ severity: 'error', subject: 'bundle', message: reason });
  // Unusable ConfigMaps are errors above already; the rest are compared with the expected anchors.
  const usable = state.bundle.targets.filter(usableTarget);
  if (usable.length > 0) {
    for (const mismatch of bundleMismatches({ bundle: { ...state.bundle, targets: usable } }, expectedBundle(state)))
      findings.push({ severity: 'warning', subject: 'bundle', message: mismatch });
  }
  return findings;
}

const repairable =
  'does not chain to the only anchor in the bundle (the old anchor was dropped while the issuer still chained to it): run rotate to repair (it renews the issuer, then restarts the control plane and the data plane)';

function issuerChainMessage(state: Pick<ObservedState, 'anchor' | 'previous'>): string {
  return previousTrimmed(state) ? repairable : 'does not chain to the current or the previous trust anchor';
}

/**
 * Refuses to act on certificates that a rotation cannot fix: an expired (or not yet valid)
 * anchor or issuer, a wrong issuer key type, a non-CA anchor. Nothing has changed when it throws.
 */
export function refuseUnsafe(state: Pick<ObservedState, 'now' | 'anchor' | 'previous' | 'issuer' | 'bundle'>, warningDays: number): Finding[] {
  const findings = certificateFindings(state, warningDays);
  // The inconsistent phase (an issuer left on a dropped anchor) is repaired by the plan, not refused.
  const errors = findings.filter((f) => f.severity === 'error' && f.subject !== 'bundle' && f.message !== repairable);
  if (errors.length === 0) return findings;
  const expired = errors.some((f) => f.message.startsWith('expired') && f.subject === 'trust anchor');
  const detail = errors
    .map((f) => `${f.subject} ${shortFingerprint(f.subject === 'trust anchor' ? state.anchor.cert.fingerprint : state.issuer.cert.fingerprint)}: ${f.message}`)
    .join('; ');
  throw new PreconditionError(
    expired
      ? `refusing to rotate: ${detail}. Proxies can no longer validate each other; follow Linkerd's procedure for replacing expired certificates: ${expiredProcedure}`
      : `refusing to rotate: ${detail}`,
  );
}
