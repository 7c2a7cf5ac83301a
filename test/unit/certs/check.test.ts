import { checkCa, checkIssuerKey, checkValidity, daysUntil, type Finding } from '../../../src/certs/index.js';
import { makeAnchor, makeIssuer, makeLeaf, type Generated } from '../../support/certs.js';

const DAY = 24 * 60 * 60 * 1000;
const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const NOT_AFTER = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(ms);

let anchor: Generated;

beforeAll(async () => {
  anchor = await makeAnchor({ notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
});

describe('daysUntil', () => {
  const now = new Date('2025-06-01T12:00:00Z');
  it.each([
    ['the same instant', 0, 0],
    ['one millisecond later', 1, 0],
    ['one day less a millisecond later', DAY - 1, 0],
    ['exactly one day later', DAY, 1],
    ['59.9 days later', 59.9 * DAY, 59],
    ['one millisecond earlier', -1, -1],
    ['two and a half days earlier', -2.5 * DAY, -3],
  ])('%s -> %s', (_name, offset, expected) => {
    expect(daysUntil(at(now.getTime() + offset), now)).toBe(expected);
  });
});

describe('checkValidity', () => {
  const before = NOT_BEFORE.getTime();
  const after = NOT_AFTER.getTime();
  const warn = (message: string): Finding[] => [{ severity: 'warning', subject: 'trust anchor', message }];
  const fail = (message: string): Finding[] => [{ severity: 'error', subject: 'trust anchor', message }];

  it.each<[string, Date, Finding[]]>([
    ['a second before notBefore', at(before - 1000), fail('not valid before 2025-01-01T00:00:00.000Z')],
    ['at notBefore', at(before), []],
    ['half way', at(before + 180 * DAY), []],
    ['61 days before notAfter', at(after - 61 * DAY), []],
    ['just over 60 days before notAfter', at(after - 60 * DAY - 1), []],
    ['exactly 60 days before notAfter', at(after - 60 * DAY), warn('expires in 60 days on 2026-01-01T00:00:00.000Z')],
    ['59 days before notAfter', at(after - 59 * DAY), warn('expires in 59 days on 2026-01-01T00:00:00.000Z')],
    ['36 hours before notAfter', at(after - 1.5 * DAY), warn('expires in 1 day on 2026-01-01T00:00:00.000Z')],
    ['an hour before notAfter', at(after - 3600_000), warn('expires in 0 days on 2026-01-01T00:00:00.000Z')],
    ['at notAfter', at(after), warn('expires in 0 days on 2026-01-01T00:00:00.000Z')],
    ['a millisecond after notAfter', at(after + 1), fail('expired on 2026-01-01T00:00:00.000Z')],
    ['a year after notAfter', at(after + 365 * DAY), fail('expired on 2026-01-01T00:00:00.000Z')],
  ])('%s', (_name, now, expected) => {
    expect(checkValidity(anchor.cert, 'trust anchor', now, 60)).toEqual(expected);
  });

  it.each([
    [0, []],
    [58, []],
    [59, warn('expires in 59 days on 2026-01-01T00:00:00.000Z')],
  ])('uses warningDays=%s as the window', (warningDays, expected) => {
    expect(checkValidity(anchor.cert, 'trust anchor', at(after - 59 * DAY), warningDays)).toEqual(expected);
  });

  it('names the subject it was given', () => {
    const [finding] = checkValidity(anchor.cert, 'identity issuer', at(after + 1), 60);
    expect(finding?.subject).toBe('identity issuer');
  });
});

describe('checkCa', () => {
  it.each<[string, (root: Generated) => Promise<Generated>, boolean]>([
    ['an anchor', (root) => Promise.resolve(root), true],
    ['an issuer', (root) => makeIssuer(root), true],
    ['a leaf', async (root) => makeLeaf(await makeIssuer(root)), false],
  ])('%s is a CA: %s', async (_name, make, isCa) => {
    const { cert } = await make(anchor);
    const expected: Finding[] = isCa
      ? []
      : [{ severity: 'error', subject: 'identity issuer', message: 'not a CA certificate (basicConstraints cA is not set)' }];
    expect(checkCa(cert, 'identity issuer')).toEqual(expected);
  });
});

describe('checkIssuerKey', () => {
  it.each([
    ['ec', null],
    ['ec-p384', 'ECDSA P-384'],
    ['rsa', 'RSA 2048'],
    ['ed25519', 'Ed25519'],
  ] as const)('an issuer with a %s key -> %s', async (algorithm, rejected) => {
    const { cert } = await makeIssuer(anchor, { algorithm });
    const expected: Finding[] =
      rejected === null
        ? []
        : [
            {
              severity: 'error',
              subject: 'identity issuer',
              message: `key is ${rejected}; Linkerd requires ECDSA P-256`,
            },
          ];
    expect(checkIssuerKey(cert)).toEqual(expected);
  });

  it('looks at the issuer key, not at the key that signed it', async () => {
    const rsaRoot = await makeAnchor({ algorithm: 'rsa' });
    expect(checkIssuerKey((await makeIssuer(rsaRoot, { algorithm: 'ec' })).cert)).toEqual([]);
  });
});
