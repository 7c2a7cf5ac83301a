import { X509Certificate as NodeX509 } from 'node:crypto';
import { CertificateError, fingerprints, parsePemBundle, shortFingerprint, toPem, type ParsedCert } from '../../../src/certs/index.js';
import { bundleOf, makeAnchor, makeIssuer, makeLeaf, type Generated } from '../../support/certs.js';

const WHAT = 'Secret cert-manager/linkerd-trust-anchor key tls.crt';
const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const NOT_AFTER = new Date('2026-01-01T00:00:00Z');

let anchor: Generated;
let issuer: Generated;
let leaf: Generated;
let other: Generated;

beforeAll(async () => {
  anchor = await makeAnchor({ cn: 'root.test', notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  issuer = await makeIssuer(anchor, { cn: 'issuer.test' });
  leaf = await makeLeaf(issuer, { cn: 'leaf.test' });
  other = await makeAnchor({ cn: 'other.test' });
});

/** The base64 lines of a PEM block, i.e. the encoded content without BEGIN/END lines. */
function bodyLines(pem: string): string[] {
  return pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
}

function catchError(fn: () => unknown): CertificateError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CertificateError) return err;
    throw err;
  }
  throw new Error('expected a CertificateError, nothing was thrown');
}

describe('parsePemBundle', () => {
  it('parses one certificate with its facts', () => {
    const [cert, ...rest] = parsePemBundle(anchor.pem, WHAT);
    expect(rest).toHaveLength(0);
    const node = new NodeX509(anchor.pem);
    expect(cert).toMatchObject({
      fingerprint: node.fingerprint256.replaceAll(':', '').toLowerCase(),
      subject: 'CN=root.test',
      serialNumber: node.serialNumber.toLowerCase(),
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      isCa: true,
      keyAlgorithm: 'ECDSA P-256',
      pem: anchor.pem,
    });
    expect(cert?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(cert?.x509.subject).toBe('CN=root.test');
  });

  it('parses several certificates in input order', () => {
    const certs = parsePemBundle(bundleOf(leaf, issuer, anchor), WHAT);
    expect(certs.map((c) => c.subject)).toEqual(['CN=leaf.test', 'CN=issuer.test', 'CN=root.test']);
    expect(certs.map((c) => c.fingerprint)).toEqual([leaf.cert.fingerprint, issuer.cert.fingerprint, anchor.cert.fingerprint]);
  });

  it.each([
    ['empty', ''],
    ['spaces and newlines', '  \n\t\r\n  '],
  ])('returns no certificates for %s text', (_name, text) => {
    expect(parsePemBundle(text, WHAT)).toEqual([]);
  });

  it.each<[string, (pem: string) => string]>([
    ['CRLF line ends', (pem) => pem.replaceAll('\n', '\r\n')],
    ['surrounding blank lines', (pem) => `\n\n  ${pem}\n\n`],
    ['no final newline', (pem) => pem.trimEnd()],
    ['indented base64 lines', (pem) => pem.replaceAll('\n', '\n    ').trimEnd()],
    ['one long base64 line per block', (pem) => pem.replace(/(?<=-----\n)[^-]+(?=\n-----END)/g, (body) => body.replaceAll('\n', ''))],
  ])('tolerates %s', (_name, transform) => {
    const text = transform(bundleOf(anchor, issuer));
    expect(parsePemBundle(text, WHAT).map((c) => c.fingerprint)).toEqual([anchor.cert.fingerprint, issuer.cert.fingerprint]);
  });

  describe('rejects malformed input without echoing it', () => {
    // Each case: a name, a builder for the bad text, the reason expected in the message, and a
    // fragment of the input that must not appear in it.
    const cases: [string, () => string, RegExp, () => string][] = [
      [
        'bad base64 characters',
        () => anchor.pem.replace(bodyLines(anchor.pem)[1] ?? '', (line) => `${line.slice(0, 10)}!*${line.slice(12)}`),
        /PEM block 1 is not valid base64/,
        () => bodyLines(anchor.pem)[0] ?? '',
      ],
      [
        'base64 of the wrong length',
        () => anchor.pem.replace(bodyLines(anchor.pem)[1] ?? '', (line) => line.slice(1)),
        /PEM block 1 is not valid base64/,
        () => bodyLines(anchor.pem)[0] ?? '',
      ],
      [
        'a block without END line',
        () => anchor.pem + anchor.pem.slice(0, 200),
        /PEM block 2 \(CERTIFICATE\) has no END line/,
        () => bodyLines(anchor.pem)[0] ?? '',
      ],
      [
        'a block cut in the middle',
        () => {
          const lines = bodyLines(anchor.pem);
          const half = lines.slice(0, Math.floor(lines.length / 2)).join('\n');
          return `-----BEGIN CERTIFICATE-----\n${half}\n-----END CERTIFICATE-----\n`;
        },
        /PEM block 1 is not a valid X.509 certificate/,
        () => bodyLines(anchor.pem)[0] ?? '',
      ],
      [
        'base64 that is not DER',
        () => `-----BEGIN CERTIFICATE-----\n${Buffer.from('not a certificate at all').toString('base64')}\n-----END CERTIFICATE-----\n`,
        /PEM block 1 is not a valid X.509 certificate/,
        () => Buffer.from('not a certificate at all').toString('base64'),
      ],
      ['an empty CERTIFICATE block', () => '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n', /PEM block 1 is not valid base64/, () => '-----BEGIN'],
      [
        'a PUBLIC KEY block',
        () => `${anchor.pem}-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQ==\n-----END PUBLIC KEY-----\n`,
        /PEM block 2 is a PUBLIC KEY, not a CERTIFICATE/,
        () => 'MFkwEwYHKoZIzj0CAQ==',
      ],
      ['text before a block', () => `garbage-before\n${anchor.pem}`, /unexpected text before PEM block 1/, () => 'garbage-before'],
      ['text between blocks', () => `${anchor.pem}garbage-between\n${issuer.pem}`, /unexpected text before PEM block 2/, () => 'garbage-between'],
      ['text after the last block', () => `${anchor.pem}garbage-after`, /unexpected text after PEM block 1/, () => 'garbage-after'],
      ['no PEM at all', () => 'just-some-words', /no PEM block found/, () => 'just-some-words'],
      ['raw base64 without PEM lines', () => bodyLines(anchor.pem).join('\n'), /no PEM block found/, () => bodyLines(anchor.pem)[0] ?? ''],
      ['an END line without BEGIN', () => '-----END CERTIFICATE-----\n', /no PEM block found/, () => '-----END'],
    ];

    it.each(cases)('%s', (_name, build, reason, secret) => {
      const error = catchError(() => parsePemBundle(build(), WHAT));
      expect(error.what).toBe(WHAT);
      expect(error.name).toBe('CertificateError');
      expect(error.message).toMatch(new RegExp(`^${WHAT}: `));
      expect(error.message).toMatch(reason);
      expect(secret()).not.toBe('');
      expect(error.message).not.toContain(secret());
    });
  });

  describe('private keys', () => {
    it.each([
      ['PKCS#8', (key: string) => key],
      ['SEC1 label', (key: string) => key.replaceAll('PRIVATE KEY', 'EC PRIVATE KEY')],
      ['PKCS#1 label', (key: string) => key.replaceAll('PRIVATE KEY', 'RSA PRIVATE KEY')],
      ['encrypted label', (key: string) => key.replaceAll('PRIVATE KEY', 'ENCRYPTED PRIVATE KEY')],
    ])('skips a %s key block next to certificates', (_name, relabel) => {
      const key = relabel(anchor.keyPem);
      const certs = parsePemBundle(`${anchor.pem}${key}${issuer.pem}`, WHAT);
      expect(certs.map((c) => c.fingerprint)).toEqual([anchor.cert.fingerprint, issuer.cert.fingerprint]);
      for (const line of bodyLines(anchor.keyPem)) expect(toPem(certs)).not.toContain(line);
    });

    it.each<[string, () => string]>([
      ['a bad certificate follows it', () => `${anchor.keyPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`],
      ['its END line is missing', () => anchor.keyPem.slice(0, anchor.keyPem.indexOf('-----END'))],
      ['text follows it', () => `${anchor.keyPem}trailing`],
      ['the key is mislabelled as a certificate', () => anchor.keyPem.replaceAll('PRIVATE KEY', 'CERTIFICATE')],
    ])('never appear in the error when %s', (_name, build) => {
      const error = catchError(() => parsePemBundle(build(), WHAT));
      expect(error.what).toBe(WHAT);
      const keyBase64 = bodyLines(anchor.keyPem);
      expect(keyBase64.length).toBeGreaterThan(0);
      for (const line of keyBase64) expect(error.message).not.toContain(line);
      expect(error.message).not.toContain(keyBase64.join(''));
      expect(error.message).not.toContain(keyBase64.join('').slice(0, 16));
      expect(error.cause).toBeUndefined();
    });

    it('gives no certificates for a key alone', () => {
      expect(parsePemBundle(anchor.keyPem, WHAT)).toEqual([]);
    });
  });
});

/** The first certificate of a PEM text (the leaf of a chain). */
const firstCert = (text: string, what: string): ParsedCert => parsePemBundle(text, what)[0] as ParsedCert;

describe('parsing the same certificate again', () => {
  it('returns the facts parsed before, whatever whitespace and bundle it comes in', () => {
    const [first] = parsePemBundle(anchor.pem, WHAT);
    const rewrapped = anchor.pem.replace(/\n(?!-----)/g, '\r\n');
    const [again] = parsePemBundle(bundleOf(issuer, anchor).replace(anchor.pem, rewrapped), 'ConfigMap linkerd/linkerd-identity-trust-roots').slice(1);
    expect(again).toBe(first);
    expect(again?.fingerprint).toBe(new NodeX509(anchor.pem).fingerprint256.replace(/:/g, '').toLowerCase());
  });

  it('still refuses a body that differs by one character from a parsed one', () => {
    parsePemBundle(anchor.pem, WHAT);
    const lines = anchor.pem.split('\n');
    lines[2] = `${lines[2]?.slice(0, -1) ?? ''}!`;
    expect(() => parsePemBundle(lines.join('\n'), WHAT)).toThrow(CertificateError);
  });
});

describe('key algorithm and CA flag', () => {
  it.each([
    ['ec', 'ECDSA P-256'],
    ['ec-p384', 'ECDSA P-384'],
    ['rsa', 'RSA 2048'],
    ['ed25519', 'Ed25519'],
  ] as const)('describes a %s key as %s', async (algorithm, expected) => {
    const generated = await makeAnchor({ algorithm });
    expect(firstCert(generated.pem, WHAT).keyAlgorithm).toBe(expected);
  });

  it.each([
    ['anchor', () => anchor, true],
    ['issuer', () => issuer, true],
    ['leaf', () => leaf, false],
  ] as const)('reads basicConstraints of the %s', (_name, pick, isCa) => {
    expect(firstCert(pick().pem, WHAT).isCa).toBe(isCa);
  });
});

describe('fingerprints', () => {
  it('gives the same fingerprint for the same certificate every time', () => {
    const again = firstCert(anchor.pem.replaceAll('\n', '\r\n'), 'another object');
    expect(again.fingerprint).toBe(anchor.cert.fingerprint);
    expect(again.fingerprint).not.toBe(other.cert.fingerprint);
  });

  it('collects a set, without duplicates', () => {
    const set = fingerprints([anchor.cert, other.cert, anchor.cert]);
    expect(set).toEqual(new Set([anchor.cert.fingerprint, other.cert.fingerprint]));
    expect(fingerprints([])).toEqual(new Set());
  });
});

describe('toPem', () => {
  it('concatenates certificates in order, one PEM block each, ending with a newline', () => {
    const text = toPem([issuer.cert, anchor.cert]);
    expect(text).toBe(`${issuer.cert.pem}${anchor.cert.pem}`);
    expect(text.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    expect(text).not.toContain('\n\n');
    expect(parsePemBundle(text, WHAT).map((cert) => cert.fingerprint)).toEqual([issuer.cert.fingerprint, anchor.cert.fingerprint]);
  });

  it('writes standard 64-column PEM', () => {
    expect(anchor.cert.pem).toMatch(/^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
    expect(new NodeX509(anchor.cert.pem).fingerprint256.replaceAll(':', '').toLowerCase()).toBe(anchor.cert.fingerprint);
  });

  it('gives an empty text for no certificates', () => {
    expect(toPem([])).toBe('');
  });
});

describe('shortFingerprint', () => {
  it('keeps the first 12 hex characters', () => {
    expect(shortFingerprint('0123456789abcdef0123456789abcdef')).toBe('0123456789ab');
    expect(shortFingerprint(anchor.cert.fingerprint)).toBe(anchor.cert.fingerprint.slice(0, 12));
  });
});
