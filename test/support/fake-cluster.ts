// An in-memory cluster behind the rotator's Cluster port, for fast orchestration tests: Linkerd's
// cert-manager set-up (anchor, issuer, previous-anchor Secret, trust-manager Bundle), a small mesh
// whose rollouts progress on a fake clock, and fault hooks (failed writes, conflicts, a run killed
// between two writes). Views come from the real adapter's converters (src/kube/convert.ts), and
// the certificate-only Secret write uses the real adapter's body, so the fake returns what the
// adapter would. See fake-store.ts (objects, resourceVersions), fake-mesh.ts (workloads, proxies)
// and fake-cert-manager.ts (issuance, bundle).
import type { RotatorConfig } from '../../src/config.js';
import { defaultConfig } from '../../src/config.js';
import { PreconditionError } from '../../src/errors.js';
import { certificateOnlySecret, isMigration } from '../../src/kube/certificate-only.js';
import { toBundle, toCertificate, toCertificateRequest, toNamespace, toPodView, toSecretView, toWorkload } from '../../src/kube/convert.js';
import { ApiError } from '../../src/kube/errors.js';
import { createIntern } from '../../src/kube/intern.js';
import type {
  BundleView,
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
} from '../../src/kube/model.js';
import type { Cluster, EvictionResult, PodIdentity, WorkloadChange, WorkloadFeed } from '../../src/kube/ports.js';
import { matchesSelector, parseSelector } from '../../src/kube/selector.js';
import { FakeCertManager, FakeTrustManager } from './fake-cert-manager.js';
import { FakeMesh, type WorkloadSpec } from './fake-mesh.js';
import { defaultTimings, Store, type Timings, type WorkloadObject } from './fake-store.js';
import { SimClock } from './sim-clock.js';

export type { Proxy, WorkloadSpec } from './fake-mesh.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The writes of the Cluster port, as the write log and the fault hooks name them. */
export type WriteCall = 'triggerIssuance' | 'restartWorkload' | 'writeCertificateOnlySecret' | 'evictPod';

/** One write the port accepted: what, on which object, when (fake clock). */
export interface WriteRecord {
  n: number;
  call: WriteCall;
  object: string;
  at: Date;
}

/** What a killed run sees from every call after its last write: the process is gone. */
export class KilledError extends Error {
  override readonly name = 'KilledError';
}

/** The fake's mesh: Linkerd's control plane, an extension, and a data plane of each workload kind. */
export const defaultWorkloads: WorkloadSpec[] = [
  {
    kind: 'Deployment',
    namespace: 'linkerd',
    name: 'linkerd-identity',
    labels: { 'linkerd.io/control-plane-ns': 'linkerd' },
    templateLabels: { 'linkerd.io/control-plane-ns': 'linkerd', 'linkerd.io/control-plane-component': 'identity' },
  },
  {
    kind: 'Deployment',
    namespace: 'linkerd',
    name: 'linkerd-destination',
    replicas: 2,
    labels: { 'linkerd.io/control-plane-ns': 'linkerd' },
    templateLabels: { 'linkerd.io/control-plane-ns': 'linkerd', 'linkerd.io/control-plane-component': 'destination' },
  },
  {
    kind: 'Deployment',
    namespace: 'linkerd',
    name: 'linkerd-proxy-injector',
    labels: { 'linkerd.io/control-plane-ns': 'linkerd' },
    templateLabels: { 'linkerd.io/control-plane-ns': 'linkerd', 'linkerd.io/control-plane-component': 'proxy-injector' },
  },
  {
    kind: 'Deployment',
    namespace: 'linkerd-viz',
    name: 'web',
    labels: { 'linkerd.io/extension': 'viz' },
    templateAnnotations: { 'linkerd.io/inject': 'enabled' },
  },
  { kind: 'Deployment', namespace: 'shop', name: 'web', replicas: 2 },
  { kind: 'StatefulSet', namespace: 'shop', name: 'db', replicas: 2 },
  { kind: 'DaemonSet', namespace: 'shop', name: 'agent', replicas: 2 },
  { kind: 'Deployment', namespace: 'plain', name: 'api' },
];

