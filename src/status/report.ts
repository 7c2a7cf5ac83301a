import { certificateFindings } from '../rotation/health.js';
import { daysUntil, shortFingerprint, type Finding, type ParsedCert } from '../certs/index.js';
import { describeStale, stalePods, type StalePod } from '../rotation/gates.js';
import { derivePlan, type Phase } from '../rotation/plan.js';
import type { ObservedState } from '../rotation/state.js';
import type { RotatorConfig } from '../config.js';
import { issuerRenewal, issuerRenewalBeforeGate, issuerRenewalFinding, newRotationRefusals } from '../rotation/preflight.js';

export type Health = 'healthy' | 'warning' | 'broken';

interface CertSummary {
  fingerprint: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
}

/** What `status` reports: read-only, machine-readable with --output json. */
export interface StatusReport {
  health: Health;
  phase: Phase;
  summary: string;
  anchor: CertSummary;
  previousAnchors: CertSummary[];
  issuer: CertSummary & { keyAlgorithm: string; signedBy?: string; renewalTime?: string; renewalTimeEstimated?: boolean };
  bundle: { name: string; targets: { namespace: string; anchors: string[]; problem?: string }[] };
  pods: { meshed: number; lackingNewAnchor: number; trustingOldAnchor: number; untrustingIssuerAnchor: number };
  stale: { namespace: string; name: string; owner: string; reason: string }[];
  remainingSteps: string[];
  findings: Finding[];
}

const summarize = (cert: ParsedCert, now: Date): CertSummary => ({
  fingerprint: cert.fingerprint,
  subject: cert.subject,
  notBefore: cert.notBefore.toISOString(),
  notAfter: cert.notAfter.toISOString(),
  daysLeft: daysUntil(cert.notAfter, now),
});

/** The pods the rotation still has to restart in this phase (none once steady). */
function stalePodsOfPhase(phase: Phase, state: ObservedState, judged: { lacking: StalePod[]; old: StalePod[] }): StalePod[] {
  if (phase === 'steady') return [];
  if (phase === 'issuer-renewed') return stalePods(state, 'adopt-new-issuer');
  return phase === 'bundle-trimmed' ? judged.old : judged.lacking;
}

/**
 * Builds the report from a snapshot: a pure function of the state and the warning window. With
 * the run's options it also says, in a steady state, why a new rotation would be refused.
 */
export function buildStatus(
  state: ObservedState,
  warningDays: number,
  options?: Pick<RotatorConfig, 'deleteStalePods' | 'acceptHeldPods' | 'issuerRenewalMarginMs'>,
): StatusReport {
  const findings = certificateFindings(state, warningDays);
  const plan = derivePlan(state, { startNew: false });
  const beforeGate = issuerRenewalBeforeGate(state);
  if (beforeGate) findings.push(issuerRenewalFinding(beforeGate));
  if (options && plan.phase === 'steady') {
    for (const reason of newRotationRefusals(state, options))
      findings.push({ severity: 'warning', subject: 'next rotation', message: `would be refused: ${reason}` });
  }
  const renewal = issuerRenewal(state.issuer);
  const lacking = stalePods(state, 'trust-new-anchor');
  const old = stalePods(state, 'drop-old-anchor');
  const signer = state.issuer.signer?.fingerprint;
  // A proxy that does not trust the anchor behind the current issuer cannot verify new leaves: mTLS breaks.
  const untrusting = signer ? state.pods.filter((p) => !p.anchors?.has(signer)) : state.pods;
  if (untrusting.length > 0) {
    findings.push({
      severity: 'error',
      subject: 'data plane',
      message: `${untrusting.length} meshed pod(s) do not trust the anchor that signed the current issuer`,
    });
  }
  const staleNow = stalePodsOfPhase(plan.phase, state, { lacking, old });
  if (staleNow.length > 0)
    findings.push({ severity: 'warning', subject: 'data plane', message: `${staleNow.length} meshed pod(s) must restart for the rotation to finish` });
  if (plan.phase !== 'steady') findings.push({ severity: 'warning', subject: 'rotation', message: `unfinished: ${plan.summary}` });
  const health: Health = findings.some((f) => f.severity === 'error') ? 'broken' : findings.length > 0 ? 'warning' : 'healthy';
  return {
    health,
    phase: plan.phase,
    summary: plan.summary,
    anchor: summarize(state.anchor.cert, state.now),
    previousAnchors: state.previous.certs.map((cert) => summarize(cert, state.now)),
    issuer: {
      ...summarize(state.issuer.cert, state.now),
      keyAlgorithm: state.issuer.cert.keyAlgorithm,
      signedBy: signer,
      ...(renewal.at ? { renewalTime: renewal.at.toISOString(), renewalTimeEstimated: renewal.estimated } : {}),
    },
    bundle: {
      name: state.bundle.view.name,
      targets: state.bundle.targets.map((t) => ({ namespace: t.namespace, anchors: (t.certs ?? []).map((c) => c.fingerprint), problem: t.problem })),
    },
    pods: { meshed: state.pods.length, lackingNewAnchor: lacking.length, trustingOldAnchor: old.length, untrustingIssuerAnchor: untrusting.length },
    stale: describeStale(staleNow),
    remainingSteps: plan.steps.map((s) => (s.purpose ? `${s.name} (${s.purpose})` : s.name)),
    findings,
  };
}

/** The report for a person. */
export function renderStatus(report: StatusReport): string {
  const fp = shortFingerprint;
  const lines = [
    `health: ${report.health.toUpperCase()}    phase: ${report.phase}`,
    report.summary,
    '',
    `trust anchor     ${fp(report.anchor.fingerprint)}  expires ${report.anchor.notAfter} (${report.anchor.daysLeft} days)`,
    ...report.previousAnchors.map((p) => `previous anchor  ${fp(p.fingerprint)}  expires ${p.notAfter} (${p.daysLeft} days)`),
    `identity issuer  ${fp(report.issuer.fingerprint)}  expires ${report.issuer.notAfter} (${report.issuer.daysLeft} days), ${report.issuer.keyAlgorithm}, signed by ${report.issuer.signedBy ? fp(report.issuer.signedBy) : 'an unknown anchor'}`,
    `issuer renewal   ${report.issuer.renewalTime ? `by cert-manager at ${report.issuer.renewalTime}${report.issuer.renewalTimeEstimated ? ' (estimated: no status.renewalTime)' : ''}` : 'never by cert-manager (renewal policy Disabled)'}`,
    `bundle ${report.bundle.name}: ${report.bundle.targets.map((t) => `${t.namespace}=[${t.anchors.map(fp).join(',')}]${t.problem ? ` (${t.problem})` : ''}`).join(' ') || 'no target namespace'}`,
    `meshed pods: ${report.pods.meshed}, lacking the current anchor: ${report.pods.lackingNewAnchor}, trusting an old anchor: ${report.pods.trustingOldAnchor}`,
  ];
  if (report.remainingSteps.length > 0) lines.push(`remaining steps: ${report.remainingSteps.join(' -> ')}`);
  for (const s of report.stale.slice(0, 50)) lines.push(`  stale ${s.namespace}/${s.name} (${s.owner}): ${s.reason}`);
  if (report.stale.length > 50) lines.push(`  ... and ${report.stale.length - 50} more`);
  for (const f of report.findings) lines.push(`${f.severity}: ${f.subject}: ${f.message}`);
  return lines.join('\n');
}
