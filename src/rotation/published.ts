import type { CertificateRequestView, CertificateView } from '../kube/model.js';

/**
 * Why no CertificateRequest gives a Certificate's current certificate:
 * - `no-revision`: status.revision is unset, cert-manager never issued it (a Secret there was made by hand);
 * - `not-found`: no request of the current revision (garbage-collected, deleted, or never made by cert-manager);
 * - `not-issued`: the request of the current revision holds no issued certificate;
 * - `ambiguous`: several requests of the current revision disagree.
 */
type UnpublishedReason = 'no-revision' | 'not-found' | 'not-issued' | 'ambiguous';

/** The public certificate of a Certificate's current revision, or why it cannot be told. */
export type Published =
  { found: true; pem: string; ca?: string; request: string; revision: number } | { found: false; reason: UnpublishedReason; message: string };

const certificateNameAnnotation = 'cert-manager.io/certificate-name';
const revisionAnnotation = 'cert-manager.io/certificate-revision';

const issued = (request: CertificateRequestView): boolean =>
  request.conditions.some((c) => c.type === 'Ready' && c.status === 'True' && (c.reason === undefined || c.reason === 'Issued')) &&
  (request.certificatePem ?? '').includes('BEGIN CERTIFICATE');

/**
 * Finds the certificate cert-manager wrote into a Certificate's Secret at its current revision,
 * without that Secret: cert-manager's issuing controller copies `status.certificate` and `status.ca`
 * of the CertificateRequest annotated with the Certificate's name and revision `status.revision`
 * (the request it made for that revision, owned by the Certificate) into the Secret, then sets
 * `status.revision`. Requests owned by another Certificate of the same name (deleted and made
 * again, revisions counting afresh) do not count. Pure: the caller lists the requests.
 */
export function publishedCertificate(certificate: CertificateView, requests: readonly CertificateRequestView[]): Published {
  const name = `Certificate ${certificate.namespace}/${certificate.name}`;
  if (certificate.revision < 1) {
    return {
      found: false,
      reason: 'no-revision',
      message: `${name} has no status.revision: cert-manager has not issued it yet, so no CertificateRequest holds its certificate`,
    };
  }
  const revision = certificate.revision;
  const matching = requests.filter(
    (r) =>
      r.namespace === certificate.namespace &&
      r.certificateName === certificate.name &&
      r.revision === revision &&
      (certificate.uid === '' || r.ownerUids.includes(certificate.uid)),
  );
  const where = `CertificateRequest of ${name} revision ${revision} (annotations ${certificateNameAnnotation}=${certificate.name}, ${revisionAnnotation}=${revision})`;
  if (matching.length === 0) {
    return {
      found: false,
      reason: 'not-found',
      message: `no ${where}: it was garbage-collected (revisionHistoryLimit, 1 by default since cert-manager 1.18, deletes it as soon as the next issuance starts), deleted, or the certificate was not issued by cert-manager`,
    };
  }
  const done = matching.filter(issued);
  if (done.length === 0) {
    return { found: false, reason: 'not-issued', message: `the ${where} ${matching.map((r) => r.name).join(', ')} holds no issued certificate` };
  }
  const pems = new Set(done.map((r) => r.certificatePem));
  const [first] = done;
  if (pems.size > 1 || !first?.certificatePem) {
    return { found: false, reason: 'ambiguous', message: `the ${where}s ${done.map((r) => r.name).join(', ')} hold different certificates` };
  }
  return { found: true, pem: first.certificatePem, ...(first.caPem ? { ca: first.caPem } : {}), request: `${first.namespace}/${first.name}`, revision };
}
