import * as k8s from '@kubernetes/client-node';
import { kubeCall, kubeFind, type CallOptions } from './call.js';
import { statusCode } from './errors.js';
import { permissions, type Permission } from './permissions.js';
import type { RetryDeps, RetryPolicy } from './retry.js';
import {
  formatHolderRef,
  holderAnnotation,
  LeaseConflictError,
  parseHolderRef,
  type EventPort,
  type EventRecord,
  type LeasePort,
  type LeaseRecord,
  type ObjectRef,
} from './unattended-ports.js';

/**
 * Lease, Event and lookup calls: 10 s per request, retried for 20 s at most, so that no lock
 * call outlives a renewal interval (the rotation's 30 s per request and 120 s window would let one
 * renewal stall past the Lease's expiry, and another run take the lock while this one still writes).
 * Deliberately not the run's abort signal: the lock must still be released and the last Event
 * written after SIGTERM, which a call bound to that signal would refuse at once.
 */
const unattendedCallPolicy: Partial<RetryPolicy> = { windowMs: 20_000, requestTimeoutMs: 10_000 };

const asDate = (value: unknown): Date | undefined => {
  if (value === undefined || value === null || value === '') return undefined;
  const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
  if (!date) return undefined;
  return Number.isNaN(date.getTime()) ? undefined : date;
};

// V1MicroTime serialises with microseconds, as the API server requires for MicroTime fields.
const microTime = (date: Date | undefined): k8s.V1MicroTime | undefined => (date ? new k8s.V1MicroTime(date.getTime()) : undefined);

function toLeaseRecord(lease: k8s.V1Lease): LeaseRecord {
  return {
    namespace: lease.metadata?.namespace ?? '',
    name: lease.metadata?.name ?? '',
    holder: lease.spec?.holderIdentity || undefined,
    holderRef: parseHolderRef(lease.metadata?.annotations?.[holderAnnotation]),
    durationSeconds: lease.spec?.leaseDurationSeconds,
    acquireTime: asDate(lease.spec?.acquireTime),
    renewTime: asDate(lease.spec?.renewTime),
    transitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion,
  };
}

function toLease(record: LeaseRecord): k8s.V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: record.name,
      namespace: record.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'linkerd-cert-rotator' },
      ...(record.holderRef ? { annotations: { [holderAnnotation]: formatHolderRef(record.holderRef) } } : {}),
      ...(record.resourceVersion ? { resourceVersion: record.resourceVersion } : {}),
    },
    spec: {
      holderIdentity: record.holder,
      leaseDurationSeconds: record.durationSeconds,
      acquireTime: microTime(record.acquireTime),
      renewTime: microTime(record.renewTime),
      leaseTransitions: record.transitions,
    },
  };
}

/**
 * The unattended side of the one adapter (Lease, Events, owner lookups): the same call helper and
 * permissions table as KubeCluster, with the unattended call policy. Made by KubeCluster.unattended().
 */
export class KubeUnattended implements LeasePort, EventPort {
  private readonly coordination: k8s.CoordinationV1Api;
  private readonly events: k8s.EventsV1Api;
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;

  private readonly deps: RetryDeps;

  constructor(config: k8s.KubeConfig, deps: Omit<RetryDeps, 'signal'>) {
    this.deps = { policy: unattendedCallPolicy, ...deps };
    this.coordination = config.makeApiClient(k8s.CoordinationV1Api);
    this.events = config.makeApiClient(k8s.EventsV1Api);
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
  }

  async getLease(namespace: string, name: string): Promise<LeaseRecord | undefined> {
    const lease = await kubeFind(this.deps, permissions.getLease, `${namespace}/${name}`, (options) =>
      this.coordination.readNamespacedLease({ namespace, name }, options),
    );
    return lease && toLeaseRecord(lease);
  }

  async createLease(lease: LeaseRecord): Promise<LeaseRecord> {
    return this.write(permissions.createLease, lease, (options) =>
      this.coordination.createNamespacedLease({ namespace: lease.namespace, body: toLease({ ...lease, resourceVersion: undefined }) }, options),
    );
  }

  async replaceLease(lease: LeaseRecord): Promise<LeaseRecord> {
    return this.write(permissions.updateLease, lease, (options) =>
      this.coordination.replaceNamespacedLease({ namespace: lease.namespace, name: lease.name, body: toLease(lease) }, options),
    );
  }

  private async write(permission: Permission, lease: LeaseRecord, call: (options: CallOptions) => Promise<k8s.V1Lease>): Promise<LeaseRecord> {
    const object = `${lease.namespace}/${lease.name}`;
    try {
      return toLeaseRecord(await kubeCall(this.deps, permission, object, call));
    } catch (error) {
      if (statusCode(error) === 409) throw new LeaseConflictError(`Lease ${object} changed since it was read`);
      throw error;
    }
  }

  async createEvent(event: EventRecord): Promise<void> {
    const namespace = event.regarding.namespace;
    const body: k8s.EventsV1Event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: event.name, namespace, labels: event.labels },
      eventTime: new k8s.V1MicroTime(event.time.getTime()),
      type: event.type,
      reason: event.reason,
      action: event.action,
      note: event.note,
      regarding: { apiVersion: event.regarding.apiVersion, kind: event.regarding.kind, namespace, name: event.regarding.name, uid: event.regarding.uid },
      reportingController: event.reportingController,
      reportingInstance: event.reportingInstance,
    };
    await kubeCall(this.deps, permissions.createEvent, `${namespace}/${event.name}`, (options) =>
      this.events.createNamespacedEvent({ namespace, body }, options),
    );
  }

  async ownerJob(namespace: string, podName: string): Promise<ObjectRef | undefined> {
    const pod = await kubeFind(this.deps, permissions.getPod, `${namespace}/${podName}`, (options) =>
      this.core.readNamespacedPod({ namespace, name: podName }, options),
    );
    const owner = pod?.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === 'Job');
    return owner ? { apiVersion: owner.apiVersion, kind: 'Job', namespace, name: owner.name, uid: owner.uid } : undefined;
  }

  /** False when the pod is gone or finished; true while it exists and has not finished. */
  async podAlive(namespace: string, name: string): Promise<boolean> {
    const pod = await kubeFind(this.deps, permissions.getPod, `${namespace}/${name}`, (options) => this.core.readNamespacedPod({ namespace, name }, options));
    return pod !== undefined && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
  }

  async certificateRef(namespace: string, name: string): Promise<ObjectRef | undefined> {
    const raw = (await kubeFind(this.deps, permissions.getCertificate, `${namespace}/${name}`, (options) =>
      this.custom.getNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', plural: 'certificates', namespace, name }, options),
    )) as { metadata?: { uid?: string } } | undefined;
    return raw && { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', namespace, name, uid: raw.metadata?.uid };
  }
}
