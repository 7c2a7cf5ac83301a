// supervise(): lock, Events, metrics and notifications around a command, with fakes for every port
// and a stand-in for the command that drives the hooks as rotate() does.
import { parseArgs, type Invocation } from '../../../src/cli/parse.js';
import { AbortedError, ExitCode, LockedError, TimeoutError } from '../../../src/errors.js';
import type { Cluster } from '../../../src/kube/ports.js';
import { silentLogger } from '../../../src/log.js';
import type { Plan, PlanStep } from '../../../src/rotation/plan.js';
import { LockLostError } from '../../../src/unattended/lock.js';
import { decideRotation } from '../../../src/unattended/policy.js';
import type { UnattendedPorts } from '../../../src/unattended/ports.js';
import { supervise, type RunHooks, type SupervisedDeps } from '../../../src/unattended/supervise.js';
import { throwIfAborted } from '../../../src/wait/poll.js';
import { ManualClock } from '../../support/clock.js';
import { workload } from '../../support/state.js';
import { parseExposition, sampleValue } from '../../support/prometheus.js';
import { FakeEvents, FakeLeaseStore, FakeMetricsSink, FakeNotifier } from '../../support/unattended.js';

async function invocation(argv: string[]): Promise<Invocation> {
  const parsed = await parseArgs(argv, {});
  if (parsed.kind !== 'run') throw new Error(parsed.output);
  return parsed.invocation;
}

/** A cluster whose reads fail (the after-run look is best effort) and whose restarts succeed; a fake without the adapter's retry fencing. */
const cluster = new Proxy({} as Cluster, {
  get: (_target, method) =>
    method === 'withWriteFence'
      ? undefined
      : method === 'restartWorkload'
        ? () => Promise.resolve(workload('Deployment', 'shop', 'api', { generation: 2 }))
        : () => Promise.reject(new Error(`${String(method)}: not in this test`)),
});

interface World {
  deps: SupervisedDeps;
  clock: ManualClock;
  lease: FakeLeaseStore;
  events: FakeEvents;
  metrics: FakeMetricsSink;
  notifier: FakeNotifier;
}

function world(): World {
  const clock = new ManualClock();
  const lease = new FakeLeaseStore();
  const events = new FakeEvents();
  const metrics = new FakeMetricsSink();
  const notifier = new FakeNotifier();
  const holders = { alive: (): Promise<boolean | undefined> => Promise.resolve(true) };
  const unattended: UnattendedPorts = {
    identity: { holder: 'job-pod-b', holderRef: { kind: 'pod', namespace: 'linkerd', name: 'job-pod-b' }, runId: 'run-1' },
    lease,
    holders,
    events,
    metrics,
    notifier,
  };
  return { deps: { cluster, logger: silentLogger(), clock, unattended }, clock, lease, events, metrics, notifier };
}

const steps: PlanStep[] = [
  { name: 'renew-anchor', why: 'a new trust anchor' },
  { name: 'restart-data-plane', purpose: 'trust-new-anchor', why: 'proxies read trust anchors only at start-up' },
];
const plan: Plan = { phase: 'steady', summary: 'steady on anchor ab12: a full rotation starts', steps };
const decision = decideRotation(
  {
    anchor: { fingerprint: 'ab'.repeat(32), notBefore: new Date('2025-04-01T00:00:00Z'), notAfter: new Date('2026-04-01T00:00:00Z') },
    phase: 'steady',
    now: new Date('2025-06-01T12:00:00Z'),
  },
  { rotateAfterMs: 25 * 86_400_000, rotateBeforeExpiryMs: 60 * 86_400_000, force: false },
);

/** Does what rotate() does with the hooks; `failAt` throws a rollout timeout in that step. */
function rotation(w: World, failAt?: number): (deps: SupervisedDeps, hooks: RunHooks) => Promise<ExitCode> {
  return async (deps, hooks) => {
    hooks.decided(decision);
    await hooks.planned(plan);
    for (const [i, step] of steps.entries()) {
      const index = i + 1;
      await hooks.stepStarted(step, index);
      await w.clock.advance(3_000);
      if (step.name === 'restart-data-plane') await deps.cluster.restartWorkload({ kind: 'Deployment', namespace: 'shop', name: 'api' }, 'now');
      if (failAt === index) {
        const error = new TimeoutError('timed out after 10s waiting for Deployment shop/api to roll out');
        await hooks.stepFailed(step, index, error, 3_000);
        throw error;
      }
      await hooks.stepFinished(step, index, { step: step.name, purpose: step.purpose, durationMs: 3_000 });
    }
    return ExitCode.ok;
  };
}

