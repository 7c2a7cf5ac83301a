import type { RotatorConfig } from '../config.js';
import { controlPlaneSelector } from '../config.js';
import type { NamespaceView, PodMetadataKeys, PodView, Workload, WorkloadMetadataKeys } from '../kube/model.js';
import { createIntern, pickKeys } from '../kube/intern.js';
import { matchesSelector, parseSelector } from '../kube/selector.js';
import { restartRefusal } from './rollout.js';

const injectAnnotation = 'linkerd.io/inject';
/** The label a ReplicaSet's pods carry and its name ends with: it leads from a pod to its Deployment. */
const templateHashLabel = 'pod-template-hash';

/** Where a workload or pod sits in the restart order. */
export type Role = 'identity' | 'control-plane' | 'extension' | 'data-plane';

/** The roles `restart-control-plane` restarts, in its order: the identity controller, the rest, extensions. */
export const controlPlaneRoles: readonly Role[] = ['identity', 'control-plane', 'extension'];

/** A meshed workload and whether the rotator may restart it. */
export interface MeshWorkload {
  key: string;
  workload: Workload;
  role: Role;
  /** Why the rotator will not restart it; its pods still count for the gates. */
  hold?: Hold;
}

/**
 * Why a workload is not restarted. `opted-out` and `excluded` are the user's choice, so its
 * pods are never deleted; `paused` stops the rotation; `on-delete` pods may be deleted.
 * @internal exported for its unit tests
 */
export interface Hold {
  kind: 'opted-out' | 'excluded' | 'paused' | 'on-delete';
  message: string;
}

/** A meshed pod with the workload that restarts it, if any. */
export interface MeshPod {
  pod: PodView;
  role: Role;
  /** Key of the MeshWorkload that owns it, when a rollout can restart it. */
  workloadKey?: string;
  /** "Deployment/name", "Job/name", "bare pod": for reports. */
  owner: string;
  /** Why no rollout restarts it (bare pod, Job, OnDelete, opted out, excluded namespace). */
  hold?: string;
  /** True when the rotator may delete it (with --delete-stale-pods) because nothing else restarts it. */
  deletable: boolean;
}

export const workloadKey = (w: { kind: string; namespace: string; name: string }): string => `${w.kind}/${w.namespace}/${w.name}`;

/** The labels and annotations of a workload classifyWorkloads reads: a workload list need keep no other. */
export function workloadMetadataKeys(config: RotatorConfig): WorkloadMetadataKeys {
  const selectors = [...parseSelector(controlPlaneSelector(config)), ...parseSelector(config.extensionSelector)];
  return {
    labels: [...new Set(selectors.map((requirement) => requirement.key))],
    annotations: [config.optOutAnnotation],
    templateAnnotations: [injectAnnotation, config.optOutAnnotation],
  };
}

/**
 * The workload as a MeshWorkload keeps it: the metadata classifyWorkloads read, and status
 * conditions without their messages and times (rolloutState reads a condition's type and reason;
 * rollouts are judged from fresh reads anyway). A workload's annotations can hold kilobytes never
 * read (kubectl's last-applied-configuration, Helm's and tools' notes), and the whole mesh's
 * workloads are kept through every step.
 */
function summariseWorkload(workload: Workload, keys: WorkloadMetadataKeys): Workload {
  return {
    ...workload,
    labels: pickKeys(workload.labels, keys.labels),
    annotations: pickKeys(workload.annotations, keys.annotations),
    templateAnnotations: pickKeys(workload.templateAnnotations, keys.templateAnnotations),
    status: {
      ...workload.status,
      conditions: workload.status.conditions.map(({ type, status, reason, observedGeneration }) => ({ type, status, reason, observedGeneration })),
    },
  };
}

/** Classifies workloads: control plane, extensions, data plane, or not meshed (left out). */
export function classifyWorkloads(workloads: readonly Workload[], namespaces: readonly NamespaceView[], config: RotatorConfig): MeshWorkload[] {
  const cp = parseSelector(controlPlaneSelector(config));
  const ext = parseSelector(config.extensionSelector);
  const keys = workloadMetadataKeys(config);
  const meshedNamespaces = new Set(namespaces.filter((ns) => ns.annotations[injectAnnotation] === 'enabled').map((ns) => ns.name));
  const result: MeshWorkload[] = [];
  for (const workload of workloads) {
    const role = roleOf(workload, cp, ext, meshedNamespaces, config);
    if (!role) continue;
    const hold = holdOf(workload, role, config);
    result.push({ key: workloadKey(workload), workload: summariseWorkload(workload, keys), role, ...hold });
  }
  return result;
}

