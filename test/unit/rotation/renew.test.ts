import { KeyUsageFlags } from '@peculiar/x509';
import { defaultConfig } from '../../../src/config.js';
import { PreconditionError, StepError } from '../../../src/errors.js';
import type { CertificateView, Condition } from '../../../src/kube/model.js';
import type { Cluster } from '../../../src/kube/ports.js';
import { silentLogger } from '../../../src/log.js';
import type { RunContext } from '../../../src/rotation/context.js';
import { baselineOf, issuedProblems, judgeIssuance, refuseKeepingKey, renewCertificate, type IssuanceBaseline } from '../../../src/rotation/renew.js';
import { makeAnchor, type Generated } from '../../support/certs.js';
import { requestFor } from '../../support/requests.js';

const FAILED_BEFORE = new Date('2025-05-30T08:00:00Z');
const FAILED_NOW = new Date('2025-06-01T10:05:00Z');

// Before the trigger: revision 3, Ready, an old failure on record, one failed attempt.
const before: CertificateView = {
  namespace: 'linkerd',
  name: 'linkerd-identity-issuer',
  uid: 'uid-issuer',
  generation: 2,
  secretName: 'linkerd-identity-issuer',
  conditions: [{ type: 'Ready', status: 'True', observedGeneration: 2 }],
  revision: 3,
  lastFailureTime: FAILED_BEFORE,
  failedIssuanceAttempts: 1,
};
const baseline: IssuanceBaseline = baselineOf(before, 'old-fp');

const READY: Condition = { type: 'Ready', status: 'True', observedGeneration: 2 };
/** Re-issued: revision 4, Issuing gone, Ready for generation 2. */
const issued = (over: Partial<CertificateView> = {}): CertificateView => ({ ...before, revision: 4, conditions: [READY], ...over });

describe('baselineOf', () => {
  it('records what a later look is compared with', () => {
    expect(baseline).toEqual({ revision: 3, fingerprint: 'old-fp', lastFailureTime: FAILED_BEFORE.getTime(), failedIssuanceAttempts: 1 });
  });
});

describe('judgeIssuance', () => {
  it.each<[string, CertificateView, string | undefined, string]>([
    ['revision not past the baseline', issued({ revision: 3 }), 'new-fp', 'status.revision to pass 3'],
    [
      'Issuing still True',
      issued({ conditions: [READY, { type: 'Issuing', status: 'True', reason: 'ManuallyTriggered' }] }),
      'new-fp',
      'the Issuing condition to clear',
    ],
    ['Ready missing', issued({ conditions: [] }), 'new-fp', 'Ready=True'],
    ['Ready False', issued({ conditions: [{ type: 'Ready', status: 'False', reason: 'DoesNotExist' }] }), 'new-fp', 'Ready=True'],
    ['Ready for an older generation', issued({ conditions: [{ ...READY, observedGeneration: 1 }] }), 'new-fp', 'Ready for the current generation'],
    ['the request of revision 4 still holds the old certificate', issued(), 'old-fp', 'a new certificate published for revision 4'],
    ['no issued request of revision 4 yet', issued(), undefined, 'a new certificate published for revision 4'],
  ])('%s -> waiting for %s', (_name, certificate, fingerprint, waitingFor) => {
    expect(judgeIssuance(baseline, certificate, fingerprint)).toEqual({ done: false, waitingFor });
  });

  it.each<[string, CertificateView]>([
    ['all four signals', issued()],
    ['Issuing=False with reason Issued', issued({ conditions: [READY, { type: 'Issuing', status: 'False', reason: 'Issued' }] })],
    ['Ready without observedGeneration', issued({ conditions: [{ type: 'Ready', status: 'True' }] })],
    ['the old failure cleared on success', issued({ lastFailureTime: undefined, failedIssuanceAttempts: 0 })],
  ])('%s -> done', (_name, certificate) => {
    expect(judgeIssuance(baseline, certificate, 'new-fp')).toEqual({ done: true, value: undefined });
  });

  it.each<[string, CertificateView, RegExp]>([
    [
      'Issuing=False with reason Failed',
      issued({ revision: 3, conditions: [READY, { type: 'Issuing', status: 'False', reason: 'Failed', message: 'signing failed: CA expired' }] }),
      /^Certificate linkerd\/linkerd-identity-issuer failed to issue: Failed: signing failed: CA expired$/,
    ],
    ['Issuing=False without a reason', issued({ revision: 3, conditions: [{ type: 'Issuing', status: 'False' }] }), /failed to issue: Failed/],
    ['a new lastFailureTime', issued({ revision: 3, lastFailureTime: FAILED_NOW }), /failed to issue at 2025-06-01T10:05:00\.000Z \(status\.lastFailureTime\)/],
    ['more failed attempts', issued({ revision: 3, failedIssuanceAttempts: 2 }), /failed to issue \(2 failed attempts\)/],
  ])('%s -> StepError even before the revision moves', (_name, certificate, message) => {
    expect(() => judgeIssuance(baseline, certificate, 'old-fp')).toThrow(StepError);
    expect(() => judgeIssuance(baseline, certificate, 'old-fp')).toThrow(message);
  });

  it('a lastFailureTime appearing where the baseline had none is a failure', () => {
    const clean = baselineOf({ ...before, lastFailureTime: undefined, failedIssuanceAttempts: 0 }, 'old-fp');
    expect(() => judgeIssuance(clean, issued({ lastFailureTime: FAILED_NOW, failedIssuanceAttempts: 0 }), 'new-fp')).toThrow(StepError);
  });

  it('the baseline failure, unchanged, is no failure', () => {
    expect(judgeIssuance(baseline, issued({ revision: 3 }), 'old-fp')).toEqual({ done: false, waitingFor: 'status.revision to pass 3' });
  });
});