export interface FakeOptions {
  timings?: Partial<Timings>;
  /** Names as the rotator is configured (defaultConfig's unless told). */
  config?: RotatorConfig;
  workloads?: WorkloadSpec[];
  /** The previous-anchor Secret at install: the current anchor's certificate (default), or empty (a fresh install). */
  previousAnchor?: 'current' | 'empty';
  /** The issuer Certificate's lifetime and renewBefore (Linkerd's example: 48h, 25h). */
  issuerDurationMs?: number;
  issuerRenewBeforeMs?: number;
  /** How long ago the issuer was issued (default 1h). */
  issuerAgeMs?: number;
  revisionHistoryLimit?: number;
  /** Meshed pods without a controller ("namespace/name"), started with the steady bundle. */
  barePods?: string[];
}

interface Feed {
  kind: WorkloadKind;
  onChange: (change: WorkloadChange) => void;
  stopped: boolean;
}

/** The fake cluster: the world, the fault hooks, and `connect()` for one run's Cluster port. */
export class FakeCluster {
  readonly clock: SimClock;
  readonly store: Store;
  readonly mesh: FakeMesh;
  readonly certManager: FakeCertManager;
  readonly trustManager: FakeTrustManager;
  readonly config: RotatorConfig;
  readonly writes: WriteRecord[] = [];
  /** Called after every change of the world (writes included), for invariant checks. */
  readonly observers: ((cause: string) => void)[] = [];
  readonly links: LinkView[] = [];
  private readonly feeds: Feed[] = [];
  private readonly failures: { call?: WriteCall; code: number; times: number }[] = [];
  private conflictsLeft = new Map<WriteCall, number>();
  private killAt: number | undefined;
  private generation = 0;
  private dying = new AbortController();
  private evictionsBlocked = 0;

  private constructor(options: FakeOptions) {
    this.config = options.config ?? defaultConfig;
    this.clock = new SimClock();
    this.store = new Store(this.clock, { ...defaultTimings, ...options.timings });
    const c = this.config;
    this.mesh = new FakeMesh(this.store, { linkerdNamespace: c.linkerdNamespace, bundle: c.bundle, bundleKey: 'ca-bundle.crt', issuerSecret: c.issuerSecret });
    this.certManager = new FakeCertManager(this.store, { trustNamespace: c.trustNamespace, anchorSecret: c.anchorSecret });
    this.trustManager = new FakeTrustManager(this.store, c.bundle, c.trustNamespace);
    this.store.listeners.push((kind, namespace, name) => {
      if (kind === 'Deployment' || kind === 'StatefulSet' || kind === 'DaemonSet') this.showWorkload({ kind, namespace: namespace ?? '', name });
      for (const observe of this.observers) observe(`${kind} ${namespace ?? ''}/${name}`);
    });
  }

  /** A steady cluster: one anchor everywhere, the issuer chaining to it, every proxy started with that bundle. */
  static async create(options: FakeOptions = {}): Promise<FakeCluster> {
    const fake = new FakeCluster(options);
    await fake.install(options);
    return fake;
  }

