import { StepError } from '../errors.js';
import type { WorkloadRef } from '../kube/model.js';
import { inBatches, waitUntil } from '../wait/poll.js';
import { waitOptions, type RunContext } from './context.js';
import type { MeshWorkload } from './mesh.js';
import { rolloutState } from './rollout.js';

const refName = (ref: WorkloadRef): string => `${ref.kind} ${ref.namespace}/${ref.name}`;

/** Restarts one workload like `kubectl rollout restart` and waits like `kubectl rollout status`. */
export async function restartAndWait(ctx: RunContext, target: MeshWorkload): Promise<number> {
  const ref: WorkloadRef = { kind: target.workload.kind, namespace: target.workload.namespace, name: target.workload.name };
  if (target.hold) throw new StepError(target.hold.message);
  const generation = await ctx.cluster.restartWorkload(ref, ctx.clock.now().toISOString());
  const waited = await waitUntil(async () => {
    const current = await ctx.cluster.getWorkload(ref);
    if (!current) throw new StepError(`${refName(ref)} was deleted during its restart`);
    const state = rolloutState(current, generation);
    if (state.state === 'failed') throw new StepError(`${refName(ref)}: ${state.reason}`);
    return state.state === 'done' ? { done: true, value: undefined } : { done: false, waitingFor: `${refName(ref)}: ${state.waitingFor}` };
  }, waitOptions(ctx, `${refName(ref)} to roll out`, ctx.config.rolloutTimeoutMs));
  ctx.logger.info('restarted', { workload: refName(ref), role: target.role, waitedSeconds: Math.round(waited.waitedMs / 100) / 10 });
  return waited.waitedMs;
}

/** Restarts workloads with bounded concurrency; returns how many and the total time waited. */
export async function restartAll(ctx: RunContext, targets: readonly MeshWorkload[], concurrency: number): Promise<{ restarted: number; waitedMs: number }> {
  if (targets.length === 0) return { restarted: 0, waitedMs: 0 };
  const started = ctx.clock.now().getTime();
  await inBatches(targets, concurrency, (target) => restartAndWait(ctx, target));
  return { restarted: targets.length, waitedMs: ctx.clock.now().getTime() - started };
}