describe('supervise', () => {
  it('a rotation: lock held while it works, Events in order, metrics pushed, success notified, lock released', async () => {
    const w = world();
    let heldDuringWork: string | undefined;
    const work = rotation(w);
    const code = await supervise(await invocation(['rotate']), w.deps, async (deps, hooks) => {
      heldDuringWork = w.lease.lease?.holder;
      return work(deps, hooks);
    });
    expect(code).toBe(ExitCode.ok);
    expect(heldDuringWork).toBe('job-pod-b');
    expect(w.lease.lease?.holder).toBeUndefined();
    expect(w.events.reasons()).toEqual(['RotationStarted', 'StepStarted', 'StepSucceeded', 'StepStarted', 'StepSucceeded', 'RotationSucceeded']);
    expect(w.events.events[0]?.note).toContain('Plan (2 steps): renew-anchor → restart-data-plane (trust-new-anchor)');
    expect(w.events.events[0]?.note).toContain('a rotation is due');
    expect(w.events.events[4]?.note).toBe('step 2: restart-data-plane (trust-new-anchor) succeeded after 3s; restarted 1 workload(s): Deployment shop/api');
    expect(w.events.events[0]?.regarding).toMatchObject({ kind: 'Certificate', name: 'linkerd-trust-anchor' });

    expect(w.metrics.pushes.map((p) => p.mode)).toEqual(['replace']);
    const pushed = parseExposition(w.metrics.pushes[0]?.exposition ?? '');
    expect(sampleValue(pushed, 'linkerd_cert_rotator_last_run_exit_code', { command: 'rotate', result: 'succeeded' })).toBe(0);
    expect(sampleValue(pushed, 'linkerd_cert_rotator_last_success_timestamp_seconds', { command: 'rotate' })).toBe(
      sampleValue(pushed, 'linkerd_cert_rotator_last_run_finish_timestamp_seconds'),
    );
    expect(sampleValue(pushed, 'linkerd_cert_rotator_last_run_workloads_restarted')).toBe(1);
    expect(sampleValue(pushed, 'linkerd_cert_rotator_step_duration_seconds', { step: 'renew-anchor' })).toBe(3);
    expect(w.notifier.sent).toHaveLength(1);
    expect(w.notifier.sent[0]?.text).toMatch(/rotate succeeded in 6s/);
  });

  it('nothing due: a NothingToDo Event with the reason, metrics, no notification', async () => {
    const w = world();
    const code = await supervise(await invocation(['rotate']), w.deps, async (_deps, hooks) => {
      hooks.decided({ ...decision, startNew: false, due: false, reason: 'anchor ab12 is 3d old: not due' });
      await hooks.planned({ phase: 'steady', summary: 'steady', steps: [] });
      return ExitCode.ok;
    });
    expect(code).toBe(ExitCode.ok);
    expect(w.events.reasons()).toEqual(['NothingToDo']);
    expect(w.events.events[0]?.note).toBe('nothing to do: anchor ab12 is 3d old: not due');
    const pushed = parseExposition(w.metrics.pushes[0]?.exposition ?? '');
    expect(w.metrics.pushes.map((p) => p.mode)).toEqual(['replace']);
    expect(sampleValue(pushed, 'linkerd_cert_rotator_last_run_exit_code', { result: 'nothing-to-do' })).toBe(0);
    expect(sampleValue(pushed, 'linkerd_cert_rotator_last_success_timestamp_seconds')).toBe(
      sampleValue(pushed, 'linkerd_cert_rotator_last_run_finish_timestamp_seconds'),
    );
    expect(w.notifier.sent).toEqual([]);
  });

  it('a failed step: StepFailed and RotationFailed (Warning), failure notified with where it stopped, lock released, the error unchanged', async () => {
    const w = world();
    const run = supervise(await invocation(['rotate']), w.deps, rotation(w, 2));
    await expect(run).rejects.toThrow(TimeoutError);
    expect(w.events.reasons()).toEqual(['RotationStarted', 'StepStarted', 'StepSucceeded', 'StepStarted', 'StepFailed', 'RotationFailed']);
    expect(w.events.events.slice(-2).map((e) => e.type)).toEqual(['Warning', 'Warning']);
    expect(w.events.events[5]?.note).toMatch(/stopped at step 2 restart-data-plane \(trust-new-anchor\) \(exit code 5\): timed out after 10s/);
    expect(w.notifier.sent[0]?.text).toMatch(/FAILED \(exit code 5/);
    expect(w.notifier.sent[0]?.text).toContain('Stopped at step 2 restart-data-plane (trust-new-anchor)');
    // Merged, not replaced: the Pushgateway keeps the last success, which this push does not carry.
    expect(w.metrics.pushes.map((p) => p.mode)).toEqual(['merge']);
    const pushed = parseExposition(w.metrics.pushes[0]?.exposition ?? '');
    expect(sampleValue(pushed, 'linkerd_cert_rotator_last_run_exit_code', { result: 'failed' })).toBe(5);
    expect(pushed.samples.filter((s) => s.name === 'linkerd_cert_rotator_last_success_timestamp_seconds')).toEqual([]);
    expect(w.lease.lease?.holder).toBeUndefined();
  });

  it('another live run holds the lock: LockedError, and the command never runs or reports', async () => {
    const w = world();
    w.lease.put({ namespace: 'linkerd', name: 'linkerd-cert-rotator', holder: 'job-pod-a', durationSeconds: 120, renewTime: w.clock.now(), transitions: 0 });
    let ran = false;
    const run = supervise(await invocation(['rotate']), w.deps, () => {
      ran = true;
      return Promise.resolve(ExitCode.ok);
    });
    await expect(run).rejects.toThrow(LockedError);
    await expect(run).rejects.toThrow(/held by job-pod-a/);
    expect(ran).toBe(false);
    expect(w.events.events).toEqual([]);
    expect(w.metrics.pushes).toEqual([]);
    expect(w.notifier.sent).toEqual([]);
  });

  it('a single-step command is reported as one step', async () => {
    const w = world();
    const code = await supervise(await invocation(['restart-data-plane']), w.deps, async (deps) => {
      await deps.cluster.restartWorkload({ kind: 'StatefulSet', namespace: 'shop', name: 'db' }, 'now');
      return ExitCode.ok;
    });
    expect(code).toBe(ExitCode.ok);
    expect(w.events.reasons()).toEqual(['StepStarted', 'StepSucceeded']);
    expect(w.events.events[1]?.note).toMatch(/^step 1: restart-data-plane succeeded after .*; restarted 1 workload\(s\): StatefulSet shop\/db$/);
  });

  it('the lock lost mid-run stops the work at its next wait: LockLostError (exit 1), not a signal exit', async () => {
    const w = world();
    const run = supervise(await invocation(['rotate', '--lock-duration', '90s']), w.deps, async (deps) => {
      await w.clock.sleep(600_000, deps.signal);
      throwIfAborted(deps.signal);
      return ExitCode.ok;
    });
    const outcome = expect(run).rejects.toThrow(LockLostError);
    await w.clock.advance(1_000);
    w.lease.put({ namespace: 'linkerd', name: 'linkerd-cert-rotator', holder: 'job-pod-a', durationSeconds: 90, renewTime: w.clock.now(), transitions: 1 });
    await w.clock.advance(30_000);
    await outcome;
    expect(w.lease.lease?.holder).toBe('job-pod-a');
    expect(w.events.reasons()).toEqual(['RotationFailed']);
  });

  it('SIGTERM surfacing as an API failure is reported as the signal (exit 143), and the Lease is released', async () => {
    const w = world();
    const controller = new AbortController();
    const run = supervise(await invocation(['restart-control-plane']), { ...w.deps, signal: controller.signal }, () => {
      controller.abort('SIGTERM');
      return Promise.reject(new Error('get deployments.apps linkerd/linkerd-identity: Non-error was thrown: "SIGTERM"'));
    });
    await expect(run).rejects.toThrow(AbortedError);
    expect(w.events.events[1]?.note).toMatch(/restart-control-plane failed after .*Error: aborted by SIGTERM$/);
    expect(w.lease.lease?.holder).toBeUndefined();
  });

  it('reporting that fails everywhere changes nothing about the outcome', async () => {
    const w = world();
    w.events.fail = new Error('forbidden');
    w.metrics.fail = new Error('connection refused');
    w.notifier.fail = new Error('HTTP 500');
    await expect(supervise(await invocation(['rotate']), w.deps, rotation(w))).resolves.toBe(ExitCode.ok);
    expect(w.lease.lease?.holder).toBeUndefined();
  });
});