  private async install(options: FakeOptions): Promise<void> {
    const c = this.config;
    const ns = (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): void => {
      this.store.create('Namespace', { metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels }, annotations } });
    };
    ns(c.trustNamespace);
    ns(c.linkerdNamespace, { 'linkerd.io/is-control-plane': 'true', 'linkerd.io/control-plane-ns': c.linkerdNamespace });
    ns('linkerd-viz', { 'linkerd.io/extension': 'viz' });
    ns('shop', {}, { 'linkerd.io/inject': 'enabled' });
    ns('plain');
    const limit = options.revisionHistoryLimit;
    await this.certManager.install(
      {
        metadata: { namespace: c.trustNamespace, name: c.anchorCertificate },
        spec: {
          secretName: c.anchorSecret,
          isCA: true,
          commonName: 'root.linkerd.cluster.local',
          durationMs: 365 * DAY,
          renewBeforeMs: 60 * DAY,
          issuerRef: { kind: 'Issuer', name: 'linkerd-trust-anchor' },
          privateKey: { algorithm: 'ECDSA', rotationPolicy: 'Always' },
          revisionHistoryLimit: limit,
        },
      },
      30 * DAY,
    );
    await this.certManager.install(
      {
        metadata: { namespace: c.linkerdNamespace, name: c.issuerCertificate },
        spec: {
          secretName: c.issuerSecret,
          isCA: true,
          commonName: 'identity.linkerd.cluster.local',
          durationMs: options.issuerDurationMs ?? 48 * HOUR,
          renewBeforeMs: options.issuerRenewBeforeMs ?? 25 * HOUR,
          issuerRef: { kind: 'ClusterIssuer', name: 'linkerd-identity-issuer' },
          privateKey: { algorithm: 'ECDSA', rotationPolicy: 'Always' },
          revisionHistoryLimit: limit,
        },
      },
      options.issuerAgeMs ?? HOUR,
    );
    const anchorCrt = this.store.get('Secret', c.trustNamespace, c.anchorSecret)?.data?.['tls.crt'] ?? '';
    this.store.create('Secret', {
      metadata: { namespace: c.trustNamespace, name: c.previousAnchorSecret, labels: { 'app.kubernetes.io/managed-by': 'linkerd-cert-rotator' } },
      type: 'Opaque',
      data: { 'tls.crt': options.previousAnchor === 'empty' ? '' : anchorCrt },
    });
    this.store.create('Bundle', {
      apiVersion: 'trust.cert-manager.io/v1alpha1',
      kind: 'Bundle',
      metadata: { name: c.bundle },
      spec: {
        sources: [{ secret: { name: c.anchorSecret, key: 'tls.crt' } }, { secret: { name: c.previousAnchorSecret, key: 'tls.crt' } }],
        target: { configMap: { key: 'ca-bundle.crt' }, namespaceSelector: { matchLabels: { 'linkerd.io/is-control-plane': 'true' } } },
      },
      status: {},
    });
    this.trustManager.sync();
    // Identity first: every other proxy got its leaf from it.
    for (const spec of options.workloads ?? defaultWorkloads) this.mesh.install(spec, 2 * HOUR);
    for (const bare of options.barePods ?? []) this.mesh.addBarePod(bare.split('/')[0] ?? '', bare.split('/')[1] ?? '', 2 * HOUR);
    await this.clock.advance(0);
  }

  /** A Cluster port for one run; a run killed by `killAfterWrites` gets KilledError from its port for good. */
  connect(): Cluster {
    return new FakePort(this, this.generation);
  }

  /**
   * Aborted when the runs connected so far are killed: pass it as the run's signal, so that its
   * sleeps end with the process (else a killed run's waits would linger on the fake clock).
   */
  get killSignal(): AbortSignal {
    return this.dying.signal;
  }

  /** The run stops right after the nth write from now (counting every run's writes): that write is applied, nothing after it. */
  killAfterWrites(n: number): void {
    this.killAt = this.writes.length + n;
  }

  /** The next `times` writes (of `call`, or any) fail with ApiError `code` and change nothing. */
  failWrites(code: number, options: { call?: WriteCall; times?: number } = {}): void {
    this.failures.push({ call: options.call, code, times: options.times ?? 1 });
  }

  /** Another writer changes the object between the port's read and its update, `times` times: the update gets 409 and is retried. */
  conflicts(call: 'triggerIssuance' | 'writeCertificateOnlySecret', times: number): void {
    this.conflictsLeft.set(call, times);
  }

  /** Disruption budgets refuse the next `times` evictions (429). */
  blockEvictions(times: number): void {
    this.evictionsBlocked = times;
  }

  /** cert-manager renews the Certificate by itself now (for the issuer after step 1: it chains to the new anchor). */
  renewByCertManager(which: 'anchor' | 'issuer'): void {
    const c = this.config;
    if (which === 'anchor') this.certManager.renew(c.trustNamespace, c.anchorCertificate);
    else this.certManager.renew(c.linkerdNamespace, c.issuerCertificate);
  }

  /** Whether the generation of runs `generation` was killed. */
  isKilled(generation: number): boolean {
    return generation !== this.generation;
  }

  /** Runs one write of a port: faults first, then the change, the log, the observers, and the kill. */
  write<T>(generation: number, call: WriteCall, object: string, apply: () => T): T {
    if (this.isKilled(generation)) throw new KilledError('the run was killed');
    const failure = this.failures.find((f) => f.times > 0 && (f.call === undefined || f.call === call));
    if (failure) {
      failure.times--;
      throw new ApiError(failure.code, `${call} ${object}`, `HTTP ${failure.code}: injected failure`);
    }
    const result = apply();
    this.writes.push({ n: this.writes.length + 1, call, object, at: this.clock.now() });
    for (const observe of this.observers) observe(`write ${call} ${object}`);
    if (this.killAt !== undefined && this.writes.length >= this.killAt) {
      this.killAt = undefined;
      this.generation++;
      this.dying.abort('killed');
      this.dying = new AbortController();
      throw new KilledError(`killed after write ${this.writes.length} (${call} ${object})`);
    }
    return result;
  }

  takeConflict(call: 'triggerIssuance' | 'writeCertificateOnlySecret'): boolean {
    const left = this.conflictsLeft.get(call) ?? 0;
    if (left <= 0) return false;
    this.conflictsLeft.set(call, left - 1);
    return true;
  }

  takeBlockedEviction(): boolean {
    if (this.evictionsBlocked <= 0) return false;
    this.evictionsBlocked--;
    return true;
  }

  openFeed(kind: WorkloadKind, onChange: (change: WorkloadChange) => void): WorkloadFeed {
    const feed: Feed = { kind, onChange, stopped: false };
    this.feeds.push(feed);
    return {
      get span() {
        return feed.stopped ? undefined : 1;
      },
      stop: () => {
        feed.stopped = true;
      },
    };
  }

  private showWorkload(ref: WorkloadRef): void {
    const object = this.store.get(ref.kind, ref.namespace, ref.name);
    for (const feed of this.feeds) {
      if (feed.stopped || feed.kind !== ref.kind) continue;
      feed.onChange({ ref, workload: object && toWorkload(ref.kind, object), span: 1 });
    }
  }
}

