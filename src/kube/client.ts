import * as k8s from '@kubernetes/client-node';
import { PreconditionError } from '../errors.js';
import { systemClock, throwIfAborted } from '../wait/poll.js';
import { describeFailure, MissingApiError, RequestTimeoutError, statusCode } from './errors.js';
import {
  keyPairKeys,
  type BundleView,
  type CertificateRequestView,
  type CertificateView,
  type KeyPair,
  type LinkView,
  type NamespaceView,
  type PodMetadataKeys,
  type PodView,
  type SecretView,
  type Workload,
  type WorkloadKind,
  type WorkloadMetadataKeys,
  type WorkloadRef,
} from './model.js';
import type { Cluster, EvictionResult, KeyPairCopier, PodIdentity, WorkloadChange, WorkloadFeed } from './ports.js';
import { defaultRetryPolicy, type RetryDeps } from './retry.js';
import { kubeCall, kubeFind, type CallOptions } from './call.js';
import { permissions, resourceLabel, type Permission } from './permissions.js';
import { certificateOnlySecret, createPreviousAnchorHint, isMigration } from './certificate-only.js';
import { evictionBody, evictionRefusal } from './eviction.js';
import { toBundle, toCertificate, toCertificateRequest, toNamespace, toPodView, toSecretView, toWorkload, type AnyWorkload } from './convert.js';
import { createIntern } from './intern.js';
import { KubeUnattended } from './unattended.js';
import { ResumingWatch, type WatchHandlers, type WatchStream } from './watch.js';

const certManager = { group: 'cert-manager.io', version: 'v1', plural: 'certificates' };
const certificateRequests = { group: 'cert-manager.io', version: 'v1', plural: 'certificaterequests' };
const trustManager = { group: 'trust.cert-manager.io', version: 'v1alpha1', plural: 'bundles' };
/** trust-manager's successor of Bundle; looked for first, so a migrated ClusterBundle wins over its Bundle. */
const clusterBundles = { group: 'trust-manager.io', version: 'v1alpha2', plural: 'clusterbundles' };
const multicluster = { group: 'multicluster.linkerd.io' };
const pageSize = 250;
const conflictAttempts = 8;

/** The one adapter between the rotator's ports and @kubernetes/client-node. */
export class KubeCluster implements Cluster, KeyPairCopier {
  private readonly core: k8s.CoreV1Api;
  private readonly apps: k8s.AppsV1Api;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly discovery: k8s.ApisApi;
  private readonly watcher: k8s.Watch;

