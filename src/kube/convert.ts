import type { V1Pod, V1Secret, V1Namespace, V1Deployment, V1StatefulSet, V1DaemonSet, V1Condition } from '@kubernetes/client-node';
import { createIntern, pickKeys, type Intern } from './intern.js';
import type {
  BundleSourceView,
  BundleView,
  CertificateRequestView,
  CertificateView,
  Condition,
  LabelSelectorView,
  NamespaceView,
  PodMetadataKeys,
  PodView,
  SecretView,
  Workload,
  WorkloadMetadataKeys,
} from './model.js';

/**
 * The env var Linkerd's proxy-injector writes the trust bundle into.
 * @internal exported for the fakes and the memory benchmark
 */
export const trustAnchorsEnv = 'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS';
/** @internal exported for the memory benchmark */
export const proxyContainer = 'linkerd-proxy';

type Json = Record<string, unknown>;

const asRecord = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});
const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const asNumber = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
const asDate = (value: unknown): Date | undefined => {
  if (value instanceof Date) return value;
  if (typeof value !== 'string' || value === '') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
};
const asStrings = (value: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(asRecord(value))) if (typeof item === 'string') out[key] = item;
  return out;
};

/** Conditions from typed or untyped objects. */
function toConditions(list: unknown): Condition[] {
  if (!Array.isArray(list)) return [];
  return list.map((raw: unknown) => {
    const item = asRecord(raw);
    return {
      type: asString(item.type) ?? '',
      status: asString(item.status) ?? 'Unknown',
      reason: asString(item.reason),
      message: asString(item.message),
      lastTransitionTime: asDate(item.lastTransitionTime),
      observedGeneration: asNumber(item.observedGeneration),
    };
  });
}

/** A cert-manager Certificate (untyped JSON from the custom objects API). */
export function toCertificate(raw: unknown): CertificateView {
  const object = asRecord(raw);
  const metadata = asRecord(object.metadata);
  const spec = asRecord(object.spec);
  const status = asRecord(object.status);
  return {
    namespace: asString(metadata.namespace) ?? '',
    name: asString(metadata.name) ?? '',
    uid: asString(metadata.uid) ?? '',
    generation: asNumber(metadata.generation) ?? 0,
    secretName: asString(spec.secretName) ?? '',
    conditions: toConditions(status.conditions),
    revision: asNumber(status.revision) ?? 0,
    notBefore: asDate(status.notBefore),
    notAfter: asDate(status.notAfter),
    lastFailureTime: asDate(status.lastFailureTime),
    failedIssuanceAttempts: asNumber(status.failedIssuanceAttempts) ?? 0,
    renewalTime: asDate(status.renewalTime),
    renewalDisabled: asString(asRecord(spec.renewal).policy) === 'Disabled',
    rotationPolicy: asString(asRecord(spec.privateKey).rotationPolicy),
  };
}

const base64Pem = (value: unknown): string | undefined => {
  const text = asString(value);
  return text ? Buffer.from(text, 'base64').toString('utf8') : undefined;
};

/** A cert-manager CertificateRequest (untyped JSON); its certificate and CA are base64 PEM in the API. */
export function toCertificateRequest(raw: unknown): CertificateRequestView {
  const object = asRecord(raw);
  const metadata = asRecord(object.metadata);
  const annotations = asStrings(metadata.annotations);
  const status = asRecord(object.status);
  const revisionText = annotations['cert-manager.io/certificate-revision'];
  const revision = revisionText !== undefined && /^[0-9]+$/.test(revisionText) ? Number(revisionText) : undefined;
  const owners = Array.isArray(metadata.ownerReferences) ? (metadata.ownerReferences as unknown[]).map(asRecord) : [];
  return {
    namespace: asString(metadata.namespace) ?? '',
    name: asString(metadata.name) ?? '',
    certificateName: annotations['cert-manager.io/certificate-name'],
    revision,
    ownerUids: owners.filter((owner) => owner.kind === 'Certificate').map((owner) => asString(owner.uid) ?? ''),
    conditions: toConditions(status.conditions),
    certificatePem: base64Pem(status.certificate),
    caPem: base64Pem(status.ca),
  };
}

function toSelector(raw: unknown): LabelSelectorView {
  const selector = asRecord(raw);
  const expressions = Array.isArray(selector.matchExpressions)
    ? selector.matchExpressions.map((item: unknown) => {
        const expression = asRecord(item);
        return {
          key: asString(expression.key) ?? '',
          operator: asString(expression.operator) ?? '',
          values: Array.isArray(expression.values) ? expression.values.map(String) : undefined,
        };
      })
    : undefined;
  return { matchLabels: asStrings(selector.matchLabels), matchExpressions: expressions };
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);

