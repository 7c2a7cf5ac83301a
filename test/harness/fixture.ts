import * as k8s from '@kubernetes/client-node';
import { eventually } from './eventually.js';

/**
 * The Linkerd world as Linkerd's cert-manager guide lays it down: the self-signed issuer,
 * the trust-anchor Certificate, the CA ClusterIssuer, the identity-issuer Certificate, the
 * previous-anchor Secret (a copy of the anchor Secret, as the guide made it), the Bundle;
 * the control plane with Linkerd's labels, a viz extension, and meshed workloads of every kind.
 */
export const names = {
  trustNs: 'cert-manager',
  linkerdNs: 'linkerd',
  vizNs: 'linkerd-viz',
  anchor: 'linkerd-trust-anchor',
  issuer: 'linkerd-identity-issuer',
  previous: 'linkerd-previous-anchor',
  bundle: 'linkerd-identity-trust-roots',
};

type Obj = k8s.KubernetesObject & Record<string, unknown>;

const container = { name: 'app', image: 'registry.local/app:1' };
const tolerations = [{ operator: 'Exists' }];

function podTemplate(app: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Record<string, unknown> {
  return { metadata: { labels: { app, ...labels }, annotations }, spec: { containers: [container], tolerations, terminationGracePeriodSeconds: 0 } };
}

export function deployment(
  namespace: string,
  name: string,
  opts: {
    replicas?: number;
    labels?: Record<string, string>;
    templateLabels?: Record<string, string>;
    templateAnnotations?: Record<string, string>;
    annotations?: Record<string, string>;
  } = {},
): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: opts.labels ?? {}, annotations: opts.annotations ?? {} },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      // The Kubernetes default. With less, an apiserver outage (faults.test) plus the controllers'
      // leader re-election can outlast the deadline, and Kubernetes itself declares the rollout
      // failed: the rotator then rightly stops, which is not what that test is about.
      progressDeadlineSeconds: 600,
      template: podTemplate(name, opts.templateLabels, opts.templateAnnotations),
    },
  };
}

function statefulSet(namespace: string, name: string, replicas: number): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace },
    spec: { replicas, serviceName: name, selector: { matchLabels: { app: name } }, podManagementPolicy: 'Parallel', template: podTemplate(name) },
  };
}

function daemonSet(namespace: string, name: string): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace },
    spec: { selector: { matchLabels: { app: name } }, template: podTemplate(name) },
  };
}

const ns = (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels, annotations },
});

/** The self-signed issuer and the anchor Certificate: only the cluster that holds the anchor has them. */
function anchorObjects(): Obj[] {
  const { trustNs, anchor } = names;
  return [
    { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'linkerd-trust-root-issuer', namespace: trustNs }, spec: { selfSigned: {} } },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: anchor, namespace: trustNs },
      spec: {
        isCA: true,
        commonName: 'root.linkerd.cluster.local',
        secretName: anchor,
        duration: '8760h0m0s',
        renewBefore: '7320h0m0s',
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        issuerRef: { name: 'linkerd-trust-root-issuer', kind: 'Issuer', group: 'cert-manager.io' },
      },
    },
  ];
}

/** The anchor and issuer Certificates' schedules as the fixture lays them down (tests that change them restore these). */
export function fixtureSchedules(): { namespace: string; name: string; duration: string; renewBefore: string }[] {
  return [...anchorObjects(), ...issuerObjects()]
    .filter((o) => o.kind === 'Certificate')
    .map((o) => {
      const spec = o.spec as { duration: string; renewBefore: string };
      return { namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '', duration: spec.duration, renewBefore: spec.renewBefore };
    });
}

/** The CA ClusterIssuer signing with the anchor Secret, and the identity-issuer Certificate it issues: every cluster has them. */
function issuerObjects(): Obj[] {
  const { linkerdNs, anchor, issuer } = names;
  return [
    { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: issuer }, spec: { ca: { secretName: anchor } } },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: issuer, namespace: linkerdNs },
      spec: {
        isCA: true,
        commonName: 'identity.linkerd.cluster.local',
        dnsNames: ['identity.linkerd.cluster.local'],
        secretName: issuer,
        duration: '48h0m0s',
        renewBefore: '25h0m0s',
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        usages: ['cert sign', 'crl sign', 'server auth', 'client auth'],
        issuerRef: { name: issuer, kind: 'ClusterIssuer', group: 'cert-manager.io' },
      },
    },
  ];
}

/** What the bundle objects are made of; `previousSource: false` leaves out the previous anchor (issue 10, situation 4). */
export interface BundleOptions {
  previousSource?: boolean;
}

const bundleSecrets = (options: BundleOptions): string[] => [names.anchor, ...(options.previousSource === false ? [] : [names.previous])];
const bundleSelector = { matchLabels: { 'linkerd.io/is-control-plane': 'true' } };

