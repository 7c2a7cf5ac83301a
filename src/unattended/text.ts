/** Wording shared by Events, notifications and log lines of an unattended run. */
import { formatDuration } from '../duration.js';

export { formatDuration };

const pemBlock = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g;
// Long unbroken base64 runs (a key or a certificate pasted without armour); hex fingerprints are far shorter.
const base64Run = /[A-Za-z0-9+/]{100,}={0,2}/g;

/**
 * Defence in depth for text that leaves the process (Events, webhooks): nothing the rotator
 * writes holds key material, but an error message from elsewhere might, so PEM blocks and long
 * base64 runs are cut out.
 */
export function redact(text: string): string {
  return text.replace(pemBlock, '[redacted PEM block]').replace(base64Run, '[redacted]');
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes, ending with an ellipsis when cut. */
export function truncate(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let cut = text.slice(0, maxBytes);
  while (Buffer.byteLength(cut, 'utf8') > maxBytes - 3) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** "restart-data-plane (trust-new-anchor)" or "renew-issuer". */
export function stepLabel(step: { name: string; purpose?: string }): string {
  return step.purpose ? `${step.name} (${step.purpose})` : step.name;
}

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? 'unknown error');
}
