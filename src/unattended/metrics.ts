import { Gauge, Registry } from 'prom-client';
import type { Phase } from '../rotation/plan.js';
import type { ObservedState } from '../rotation/state.js';
import type { Health, StatusReport } from '../status/report.js';
import { rotationDueAt, type RotationPolicy } from './policy.js';
import type { RunReport } from './recorder.js';

/** One sample of a metric family. */
interface Sample {
  labels?: Record<string, string>;
  value: number;
}

/**
 * A metric family of the model, before prom-client renders it. Gauges only: a pushed counter
 * restarts at 0 on every push, which Prometheus reads as a reset (see runFamilies).
 */
export interface Family {
  name: string;
  help: string;
  type: 'gauge';
  samples: Sample[];
}

/** Every metric's name starts with it. */
const metricPrefix = 'linkerd_cert_rotator_';

// Every value of these unions: a Record over the type fails to compile when a new one is added.
const phaseSet: Record<Phase, true> = {
  steady: true,
  'anchor-renewing': true,
  'anchor-renewed': true,
  'issuer-renewing': true,
  'issuer-renewed': true,
  'bundle-trimmed': true,
  inconsistent: true,
};
const healthSet: Record<Health, true> = { healthy: true, warning: true, broken: true };
const phases = Object.keys(phaseSet) as Phase[];
const healths = Object.keys(healthSet) as Health[];

/**
 * The families as a prom-client Registry, one Gauge each; a family without samples is left out
 * (an absent series, not a 0). prom-client checks metric and label names; the rules it does not
 * know (a gauge is not named like a counter, no reserved `__` label) throw here. All are
 * programming errors.
 */
export function registryOf(families: readonly Family[]): Registry {
  const registry = new Registry();
  for (const family of families) {
    if (family.name.endsWith('_total')) throw new Error(`gauge "${family.name}" must not end in _total (a counter's suffix)`);
    if (family.samples.length === 0) continue;
    const labelNames = [...new Set(family.samples.flatMap((s) => Object.keys(s.labels ?? {})))];
    const reserved = labelNames.find((name) => name.startsWith('__'));
    if (reserved) throw new Error(`invalid label name "${reserved}" on ${family.name}`);
    const metric = new Gauge({ name: family.name, help: family.help, labelNames, registers: [registry] });
    for (const sample of family.samples) metric.set(sample.labels ?? {}, sample.value);
  }
  return registry;
}

/**
 * The families as exposition text (0.0.4), as prom-client writes it; empty when no family has a sample.
 * @internal exported for its unit tests
 */
export async function exposition(families: readonly Family[]): Promise<string> {
  const registry = registryOf(families);
  return registry.getMetricsAsArray().length === 0 ? '' : registry.metrics();
}

const seconds = (date: Date): number => date.getTime() / 1000;
const gauge = (name: string, help: string, samples: Sample[]): Family => ({ name: metricPrefix + name, help, type: 'gauge', samples });

/**
 * One reading of the cluster as every sink reports it (the status gauges, the run's push, the
 * last Event and the notification's "phase now"): built once by snapshotOf from the state and the
 * status judged from it, so no fact is computed twice.
 */
export interface Snapshot {
  now: Date;
  anchor: { fingerprint: string; notBefore: Date; notAfter: Date };
  issuer: { notBefore: Date; notAfter: Date };
  phase: Phase;
  health: Health;
  stalePods: number;
  meshedPods: number;
  rotationDueAt?: Date;
  /** When cert-manager renews the issuer on its own; absent when it never does. */
  issuerRenewalAt?: Date;
}

/** A snapshot from an observed state and the status built from it: the judged facts (phase, health, stale pods, the issuer's renewal) come from the status. */
export function snapshotOf(
  state: Pick<ObservedState, 'now' | 'anchor' | 'issuer'>,
  report: Pick<StatusReport, 'phase' | 'health' | 'stale' | 'pods' | 'issuer'>,
  policy?: RotationPolicy,
): Snapshot {
  const { cert: anchor } = state.anchor;
  const renewalAt = report.issuer.renewalTime;
  return {
    now: state.now,
    anchor: { fingerprint: anchor.fingerprint, notBefore: anchor.notBefore, notAfter: anchor.notAfter },
    issuer: { notBefore: state.issuer.cert.notBefore, notAfter: state.issuer.cert.notAfter },
    phase: report.phase,
    health: report.health,
    stalePods: report.stale.length,
    meshedPods: report.pods.meshed,
    ...(policy ? { rotationDueAt: rotationDueAt(anchor, policy) } : {}),
    ...(renewalAt ? { issuerRenewalAt: new Date(renewalAt) } : {}),
  };
}

/**
 * Certificate, policy and mesh gauges: what `status --output prometheus` prints.
 * @internal exported for its unit tests
 */
