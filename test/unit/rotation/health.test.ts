import { KeyUsageFlags } from '@peculiar/x509';
import { PreconditionError } from '../../../src/errors.js';
import { certificateFindings, expiredProcedure, issuerWarningDays, refuseUnsafe } from '../../../src/rotation/health.js';
import { makeAnchor, makeIssuer, type Generated } from '../../support/certs.js';
import { cleanPreviousSecret, makeRotation, NOW, observedState, type Rotation, type StateSpec } from '../../support/state.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const LINKERD_EXPIRED_URL = 'https://linkerd.io/2/tasks/replacing_expired_certificates/';

let r: Rotation;
let expiredAnchor: Generated;
let issuerOfExpired: Generated;
let rsaIssuer: Generated;
let futureIssuer: Generated;
let expiringAnchor: Generated;
let expiredPrevious: Generated;
let overdueIssuer: Generated;
let noCertSignAnchor: Generated;
beforeAll(async () => {
  noCertSignAnchor = await makeAnchor({
    keyUsages: KeyUsageFlags.digitalSignature,
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
  });
  r = await makeRotation();
  expiredAnchor = await makeAnchor({ notBefore: new Date('2024-05-01T00:00:00Z'), notAfter: new Date('2025-05-01T00:00:00Z') });
  issuerOfExpired = await makeIssuer(expiredAnchor, { notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + DAY * 1.5) });
  rsaIssuer = await makeIssuer(r.newAnchor, { algorithm: 'rsa', notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + 2 * DAY) });
  futureIssuer = await makeIssuer(r.newAnchor, { notBefore: new Date(NOW.getTime() + DAY), notAfter: new Date(NOW.getTime() + 3 * DAY) });
  expiringAnchor = await makeAnchor({ notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date(NOW.getTime() + 30 * DAY) });
  overdueIssuer = await makeIssuer(r.newAnchor, { notBefore: new Date(NOW.getTime() - 38 * HOUR), notAfter: new Date(NOW.getTime() + 10 * HOUR) });
  expiredPrevious = await makeAnchor({ notBefore: new Date('2024-01-01T00:00:00Z'), notAfter: new Date('2025-01-01T00:00:00Z') });
});

/** Steady on the new anchor, clean previous-anchor Secret, one target ConfigMap in step. */
const healthy = (over: Partial<StateSpec> = {}): StateSpec => ({
  anchor: r.newAnchor,
  previous: [r.newAnchor],
  issuer: r.newIssuer,
  signer: r.newAnchor,
  ...over,
});

describe('certificateFindings', () => {
  it('finds nothing in a healthy state', () => {
    expect(certificateFindings(observedState(healthy()), 1)).toEqual([]);
  });

  it.each<[string, () => StateSpec, number, { severity: string; subject: string; message: RegExp }[]]>([
    [
      'anchor inside the warning window',
      () => healthy({ anchor: expiringAnchor, previous: [expiringAnchor] }),
      60,
      [{ severity: 'warning', subject: 'trust anchor', message: /^expires in 30 days/ }],
    ],
    ['anchor outside a shorter window', () => healthy({ anchor: expiringAnchor, previous: [expiringAnchor] }), 29, []],
    ['a 48h issuer with 46h left, 60-day window: quiet (its window is a third of its lifetime)', () => healthy(), 60, []],
    [
      'a 48h issuer with 10h left: its renewal is overdue',
      () => healthy({ issuer: overdueIssuer }),
      60,
      [{ severity: 'warning', subject: 'identity issuer', message: /^expires in 0 days on / }],
    ],
    [
      'expired previous anchor: a warning, never an error',
      () => healthy({ previous: [expiredPrevious] }),
      1,
      [{ severity: 'warning', subject: 'previous anchor', message: /^expired on 2025-01-01/ }],
    ],
    [
      'no previous-anchor Secret: the bundle cannot take the next anchor',
      () => healthy({ previous: [] }),
      1,
      [{ severity: 'error', subject: 'bundle', message: /^Secret cert-manager\/linkerd-previous-anchor does not exist: / }],
    ],
    [
      'legacy previous-anchor Secret (a copy of the anchor Secret)',
      () =>
        healthy({
          previousSecret: cleanPreviousSecret({
            type: 'kubernetes.io/tls',
            hasPrivateKey: true,
            hasCertManagerMetadata: true,
            otherKeys: ['tls.key', 'ca.crt'],
          }),
        }),
      1,
      [
        {
          severity: 'warning',
          subject: 'previous anchor',
          message:
            /^Secret cert-manager\/linkerd-previous-anchor is a copy of the anchor Secret \(type kubernetes\.io\/tls, holds a private key, cert-manager metadata\): the next update-bundle rewrites it/,
        },
      ],
    ],
    [
      'Opaque Secret with cert-manager metadata only',
      () => healthy({ previousSecret: cleanPreviousSecret({ hasCertManagerMetadata: true }) }),
      1,
      [{ severity: 'warning', subject: 'previous anchor', message: /\(type Opaque, cert-manager metadata\)/ }],
    ],
    [
      'Opaque Secret holding a key',
      () => healthy({ previousSecret: cleanPreviousSecret({ hasPrivateKey: true }) }),
      1,
      [{ severity: 'warning', subject: 'previous anchor', message: /\(type Opaque, holds a private key\)/ }],
    ],
    [
      'a ConfigMap out of step',
      () => healthy({ targets: [{ namespace: 'linkerd', anchors: [r.oldAnchor] }] }),
      1,
      [{ severity: 'warning', subject: 'bundle', message: /^linkerd: holds 1 anchor/ }],
    ],
    [
      'the Bundle selects no namespace',
      () => healthy({ targets: [] }),
      1,
      [{ severity: 'error', subject: 'bundle', message: /^Bundle linkerd-identity-trust-roots selects no namespace: no ConfigMap carries the bundle$/ }],
    ],
    [
      'issuer chaining to neither the anchor nor a kept previous anchor',
      () => healthy({ previous: [r.oldAnchor], signer: undefined, targets: [{ namespace: 'linkerd', anchors: [r.oldAnchor, r.newAnchor] }] }),
      1,
      [{ severity: 'error', subject: 'identity issuer', message: /^does not chain to the current or the previous trust anchor$/ }],
    ],
    [
      'issuer left on an anchor the bundle dropped (inconsistent): broken, with rotate as the remedy',
      () => healthy({ issuer: r.oldIssuer, signer: undefined }),
      1,
      [
        {
          severity: 'error',
          subject: 'identity issuer',
          message: /^does not chain to the only anchor in the bundle \(the old anchor was dropped while the issuer still chained to it\): run rotate to repair/,
        },
      ],
    ],
    [
      'anchor without keyCertSign',
      () => healthy({ anchor: noCertSignAnchor, previous: [noCertSignAnchor] }),
      1,
      [{ severity: 'error', subject: 'trust anchor', message: /^not a usable CA certificate \(keyUsage lacks keyCertSign\)$/ }],
    ],
  ])('%s', (_name, spec, warningDays, expected) => {
    const findings = certificateFindings(observedState(spec()), warningDays);
    expect(findings).toEqual(expected.map((f) => ({ severity: f.severity, subject: f.subject, message: expect.stringMatching(f.message) as unknown })));
  });
});

