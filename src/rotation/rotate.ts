import type { Finding } from '../certs/index.js';
import type { RotatorConfig } from '../config.js';
import { PreconditionError, StepError } from '../errors.js';
import { inSeconds, throwIfAborted } from '../wait/poll.js';
import { bundleRefusals, bundleWaitRefusal } from './bundle-check.js';
import type { RunContext } from './context.js';
import { refuseUnsafe } from './health.js';
import { derivePlan, type Plan, type PlanStep } from './plan.js';
import { heldOwners, issuerRenewalBeforeGate, issuerRenewalFinding, issuerTiming, newRotationRefusals } from './preflight.js';
import { observe, type ObservedState } from './state.js';
import { renewAnchor, renewIssuer, restartControlPlane, restartDataPlane, updateBundle, waitForBundle } from './steps.js';

/** One executed step, for the log and the result. */
export interface StepRecord {
  step: string;
  purpose?: string;
  durationMs: number;
}

export interface RotationResult<D extends StartDecision = StartDecision> {
  /** The plan as derived before anything ran (what --dry-run prints). */
  plan: Plan;
  findings: Finding[];
  /** Why the new rotation the plan starts may not start, or why its first wait could not end (a dry run reports them; a real run refuses). */
  refusals: string[];
  executed: StepRecord[];
  /** The phase when the run ended. */
  finalPhase: Plan['phase'];
  /** What the start policy decided from the first look (undefined when told to start or not outright). */
  decision?: D;
}

/** Steps beyond this many in one run mean the cluster does not converge: stop rather than loop. */
const maxSteps = 40;
/** The same step for the same purpose more than this often in one run did not take effect. */
const maxRepeats = 2;

/**
 * Told around each step of a run (Events, metrics, notifications). A hook must never throw:
 * reporting a rotation must not fail it.
 */
export interface RotationHooks {
  planned(plan: Plan): Promise<void>;
  stepStarted(step: PlanStep, index: number): Promise<void>;
  stepFinished(step: PlanStep, index: number, record: StepRecord): Promise<void>;
  stepFailed(step: PlanStep, index: number, error: unknown, durationMs: number): Promise<void>;
}

/** A start policy's answer: whether a new rotation may start, with whatever the policy says of why (the result carries it back). */
export interface StartDecision {
  startNew: boolean;
}

/** Whether a new rotation may start from a steady state: always, never, or as a policy decides from the state. */
export type StartNew<D extends StartDecision = StartDecision> = boolean | ((state: ObservedState) => D);

/** Reads the cluster and derives the plan; refuses unsafe certificates before anything else. */
export async function planRotation<D extends StartDecision>(
  ctx: RunContext,
  startNew: StartNew<D>,
): Promise<{ state: ObservedState; plan: Plan; findings: Finding[]; decision?: D }> {
  const state = await observe(ctx.cluster, ctx.config, ctx.clock.now(), ctx);
  const findings = refuseUnsafe(state, ctx.config.expiryWarningDays);
  const decision = typeof startNew === 'function' ? startNew(state) : undefined;
  const start = decision ? decision.startNew : startNew === true;
  const timing = start ? issuerTiming(state, ctx.config.issuerRenewalMarginMs) : undefined;
  const plan = derivePlan(state, {
    startNew: start,
    issuerFirst: timing?.kind === 'renew-first' ? timing.reason : undefined,
    deleteStalePods: ctx.config.deleteStalePods,
  });
  return { state, plan, findings, decision };
}

/**
 * Anything that would strand a rotation after the anchor renewal (a bundle that cannot carry both
 * anchors, pods nobody restarts, linked clusters, the issuer's own schedule): every reason to
 * refuse before any change. `rotate` and `renew-certs --which anchor` both ask it.
 */
export function startRefusals(state: ObservedState, config: RotatorConfig): string[] {
  return [...bundleRefusals(state, config), ...newRotationRefusals(state, config)];
}

/** True when the plan starts a new rotation (renews the anchor from a steady state). */
const startsRotation = (plan: Plan): boolean => plan.steps.some((step) => step.name === 'renew-anchor' && !step.resume);

/** Runs one step of a plan on the context's cluster (the multicluster run calls it per cluster). */
export async function runStep(ctx: RunContext, step: PlanStep): Promise<void> {
  switch (step.name) {
    case 'renew-anchor':
      return renewAnchor(ctx);
    case 'wait-bundle':
      await waitForBundle(ctx);
      return;
    case 'restart-control-plane':
      await restartControlPlane(ctx, step.purpose);
      return;
    case 'restart-data-plane':
      await restartDataPlane(ctx, step.purpose);
      return;
    case 'renew-issuer':
      return renewIssuer(ctx);
    case 'update-bundle':
      return updateBundle(ctx);
  }
}

/**
 * Warnings for a rotation about to start: held pods the user accepted with --accept-held-pods.
 * While a rotation waits before gate 1: the time left until cert-manager renews the issuer.
 */
function startFindings(state: ObservedState, ctx: RunContext, starting: boolean): Finding[] {
  const findings: Finding[] = [];
  const held = starting ? heldOwners(state, ctx.config) : [];
  if (held.length > 0) {
    findings.push({
      severity: 'warning',
      subject: 'data plane',
      message: `${held.length} meshed owner(s) will not be restarted and will stop the rotation at each gate until restarted by hand (--accept-held-pods): ${held.slice(0, 5).join('; ')}${held.length > 5 ? '; ...' : ''}`,
    });
  }
  const renewal = issuerRenewalBeforeGate(state);
  if (renewal) findings.push(issuerRenewalFinding(renewal));
  return findings;
}