/** A v1alpha1 `secret`/`configMap` source: by name or selector, one key or all of them. */
function objectSource(kind: 'Secret' | 'ConfigMap', raw: unknown): BundleSourceView {
  const ref = asRecord(raw);
  return {
    kind,
    name: asString(ref.name),
    ...(ref.selector !== undefined ? { bySelector: true } : {}),
    key: ref.includeAllKeys === true ? '*' : asString(ref.key),
  };
}

function bundleSources(spec: Json): BundleSourceView[] {
  return asList(spec.sources).flatMap((raw): BundleSourceView[] => {
    const source = asRecord(raw);
    const found: BundleSourceView[] = [];
    if (source.secret !== undefined) found.push(objectSource('Secret', source.secret));
    if (source.configMap !== undefined) found.push(objectSource('ConfigMap', source.configMap));
    if (asString(source.inLine)) found.push({ kind: 'inline' });
    if (source.useDefaultCAs === true) found.push({ kind: 'default-cas' });
    return found;
  });
}

function clusterBundleSources(spec: Json): BundleSourceView[] {
  const refs = asList(spec.sourceRefs).map((raw): BundleSourceView => {
    const ref = asRecord(raw);
    return {
      kind: asString(ref.kind) === 'ConfigMap' ? 'ConfigMap' : 'Secret',
      name: asString(ref.name),
      ...(ref.selector !== undefined ? { bySelector: true } : {}),
      key: asString(ref.key),
    };
  });
  const extra: BundleSourceView[] = [];
  if (asString(spec.inLineCAs)) extra.push({ kind: 'inline' });
  if (asString(asRecord(spec.defaultCAs).provider) === 'System') extra.push({ kind: 'default-cas' });
  return [...refs, ...extra];
}

/**
 * A trust-manager Bundle (trust.cert-manager.io/v1alpha1) or ClusterBundle (trust-manager.io/v1alpha2),
 * told apart by apiVersion. A ClusterBundle's PEM key is the first `target.configMap.data[]` entry
 * in PEM format (PKCS12 entries are binary); its required `namespaceSelector` `{}` selects every namespace.
 */
export function toBundle(raw: unknown): BundleView {
  const object = asRecord(raw);
  const spec = asRecord(object.spec);
  const target = asRecord(spec.target);
  const name = asString(asRecord(object.metadata).name) ?? '';
  const namespaceSelector = target.namespaceSelector === undefined ? undefined : toSelector(target.namespaceSelector);
  if ((asString(object.apiVersion) ?? '').startsWith('trust-manager.io/')) {
    const pem = asList(asRecord(target.configMap).data)
      .map(asRecord)
      .find((entry) => (asString(entry.format) ?? 'PEM') === 'PEM');
    return { kind: 'ClusterBundle', name, configMapKey: asString(pem?.key) ?? '', namespaceSelector, sources: clusterBundleSources(spec) };
  }
  return { kind: 'Bundle', name, configMapKey: asString(asRecord(target.configMap).key) ?? '', namespaceSelector, sources: bundleSources(spec) };
}

const certManagerPrefixes = ['cert-manager.io/', 'controller.cert-manager.io/'];

/** A Secret reduced to its certificate; the key's value is never decoded. */
export function toSecretView(secret: V1Secret): SecretView {
  const data = secret.data ?? {};
  const crt = data['tls.crt'];
  const metadataKeys = [...Object.keys(secret.metadata?.labels ?? {}), ...Object.keys(secret.metadata?.annotations ?? {})];
  return {
    namespace: secret.metadata?.namespace ?? '',
    name: secret.metadata?.name ?? '',
    type: secret.type ?? 'Opaque',
    resourceVersion: secret.metadata?.resourceVersion ?? '',
    tlsCrt: crt === undefined ? undefined : Buffer.from(crt, 'base64').toString('utf8'),
    hasPrivateKey: (data['tls.key'] ?? '').length > 0,
    otherKeys: Object.keys(data).filter((key) => key !== 'tls.crt'),
    hasCertManagerMetadata: metadataKeys.some((key) => certManagerPrefixes.some((prefix) => key.startsWith(prefix))),
  };
}

export function toNamespace(namespace: V1Namespace): NamespaceView {
  return {
    name: namespace.metadata?.name ?? '',
    labels: namespace.metadata?.labels ?? {},
    annotations: namespace.metadata?.annotations ?? {},
  };
}

