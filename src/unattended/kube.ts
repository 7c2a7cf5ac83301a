import * as k8s from '@kubernetes/client-node';
import { describeFailure, statusCode } from '../kube/errors.js';
import { withRetry } from '../kube/retry.js';
import type { Logger } from '../log.js';
import { formatHolderRef, holderAnnotation, parseHolderRef } from './liveness.js';
import { LeaseConflictError, type EventPort, type EventRecord, type LeasePort, type LeaseRecord, type ObjectRef } from './ports.js';

/**
 * A bound on each call's retries. Deliberately not the run's abort signal: the lock must still
 * be released and the last Event written after SIGTERM.
 */
const callBudgetMs = 20_000;

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

/** The adapter between the unattended ports (Lease, Events, owner lookups) and @kubernetes/client-node. */
export class KubeUnattended implements LeasePort, EventPort {
  private readonly coordination: k8s.CoordinationV1Api;
  private readonly events: k8s.EventsV1Api;
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;

  constructor(
    config: k8s.KubeConfig,
    private readonly deps: { logger: Logger },
  ) {
    this.coordination = config.makeApiClient(k8s.CoordinationV1Api);
    this.events = config.makeApiClient(k8s.EventsV1Api);
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
  }

  private retry<T>(what: string, call: () => Promise<T>): Promise<T> {
    return withRetry(what, call, { logger: this.deps.logger, signal: AbortSignal.timeout(callBudgetMs) });
  }

  async getLease(namespace: string, name: string): Promise<LeaseRecord | undefined> {
    try {
      return toLeaseRecord(await this.retry(`get leases ${namespace}/${name}`, () => this.coordination.readNamespacedLease({ namespace, name })));
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw describeFailure(error, 'get', 'leases.coordination.k8s.io', `${namespace}/${name}`);
    }
  }

  async createLease(lease: LeaseRecord): Promise<LeaseRecord> {
    return this.write('create', lease, () => this.coordination.createNamespacedLease({ namespace: lease.namespace, body: toLease({ ...lease, resourceVersion: undefined }) }));
  }

  async replaceLease(lease: LeaseRecord): Promise<LeaseRecord> {
    return this.write('update', lease, () => this.coordination.replaceNamespacedLease({ namespace: lease.namespace, name: lease.name, body: toLease(lease) }));
  }

  private async write(verb: string, lease: LeaseRecord, call: () => Promise<k8s.V1Lease>): Promise<LeaseRecord> {
    const object = `${lease.namespace}/${lease.name}`;
    try {
      return toLeaseRecord(await this.retry(`${verb} leases ${object}`, call));
    } catch (error) {
      if (statusCode(error) === 409) throw new LeaseConflictError(`Lease ${object} changed since it was read`);
      throw describeFailure(error, verb, 'leases.coordination.k8s.io', object);
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
    try {
      await this.retry(`create events ${namespace}/${event.name}`, () => this.events.createNamespacedEvent({ namespace, body }));
    } catch (error) {
      throw describeFailure(error, 'create', 'events.events.k8s.io', `${namespace}/${event.name}`);
    }
  }

  async ownerJob(namespace: string, podName: string): Promise<ObjectRef | undefined> {
    let pod: k8s.V1Pod;
    try {
      pod = await this.retry(`get pods ${namespace}/${podName}`, () => this.core.readNamespacedPod({ namespace, name: podName }));
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw describeFailure(error, 'get', 'pods', `${namespace}/${podName}`);
    }
    const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === 'Job');
    return owner ? { apiVersion: owner.apiVersion, kind: 'Job', namespace, name: owner.name, uid: owner.uid } : undefined;
  }

  /** False when the pod is gone or finished; true while it exists and has not finished. */
  async podAlive(namespace: string, name: string): Promise<boolean> {
    try {
      const pod = await this.retry(`get pods ${namespace}/${name}`, () => this.core.readNamespacedPod({ namespace, name }));
      return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
    } catch (error) {
      if (statusCode(error) === 404) return false;
      throw describeFailure(error, 'get', 'pods', `${namespace}/${name}`);
    }
  }

  async certificateRef(namespace: string, name: string): Promise<ObjectRef | undefined> {
    try {
      const raw = (await this.retry(`get certificates ${namespace}/${name}`, () =>
        this.custom.getNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', plural: 'certificates', namespace, name }),
      )) as { metadata?: { uid?: string } };
      return { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', namespace, name, uid: raw.metadata?.uid };
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw describeFailure(error, 'get', 'certificates.cert-manager.io', `${namespace}/${name}`);
    }
  }
}
