import { AbortedError, ExitCode, exitCodeFor } from '../errors.js';
import type { RotatorConfig } from '../config.js';
import type { Cluster } from '../kube/ports.js';
import type { Logger } from '../log.js';
import type { Plan } from '../rotation/plan.js';
import type { RotationHooks } from '../rotation/rotate.js';
import { observe } from '../rotation/state.js';
import { buildStatus } from '../status/report.js';
import type { Clock } from '../wait/poll.js';
import { nothingToDoReason, resolveEventTarget, rotationStartedNote, runEndedEvent, RunEvents, stepAction, stepEndedNote, stepStartedNote } from './events.js';
import { fenceWrites, LeaseLock, LockLostError } from './lock.js';
import { snapshotOf, type Snapshot } from './metrics.js';
import { lockSpecFor, type UnattendedOptions } from './options.js';
import type { PolicyDecision } from './policy.js';
import type { UnattendedPorts } from './ports.js';
import { publishRun } from './publish.js';
import { RunRecorder, type RunReport } from './recorder.js';
import { errorMessage } from './text.js';

/** What a supervised run needs: the command's own dependencies plus the unattended ports. */
/** What a supervised run needs of the command line (the CLI's Invocation has it). */
export interface SupervisedRun {
  command: string;
  config: RotatorConfig;
  unattended: UnattendedOptions;
}

export interface SupervisedDeps {
  cluster: Cluster;
  logger: Logger;
  clock: Clock;
  signal?: AbortSignal;
  unattended: UnattendedPorts;
  /** Given to the work: the lock's write fence, for adapters beyond `cluster` (a multicluster run's peers). */
  fence?: () => void;
}

/** Hooks handed to the command: the rotation's step hooks and the policy's decision. */
export interface RunHooks extends RotationHooks {
  decided(decision: PolicyDecision): void;
}

type AnyStep = { name: string; purpose?: string; why?: string };

/** The hooks as the supervisor uses them: any step (a single-step command is one), the outcome from the recorder. */
interface Story {
  decided(decision: PolicyDecision): void;
  planned(plan: Plan): Promise<void>;
  stepStarted(step: AnyStep, index: number): Promise<void>;
  stepFinished(): Promise<void>;
  stepFailed(step: unknown, index: unknown, error: unknown): Promise<void>;
}

/** Turns hook calls into the recorder's story and Events, as they happen; `explain` names why a step stopped. */
function storyHooks(recorder: RunRecorder, events: RunEvents, explain: (error: unknown) => Error): Story {
  return {
    decided: (decision) => {
      recorder.decision = decision;
    },
    planned: async (plan: Plan) => {
      recorder.plan = plan;
      if (plan.steps.length > 0)
        await events.emit('Normal', 'RotationStarted', 'Rotate', rotationStartedNote(plan, recorder.decision, recorder.identity.holder));
    },
    stepStarted: async (step: AnyStep, index: number) => {
      recorder.stepStarted(step, index);
      await events.emit('Normal', 'StepStarted', stepAction(step.name), stepStartedNote(step, index, recorder.plan?.steps.length));
    },
    stepFinished: async () => {
      const step = recorder.stepEnded('succeeded');
      if (step) await events.emit('Normal', 'StepSucceeded', stepAction(step.name), stepEndedNote(step));
    },
    stepFailed: async (_step, _index, error) => {
      const step = recorder.stepEnded('failed', explain(error));
      if (step) await events.emit('Warning', 'StepFailed', stepAction(step.name), stepEndedNote(step));
    },
  };
}

/**
 * The error a stopped run reports: a lost lock or a signal says so, however the abort surfaced
 * (a wait's AbortedError, or an API call's retry giving up with the signal's reason).
 */