describe('a renewal that rotates nothing', () => {
  let anchor: Generated;
  let sameKey: Generated;
  let rekeyed: Generated;
  let notCa: Generated;
  let noCertSign: Generated;
  beforeAll(async () => {
    anchor = await makeAnchor();
    sameKey = await makeAnchor({ keys: anchor.keys });
    rekeyed = await makeAnchor();
    notCa = await makeAnchor({ ca: false });
    noCertSign = await makeAnchor({ keyUsages: KeyUsageFlags.digitalSignature | KeyUsageFlags.cRLSign });
  });

  it.each<[string, () => Generated, RegExp | undefined]>([
    ['a new key, a usable CA', () => rekeyed, undefined],
    ['the same key (rotationPolicy Never)', () => sameKey, /same public key as the certificate it replaced, so it rotates nothing/],
    ['basicConstraints cA false', () => notCa, /not a CA certificate \(basicConstraints cA is not set\)/],
    ['keyUsage without keyCertSign', () => noCertSign, /not a usable CA certificate \(keyUsage lacks keyCertSign\)/],
  ])('%s', (_name, after, problem) => {
    const problems = issuedProblems(anchor.cert, after().cert, 'trust anchor');
    if (problem) expect(problems).toEqual([expect.stringMatching(problem)]);
    else expect(problems).toEqual([]);
  });

  it('the spec saying rotationPolicy Never is refused before anything is triggered', () => {
    expect(() => refuseKeepingKey({ ...before, rotationPolicy: 'Never' }, 'identity issuer')).toThrow(PreconditionError);
    expect(() => refuseKeepingKey({ ...before, rotationPolicy: 'Never' }, 'identity issuer')).toThrow(
      'refusing to renew the identity issuer: Certificate linkerd/linkerd-identity-issuer has spec.privateKey.rotationPolicy: Never, so a renewal keeps the same key and rotates nothing; set it to Always and run again',
    );
    expect(() => refuseKeepingKey({ ...before, rotationPolicy: 'Always' }, 'identity issuer')).not.toThrow();
    expect(() => refuseKeepingKey(before, 'identity issuer')).not.toThrow();
  });

  describe('renewCertificate against a cluster that re-issues with a given certificate', () => {
    /**
     * Just the calls renewCertificate makes: the Certificate, its CertificateRequests, the trigger (which
     * re-issues at once). Its Secret holds the key, so reading it fails the test.
     */
    function fakeCluster(policy: string | undefined, reissued: () => Generated) {
      let certificate: CertificateView = {
        ...before,
        name: 'linkerd-trust-anchor',
        namespace: 'cert-manager',
        secretName: 'linkerd-trust-anchor',
        rotationPolicy: policy,
      };
      let pem = anchor.pem;
      const triggers: string[] = [];
      const cluster = {
        getCertificate: () => Promise.resolve(certificate),
        listCertificateRequests: () => Promise.resolve([requestFor(certificate, pem)]),
        getSecret: (namespace: string, name: string) => Promise.reject(new Error(`read Secret ${namespace}/${name}`)),
        triggerIssuance: (_namespace: string, name: string) => {
          triggers.push(name);
          certificate = { ...certificate, revision: certificate.revision + 1, conditions: [READY] };
          pem = reissued().pem;
          return Promise.resolve();
        },
      };
      // Time moves only when the waiter sleeps, so a wrong program times out at once instead of after 300 s.
      let ms = Date.parse('2025-06-01T12:00:00Z');
      const clock = { now: () => new Date(ms), sleep: (pause: number) => ((ms += pause), Promise.resolve()) };
      const ctx: RunContext = { cluster: cluster as unknown as Cluster, config: { ...defaultConfig, pollIntervalMs: 1000 }, logger: silentLogger(), clock };
      return { ctx, triggers };
    }
    const target = { role: 'trust anchor', namespace: 'cert-manager', certificate: 'linkerd-trust-anchor', secret: 'linkerd-trust-anchor' } as const;

    it('rotationPolicy Never: refused, nothing triggered', async () => {
      const { ctx, triggers } = fakeCluster('Never', () => rekeyed);
      await expect(renewCertificate(ctx, target)).rejects.toThrow(PreconditionError);
      expect(triggers).toEqual([]);
    });

    it('re-issued with the same key anyway: a StepError that says the rotation stops before any restart', async () => {
      const { ctx, triggers } = fakeCluster(undefined, () => sameKey);
      await expect(renewCertificate(ctx, target)).rejects.toThrow(
        /^the trust anchor re-issued by Certificate cert-manager\/linkerd-trust-anchor \([0-9a-f]{12}\) is no rotation: .*same public key.*; stopping before any restart$/,
      );
      expect(triggers).toEqual(['linkerd-trust-anchor']);
    });

    it('a new anchor that cannot sign: a StepError', async () => {
      const { ctx } = fakeCluster(undefined, () => noCertSign);
      await expect(renewCertificate(ctx, target)).rejects.toThrow(StepError);
    });

    it('a new key: the new fingerprint', async () => {
      const { ctx } = fakeCluster('Always', () => rekeyed);
      await expect(renewCertificate(ctx, target)).resolves.toMatchObject({ fingerprint: rekeyed.cert.fingerprint, triggered: true });
    });
  });
});
