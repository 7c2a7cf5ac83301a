import { defaultConfig } from '../../../src/config.js';
import { PreconditionError } from '../../../src/errors.js';
import type { CertificateRequestView, CertificateView, SecretView } from '../../../src/kube/model.js';
import type { ClusterReader } from '../../../src/kube/ports.js';
import { anchorRef, readCurrent } from '../../../src/rotation/current.js';
import { publishedCertificate, type Published } from '../../../src/rotation/published.js';
import { makeAnchor, type Generated } from '../../support/certs.js';
import { requestFor } from '../../support/requests.js';

let current: Generated;
let next: Generated;
let other: Generated;
beforeAll(async () => {
  [current, next, other] = await Promise.all([makeAnchor({ cn: 'current' }), makeAnchor({ cn: 'next' }), makeAnchor({ cn: 'other' })]);
});

const certificate = (over: Partial<CertificateView> = {}): CertificateView => ({
  namespace: 'cert-manager',
  name: 'linkerd-trust-anchor',
  uid: 'uid-anchor',
  generation: 1,
  secretName: 'linkerd-trust-anchor',
  conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1 }],
  revision: 4,
  failedIssuanceAttempts: 0,
  ...over,
});
const issuing = certificate({
  conditions: [
    { type: 'Ready', status: 'True' },
    { type: 'Issuing', status: 'True', reason: 'ManuallyTriggered' },
  ],
});
const pending = [
  { type: 'Approved', status: 'True' },
  { type: 'Ready', status: 'False', reason: 'Pending' },
];

/** What the matcher answers, with the PEM named rather than printed. */
function outcome(result: Published): string {
  if (!result.found) return result.reason;
  const name = [current, next, other].find((g) => g.pem === result.pem);
  return `found ${name === current ? 'current' : name === next ? 'next' : 'other'} in ${result.request}`;
}

describe('publishedCertificate: the certificate of a Certificate’s current revision, from its CertificateRequests', () => {
  it.each<[string, () => CertificateView, () => CertificateRequestView[], string]>([
    [
      'the request of the current revision, issued and owned',
      () => certificate(),
      () => [requestFor(certificate(), current.pem)],
      'found current in cert-manager/linkerd-trust-anchor-4',
    ],
    [
      'revisionHistoryLimit > 1: older revisions are kept and ignored',
      () => certificate(),
      () => [
        requestFor(certificate(), other.pem, { revision: 3 }),
        requestFor(certificate(), current.pem),
        requestFor(certificate(), other.pem, { revision: 2 }),
      ],
      'found current in cert-manager/linkerd-trust-anchor-4',
    ],
    [
      'the window after cert-manager wrote revision 5 into the Secret but before it set status.revision: revision 4 still counts',
      () => issuing,
      () => [requestFor(issuing, current.pem), requestFor(issuing, next.pem, { revision: 5 })],
      'found current in cert-manager/linkerd-trust-anchor-4',
    ],
    [
      'no status.revision yet: never issued by cert-manager',
      () => certificate({ revision: 0 }),
      () => [requestFor(certificate(), current.pem, { revision: 0 })],
      'no-revision',
    ],
    [
      'revisionHistoryLimit 1 mid-issuance: revision 4 garbage-collected, revision 5 pending',
      () => issuing,
      () => [requestFor(issuing, '', { revision: 5, conditions: pending, certificatePem: undefined, caPem: undefined })],
      'not-found',
    ],
    ['no request at all (an anchor made outside cert-manager)', () => certificate(), () => [], 'not-found'],
    [
      'a request of revision 4 owned by an earlier Certificate of that name (deleted and made again)',
      () => certificate(),
      () => [requestFor(certificate({ uid: 'uid-earlier' }), other.pem)],
      'not-found',
    ],
    ['a request of revision 4 of another Certificate', () => certificate(), () => [requestFor(certificate({ name: 'webhook' }), other.pem)], 'not-found'],
    [
      'a request of revision 4 without the name annotation',
      () => certificate(),
      () => [requestFor(certificate(), other.pem, { certificateName: undefined })],
      'not-found',
    ],
    ['a request of revision 4 in another namespace', () => certificate(), () => [requestFor(certificate({ namespace: 'linkerd' }), other.pem)], 'not-found'],
    [
      'the request of revision 4 not issued (pending)',
      () => certificate(),
      () => [requestFor(certificate(), current.pem, { conditions: pending })],
      'not-issued',
    ],
    [
      'the request of revision 4 failed',
      () => certificate(),
      () => [requestFor(certificate(), '', { conditions: [{ type: 'Ready', status: 'False', reason: 'Failed' }], certificatePem: undefined })],
      'not-issued',
    ],
    ['the request of revision 4 Ready but empty', () => certificate(), () => [requestFor(certificate(), '')], 'not-issued'],
    [
      'two requests of revision 4 that disagree',
      () => certificate(),
      () => [requestFor(certificate(), current.pem), requestFor(certificate(), other.pem, { name: 'dup' })],
      'ambiguous',
    ],
    [
      'two requests of revision 4 that agree',
      () => certificate(),
      () => [requestFor(certificate(), current.pem), requestFor(certificate(), current.pem, { name: 'dup' })],
      'found current in cert-manager/linkerd-trust-anchor-4',
    ],
    [
      'an uid unknown (no owner to check): annotations decide',
      () => certificate({ uid: '' }),
      () => [requestFor(certificate({ uid: 'x' }), current.pem)],
      'found current in cert-manager/linkerd-trust-anchor-4',
    ],
  ])('%s', (_name, cert, requests, expected) => {
    expect(outcome(publishedCertificate(cert(), requests()))).toBe(expected);
  });

  it('says what is missing and why it may be', () => {
    const result = publishedCertificate(issuing, []);
    expect(result).toEqual({
      found: false,
      reason: 'not-found',
      message: expect.stringContaining(
        'no CertificateRequest of Certificate cert-manager/linkerd-trust-anchor revision 4 (annotations cert-manager.io/certificate-name=linkerd-trust-anchor, cert-manager.io/certificate-revision=4): it was garbage-collected (revisionHistoryLimit',
      ) as unknown,
    });
  });
});

