/**
 * The narrow ports an unattended run needs beyond the rotation itself: a Lease for the lock,
 * Events, a Pushgateway and a webhook. The Lease and Event ports live with their Kubernetes
 * implementation (../kube/unattended-ports.ts, ../kube/unattended.ts: a view of the one adapter);
 * the HTTP ones in ./http.ts. Tests pass fakes.
 */
import type { EventPort, HolderRef, LeasePort } from '../kube/unattended-ports.js';
import type { Registry } from 'prom-client';

export { LeaseConflictError, type EventPort, type HolderRef, type LeasePort, type LeaseRecord, type ObjectRef } from '../kube/unattended-ports.js';

/** Whether a holder still runs: false when certainly gone, undefined when it cannot tell (the Lease's renewTime decides). */
export interface HolderProbe {
  alive(ref: HolderRef): Promise<boolean | undefined>;
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
