import { toBundle } from '../../../src/kube/convert.js';
import type { BundleView } from '../../../src/kube/model.js';
import { selectorString } from '../../../src/kube/selector.js';

// Objects shaped as the apiserver returns them for trust-manager v0.25.0's CRDs
// (deploy/crds/trust.cert-manager.io_bundles.yaml and trust-manager.io_clusterbundles.yaml).
const metadata = (name: string) => ({
  name,
  uid: '6f1c2d9e-0000-4000-8000-000000000001',
  resourceVersion: '812',
  generation: 3,
  creationTimestamp: '2026-12-01T21:00:00Z',
});
const synced = {
  conditions: [
    {
      type: 'Synced',
      status: 'True',
      reason: 'Synced',
      message: 'Successfully synced Bundle to namespaces that match this label selector: linkerd.io/is-control-plane=true',
      lastTransitionTime: '2026-12-01T21:00:05Z',
      observedGeneration: 3,
    },
  ],
};
const controlPlane = { matchLabels: { 'linkerd.io/is-control-plane': 'true' } };
const anchor = { kind: 'Secret', name: 'linkerd-trust-anchor', key: 'tls.crt' } as const;
const previous = { kind: 'Secret', name: 'linkerd-previous-anchor', key: 'tls.crt' } as const;

/** Linkerd's Bundle as its cert-manager guide (and this project's fixture) writes it. */
const linkerdBundle = {
  apiVersion: 'trust.cert-manager.io/v1alpha1',
  kind: 'Bundle',
  metadata: metadata('linkerd-identity-trust-roots'),
  spec: {
    sources: [{ secret: { name: 'linkerd-trust-anchor', key: 'tls.crt' } }, { secret: { name: 'linkerd-previous-anchor', key: 'tls.crt' } }],
    target: { configMap: { key: 'ca-bundle.crt' }, namespaceSelector: controlPlane },
  },
  status: synced,
};

/** The same bundle as a ClusterBundle, as trust-manager's Bundle-to-ClusterBundle conversion writes it. */
const linkerdClusterBundle = {
  apiVersion: 'trust-manager.io/v1alpha2',
  kind: 'ClusterBundle',
  metadata: metadata('linkerd-identity-trust-roots'),
  spec: {
    sourceRefs: [
      { kind: 'Secret', name: 'linkerd-trust-anchor', key: 'tls.crt' },
      { kind: 'Secret', name: 'linkerd-previous-anchor', key: 'tls.crt' },
    ],
    target: { configMap: { data: [{ key: 'ca-bundle.crt' }] }, namespaceSelector: controlPlane },
  },
  status: synced,
};

const withSpec = <T extends { spec: object }>(object: T, spec: object): T => ({ ...object, spec: { ...object.spec, ...spec } });
const selector = (labels: Record<string, string>) => ({ matchLabels: labels, matchExpressions: undefined });

