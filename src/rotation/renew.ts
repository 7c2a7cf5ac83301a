import { parsePemBundle, shortFingerprint } from '../certs/index.js';
import { StepError } from '../errors.js';
import type { CertificateView } from '../kube/model.js';
import { inSeconds, waitUntil, type Check } from '../wait/poll.js';
import { waitOptions, type RunContext } from './context.js';

/** What a Certificate looked like before its renewal was triggered. */
export interface IssuanceBaseline {
  revision: number;
  fingerprint: string;
  lastFailureTime?: number;
  failedIssuanceAttempts: number;
}

export function baselineOf(certificate: CertificateView, fingerprint: string): IssuanceBaseline {
  return {
    revision: certificate.revision,
    fingerprint,
    lastFailureTime: certificate.lastFailureTime?.getTime(),
    failedIssuanceAttempts: certificate.failedIssuanceAttempts,
  };
}

/**
 * Judges a re-issuance by the four signals cert-manager gives (Ready alone proves nothing:
 * it stays True during a re-issue): revision past the baseline, Issuing gone or False/Issued,
 * Ready True for the current generation, and a new certificate in the Secret.
 * Throws StepError as soon as cert-manager reports a failure.
 */
export function judgeIssuance(baseline: IssuanceBaseline, certificate: CertificateView, fingerprint: string | undefined): Check<void> {
  const name = `Certificate ${certificate.namespace}/${certificate.name}`;
  const issuingCondition = certificate.conditions.find((c) => c.type === 'Issuing');
  if (issuingCondition?.status === 'False' && issuingCondition.reason !== 'Issued') {
    throw new StepError(`${name} failed to issue: ${issuingCondition.reason ?? 'Failed'}: ${issuingCondition.message ?? ''}`.trim());
  }
  const failedAt = certificate.lastFailureTime?.getTime();
  if (failedAt !== undefined && failedAt !== baseline.lastFailureTime) {
    throw new StepError(`${name} failed to issue at ${new Date(failedAt).toISOString()} (status.lastFailureTime)`);
  }
  if (certificate.failedIssuanceAttempts > baseline.failedIssuanceAttempts) {
    throw new StepError(`${name} failed to issue (${certificate.failedIssuanceAttempts} failed attempts)`);
  }
  if (certificate.revision <= baseline.revision) return { done: false, waitingFor: `status.revision to pass ${baseline.revision}` };
  if (issuingCondition?.status === 'True') return { done: false, waitingFor: 'the Issuing condition to clear' };
  const ready = certificate.conditions.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return { done: false, waitingFor: 'Ready=True' };
  if (ready.observedGeneration !== undefined && ready.observedGeneration < certificate.generation) {
    return { done: false, waitingFor: 'Ready for the current generation' };
  }
  if (fingerprint === undefined || fingerprint === baseline.fingerprint) return { done: false, waitingFor: 'a new certificate in the Secret' };
  return { done: true, value: undefined };
}

/** Which certificate to renew: where its Certificate and Secret live. */
export interface RenewTarget {
  role: 'trust anchor' | 'identity issuer';
  namespace: string;
  certificate: string;
  secret: string;
}

export function anchorTarget(ctx: RunContext): RenewTarget {
  const c = ctx.config;
  return { role: 'trust anchor', namespace: c.trustNamespace, certificate: c.anchorCertificate, secret: c.anchorSecret };
}

export function issuerTarget(ctx: RunContext): RenewTarget {
  const c = ctx.config;
  return { role: 'identity issuer', namespace: c.linkerdNamespace, certificate: c.issuerCertificate, secret: c.issuerSecret };
}

async function secretFingerprint(ctx: RunContext, target: RenewTarget): Promise<string | undefined> {
  const secret = await ctx.cluster.getSecret(target.namespace, target.secret);
  if (!secret?.tlsCrt) return undefined;
  try {
    return parsePemBundle(secret.tlsCrt, `Secret ${target.namespace}/${target.secret}`)[0]?.fingerprint;
  } catch {
    return undefined; // a half-written Secret: the wait looks again
  }
}

/**
 * Renews like `cmctl renew` and waits until the re-issue is proven. When an issuance is
 * already under way (a run killed mid-wait, or cert-manager's own renewal) it is awaited,
 * never triggered a second time.
 */
export async function renewCertificate(ctx: RunContext, target: RenewTarget): Promise<{ fingerprint: string; waitedMs: number; triggered: boolean }> {
  const { cluster, logger } = ctx;
  const certificate = await cluster.getCertificate(target.namespace, target.certificate);
  if (!certificate) throw new StepError(`Certificate ${target.namespace}/${target.certificate} not found`);
  const before = (await secretFingerprint(ctx, target)) ?? '';
  const baseline = baselineOf(certificate, before);
  const underway = certificate.conditions.some((c) => c.type === 'Issuing' && c.status === 'True');
  if (underway) {
    logger.info(`${target.role}: an issuance is already under way; waiting for it`, { certificate: `${target.namespace}/${target.certificate}` });
  } else {
    await cluster.triggerIssuance(target.namespace, target.certificate, ctx.clock.now());
    logger.info(`${target.role}: renewal triggered`, { certificate: `${target.namespace}/${target.certificate}`, revision: certificate.revision });
  }
  const waited = await waitUntil(async () => {
    const current = await cluster.getCertificate(target.namespace, target.certificate);
    if (!current) throw new StepError(`Certificate ${target.namespace}/${target.certificate} disappeared during its renewal`);
    return judgeIssuance(baseline, current, await secretFingerprint(ctx, target));
  }, waitOptions(ctx, `${target.role} ${target.namespace}/${target.certificate} to be re-issued`, ctx.config.certificateTimeoutMs));
  const fingerprint = (await secretFingerprint(ctx, target)) ?? '';
  logger.info(`${target.role}: re-issued`, { fingerprint: shortFingerprint(fingerprint), waitedSeconds: inSeconds(waited.waitedMs) });
  return { fingerprint, waitedMs: waited.waitedMs, triggered: !underway };
}
