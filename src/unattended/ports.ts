/**
 * The narrow ports an unattended run needs beyond the rotation itself: a Lease for the lock,
 * Events, a Pushgateway and a webhook. Real implementations live in ../kube/unattended.ts (a view of the one Kubernetes adapter) and ./http.ts;
 * tests pass fakes.
 */
import type { Registry } from 'prom-client';

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

/** Whether a holder still runs: false when certainly gone, undefined when it cannot tell (the Lease's renewTime decides). */
export interface HolderProbe {
  alive(ref: HolderRef): Promise<boolean | undefined>;
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

/** A Pushgateway group: `replace` (PUT) swaps the whole group, `merge` (POST) only the metrics sent. */
export interface MetricsSink {
  push(metrics: Registry, mode: 'replace' | 'merge'): Promise<void>;
}

/** A Slack-compatible incoming webhook. */
export interface Notifier {
  send(payload: WebhookPayload): Promise<void>;
}

/** Slack-compatible JSON: `text` for every receiver, `blocks` for Slack's layout. */
export interface WebhookPayload {
  text: string;
  blocks?: unknown[];
}

/** Who this run is: the Lease holder identity, a run id for Events' labels, and the pod it runs in (if any). */
export interface RunIdentity {
  holder: string;
  holderRef: HolderRef;
  runId: string;
  podName?: string;
  podNamespace?: string;
}

/** Everything unattended operation needs from outside, built once by main. */
export interface UnattendedPorts {
  identity: RunIdentity;
  lease: LeasePort;
  holders: HolderProbe;
  events: EventPort;
  /** Absent unless --pushgateway-url is set. */
  metrics?: MetricsSink;
  /** Absent unless --webhook-url is set. */
  notifier?: Notifier;
}
