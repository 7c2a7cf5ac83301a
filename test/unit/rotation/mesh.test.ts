import { defaultConfig, type RotatorConfig } from '../../../src/config.js';
import type { NamespaceView, PodView, Workload } from '../../../src/kube/model.js';
import type { V1Pod } from '@kubernetes/client-node';
import { toPodView } from '../../../src/kube/convert.js';
import { rolloutState } from '../../../src/rotation/rollout.js';
import { classifyPods, classifyWorkloads, podMetadataKeys, workloadMetadataKeys, type Hold, type MeshWorkload, type Role } from '../../../src/rotation/mesh.js';
import { workload } from '../../support/state.js';

const OPT_OUT = defaultConfig.optOutAnnotation;
const CP = { 'linkerd.io/control-plane-ns': 'linkerd' };
const namespaces: NamespaceView[] = [
  { name: 'linkerd', labels: {}, annotations: {} },
  { name: 'shop', labels: {}, annotations: { 'linkerd.io/inject': 'enabled' } },
  { name: 'plain', labels: {}, annotations: {} },
  { name: 'off', labels: {}, annotations: { 'linkerd.io/inject': 'disabled' } },
];
const config = (over: Partial<RotatorConfig> = {}): RotatorConfig => ({ ...defaultConfig, ...over });
const classify = (w: Workload, over: Partial<RotatorConfig> = {}): MeshWorkload[] => classifyWorkloads([w], namespaces, config(over));

describe('classifyWorkloads: roles', () => {
  it.each<[string, Workload, Partial<RotatorConfig>, Role | undefined]>([
    ['identity Deployment by name', workload('Deployment', 'linkerd', 'linkerd-identity', { labels: CP }), {}, 'identity'],
    ['another control-plane Deployment', workload('Deployment', 'linkerd', 'linkerd-destination', { labels: CP }), {}, 'control-plane'],
    ['a StatefulSet named like identity is no identity', workload('StatefulSet', 'linkerd', 'linkerd-identity', { labels: CP }), {}, 'control-plane'],
    ['control-plane label outside the Linkerd namespace', workload('Deployment', 'plain', 'fake', { labels: CP }), {}, undefined],
    ['Linkerd namespace without the label', workload('Deployment', 'linkerd', 'helper'), {}, undefined],
    [
      'custom Linkerd namespace and identity name',
      workload('Deployment', 'l5d', 'id', { labels: { 'linkerd.io/control-plane-ns': 'l5d' } }),
      { linkerdNamespace: 'l5d', identityDeployment: 'id' },
      'identity',
    ],
    [
      'custom control-plane selector',
      workload('Deployment', 'linkerd', 'destination', { labels: { tier: 'cp' } }),
      { controlPlaneSelector: 'tier=cp' },
      'control-plane',
    ],
    ['extension label', workload('Deployment', 'linkerd-viz', 'web', { labels: { 'linkerd.io/extension': 'viz' } }), {}, 'extension'],
    [
      'extension label with no extension selector',
      workload('Deployment', 'linkerd-viz', 'web', { labels: { 'linkerd.io/extension': 'viz' } }),
      { extensionSelector: '' },
      undefined,
    ],
    ['namespace annotated enabled', workload('Deployment', 'shop', 'web'), {}, 'data-plane'],
    [
      'template annotated enabled in a plain namespace',
      workload('StatefulSet', 'plain', 'db', { templateAnnotations: { 'linkerd.io/inject': 'enabled' } }),
      {},
      'data-plane',
    ],
    [
      'template annotated enabled in an opted-out namespace',
      workload('DaemonSet', 'off', 'agent', { templateAnnotations: { 'linkerd.io/inject': 'enabled' } }),
      {},
      'data-plane',
    ],
    [
      'template annotated enabled in an unknown namespace',
      workload('Deployment', 'elsewhere', 'x', { templateAnnotations: { 'linkerd.io/inject': 'enabled' } }),
      {},
      'data-plane',
    ],
    [
      'template disabled in a meshed namespace',
      workload('Deployment', 'shop', 'batch', { templateAnnotations: { 'linkerd.io/inject': 'disabled' } }),
      {},
      undefined,
    ],
    ['no annotation in a plain namespace', workload('Deployment', 'plain', 'web'), {}, undefined],
    ['namespace annotated disabled', workload('Deployment', 'off', 'web'), {}, undefined],
    [
      'inject annotation on the workload, not its template',
      workload('Deployment', 'plain', 'web', { annotations: { 'linkerd.io/inject': 'enabled' } }),
      {},
      undefined,
    ],
  ])('%s -> %s', (_name, w, over, role) => {
    expect(classify(w, over).map((m) => m.role)).toEqual(role ? [role] : []);
  });

  it('keys a workload as Kind/namespace/name', () => {
    expect(classify(workload('StatefulSet', 'shop', 'db')).map((m) => m.key)).toEqual(['StatefulSet/shop/db']);
  });
});

