import type { V1Container, V1DaemonSet, V1Deployment, V1Pod, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import { toBundle, toCertificate, toCertificateRequest, toPodView, toSecretView, toWorkload } from '../../../src/kube/convert.js';
import { makeAnchor, type Generated } from '../../support/certs.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

let anchor: Generated;
beforeAll(async () => {
  anchor = await makeAnchor();
});

describe('toSecretView', () => {
  const anchorSecret = (): V1Secret => ({
    metadata: {
      namespace: 'cert-manager',
      name: 'linkerd-previous-anchor',
      resourceVersion: '42',
      labels: { 'controller.cert-manager.io/fao': 'true' },
      annotations: { 'cert-manager.io/certificate-name': 'linkerd-trust-anchor' },
    },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(anchor.pem), 'tls.key': b64(anchor.keyPem), 'ca.crt': b64(anchor.pem) },
  });

  it('reads the certificate and what the Secret holds besides it', () => {
    expect(toSecretView(anchorSecret())).toEqual({
      namespace: 'cert-manager',
      name: 'linkerd-previous-anchor',
      type: 'kubernetes.io/tls',
      resourceVersion: '42',
      tlsCrt: anchor.pem,
      hasPrivateKey: true,
      otherKeys: ['tls.key', 'ca.crt'],
      hasCertManagerMetadata: true,
    });
  });

  it('never exposes the private key, encoded or decoded', () => {
    const json = JSON.stringify(toSecretView(anchorSecret()));
    const keyBody = anchor.keyPem.split('\n').filter((line) => line && !line.startsWith('-----'));
    expect(keyBody.length).toBeGreaterThan(0);
    expect(json).not.toContain(b64(anchor.keyPem));
    expect(json).not.toContain('PRIVATE KEY');
    for (const line of keyBody) expect(json).not.toContain(line);
  });

  it.each<[string, V1Secret, { type: string; hasPrivateKey: boolean; hasCertManagerMetadata: boolean; tlsCrt?: string }]>([
    [
      'a clean certificate-only Secret',
      { metadata: { name: 'p', labels: { 'app.kubernetes.io/managed-by': 'linkerd-cert-rotator' } }, data: { 'tls.crt': b64('x') } },
      { type: 'Opaque', hasPrivateKey: false, hasCertManagerMetadata: false, tlsCrt: 'x' },
    ],
    [
      'an empty tls.key',
      { metadata: { name: 'p' }, type: 'Opaque', data: { 'tls.key': '' } },
      { type: 'Opaque', hasPrivateKey: false, hasCertManagerMetadata: false },
    ],
    [
      'cert-manager only in a label value',
      { metadata: { name: 'p', labels: { app: 'cert-manager.io/x' } } },
      { type: 'Opaque', hasPrivateKey: false, hasCertManagerMetadata: false },
    ],
    [
      'a cert-manager.io annotation',
      { metadata: { name: 'p', annotations: { 'cert-manager.io/issuer-name': 'ca' } } },
      { type: 'Opaque', hasPrivateKey: false, hasCertManagerMetadata: true },
    ],
  ])('%s', (_name, secret, expected) => {
    expect(toSecretView(secret)).toMatchObject(expected);
    if (expected.tlsCrt === undefined) expect(toSecretView(secret).tlsCrt).toBeUndefined();
  });
});

