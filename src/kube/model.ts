/**
 * Plain data read from the cluster: what the rotation logic sees of each object.
 * The adapter builds these; nothing here holds a private key or a Secret's data
 * other than a certificate's public PEM.
 */

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: Date;
  observedGeneration?: number;
}

/** A cert-manager Certificate as far as renewal needs it. */
export interface CertificateView {
  namespace: string;
  name: string;
  /** metadata.uid: its CertificateRequests carry it as owner. Empty when unknown. */
  uid: string;
  generation: number;
  secretName: string;
  conditions: Condition[];
  revision: number;
  notBefore?: Date;
  notAfter?: Date;
  lastFailureTime?: Date;
  failedIssuanceAttempts: number;
  /** When cert-manager will renew it on its own (status.renewalTime); absent when renewal is disabled or not yet computed. */
  renewalTime?: Date;
  /** spec.renewal.policy is Disabled (cert-manager 1.21+): cert-manager never renews it on its own. */
  renewalDisabled?: boolean;
  /** spec.privateKey.rotationPolicy (`Always`, `Never`); undefined: cert-manager's default (Always since 1.18). */
  rotationPolicy?: string;
}

/**
 * A cert-manager CertificateRequest (cert-manager.io/v1) as far as finding a Certificate's public
 * certificate needs it: cert-manager publishes each issuance's signed certificate and CA there,
 * never a private key (the request holds only the CSR).
 */
export interface CertificateRequestView {
  namespace: string;
  name: string;
  /** Annotation cert-manager.io/certificate-name. */
  certificateName?: string;
  /** Annotation cert-manager.io/certificate-revision; undefined when absent or not a number. */
  revision?: number;
  /** uids of its owner references of kind Certificate. */
  ownerUids: string[];
  conditions: Condition[];
  /** status.certificate decoded (PEM, the signed certificate first); undefined until issued. */
  certificatePem?: string;
  /** status.ca decoded (PEM); undefined when the issuer gave none. */
  caPem?: string;
}

/** A Secret reduced to what the rotator may look at: its certificate, never its key. */
export interface SecretView {
  namespace: string;
  name: string;
  type: string;
  resourceVersion: string;
  /** PEM of `tls.crt`, or undefined when the key is absent. */
  tlsCrt?: string;
  /** True when the Secret holds a `tls.key` (its value is never read into this view). */
  hasPrivateKey: boolean;
  /** Names of data keys other than tls.crt (values are not read). */
  otherKeys: string[];
  /** True when cert-manager labels or annotations are on the Secret. */
  hasCertManagerMetadata: boolean;
}

export interface LabelSelectorView {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * One source of a trust bundle, in the terms both kinds share. A Bundle's `secret`/`configMap`
 * source and a ClusterBundle's `sourceRefs[]` entry become `Secret`/`ConfigMap` (by name or by
 * selector; key `*` stands for includeAllKeys); inline PEM and default CAs become `inline` and
 * `default-cas`, which the rotator does not manage.
 */
export interface BundleSourceView {
  kind: 'Secret' | 'ConfigMap' | 'inline' | 'default-cas';
  /** The object's name in the trust namespace; undefined for a selector source. */
  name?: string;
  /** True when the source selects objects by label instead of naming one. */
  bySelector?: boolean;
  key?: string;
}

/**
 * A trust-manager bundle object: a `Bundle` (trust.cert-manager.io/v1alpha1) or a `ClusterBundle`
 * (trust-manager.io/v1alpha2), both cluster-scoped. Its target ConfigMaps carry its name.
 */
export interface BundleView {
  kind: 'Bundle' | 'ClusterBundle';
  name: string;
  /** The ConfigMap key holding the PEM bundle; empty when there is no PEM ConfigMap target. */
  configMapKey: string;
  /** Undefined or empty selects every namespace (a Bundle without a selector; a ClusterBundle's `{}`). */
  namespaceSelector?: LabelSelectorView;
  sources: BundleSourceView[];
}

export interface NamespaceView {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

/**
 * Status fields of the three kinds, flattened; absent fields are undefined.
 * @internal exported for its unit tests
 */
export interface WorkloadStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  desiredNumberScheduled?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  conditions: Condition[];
}

export interface Workload extends WorkloadRef {
  generation: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  templateAnnotations: Record<string, string>;
  /** Desired replicas (Deployment, StatefulSet). */
  specReplicas?: number;
  paused: boolean;
  /** RollingUpdate, OnDelete or Recreate. */
  strategy: string;
  /** StatefulSet rollingUpdate.partition. */
  partition?: number;
  status: WorkloadStatus;
}

interface OwnerView {
  kind: string;
  name: string;
}

/** A Linkerd multicluster Link: its presence means another cluster must trust this cluster's anchor. */
export interface LinkView {
  namespace: string;
  name: string;
  /** spec.targetClusterName: the cluster whose services it mirrors, and whose anchor this cluster must trust. */
  targetClusterName?: string;
}

/**
 * A CA's certificate and private key as a kubernetes.io/tls Secret holds them (base64, as the API
 * returns them). Only the multicluster shared-anchor copy carries one: it is passed from one API
 * response to one write, never parsed, logged or kept.
 */
export interface KeyPair {
  type: string;
  data: Partial<Record<'tls.crt' | 'tls.key' | 'ca.crt', string>>;
}

/** The keys of a KeyPair, in the order a kubernetes.io/tls Secret lists them. */
export const keyPairKeys = ['tls.crt', 'tls.key', 'ca.crt'] as const;

/**
 * The pod labels and annotations a list keeps (see PodView): a meshed pod carries a dozen of each
 * (Linkerd's, Helm's, the application's), and the rotator reads two.
 */
export interface PodMetadataKeys {
  labels: readonly string[];
  annotations: readonly string[];
}

/** The labels and annotations of a workload (and of its pod template) a list keeps. */
export interface WorkloadMetadataKeys {
  labels: readonly string[];
  annotations: readonly string[];
  templateAnnotations: readonly string[];
}

/** A pod that carries Linkerd's proxy. */
export interface PodView {
  namespace: string;
  name: string;
  /** Pins an eviction to this pod, not a replacement of the same name. */
  uid: string;
  phase: string;
  /** Only the labels the list was asked to keep (PodMetadataKeys). */
  labels: Record<string, string>;
  /** Only the annotations the list was asked to keep (PodMetadataKeys). */
  annotations: Record<string, string>;
  /** The controlling owner reference, if any. */
  owner?: OwnerView;
  /** metadata.creationTimestamp, epoch milliseconds (a number: a Date object per pod weighs about 60 bytes more). */
  createdAtMs: number;
  /** status.startTime, epoch milliseconds. */
  startedAtMs?: number;
  ready: boolean;
  /** When its Ready condition last became True, epoch milliseconds. */
  readySinceMs?: number;
  terminating: boolean;
  /**
   * Value of LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS on the linkerd-proxy container, if set literally.
   * Pods of one list born with the same bundle share one string.
   */
  trustAnchorsPem?: string;
}