describe('classifyWorkloads: holds', () => {
  const opted = { [OPT_OUT]: 'true' };
  it.each<[string, Workload, Partial<RotatorConfig>, Hold['kind'] | undefined]>([
    ['a plain data-plane Deployment', workload('Deployment', 'shop', 'web'), {}, undefined],
    ['opt-out annotation on the workload', workload('Deployment', 'shop', 'web', { annotations: opted }), {}, 'opted-out'],
    ['opt-out annotation on the pod template', workload('Deployment', 'shop', 'web', { templateAnnotations: opted }), {}, 'opted-out'],
    ['opt-out annotation set to false', workload('Deployment', 'shop', 'web', { annotations: { [OPT_OUT]: 'false' } }), {}, undefined],
    ['opt-out on the control plane', workload('Deployment', 'linkerd', 'linkerd-destination', { labels: CP, annotations: opted }), {}, 'opted-out'],
    [
      'a custom opt-out annotation',
      workload('Deployment', 'shop', 'web', { annotations: { 'example.com/keep': 'true' } }),
      { optOutAnnotation: 'example.com/keep' },
      'opted-out',
    ],
    ['excluded namespace', workload('Deployment', 'shop', 'web'), { excludeNamespaces: ['shop'] }, 'excluded'],
    ['namespace not included', workload('Deployment', 'shop', 'web'), { includeNamespaces: ['plain'] }, 'excluded'],
    ['included namespace', workload('Deployment', 'shop', 'web'), { includeNamespaces: ['shop'] }, undefined],
    [
      'control plane in an excluded namespace',
      workload('Deployment', 'linkerd', 'linkerd-destination', { labels: CP }),
      { excludeNamespaces: ['linkerd'] },
      undefined,
    ],
    [
      'extension outside the included namespaces',
      workload('Deployment', 'linkerd-viz', 'web', { labels: { 'linkerd.io/extension': 'viz' } }),
      { includeNamespaces: ['shop'] },
      undefined,
    ],
    ['paused Deployment', workload('Deployment', 'shop', 'web', { paused: true }), {}, 'paused'],
    ['opted out and paused: opted out wins', workload('Deployment', 'shop', 'web', { paused: true, annotations: opted }), {}, 'opted-out'],
    ['OnDelete StatefulSet', workload('StatefulSet', 'shop', 'db', { strategy: 'OnDelete' }), {}, 'on-delete'],
    ['OnDelete DaemonSet', workload('DaemonSet', 'shop', 'agent', { strategy: 'OnDelete' }), {}, 'on-delete'],
  ])('%s -> %s', (_name, w, over, kind) => {
    const [m] = classify(w, over);
    expect(m?.hold?.kind).toBe(kind);
    if (kind) expect(m?.hold?.message).toContain(`${w.namespace}/${w.name}`);
  });
});

