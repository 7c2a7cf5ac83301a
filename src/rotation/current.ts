import type { RotatorConfig } from '../config.js';
import { CertificateError, parsePemBundle, type ParsedCert } from '../certs/index.js';
import { PreconditionError } from '../errors.js';
import type { CertificateView } from '../kube/model.js';
import type { ClusterReader } from '../kube/ports.js';
import type { Logger } from '../log.js';
import { throwIfAborted, type Clock } from '../wait/poll.js';
import { publishedCertificate, type Published } from './published.js';

/** A cert-manager Certificate the rotator reads the current certificate of, and the Secret it is issued into. */
export interface CertificateRef {
  role: 'trust anchor' | 'identity issuer';
  namespace: string;
  certificate: string;
  secret: string;
}

export const anchorRef = (c: RotatorConfig): CertificateRef => ({
  role: 'trust anchor',
  namespace: c.trustNamespace,
  certificate: c.anchorCertificate,
  secret: c.anchorSecret,
});
export const issuerRef = (c: RotatorConfig): CertificateRef => ({
  role: 'identity issuer',
  namespace: c.linkerdNamespace,
  certificate: c.issuerCertificate,
  secret: c.issuerSecret,
});

/** What lets a read wait for an issuance under way: without a clock it never waits. */
export interface CurrentDeps {
  clock?: Clock;
  signal?: AbortSignal;
  logger?: Logger;
}

/** The current certificate, where it was read, or why it could not be. */
export type Found = { cert: ParsedCert; source: string } | { cert?: undefined; unpublished: Published & { found: false } };

const isIssuing = (certificate: CertificateView): boolean => certificate.conditions.some((c) => c.type === 'Issuing' && c.status === 'True');

function parseFirst(pem: string, what: string): ParsedCert {
  try {
    const [first] = parsePemBundle(pem, what);
    if (!first) throw new PreconditionError(`${what} holds no certificate`);
    return first;
  } catch (error) {
    if (error instanceof CertificateError) throw new PreconditionError(error.message);
    throw error;
  }
}

/**
 * One look for the certificate of `certificate`'s current revision: from its CertificateRequest,
 * else (only with --read-key-secrets) from its Secret, whose private key the adapter drops unread.
 * A malformed certificate is a PreconditionError; an unpublished one is returned with its reason.
 */
export async function findCurrent(cluster: ClusterReader, config: RotatorConfig, ref: CertificateRef, certificate: CertificateView): Promise<Found> {
  const published = publishedCertificate(certificate, await cluster.listCertificateRequests(ref.namespace));
  if (published.found)
    return { cert: parseFirst(published.pem, `CertificateRequest ${published.request} status.certificate`), source: `CertificateRequest ${published.request}` };
  if (!config.readKeySecrets) return { unpublished: published };
  const secret = await cluster.getSecret(ref.namespace, ref.secret);
  const what = `Secret ${ref.namespace}/${ref.secret} key tls.crt`;
  if (!secret)
    throw new PreconditionError(
      `${published.message}, and Secret ${ref.namespace}/${ref.secret} (--read-key-secrets) does not exist: has cert-manager issued it?`,
    );
  return { cert: parseFirst(secret.tlsCrt ?? '', what), source: `Secret ${ref.namespace}/${ref.secret}` };
}

/** The refusal when neither a CertificateRequest nor an allowed Secret read gives the certificate. */
function unpublishedError(ref: CertificateRef, unpublished: { message: string }, issuing: boolean): PreconditionError {
  return new PreconditionError(
    `cannot read the ${ref.role}'s current certificate without its Secret ${ref.namespace}/${ref.secret}, which holds the private key: ${unpublished.message}` +
      (issuing ? '; an issuance is still under way: run again once it has finished' : '') +
      `. Where cert-manager publishes no CertificateRequest for it (a certificate made outside cert-manager, a deleted request), allow the rotator to read that Secret with --read-key-secrets ` +
      `(LCR_READ_KEY_SECRETS=true; the Helm chart's rotator.readKeySecrets=true also grants get on it); the private key in the response is dropped unread. ` +
      'Setting spec.revisionHistoryLimit: 2 on the Certificate keeps the current request through the next issuance.',
  );
}

async function requireCertificate(cluster: ClusterReader, ref: CertificateRef): Promise<CertificateView> {
  const certificate = await cluster.getCertificate(ref.namespace, ref.certificate);
  if (!certificate)
    throw new PreconditionError(`Certificate ${ref.namespace}/${ref.certificate} not found: is the rotator pointed at the right names (see --help)?`);
  return certificate;
}

/**
 * The Certificate and its current certificate, read without its Secret where cert-manager
 * published it. cert-manager writes the Secret first and sets `status.revision` (clearing Issuing)
 * after, and with revisionHistoryLimit 1 (its default) deletes the current revision's request as
 * soon as the next one exists: so while an issuance is under way, the request of `status.revision`
 * may be gone. Then this waits (up to --certificate-timeout) for the issuance to finish and reads
 * the new revision, whose request and Secret agree. Still nothing: a PreconditionError naming the opt-in.
 */
export async function readCurrent(
  cluster: ClusterReader,
  config: RotatorConfig,
  ref: CertificateRef,
  deps: CurrentDeps = {},
): Promise<{ certificate: CertificateView; cert: ParsedCert; source: string }> {
  const deadline = deps.clock ? deps.clock.now().getTime() + config.certificateTimeoutMs : 0;
  let told = false;
  for (;;) {
    const certificate = await requireCertificate(cluster, ref);
    const found = await findCurrent(cluster, config, ref, certificate);
    if (found.cert) return { certificate, cert: found.cert, source: found.source };
    const issuing = isIssuing(certificate);
    if (!issuing || !deps.clock || deps.clock.now().getTime() >= deadline) throw unpublishedError(ref, found.unpublished, issuing);
    if (!told) {
      deps.logger?.info(`${ref.role}: waiting for the issuance under way to finish (${found.unpublished.message})`, {
        certificate: `${ref.namespace}/${ref.certificate}`,
      });
      told = true;
    }
    await deps.clock.sleep(config.pollIntervalMs, deps.signal);
    throwIfAborted(deps.signal);
  }
}
