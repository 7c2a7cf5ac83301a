import { checkCa, shortFingerprint, type ParsedCert } from '../certs/index.js';
import { PreconditionError, StepError } from '../errors.js';
import type { CertificateView } from '../kube/model.js';
import { inSeconds, waitUntil, type Check } from '../wait/poll.js';
import { waitOptions, type RunContext } from './context.js';
import { anchorRef, findCurrent, issuerRef, type CertificateRef } from './current.js';

/**
 * What a Certificate looked like before its renewal was triggered.
 * @internal exported for its unit tests
 */
export interface IssuanceBaseline {
  revision: number;
  fingerprint: string;
  lastFailureTime?: number;
  failedIssuanceAttempts: number;
}

/** @internal exported for its unit tests */
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
 * Ready True for the current generation, and a new certificate published for that revision.
 * Throws StepError as soon as cert-manager reports a failure.
 * @internal exported for its unit tests
 */
// eslint-disable-next-line complexity -- cert-manager's four signals and its failure reports, judged in one place in the order they must be read
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
  if (fingerprint === undefined || fingerprint === baseline.fingerprint)
    return { done: false, waitingFor: `a new certificate published for revision ${certificate.revision}` };
  return { done: true, value: undefined };
}

/** Which certificate to renew: where its Certificate and Secret live. */
export type RenewTarget = CertificateRef;

export function anchorTarget(ctx: RunContext): RenewTarget {
  return anchorRef(ctx.config);
}

export function issuerTarget(ctx: RunContext): RenewTarget {
  return issuerRef(ctx.config);
}

/**
 * Refuses, before anything is triggered, a renewal that would keep the key: cert-manager then
 * issues a new certificate for the same key pair, and the rotation would restart the mesh for nothing.
 */
export function refuseKeepingKey(certificate: CertificateView, role: RenewTarget['role']): void {
  if (certificate.rotationPolicy !== 'Never') return;
  throw new PreconditionError(
    `refusing to renew the ${role}: Certificate ${certificate.namespace}/${certificate.name} has spec.privateKey.rotationPolicy: Never, so a renewal keeps the same key and rotates nothing; set it to Always and run again`,
  );
}

/**
 * What makes a re-issued certificate useless for a rotation: the same public key as before
 * (rotationPolicy Never, or a key pinned some other way), or a CA that cannot sign (basicConstraints,
 * keyUsage). Empty when it is usable.
 * @internal exported for its unit tests
 */
export function issuedProblems(before: ParsedCert | undefined, after: ParsedCert, role: RenewTarget['role']): string[] {
  const problems = checkCa(after, role).map((finding) => finding.message);
  if (before && Buffer.from(before.x509.publicKey.rawData).equals(Buffer.from(after.x509.publicKey.rawData))) {
    problems.push('it has the same public key as the certificate it replaced, so it rotates nothing (is spec.privateKey.rotationPolicy Never?)');
  }
  return problems;
}

/**
 * The certificate of `certificate`'s current revision, from its CertificateRequest (or the Secret
 * under --read-key-secrets); undefined while it is not published yet (an issuance under way).
 */
async function issuedCert(ctx: RunContext, target: RenewTarget, certificate: CertificateView): Promise<ParsedCert | undefined> {
  try {
    return (await findCurrent(ctx.cluster, ctx.config, target, certificate)).cert;
  } catch (error) {
    if (error instanceof PreconditionError) return undefined; // a half-written certificate: the wait looks again
    throw error;
  }
}

/**
 * Renews like `cmctl renew` and waits until the re-issue is proven. When an issuance is
 * already under way (a run killed mid-wait, or cert-manager's own renewal) it is awaited,
 * never triggered a second time. A re-issue that rotates nothing (same key, unusable CA)
 * is a StepError: the rotation stops before any restart.
 */
export async function renewCertificate(ctx: RunContext, target: RenewTarget): Promise<{ fingerprint: string; waitedMs: number; triggered: boolean }> {
  const { cluster, logger } = ctx;
  const certificate = await cluster.getCertificate(target.namespace, target.certificate);
  if (!certificate) throw new StepError(`Certificate ${target.namespace}/${target.certificate} not found`);
  const previous = await issuedCert(ctx, target, certificate);
  const baseline = baselineOf(certificate, previous?.fingerprint ?? '');
  const underway = certificate.conditions.some((c) => c.type === 'Issuing' && c.status === 'True');
  if (underway) {
    logger.info(`${target.role}: an issuance is already under way; waiting for it`, { certificate: `${target.namespace}/${target.certificate}` });
  } else {
    refuseKeepingKey(certificate, target.role);
    await cluster.triggerIssuance(target.namespace, target.certificate, ctx.clock.now());
    logger.info(`${target.role}: renewal triggered`, { certificate: `${target.namespace}/${target.certificate}`, revision: certificate.revision });
  }
  let finalCertificate = certificate;
  const waited = await waitUntil(
    async () => {
      const current = await cluster.getCertificate(target.namespace, target.certificate);
      if (!current) throw new StepError(`Certificate ${target.namespace}/${target.certificate} disappeared during its renewal`);
      // The request of a revision above the baseline holds the new certificate: cert-manager wrote it
      // into the Secret before it set that revision.
      finalCertificate = current;
      return judgeIssuance(baseline, current, (await issuedCert(ctx, target, current))?.fingerprint);
    },
    waitOptions(ctx, `${target.role} ${target.namespace}/${target.certificate} to be re-issued`, ctx.config.certificateTimeoutMs),
  );
  const issued = await issuedCert(ctx, target, finalCertificate);
  const fingerprint = issued?.fingerprint ?? '';
  const problems = issued ? issuedProblems(previous, issued, target.role) : [];
  if (problems.length > 0) {
    throw new StepError(
      `the ${target.role} re-issued by Certificate ${target.namespace}/${target.certificate} (${shortFingerprint(fingerprint)}) is no rotation: ${problems.join('; ')}; stopping before any restart`,
    );
  }
  logger.info(`${target.role}: re-issued`, { fingerprint: shortFingerprint(fingerprint), waitedSeconds: inSeconds(waited.waitedMs) });
  return { fingerprint, waitedMs: waited.waitedMs, triggered: !underway };
}
