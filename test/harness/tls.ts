import { KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** A throw-away ECDSA serving certificate for 127.0.0.1, made at start-up (never stored). */
export async function selfSignedServing(): Promise<{ certPem: string; keyPem: string }> {
  const crypto = webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0];
  x509.cryptoProvider.set(crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Date.now().toString(16),
    name: 'CN=linkerd-cert-rotator e2e injector',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 24 * 3_600_000),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]), new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { certPem: cert.toString('pem'), keyPem };
}
