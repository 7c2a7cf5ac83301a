import type { RotatorConfig } from '../config.js';
import { CertificateError, findSigner, parsePemBundle, type ParsedCert } from '../certs/index.js';
import { PreconditionError } from '../errors.js';
import type { BundleView, CertificateView, LinkView, SecretView } from '../kube/model.js';
import { anchorRef, issuerRef, readCurrent, type CurrentDeps } from './current.js';
import type { ClusterReader } from '../kube/ports.js';
import { selectorString } from '../kube/selector.js';
import { classifyPods, classifyWorkloads, podMetadataKeys, workloadMetadataKeys, type MeshPod, type MeshWorkload } from './mesh.js';

/** One target ConfigMap of the Bundle and the anchors it holds now. */
export interface BundleTarget {
  namespace: string;
  /** Undefined when the ConfigMap or its key is missing. */
  certs?: ParsedCert[];
  problem?: string;
  /** The ConfigMap or its key is not there (as opposed to there but empty or unparsable). */
  missing?: boolean;
}

/** The configured names the bundle is checked against (see bundleRefusals). */
export type BundleNames = Pick<RotatorConfig, 'trustNamespace' | 'anchorSecret' | 'previousAnchorSecret' | 'linkerdNamespace'>;

/** The Bundle or ClusterBundle and what its target ConfigMaps hold. */
export interface ObservedBundle {
  view: BundleView;
  configMap: string;
  /** One per namespace its selector matches. */
  targets: BundleTarget[];
  /**
   * The ConfigMap in the Linkerd namespace, where the identity controller and the proxy injector
   * read it: the same reading as its entry in `targets` when the selector matches that namespace.
   */
  controlPlane: BundleTarget;
  names: BundleNames;
}

/** A meshed pod with the anchors its proxy was born with. */
export interface StatePod extends MeshPod {
  /** Fingerprints of the anchors in its env; undefined when unreadable. */
  anchors?: ReadonlySet<string>;
  anchorsProblem?: string;
}

/** Everything the rotator decides from: a snapshot of the cluster, plain data. */
export interface ObservedState {
  now: Date;
  anchor: { certificate: CertificateView; cert: ParsedCert };
  previous: { secret?: SecretView; certs: ParsedCert[] };
  issuer: { certificate: CertificateView; cert: ParsedCert; signer?: ParsedCert };
  bundle: ObservedBundle;
  workloads: MeshWorkload[];
  pods: StatePod[];
  /** Linkerd multicluster Links: other clusters that trust this cluster's anchor. */
  links: LinkView[];
}

const describe = (secret: { namespace: string; name: string }): string => `Secret ${secret.namespace}/${secret.name} key tls.crt`;

function parseOrRefuse(pem: string, what: string): ParsedCert[] {
  try {
    return parsePemBundle(pem, what);
  } catch (error) {
    if (error instanceof CertificateError) throw new PreconditionError(error.message);
    throw error;
  }
}

/**
 * A multicluster peer's anchor: the certificate of its copy of the primary's anchor Secret (the
 * adapter drops the key unread), as a Certificate that never issues. A peer with an anchor
 * Certificate of its own has its own anchor: per-cluster anchors are refused, not rotated.
 */