function readySince(conditions: readonly V1Condition[] | undefined | { type: string; status: string; lastTransitionTime?: Date }[]): Date | undefined {
  const ready = conditions?.find((condition) => condition.type === 'Ready' && condition.status === 'True');
  return ready ? asDate(ready.lastTransitionTime) : undefined;
}

const noKeys: PodMetadataKeys = { labels: [], annotations: [] };

/**
 * A meshed pod: where it came from, when it started, and the bundle it was born with. Only the
 * labels and annotations in `keep` are copied, and its shared strings go through `intern`, so
 * that nothing of the client-node object stays reachable from the view.
 */
// eslint-disable-next-line complexity -- a field-by-field mapping: each `?.` and `??` is a missing field's default, not a branch of logic
export function toPodView(pod: V1Pod, keep: PodMetadataKeys = noKeys, intern: Intern = createIntern()): PodView {
  const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller) ?? pod.metadata?.ownerReferences?.[0];
  const proxies = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].filter((c) => c.name === proxyContainer);
  const anchors = proxies.flatMap((c) => c.env ?? []).find((env) => env.name === trustAnchorsEnv)?.value;
  const since = readySince(pod.status?.conditions);
  return {
    namespace: intern(pod.metadata?.namespace ?? ''),
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    phase: intern(pod.status?.phase ?? 'Unknown'),
    labels: pickKeys(pod.metadata?.labels, keep.labels, intern),
    annotations: pickKeys(pod.metadata?.annotations, keep.annotations, intern),
    owner: owner ? { kind: intern(owner.kind), name: intern(owner.name) } : undefined,
    createdAtMs: asDate(pod.metadata?.creationTimestamp)?.getTime() ?? 0,
    startedAtMs: asDate(pod.status?.startTime)?.getTime(),
    ready: since !== undefined,
    readySinceMs: since?.getTime(),
    terminating: pod.metadata?.deletionTimestamp !== undefined && pod.metadata?.deletionTimestamp !== null,
    trustAnchorsPem: anchors === undefined ? undefined : intern(anchors),
  };
}

/** A Deployment, StatefulSet or DaemonSet as client-node types it. */
export type AnyWorkload = V1Deployment | V1StatefulSet | V1DaemonSet;

/**
 * Deployments, StatefulSets and DaemonSets flattened into one shape; with `keep`, only the labels
 * and annotations it names (a list of the whole mesh), else all of them (one workload read or watched).
 */
// eslint-disable-next-line complexity -- a field-by-field mapping: each `?.` and `??` is a missing field's default, not a branch of logic
export function toWorkload(kind: Workload['kind'], object: AnyWorkload, keep?: WorkloadMetadataKeys): Workload {
  const status = asRecord(object.status);
  const spec = asRecord(object.spec);
  const strategy = asRecord(spec.strategy ?? spec.updateStrategy);
  const rollingUpdate = asRecord(strategy.rollingUpdate);
  const template = asRecord(spec.template);
  return {
    kind,
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    generation: object.metadata?.generation ?? 0,
    labels: keep ? pickKeys(object.metadata?.labels, keep.labels) : (object.metadata?.labels ?? {}),
    annotations: keep ? pickKeys(object.metadata?.annotations, keep.annotations) : (object.metadata?.annotations ?? {}),
    templateAnnotations: keep
      ? pickKeys(asStrings(asRecord(template.metadata).annotations), keep.templateAnnotations)
      : asStrings(asRecord(template.metadata).annotations),
    specReplicas: kind === 'DaemonSet' ? undefined : (asNumber(spec.replicas) ?? 1),
    paused: spec.paused === true,
    strategy: asString(strategy.type) ?? 'RollingUpdate',
    partition: asNumber(rollingUpdate.partition),
    status: {
      observedGeneration: asNumber(status.observedGeneration),
      replicas: asNumber(status.replicas),
      updatedReplicas: asNumber(status.updatedReplicas),
      readyReplicas: asNumber(status.readyReplicas),
      availableReplicas: asNumber(status.availableReplicas),
      currentRevision: asString(status.currentRevision),
      updateRevision: asString(status.updateRevision),
      desiredNumberScheduled: asNumber(status.desiredNumberScheduled),
      updatedNumberScheduled: asNumber(status.updatedNumberScheduled),
      numberAvailable: asNumber(status.numberAvailable),
      conditions: toConditions(status.conditions),
    },
  };
}
