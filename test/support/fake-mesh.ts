// The fake cluster's workloads and proxies: Deployment, StatefulSet and DaemonSet controllers that
// roll pods out on the fake clock (surge one, old pods terminate after the new one is ready), a
// proxy injector that writes the bundle ConfigMap's PEM into each meshed pod at creation, and an
// identity controller that loads the issuer at start and reloads it (after the mount lag) only
// when it chains to the bundle it started with. Each meshed pod records, in annotations, which
// issuers may have signed its leaf: the invariant check reads them.
import type { V1Container, V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { WorkloadKind, WorkloadRef } from '../../src/kube/model.js';
import { chainsTo, splitPem } from './fake-trust.js';
import { shortHash, type Store, type WorkloadObject } from './fake-store.js';

export const trustAnchorsEnv = 'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS';
/** Issuers (PEM list) any of which may have signed the pod's leaf: those the serving identity pods had loaded at its start. */
export const leafIssuersAnnotation = 'fake.linkerd-cert-rotator.io/leaf-issuers';
/** An identity pod's loaded issuer (PEM) and the bundle it read at start-up. */
export const loadedIssuerAnnotation = 'fake.linkerd-cert-rotator.io/loaded-issuer';
export const startupTrustAnnotation = 'fake.linkerd-cert-rotator.io/startup-trust';

/** Where the fake's Linkerd reads from (the rotator's defaults). */
export interface MeshNames {
  linkerdNamespace: string;
  bundle: string;
  bundleKey: string;
  issuerSecret: string;
}

/** A workload to install: its pods are already running when the fake starts. */
export interface WorkloadSpec {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  /** Deployment and StatefulSet replicas, DaemonSet nodes; default 1. */
  replicas?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  templateLabels?: Record<string, string>;
  templateAnnotations?: Record<string, string>;
  /** RollingUpdate (default) or OnDelete (StatefulSet, DaemonSet). */
  strategy?: 'RollingUpdate' | 'OnDelete';
  paused?: boolean;
}

const isIdentity = (pod: V1Pod, names: MeshNames): boolean =>
  pod.metadata?.namespace === names.linkerdNamespace &&
  pod.metadata.labels?.['linkerd.io/control-plane-component'] === 'identity' &&
  pod.metadata.labels['linkerd.io/control-plane-ns'] !== undefined;
const ready = (pod: V1Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const terminating = (pod: V1Pod): boolean => pod.metadata?.deletionTimestamp !== undefined;
const proxyOf = (pod: V1Pod): V1Container | undefined => pod.spec?.containers.find((c) => c.name === 'linkerd-proxy');

/** A running (started) proxy as the invariant check sees it: what it trusts, and who may have signed its leaf. */
export interface Proxy {
  pod: string;
  terminating: boolean;
  trustPem: string;
  leafIssuers: string[];
}

export class FakeMesh {
  private podCount = 0;
  private readonly nodes = new Map<string, number>();
  private readonly pending = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly names: MeshNames,
  ) {
    store.listeners.push((kind, namespace, name) => {
      if (kind === 'Secret' && namespace === names.linkerdNamespace && name === names.issuerSecret) this.issuerChanged();
    });
  }

  /** Creates a workload whose pods were created, started and ready `ageMs` ago. */
  install(spec: WorkloadSpec, ageMs: number): void {
    const { kind, namespace, name } = spec;
    const template: V1PodTemplateSpec = {
      metadata: { labels: { app: name, ...spec.templateLabels }, annotations: { ...spec.templateAnnotations } },
      spec: { containers: [{ name: 'app', image: 'example/app:1' }] },
    };
    const metadata = { namespace, name, labels: { ...spec.labels }, annotations: { ...spec.annotations } };
    const strategy = spec.strategy ?? 'RollingUpdate';
    const replicas = spec.replicas ?? 1;
    if (kind === 'Deployment') {
      this.store.create('Deployment', {
        metadata,
        spec: { replicas, paused: spec.paused, selector: { matchLabels: { app: name } }, template, strategy: { type: 'RollingUpdate' } },
        status: {},
      });
    } else if (kind === 'StatefulSet') {
      const revision = `${name}-${shortHash(template)}`;
      this.store.create('StatefulSet', {
        metadata,
        spec: { replicas, serviceName: name, selector: { matchLabels: { app: name } }, template, updateStrategy: { type: strategy } },
        status: { replicas: 0, currentRevision: revision, updateRevision: revision },
      });
    } else {
      this.nodes.set(`${namespace}/${name}`, replicas);
      this.store.create('DaemonSet', {
        metadata,
        spec: { selector: { matchLabels: { app: name } }, template, updateStrategy: { type: strategy } },
        status: { currentNumberScheduled: 0, desiredNumberScheduled: replicas, numberMisscheduled: 0, numberReady: 0 },
      });
    }
    const past = new Date(this.store.clock.now().getTime() - ageMs);
    for (let i = 0; i < replicas; i++) this.createPod({ kind, namespace, name }, i, past);
    this.reconcile({ kind, namespace, name });
  }

  /** `kubectl rollout restart`'s strategic merge patch; the controller acts after its delay. */
  restart(ref: WorkloadRef, restartedAt: string): WorkloadObject {
    const updated = this.store.update(ref.kind, ref.namespace, ref.name, (object: WorkloadObject) => {
      const template = object.spec?.template;
      if (template)
        template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, 'kubectl.kubernetes.io/restartedAt': restartedAt } };
    });
    if (!updated) throw new Error(`${ref.kind} ${ref.namespace}/${ref.name} not found`);
    this.later(ref);
    return updated;
  }

  /** Deletes a pod gracefully: it runs, terminating, for the termination period; its owner replaces it. */
  deletePod(namespace: string, name: string): void {
    const pod = this.store.update('Pod', namespace, name, (p) => {
      p.metadata = { ...p.metadata, deletionTimestamp: this.store.clock.now() };
    });
    if (!pod) return;
    const uid = pod.metadata?.uid;
    this.store.clock.schedule(this.store.timings.terminationMs, () => {
      const current = this.store.get('Pod', namespace, name);
      if (!current || current.metadata?.uid !== uid) return;
      this.store.delete('Pod', namespace, name);
      const owner = this.ownerRef(current);
      if (owner) this.later(owner);
    });
    const owner = this.ownerRef(pod);
    if (owner) this.later(owner);
  }

  /** Every started meshed pod: what it trusts and which issuers may have signed its leaf. */
  proxies(): Proxy[] {
    return this.store
      .list('Pod')
      .filter((pod) => pod.status?.startTime !== undefined && proxyOf(pod) !== undefined)
      .map((pod) => ({
        pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`,
        terminating: terminating(pod),
        trustPem: proxyOf(pod)?.env?.find((e) => e.name === trustAnchorsEnv)?.value ?? '',
        leafIssuers: splitPem(pod.metadata?.annotations?.[leafIssuersAnnotation]),
      }))
      .filter((proxy) => proxy.leafIssuers.length > 0);
  }

  private later(ref: WorkloadRef): void {
    const key = `${ref.kind}/${ref.namespace}/${ref.name}`;
    if (this.pending.has(key)) return;
    this.pending.add(key);
    this.store.clock.schedule(this.store.timings.controllerMs, () => {
      this.pending.delete(key);
      this.reconcile(ref);
    });
  }

  private ownerRef(pod: V1Pod): WorkloadRef | undefined {
    const owner = pod.metadata?.ownerReferences?.[0];
    const namespace = pod.metadata?.namespace ?? '';
    if (!owner) return undefined;
    if (owner.kind === 'ReplicaSet') return { kind: 'Deployment', namespace, name: owner.name.slice(0, owner.name.lastIndexOf('-')) };
    if (owner.kind === 'StatefulSet' || owner.kind === 'DaemonSet') return { kind: owner.kind, namespace, name: owner.name };
    return undefined;
  }

  private podsOf(ref: WorkloadRef): V1Pod[] {
    return this.store.list('Pod', ref.namespace).filter((pod) => {
      const owner = this.ownerRef(pod);
      return owner?.kind === ref.kind && owner.name === ref.name;
    });
  }

  private reconcile(ref: WorkloadRef): void {
    const object = this.store.get(ref.kind, ref.namespace, ref.name);
    if (!object?.spec?.template) return;
    const hash = shortHash(object.spec.template);
    const pods = this.podsOf(ref);
    if (ref.kind === 'Deployment') this.rollDeployment(ref, object, hash, pods);
    else if (ref.kind === 'StatefulSet') this.rollStatefulSet(ref, object, hash, pods);
    else this.rollDaemonSet(ref, object, hash, pods);
  }

  private rollDeployment(ref: WorkloadRef, object: WorkloadObject, hash: string, pods: V1Pod[]): void {
    const want = object.spec && 'replicas' in object.spec ? (object.spec.replicas ?? 1) : 1;
    const paused = object.spec && 'paused' in object.spec && object.spec.paused === true;
    const isNew = (pod: V1Pod): boolean => pod.metadata?.labels?.['pod-template-hash'] === hash;
    let active = pods.filter((p) => !terminating(p));
    if (!paused) {
      // maxSurge 1, maxUnavailable 0: one new pod at a time, an old one goes when a new one is ready.
      while (active.length < want + 1 && active.filter(isNew).length < want) {
        const pod = this.createPod(ref, active.length, this.store.clock.now(), hash);
        if (!pod) break;
        active = [...active, pod];
      }
      const old = active.filter((p) => !isNew(p)).sort((a, b) => Number(ready(a)) - Number(ready(b)));
      const readyCount = active.filter(ready).length;
      const victim = old[0];
      if (victim && (!ready(victim) || readyCount - 1 >= want)) {
        this.deletePod(ref.namespace, victim.metadata?.name ?? '');
        active = active.filter((p) => p !== victim);
      }
      const surplus = active.filter(isNew).slice(want);
      for (const pod of surplus) this.deletePod(ref.namespace, pod.metadata?.name ?? '');
      active = active.filter((p) => !surplus.includes(p));
    }
    const readyActive = active.filter(ready).length;
    this.writeStatus(ref, {
      observedGeneration: object.metadata?.generation,
      replicas: active.length,
      updatedReplicas: active.filter(isNew).length,
      readyReplicas: readyActive,
      availableReplicas: readyActive,
      conditions: [{ type: 'Progressing', status: 'True', reason: active.every(isNew) ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated' }],
    });
  }

  private rollStatefulSet(ref: WorkloadRef, object: WorkloadObject, hash: string, pods: V1Pod[]): void {
    const want = object.spec && 'replicas' in object.spec ? (object.spec.replicas ?? 1) : 1;
    const revision = `${ref.name}-${hash}`;
    const rolling = object.spec && 'updateStrategy' in object.spec && object.spec.updateStrategy?.type !== 'OnDelete';
    const byName = new Map(pods.map((p) => [p.metadata?.name ?? '', p]));
    let settled = true;
    // OrderedReady: ordinal by ordinal, each created once the lower ones are ready.
    for (let i = 0; i < want; i++) {
      const pod = byName.get(`${ref.name}-${i}`);
      if (!pod) {
        const created = this.createPod(ref, i, this.store.clock.now(), revision);
        if (created) byName.set(`${ref.name}-${i}`, created);
        settled = false;
        break;
      }
      if (!ready(pod) || terminating(pod)) {
        settled = false;
        break;
      }
    }
    const current = [...byName.values()];
    if (settled && rolling) {
      const outdated = current
        .filter((p) => p.metadata?.labels?.['controller-revision-hash'] !== revision)
        .sort((a, b) => (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? ''));
      if (outdated[0]) this.deletePod(ref.namespace, outdated[0].metadata?.name ?? '');
    }
    const updated = current.filter((p) => p.metadata?.labels?.['controller-revision-hash'] === revision && !terminating(p)).length;
    const previous = object.status && 'currentRevision' in object.status ? object.status.currentRevision : undefined;
    this.writeStatus(ref, {
      observedGeneration: object.metadata?.generation,
      replicas: current.length,
      readyReplicas: current.filter((p) => ready(p) && !terminating(p)).length,
      updatedReplicas: updated,
      currentReplicas: current.length - updated,
      updateRevision: revision,
      currentRevision: updated >= want ? revision : previous,
    });
  }

  private rollDaemonSet(ref: WorkloadRef, object: WorkloadObject, hash: string, pods: V1Pod[]): void {
    const nodes = this.nodes.get(`${ref.namespace}/${ref.name}`) ?? 1;
    const rolling = object.spec && 'updateStrategy' in object.spec && object.spec.updateStrategy?.type !== 'OnDelete';
    const isNew = (pod: V1Pod): boolean => pod.metadata?.labels?.['pod-template-generation'] === hash;
    const all = [...pods];
    for (let node = 0; node < nodes; node++) {
      if (all.some((p) => p.spec?.nodeName === `node-${node}`)) continue;
      const created = this.createPod(ref, node, this.store.clock.now(), hash);
      if (created) all.push(created);
    }
    const active = all.filter((p) => !terminating(p));
    // maxUnavailable 1: an old pod goes once every node runs a ready pod.
    if (rolling && active.length === nodes && active.every(ready) && active.length === all.length) {
      const old = active.find((p) => !isNew(p));
      if (old) this.deletePod(ref.namespace, old.metadata?.name ?? '');
    }
    const stillActive = this.podsOf(ref).filter((p) => !terminating(p));
    this.writeStatus(ref, {
      observedGeneration: object.metadata?.generation,
      desiredNumberScheduled: nodes,
      currentNumberScheduled: stillActive.length,
      updatedNumberScheduled: stillActive.filter(isNew).length,
      numberReady: stillActive.filter(ready).length,
      numberAvailable: stillActive.filter(ready).length,
      numberMisscheduled: 0,
    });
  }

  private writeStatus(ref: WorkloadRef, status: Record<string, unknown>): void {
    const current = this.store.get(ref.kind, ref.namespace, ref.name);
    if (!current || JSON.stringify({ ...current.status, ...status }) === JSON.stringify(current.status)) return;
    this.store.update(ref.kind, ref.namespace, ref.name, (object: WorkloadObject) => {
      object.status = { ...object.status, ...status };
    });
  }

  /** A pod of the workload, through the injector (see admit); refused ones are retried by the controller. */
  private createPod(ref: WorkloadRef, ordinal: number, createdAt: Date, revision?: string): V1Pod | undefined {
    const object = this.store.get(ref.kind, ref.namespace, ref.name);
    const template = object?.spec?.template;
    if (!object || !template) return undefined;
    const hash = revision ?? (ref.kind === 'StatefulSet' ? `${ref.name}-${shortHash(template)}` : shortHash(template));
    const serial = (++this.podCount).toString(36).padStart(5, '0');
    const labels: Record<string, string> = { ...template.metadata?.labels };
    let name: string;
    let owner: { kind: string; name: string };
    let nodeName = `node-${ordinal}`;
    if (ref.kind === 'Deployment') {
      owner = { kind: 'ReplicaSet', name: `${ref.name}-${hash}` };
      name = `${owner.name}-${serial}`;
      labels['pod-template-hash'] = hash;
      nodeName = 'node-0';
    } else if (ref.kind === 'StatefulSet') {
      owner = { kind: 'StatefulSet', name: ref.name };
      name = `${ref.name}-${ordinal}`;
      labels['controller-revision-hash'] = hash;
    } else {
      owner = { kind: 'DaemonSet', name: ref.name };
      name = `${ref.name}-${serial}`;
      labels['pod-template-generation'] = hash;
    }
    const ownerRef = { apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: object.metadata?.uid ?? '', controller: true };
    const pod = this.admit(ref.namespace, name, {
      labels,
      annotations: { ...template.metadata?.annotations },
      containers: template.spec?.containers ?? [],
      ownerRef,
      nodeName,
      createdAt,
    });
    if (!pod) this.store.clock.schedule(1_000, () => this.reconcile(ref));
    return pod;
  }

  /** A bare meshed pod (no controller restarts it: only an eviction replaces it, and nothing recreates it). */
  addBarePod(namespace: string, name: string, ageMs: number): void {
    const createdAt = new Date(this.store.clock.now().getTime() - ageMs);
    if (
      !this.admit(namespace, name, {
        labels: { app: name },
        annotations: { 'linkerd.io/inject': 'enabled' },
        containers: [{ name: 'app', image: 'example/app:1' }],
        nodeName: 'node-0',
        createdAt,
      })
    ) {
      throw new Error('the bundle ConfigMap is missing: the injector refuses the pod');
    }
  }

  /**
   * Creates a pod through the injector (a meshed one carries the bundle ConfigMap's PEM as it is
   * now; refused, undefined, while that ConfigMap is missing) and schedules its start.
   */
  private admit(
    namespace: string,
    name: string,
    pod: {
      labels: Record<string, string>;
      annotations: Record<string, string>;
      containers: V1Container[];
      ownerRef?: { apiVersion: string; kind: string; name: string; uid: string; controller: boolean };
      nodeName: string;
      createdAt: Date;
    },
  ): V1Pod | undefined {
    const { labels, annotations, createdAt } = pod;
    const containers: V1Container[] = structuredClone(pod.containers);
    if (this.meshed(namespace, annotations, labels)) {
      const anchors = this.store.get('ConfigMap', this.names.linkerdNamespace, this.names.bundle)?.data?.[this.names.bundleKey];
      if (anchors === undefined) return undefined;
      labels['linkerd.io/control-plane-ns'] = this.names.linkerdNamespace;
      if (pod.ownerRef) labels[`linkerd.io/proxy-${pod.ownerRef.kind === 'ReplicaSet' ? 'deployment' : pod.ownerRef.kind.toLowerCase()}`] = pod.ownerRef.name;
      annotations['linkerd.io/trust-root-sha256'] = shortHash(anchors.trim(), 64);
      containers.push({ name: 'linkerd-proxy', image: 'cr.l5d.io/linkerd/proxy:fake', env: [{ name: trustAnchorsEnv, value: anchors }] });
    }
    const created = this.store.create('Pod', {
      metadata: { namespace, name, labels, annotations, creationTimestamp: createdAt, ...(pod.ownerRef ? { ownerReferences: [pod.ownerRef] } : {}) },
      spec: { containers, nodeName: pod.nodeName },
      status: { phase: 'Pending' },
    });
    const startIn = createdAt.getTime() + this.store.timings.podStartMs - this.store.clock.now().getTime();
    if (startIn <= 0) this.start(created, createdAt.getTime() + this.store.timings.podStartMs);
    else this.store.clock.schedule(startIn, () => this.start(created, this.store.clock.now().getTime()));
    return this.store.get('Pod', namespace, name);
  }

  private meshed(namespace: string, annotations: Record<string, string>, labels: Record<string, string>): boolean {
    if (annotations['linkerd.io/inject'] === 'disabled') return false;
    if (namespace === this.names.linkerdNamespace && labels['linkerd.io/control-plane-ns'] !== undefined) return true;
    if (annotations['linkerd.io/inject'] === 'enabled') return true;
    return this.store.get('Namespace', undefined, namespace)?.metadata?.annotations?.['linkerd.io/inject'] === 'enabled';
  }

  /**
   * The pod's containers start. Its proxy gets a leaf: an identity pod from its own controller,
   * which loads the issuer Secret if it chains to the bundle read now (else it crash-loops, never
   * ready); any other pod from whichever identity pod serves (not terminating, ready), once one does.
   */
  private start(created: V1Pod, at: number): void {
    const namespace = created.metadata?.namespace ?? '';
    const name = created.metadata?.name ?? '';
    const pod = this.store.get('Pod', namespace, name);
    if (!pod || pod.metadata?.uid !== created.metadata?.uid || terminating(pod)) return;
    const annotations: Record<string, string> = {};
    if (proxyOf(pod)) {
      const issuers = isIdentity(pod, this.names) ? this.loadIssuer() : this.servingIssuers();
      if (issuers.length === 0) {
        this.store.update('Pod', namespace, name, (p) => {
          p.status = { ...p.status, startTime: p.status?.startTime ?? new Date(at) };
        });
        this.store.clock.schedule(isIdentity(pod, this.names) ? 10_000 : 1_000, () => this.start(created, this.store.clock.now().getTime()));
        return;
      }
      annotations[leafIssuersAnnotation] = issuers.join('');
      if (isIdentity(pod, this.names)) {
        annotations[loadedIssuerAnnotation] = issuers[0] ?? '';
        annotations[startupTrustAnnotation] = this.bundlePem() ?? '';
      }
    }
    const readyAt = at + this.store.timings.podReadyMs;
    this.store.update('Pod', namespace, name, (p) => {
      p.metadata = { ...p.metadata, annotations: { ...p.metadata?.annotations, ...annotations } };
      p.status = { ...p.status, phase: 'Running', startTime: p.status?.startTime ?? new Date(at) };
    });
    const markReady = (): void => {
      const current = this.store.get('Pod', namespace, name);
      if (!current || current.metadata?.uid !== created.metadata?.uid || terminating(current)) return;
      this.store.update('Pod', namespace, name, (p) => {
        p.status = { ...p.status, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(readyAt) }] };
      });
      const owner = this.ownerRef(current);
      if (owner) this.later(owner);
    };
    const readyIn = readyAt - this.store.clock.now().getTime();
    if (readyIn <= 0) markReady();
    else this.store.clock.schedule(readyIn, markReady);
  }

  private bundlePem(): string | undefined {
    return this.store.get('ConfigMap', this.names.linkerdNamespace, this.names.bundle)?.data?.[this.names.bundleKey];
  }

  private issuerPem(): string | undefined {
    const data = this.store.get('Secret', this.names.linkerdNamespace, this.names.issuerSecret)?.data?.['tls.crt'];
    return data ? splitPem(Buffer.from(data, 'base64').toString('utf8'))[0] : undefined;
  }

  /** What an identity controller starting now loads: the issuer, if it chains to the bundle it reads now. */
  private loadIssuer(): string[] {
    const issuer = this.issuerPem();
    return issuer && chainsTo(issuer, this.bundlePem()) ? [issuer] : [];
  }

  private servingIssuers(): string[] {
    const identity = this.store.list('Pod', this.names.linkerdNamespace).filter((p) => isIdentity(p, this.names) && ready(p) && !terminating(p));
    return [...new Set(identity.map((p) => p.metadata?.annotations?.[loadedIssuerAnnotation] ?? '').filter((pem) => pem !== ''))];
  }

  /** The issuer Secret changed: each running identity controller sees it after the mount lag, and adopts it if it chains to its start-up bundle. */
  private issuerChanged(): void {
    this.store.clock.schedule(this.store.timings.mountLagMs, () => {
      const issuer = this.issuerPem();
      if (!issuer) return;
      for (const pod of this.store.list('Pod', this.names.linkerdNamespace)) {
        const annotations = pod.metadata?.annotations ?? {};
        if (!isIdentity(pod, this.names) || annotations[loadedIssuerAnnotation] === undefined || annotations[loadedIssuerAnnotation] === issuer) continue;
        if (!chainsTo(issuer, annotations[startupTrustAnnotation])) continue; // IssuerUpdateSkipped
        this.store.update('Pod', pod.metadata?.namespace, pod.metadata?.name ?? '', (p) => {
          p.metadata = { ...p.metadata, annotations: { ...p.metadata?.annotations, [loadedIssuerAnnotation]: issuer } };
        });
      }
    });
  }
}
