import { StepError } from '../../../src/errors.js';
import type { CertificateView, Condition } from '../../../src/kube/model.js';
import { baselineOf, judgeIssuance, type IssuanceBaseline } from '../../../src/rotation/renew.js';

const FAILED_BEFORE = new Date('2025-05-30T08:00:00Z');
const FAILED_NOW = new Date('2025-06-01T10:05:00Z');

// Before the trigger: revision 3, Ready, an old failure on record, one failed attempt.
const before: CertificateView = {
  namespace: 'linkerd',
  name: 'linkerd-identity-issuer',
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
    ['Issuing still True', issued({ conditions: [READY, { type: 'Issuing', status: 'True', reason: 'ManuallyTriggered' }] }), 'new-fp', 'the Issuing condition to clear'],
    ['Ready missing', issued({ conditions: [] }), 'new-fp', 'Ready=True'],
    ['Ready False', issued({ conditions: [{ type: 'Ready', status: 'False', reason: 'DoesNotExist' }] }), 'new-fp', 'Ready=True'],
    ['Ready for an older generation', issued({ conditions: [{ ...READY, observedGeneration: 1 }] }), 'new-fp', 'Ready for the current generation'],
    ['the Secret still holds the old certificate', issued(), 'old-fp', 'a new certificate in the Secret'],
    ['the Secret unreadable', issued(), undefined, 'a new certificate in the Secret'],
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