describe('classifyPods', () => {
  const web = classify(workload('Deployment', 'shop', 'web'))[0];
  const db = classify(workload('StatefulSet', 'shop', 'db'))[0];
  const agent = classify(workload('DaemonSet', 'shop', 'agent'))[0];
  const identity = classify(workload('Deployment', 'linkerd', 'linkerd-identity', { labels: CP }))[0];
  const optedOut = classify(workload('Deployment', 'shop', 'keep', { annotations: { [OPT_OUT]: 'true' } }))[0];
  const onDelete = classify(workload('StatefulSet', 'shop', 'legacy', { strategy: 'OnDelete' }))[0];
  const paused = classify(workload('Deployment', 'shop', 'frozen', { paused: true }))[0];
  const workloads = [web, db, agent, identity, optedOut, onDelete, paused].filter((w): w is MeshWorkload => w !== undefined);

  const pod = (name: string, over: Partial<PodView> = {}): PodView => ({
    namespace: 'shop',
    name,
    uid: `uid-${name}`,
    phase: 'Running',
    labels: {},
    annotations: {},
    createdAtMs: Date.parse('2025-06-01T11:00:00Z'),
    ready: true,
    terminating: false,
    ...over,
  });
  const rs = (name: string, hash: string, namespace = 'shop'): Partial<PodView> => ({
    namespace,
    owner: { kind: 'ReplicaSet', name: `${name}-${hash}` },
    labels: { 'pod-template-hash': hash },
  });

  type Expected = { role: Role; workloadKey?: string; owner: string; hold?: string; deletable: boolean };
  it.each<[string, PodView, Expected]>([
    [
      'ReplicaSet pod -> its Deployment',
      pod('web-7c9d-x', rs('web', '7c9d')),
      { role: 'data-plane', workloadKey: 'Deployment/shop/web', owner: 'Deployment/web', deletable: false },
    ],
    [
      'identity pod',
      pod('id-x', rs('linkerd-identity', '55f', 'linkerd')),
      { role: 'identity', workloadKey: 'Deployment/linkerd/linkerd-identity', owner: 'Deployment/linkerd-identity', deletable: false },
    ],
    [
      'StatefulSet pod',
      pod('db-0', { owner: { kind: 'StatefulSet', name: 'db' } }),
      { role: 'data-plane', workloadKey: 'StatefulSet/shop/db', owner: 'StatefulSet/db', deletable: false },
    ],
    [
      'DaemonSet pod',
      pod('agent-x', { owner: { kind: 'DaemonSet', name: 'agent' } }),
      { role: 'data-plane', workloadKey: 'DaemonSet/shop/agent', owner: 'DaemonSet/agent', deletable: false },
    ],
    [
      'a StatefulSet of the same name in another namespace is not its owner',
      pod('db-0', { namespace: 'plain', owner: { kind: 'StatefulSet', name: 'db' } }),
      { role: 'data-plane', owner: 'StatefulSet/db', hold: 'StatefulSet plain/db cannot be restarted by a rollout', deletable: true },
    ],
    [
      'Job pod',
      pod('migrate-x', { owner: { kind: 'Job', name: 'migrate' } }),
      { role: 'data-plane', owner: 'Job/migrate', hold: 'Job shop/migrate cannot be restarted by a rollout', deletable: true },
    ],
    ['bare pod', pod('debug'), { role: 'data-plane', owner: 'bare pod', hold: 'bare pod shop/debug has no controller to restart it', deletable: true }],
    [
      'bare pod in the Linkerd namespace',
      pod('debug', { namespace: 'linkerd' }),
      { role: 'control-plane', owner: 'bare pod', hold: 'bare pod linkerd/debug has no controller to restart it', deletable: true },
    ],
    [
      'bare pod opted out',
      pod('debug', { annotations: { [OPT_OUT]: 'true' } }),
      { role: 'data-plane', owner: 'bare pod', hold: 'bare pod shop/debug has no controller to restart it', deletable: false },
    ],
    [
      'pod of an opted-out workload',
      pod('keep-1-x', rs('keep', '1')),
      {
        role: 'data-plane',
        workloadKey: 'Deployment/shop/keep',
        owner: 'Deployment/keep',
        hold: `Deployment shop/keep is opted out (${OPT_OUT}=true): restart it by hand`,
        deletable: false,
      },
    ],
    [
      'pod of an OnDelete StatefulSet',
      pod('legacy-0', { owner: { kind: 'StatefulSet', name: 'legacy' } }),
      {
        role: 'data-plane',
        workloadKey: 'StatefulSet/shop/legacy',
        owner: 'StatefulSet/legacy',
        hold: 'StatefulSet shop/legacy uses the OnDelete update strategy: a rollout restart would not replace its pods',
        deletable: true,
      },
    ],
    [
      'pod of a paused Deployment',
      pod('frozen-2-x', rs('frozen', '2')),
      {
        role: 'data-plane',
        workloadKey: 'Deployment/shop/frozen',
        owner: 'Deployment/frozen',
        hold: 'Deployment shop/frozen is paused: resume it (kubectl rollout resume) or opt it out',
        deletable: false,
      },
    ],
  ])('%s', (_name, p, expected) => {
    const [m] = classifyPods([p], workloads, config());
    expect(m).toMatchObject(expected);
    expect(m?.hold).toBe(expected.hold);
    if (!expected.workloadKey) expect(m?.workloadKey).toBeUndefined();
  });

  it('a bare pod in an excluded namespace is not deletable', () => {
    expect(classifyPods([pod('debug')], workloads, config({ excludeNamespaces: ['shop'] }))[0]?.deletable).toBe(false);
  });

  it('drops pods that have finished, keeps pending and unknown ones', () => {
    const pods = ['Succeeded', 'Failed', 'Pending', 'Running', 'Unknown'].map((phase) => pod(phase.toLowerCase(), { phase }));
    expect(classifyPods(pods, workloads, config()).map((m) => m.pod.name)).toEqual(['pending', 'running', 'unknown']);
  });
});