export function bundleObject(options: BundleOptions = {}): Obj {
  return {
    apiVersion: 'trust.cert-manager.io/v1alpha1',
    kind: 'Bundle',
    metadata: { name: names.bundle },
    spec: {
      sources: bundleSecrets(options).map((name) => ({ secret: { name, key: 'tls.crt' } })),
      target: { configMap: { key: 'ca-bundle.crt' }, namespaceSelector: bundleSelector },
    },
  };
}

/**
 * The same bundle as trust-manager's ClusterBundle (trust-manager.io/v1alpha2), in the shape its
 * Bundle-to-ClusterBundle conversion writes. trust-manager v0.25.0 serves this CRD but reconciles
 * only Bundle, so the fixture keeps its Bundle beside it: the Bundle writes the target ConfigMaps,
 * the rotator reads the ClusterBundle (which wins) and gates on the ConfigMaps' PEM.
 */
export function clusterBundleObject(options: BundleOptions = {}): Obj {
  return {
    apiVersion: 'trust-manager.io/v1alpha2',
    kind: 'ClusterBundle',
    metadata: { name: names.bundle },
    spec: {
      sourceRefs: bundleSecrets(options).map((name) => ({ kind: 'Secret', name, key: 'tls.crt' })),
      target: { configMap: { data: [{ key: 'ca-bundle.crt' }] }, namespaceSelector: bundleSelector },
    },
  };
}

function controlPlane(): Obj[] {
  const labels = (component: string): Record<string, string> => ({
    'linkerd.io/control-plane-ns': names.linkerdNs,
    'linkerd.io/control-plane-component': component,
  });
  return ['identity', 'destination', 'proxy-injector'].map((component) =>
    deployment(names.linkerdNs, `linkerd-${component}`, { labels: labels(component), templateLabels: labels(component) }),
  );
}

/** Meshed and unmeshed workloads; `optOut` adds a meshed Deployment carrying the rotator's opt-out annotation. */
export function workloads(): Obj[] {
  const viz = { 'linkerd.io/extension': 'viz' };
  const inject = { 'linkerd.io/inject': 'enabled' };
  return [
    deployment(names.vizNs, 'web', { labels: viz, templateLabels: viz, templateAnnotations: inject }),
    deployment(names.vizNs, 'tap', { labels: viz, templateLabels: viz, templateAnnotations: inject }),
    deployment('shop', 'api', { replicas: 2 }),
    statefulSet('shop', 'db', 2),
    daemonSet('shop', 'agent'),
    deployment('shop', 'legacy', { templateAnnotations: { 'linkerd.io/inject': 'disabled' } }),
    deployment('blog', 'frontend', { templateAnnotations: inject }),
    deployment('blog', 'plain'),
    deployment('jobs', 'worker', { replicas: 2 }),
  ];
}

export interface FixtureOptions {
  /** Make the previous-anchor Secret the old way: a copy of the anchor Secret with its key (default true). */
  legacyPreviousAnchor?: boolean;
}

/** A client for laying objects down, and `apply`: create each object, leaving one that exists as it is. */
function clients(kubeconfig: string): { config: k8s.KubeConfig; core: k8s.CoreV1Api; apply: (items: Obj[]) => Promise<void> } {
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfig);
  const objects = k8s.KubernetesObjectApi.makeApiClient(config);
  const apply = async (items: Obj[]): Promise<void> => {
    for (const item of items) {
      try {
        await objects.create(item);
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
      }
    }
  };
  return { config, core: config.makeApiClient(k8s.CoreV1Api), apply };
}

function namespaces(): Obj[] {
  return [
    ns(names.trustNs),
    ns(names.linkerdNs, { 'linkerd.io/is-control-plane': 'true', 'linkerd.io/control-plane-ns': names.linkerdNs }, { 'linkerd.io/inject': 'disabled' }),
    ns(names.vizNs, { 'linkerd.io/extension': 'viz' }),
    ns('shop', {}, { 'linkerd.io/inject': 'enabled' }),
    ns('blog'),
    ns('jobs', {}, { 'linkerd.io/inject': 'enabled' }),
  ];
}

/** The previous-anchor Secret as the rotator writes it: a clean object holding only the anchor's certificate. */
function certificateOnlyPrevious(anchorSecret: k8s.V1Secret): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: names.previous, namespace: names.trustNs },
    type: 'Opaque',
    data: { 'tls.crt': anchorSecret.data?.['tls.crt'] ?? '' },
  };
}

/**
 * What every cluster has once its issuer is issued: the previous-anchor Secret, the Bundle, the
 * control plane, then the workloads (created after the bundle, so that every pod is injected).
 */
async function installMesh(kubeconfig: string, previous: Obj): Promise<void> {
  const { config, core, apply } = clients(kubeconfig);
  await eventually('issuer Secret issued', () => core.readNamespacedSecret({ namespace: names.linkerdNs, name: names.issuer }));
  await apply([previous, bundleObject()]);
  await eventually('bundle ConfigMap in linkerd', async () => {
    const map = await core.readNamespacedConfigMap({ namespace: names.linkerdNs, name: names.bundle });
    if (!map.data?.['ca-bundle.crt']?.includes('BEGIN CERTIFICATE')) throw new Error('empty bundle');
  });
  await apply(controlPlane());
  await waitForWorkloads(config, [names.linkerdNs]);
  await apply(workloads());
  await waitForWorkloads(config, [names.vizNs, 'shop', 'blog', 'jobs']);
}

