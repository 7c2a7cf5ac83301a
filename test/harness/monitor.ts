import { X509Certificate } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { names } from './fixture.js';
import { leafIssuers } from './injector.js';
import { signedBy } from './kube.js';

/**
 * The mTLS invariant, checked from outside the rotator with node:crypto (not the rotator's
 * own certificate code): for every pair of running meshed pods, the anchor behind every issuer
 * that may have signed one's leaf is in the other's bundle. Those issuers are the injector's
 * record ({@link leafIssuers}): the issuer Secret at admission, plus for pods other than
 * identity's the issuers loaded by the identity pods running at admission, since identity reads
 * the issuer at its start and a pod admitted after a renewal but served by an identity pod
 * started before it holds an old-chain leaf. Each candidate counts, so the monitor may
 * over-report but does not miss such a leaf. For pods without that record, by time: pod start
 * times and certificate notBefore both have second precision, so an issuer counts as possibly
 * active at a pod's start S when it was issued at or before S and its successor was not issued
 * before S. Anchors are learnt from the anchor Secrets and from every pod's bundle.
 */
export interface Violation {
  at: string;
  pod: string;
  peer: string;
  missingAnchor: string;
}

/** What one sample learns of a running meshed pod: the anchors it trusts, and the anchors behind every issuer that may have signed its leaf. */
export interface PodView {
  name: string;
  trusted: Set<string>;
  leafAnchors: string[];
}

/** Every pair (pod in `from`, other pod in `to`) whose second pod lacks an anchor behind the first one's leaf. */
export function pairViolations(from: PodView[], to: PodView[], at = new Date().toISOString()): Violation[] {
  const found: Violation[] = [];
  for (const pod of from) {
    for (const peer of to) {
      if (peer === pod) continue;
      for (const anchor of pod.leafAnchors) {
        if (!peer.trusted.has(anchor)) found.push({ at, pod: pod.name, peer: peer.name, missingAnchor: anchor.slice(0, 23) });
      }
    }
  }
  return found;
}

interface IssuerSeen {
  fingerprint: string;
  notBefore: number;
  signer?: string;
}

const splitPem = (text: string): string[] => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
const fp = (cert: X509Certificate): string => cert.fingerprint256;

/** Samples on an interval from start() until stop(), which takes one last sample (its failure is the caller's). */
abstract class Sampling {
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(protected readonly intervalMs: number) {}

  abstract sample(): Promise<void>;

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        // A failed sample (an apiserver away) is skipped; the next one looks again.
        await this.sample().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.sample();
  }
}

export class InvariantMonitor extends Sampling {
  readonly violations: Violation[] = [];
  samples = 0;
  private readonly issuers = new Map<string, IssuerSeen>();
  private readonly core: k8s.CoreV1Api;

  /**
   * `anchors` may be shared between the monitors of linked clusters, so that an issuer is
   * traced to its anchor whichever cluster's Secrets or bundles showed that anchor first.
   */
  constructor(
    kubeconfig: string,
    intervalMs = 200,
    private readonly anchors = new Map<string, X509Certificate>(),
  ) {
    super(intervalMs);
    const config = new k8s.KubeConfig();
    config.loadFromFile(kubeconfig);
    this.core = config.makeApiClient(k8s.CoreV1Api);
  }

  private async readPem(namespace: string, name: string): Promise<string[]> {
    const secret = await this.core.readNamespacedSecret({ namespace, name }).catch(() => undefined);
    const data = secret?.data?.['tls.crt'];
    return data ? splitPem(Buffer.from(data, 'base64').toString('utf8')) : [];
  }

