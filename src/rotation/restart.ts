import { StepError } from '../errors.js';
import type { WorkloadRef } from '../kube/model.js';
import { inBatches, inSeconds, waitUntil } from '../wait/poll.js';
import { waitOptions, type RunContext } from './context.js';
import type { MeshWorkload } from './mesh.js';
import { RestartProgress, type RestartLabel } from './progress.js';
import { rolloutState } from './rollout.js';
import { RolloutWatch } from './rollout-watch.js';

const refName = (ref: WorkloadRef): string => `${ref.kind} ${ref.namespace}/${ref.name}`;

/**
 * Restarts one workload like `kubectl rollout restart` and waits like `kubectl rollout status`,
 * reading it from the pass's watch when it can and with a GET when it cannot.
 */
async function restartAndWait(ctx: RunContext, target: MeshWorkload, watch: RolloutWatch): Promise<number> {
  const ref: WorkloadRef = { kind: target.workload.kind, namespace: target.workload.namespace, name: target.workload.name };
  if (target.hold) throw new StepError(target.hold.message);
  watch.track(ref);
  try {
    const spanBefore = watch.span(ref.kind);
    const patched = await ctx.cluster.restartWorkload(ref, ctx.clock.now().toISOString());
    watch.saw(ref, patched, spanBefore);
    const options = waitOptions(ctx, `${refName(ref)} to roll out`, ctx.config.rolloutTimeoutMs);
    const waited = await waitUntil(
      async () => {
        const current = watch.latest(ref) ?? { workload: await ctx.cluster.getWorkload(ref) };
        if (!current.workload) throw new StepError(`${refName(ref)} was deleted during its restart`);
        const state = rolloutState(current.workload, patched.generation);
        if (state.state === 'failed') throw new StepError(`${refName(ref)}: ${state.reason}`);
        return state.state === 'done' ? { done: true, value: undefined } : { done: false, waitingFor: `${refName(ref)}: ${state.waitingFor}` };
      },
      { ...options, nap: (ms, signal) => watch.nextChange(ref, ms, (pause, abort) => ctx.clock.sleep(pause, abort), signal) },
    );
    ctx.logger.info('restarted', { workload: refName(ref), role: target.role, waitedSeconds: inSeconds(waited.waitedMs) });
    return waited.waitedMs;
  } finally {
    watch.untrack(ref);
  }
}

/**
 * Restarts workloads with bounded concurrency, a new one starting as soon as one finishes;
 * returns how many and the total time waited. The pass's rollouts are watched through at
 * most one watch per workload kind, opened for the pass and closed after it. With `notBefore`,
 * the first restart waits until then (at most a second: see gates.restartNotBefore).
 */
export async function restartAll(
  ctx: RunContext,
  targets: readonly MeshWorkload[],
  concurrency: number,
  notBefore?: Date,
  label: RestartLabel = { step: 'restart' },
): Promise<{ restarted: number; waitedMs: number }> {
  if (targets.length === 0) return { restarted: 0, waitedMs: 0 };
  const started = ctx.clock.now().getTime();
  const watch = await RolloutWatch.open(
    ctx,
    targets.map((target) => target.workload.kind),
  );
  try {
    // Opening the watches first lets the two waits overlap.
    const early = notBefore ? notBefore.getTime() - ctx.clock.now().getTime() : 0;
    if (early > 0) {
      ctx.logger.debug('waiting for the next second before restarting, so new pods are surely later than the gate reference', { ms: early });
      await ctx.clock.sleep(early, ctx.signal);
    }
    const progress = new RestartProgress(label, targets.length, ctx.clock);
    const shown = ctx.progress?.watch(progress);
    try {
      await inBatches(targets, concurrency, async (target) => {
        progress.start(target.key, `${target.workload.namespace}/${target.workload.name}`);
        let done = false;
        try {
          await restartAndWait(ctx, target, watch);
          done = true;
        } finally {
          progress.end(target.key, done);
        }
      });
    } finally {
      shown?.stop();
    }
  } finally {
    watch.close();
  }
  return { restarted: targets.length, waitedMs: ctx.clock.now().getTime() - started };
}
