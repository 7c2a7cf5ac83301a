export { CertificateError, fingerprints, parsePemBundle, shortFingerprint, toPem } from './pem.js';
export type { ParsedCert } from './pem.js';
export { findSigner } from './chain.js';
export { checkCa, checkIssuerKey, checkValidity, daysUntil } from './check.js';
export type { Finding } from './check.js';
