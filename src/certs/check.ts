import { KeyUsageFlags, KeyUsagesExtension } from '@peculiar/x509';
import type { ParsedCert } from './pem.js';

type Severity = 'warning' | 'error';

/** One problem found with a certificate; `subject` names its role, e.g. 'trust anchor'. */
export interface Finding {
  severity: Severity;
  subject: string;
  message: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Linkerd's identity controller only accepts an issuer with this key (see DOMAIN.md). */
const ISSUER_KEY_ALGORITHM = 'ECDSA P-256';

/** Whole days from `now` until `date`, rounded down (negative once `date` has passed). */
export function daysUntil(date: Date, now: Date): number {
  return Math.floor((date.getTime() - now.getTime()) / DAY_MS);
}

/**
 * Validity of `cert` at `now`: an error when it is not yet valid or has expired (notAfter itself
 * is still valid, as in RFC 5280), a warning when it expires within `warningDays` days.
 */
export function checkValidity(cert: ParsedCert, subject: string, now: Date, warningDays: number): Finding[] {
  if (now.getTime() < cert.notBefore.getTime()) {
    return [{ severity: 'error', subject, message: `not valid before ${cert.notBefore.toISOString()}` }];
  }
  if (now.getTime() > cert.notAfter.getTime()) {
    return [{ severity: 'error', subject, message: `expired on ${cert.notAfter.toISOString()}` }];
  }
  if (cert.notAfter.getTime() - now.getTime() <= warningDays * DAY_MS) {
    const days = daysUntil(cert.notAfter, now);
    const message = `expires in ${days} day${days === 1 ? '' : 's'} on ${cert.notAfter.toISOString()}`;
    return [{ severity: 'warning', subject, message }];
  }
  return [];
}

/**
 * An error unless `cert` is a usable CA, as anchors and issuers must be: basicConstraints cA, and
 * keyCertSign among its key usages when it names any (a verifier rejects chains through it otherwise).
 */
export function checkCa(cert: ParsedCert, subject: string): Finding[] {
  if (!cert.isCa) {
    return [{ severity: 'error', subject, message: 'not a CA certificate (basicConstraints cA is not set)' }];
  }
  const usage = cert.x509.getExtension(KeyUsagesExtension);
  if (usage && (usage.usages & KeyUsageFlags.keyCertSign) === 0) {
    return [{ severity: 'error', subject, message: 'not a usable CA certificate (keyUsage lacks keyCertSign)' }];
  }
  return [];
}

/** An error unless the identity issuer's key is ECDSA P-256, the only kind Linkerd accepts. */
export function checkIssuerKey(cert: ParsedCert): Finding[] {
  if (cert.keyAlgorithm === ISSUER_KEY_ALGORITHM) return [];
  return [
    {
      severity: 'error',
      subject: 'identity issuer',
      message: `key is ${cert.keyAlgorithm}; Linkerd requires ${ISSUER_KEY_ALGORITHM}`,
    },
  ];
}
