import type { Cluster } from '../kube/ports.js';
import type { Plan } from '../rotation/plan.js';
import type { Snapshot } from './metrics.js';
import type { Clock } from '../wait/poll.js';
import type { PolicyDecision } from './policy.js';
import type { RunIdentity } from './ports.js';
import { errorMessage } from './text.js';

/** A change the run made to the cluster, as "Kind namespace/name". */
export interface Write {
  kind: 'restart' | 'delete-pod' | 'trigger-issuance' | 'write-secret';
  object: string;
}

/** One step as it ran. */
export interface StepOutcome {
  index: number;
  name: string;
  purpose?: string;
  startedAt: Date;
  durationMs: number;
  result: 'succeeded' | 'failed';
  writes: Write[];
  error?: string;
}

/** How a run ended: metrics' `result` label, the final Event's reason, whether to notify. */
export type RunOutcome = 'succeeded' | 'nothing-to-do' | 'failed';

/**
 * The story of one run and the cluster as it left it: the one model the run's Events, metrics
 * and notification are rendered from. Never holds key material.
 */
export interface RunReport {
  command: string;
  runId: string;
  holder: string;
  startedAt: Date;
  finishedAt: Date;
  outcome: RunOutcome;
  exitCode: number;
  /** The failure's message (already free of key material: errors never carry it). */
  error?: string;
  decision?: PolicyDecision;
  plan?: Pick<Plan, 'phase' | 'summary'> & { steps: number };
  steps: StepOutcome[];
  anchorBefore?: string;
  /** The cluster read after the run; absent when it could not be read (after SIGTERM, say). */
  after?: Snapshot;
  restarted: number;
  deletedPods: number;
}

/** Collects steps and writes while a run works; `report` turns them into a RunReport. */
export class RunRecorder {
  readonly startedAt: Date;
  decision: PolicyDecision | undefined;
  plan: Plan | undefined;
  private readonly steps: StepOutcome[] = [];
  private readonly writes: Write[] = [];
  private current: { index: number; name: string; purpose?: string; startedAt: Date; from: number } | undefined;

  constructor(
    readonly command: string,
    readonly identity: RunIdentity,
    private readonly clock: Clock,
  ) {
    this.startedAt = clock.now();
  }

  /** The cluster port with every write noted, so Events can say which objects a step changed. */
  wrap(cluster: Cluster): Cluster {
    return new RecordingCluster(cluster, (write) => this.writes.push(write));
  }

  /** Steps begun so far (finished or failed). */
  get stepCount(): number {
    return this.steps.length + (this.current ? 1 : 0);
  }

  stepStarted(step: { name: string; purpose?: string }, index: number): void {
    this.current = { index, name: step.name, purpose: step.purpose, startedAt: this.clock.now(), from: this.writes.length };
  }

  /** Closes the step begun last; undefined when none is open. */
  stepEnded(result: StepOutcome['result'], error?: unknown): StepOutcome | undefined {
    const current = this.current;
    if (!current) return undefined;
    this.current = undefined;
    const outcome: StepOutcome = {
      index: current.index,
      name: current.name,
      purpose: current.purpose,
      startedAt: current.startedAt,
      durationMs: this.clock.now().getTime() - current.startedAt.getTime(),
      result,
      writes: this.writes.slice(current.from),
      ...(error === undefined ? {} : { error: errorMessage(error) }),
    };
    this.steps.push(outcome);
    return outcome;
  }

  report(end: { outcome: RunOutcome; exitCode: number; error?: unknown; after?: Snapshot }): RunReport {
    if (this.current) this.stepEnded('failed', end.error);
    return {
      command: this.command,
      runId: this.identity.runId,
      holder: this.identity.holder,
      startedAt: this.startedAt,
      finishedAt: this.clock.now(),
      outcome: end.outcome,
      exitCode: end.exitCode,
      ...(end.error === undefined ? {} : { error: errorMessage(end.error) }),
      decision: this.decision,
      plan: this.plan && { phase: this.plan.phase, summary: this.plan.summary, steps: this.plan.steps.length },
      steps: [...this.steps],
      anchorBefore: this.decision?.anchor.fingerprint,
      ...(end.after ? { after: end.after } : {}),
      restarted: this.writes.filter((w) => w.kind === 'restart').length,
      deletedPods: this.writes.filter((w) => w.kind === 'delete-pod').length,
    };
  }
}

/** Delegates every call; notes the writes. */
class RecordingCluster implements Cluster {
  constructor(
    private readonly inner: Cluster,
    private readonly note: (write: Write) => void,
  ) {}

  getCertificate: Cluster['getCertificate'] = (namespace, name) => this.inner.getCertificate(namespace, name);
  listCertificateRequests: Cluster['listCertificateRequests'] = (namespace) => this.inner.listCertificateRequests(namespace);
  getSecret: Cluster['getSecret'] = (namespace, name) => this.inner.getSecret(namespace, name);
  getBundle: Cluster['getBundle'] = (name) => this.inner.getBundle(name);
  listNamespaces: Cluster['listNamespaces'] = (labelSelector) => this.inner.listNamespaces(labelSelector);
  getConfigMapValue: Cluster['getConfigMapValue'] = (namespace, name, key) => this.inner.getConfigMapValue(namespace, name, key);
  listMeshedPods: Cluster['listMeshedPods'] = (keep) => this.inner.listMeshedPods(keep);
  listWorkloads: Cluster['listWorkloads'] = (namespace, labelSelector, keep) => this.inner.listWorkloads(namespace, labelSelector, keep);
  getWorkload: Cluster['getWorkload'] = (ref) => this.inner.getWorkload(ref);
  listLinks: Cluster['listLinks'] = () => this.inner.listLinks();
  watchWorkloads: Cluster['watchWorkloads'] = (kind, onChange) => this.inner.watchWorkloads(kind, onChange);

  triggerIssuance: Cluster['triggerIssuance'] = async (namespace, name, now) => {
    await this.inner.triggerIssuance(namespace, name, now);
    this.note({ kind: 'trigger-issuance', object: `Certificate ${namespace}/${name}` });
  };

  restartWorkload: Cluster['restartWorkload'] = async (ref, restartedAt) => {
    const patched = await this.inner.restartWorkload(ref, restartedAt);
    this.note({ kind: 'restart', object: `${ref.kind} ${ref.namespace}/${ref.name}` });
    return patched;
  };

  writeCertificateOnlySecret: Cluster['writeCertificateOnlySecret'] = async (namespace, name, pem, labels) => {
    const result = await this.inner.writeCertificateOnlySecret(namespace, name, pem, labels);
    this.note({ kind: 'write-secret', object: `Secret ${namespace}/${name}` });
    return result;
  };

  evictPod: Cluster['evictPod'] = async (pod) => {
    const outcome = await this.inner.evictPod(pod);
    // Only an eviction that went through deleted a pod; a refused one changed nothing.
    if (outcome.result === 'evicted') this.note({ kind: 'delete-pod', object: `Pod ${pod.namespace}/${pod.name}` });
    return outcome;
  };
}