  /** Records the anchors and issuers seen now and returns a view of every running meshed pod. */
  async views(): Promise<PodView[]> {
    for (const pem of [...(await this.readPem(names.trustNs, names.anchor)), ...(await this.readPem(names.trustNs, names.previous))]) {
      const cert = new X509Certificate(pem);
      this.anchors.set(fp(cert), cert);
    }
    const issuerPem = (await this.readPem(names.linkerdNs, names.issuer))[0];
    if (issuerPem) this.signerOf(new X509Certificate(issuerPem));
    const pods = await this.core.listPodForAllNamespaces({ labelSelector: 'linkerd.io/control-plane-ns' });
    const running = pods.items.filter((pod) => pod.status?.phase === 'Running');
    const bundles = running.map((pod) => {
      const env = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]
        .filter((c) => c.name === 'linkerd-proxy')
        .flatMap((c) => c.env ?? [])
        .find((e) => e.name === 'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS')?.value;
      return splitPem(env ?? '').map((pem) => new X509Certificate(pem));
    });
    // An anchor some pod still trusts can sign a live leaf even after it left the anchor Secrets.
    for (const cert of bundles.flat()) this.anchors.set(fp(cert), cert);
    return running.map((pod, index) => {
      const trusted = new Set((bundles[index] ?? []).map(fp));
      const started = new Date(pod.status?.startTime ?? pod.metadata?.creationTimestamp ?? 0).getTime();
      const issuers = leafIssuers(pod);
      const leafAnchors = issuers.length > 0 ? [...new Set(issuers.map((pem) => this.signerOf(new X509Certificate(pem))))] : this.leafAnchorsAt(started);
      return { name: `${pod.metadata?.namespace}/${pod.metadata?.name}`, trusted, leafAnchors };
    });
  }

  /** One sample: record anchors and issuers seen, then check every pair of running meshed pods. */
  async sample(): Promise<void> {
    const views = await this.views();
    this.violations.push(...pairViolations(views, views));
    this.samples++;
  }

  /** Records an issuer (once) and returns the fingerprint of the anchor that signed it. */
  private signerOf(issuer: X509Certificate): string {
    let seen = this.issuers.get(fp(issuer));
    if (!seen?.signer) {
      const signer = [...this.anchors.values()].find((anchor) => signedBy(issuer, anchor));
      seen = { fingerprint: fp(issuer), notBefore: new Date(issuer.validFrom).getTime(), signer: signer && fp(signer) };
      this.issuers.set(seen.fingerprint, seen);
    }
    return seen.signer ?? `unknown-signer-of-${seen.fingerprint}`;
  }

  /** Anchors behind every issuer that may have been active when a pod started at `time` (second precision). */
  private leafAnchorsAt(time: number): string[] {
    const sorted = [...this.issuers.values()].sort((a, b) => a.notBefore - b.notBefore);
    const candidates = sorted.filter((issuer, index) => {
      const next = sorted[index + 1];
      const from = issuer.notBefore;
      const until = next ? next.notBefore : Number.POSITIVE_INFINITY;
      return from <= time && until >= time;
    });
    const chosen = candidates.length > 0 ? candidates : sorted.slice(0, 1);
    return chosen.map((issuer) => issuer.signer ?? `unknown-signer-of-${issuer.fingerprint}`);
  }
}

/** A cluster of a fleet: the name the rotator knows it by, and an admin kubeconfig. */
export interface MonitoredCluster {
  name: string;
  kubeconfig: string;
}

/** A broken pair in a fleet; `pod` and `peer` read CLUSTER/NAMESPACE/POD. */
export interface FleetViolation extends Violation {
  podCluster: string;
  peerCluster: string;
}

/**
 * The invariant over linked clusters: one {@link InvariantMonitor} per cluster (sharing what
 * anchors they learn) gives each cluster's pod views, and every pair of pods is checked, within
 * a cluster and across clusters alike: a pod in A must trust the anchor behind every B pod's
 * leaf, and the reverse. A cluster whose apiserver does not answer keeps the views of its last
 * good sample: nothing in it changes while it is away (pods are made and removed through the
 * apiserver), and its pods still talk to the other clusters' pods.
 */
export class FleetMonitor extends Sampling {
  readonly violations: FleetViolation[] = [];
  samples = 0;
  /** Per cluster, how many samples used its last views because it did not answer. */
  readonly unreachable: Record<string, number> = {};
  private readonly members: { name: string; monitor: InvariantMonitor; last?: PodView[] }[];

  constructor(clusters: MonitoredCluster[], intervalMs = 250) {
    super(intervalMs);
    const anchors = new Map<string, X509Certificate>();
    this.members = clusters.map(({ name, kubeconfig }) => ({ name, monitor: new InvariantMonitor(kubeconfig, intervalMs, anchors) }));
  }

  /** One sample of every cluster (in parallel), then every pair within and across clusters. */
  async sample(): Promise<void> {
    const views = await Promise.all(
      this.members.map(async (member) => {
        try {
          member.last = (await member.monitor.views()).map((view) => ({ ...view, name: `${member.name}/${view.name}` }));
        } catch (error) {
          if (!member.last) throw error;
          this.unreachable[member.name] = (this.unreachable[member.name] ?? 0) + 1;
        }
        return member.last;
      }),
    );
    const cluster = (name: string): string => name.slice(0, name.indexOf('/'));
    const all = views.flat();
    this.violations.push(...pairViolations(all, all).map((v) => ({ ...v, podCluster: cluster(v.pod), peerCluster: cluster(v.peer) })));
    this.samples++;
  }

  /** The violations between pods of two different clusters. */
  across(): FleetViolation[] {
    return this.violations.filter((v) => v.podCluster !== v.peerCluster);
  }
}
