// CertificateRequests as the adapter reads them, for tests that serve a Certificate's current
// certificate the way cert-manager publishes it (no Secret, no key).
import type { CertificateRequestView, CertificateView } from '../../src/kube/model.js';

/** The issued request of `certificate`'s revision (or `over.revision`), owned by it, holding `pem`. */
export function requestFor(
  certificate: Pick<CertificateView, 'namespace' | 'name' | 'uid' | 'revision'>,
  pem: string,
  over: Partial<CertificateRequestView> = {},
): CertificateRequestView {
  const revision = over.revision ?? certificate.revision;
  return {
    namespace: certificate.namespace,
    name: `${certificate.name}-${revision}`,
    certificateName: certificate.name,
    revision,
    ownerUids: certificate.uid ? [certificate.uid] : [],
    conditions: [
      { type: 'Approved', status: 'True' },
      { type: 'Ready', status: 'True', reason: 'Issued' },
    ],
    certificatePem: pem,
    caPem: pem,
    ...over,
  };
}
