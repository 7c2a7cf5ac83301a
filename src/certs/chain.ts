import type { ParsedCert } from './pem.js';
import { webCrypto } from './crypto.js';

/**
 * True when `parent` issued `child`: the child's issuer name equals the parent's subject and the
 * child's signature verifies with the parent's public key. Validity dates are not looked at.
 * Returns false, never throws, when the keys cannot be used together (e.g. RSA parent, ECDSA child).
 * @internal exported for its unit tests
 */
export async function isSignedBy(child: ParsedCert, parent: ParsedCert): Promise<boolean> {
  if (child.x509.issuer !== parent.x509.subject) return false;
  try {
    return await child.x509.verify({ publicKey: parent.x509.publicKey, signatureOnly: true }, webCrypto);
  } catch {
    return false;
  }
}

/** The first candidate that signed `child` (see isSignedBy), or undefined when none did. */
export async function findSigner(child: ParsedCert, candidates: readonly ParsedCert[]): Promise<ParsedCert | undefined> {
  for (const candidate of candidates) {
    if (await isSignedBy(child, candidate)) return candidate;
  }
  return undefined;
}