describe('toPodView', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
  const proxy = (env: V1Container['env']): V1Container => ({ name: 'linkerd-proxy', env });
  const anchorsEnv = [
    { name: 'LINKERD2_PROXY_LOG', value: 'warn' },
    { name: 'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS', value: pem },
  ];
  const pod = (spec: V1Pod['spec'], over: Partial<V1Pod> = {}): V1Pod => ({
    metadata: { namespace: 'shop', name: 'web-1', creationTimestamp: new Date('2025-06-01T10:00:00Z'), labels: { app: 'web' }, annotations: { a: 'b' } },
    spec,
    status: { phase: 'Running' },
    ...over,
  });

  it.each<[string, V1Pod['spec'], string | undefined]>([
    ['a regular linkerd-proxy container', { containers: [{ name: 'app' }, proxy(anchorsEnv)] }, pem],
    ['a native-sidecar init container', { initContainers: [{ name: 'linkerd-init' }, proxy(anchorsEnv)], containers: [{ name: 'app' }] }, pem],
    ['the env on another container', { containers: [{ name: 'app', env: anchorsEnv }, proxy([])] }, undefined],
    [
      'the env from a ConfigMap reference',
      { containers: [proxy([{ name: 'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS', valueFrom: { configMapKeyRef: { name: 'x', key: 'y' } } }])] },
      undefined,
    ],
    ['no proxy', { containers: [{ name: 'app' }] }, undefined],
  ])('trust anchors from %s', (_name, spec, expected) => {
    expect(toPodView(pod(spec)).trustAnchorsPem).toBe(expected);
  });

  it('reads owner, times, readiness and termination', () => {
    const view = toPodView(
      pod(
        { containers: [] },
        {
          metadata: {
            namespace: 'shop',
            name: 'web-1',
            creationTimestamp: new Date('2025-06-01T10:00:00Z'),
            deletionTimestamp: new Date('2025-06-01T12:00:00Z'),
            ownerReferences: [
              { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: '1' },
              { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7c9d', uid: '2', controller: true },
            ],
          },
          status: {
            phase: 'Running',
            startTime: new Date('2025-06-01T10:00:05Z'),
            conditions: [
              { type: 'PodScheduled', status: 'True', lastTransitionTime: new Date('2025-06-01T10:00:01Z') },
              { type: 'Ready', status: 'True', lastTransitionTime: new Date('2025-06-01T10:00:30Z') },
            ],
          },
        },
      ),
    );
    expect(view).toMatchObject({
      owner: { kind: 'ReplicaSet', name: 'web-7c9d' },
      createdAtMs: Date.parse('2025-06-01T10:00:00Z'),
      startedAtMs: Date.parse('2025-06-01T10:00:05Z'),
      ready: true,
      readySinceMs: Date.parse('2025-06-01T10:00:30Z'),
      terminating: true,
      phase: 'Running',
    });
  });

  it('a pod not ready, without owner or status, is read with safe defaults', () => {
    const view = toPodView({ metadata: { name: 'bare', namespace: 'shop' }, status: { conditions: [{ type: 'Ready', status: 'False' }] } });
    expect(view).toMatchObject({ phase: 'Unknown', owner: undefined, ready: false, readySinceMs: undefined, terminating: false, labels: {}, annotations: {} });
  });
});