const conflictAttempts = 8;

/** One run's view of the fake: the Cluster port, answering like the real adapter. */
class FakePort implements Cluster {
  constructor(
    private readonly fake: FakeCluster,
    private readonly generation: number,
  ) {}

  private get store(): Store {
    return this.fake.store;
  }

  /** Every call: the clock sees activity, and a killed run gets nothing more. */
  private enter(): Promise<void> {
    this.fake.clock.touch();
    if (this.fake.isKilled(this.generation)) return Promise.reject(new KilledError('the run was killed'));
    return Promise.resolve();
  }

  async getCertificate(namespace: string, name: string): Promise<CertificateView | undefined> {
    await this.enter();
    const object = this.store.get('Certificate', namespace, name);
    return object && toCertificate(object);
  }

  async listCertificateRequests(namespace: string): Promise<CertificateRequestView[]> {
    await this.enter();
    return this.store.list('CertificateRequest', namespace).map(toCertificateRequest);
  }

  async getSecret(namespace: string, name: string): Promise<SecretView | undefined> {
    await this.enter();
    const secret = this.store.get('Secret', namespace, name);
    return secret && toSecretView(secret);
  }

  async getBundle(name: string): Promise<BundleView | undefined> {
    await this.enter();
    const bundle = this.store.get('Bundle', undefined, name);
    return bundle && toBundle(bundle);
  }

  async listNamespaces(labelSelector?: string): Promise<NamespaceView[]> {
    await this.enter();
    const selector = parseSelector(labelSelector ?? '');
    return this.store
      .list('Namespace')
      .filter((ns) => matchesSelector(selector, ns.metadata?.labels ?? {}))
      .map(toNamespace);
  }

  async getConfigMapValue(namespace: string, name: string, key: string): Promise<string | undefined> {
    await this.enter();
    return this.store.get('ConfigMap', namespace, name)?.data?.[key];
  }

  async listMeshedPods(keep?: PodMetadataKeys): Promise<PodView[]> {
    await this.enter();
    // Converted as the adapter does: only the metadata `keep` names, one interner for the list.
    const intern = createIntern();
    return this.store
      .list('Pod')
      .filter((pod) => pod.metadata?.labels?.['linkerd.io/control-plane-ns'] !== undefined)
      .map((pod) => toPodView(pod, keep, intern));
  }

