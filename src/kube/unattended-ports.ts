/**
 * The Lease and Event ports of an unattended run (the rotation lock, its Events), with the
 * annotation that records where a Lease's holder runs. They sit here, beside their Kubernetes
 * implementation (./unattended.ts), so that the adapter imports nothing above src/kube;
 * src/unattended/ports.ts re-exports them with the ports it adds.
 */

/** Where a lock holder runs, so that a later run can tell it is gone without waiting for its Lease to expire. */
export type HolderRef = { kind: 'pod'; namespace: string; name: string } | { kind: 'process'; host: string; pid: number };

/** A coordination.k8s.io/v1 Lease as the lock sees it. */
export interface LeaseRecord {
  namespace: string;
  name: string;
  /** Empty or undefined: nobody holds it. */
  holder?: string;
  /** Where the holder runs (kept in an annotation of the Lease). */
  holderRef?: HolderRef;
  durationSeconds?: number;
  acquireTime?: Date;
  renewTime?: Date;
  transitions: number;
  /** Undefined for a Lease not yet created. */
  resourceVersion?: string;
}

/** A write lost a race: the Lease changed (or was created) since it was read. */
export class LeaseConflictError extends Error {
  override readonly name = 'LeaseConflictError';
}

/** Reads and optimistic writes of one Lease. Writes throw LeaseConflictError on HTTP 409. */
export interface LeasePort {
  getLease(namespace: string, name: string): Promise<LeaseRecord | undefined>;
  createLease(lease: LeaseRecord): Promise<LeaseRecord>;
  /** Replaces the Lease if its resourceVersion is still `lease.resourceVersion`. */
  replaceLease(lease: LeaseRecord): Promise<LeaseRecord>;
}

/** What an Event is about (events.k8s.io/v1 `regarding`). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

/** One Kubernetes Event, ready to write. */
export interface EventRecord {
  /** Unique name in the namespace of `regarding`. */
  name: string;
  regarding: ObjectRef;
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
  time: Date;
  reportingController: string;
  reportingInstance: string;
  labels: Record<string, string>;
}

/** Events and the two lookups that decide what they regard. */
export interface EventPort {
  createEvent(event: EventRecord): Promise<void>;
  /** The Job controlling the pod, or undefined when the pod is not found or no Job controls it. */
  ownerJob(namespace: string, podName: string): Promise<ObjectRef | undefined>;
  /** A cert-manager Certificate with its uid, or undefined when it does not exist. */
  certificateRef(namespace: string, name: string): Promise<ObjectRef | undefined>;
}

/** Annotation on the Lease recording where its holder runs. */
export const holderAnnotation = 'linkerd-cert-rotator.io/holder';

/** "pod:<namespace>/<name>" or "process:<host>:<pid>". */
export function formatHolderRef(ref: HolderRef): string {
  return ref.kind === 'pod' ? `pod:${ref.namespace}/${ref.name}` : `process:${ref.host}:${ref.pid}`;
}

/** The inverse of formatHolderRef; undefined for anything else (a Lease written by something else). */
export function parseHolderRef(text: string | undefined): HolderRef | undefined {
  const pod = /^pod:([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(text ?? '');
  if (pod) return { kind: 'pod', namespace: pod[1] as string, name: pod[2] as string };
  const proc = /^process:(.+):(\d+)$/.exec(text ?? '');
  if (proc) return { kind: 'process', host: proc[1] as string, pid: Number(proc[2]) };
  return undefined;
}
