import type { V1Pod } from '@kubernetes/client-node';
import { toPodView } from '../../../src/kube/convert.js';
import { createIntern, pickKeys } from '../../../src/kube/intern.js';

describe('createIntern', () => {
  it('hands back an equal value and keeps one entry per distinct value', () => {
    const intern = createIntern();
    // Built at run time, so that the two are separate strings of equal content.
    const first = ['-----BEGIN CERTIFICATE-----', 'AAAA', '-----END CERTIFICATE-----'].join('\n');
    const second = ['-----BEGIN CERTIFICATE-----', 'AAAA', '-----END CERTIFICATE-----'].join('\n');
    expect(intern(first)).toBe(first);
    expect(intern(second)).toBe(first);
    expect(intern('shop')).toBe('shop');
    expect(intern.size).toBe(2);
  });

  it('two interners share nothing', () => {
    const a = createIntern();
    const b = createIntern();
    a('x');
    expect(b.size).toBe(0);
  });
});

describe('pickKeys', () => {
  it.each<[string, Record<string, string> | undefined, string[], Record<string, string>]>([
    ['keeps only the keys asked for', { app: 'web', 'pod-template-hash': '7c9d', team: 'a' }, ['pod-template-hash'], { 'pod-template-hash': '7c9d' }],
    ['a key asked for but absent is left out', { app: 'web' }, ['pod-template-hash', 'app'], { app: 'web' }],
    ['no keys: nothing kept', { app: 'web' }, [], {}],
    ['no record', undefined, ['app'], {}],
    ['inherited properties are not the record own', {}, ['toString', 'constructor'], {}],
  ])('%s', (_name, record, keys, expected) => {
    expect(pickKeys(record, keys)).toStrictEqual(expected);
  });

  it('interns the values it keeps', () => {
    const intern = createIntern();
    pickKeys({ a: 'one', b: 'two' }, ['a'], intern);
    expect(intern.size).toBe(1);
  });
});

describe('toPodView keeps only what is read', () => {
  const pem = (n: number): string => `-----BEGIN CERTIFICATE-----\n${String(n).repeat(64)}\n-----END CERTIFICATE-----\n`;
  const pod = (name: string, bundle: string): V1Pod => ({
    metadata: {
      namespace: 'shop',
      name,
      labels: { app: 'web', 'pod-template-hash': '7c9d', 'linkerd.io/control-plane-ns': 'linkerd' },
      annotations: {
        'linkerd.io/created-by': 'linkerd/proxy-injector',
        'linkerd-cert-rotator.io/skip': 'true',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
      },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7c9d', uid: '1', controller: true }],
    },
    spec: { containers: [{ name: 'linkerd-proxy', env: [{ name: 'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS', value: bundle }] }] },
    status: { phase: 'Running' },
  });
  const keep = { labels: ['pod-template-hash'], annotations: ['linkerd-cert-rotator.io/skip'] };

  it('the labels and annotations asked for, and none without keys', () => {
    const view = toPodView(pod('web-7c9d-a', pem(1)), keep);
    expect(view.labels).toStrictEqual({ 'pod-template-hash': '7c9d' });
    expect(view.annotations).toStrictEqual({ 'linkerd-cert-rotator.io/skip': 'true' });
    expect(toPodView(pod('web-7c9d-a', pem(1)))).toMatchObject({ labels: {}, annotations: {} });
  });

  it('pods of one list born with the same bundle share one interned PEM', () => {
    const intern = createIntern();
    const views = [pod('a', pem(1)), pod('b', pem(1)), pod('c', pem(2)), pod('d', pem(1))].map((p) => toPodView(p, keep, intern));
    expect(views.map((v) => v.trustAnchorsPem)).toEqual([pem(1), pem(1), pem(2), pem(1)]);
    // Two PEMs, and the namespace, phase, owner kind, owner name and two kept values: names and uids are not interned.
    expect(intern.size).toBe(2 + 6);
  });
});