/** Paused Deployments would stop the rotation half-way: the refusal before the first change, if any. */
function blockedWorkloadsRefusal(state: ObservedState): string | undefined {
  const paused = state.workloads.filter((w) => w.hold?.kind === 'paused');
  return paused.length > 0 ? `refusing to start a rotation: ${paused.map((w) => w.hold?.message).join('; ')}` : undefined;
}

/** What the run needs of its first look at the cluster, for all of the run. */
interface FirstLook<D> {
  plan: Plan;
  findings: Finding[];
  refusals: string[];
  starting: boolean;
  /** Why a rotation from a steady state may not start (paused Deployments). */
  blocked?: string;
  decision?: D;
}

/**
 * The first plan and everything decided from the state it came from. The state itself (every
 * meshed pod and workload) is not returned: the run would otherwise hold it to its end, beside
 * each step's own look at the cluster.
 */
async function lookFirst<D extends StartDecision>(ctx: RunContext, startNew: StartNew<D>): Promise<FirstLook<D>> {
  const { state, plan, findings, decision } = await planRotation(ctx, startNew);
  const starting = startsRotation(plan);
  findings.push(...startFindings(state, ctx, starting));
  const waitRefusal = bundleWaitRefusal(plan, state.bundle);
  const refusals = starting ? startRefusals(state, ctx.config) : waitRefusal ? [waitRefusal] : [];
  return { plan, findings, refusals, starting, blocked: plan.phase === 'steady' ? blockedWorkloadsRefusal(state) : undefined, decision };
}

/** Runs one step of the loop, logged and told to the hooks, and records how long it took. */
async function runRecordedStep(ctx: RunContext, step: PlanStep, index: number, hooks: RotationHooks | undefined): Promise<StepRecord> {
  const started = ctx.clock.now().getTime();
  ctx.logger.info(`step ${index}: ${step.name}`, { purpose: step.purpose, why: step.why });
  await hooks?.stepStarted(step, index);
  try {
    // Again after the step's Event: a lock lost meanwhile (fencing) or a signal stops the run before the step writes.
    throwIfAborted(ctx.signal);
    await runStep(ctx, step);
  } catch (error) {
    await hooks?.stepFailed(step, index, error, ctx.clock.now().getTime() - started);
    throw error;
  }
  const durationMs = ctx.clock.now().getTime() - started;
  const record = { step: step.name, purpose: step.purpose, durationMs };
  ctx.logger.info(`step ${index} done: ${step.name}`, { purpose: step.purpose, seconds: inSeconds(durationMs) });
  await hooks?.stepFinished(step, index, record);
  return record;
}

/**
 * The whole rotation: derive the plan from the cluster, run its first step, read the cluster
 * again and derive again, until nothing remains. Because every decision comes from the
 * cluster, a run killed anywhere is finished by the next; the anchor is renewed only from a
 * steady state, at most once per run.
 */
export async function rotate<D extends StartDecision = StartDecision>(
  ctx: RunContext,
  options: { dryRun: boolean; startNew?: StartNew<D>; hooks?: RotationHooks },
): Promise<RotationResult<D>> {
  const first = await lookFirst(ctx, options.startNew ?? true);
  const { starting, refusals } = first;
  for (const finding of first.findings) ctx.logger.warn(`${finding.subject}: ${finding.message}`);
  ctx.logger.info(first.plan.summary, { phase: first.plan.phase, steps: first.plan.steps.length });
  await options.hooks?.planned(first.plan);
  if (options.dryRun || first.plan.steps.length === 0) {
    return { plan: first.plan, findings: first.findings, refusals, executed: [], finalPhase: first.plan.phase, decision: first.decision };
  }
  if (refusals.length > 0)
    throw new PreconditionError(
      `refusing to ${starting ? 'start a rotation' : 'run'}, nothing was changed: ${refusals.map((r, i) => `(${i + 1}) ${r}`).join(' ')}`,
    );
  if (first.blocked) throw new PreconditionError(first.blocked);

  const executed: StepRecord[] = [];
  const repeats = new Map<string, number>();
  let plan = first.plan;
  while (plan.steps.length > 0) {
    throwIfAborted(ctx.signal);
    const step = plan.steps[0] as PlanStep;
    const key = `${step.name}/${step.purpose ?? ''}`;
    const count = (repeats.get(key) ?? 0) + 1;
    repeats.set(key, count);
    if (count > maxRepeats || executed.length >= maxSteps) {
      throw new StepError(`step ${key} still remains after running ${count - 1} time(s): the cluster does not reach the expected state (see the logs above)`);
    }
    executed.push(await runRecordedStep(ctx, step, executed.length + 1, options.hooks));
    // A rotation that renewed the issuer first still has its anchor to renew.
    const stillStarting = starting && !executed.some((record) => record.step === 'renew-anchor');
    plan = (await planRotation(ctx, stillStarting)).plan;
  }
  ctx.logger.info('rotation complete', { steps: executed.length, phase: plan.phase });
  return { plan: first.plan, findings: first.findings, refusals, executed, finalPhase: plan.phase, decision: first.decision };
}
