// In-memory fakes of the unattended ports (src/unattended/ports.ts): a Lease store with
// resourceVersions and injectable failures, an Event sink, a metrics sink and a notifier.
import type { Registry } from 'prom-client';
import type { EventRecord } from '../../src/kube/unattended-ports.js';
import {
  LeaseConflictError,
  type EventPort,
  type LeasePort,
  type LeaseRecord,
  type MetricsSink,
  type Notifier,
  type ObjectRef,
  type WebhookPayload,
} from '../../src/unattended/ports.js';

/** One Lease kept in memory, with optimistic concurrency like the API server's. */
export class FakeLeaseStore implements LeasePort {
  lease: LeaseRecord | undefined;
  private version = 0;
  readonly writes: LeaseRecord[] = [];
  /** Thrown by the next write (then cleared), to inject API failures. */
  failNextWrites: Error[] = [];
  /** Called before each write: lets a test change the Lease under the writer's feet (a racing run). */
  beforeWrite: (() => void) | undefined;

  constructor(initial?: Omit<LeaseRecord, 'resourceVersion'>) {
    if (initial) this.put(initial);
  }

  /** Sets the Lease as another writer would, bumping the resourceVersion. */
  put(lease: Omit<LeaseRecord, 'resourceVersion'>): LeaseRecord {
    this.lease = { ...lease, resourceVersion: String(++this.version) };
    return this.lease;
  }

  getLease(namespace: string, name: string): Promise<LeaseRecord | undefined> {
    const lease = this.lease && this.lease.namespace === namespace && this.lease.name === name ? { ...this.lease } : undefined;
    return Promise.resolve(lease);
  }

  createLease(lease: LeaseRecord): Promise<LeaseRecord> {
    return this.write(() => {
      if (this.lease) throw new LeaseConflictError('already exists');
      return this.put(lease);
    });
  }

  replaceLease(lease: LeaseRecord): Promise<LeaseRecord> {
    return this.write(() => {
      if (!this.lease || this.lease.resourceVersion !== lease.resourceVersion) throw new LeaseConflictError('stale resourceVersion');
      return this.put(lease);
    });
  }

  private write(apply: () => LeaseRecord): Promise<LeaseRecord> {
    this.beforeWrite?.();
    const failure = this.failNextWrites.shift();
    if (failure) return Promise.reject(failure);
    try {
      const written = apply();
      this.writes.push(written);
      return Promise.resolve({ ...written });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/** Records Events; `fail` makes every write throw. */
export class FakeEvents implements EventPort {
  readonly events: EventRecord[] = [];
  fail: Error | undefined;
  constructor(
    private readonly jobs: Record<string, ObjectRef> = {},
    private readonly certificate: ObjectRef | undefined = {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      namespace: 'cert-manager',
      name: 'linkerd-trust-anchor',
      uid: 'cert-uid',
    },
  ) {}

  createEvent(event: EventRecord): Promise<void> {
    if (this.fail) return Promise.reject(this.fail);
    this.events.push(event);
    return Promise.resolve();
  }

  ownerJob(namespace: string, podName: string): Promise<ObjectRef | undefined> {
    return Promise.resolve(this.jobs[`${namespace}/${podName}`]);
  }

  certificateRef(): Promise<ObjectRef | undefined> {
    return Promise.resolve(this.certificate);
  }

  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

export class FakeMetricsSink implements MetricsSink {
  readonly pushes: { exposition: string; mode: 'replace' | 'merge' }[] = [];
  fail: Error | undefined;
  /** Records the text the real Pushgateway client would send: the registry's exposition. */
  async push(metrics: Registry, mode: 'replace' | 'merge'): Promise<void> {
    if (this.fail) throw this.fail;
    this.pushes.push({ exposition: await metrics.metrics(), mode });
  }
}

export class FakeNotifier implements Notifier {
  readonly sent: WebhookPayload[] = [];
  fail: Error | undefined;
  send(payload: WebhookPayload): Promise<void> {
    if (this.fail) return Promise.reject(this.fail);
    this.sent.push(payload);
    return Promise.resolve();
  }
}