/** Applies the fixture and waits until certificates, bundle and workloads are ready. */
export async function installFixture(kubeconfig: string, options: FixtureOptions = {}): Promise<void> {
  const { core, apply } = clients(kubeconfig);
  await apply(namespaces());
  await apply([...anchorObjects(), ...issuerObjects()]);
  const anchorSecret = await eventually('anchor Secret issued', () => core.readNamespacedSecret({ namespace: names.trustNs, name: names.anchor }));
  const legacy = options.legacyPreviousAnchor ?? true;
  await installMesh(
    kubeconfig,
    legacy
      ? {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: names.previous,
            namespace: names.trustNs,
            labels: anchorSecret.metadata?.labels ?? {},
            annotations: anchorSecret.metadata?.annotations ?? {},
          },
          type: anchorSecret.type,
          data: anchorSecret.data,
        }
      : certificateOnlyPrevious(anchorSecret),
  );
}

/**
 * A peer of the cluster at `primaryKubeconfig` in Linkerd's shared-anchor topology: no anchor
 * Certificate and no self-signed issuer; the anchor Secret is a copy of the primary's (tls.crt,
 * tls.key, ca.crt: the peer's CA ClusterIssuer signs with its key), and the previous anchor is
 * certificate-only. Issuer Certificate, Bundle, control plane and workloads as in the primary.
 */
export async function installPeerFixture(peerKubeconfig: string, primaryKubeconfig: string): Promise<void> {
  const primary = clients(primaryKubeconfig).core;
  const anchorSecret = await primary.readNamespacedSecret({ namespace: names.trustNs, name: names.anchor });
  const { apply } = clients(peerKubeconfig);
  await apply(namespaces());
  const data = anchorSecret.data ?? {};
  await apply([
    // A clean copy: cert-manager's labels and annotations would make the peer's cert-manager take it for its own.
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: names.anchor, namespace: names.trustNs },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': data['tls.crt'] ?? '', 'tls.key': data['tls.key'] ?? '', 'ca.crt': data['ca.crt'] ?? '' },
    },
    ...issuerObjects(),
  ]);
  await installMesh(peerKubeconfig, certificateOnlyPrevious(anchorSecret));
}

/**
 * Makes the previous-anchor Secret again the way Linkerd's guide did (a copy of the anchor Secret,
 * key and cert-manager metadata included), as installFixture lays it down: for a file that proves
 * how the rotator treats that copy, whatever the files before it on the same cluster left.
 */
export async function layLegacyPreviousAnchor(kubeconfig: string): Promise<void> {
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfig);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const anchor = await core.readNamespacedSecret({ namespace: names.trustNs, name: names.anchor });
  // A Secret's type is immutable: replace the object whatever it is now.
  await core.deleteNamespacedSecret({ namespace: names.trustNs, name: names.previous }).catch((error: unknown) => {
    if ((error as { code?: number }).code !== 404) throw error;
  });
  await core.createNamespacedSecret({
    namespace: names.trustNs,
    body: {
      metadata: { name: names.previous, namespace: names.trustNs, labels: anchor.metadata?.labels ?? {}, annotations: anchor.metadata?.annotations ?? {} },
      type: anchor.type,
      data: anchor.data,
    },
  });
}

/** Waits until every workload in the namespaces has all replicas ready and updated. */
export async function waitForWorkloads(config: k8s.KubeConfig, namespaces: string[]): Promise<void> {
  const apps = config.makeApiClient(k8s.AppsV1Api);
  for (const namespace of namespaces) {
    await eventually(
      `workloads ready in ${namespace}`,
      async () => {
        const [deps, sets, daemons] = await Promise.all([
          apps.listNamespacedDeployment({ namespace }),
          apps.listNamespacedStatefulSet({ namespace }),
          apps.listNamespacedDaemonSet({ namespace }),
        ]);
        const notReady = [
          ...deps.items
            .filter((d) => (d.status?.readyReplicas ?? 0) < (d.spec?.replicas ?? 1) || (d.status?.updatedReplicas ?? 0) < (d.spec?.replicas ?? 1))
            .map((d) => d.metadata?.name),
          ...sets.items.filter((s) => (s.status?.readyReplicas ?? 0) < (s.spec?.replicas ?? 1)).map((s) => s.metadata?.name),
          ...daemons.items
            .filter((d) => (d.status?.numberReady ?? 0) < (d.status?.desiredNumberScheduled ?? 1) || (d.status?.desiredNumberScheduled ?? 0) === 0)
            .map((d) => d.metadata?.name),
        ];
        if (notReady.length > 0) throw new Error(`not ready: ${notReady.join(', ')}`);
      },
      120_000,
    );
  }
}