function roleOf(
  workload: Workload,
  cp: ReturnType<typeof parseSelector>,
  ext: ReturnType<typeof parseSelector>,
  meshedNamespaces: ReadonlySet<string>,
  config: RotatorConfig,
): Role | undefined {
  if (workload.namespace === config.linkerdNamespace && matchesSelector(cp, workload.labels)) {
    return workload.kind === 'Deployment' && workload.name === config.identityDeployment ? 'identity' : 'control-plane';
  }
  if (config.extensionSelector && matchesSelector(ext, workload.labels)) return 'extension';
  const inject = workload.templateAnnotations[injectAnnotation];
  if (inject === 'enabled') return 'data-plane';
  if (inject === 'disabled') return undefined;
  return meshedNamespaces.has(workload.namespace) ? 'data-plane' : undefined;
}

/** True when the namespace is out of the configured restart scope. */
function excludedNamespace(namespace: string, config: RotatorConfig): boolean {
  if (config.excludeNamespaces.includes(namespace)) return true;
  return config.includeNamespaces.length > 0 && !config.includeNamespaces.includes(namespace);
}

function optedOut(annotations: Record<string, string>, config: RotatorConfig): boolean {
  return annotations[config.optOutAnnotation] === 'true';
}

function holdOf(workload: Workload, role: Role, config: RotatorConfig): { hold?: Hold } {
  const name = `${workload.kind} ${workload.namespace}/${workload.name}`;
  if (optedOut(workload.annotations, config) || optedOut(workload.templateAnnotations, config)) {
    return { hold: { kind: 'opted-out', message: `${name} is opted out (${config.optOutAnnotation}=true): restart it by hand` } };
  }
  if (role === 'data-plane' && excludedNamespace(workload.namespace, config)) {
    return { hold: { kind: 'excluded', message: `namespace ${workload.namespace} is excluded from restarts: restart ${name} by hand` } };
  }
  const refusal = restartRefusal(workload);
  if (refusal) return { hold: { kind: workload.kind === 'Deployment' ? 'paused' : 'on-delete', message: refusal } };
  return {};
}

/** The pod labels and annotations classifyPods reads: a pod list need keep no other. */
export function podMetadataKeys(config: Pick<RotatorConfig, 'optOutAnnotation'>): PodMetadataKeys {
  return { labels: [templateHashLabel], annotations: [config.optOutAnnotation] };
}

/**
 * Finds each meshed pod's owner workload (Deployment via its ReplicaSet's pod-template-hash).
 * Reads only the pod metadata named by podMetadataKeys.
 */
export function classifyPods(pods: readonly PodView[], workloads: readonly MeshWorkload[], config: RotatorConfig): MeshPod[] {
  const byKey = new Map(workloads.map((w) => [w.key, w]));
  // The replicas of a workload share its "Kind/name" string instead of a copy each.
  const ownerNames = createIntern();
  return (
    pods
      .filter((pod) => pod.phase !== 'Succeeded' && pod.phase !== 'Failed')
      // eslint-disable-next-line complexity -- one pod's owner, role and hold: its branches are the owner kinds and hold kinds, read in one pass per pod
      .map((pod): MeshPod => {
        const owner = pod.owner;
        let key: string | undefined;
        if (owner?.kind === 'ReplicaSet') {
          const hash = pod.labels[templateHashLabel];
          const deployment = hash && owner.name.endsWith(`-${hash}`) ? owner.name.slice(0, -hash.length - 1) : owner.name;
          key = workloadKey({ kind: 'Deployment', namespace: pod.namespace, name: deployment });
        } else if (owner?.kind === 'StatefulSet' || owner?.kind === 'DaemonSet') {
          key = workloadKey({ kind: owner.kind, namespace: pod.namespace, name: owner.name });
        }
        const workload = key ? byKey.get(key) : undefined;
        const ownerName = ownerNames(workload ? `${workload.workload.kind}/${workload.workload.name}` : owner ? `${owner.kind}/${owner.name}` : 'bare pod');
        const role: Role = workload?.role ?? (pod.namespace === config.linkerdNamespace ? 'control-plane' : 'data-plane');
        if (workload && !workload.hold) return { pod, role, workloadKey: workload.key, owner: ownerName, deletable: false };
        const hold =
          workload?.hold?.message ??
          (owner
            ? `${owner.kind} ${pod.namespace}/${owner.name} cannot be restarted by a rollout`
            : `bare pod ${pod.namespace}/${pod.name} has no controller to restart it`);
        const userHeld = optedOut(pod.annotations, config) || excludedNamespace(pod.namespace, config);
        const deletable = !userHeld && (workload?.hold === undefined || workload.hold.kind === 'on-delete');
        return { pod, role, workloadKey: workload?.key, owner: ownerName, hold, deletable };
      })
  );
}