describe('what the classification keeps', () => {
  it('a meshed workload keeps only the labels and annotations classifyWorkloads reads', () => {
    const w = workload('Deployment', 'linkerd', 'linkerd-destination', {
      labels: { ...CP, app: 'destination', 'helm.sh/chart': 'linkerd-control-plane' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Deployment"}', [OPT_OUT]: 'false' },
      templateAnnotations: { 'linkerd.io/inject': 'enabled', 'kubectl.kubernetes.io/restartedAt': '2025-06-01T10:00:00Z' },
    });
    const [m] = classify(w, { extensionSelector: 'linkerd.io/extension in (viz)' });
    expect(m?.role).toBe('control-plane');
    expect(m?.workload).toStrictEqual({ ...w, labels: CP, annotations: { [OPT_OUT]: 'false' }, templateAnnotations: { 'linkerd.io/inject': 'enabled' } });
  });

  it('status conditions keep what rolloutState reads, not their messages and times', () => {
    const progressing = {
      type: 'Progressing',
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: 'ReplicaSet "web-7c9d" has timed out progressing.',
      lastTransitionTime: new Date('2025-06-01T10:00:00Z'),
      observedGeneration: 3,
    };
    const w = workload('Deployment', 'shop', 'web', {
      generation: 3,
      status: { observedGeneration: 3, replicas: 1, updatedReplicas: 1, availableReplicas: 1, conditions: [progressing] },
    });
    const [m] = classify(w);
    expect(m?.workload.status).toStrictEqual({
      observedGeneration: 3,
      replicas: 1,
      updatedReplicas: 1,
      availableReplicas: 1,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', observedGeneration: 3 }],
    });
    expect(m && rolloutState(m.workload, 3)).toStrictEqual(rolloutState(w, 3));
  });

  it('the kept metadata still decides: a custom selector key and an opt-out on the template', () => {
    const w = workload('Deployment', 'linkerd', 'destination', { labels: { tier: 'cp', app: 'x' }, templateAnnotations: { [OPT_OUT]: 'true', other: 'y' } });
    const [m] = classify(w, { controlPlaneSelector: 'tier=cp' });
    expect(m).toMatchObject({
      role: 'control-plane',
      hold: { kind: 'opted-out' },
      workload: { labels: { tier: 'cp' }, templateAnnotations: { [OPT_OUT]: 'true' } },
    });
  });

  it('workloadMetadataKeys names the keys of both selectors, the opt-out and the inject annotations', () => {
    expect(
      workloadMetadataKeys(config({ controlPlaneSelector: 'tier=cp,!legacy', extensionSelector: 'linkerd.io/extension in (viz)', optOutAnnotation: 'x/skip' })),
    ).toStrictEqual({
      labels: ['tier', 'legacy', 'linkerd.io/extension'],
      annotations: ['x/skip'],
      templateAnnotations: ['linkerd.io/inject', 'x/skip'],
    });
  });

  // Pods listed with podMetadataKeys must classify exactly as pods with all their metadata: a read
  // of a key classifyPods does not name there would differ here.
  it.each<[string, Partial<V1Pod['metadata']>]>([
    [
      'a ReplicaSet pod found by its pod-template-hash',
      {
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7c9d', uid: '1', controller: true }],
        labels: { 'pod-template-hash': '7c9d', app: 'web' },
      },
    ],
    ['an opted-out bare pod', { annotations: { [OPT_OUT]: 'true', 'linkerd.io/created-by': 'injector' } }],
    ['a bare pod', { annotations: { 'linkerd.io/created-by': 'injector' } }],
  ])('%s classifies the same with only podMetadataKeys kept', (_name, metadata) => {
    const pod: V1Pod = { metadata: { namespace: 'shop', name: 'web-7c9d-x', ...metadata }, status: { phase: 'Running' } };
    const all = toPodView(pod, { labels: Object.keys(pod.metadata?.labels ?? {}), annotations: Object.keys(pod.metadata?.annotations ?? {}) });
    const kept = toPodView(pod, podMetadataKeys(config()));
    const web = classify(workload('Deployment', 'shop', 'web'));
    const [fromAll] = classifyPods([all], web, config());
    const [fromKept] = classifyPods([kept], web, config());
    expect({ ...fromKept, pod: undefined }).toStrictEqual({ ...fromAll, pod: undefined });
  });
});