describe('issuerWarningDays', () => {
  const span = (hours: number) => ({ notBefore: new Date(0), notAfter: new Date(hours * HOUR) });
  it.each([
    ['48h issuer, 60-day window', 48, 60, 2 / 3],
    ['a year-long issuer keeps the 60 days', 365 * 24, 60, 60],
    ['a year-long issuer with a 7-day window', 365 * 24, 7, 7],
    ['a 90-day issuer', 90 * 24, 60, 30],
  ])('%s', (_name, hours, window, expected) => {
    expect(issuerWarningDays(span(hours), window)).toBeCloseTo(expected, 9);
  });
});

describe('refuseUnsafe', () => {
  it('returns the findings when nothing is an error', () => {
    const state = observedState(healthy({ previousSecret: cleanPreviousSecret({ hasPrivateKey: true }) }));
    expect(refuseUnsafe(state, 1)).toEqual([expect.objectContaining({ severity: 'warning', subject: 'previous anchor' })]);
  });

  it('does not refuse for bundle errors: the rotation can fix the bundle', () => {
    expect(refuseUnsafe(observedState(healthy({ targets: [] })), 1)).toEqual([expect.objectContaining({ severity: 'error', subject: 'bundle' })]);
  });

  it("an expired anchor: refused, pointing at Linkerd's procedure for expired certificates", () => {
    const state = observedState({ anchor: expiredAnchor, previous: [expiredAnchor], issuer: issuerOfExpired, signer: expiredAnchor });
    expect(expiredProcedure).toBe(LINKERD_EXPIRED_URL);
    expect(() => refuseUnsafe(state, 1)).toThrow(PreconditionError);
    expect(() => refuseUnsafe(state, 1)).toThrow(
      `refusing to rotate: trust anchor ${expiredAnchor.cert.fingerprint.slice(0, 12)}: expired on 2025-05-01T00:00:00.000Z. Proxies can no longer validate each other; follow Linkerd's procedure for replacing expired certificates: ${LINKERD_EXPIRED_URL}`,
    );
  });

  it.each<[string, () => StateSpec, RegExp]>([
    [
      'an RSA issuer',
      () => healthy({ issuer: rsaIssuer }),
      /^refusing to rotate: identity issuer [0-9a-f]{12}: key is RSA 2048; Linkerd requires ECDSA P-256$/,
    ],
    [
      'an issuer chaining to no anchor',
      () => healthy({ previous: [expiredPrevious], issuer: r.oldIssuer, signer: undefined }),
      /^refusing to rotate: identity issuer [0-9a-f]{12}: does not chain to the current or the previous trust anchor$/,
    ],
    ['an issuer not valid yet', () => healthy({ issuer: futureIssuer }), /^refusing to rotate: identity issuer [0-9a-f]{12}: not valid before /],
  ])('%s: refused without the expired-certificates procedure', (_name, spec, message) => {
    const state = observedState(spec());
    expect(() => refuseUnsafe(state, 1)).toThrow(PreconditionError);
    expect(() => refuseUnsafe(state, 1)).toThrow(message);
  });

  it('an issuer left on an anchor the bundle dropped is not refused: rotate repairs it', () => {
    const state = observedState(healthy({ issuer: r.oldIssuer, signer: undefined }));
    expect(refuseUnsafe(state, 1).map((f) => f.subject)).toContain('identity issuer');
  });

  it('names the issuer by its own fingerprint', () => {
    const state = observedState(healthy({ issuer: rsaIssuer }));
    expect(() => refuseUnsafe(state, 1)).toThrow(`identity issuer ${rsaIssuer.cert.fingerprint.slice(0, 12)}:`);
  });
});