describe('toBundle: both kinds to one view', () => {
  it.each<[string, unknown, BundleView]>([
    [
      "Linkerd's Bundle",
      linkerdBundle,
      {
        kind: 'Bundle',
        name: 'linkerd-identity-trust-roots',
        configMapKey: 'ca-bundle.crt',
        namespaceSelector: selector(controlPlane.matchLabels),
        sources: [anchor, previous],
      },
    ],
    [
      'the same ClusterBundle',
      linkerdClusterBundle,
      {
        kind: 'ClusterBundle',
        name: 'linkerd-identity-trust-roots',
        configMapKey: 'ca-bundle.crt',
        namespaceSelector: selector(controlPlane.matchLabels),
        sources: [anchor, previous],
      },
    ],
    [
      'a Bundle without the previous-anchor source (situation 4)',
      withSpec(linkerdBundle, { sources: [{ secret: { name: 'linkerd-trust-anchor', key: 'tls.crt' } }] }),
      {
        kind: 'Bundle',
        name: 'linkerd-identity-trust-roots',
        configMapKey: 'ca-bundle.crt',
        namespaceSelector: selector(controlPlane.matchLabels),
        sources: [anchor],
      },
    ],
    [
      'a Bundle with every other kind of source',
      withSpec(linkerdBundle, {
        sources: [
          { configMap: { name: 'peers', key: 'roots.pem' } },
          { secret: { selector: { matchLabels: { team: 'a' } }, key: 'ca.crt' } },
          { secret: { name: 'extra', includeAllKeys: true } },
          { inLine: '-----BEGIN CERTIFICATE-----\n...' },
          { useDefaultCAs: true },
          { useDefaultCAs: false },
        ],
      }),
      {
        kind: 'Bundle',
        name: 'linkerd-identity-trust-roots',
        configMapKey: 'ca-bundle.crt',
        namespaceSelector: selector(controlPlane.matchLabels),
        sources: [
          { kind: 'ConfigMap', name: 'peers', key: 'roots.pem' },
          { kind: 'Secret', name: undefined, bySelector: true, key: 'ca.crt' },
          { kind: 'Secret', name: 'extra', key: '*' },
          { kind: 'inline' },
          { kind: 'default-cas' },
        ],
      },
    ],
    [
      'a ClusterBundle with every other kind of source',
      withSpec(linkerdClusterBundle, {
        sourceRefs: [
          { kind: 'ConfigMap', name: 'peers', key: 'roots.pem' },
          { kind: 'Secret', selector: { matchLabels: { team: 'a' } }, key: 'ca.crt' },
          { kind: 'Secret', name: 'extra', key: '*' },
        ],
        inLineCAs: '-----BEGIN CERTIFICATE-----\n...',
        defaultCAs: { provider: 'System' },
      }),
      {
        kind: 'ClusterBundle',
        name: 'linkerd-identity-trust-roots',
        configMapKey: 'ca-bundle.crt',
        namespaceSelector: selector(controlPlane.matchLabels),
        sources: [
          { kind: 'ConfigMap', name: 'peers', key: 'roots.pem' },
          { kind: 'Secret', name: undefined, bySelector: true, key: 'ca.crt' },
          { kind: 'Secret', name: 'extra', key: '*' },
          { kind: 'inline' },
          { kind: 'default-cas' },
        ],
      },
    ],
    [
      'a ClusterBundle whose default CAs are disabled adds no source',
      withSpec(linkerdClusterBundle, { defaultCAs: { provider: 'Disabled' } }),
      {
        kind: 'ClusterBundle',
        name: 'linkerd-identity-trust-roots',
        configMapKey: 'ca-bundle.crt',
        namespaceSelector: selector(controlPlane.matchLabels),
        sources: [anchor, previous],
      },
    ],
    [
      'a ClusterBundle with a PKCS12 entry first: the PEM entry is the key',
      withSpec(linkerdClusterBundle, {
        target: {
          configMap: {
            data: [
              { key: 'truststore.p12', format: 'PKCS12', password: '' },
              { key: 'ca-bundle.crt', format: 'PEM' },
            ],
          },
          namespaceSelector: {},
        },
      }),
      {
        kind: 'ClusterBundle',
        name: 'linkerd-identity-trust-roots',
        configMapKey: 'ca-bundle.crt',
        namespaceSelector: selector({}),
        sources: [anchor, previous],
      },
    ],
    [
      'a ClusterBundle with only a PKCS12 ConfigMap entry and a Secret target: no PEM ConfigMap key',
      withSpec(linkerdClusterBundle, {
        target: { configMap: { data: [{ key: 'truststore.p12', format: 'PKCS12' }] }, secret: { data: [{ key: 'ca.crt' }] }, namespaceSelector: controlPlane },
      }),
      {
        kind: 'ClusterBundle',
        name: 'linkerd-identity-trust-roots',
        configMapKey: '',
        namespaceSelector: selector(controlPlane.matchLabels),
        sources: [anchor, previous],
      },
    ],
    [
      'a Bundle without a namespace selector (every namespace)',
      withSpec(linkerdBundle, { target: { configMap: { key: 'ca-bundle.crt' } } }),
      { kind: 'Bundle', name: 'linkerd-identity-trust-roots', configMapKey: 'ca-bundle.crt', namespaceSelector: undefined, sources: [anchor, previous] },
    ],
  ])('%s', (_name, raw, expected) => {
    expect(toBundle(raw)).toEqual(expected);
  });

  it.each<[string, unknown, string]>([
    [
      "the ClusterBundle's required selector {} selects every namespace, like a Bundle without one",
      withSpec(linkerdClusterBundle, { target: { configMap: { data: [{ key: 'ca-bundle.crt' }] }, namespaceSelector: {} } }),
      '',
    ],
    ['a Bundle without a selector', withSpec(linkerdBundle, { target: { configMap: { key: 'ca-bundle.crt' } } }), ''],
    [
      'a ClusterBundle with expressions',
      withSpec(linkerdClusterBundle, {
        target: { configMap: { data: [{ key: 'k' }] }, namespaceSelector: { matchExpressions: [{ key: 'linkerd.io/is-control-plane', operator: 'Exists' }] } },
      }),
      'linkerd.io/is-control-plane',
    ],
  ])('selector: %s', (_name, raw, expected) => {
    expect(selectorString(toBundle(raw).namespaceSelector)).toBe(expected);
  });
});
