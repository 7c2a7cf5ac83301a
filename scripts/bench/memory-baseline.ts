/**
 * The baseline of bench-memory: the adapter's pod and workload lists as they were before the
 * memory work (commit 1e406b3), kept here so that both are measured in the same run. Every page
 * of client-node objects is held until the last one arrives, each pod keeps all of its labels and
 * annotations and its own copy of its trust bundle's PEM, and each meshed workload all of its own.
 */
import * as k8s from '@kubernetes/client-node';
import { KubeCluster } from '../../src/kube/client.js';
import { proxyContainer, toWorkload, trustAnchorsEnv } from '../../src/kube/convert.js';
import type { PodView, Workload } from '../../src/kube/model.js';
import type { RetryDeps } from '../../src/kube/retry.js';

const pageSize = 250;

/** Every page first, as the old `paged` did. */
async function allPages<T>(list: (page: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>): Promise<T[]> {
  const items: T[] = [];
  let page: string | undefined;
  do {
    const response = await list(page);
    items.push(...response.items);
    page = response.metadata?._continue || undefined;
  } while (page);
  return items;
}

/** PodView as it was: times as the Date objects client-node made. */
type OldPodView = Omit<PodView, 'createdAtMs' | 'startedAtMs' | 'readySinceMs'> & { createdAt: Date; startedAt?: Date; readySince?: Date };

/** toPodView as it was: the pod's own label and annotation maps, its own PEM string, Dates. */
function oldPodView(pod: k8s.V1Pod): OldPodView {
  const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller) ?? pod.metadata?.ownerReferences?.[0];
  const proxies = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].filter((c) => c.name === proxyContainer);
  const anchors = proxies.flatMap((c) => c.env ?? []).find((env) => env.name === trustAnchorsEnv)?.value;
  const ready = pod.status?.conditions?.find((condition) => condition.type === 'Ready' && condition.status === 'True');
  const since = ready?.lastTransitionTime;
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    labels: pod.metadata?.labels ?? {},
    annotations: pod.metadata?.annotations ?? {},
    owner: owner ? { kind: owner.kind, name: owner.name } : undefined,
    createdAt: pod.metadata?.creationTimestamp ?? new Date(0),
    startedAt: pod.status?.startTime,
    ready: since !== undefined,
    readySince: since,
    terminating: pod.metadata?.deletionTimestamp !== undefined && pod.metadata?.deletionTimestamp !== null,
    trustAnchorsPem: anchors,
  };
}

/**
 * The real adapter but for the two lists, which take the old path. The workloads it listed stay
 * reachable from it (`listed`), as the old MeshWorkloads kept each whole Workload (every one of
 * the bench's workloads is meshed); hold the adapter with the result to measure that.
 */
export class KeepingObjectsCluster extends KubeCluster {
  listed: Workload[] = [];
  private readonly oldCore: k8s.CoreV1Api;
  private readonly oldApps: k8s.AppsV1Api;

  constructor(config: k8s.KubeConfig, deps: RetryDeps) {
    super(config, deps);
    this.oldCore = config.makeApiClient(k8s.CoreV1Api);
    this.oldApps = config.makeApiClient(k8s.AppsV1Api);
  }

  override async listMeshedPods(): Promise<PodView[]> {
    const items = await allPages((page) =>
      this.oldCore.listPodForAllNamespaces({ labelSelector: 'linkerd.io/control-plane-ns', limit: pageSize, _continue: page }),
    );
    // Typed as today's PodView for observeMesh, which reads none of the times.
    return items.map(oldPodView) as unknown as PodView[];
  }

  override async listWorkloads(): Promise<Workload[]> {
    const [deployments, statefulSets, daemonSets] = await Promise.all([
      allPages((page) => this.oldApps.listDeploymentForAllNamespaces({ limit: pageSize, _continue: page })),
      allPages((page) => this.oldApps.listStatefulSetForAllNamespaces({ limit: pageSize, _continue: page })),
      allPages((page) => this.oldApps.listDaemonSetForAllNamespaces({ limit: pageSize, _continue: page })),
    ]);
    this.listed = [
      ...deployments.map((item) => toWorkload('Deployment', item)),
      ...statefulSets.map((item) => toWorkload('StatefulSet', item)),
      ...daemonSets.map((item) => toWorkload('DaemonSet', item)),
    ];
    return this.listed;
  }
}