  async listWorkloads(namespace?: string, labelSelector?: string, keep?: WorkloadMetadataKeys): Promise<Workload[]> {
    await this.enter();
    const selector = parseSelector(labelSelector ?? '');
    const kinds: WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];
    return kinds.flatMap((kind) =>
      this.store
        .list(kind, namespace)
        .filter((object) => matchesSelector(selector, object.metadata?.labels ?? {}))
        .map((object) => toWorkload(kind, object, keep)),
    );
  }

  async getWorkload(ref: WorkloadRef): Promise<Workload | undefined> {
    await this.enter();
    const object = this.store.get(ref.kind, ref.namespace, ref.name);
    return object && toWorkload(ref.kind, object);
  }

  async listLinks(): Promise<LinkView[]> {
    await this.enter();
    return structuredClone(this.fake.links);
  }

  async watchWorkloads(kind: WorkloadKind, onChange: (change: WorkloadChange) => void): Promise<WorkloadFeed> {
    await this.enter();
    const generation = this.generation;
    // A killed run's watch goes quiet with it.
    return this.fake.openFeed(kind, (change) => {
      if (!this.fake.isKilled(generation)) onChange(change);
    });
  }

  /** cmctl renew: Issuing=True through the status subresource, the whole status written back, retried on 409. */
  async triggerIssuance(namespace: string, name: string, now: Date): Promise<void> {
    await this.enter();
    const object = `${namespace}/${name}`;
    this.fake.write(this.generation, 'triggerIssuance', object, () => {
      for (let attempt = 1; ; attempt++) {
        const certificate = this.store.get('Certificate', namespace, name);
        if (!certificate) throw new ApiError(404, `get certificates.cert-manager.io ${object}`, 'HTTP 404: NotFound');
        if (this.fake.takeConflict('triggerIssuance')) this.store.bump('Certificate', namespace, name);
        const others = (certificate.status.conditions ?? []).filter((c) => c.type !== 'Issuing');
        certificate.status.conditions = [
          ...others,
          {
            type: 'Issuing',
            status: 'True',
            reason: 'ManuallyTriggered',
            message: 'Certificate re-issuance manually triggered',
            lastTransitionTime: now.toISOString(),
          },
        ];
        try {
          this.store.replace('Certificate', certificate);
          return;
        } catch (error) {
          if (error instanceof ApiError && error.code === 409 && attempt < conflictAttempts) continue;
          throw error;
        }
      }
    });
  }

  async restartWorkload(ref: WorkloadRef, restartedAt: string): Promise<Workload> {
    await this.enter();
    if (!this.store.get(ref.kind, ref.namespace, ref.name)) throw new ApiError(404, `patch ${ref.kind} ${ref.namespace}/${ref.name}`, 'HTTP 404: NotFound');
    const patched: WorkloadObject = this.fake.write(this.generation, 'restartWorkload', `${ref.kind} ${ref.namespace}/${ref.name}`, () =>
      this.fake.mesh.restart(ref, restartedAt),
    );
    return toWorkload(ref.kind, patched);
  }

  async writeCertificateOnlySecret(namespace: string, name: string, pem: string, labels: Record<string, string>): Promise<'updated' | 'migrated'> {
    await this.enter();
    const object = `${namespace}/${name}`;
    return this.fake.write(this.generation, 'writeCertificateOnlySecret', object, () => {
      for (let attempt = 1; ; attempt++) {
        const current = this.store.get('Secret', namespace, name);
        if (!current) throw new PreconditionError(`the previous-anchor Secret ${object} does not exist and the rotator never creates Secrets`);
        const body = certificateOnlySecret(current, pem, labels);
        if (this.fake.takeConflict('writeCertificateOnlySecret')) this.store.bump('Secret', namespace, name);
        try {
          this.store.replace('Secret', body);
          return isMigration(current) ? 'migrated' : 'updated';
        } catch (error) {
          if (error instanceof ApiError && (error.code === 409 || error.code === 404) && attempt < conflictAttempts) continue;
          throw error;
        }
      }
    });
  }

  async evictPod(pod: PodIdentity): Promise<EvictionResult> {
    await this.enter();
    return this.fake.write(this.generation, 'evictPod', `${pod.namespace}/${pod.name}`, (): EvictionResult => {
      const current = this.store.get('Pod', pod.namespace, pod.name);
      if (!current || current.metadata?.uid !== pod.uid) return { result: 'gone' };
      if (this.fake.takeBlockedEviction()) return { result: 'blocked', reason: "Cannot evict pod as it would violate the pod's disruption budget." };
      this.fake.mesh.deletePod(pod.namespace, pod.name);
      return { result: 'evicted' };
    });
  }
}