function explainStop(error: unknown, signal: AbortSignal | undefined, lock: LeaseLock): Error {
  const lost = lock.lostBecause;
  if (lost && error instanceof AbortedError && error.signal === 'lock-lost') return new LockLostError(`stopped: the rotation lock was lost (${lost})`);
  if (signal?.aborted && !(error instanceof AbortedError)) return new AbortedError(typeof signal.reason === 'string' ? signal.reason : 'SIGTERM');
  return error instanceof Error ? error : new Error(errorMessage(error));
}

/** The cluster as the run left it, for its report; undefined when it cannot be read (after SIGTERM, say). */
async function lookAfter(deps: SupervisedDeps, invocation: SupervisedRun): Promise<Snapshot | undefined> {
  try {
    const state = await observe(deps.cluster, invocation.config, deps.clock.now());
    return snapshotOf(state, buildStatus(state, invocation.config.expiryWarningDays, invocation.config), invocation.unattended.policy);
  } catch (error) {
    deps.logger.warn('could not read the cluster after the run: metrics lack the certificate gauges', { error: errorMessage(error) });
    return undefined;
  }
}

/**
 * Runs one mutating command unattended: takes the rotation lock (or fails with LockedError),
 * tells its story in Events while it works, then releases the lock, pushes metrics and
 * notifies. The lock lost mid-run aborts the work at its next safe point. Reporting never
 * changes the outcome: the command's exit code or error comes back unchanged.
 */
export async function supervise<D extends SupervisedDeps>(
  invocation: SupervisedRun,
  deps: D,
  work: (deps: D, hooks: RunHooks) => Promise<ExitCode>,
): Promise<ExitCode> {
  const { clock, logger, unattended: ports } = deps;
  const { identity } = ports;
  logger.info('run started', { command: invocation.command, runId: identity.runId, holder: identity.holder });
  const lock = new LeaseLock(ports.lease, lockSpecFor(invocation.unattended, identity, invocation.config), { clock, logger, holders: ports.holders });
  await lock.acquire(deps.signal);

  const recorder = new RunRecorder(invocation.command, identity, clock);
  const rotation = invocation.command === 'rotate';
  let code: ExitCode = ExitCode.failed;
  let failure: Error | undefined;
  let report: RunReport | undefined;
  try {
    const events = new RunEvents(ports.events, await resolveEventTarget(ports.events, identity, invocation.config, logger), identity, { clock, logger });
    const explain = (error: unknown): Error => explainStop(error, deps.signal, lock);
    const hooks = storyHooks(recorder, events, explain);
    const signal = deps.signal ? AbortSignal.any([deps.signal, lock.lost]) : lock.lost;
    const single = { name: invocation.command, why: 'a single step run by hand' };
    try {
      // rotate reports its own steps through the hooks; a single-step command is one step.
      if (!rotation) await hooks.stepStarted(single, 1);
      // Fencing: no write once the lock is lost, even in the middle of a step.
      // The fence wraps the adapter itself, inside the recorder, so that it also guards each retry of a write.
      code = await work({ ...deps, cluster: recorder.wrap(fenceWrites(deps.cluster, () => lock.assertHeld())), signal, fence: () => lock.assertHeld() }, hooks);
      if (!rotation) await hooks.stepFinished();
    } catch (error) {
      failure = explain(error);
      if (!rotation) await hooks.stepFailed(single, 1, failure);
    }
    const after = await lookAfter(deps, invocation);
    const outcome = failure !== undefined ? 'failed' : rotation && recorder.stepCount === 0 ? 'nothing-to-do' : 'succeeded';
    report = recorder.report({ outcome, exitCode: failure !== undefined ? exitCodeFor(failure) : code, error: failure, after });
    if (outcome === 'nothing-to-do') logger.info(`nothing to do: ${nothingToDoReason(report)}`);
    if (rotation) {
      const ended = runEndedEvent(report);
      await events.emit(ended.type, ended.reason, ended.action, ended.note);
    }
  } finally {
    await lock.release();
  }
  if (report) await publishRun(deps, report, invocation.unattended.clusterName);
  if (failure !== undefined) throw failure;
  return code;
}
