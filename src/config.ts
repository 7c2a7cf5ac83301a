/**
 * Everything a run needs to know about the cluster's names and the run's limits.
 * One object, built once by the CLI from flags, `LCR_*` environment variables and
 * these defaults (the names Linkerd's cert-manager guide uses).
 */
export interface RotatorConfig {
  /** Namespace of Linkerd's control plane. */
  linkerdNamespace: string;
  /** Namespace of the trust anchor Certificate and of trust-manager's trust sources. */
  trustNamespace: string;
  anchorCertificate: string;
  anchorSecret: string;
  issuerCertificate: string;
  issuerSecret: string;
  previousAnchorSecret: string;
  /**
   * Fall back to reading the anchor's or issuer's Secret (which holds its private key) when no
   * CertificateRequest publishes its current certificate. Off: such a state is refused (exit 3).
   */
  readKeySecrets: boolean;
  /**
   * Where the trust anchor lives: `certificate`, the cert-manager Certificate that renews it (a
   * single cluster, or the primary of a multicluster run); `copy`, a peer's Secret that copies the
   * primary's anchor with its key (no Certificate: the rotator writes the copy). Not a flag: the
   * multicluster run sets it for its peers.
   */
  anchorSource: 'certificate' | 'copy';
  /** trust-manager ClusterBundle or Bundle (cluster-scoped; a ClusterBundle of the name wins); its target ConfigMaps are read from it. */
  bundle: string;
  /** Deployment of the identity controller, restarted before the rest of the control plane. */
  identityDeployment: string;
  /** Label selector of control-plane workloads; empty means `linkerd.io/control-plane-ns=<linkerdNamespace>`. */
  controlPlaneSelector: string;
  /** Label selector of extension workloads (viz, multicluster, ...), restarted with the control plane. */
  extensionSelector: string;
  /** Only these namespaces are restarted (empty: all meshed namespaces). */
  includeNamespaces: string[];
  /** These namespaces are never restarted; their meshed pods still count for the gates. */
  excludeNamespaces: string[];
  /** Workload or pod-template annotation (value "true") that keeps the rotator from restarting it. */
  optOutAnnotation: string;
  /** How many workloads restart at the same time. */
  concurrency: number;
  /** Follow each restart pass's rollouts through one watch per workload kind (else: a GET per rollout per poll). */
  watchRollouts: boolean;
  /** Delete stale meshed pods that no rollout can restart (bare pods, Jobs' pods, OnDelete workloads). */
  deleteStalePods: boolean;
  /**
   * Start a new rotation although meshed pods the rotator will not restart hold it at gate 1
   * until someone restarts them (see preflight.ts for what that costs).
   */
  acceptHeldPods: boolean;
  /**
   * A new rotation starts only when cert-manager's next renewal of the issuer is at least this far
   * away (else the issuer is renewed first, under the old anchor): it must exceed how long steps
   * 1-3 (anchor renewal, control-plane and data-plane restarts) take.
   */
  issuerRenewalMarginMs: number;
  /** Deadline for one certificate issuance, in milliseconds. */
  certificateTimeoutMs: number;
  /** Deadline for one workload's rollout, in milliseconds. */
  rolloutTimeoutMs: number;
  /** Deadline for trust-manager to write the expected anchors into every target ConfigMap. */
  bundleTimeoutMs: number;
  /** Interval between two looks at the cluster while waiting. */
  pollIntervalMs: number;
  /** Deadline of one API request (of a watch: its opening); transient failures are retried for about two minutes. */
  requestTimeoutMs: number;
  /** A rollout watch silent this long is re-opened, and a rollout it showed nothing of is read with a GET. */
  watchIdleTimeoutMs: number;
  /** Certificates expiring within this many days give a warning (as `linkerd check` does). */
  expiryWarningDays: number;
}

/** The defaults, matching Linkerd's documented cert-manager set-up. */
export const defaultConfig: RotatorConfig = {
  linkerdNamespace: 'linkerd',
  trustNamespace: 'cert-manager',
  anchorCertificate: 'linkerd-trust-anchor',
  anchorSecret: 'linkerd-trust-anchor',
  issuerCertificate: 'linkerd-identity-issuer',
  issuerSecret: 'linkerd-identity-issuer',
  previousAnchorSecret: 'linkerd-previous-anchor',
  readKeySecrets: false,
  anchorSource: 'certificate',
  bundle: 'linkerd-identity-trust-roots',
  identityDeployment: 'linkerd-identity',
  controlPlaneSelector: '',
  extensionSelector: 'linkerd.io/extension',
  includeNamespaces: [],
  excludeNamespaces: [],
  optOutAnnotation: 'linkerd-cert-rotator.io/skip',
  concurrency: 8,
  watchRollouts: true,
  deleteStalePods: false,
  acceptHeldPods: false,
  issuerRenewalMarginMs: 2 * 60 * 60_000,
  certificateTimeoutMs: 5 * 60_000,
  rolloutTimeoutMs: 10 * 60_000,
  bundleTimeoutMs: 5 * 60_000,
  pollIntervalMs: 2_000,
  requestTimeoutMs: 30_000,
  watchIdleTimeoutMs: 90_000,
  expiryWarningDays: 60,
};

/** The control-plane selector in force: the configured one or Linkerd's own label. */
export function controlPlaneSelector(config: RotatorConfig): string {
  return config.controlPlaneSelector || `linkerd.io/control-plane-ns=${config.linkerdNamespace}`;
}
