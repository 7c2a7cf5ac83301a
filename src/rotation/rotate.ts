import type { Finding } from '../certs/index.js';
import { PreconditionError, StepError } from '../errors.js';
import { inSeconds, throwIfAborted } from '../wait/poll.js';
import { bundleRefusals } from './bundle-check.js';
import type { RunContext } from './context.js';
import { refuseUnsafe } from './health.js';
import { derivePlan, type Plan, type PlanStep } from './plan.js';
import { observe, type ObservedState } from './state.js';
import { renewAnchor, renewIssuer, restartControlPlane, restartDataPlane, updateBundle, waitForBundle } from './steps.js';

/** One executed step, for the log and the result. */
export interface StepRecord {
  step: string;
  purpose?: string;
  durationMs: number;
}

export interface RotationResult {
  /** The plan as derived before anything ran (what --dry-run prints). */
  plan: Plan;
  findings: Finding[];
  executed: StepRecord[];
  /** The phase when the run ended. */
  finalPhase: Plan['phase'];
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

/** Whether a new rotation may start from a steady state: always, never, or as a policy decides from the state. */
export type StartNew = boolean | ((state: ObservedState) => boolean);

/** Reads the cluster and derives the plan; refuses unsafe certificates before anything else. */
export async function planRotation(ctx: RunContext, startNew: StartNew): Promise<{ state: ObservedState; plan: Plan; findings: Finding[] }> {
  const state = await observe(ctx.cluster, ctx.config, ctx.clock.now());
  const findings = refuseUnsafe(state, ctx.config.expiryWarningDays);
  return { state, plan: derivePlan(state, { startNew: typeof startNew === 'function' ? startNew(state) : startNew }), findings };
}

async function runStep(ctx: RunContext, step: PlanStep): Promise<void> {
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
 * Meshed pods the rotator will not restart (opted out, outside the restart scope, bare, Jobs,
 * OnDelete) hold both gates: say so before a new rotation starts, so the plan is not a surprise.
 */
function heldPodFindings(state: ObservedState): Finding[] {
  const held = new Map<string, string>();
  for (const pod of state.pods) if (pod.hold && !pod.pod.terminating) held.set(`${pod.pod.namespace}/${pod.owner}`, pod.hold);
  if (held.size === 0) return [];
  const examples = [...held.values()].slice(0, 5).join('; ');
  return [
    {
      severity: 'warning',
      subject: 'data plane',
      message: `${held.size} meshed owner(s) will not be restarted and will stop the rotation at each gate until restarted by hand: ${examples}${held.size > 5 ? '; ...' : ''}`,
    },
  ];
}

/** Paused Deployments would stop the rotation half-way: refuse before the first change. */
function refuseBlockedWorkloads(state: ObservedState): void {
  const paused = state.workloads.filter((w) => w.hold?.kind === 'paused');
  if (paused.length > 0) throw new PreconditionError(`refusing to start a rotation: ${paused.map((w) => w.hold?.message).join('; ')}`);
}

/**
 * The whole rotation: derive the plan from the cluster, run its first step, read the cluster
 * again and derive again, until nothing remains. Because every decision comes from the
 * cluster, a run killed anywhere is finished by the next; the anchor is renewed only from a
 * steady state, at most once per run.
 */
export async function rotate(ctx: RunContext, options: { dryRun: boolean; startNew?: StartNew; hooks?: RotationHooks }): Promise<RotationResult> {
  const first = await planRotation(ctx, options.startNew ?? true);
  const startsNew = first.plan.steps.some((step) => step.name === 'renew-anchor' && !step.resume);
  if (startsNew) first.findings.push(...heldPodFindings(first.state));
  for (const finding of first.findings) ctx.logger.warn(`${finding.subject}: ${finding.message}`);
  ctx.logger.info(first.plan.summary, { phase: first.plan.phase, steps: first.plan.steps.length });
  // A bundle that cannot carry the new anchor (or keep the old one) strands the rotation after the
  // renewal: refuse before anything changes, and a dry run says so too.
  const refusals = startsNew ? bundleRefusals(first.state, ctx.config) : [];
  if (refusals.length > 0) throw new PreconditionError(`refusing to start a rotation: ${refusals.join('; ')}`);
  await options.hooks?.planned(first.plan);
  if (options.dryRun || first.plan.steps.length === 0) {
    return { plan: first.plan, findings: first.findings, executed: [], finalPhase: first.plan.phase };
  }
  if (first.plan.phase === 'steady') refuseBlockedWorkloads(first.state);

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
    const started = ctx.clock.now().getTime();
    const index = executed.length + 1;
    ctx.logger.info(`step ${index}: ${step.name}`, { purpose: step.purpose, why: step.why });
    await options.hooks?.stepStarted(step, index);
    try {
      await runStep(ctx, step);
    } catch (error) {
      await options.hooks?.stepFailed(step, index, error, ctx.clock.now().getTime() - started);
      throw error;
    }
    const durationMs = ctx.clock.now().getTime() - started;
    executed.push({ step: step.name, purpose: step.purpose, durationMs });
    ctx.logger.info(`step ${executed.length} done: ${step.name}`, { purpose: step.purpose, seconds: inSeconds(durationMs) });
    await options.hooks?.stepFinished(step, index, executed[executed.length - 1] as StepRecord);
    plan = (await planRotation(ctx, false)).plan;
  }
  ctx.logger.info('rotation complete', { steps: executed.length, phase: plan.phase });
  return { plan: first.plan, findings: first.findings, executed, finalPhase: plan.phase };
}
