import type {
  BundleView,
  KeyPair,
  CertificateRequestView,
  CertificateView,
  LinkView,
  NamespaceView,
  PodMetadataKeys,
  PodView,
  SecretView,
  Workload,
  WorkloadKind,
  WorkloadMetadataKeys,
  WorkloadRef,
} from './model.js';

/** A change a workload watch delivered: the workload as it now is (undefined once deleted). */
export interface WorkloadChange {
  ref: WorkloadRef;
  workload: Workload | undefined;
  /** The unbroken stretch of the watch it arrived in (see WorkloadFeed.span). */
  span: number;
}

/** A watch on one kind of workload in all namespaces, resumed across dropped connections. */
export interface WorkloadFeed {
  /**
   * The watch's unbroken stretch: the same number while no event can have been missed,
   * a new one after the watch had to start afresh, undefined while it is not streaming.
   */
  readonly span: number | undefined;
  stop(): void;
}

/** Reads the rotator needs; `undefined` means the object does not exist. */
export interface ClusterReader {
  getCertificate(namespace: string, name: string): Promise<CertificateView | undefined>;
  /**
   * The CertificateRequests of one namespace, paged: where cert-manager publishes each issuance's
   * certificate without its key.
   */
  listCertificateRequests(namespace: string): Promise<CertificateRequestView[]>;
  /**
   * A Secret reduced to its certificate (the response's `tls.key` is dropped unread). Read only for
   * the certificate-only previous-anchor Secret, and for the anchor and issuer Secrets only under
   * --read-key-secrets.
   */
  getSecret(namespace: string, name: string): Promise<SecretView | undefined>;
  /**
   * The ClusterBundle of that name when trust-manager.io/v1alpha2 is served and it exists, else the
   * Bundle. Throws MissingApiError when neither CRD is installed.
   */
  getBundle(name: string): Promise<BundleView | undefined>;
  listNamespaces(labelSelector?: string): Promise<NamespaceView[]>;
  /** Returns one key of a ConfigMap, or undefined when the ConfigMap or key is missing. */
  getConfigMapValue(namespace: string, name: string, key: string): Promise<string | undefined>;
  /**
   * Pods labelled `linkerd.io/control-plane-ns`, all namespaces, paged, each reduced to a PodView
   * as its page arrives; only the labels and annotations named in `keep` are kept (none without it).
   */
  listMeshedPods(keep?: PodMetadataKeys): Promise<PodView[]>;
  /**
   * Deployments, StatefulSets and DaemonSets, in one namespace or all, paged, each converted as its
   * page arrives; with `keep`, only the labels and annotations it names are kept.
   */
  listWorkloads(namespace?: string, labelSelector?: string, keep?: WorkloadMetadataKeys): Promise<Workload[]>;
  getWorkload(ref: WorkloadRef): Promise<Workload | undefined>;
  /** Linkerd multicluster Links in all namespaces; empty when the multicluster API is not served. */
  listLinks(): Promise<LinkView[]>;
  /** Opens one watch on a workload kind, all namespaces; throws ApiError when it cannot (403). */
  watchWorkloads(kind: WorkloadKind, onChange: (change: WorkloadChange) => void): Promise<WorkloadFeed>;
}

/** Writes the rotator makes. Each throws ApiError on failure. */
interface ClusterWriter {
  /** Sets Issuing=True (reason ManuallyTriggered) through the status subresource, retrying on conflict. */
  triggerIssuance(namespace: string, name: string, now: Date): Promise<void>;
  /** Patches the pod template's restartedAt annotation (strategic merge); returns the patched workload. */
  restartWorkload(ref: WorkloadRef, restartedAt: string): Promise<Workload>;
  /**
   * Updates the existing Secret in place (never a create or a delete) so that its data is only
   * `tls.crt`: its labels and annotations stay (Helm's ownership included) but for cert-manager's,
   * `labels` are added where absent, a kubernetes.io/tls copy keeps its type with an empty
   * `tls.key`. A missing Secret, another type or an immutable one is a PreconditionError (exit 3)
   * that says how to create it. `migrated`: a key, other data or cert-manager metadata was dropped.
   */
  writeCertificateOnlySecret(namespace: string, name: string, pem: string, labels: Record<string, string>): Promise<'updated' | 'migrated'>;
  /**
   * Evicts the pod through policy/v1 Eviction with its uid as the precondition, so that its
   * PodDisruptionBudgets are respected and a replacement of the same name is never evicted.
   * A budget that allows no disruption now is `blocked` (the API server's 429), with its words.
   */
  evictPod(pod: PodIdentity): Promise<EvictionResult>;
}

/** A pod as it was judged: its uid pins the eviction to that pod, not a later one of the same name. */
export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
}

/** What one eviction came to: done, the pod already gone (or replaced), or refused for now by a disruption budget. */
export type EvictionResult = { result: 'evicted' } | { result: 'gone' } | { result: 'blocked'; reason: string };

export type Cluster = ClusterReader & ClusterWriter;

/**
 * The one place the rotator handles a private key: the multicluster shared-anchor mode copies the
 * anchor's key pair from the primary's anchor Secret into each peer's copy, which the peer's CA
 * ClusterIssuer signs with. Opt-in (configuring peers), with its own grants (docs/multicluster.md).
 */
export interface KeyPairCopier {
  /** The Secret's certificate, key and CA, base64 as read; undefined when it does not exist. */
  readKeyPair(namespace: string, name: string): Promise<KeyPair | undefined>;
  /**
   * Replaces the data of an existing kubernetes.io/tls Secret in place (never a create or a
   * delete); a missing, immutable or other-typed Secret is a PreconditionError.
   */
  writeKeyPair(namespace: string, name: string, pair: KeyPair): Promise<void>;
}

/** An adapter that can check a write fence before every attempt of each write, retries included. */
export interface WriteFencing {
  /** The same cluster, calling `fence` before each attempt of a write; what it throws stops the write. */
  withWriteFence(fence: () => void): Cluster;
}

/** Whether the cluster adapter can fence inside its retries (the real one can; test fakes need not). */
export function hasWriteFencing(cluster: Cluster): cluster is Cluster & WriteFencing {
  return typeof (cluster as Partial<WriteFencing>).withWriteFence === 'function';
}