describe('readCurrent: the Certificate and its current certificate, waiting out an issuance', () => {
  /** A cluster whose anchor Certificate and requests change as time passes; the Secret holds the key, so reading it is counted. */
  function fakeCluster(timeline: (ms: number) => { certificate: CertificateView; requests: CertificateRequestView[] }) {
    let ms = 0;
    const reads: string[] = [];
    const secret: SecretView = {
      namespace: 'cert-manager',
      name: 'linkerd-trust-anchor',
      type: 'kubernetes.io/tls',
      resourceVersion: '1',
      tlsCrt: other.pem,
      hasPrivateKey: true,
      otherKeys: ['tls.key'],
      hasCertManagerMetadata: true,
    };
    const cluster = {
      getCertificate: () => Promise.resolve(timeline(ms).certificate),
      listCertificateRequests: () => Promise.resolve(timeline(ms).requests),
      getSecret: (namespace: string, name: string) => {
        reads.push(`${namespace}/${name}`);
        return Promise.resolve(secret);
      },
    } as unknown as ClusterReader;
    const clock = { now: () => new Date(ms), sleep: (pause: number) => ((ms += pause), Promise.resolve()) };
    return { cluster, clock, reads, elapsed: () => ms };
  }
  const config = { ...defaultConfig, pollIntervalMs: 1000, certificateTimeoutMs: 60_000 };
  const ref = anchorRef(config);

  it('revision 4 gone mid-issuance: waits for revision 5 and returns it with the Certificate as it then is', async () => {
    const done = certificate({ revision: 5 });
    const { cluster, clock, reads, elapsed } = fakeCluster((ms) =>
      ms < 5000 ? { certificate: issuing, requests: [] } : { certificate: done, requests: [requestFor(done, next.pem)] },
    );
    const result = await readCurrent(cluster, config, ref, { clock });
    expect({ revision: result.certificate.revision, cert: result.cert.pem, source: result.source, reads, waited: elapsed() }).toEqual({
      revision: 5,
      cert: next.pem,
      source: 'CertificateRequest cert-manager/linkerd-trust-anchor-5',
      reads: [],
      waited: 5000,
    });
  });

  it('not issuing and nothing published: refused (exit 3) naming the opt-in, the Secret never read', async () => {
    const { cluster, clock, reads, elapsed } = fakeCluster(() => ({ certificate: certificate(), requests: [] }));
    const error = await readCurrent(cluster, config, ref, { clock }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreconditionError);
    expect((error as Error).message).toMatch(
      /^cannot read the trust anchor's current certificate without its Secret cert-manager\/linkerd-trust-anchor, which holds the private key: no CertificateRequest .*--read-key-secrets \(LCR_READ_KEY_SECRETS=true; the Helm chart's rotator.readKeySecrets=true/,
    );
    expect({ reads, waited: elapsed() }).toEqual({ reads: [], waited: 0 });
  });

  it('an issuance that never finishes: refused after --certificate-timeout, saying it is under way', async () => {
    const { cluster, clock, reads, elapsed } = fakeCluster(() => ({ certificate: issuing, requests: [] }));
    await expect(readCurrent(cluster, config, ref, { clock })).rejects.toThrow(/an issuance is still under way/);
    expect({ reads, waited: elapsed() }).toEqual({ reads: [], waited: 60_000 });
  });

  it('with --read-key-secrets, nothing published: the certificate from the Secret', async () => {
    const { cluster, clock, reads } = fakeCluster(() => ({ certificate: certificate({ revision: 0 }), requests: [] }));
    const result = await readCurrent(cluster, { ...config, readKeySecrets: true }, ref, { clock });
    expect({ cert: result.cert.pem, source: result.source, reads }).toEqual({
      cert: other.pem,
      source: 'Secret cert-manager/linkerd-trust-anchor',
      reads: ['cert-manager/linkerd-trust-anchor'],
    });
  });

  it('with --read-key-secrets and a published certificate: the request wins, the Secret is not read', async () => {
    const { cluster, clock, reads } = fakeCluster(() => ({ certificate: certificate(), requests: [requestFor(certificate(), current.pem)] }));
    const result = await readCurrent(cluster, { ...config, readKeySecrets: true }, ref, { clock });
    expect({ cert: result.cert.pem, reads }).toEqual({ cert: current.pem, reads: [] });
  });

  it('a malformed published certificate: refused', async () => {
    const { cluster, clock } = fakeCluster(() => ({
      certificate: certificate(),
      requests: [requestFor(certificate(), '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n')],
    }));
    await expect(readCurrent(cluster, config, ref, { clock })).rejects.toThrow(PreconditionError);
  });
});