  constructor(
    private readonly config: k8s.KubeConfig,
    private readonly deps: RetryDeps & { watchIdleMs?: number },
  ) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.apps = config.makeApiClient(k8s.AppsV1Api);
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
    this.discovery = config.makeApiClient(k8s.ApisApi);
    this.watcher = new k8s.Watch(config);
  }

  /** The same adapter, with `fence` checked before every attempt of each of its writes (see RetryDeps.fence). */
  withWriteFence(fence: () => void): KubeCluster {
    return new KubeCluster(this.config, { ...this.deps, fence });
  }

  /**
   * The unattended view of this adapter (Lease, Events, owner lookups): same kubeconfig, logger and
   * clock, its own call policy (unattendedCallPolicy), and neither the run's signal nor the write
   * fence, which would stop the lock's own release and the last Event after SIGTERM or a lost lock.
   */
  unattended(): KubeUnattended {
    const { logger, clock, random } = this.deps;
    return new KubeUnattended(this.config, { logger, clock, random });
  }

  /** One call through the call helper (request timeout, retries, abort); a final failure names the verb, resource and object. */
  private call<T>(permission: Permission, object: string, run: (options: CallOptions) => Promise<T>): Promise<T> {
    return kubeCall(this.deps, permission, object, run);
  }

  /** Like call, but 404 means "absent". */
  private find<T>(permission: Permission & { verb: 'get' }, object: string, run: (options: CallOptions) => Promise<T>): Promise<T | undefined> {
    return kubeFind(this.deps, permission, object, run);
  }

  async getCertificate(namespace: string, name: string): Promise<CertificateView | undefined> {
    await this.requireApi(certManager, 'cert-manager');
    const raw: unknown = await this.find(permissions.getCertificate, `${namespace}/${name}`, (options) =>
      this.custom.getNamespacedCustomObject({ ...certManager, namespace, name }, options),
    );
    return raw === undefined ? undefined : toCertificate(raw);
  }

  async listCertificateRequests(namespace: string): Promise<CertificateRequestView[]> {
    await this.requireApi(certificateRequests, 'cert-manager');
    return this.paged(
      permissions.listCertificateRequests,
      (page, options) =>
        this.custom.listNamespacedCustomObject({ ...certificateRequests, namespace, limit: pageSize, _continue: page }, options) as Promise<{
          items: unknown[];
          metadata?: { _continue?: string };
        }>,
      toCertificateRequest,
    );
  }

  async getSecret(namespace: string, name: string): Promise<SecretView | undefined> {
    const secret = await this.find(permissions.getSecret, `${namespace}/${name}`, (options) => this.core.readNamespacedSecret({ namespace, name }, options));
    return secret === undefined ? undefined : toSecretView(secret);
  }

  async getBundle(name: string): Promise<BundleView | undefined> {
    const clusterBundleServed = await this.requireApi(clusterBundles, 'trust-manager').then(
      () => true,
      (error: unknown) => {
        if (error instanceof MissingApiError) return false;
        throw error;
      },
    );
    if (clusterBundleServed) {
      const raw: unknown = await this.find(permissions.getClusterBundle, name, (options) =>
        this.custom.getClusterCustomObject({ ...clusterBundles, name }, options),
      );
      if (raw !== undefined) return toBundle(raw);
    }
    await this.requireApi(trustManager, 'trust-manager');
    const raw: unknown = await this.find(permissions.getBundle, name, (options) => this.custom.getClusterCustomObject({ ...trustManager, name }, options));
    return raw === undefined ? undefined : toBundle(raw);
  }

  async listNamespaces(labelSelector?: string): Promise<NamespaceView[]> {
    return this.paged(
      permissions.listNamespaces,
      (page, options) => this.core.listNamespace({ labelSelector, limit: pageSize, _continue: page }, options),
      toNamespace,
    );
  }

  async getConfigMapValue(namespace: string, name: string, key: string): Promise<string | undefined> {
    const map = await this.find(permissions.getConfigMap, `${namespace}/${name}`, (options) => this.core.readNamespacedConfigMap({ namespace, name }, options));
    return map?.data?.[key];
  }

  async listMeshedPods(keep?: PodMetadataKeys): Promise<PodView[]> {
    // One interner for the whole list: pods of every page share their bundle's PEM.
    const intern = createIntern();
    return this.paged(
      permissions.listPods,
      (page, options) => this.core.listPodForAllNamespaces({ labelSelector: 'linkerd.io/control-plane-ns', limit: pageSize, _continue: page }, options),
      (pod) => toPodView(pod, keep, intern),
    );
  }

  async listWorkloads(namespace?: string, labelSelector?: string, keep?: WorkloadMetadataKeys): Promise<Workload[]> {
    const scope = { labelSelector, limit: pageSize };
    const [deployments, statefulSets, daemonSets] = await Promise.all([
      this.paged(
        permissions.listDeployments,
        (page, options) =>
          namespace
            ? this.apps.listNamespacedDeployment({ ...scope, namespace, _continue: page }, options)
            : this.apps.listDeploymentForAllNamespaces({ ...scope, _continue: page }, options),
        (item) => toWorkload('Deployment', item, keep),
      ),
      this.paged(
        permissions.listStatefulSets,
        (page, options) =>
          namespace
            ? this.apps.listNamespacedStatefulSet({ ...scope, namespace, _continue: page }, options)
            : this.apps.listStatefulSetForAllNamespaces({ ...scope, _continue: page }, options),
        (item) => toWorkload('StatefulSet', item, keep),
      ),
      this.paged(
        permissions.listDaemonSets,
        (page, options) =>
          namespace
            ? this.apps.listNamespacedDaemonSet({ ...scope, namespace, _continue: page }, options)
            : this.apps.listDaemonSetForAllNamespaces({ ...scope, _continue: page }, options),
        (item) => toWorkload('DaemonSet', item, keep),
      ),
    ]);
    return [...deployments, ...statefulSets, ...daemonSets];
  }

  async getWorkload(ref: WorkloadRef): Promise<Workload | undefined> {
    const { namespace, name } = ref;
    const object = `${namespace}/${name}`;
    switch (ref.kind) {
      case 'Deployment': {
        const item = await this.find(permissions.getDeployment, object, (options) => this.apps.readNamespacedDeployment({ namespace, name }, options));
        return item && toWorkload(ref.kind, item);
      }
      case 'StatefulSet': {
        const item = await this.find(permissions.getStatefulSet, object, (options) => this.apps.readNamespacedStatefulSet({ namespace, name }, options));
        return item && toWorkload(ref.kind, item);
      }
      case 'DaemonSet': {
        const item = await this.find(permissions.getDaemonSet, object, (options) => this.apps.readNamespacedDaemonSet({ namespace, name }, options));
        return item && toWorkload(ref.kind, item);
      }
    }
  }

  async watchWorkloads(kind: WorkloadKind, onChange: (change: WorkloadChange) => void): Promise<WorkloadFeed> {
    const calls = workloadCalls[kind];
    const resource = resourceLabel(calls.watch);
    const list = (options: CallOptions): Promise<{ metadata?: { resourceVersion?: string } }> => {
      switch (kind) {
        case 'Deployment':
          return this.apps.listDeploymentForAllNamespaces({ limit: 1 }, options);
        case 'StatefulSet':
          return this.apps.listStatefulSetForAllNamespaces({ limit: 1 }, options);
        case 'DaemonSet':
          return this.apps.listDaemonSetForAllNamespaces({ limit: 1 }, options);
      }
    };
    const source = {
      version: async () => (await this.call(calls.list, '(all)', list)).metadata?.resourceVersion ?? '',
      open: (resourceVersion: string, handlers: WatchHandlers) =>
        openWatch(
          this.watcher,
          `/apis/apps/v1/${kind.toLowerCase()}s`,
          { resourceVersion, allowWatchBookmarks: true },
          handlers,
          this.deps.policy?.requestTimeoutMs ?? defaultRetryPolicy.requestTimeoutMs,
        ),
    };
    const watch = new ResumingWatch(
      source,
      ({ type, object, span }) => {
        const workload = toWorkload(kind, object as AnyWorkload);
        onChange({ ref: { kind, namespace: workload.namespace, name: workload.name }, workload: type === 'DELETED' ? undefined : workload, span });
      },
      {
        what: `watch ${resource}`,
        logger: this.deps.logger,
        clock: this.deps.clock ?? systemClock,
        signal: this.deps.signal,
        idleMs: this.deps.watchIdleMs,
        retry: this.deps.policy,
      },
    );
    try {
      await watch.start();
    } catch (error) {
      throwIfAborted(this.deps.signal);
      throw describeFailure(error, 'watch', resource, '(all)');
    }
    return watch;
  }

  async listLinks(): Promise<LinkView[]> {
    const versions = await this.servedVersions(multicluster.group);
    // Any served version lists every Link, whatever version it was written in.
    const version = versions[0];
    if (!version) return [];
    const raw = (await this.call(permissions.listLinks, '(all)', (options) =>
      this.custom.listClusterCustomObject({ group: multicluster.group, version, plural: 'links', limit: 50 }, options),
    )) as { items?: { metadata?: { namespace?: string; name?: string }; spec?: { targetClusterName?: unknown } }[] };
    return (raw.items ?? []).map((item) => ({
      namespace: item.metadata?.namespace ?? '',
      name: item.metadata?.name ?? '',
      ...(typeof item.spec?.targetClusterName === 'string' ? { targetClusterName: item.spec.targetClusterName } : {}),
    }));
  }

  async triggerIssuance(namespace: string, name: string, now: Date): Promise<void> {
    const object = `${namespace}/${name}`;
    for (let attempt = 1; ; attempt++) {
      const raw = (await this.call(permissions.getCertificate, object, (options) =>
        this.custom.getNamespacedCustomObject({ ...certManager, namespace, name }, options),
      )) as { status?: { conditions?: Record<string, unknown>[] } };
      const status = (raw.status ??= {});
      // cmctl renew: set Issuing=True and write the whole status back, keeping every other condition.
      const others = (status.conditions ?? []).filter((condition) => condition.type !== 'Issuing');
      status.conditions = [
        ...others,
        {
          type: 'Issuing',
          status: 'True',
          reason: 'ManuallyTriggered',
          message: 'Certificate re-issuance manually triggered by linkerd-cert-rotator',
          lastTransitionTime: now.toISOString(),
        },
      ];
      try {
        await this.call(permissions.updateCertificateStatus, object, (options) =>
          this.custom.replaceNamespacedCustomObjectStatus({ ...certManager, namespace, name, body: raw }, options),
        );
        return;
      } catch (error) {
        // 409: the Certificate changed since it was read; read it again and write again.
        if (statusCode(error) === 409 && attempt < conflictAttempts) continue;
        throw error;
      }
    }
  }

  async restartWorkload(ref: WorkloadRef, restartedAt: string): Promise<Workload> {
    const { namespace, name } = ref;
    const body = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt } } } } };
    // Generated patch methods default to JSON patch; a restart is a strategic merge patch.
    const object = `${namespace}/${name}`;
    const patched = await this.call(workloadCalls[ref.kind].patch, object, (options): Promise<AnyWorkload> => {
      switch (ref.kind) {
        case 'Deployment':
          return this.apps.patchNamespacedDeployment(
            { namespace, name, body },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch, options),
          );
        case 'StatefulSet':
          return this.apps.patchNamespacedStatefulSet(
            { namespace, name, body },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch, options),
          );
        case 'DaemonSet':
          return this.apps.patchNamespacedDaemonSet(
            { namespace, name, body },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch, options),
          );
      }
    });
    return toWorkload(ref.kind, patched);
  }

  async writeCertificateOnlySecret(namespace: string, name: string, pem: string, labels: Record<string, string>): Promise<'updated' | 'migrated'> {
    const object = `${namespace}/${name}`;
    for (let attempt = 1; ; attempt++) {
      const current = await this.find(permissions.getSecret, object, (options) => this.core.readNamespacedSecret({ namespace, name }, options));
      // Never created: a create cannot be name-scoped, and with delete it let a token re-make this Secret.
      if (current === undefined)
        throw new PreconditionError(
          `the previous-anchor Secret ${object} does not exist and the rotator never creates Secrets: ${createPreviousAnchorHint(namespace, name)}`,
        );
      const body = certificateOnlySecret(current, pem, labels);
      try {
        // A PUT of the object read (its resourceVersion): the data becomes tls.crt alone, the metadata stays.
        await this.call(permissions.updateSecret, object, (options) => this.core.replaceNamespacedSecret({ namespace, name, body }, options));
        return isMigration(current) ? 'migrated' : 'updated';
      } catch (error) {
        const code = statusCode(error);
        if ((code === 409 || code === 404) && attempt < conflictAttempts) continue;
        throw error;
      }
    }
  }

  async readKeyPair(namespace: string, name: string): Promise<KeyPair | undefined> {
    const secret = await this.find(permissions.getSecret, `${namespace}/${name}`, (options) => this.core.readNamespacedSecret({ namespace, name }, options));
    if (secret === undefined) return undefined;
    const data = secret.data ?? {};
    return { type: secret.type ?? '', data: Object.fromEntries(keyPairKeys.filter((key) => data[key] !== undefined).map((key) => [key, data[key] as string])) };
  }

  async writeKeyPair(namespace: string, name: string, pair: KeyPair): Promise<void> {
    const object = `${namespace}/${name}`;
    for (let attempt = 1; ; attempt++) {
      const current = await this.find(permissions.getSecret, object, (options) => this.core.readNamespacedSecret({ namespace, name }, options));
      if (current === undefined)
        throw new PreconditionError(
          `the anchor copy Secret ${object} does not exist and the rotator never creates Secrets: create it once as a copy of the primary's anchor Secret (see docs/multicluster.md)`,
        );
      if (current.type !== 'kubernetes.io/tls')
        throw new PreconditionError(
          `the anchor copy Secret ${object} is of type ${current.type ?? '(none)'}, not kubernetes.io/tls: a CA ClusterIssuer cannot sign with it`,
        );
      if (current.immutable === true) throw new PreconditionError(`the anchor copy Secret ${object} is immutable: the new anchor cannot be written into it`);
      // The object read, data replaced: its metadata (labels, Helm's ownership) and resourceVersion stay.
      const body = { ...current, data: { ...pair.data } };
      try {
        await this.call(permissions.updateSecret, object, (options) => this.core.replaceNamespacedSecret({ namespace, name, body }, options));
        return;
      } catch (error) {
        const code = statusCode(error);
        if (code === 409 && attempt < conflictAttempts) continue;
        throw error;
      }
    }
  }

  async evictPod(pod: PodIdentity): Promise<EvictionResult> {
    const { namespace, name } = pod;
    try {
      return await this.call(permissions.evictPod, `${namespace}/${name}`, (options) =>
        // A 429 is a disruption budget's answer here, not throttling: it comes back as a value, for the step to wait on.
        this.core.createNamespacedPodEviction({ namespace, name, body: evictionBody(pod) }, options).then(
          (): EvictionResult => ({ result: 'evicted' }),
          (error: unknown) => {
            if (statusCode(error) === 429) return { result: 'blocked', reason: evictionRefusal(error) };
            throw error;
          },
        ),
      );
    } catch (error) {
      // 404: gone already; 409: the uid precondition failed, so the pod of that name is a replacement.
      if (statusCode(error) === 404 || statusCode(error) === 409) return { result: 'gone' };
      throw error;
    }
  }

  private servedGroups: Promise<Set<string>> | undefined;

  /** Versions of an API group the server serves (discovery, cached for the run). */
  private async servedVersions(group: string): Promise<string[]> {
    const served = await this.served();
    return [...served].filter((gv) => gv.startsWith(`${group}/`)).map((gv) => gv.slice(group.length + 1));
  }

  private async served(): Promise<Set<string>> {
    this.servedGroups ??= this.call(permissions.discovery, '(discovery)', (options) => this.discovery.getAPIVersions(options)).then(
      (list) => new Set(list.groups.flatMap((group) => group.versions.map((version) => version.groupVersion))),
    );
    return this.servedGroups.catch((error: unknown) => {
      this.servedGroups = undefined;
      throw error;
    });
  }

  /**
   * Fails with a clear message when a CRD's API is not served at all (as opposed to one
   * missing object). Uses discovery, which every authenticated identity may read.
   */
  private async requireApi(api: { group: string; version: string; plural: string }, product: string): Promise<void> {
    const served = await this.served();
    if (!served.has(`${api.group}/${api.version}`)) {
      throw new MissingApiError(`${api.plural}.${api.group}/${api.version} is not served by the API server: is ${product} installed with its CRDs?`);
    }
  }

  /**
   * Follows `continue` tokens so that lists never load a whole cluster in one response, and
   * converts each page before asking for the next: only one page of client-node objects is ever
   * alive, whatever the size of the cluster (holding every page first peaked at all of them).
   */
  private async paged<T, V>(
    permission: Permission,
    list: (page: string | undefined, options: CallOptions) => Promise<{ items: T[]; metadata?: { _continue?: string } }>,
    convert: (item: T) => V,
  ): Promise<V[]> {
    const views: V[] = [];
    let page: string | undefined;
    do {
      const token = page;
      const response = await this.call(permission, '(all)', (options) => list(token, options));
      for (const item of response.items) views.push(convert(item));
      page = response.metadata?._continue || undefined;
    } while (page);
    return views;
  }
}

