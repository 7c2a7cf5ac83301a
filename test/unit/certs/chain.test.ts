import { findSigner, type ParsedCert } from '../../../src/certs/index.js';
import { isSignedBy } from '../../../src/certs/chain.js';
import { makeAnchor, makeIssuer, makeLeaf, type Generated } from '../../support/certs.js';

// Anchors share one CN unless noted, so only the signature can tell them apart.
let anchor: Generated;
let sameNameOtherKey: Generated;
let sameKeyOtherName: Generated;
let rsaAnchor: Generated;
let otherName: Generated;
let issuer: Generated;
let rsaSignedIssuer: Generated;
let leaf: Generated;

beforeAll(async () => {
  anchor = await makeAnchor({ cn: 'root.test' });
  sameNameOtherKey = await makeAnchor({ cn: 'root.test' });
  sameKeyOtherName = await makeAnchor({ cn: 'renamed.test', keys: anchor.keys });
  rsaAnchor = await makeAnchor({ cn: 'root.test', algorithm: 'rsa' });
  otherName = await makeAnchor({ cn: 'other.test' });
  issuer = await makeIssuer(anchor, { cn: 'issuer.test' });
  rsaSignedIssuer = await makeIssuer(rsaAnchor, { cn: 'issuer.test' });
  leaf = await makeLeaf(issuer, { cn: 'leaf.test' });
});

describe('isSignedBy', () => {
  it.each<[string, () => ParsedCert, () => ParsedCert, boolean]>([
    ['issuer by its anchor', () => issuer.cert, () => anchor.cert, true],
    ['leaf by its issuer', () => leaf.cert, () => issuer.cert, true],
    ['self-signed anchor by itself', () => anchor.cert, () => anchor.cert, true],
    ['EC issuer by its RSA anchor', () => rsaSignedIssuer.cert, () => rsaAnchor.cert, true],
    ['issuer by an anchor with its name but another key', () => issuer.cert, () => sameNameOtherKey.cert, false],
    ['issuer by an anchor with its key but another name', () => issuer.cert, () => sameKeyOtherName.cert, false],
    ['issuer by an unrelated anchor', () => issuer.cert, () => otherName.cert, false],
    ['leaf by the anchor above its issuer', () => leaf.cert, () => anchor.cert, false],
    ['anchor by the issuer it signed', () => anchor.cert, () => issuer.cert, false],
    ['EC-signed issuer by an RSA anchor of the same name', () => issuer.cert, () => rsaAnchor.cert, false],
    ['RSA-signed issuer by an EC anchor of the same name', () => rsaSignedIssuer.cert, () => anchor.cert, false],
  ])('%s -> %s', async (_name, child, parent, expected) => {
    await expect(isSignedBy(child(), parent())).resolves.toBe(expected);
  });

  it('look-alikes differ from the real anchor only where the table says', async () => {
    // Guards the false cases above: each must fail for its one reason, not for both.
    expect(sameNameOtherKey.cert.subject).toBe(issuer.cert.x509.issuer);
    expect(rsaAnchor.cert.subject).toBe(issuer.cert.x509.issuer);
    expect(sameKeyOtherName.cert.subject).not.toBe(issuer.cert.x509.issuer);
    const publicKey = sameKeyOtherName.cert.x509.publicKey;
    await expect(issuer.cert.x509.verify({ publicKey, signatureOnly: true })).resolves.toBe(true);
  });

  it('ignores validity dates', async () => {
    const expired = await makeAnchor({
      cn: 'old.test',
      notBefore: new Date('2000-01-01T00:00:00Z'),
      notAfter: new Date('2001-01-01T00:00:00Z'),
    });
    const child = await makeIssuer(expired, { notBefore: new Date('2000-06-01T00:00:00Z') });
    await expect(isSignedBy(child.cert, expired.cert)).resolves.toBe(true);
  });
});

describe('findSigner', () => {
  it('finds the anchor that signed the issuer among look-alikes', async () => {
    const candidates = [otherName.cert, sameNameOtherKey.cert, rsaAnchor.cert, anchor.cert, sameKeyOtherName.cert];
    const signer = await findSigner(issuer.cert, candidates);
    expect(signer?.fingerprint).toBe(anchor.cert.fingerprint);
  });

  it('finds the RSA anchor for the issuer it signed', async () => {
    const signer = await findSigner(rsaSignedIssuer.cert, [anchor.cert, sameNameOtherKey.cert, rsaAnchor.cert]);
    expect(signer?.fingerprint).toBe(rsaAnchor.cert.fingerprint);
  });

  it.each<[string, () => ParsedCert[]]>([
    ['no candidate signed it', () => [otherName.cert, sameNameOtherKey.cert, rsaAnchor.cert]],
    ['there are no candidates', () => []],
  ])('gives undefined when %s', async (_name, candidates) => {
    await expect(findSigner(issuer.cert, candidates())).resolves.toBeUndefined();
  });
});
