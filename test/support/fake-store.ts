// The fake cluster's object store: Kubernetes-shaped objects with uids, resourceVersions and
// generations, optimistic concurrency on replace (409 like the apiserver), and the timings the
// fake controllers run on. Objects are kept as JSON, as they travel over the API: every read is
// a fresh copy, and timestamps are RFC 3339 strings, which the adapter's converters read like the
// client's Dates (structuredClone's Dates would come from another realm under Jest's VM modules).
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1DaemonSet, V1Deployment, V1Namespace, V1ObjectMeta, V1Pod, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
import { ApiError } from '../../src/kube/errors.js';
import type { SimClock } from './sim-clock.js';

/** A condition as cert-manager and trust-manager write them (JSON). */
export interface ConditionJson {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** cert-manager.io/v1 Certificate, the fields the fake's cert-manager reads and writes. */
export interface CertificateObject {
  apiVersion: 'cert-manager.io/v1';
  kind: 'Certificate';
  metadata: V1ObjectMeta;
  spec: {
    secretName: string;
    isCA: boolean;
    commonName: string;
    /** Milliseconds here (cert-manager writes Go durations; the fake needs no parser). */
    durationMs: number;
    renewBeforeMs: number;
    issuerRef: { kind: 'Issuer' | 'ClusterIssuer'; name: string };
    privateKey: { algorithm: 'ECDSA'; rotationPolicy?: 'Always' | 'Never' };
    revisionHistoryLimit?: number;
  };
  status: {
    conditions?: ConditionJson[];
    revision?: number;
    notBefore?: string;
    notAfter?: string;
    renewalTime?: string;
    lastFailureTime?: string;
    failedIssuanceAttempts?: number;
  };
}

export interface CertificateRequestObject {
  apiVersion: 'cert-manager.io/v1';
  kind: 'CertificateRequest';
  metadata: V1ObjectMeta;
  status: { conditions?: ConditionJson[]; certificate?: string; ca?: string };
}

export interface BundleObject {
  apiVersion: 'trust.cert-manager.io/v1alpha1';
  kind: 'Bundle';
  metadata: V1ObjectMeta;
  spec: {
    sources: { secret?: { name: string; key?: string; includeAllKeys?: boolean } }[];
    target: { configMap: { key: string }; namespaceSelector?: { matchLabels?: Record<string, string> } };
  };
  status: { conditions?: ConditionJson[] };
}

export type WorkloadObject = V1Deployment | V1StatefulSet | V1DaemonSet;

/** Every kind the store keeps, by the name the fake uses for it. */
export interface Kinds {
  Namespace: V1Namespace;
  Secret: V1Secret;
  ConfigMap: V1ConfigMap;
  Pod: V1Pod;
  Deployment: V1Deployment;
  StatefulSet: V1StatefulSet;
  DaemonSet: V1DaemonSet;
  Certificate: CertificateObject;
  CertificateRequest: CertificateRequestObject;
  Bundle: BundleObject;
}
export type Kind = keyof Kinds;

/** How long the fake controllers take, in milliseconds of the fake clock. */
export interface Timings {
  /** A workload controller acting on a change (generation observed, pods created or deleted). */
  controllerMs: number;
  /** A created pod's containers running (startTime). */
  podStartMs: number;
  /** From start to Ready. */
  podReadyMs: number;
  /** A deleted pod's graceful termination (it runs, terminating, until then). */
  terminationMs: number;
  /** cert-manager: from Issuing=True to the signed certificate in the Secret (its request is made half-way). */
  issueMs: number;
  /** cert-manager: from the Secret write to status.revision and Issuing cleared. */
  issueStatusMs: number;
  /** trust-manager: from a source change to the target ConfigMaps rewritten. */
  bundleMs: number;
  /** kubelet: a changed Secret reaching a running pod's mounted file (the identity controller reloads then). */
  mountLagMs: number;
}

export const defaultTimings: Timings = {
  controllerMs: 200,
  podStartMs: 2_000,
  podReadyMs: 1_000,
  terminationMs: 3_000,
  issueMs: 3_000,
  issueStatusMs: 500,
  bundleMs: 2_000,
  mountLagMs: 30_000,
};

const keyOf = (kind: Kind, namespace: string | undefined, name: string): string => `${kind}/${namespace ?? ''}/${name}`;

/** A short stable hash (pod-template-hash, revisions, trust-manager's hash annotation). */
export const shortHash = (value: unknown, length = 10): string => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, length);

