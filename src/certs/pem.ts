import { createHash } from 'node:crypto';
import { BasicConstraintsExtension, X509Certificate } from '@peculiar/x509';

/** One parsed X.509 certificate, with the facts the rotator decides on. */
export interface ParsedCert {
  /** Lowercase hex SHA-256 of the DER encoding (what trust-manager sorts and dedups by). */
  fingerprint: string;
  /** Subject distinguished name, e.g. `CN=root.linkerd.cluster.local`. */
  subject: string;
  /** Hexadecimal serial number. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA; false when the extension is absent. */
  isCa: boolean;
  /** 'ECDSA P-256', 'ECDSA P-384', 'RSA 2048', 'Ed25519', ... */
  keyAlgorithm: string;
  /** This certificate alone, PEM-encoded, ending with a newline. */
  pem: string;
  x509: X509Certificate;
}

/**
 * A certificate or bundle that cannot be used. `what` names the object it came from; the message
 * never contains any of the input text, so it is safe to log even when a key was in the input.
 */
export class CertificateError extends Error {
  override readonly name = 'CertificateError';

  constructor(
    readonly what: string,
    reason: string,
  ) {
    super(`${what}: ${reason}`);
  }
}

const BLOCK_START = /-----BEGIN ([A-Z0-9 ]+)-----/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const CERTIFICATE_LABEL = 'CERTIFICATE';
// `PRIVATE KEY`, `EC PRIVATE KEY`, `RSA PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`: a Secret's tls.key
// pasted next to its certificate. Skipped without being decoded so nothing of it can leak.
const PRIVATE_KEY_LABEL = /(^|\s)PRIVATE KEY$/;

/**
 * Parses every certificate of a PEM bundle, in input order. Empty or whitespace-only text gives [].
 * Private-key blocks are skipped; anything else that is not a well-formed CERTIFICATE block (stray
 * text, other block types, bad base64, truncated blocks, undecodable DER) throws CertificateError.
 */
export function parsePemBundle(text: string, what: string): ParsedCert[] {
  const certs: ParsedCert[] = [];
  let position = 0;
  let blockNumber = 0;
  const blockStart = new RegExp(BLOCK_START, 'g');
  for (let start = blockStart.exec(text); start; start = blockStart.exec(text)) {
    blockNumber += 1;
    if (text.slice(position, start.index).trim() !== '') {
      throw new CertificateError(what, `unexpected text before PEM block ${blockNumber}`);
    }
    const label = start[1] ?? '';
    const endMarker = `-----END ${label}-----`;
    const bodyStart = start.index + start[0].length;
    const end = text.indexOf(endMarker, bodyStart);
    if (end < 0) {
      throw new CertificateError(what, `PEM block ${blockNumber} (${label}) has no END line`);
    }
    position = end + endMarker.length;
    blockStart.lastIndex = position;
    if (PRIVATE_KEY_LABEL.test(label)) continue;
    if (label !== CERTIFICATE_LABEL) {
      throw new CertificateError(what, `PEM block ${blockNumber} is a ${label}, not a CERTIFICATE`);
    }
    certs.push(decodeCertificate(text.slice(bodyStart, end), what, blockNumber));
  }
  if (text.slice(position).trim() !== '') {
    const where = blockNumber === 0 ? 'no PEM block found' : `unexpected text after PEM block ${blockNumber}`;
    throw new CertificateError(what, where);
  }
  return certs;
}

/**
 * Certificates parsed before, by their base64 body: every look at the cluster parses the same few
 * anchors and issuers again (in every pod's trust anchors, the bundle, the CertificateRequests), and
 * X.509 decoding was most of the rotator's CPU in the orchestration tests. Only certificate blocks
 * (public) are kept; the oldest entry goes when the memo is full. ParsedCert is never mutated.
 */
const parsed = new Map<string, ParsedCert>();
const PARSED_MAX = 256;

function decodeCertificate(body: string, what: string, blockNumber: number): ParsedCert {
  const base64 = body.replace(/\s+/g, '');
  const known = parsed.get(base64);
  if (known) return known;
  if (base64 === '' || base64.length % 4 !== 0 || !BASE64.test(base64)) {
    throw new CertificateError(what, `PEM block ${blockNumber} is not valid base64`);
  }
  const der = Buffer.from(base64, 'base64');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch {
    // The parser's message may quote the input; say only where the problem is.
    throw new CertificateError(what, `PEM block ${blockNumber} is not a valid X.509 certificate`);
  }
  const cert = fromX509(x509, der);
  if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value as string);
  parsed.set(base64, cert);
  return cert;
}

function fromX509(x509: X509Certificate, der: Buffer): ParsedCert {
  return {
    fingerprint: createHash('sha256').update(der).digest('hex'),
    subject: x509.subject,
    serialNumber: x509.serialNumber,
    notBefore: x509.notBefore,
    notAfter: x509.notAfter,
    isCa: x509.getExtension(BasicConstraintsExtension)?.ca ?? false,
    keyAlgorithm: describeKey(x509),
    pem: encodePem(der),
    x509,
  };
}

interface KeyAlgorithm {
  name: string;
  namedCurve?: unknown;
  modulusLength?: unknown;
}

function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return typeof value === 'object' && value !== null && typeof (value as KeyAlgorithm).name === 'string';
}

function describeKey(x509: X509Certificate): string {
  // x509 types this with the DOM's `Algorithm`, which a Node-only build does not know.
  let algorithm: unknown;
  try {
    algorithm = x509.publicKey.algorithm;
  } catch {
    // x509 throws for key types it has no WebCrypto mapping for (e.g. DSA).
    return 'unknown';
  }
  if (!isKeyAlgorithm(algorithm)) return 'unknown';
  if (typeof algorithm.namedCurve === 'string') {
    return algorithm.name === 'ECDSA' || algorithm.name === 'ECDH' ? `ECDSA ${algorithm.namedCurve}` : algorithm.namedCurve;
  }
  if (algorithm.name.startsWith('RSA') && typeof algorithm.modulusLength === 'number') {
    return `RSA ${algorithm.modulusLength}`;
  }
  return algorithm.name;
}

function encodePem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** The set of SHA-256 fingerprints of some certificates. */
export function fingerprints(certs: readonly ParsedCert[]): Set<string> {
  return new Set(certs.map((cert) => cert.fingerprint));
}

/** The certificates as one PEM text, in the given order, ending with a newline ('' for none). */
export function toPem(certs: readonly ParsedCert[]): string {
  return certs.map((cert) => cert.pem).join('');
}

/** The first 12 hex characters of a fingerprint, enough to tell certificates apart in logs. */
export function shortFingerprint(fp: string): string {
  return fp.slice(0, 12);
}
