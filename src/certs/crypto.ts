import { cryptoProvider } from '@peculiar/x509';

/**
 * The WebCrypto implementation every x509 call uses. @peculiar/x509 only finds one on its own in
 * browsers, so it is registered here once and also passed explicitly where this module calls x509.
 */
export const webCrypto = globalThis.crypto;

cryptoProvider.set(webCrypto);