export function snapshotFamilies(s: Snapshot): Family[] {
  const roles = [
    ['anchor', s.anchor],
    ['issuer', s.issuer],
  ] as const;
  return [
    gauge(
      'certificate_not_after_timestamp_seconds',
      'Expiry (notAfter) of the certificate, Unix seconds.',
      roles.map(([role, c]) => ({ labels: { role }, value: seconds(c.notAfter) })),
    ),
    gauge(
      'certificate_not_before_timestamp_seconds',
      'Issue time (notBefore) of the certificate, Unix seconds.',
      roles.map(([role, c]) => ({ labels: { role }, value: seconds(c.notBefore) })),
    ),
    gauge(
      'issuer_renewal_timestamp_seconds',
      'When cert-manager renews the identity issuer on its own (status.renewalTime), Unix seconds; while a rotation waits before gate 1, every stale pod must restart before then.',
      s.issuerRenewalAt ? [{ value: seconds(s.issuerRenewalAt) }] : [],
    ),
    gauge(
      'rotation_due_timestamp_seconds',
      'When the rotation policy makes the next trust-anchor rotation due, Unix seconds.',
      s.rotationDueAt ? [{ value: seconds(s.rotationDueAt) }] : [],
    ),
    gauge(
      'rotation_phase',
      'Phase of the rotation read from the cluster (1 for the current one); steady when no rotation is under way.',
      phases.map((phase) => ({ labels: { phase }, value: phase === s.phase ? 1 : 0 })),
    ),
    healthFamily(s.health),
    gauge('stale_pods', 'Meshed pods that must restart before the current rotation can finish.', [{ value: s.stalePods }]),
    gauge('meshed_pods', 'Meshed pods seen.', [{ value: s.meshedPods }]),
    gauge('observed_timestamp_seconds', 'When these values were read from the cluster, Unix seconds.', [{ value: seconds(s.now) }]),
  ];
}

/** Health as a state set: one sample per value, 1 for the current one. */
function healthFamily(current: Health): Family {
  return gauge(
    'status_health',
    'Health as the status command judges it (1 for the current one).',
    healths.map((health) => ({ labels: { health }, value: health === current ? 1 : 0 })),
  );
}

/** The status gauges: the snapshot's, or only "broken" when the cluster could not be judged. */
export function statusFamilies(snapshot: Snapshot | undefined): Family[] {
  return snapshot ? snapshotFamilies(snapshot) : [healthFamily('broken')];
}

/** What `status --output prometheus` prints (and pushes, see pushStatusMetrics). */
export function statusExposition(snapshot: Snapshot | undefined): Promise<string> {
  return exposition(statusFamilies(snapshot));
}

/**
 * The last run: start, finish, result, steps, restarts. All gauges of that one run (a pushed counter
 * would restart at 0 on every push, which Prometheus reads as a reset). The last success is there
 * only when this run did not fail: the push of a failed run merges, so the previous one stays.
 * @internal exported for its unit tests
 */
export function runFamilies(r: RunReport): Family[] {
  const command = { command: r.command };
  const durations = new Map<string, Sample>();
  for (const step of r.steps) {
    const labels = { step: step.name, purpose: step.purpose ?? '', result: step.result };
    const key = JSON.stringify(labels);
    const sample = durations.get(key) ?? { labels, value: 0 };
    sample.value += step.durationMs / 1000;
    durations.set(key, sample);
  }
  return [
    gauge('last_run_start_timestamp_seconds', 'When the last run started, Unix seconds.', [{ labels: command, value: seconds(r.startedAt) }]),
    gauge('last_run_finish_timestamp_seconds', 'When the last run finished, Unix seconds.', [{ labels: command, value: seconds(r.finishedAt) }]),
    gauge('last_run_duration_seconds', 'How long the last run took.', [{ labels: command, value: (r.finishedAt.getTime() - r.startedAt.getTime()) / 1000 }]),
    gauge(
      'last_success_timestamp_seconds',
      'When the last run that did not fail (succeeded or nothing-to-do) finished, Unix seconds.',
      r.outcome === 'failed' ? [] : [{ labels: command, value: seconds(r.finishedAt) }],
    ),
    gauge('last_run_exit_code', 'Exit code of the last run; result is succeeded, nothing-to-do or failed.', [
      { labels: { ...command, result: r.outcome }, value: r.exitCode },
    ]),
    gauge('last_run_steps', 'Steps the last run executed (including a failed one).', [{ labels: command, value: r.steps.length }]),
    gauge('step_duration_seconds', 'Duration of each step of the last run, summed when a step ran twice.', [...durations.values()]),
    gauge('last_run_workloads_restarted', 'Workloads the last run restarted.', [{ labels: command, value: r.restarted }]),
    gauge('last_run_pods_deleted', 'Stale pods the last run evicted (--delete-stale-pods).', [{ labels: command, value: r.deletedPods }]),
  ];
}

/** What a run pushes: the cluster as the run left it (when it could be read) and the run's own gauges. */
export function runPushFamilies(report: RunReport): Family[] {
  return [...(report.after ? snapshotFamilies(report.after) : []), ...runFamilies(report)];
}

/**
 * How a run's push meets the group: a run that did not fail replaces it (nothing of an older run
 * stays); a failed one merges, so that the last success it does not carry stays (see runFamilies).
 */
export function runPushMode(report: Pick<RunReport, 'outcome'>): 'replace' | 'merge' {
  return report.outcome === 'failed' ? 'merge' : 'replace';
}
