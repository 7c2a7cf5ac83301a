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
  generation: number;
  secretName: string;
  conditions: Condition[];
  revision: number;
  notBefore?: Date;
  notAfter?: Date;
  lastFailureTime?: Date;
  failedIssuanceAttempts: number;
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

/** A trust-manager Bundle's target, which is all the rotator reads from it. */
export interface BundleView {
  name: string;
  configMapKey: string;
  namespaceSelector?: LabelSelectorView;
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

/** Status fields of the three kinds, flattened; absent fields are undefined. */
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

export interface OwnerView {
  kind: string;
  name: string;
}

/** A pod that carries Linkerd's proxy. */
export interface PodView {
  namespace: string;
  name: string;
  phase: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The controlling owner reference, if any. */
  owner?: OwnerView;
  createdAt: Date;
  startedAt?: Date;
  ready: boolean;
  readySince?: Date;
  terminating: boolean;
  /** Value of LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS on the linkerd-proxy container, if set literally. */
  trustAnchorsPem?: string;
}