async function readAnchorCopy(cluster: ClusterReader, config: RotatorConfig): Promise<{ certificate: CertificateView; cert: ParsedCert }> {
  const [own, secret] = await Promise.all([
    cluster.getCertificate(config.trustNamespace, config.anchorCertificate),
    cluster.getSecret(config.trustNamespace, config.anchorSecret),
  ]);
  if (own) {
    throw new PreconditionError(
      `Certificate ${config.trustNamespace}/${config.anchorCertificate} exists in this peer: it has an anchor of its own (per-cluster anchors), which the multicluster rotation does not support; only the shared-anchor topology (the peer's CA ClusterIssuer signs with a copy of the primary's anchor Secret) is rotated across clusters`,
    );
  }
  if (!secret)
    throw new PreconditionError(
      `the anchor copy Secret ${config.trustNamespace}/${config.anchorSecret} does not exist in this peer: create it once as a copy of the primary's anchor Secret (docs/multicluster.md)`,
    );
  const [cert] = parseOrRefuse(secret.tlsCrt ?? '', describe(secret));
  if (!cert) throw new PreconditionError(`${describe(secret)} holds no certificate`);
  const certificate: CertificateView = {
    namespace: secret.namespace,
    name: secret.name,
    uid: '',
    generation: 0,
    secretName: secret.name,
    conditions: [],
    revision: 0,
    failedIssuanceAttempts: 0,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
  return { certificate, cert };
}

/**
 * Reads the certificates only: anchor, previous anchor, issuer and which anchor signed it. The
 * anchor's and issuer's come from their CertificateRequests, never from their Secrets (which hold
 * the private keys) unless --read-key-secrets allows it; the previous-anchor Secret holds no key.
 * Missing or malformed inputs are PreconditionErrors: nothing has been changed yet. With `deps`, an
 * issuance under way is awaited rather than refused (see readCurrent).
 */
export async function observeCertificates(
  cluster: ClusterReader,
  config: RotatorConfig,
  deps: CurrentDeps = {},
): Promise<Pick<ObservedState, 'anchor' | 'previous' | 'issuer'>> {
  const [anchor, issuer, previousSecret] = await Promise.all([
    config.anchorSource === 'copy' ? readAnchorCopy(cluster, config) : readCurrent(cluster, config, anchorRef(config), deps),
    readCurrent(cluster, config, issuerRef(config), deps),
    cluster.getSecret(config.trustNamespace, config.previousAnchorSecret),
  ]);
  const previousCerts = previousSecret ? parseOrRefuse(previousSecret.tlsCrt ?? '', describe(previousSecret)) : [];
  const signer = await findSigner(issuer.cert, [anchor.cert, ...previousCerts]);
  return {
    anchor: { certificate: anchor.certificate, cert: anchor.cert },
    previous: { secret: previousSecret, certs: previousCerts },
    issuer: { certificate: issuer.certificate, cert: issuer.cert, signer },
  };
}

async function readTarget(cluster: ClusterReader, namespace: string, view: BundleView): Promise<BundleTarget> {
  const what = `ConfigMap ${namespace}/${view.name} key ${view.configMapKey}`;
  const pem = await cluster.getConfigMapValue(namespace, view.name, view.configMapKey);
  if (pem === undefined) return { namespace, problem: `${what} is missing`, missing: true };
  try {
    const certs = parsePemBundle(pem, what);
    return certs.length > 0 ? { namespace, certs } : { namespace, certs, problem: `${what} holds no certificate` };
  } catch (error) {
    return { namespace, problem: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Reads the Bundle (or the ClusterBundle of that name, which wins) and the anchors in each of its
 * target ConfigMaps and in the Linkerd namespace's. The objects' status is never read: only the
 * PEM in the ConfigMaps counts.
 */
export async function observeBundle(cluster: ClusterReader, config: RotatorConfig): Promise<ObservedBundle> {
  const view = await cluster.getBundle(config.bundle);
  if (!view) throw new PreconditionError(`trust-manager ClusterBundle or Bundle ${config.bundle} not found`);
  if (!view.configMapKey) throw new PreconditionError(`${view.kind} ${config.bundle} has no PEM ConfigMap target: the rotator checks the bundle through it`);
  const namespaces = await cluster.listNamespaces(selectorString(view.namespaceSelector) || undefined);
  const targets = await Promise.all(namespaces.map(({ name }) => readTarget(cluster, name, view)));
  const controlPlane = targets.find((t) => t.namespace === config.linkerdNamespace) ?? (await readTarget(cluster, config.linkerdNamespace, view));
  const { trustNamespace, anchorSecret, previousAnchorSecret, linkerdNamespace } = config;
  return { view, configMap: view.name, targets, controlPlane, names: { trustNamespace, anchorSecret, previousAnchorSecret, linkerdNamespace } };
}

/** Reads workloads and meshed pods and works out which anchors each pod trusts. */
export async function observeMesh(cluster: ClusterReader, config: RotatorConfig): Promise<Pick<ObservedState, 'workloads' | 'pods'>> {
  const [namespaces, workloads, pods] = await Promise.all([
    cluster.listNamespaces(),
    cluster.listWorkloads(undefined, undefined, workloadMetadataKeys(config)),
    cluster.listMeshedPods(podMetadataKeys(config)),
  ]);
  const mesh = classifyWorkloads(workloads, namespaces, config);
  const parsed = new Map<string, { anchors?: Set<string>; problem?: string }>();
  const statePods = classifyPods(pods, mesh, config).map((meshPod): StatePod => {
    const pem = meshPod.pod.trustAnchorsPem;
    if (pem === undefined) return { ...meshPod, anchorsProblem: 'no literal LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS on its linkerd-proxy container' };
    let result = parsed.get(pem);
    if (!result) {
      try {
        result = { anchors: new Set(parsePemBundle(pem, 'trust anchors env').map((cert) => cert.fingerprint)) };
      } catch (error) {
        result = { problem: error instanceof Error ? error.message : String(error) };
      }
      parsed.set(pem, result);
    }
    return { ...meshPod, anchors: result.anchors, anchorsProblem: result.problem };
  });
  return { workloads: mesh, pods: statePods };
}

/** The whole snapshot. */
export async function observe(cluster: ClusterReader, config: RotatorConfig, now: Date, deps: CurrentDeps = {}): Promise<ObservedState> {
  const [certs, bundle, mesh, links] = await Promise.all([
    observeCertificates(cluster, config, deps),
    observeBundle(cluster, config),
    observeMesh(cluster, config),
    cluster.listLinks(),
  ]);
  return { now, ...certs, bundle, ...mesh, links };
}