export class Store {
  /** Each object as its JSON text: a read parses a fresh copy, a write serializes once. */
  private readonly objects = new Map<
    string,
    { kind: Kind; json: string; namespace?: string; resourceVersion: string; generation?: number; uid?: string; created?: unknown; spec: string }
  >();
  private version = 0;
  private uids = 0;
  /** Told of every change (kind, namespace, name), after it is stored. */
  readonly listeners: ((kind: Kind, namespace: string | undefined, name: string) => void)[] = [];

  constructor(
    readonly clock: SimClock,
    readonly timings: Timings,
  ) {}

  get<K extends Kind>(kind: K, namespace: string | undefined, name: string): Kinds[K] | undefined {
    const found = this.objects.get(keyOf(kind, namespace, name));
    return found ? (JSON.parse(found.json) as Kinds[K]) : undefined;
  }

  list<K extends Kind>(kind: K, namespace?: string): Kinds[K][] {
    const out: Kinds[K][] = [];
    for (const entry of this.objects.values()) {
      if (entry.kind === kind && (namespace === undefined || entry.namespace === namespace)) out.push(JSON.parse(entry.json) as Kinds[K]);
    }
    return out.sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
  }

  /** Creates an object (409 when it exists), filling uid, resourceVersion, generation and creationTimestamp. */
  create<K extends Kind>(kind: K, object: Kinds[K]): Kinds[K] {
    const meta = (object.metadata ??= {});
    const key = keyOf(kind, meta.namespace, meta.name ?? '');
    if (this.objects.has(key)) throw new ApiError(409, `create ${kind} ${meta.namespace}/${meta.name}`, 'HTTP 409: AlreadyExists');
    meta.uid ??= `uid-${++this.uids}`;
    meta.creationTimestamp ??= this.clock.now();
    meta.generation ??= 1;
    return this.put(kind, object);
  }

  /**
   * An update with the apiserver's optimistic concurrency: the object's resourceVersion must be the
   * stored one (409 Conflict otherwise, 404 when it is gone). Generation moves when `spec` changed.
   */
  replace<K extends Kind>(kind: K, object: Kinds[K]): Kinds[K] {
    const meta = object.metadata ?? {};
    const current = this.objects.get(keyOf(kind, meta.namespace, meta.name ?? ''));
    const action = `update ${kind} ${meta.namespace}/${meta.name}`;
    if (!current) throw new ApiError(404, action, 'HTTP 404: NotFound');
    if (meta.resourceVersion !== current.resourceVersion) {
      throw new ApiError(
        409,
        action,
        'HTTP 409: Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    const after = JSON.stringify((object as { spec?: unknown }).spec ?? null);
    meta.generation = (current.generation ?? 1) + (current.spec === after ? 0 : 1);
    meta.uid = current.uid;
    meta.creationTimestamp = current.created as Date | undefined;
    return this.put(kind, object);
  }

  /** A server-side change (a controller's write): read, change, store, without a precondition. */
  update<K extends Kind>(kind: K, namespace: string | undefined, name: string, change: (object: Kinds[K]) => void): Kinds[K] | undefined {
    const current = this.get(kind, namespace, name);
    if (!current) return undefined;
    change(current);
    return this.replace(kind, current);
  }

  /** Another writer touched the object (its resourceVersion moves, nothing else). */
  bump(kind: Kind, namespace: string | undefined, name: string): void {
    const current = this.get(kind, namespace, name);
    if (current) this.put(kind, current);
  }

  delete(kind: Kind, namespace: string | undefined, name: string): boolean {
    const deleted = this.objects.delete(keyOf(kind, namespace, name));
    if (deleted) this.tell(kind, namespace, name);
    return deleted;
  }

  private put<K extends Kind>(kind: K, object: Kinds[K]): Kinds[K] {
    const meta = (object.metadata ??= {});
    meta.resourceVersion = String(++this.version);
    const json = JSON.stringify(object);
    const spec = JSON.stringify((object as { spec?: unknown }).spec ?? null);
    this.objects.set(keyOf(kind, meta.namespace, meta.name ?? ''), {
      kind,
      json,
      namespace: meta.namespace,
      resourceVersion: meta.resourceVersion,
      generation: meta.generation,
      uid: meta.uid,
      created: meta.creationTimestamp,
      spec,
    });
    this.tell(kind, meta.namespace, meta.name ?? '');
    return JSON.parse(json) as Kinds[K];
  }

  private tell(kind: Kind, namespace: string | undefined, name: string): void {
    for (const listener of this.listeners) listener(kind, namespace, name);
  }
}
