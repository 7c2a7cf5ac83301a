// Certificates for tests, generated in memory on every run: nothing here is ever written to disk.
import type { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { webCrypto } from '../../src/certs/crypto.js';
import { parsePemBundle, type ParsedCert } from '../../src/certs/pem.js';

/** A generated certificate with its key pair; `pem` is the certificate alone, `keyPem` is PKCS#8. */
export interface Generated {
  cert: ParsedCert;
  pem: string;
  keyPem: string;
  keys: CryptoKeyPair;
}

/** Key type: 'ec' is ECDSA P-256 (what Linkerd requires of the issuer). */
export type KeyKind = 'ec' | 'ec-p384' | 'rsa' | 'ed25519';

export interface CertOptions {
  cn?: string;
  /** Default: one hour ago. */
  notBefore?: Date;
  /** Default: one year from now for an anchor, 48 hours for an issuer, 24 hours for a leaf. */
  notAfter?: Date;
  /** Default: 'ec'. Ignored when `keys` is given. */
  algorithm?: KeyKind;
  /** Reuse a key pair (as cert-manager does with `rotationPolicy: Never`); default: a new one. */
  keys?: CryptoKeyPair;
  /** Key usages of a CA (x509.KeyUsageFlags); default keyCertSign, cRLSign, digitalSignature. */
  keyUsages?: number;
  /** basicConstraints cA of an anchor; default true. */
  ca?: boolean;
}

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const HOUR_MS = 60 * 60 * 1000;

const KEY_PARAMS = {
  ec: { name: 'ECDSA', namedCurve: 'P-256' },
  'ec-p384': { name: 'ECDSA', namedCurve: 'P-384' },
  rsa: {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
  ed25519: { name: 'Ed25519' },
} as const;

const SIGNING_PARAMS = {
  ec: { name: 'ECDSA', hash: 'SHA-256' },
  'ec-p384': { name: 'ECDSA', hash: 'SHA-384' },
  rsa: { name: 'RSASSA-PKCS1-v1_5' },
  ed25519: { name: 'Ed25519' },
} as const;

const CA_KEY_USAGES = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature;
const LEAF_KEY_USAGES = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment;

/** A self-signed CA like cert-manager's linkerd-trust-anchor (ECDSA P-256 unless told otherwise). */
export async function makeAnchor(opts: CertOptions = {}): Promise<Generated> {
  const keys = opts.keys ?? (await generateKeys(opts.algorithm ?? 'ec'));
  const name = [{ CN: [opts.cn ?? 'root.linkerd.cluster.local'] }];
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: name,
      issuer: name,
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: signingParams(keys),
      ...validity(opts, 365 * 24 * HOUR_MS),
      extensions: [
        new x509.BasicConstraintsExtension(opts.ca ?? true, undefined, true),
        new x509.KeyUsagesExtension(opts.keyUsages ?? CA_KEY_USAGES, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webCrypto),
      ],
    },
    webCrypto,
  );
  return finish(cert, keys, 'generated trust anchor');
}

/** An intermediate CA signed by `signer`, like linkerd-identity-issuer. */
export async function makeIssuer(signer: Generated, opts: CertOptions = {}): Promise<Generated> {
  return makeSigned(signer, opts, {
    ca: true,
    cn: 'identity.linkerd.cluster.local',
    lifetimeMs: 48 * HOUR_MS,
  });
}

/** A non-CA certificate signed by `signer`, like a proxy's leaf certificate. */
export async function makeLeaf(signer: Generated, opts: CertOptions = {}): Promise<Generated> {
  return makeSigned(signer, opts, {
    ca: false,
    cn: 'default.default.serviceaccount.identity.linkerd.cluster.local',
    lifetimeMs: 24 * HOUR_MS,
  });
}

/** Several generated certificates as one PEM bundle, in the given order. */
export function bundleOf(...generated: readonly Generated[]): string {
  return generated.map((g) => g.pem).join('');
}

async function makeSigned(signer: Generated, opts: CertOptions, role: { ca: boolean; cn: string; lifetimeMs: number }): Promise<Generated> {
  const keys = opts.keys ?? (await generateKeys(opts.algorithm ?? 'ec'));
  const cn = opts.cn ?? role.cn;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(role.ca, undefined, true),
    new x509.KeyUsagesExtension(role.ca ? CA_KEY_USAGES : LEAF_KEY_USAGES, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webCrypto),
    await x509.AuthorityKeyIdentifierExtension.create(signer.keys.publicKey, false, webCrypto),
  ];
  if (!role.ca) {
    extensions.push(
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: cn }]),
    );
  }
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: [{ CN: [cn] }],
      issuer: signer.cert.x509.subjectName,
      publicKey: keys.publicKey,
      signingKey: signer.keys.privateKey,
      signingAlgorithm: signingParams(signer.keys),
      ...validity(opts, role.lifetimeMs),
      extensions,
    },
    webCrypto,
  );
  return finish(cert, keys, role.ca ? 'generated issuer' : 'generated leaf');
}

async function generateKeys(kind: KeyKind): Promise<CryptoKeyPair> {
  const keys = await webCrypto.subtle.generateKey(KEY_PARAMS[kind], true, ['sign', 'verify']);
  // generateKey's overloads cannot tell from a union of parameters that all of them give a pair.
  if (!('privateKey' in keys)) throw new Error(`${kind} generated a single key, not a key pair`);
  return keys;
}

// The signature algorithm follows the signer's key, whatever kind the signed certificate has.
function signingParams(keys: CryptoKeyPair): (typeof SIGNING_PARAMS)[KeyKind] {
  const algorithm = keys.privateKey.algorithm as { name: string; namedCurve?: string };
  switch (algorithm.name) {
    case 'ECDSA':
      return algorithm.namedCurve === 'P-384' ? SIGNING_PARAMS['ec-p384'] : SIGNING_PARAMS.ec;
    case 'RSASSA-PKCS1-v1_5':
      return SIGNING_PARAMS.rsa;
    case 'Ed25519':
      return SIGNING_PARAMS.ed25519;
    default:
      throw new Error(`cannot sign with a ${algorithm.name} key`);
  }
}

function validity(opts: CertOptions, lifetimeMs: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return {
    notBefore: opts.notBefore ?? new Date(now - HOUR_MS),
    notAfter: opts.notAfter ?? new Date(now + lifetimeMs),
  };
}

async function finish(certificate: x509.X509Certificate, keys: CryptoKeyPair, what: string): Promise<Generated> {
  const cert = parsePemBundle(certificate.toString('pem'), what)[0] as ParsedCert;
  const pkcs8 = await webCrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  return { cert, pem: cert.pem, keyPem: keyPem.endsWith('\n') ? keyPem : `${keyPem}\n`, keys };
}