describe('toWorkload', () => {
  it('with keys, keeps only the labels and annotations they name', () => {
    const deployment: V1Deployment = {
      metadata: {
        namespace: 'shop',
        name: 'web',
        labels: { app: 'web', tier: 'cp' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', skip: 'true' },
      },
      spec: { selector: {}, template: { metadata: { annotations: { 'linkerd.io/inject': 'enabled', 'kubectl.kubernetes.io/restartedAt': 'now' } } } },
    };
    const keep = { labels: ['tier'], annotations: ['skip'], templateAnnotations: ['linkerd.io/inject'] };
    expect(toWorkload('Deployment', deployment, keep)).toMatchObject({
      labels: { tier: 'cp' },
      annotations: { skip: 'true' },
      templateAnnotations: { 'linkerd.io/inject': 'enabled' },
    });
    expect(toWorkload('Deployment', deployment).annotations).toStrictEqual(deployment.metadata?.annotations);
  });

  it('a Deployment', () => {
    const deployment: V1Deployment = {
      metadata: { namespace: 'shop', name: 'web', generation: 4, labels: { app: 'web' }, annotations: { note: 'x' } },
      spec: {
        replicas: 3,
        paused: true,
        selector: {},
        strategy: { type: 'Recreate' },
        template: { metadata: { annotations: { 'linkerd.io/inject': 'enabled' } } },
      },
      status: {
        observedGeneration: 3,
        replicas: 3,
        updatedReplicas: 2,
        availableReplicas: 1,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      },
    };
    expect(toWorkload('Deployment', deployment)).toEqual({
      kind: 'Deployment',
      namespace: 'shop',
      name: 'web',
      generation: 4,
      labels: { app: 'web' },
      annotations: { note: 'x' },
      templateAnnotations: { 'linkerd.io/inject': 'enabled' },
      specReplicas: 3,
      paused: true,
      strategy: 'Recreate',
      partition: undefined,
      status: expect.objectContaining({
        observedGeneration: 3,
        replicas: 3,
        updatedReplicas: 2,
        availableReplicas: 1,
        conditions: [expect.objectContaining({ type: 'Progressing', reason: 'ProgressDeadlineExceeded' })],
      }) as unknown,
    });
  });

  it('a StatefulSet with a partition, and one with OnDelete', () => {
    const sts = (updateStrategy: NonNullable<V1StatefulSet['spec']>['updateStrategy']): V1StatefulSet => ({
      metadata: { namespace: 'shop', name: 'db' },
      spec: { selector: {}, serviceName: 'db', template: {}, updateStrategy },
      status: { replicas: 3, readyReplicas: 2, currentRevision: 'db-1', updateRevision: 'db-2' },
    });
    expect(toWorkload('StatefulSet', sts({ type: 'RollingUpdate', rollingUpdate: { partition: 2 } }))).toMatchObject({
      strategy: 'RollingUpdate',
      partition: 2,
      specReplicas: 1,
      status: { readyReplicas: 2, currentRevision: 'db-1', updateRevision: 'db-2' },
    });
    expect(toWorkload('StatefulSet', sts({ type: 'OnDelete' }))).toMatchObject({ strategy: 'OnDelete', partition: undefined });
  });

  it('a DaemonSet: no replicas, RollingUpdate when the strategy is not set', () => {
    const ds: V1DaemonSet = {
      metadata: { namespace: 'shop', name: 'agent' },
      spec: { selector: {}, template: {} },
      status: { currentNumberScheduled: 5, numberMisscheduled: 0, desiredNumberScheduled: 5, updatedNumberScheduled: 4, numberAvailable: 3, numberReady: 3 },
    };
    const view = toWorkload('DaemonSet', ds);
    expect(view).toMatchObject({
      strategy: 'RollingUpdate',
      paused: false,
      status: { desiredNumberScheduled: 5, updatedNumberScheduled: 4, numberAvailable: 3 },
    });
    expect(view.specReplicas).toBeUndefined();
  });
});

describe('toCertificate and toBundle (untyped JSON)', () => {
  it('a Certificate mid-issuance after a failure', () => {
    const json: unknown = JSON.parse(
      '{"metadata":{"namespace":"linkerd","name":"linkerd-identity-issuer","uid":"u-1","generation":2},"spec":{"secretName":"linkerd-identity-issuer"},"status":{"revision":7,"notBefore":"2025-06-01T10:00:00Z","notAfter":"2025-06-03T10:00:00Z","renewalTime":"2025-06-02T09:00:00Z","lastFailureTime":"2025-06-01T09:00:00Z","failedIssuanceAttempts":2,"conditions":[{"type":"Ready","status":"True","observedGeneration":2,"lastTransitionTime":"2025-06-01T10:00:01Z"},{"type":"Issuing","status":"True","reason":"ManuallyTriggered","message":"renew"}]}}',
    );
    expect(toCertificate(json)).toEqual({
      namespace: 'linkerd',
      name: 'linkerd-identity-issuer',
      uid: 'u-1',
      generation: 2,
      secretName: 'linkerd-identity-issuer',
      revision: 7,
      notBefore: new Date('2025-06-01T10:00:00Z'),
      notAfter: new Date('2025-06-03T10:00:00Z'),
      lastFailureTime: new Date('2025-06-01T09:00:00Z'),
      failedIssuanceAttempts: 2,
      renewalTime: new Date('2025-06-02T09:00:00Z'),
      renewalDisabled: false,
      conditions: [
        { type: 'Ready', status: 'True', observedGeneration: 2, lastTransitionTime: new Date('2025-06-01T10:00:01Z'), reason: undefined, message: undefined },
        { type: 'Issuing', status: 'True', reason: 'ManuallyTriggered', message: 'renew', lastTransitionTime: undefined, observedGeneration: undefined },
      ],
    });
  });

  it('a Certificate whose renewal policy is Disabled (cert-manager 1.21): no renewalTime', () => {
    expect(toCertificate({ metadata: { namespace: 'linkerd', name: 'i' }, spec: { renewal: { policy: 'Disabled' } }, status: { revision: 1 } })).toMatchObject({
      renewalDisabled: true,
      renewalTime: undefined,
    });
    expect(toCertificate({ metadata: { namespace: 'linkerd', name: 'i' }, spec: { renewal: { policy: 'RenewBefore' } } })).toMatchObject({
      renewalDisabled: false,
    });
  });

  it('a CertificateRequest: name and revision from its annotations, owners of kind Certificate, base64 PEM decoded', () => {
    const json = {
      metadata: {
        namespace: 'linkerd',
        name: 'linkerd-identity-issuer-3',
        annotations: { 'cert-manager.io/certificate-name': 'linkerd-identity-issuer', 'cert-manager.io/certificate-revision': '3', other: 'x' },
        ownerReferences: [
          { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: 'linkerd-identity-issuer', uid: 'u-1' },
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'unrelated', uid: 'u-2' },
        ],
      },
      spec: { request: b64('-----BEGIN CERTIFICATE REQUEST-----') },
      status: { certificate: b64(anchor.pem), ca: b64(anchor.pem), conditions: [{ type: 'Ready', status: 'True', reason: 'Issued' }] },
    };
    expect(toCertificateRequest(json)).toEqual({
      namespace: 'linkerd',
      name: 'linkerd-identity-issuer-3',
      certificateName: 'linkerd-identity-issuer',
      revision: 3,
      ownerUids: ['u-1'],
      conditions: [{ type: 'Ready', status: 'True', reason: 'Issued', message: undefined, lastTransitionTime: undefined, observedGeneration: undefined }],
      certificatePem: anchor.pem,
      caPem: anchor.pem,
    });
  });

  it('a CertificateRequest mid-issuance or with a malformed revision: no certificate, no revision', () => {
    const json = {
      metadata: { namespace: 'linkerd', name: 'x', annotations: { 'cert-manager.io/certificate-revision': '3a' } },
      status: { conditions: [{ type: 'Ready', status: 'False', reason: 'Pending' }] },
    };
    expect(toCertificateRequest(json)).toMatchObject({
      revision: undefined,
      certificateName: undefined,
      ownerUids: [],
      certificatePem: undefined,
      caPem: undefined,
    });
  });

  it('a Certificate never issued: revision 0, no conditions, no failures', () => {
    expect(toCertificate({ metadata: { namespace: 'cert-manager', name: 'a' }, spec: {} })).toMatchObject({
      revision: 0,
      conditions: [],
      failedIssuanceAttempts: 0,
      lastFailureTime: undefined,
    });
  });

  it('a Bundle with a namespace selector', () => {
    const json: unknown = JSON.parse(
      '{"metadata":{"name":"linkerd-identity-trust-roots"},"spec":{"target":{"configMap":{"key":"ca-bundle.crt"},"namespaceSelector":{"matchLabels":{"linkerd.io/is-control-plane":"true"},"matchExpressions":[{"key":"env","operator":"In","values":["a"]}]}}}}',
    );
    expect(toBundle(json)).toEqual({
      kind: 'Bundle',
      name: 'linkerd-identity-trust-roots',
      sources: [],
      configMapKey: 'ca-bundle.crt',
      namespaceSelector: { matchLabels: { 'linkerd.io/is-control-plane': 'true' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['a'] }] },
    });
  });

  it('a Bundle without a ConfigMap target or selector', () => {
    expect(toBundle({ metadata: { name: 'b' }, spec: { target: { secret: { key: 'x' } } } })).toEqual({
      kind: 'Bundle',
      name: 'b',
      configMapKey: '',
      namespaceSelector: undefined,
      sources: [],
    });
  });
});
