// The in-place rewrite of the previous-anchor Secret: what is kept, what goes, what is refused.
import type { V1Secret } from '@kubernetes/client-node';
import { certificateOnlySecret, isMigration } from '../../../src/kube/certificate-only.js';
import { PreconditionError } from '../../../src/errors.js';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const rotatorLabel = { 'app.kubernetes.io/managed-by': 'linkerd-cert-rotator' };

/** A Secret as Helm makes it from the chart (no data), after a `helm install`. */
function helmSecret(extra: Partial<V1Secret> = {}): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'linkerd-previous-anchor',
      namespace: 'cert-manager',
      uid: 'u-1',
      resourceVersion: '42',
      labels: { 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'lcr', 'helm.sh/chart': 'linkerd-cert-rotator-0.1.0' },
      annotations: { 'meta.helm.sh/release-name': 'lcr', 'meta.helm.sh/release-namespace': 'ops', 'helm.sh/resource-policy': 'keep' },
      managedFields: [{ manager: 'helm', operation: 'Update' }],
    },
    type: 'Opaque',
    ...extra,
  };
}

/** A copy of the anchor Secret, the way Linkerd's guide made the previous-anchor Secret. */
function legacyCopy(): V1Secret {
  return {
    metadata: {
      name: 'linkerd-previous-anchor',
      namespace: 'cert-manager',
      uid: 'u-2',
      resourceVersion: '7',
      labels: { 'controller.cert-manager.io/fao': 'true', team: 'platform' },
      annotations: { 'cert-manager.io/certificate-name': 'linkerd-trust-anchor', 'cert-manager.io/issuer-name': 'root', 'example.com/note': 'kept' },
      ownerReferences: [
        { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: 'linkerd-trust-anchor', uid: 'c-1' },
        { apiVersion: 'example.com/v1', kind: 'Thing', name: 'keeper', uid: 't-1' },
      ],
    },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64('old'), 'tls.key': b64('PRIVATE'), 'ca.crt': b64('old') },
  };
}

describe('certificateOnlySecret', () => {
  it("fills a Helm-made Secret in place and keeps Helm's ownership and keep policy", () => {
    const body = certificateOnlySecret(helmSecret(), pem, rotatorLabel);
    expect(body.metadata).toMatchObject({ name: 'linkerd-previous-anchor', namespace: 'cert-manager', uid: 'u-1', resourceVersion: '42' });
    expect(body.metadata?.labels).toEqual({
      'app.kubernetes.io/managed-by': 'Helm',
      'app.kubernetes.io/instance': 'lcr',
      'helm.sh/chart': 'linkerd-cert-rotator-0.1.0',
    });
    expect(body.metadata?.annotations).toEqual({
      'meta.helm.sh/release-name': 'lcr',
      'meta.helm.sh/release-namespace': 'ops',
      'helm.sh/resource-policy': 'keep',
    });
    expect(body.metadata?.managedFields).toBeUndefined();
    expect(body.type).toBe('Opaque');
    expect(body.data).toEqual({ 'tls.crt': b64(pem) });
  });

  it('adds the given labels only where the Secret has none of that key', () => {
    const body = certificateOnlySecret(helmSecret({ metadata: { name: 'p', namespace: 'n', labels: { team: 'platform' } } }), pem, rotatorLabel);
    expect(body.metadata?.labels).toEqual({ team: 'platform', 'app.kubernetes.io/managed-by': 'linkerd-cert-rotator' });
  });

  it('rewrites a legacy kubernetes.io/tls copy in place: same type and uid, empty tls.key, no other data, no cert-manager metadata or owner', () => {
    const body = certificateOnlySecret(legacyCopy(), pem, rotatorLabel);
    expect(body.type).toBe('kubernetes.io/tls');
    expect(body.metadata).toMatchObject({ uid: 'u-2', resourceVersion: '7' });
    expect(body.data).toEqual({ 'tls.crt': b64(pem), 'tls.key': '' });
    expect(body.metadata?.labels).toEqual({ team: 'platform', 'app.kubernetes.io/managed-by': 'linkerd-cert-rotator' });
    expect(body.metadata?.annotations).toEqual({ 'example.com/note': 'kept' });
    expect(body.metadata?.ownerReferences).toEqual([{ apiVersion: 'example.com/v1', kind: 'Thing', name: 'keeper', uid: 't-1' }]);
  });

  it.each([
    [
      'a service-account token Secret',
      { type: 'kubernetes.io/service-account-token' },
      /type kubernetes\.io\/service-account-token.*kubectl -n cert-manager create secret generic linkerd-previous-anchor/,
    ],
    ['a dockerconfigjson Secret', { type: 'kubernetes.io/dockerconfigjson' }, /must be Opaque/],
    ['an immutable Secret', { immutable: true }, /is immutable.*create secret generic/],
  ])('refuses %s (PreconditionError: exit 3)', (_name, extra, message) => {
    const run = (): V1Secret => certificateOnlySecret(helmSecret(extra), pem, rotatorLabel);
    expect(run).toThrow(PreconditionError);
    expect(run).toThrow(message);
  });
});

describe('isMigration', () => {
  it.each<[string, V1Secret, boolean]>([
    ['a Helm-made Secret without data', helmSecret(), false],
    ['a certificate-only Secret', helmSecret({ data: { 'tls.crt': b64(pem) } }), false],
    ['a rewritten legacy copy (empty tls.key)', { ...legacyCopy(), metadata: { name: 'p' }, data: { 'tls.crt': b64(pem), 'tls.key': '' } }, false],
    ['a legacy copy with its key and cert-manager metadata', legacyCopy(), true],
    ['other data keys', helmSecret({ data: { 'tls.crt': b64(pem), 'ca.crt': b64(pem) } }), true],
  ])('%s: %s', (_name, secret, expected) => {
    expect(isMigration(secret)).toBe(expected);
  });
});