/** The list (the watch's starting version), watch and restart of each kind of workload. */
const workloadCalls: Record<WorkloadKind, { list: Permission; watch: Permission; patch: Permission }> = {
  Deployment: { list: permissions.listDeployments, watch: permissions.watchDeployments, patch: permissions.patchDeployment },
  StatefulSet: { list: permissions.listStatefulSets, watch: permissions.watchStatefulSets, patch: permissions.patchStatefulSet },
  DaemonSet: { list: permissions.listDaemonSets, watch: permissions.watchDaemonSets, patch: permissions.patchDaemonSet },
};

/**
 * Opens one watch with client-node's Watch. Its `done` callback serves both a failed open
 * (non-200, connection refused) and the end of a stream that did open; this tells them apart.
 * An open that brings no answer within `timeoutMs` fails with RequestTimeoutError (client-node
 * sets no deadline on it); should it open later after all, the stream is closed at once.
 */
async function openWatch(
  watcher: k8s.Watch,
  path: string,
  query: Record<string, string | boolean>,
  handlers: WatchHandlers,
  timeoutMs: number,
): Promise<WatchStream> {
  let opened = false;
  let abandoned = false;
  let failure: { error: Error } | undefined;
  const opening = watcher.watch(
    path,
    query,
    (type: string, object: unknown) => {
      if (!abandoned) handlers.event(type, object);
    },
    (error: unknown) => {
      if (abandoned) return;
      if (opened) handlers.closed(error ?? undefined);
      else failure = { error: withCode(error, path) };
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new RequestTimeoutError(`watch ${path} did not open within ${Math.round(timeoutMs / 100) / 10}s`)), timeoutMs);
  });
  let controller: AbortController;
  try {
    controller = await Promise.race([opening, timedOut]);
  } catch (error) {
    abandoned = true;
    void opening.then(
      (late) => late.abort(),
      () => undefined,
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (failure) throw failure.error;
  opened = true;
  return { close: () => controller.abort() };
}

/** client-node's Watch reports an HTTP status as `statusCode`; the rest of the adapter reads `code`. */
function withCode(error: unknown, path: string): Error {
  if (!(error instanceof Error)) return new Error(`watch ${path} closed as it opened`);
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? Object.assign(error, { code: status }) : error;
}
