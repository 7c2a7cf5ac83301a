// Certificate facts the fake's controllers need (which anchor a CA chains to, trust-manager's
// sorting), from node:crypto's X509Certificate: none of the rotator's certificate code.
import { X509Certificate } from 'node:crypto';

const block = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;

/** The certificates of a PEM bundle, each ending with a newline. */
export function splitPem(text: string | undefined): string[] {
  return (text ?? '').match(block)?.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)) ?? [];
}

const parsed = new Map<string, X509Certificate>();
function x509(pem: string): X509Certificate {
  let cert = parsed.get(pem);
  if (!cert) {
    cert = new X509Certificate(pem);
    parsed.set(pem, cert);
  }
  return cert;
}

/** SHA-256 of the DER, lowercase hex: what trust-manager sorts and de-duplicates by. */
export const fingerprintOf = (pem: string): string => x509(pem).fingerprint256.replace(/:/g, '').toLowerCase();

const signed = new Map<string, boolean>();
/** True when `parent` signed `child` (names and signature; dates are not looked at). */
export function signedBy(child: string, parent: string): boolean {
  const key = `${fingerprintOf(child)}/${fingerprintOf(parent)}`;
  let result = signed.get(key);
  if (result === undefined) {
    const c = x509(child);
    const p = x509(parent);
    result = c.checkIssued(p) && c.verify(p.publicKey);
    signed.set(key, result);
  }
  return result;
}

/** True when `issuer` chains to one of the anchors of `bundle`. */
export const chainsTo = (issuer: string, bundle: string | undefined): boolean => splitPem(bundle).some((anchor) => signedBy(issuer, anchor));

/** trust-manager's output: every certificate once, ordered by fingerprint. */
export function trustManagerBundle(pems: readonly string[]): string {
  const byFingerprint = new Map<string, string>();
  for (const pem of pems) byFingerprint.set(fingerprintOf(pem), pem);
  return [...byFingerprint.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, pem]) => pem)
    .join('');
}
