import { TimeoutError } from '../errors.js';
import type { PodView } from '../kube/model.js';
import type { EvictionResult, PodIdentity } from '../kube/ports.js';
import { inSeconds, waitUntil, type Check } from '../wait/poll.js';
import { waitOptions, type RunContext } from './context.js';
import type { MeshPod } from './mesh.js';

const podName = (pod: { namespace: string; name: string }): string => `${pod.namespace}/${pod.name}`;

/**
 * Pods evicted one at a time per owner, each replacement ready before the next: a StatefulSet's
 * pods are recreated under the same name, one by one, and its members often form a quorum.
 * Undefined for pods whose replacements need no wait (Jobs, DaemonSets, bare pods).
 * @internal exported for its unit tests
 */
export function sequenceKey(pod: Pick<PodView, 'namespace' | 'owner'>): string | undefined {
  return pod.owner?.kind === 'StatefulSet' ? `StatefulSet/${pod.namespace}/${pod.owner.name}` : undefined;
}

/**
 * Pure: whether the pod that replaced an evicted one (same name, another uid) is there and ready.
 * @internal exported for its unit tests
 */
export function replacementState(evicted: PodIdentity, pods: readonly PodView[]): Check<undefined> {
  const next = pods.find((p) => p.namespace === evicted.namespace && p.name === evicted.name && p.uid !== evicted.uid && !p.terminating);
  if (!next) return { done: false, waitingFor: `the replacement of pod ${podName(evicted)} to be created` };
  return next.ready ? { done: true, value: undefined } : { done: false, waitingFor: `the replacement of pod ${podName(evicted)} to be ready` };
}

/**
 * Pure: an eviction that went through or found the pod gone is done; one a disruption budget refused is awaited.
 * @internal exported for its unit tests
 */
export function evictionState(pod: PodIdentity, outcome: EvictionResult): Check<'evicted' | 'gone'> {
  if (outcome.result === 'blocked') return { done: false, waitingFor: `pod ${podName(pod)}: ${outcome.reason}` };
  return { done: true, value: outcome.result };
}

/**
 * Evicts one pod, again and again while a PodDisruptionBudget refuses it, until --rollout-timeout.
 * Then the run stops (TimeoutError, exit 5) naming the pod and the budget: nothing was bypassed,
 * the pod keeps running and holds the gate, and the next run tries again.
 */
async function evictWhenAllowed(ctx: RunContext, target: MeshPod): Promise<'evicted' | 'gone'> {
  const pod: PodIdentity = { namespace: target.pod.namespace, name: target.pod.name, uid: target.pod.uid };
  let told = false;
  try {
    const waited = await waitUntil(
      async () => {
        const state = evictionState(pod, await ctx.cluster.evictPod(pod));
        if (!state.done && !told) {
          told = true;
          ctx.logger.warn('eviction refused by a PodDisruptionBudget; trying again until the rollout timeout', {
            pod: podName(pod),
            owner: target.owner,
            reason: state.waitingFor,
          });
        }
        return state;
      },
      waitOptions(ctx, `the eviction of stale pod ${podName(pod)} (${target.owner})`, ctx.config.rolloutTimeoutMs),
    );
    return waited.value;
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    throw new TimeoutError(
      `${error.message}. Nothing was bypassed: the pod keeps running and holds the rotation at its gate; let the PodDisruptionBudget allow a disruption or restart the pod by hand, then run again`,
    );
  }
}

/** Waits until the pod that replaced `evicted` is ready (StatefulSet pods, see sequenceKey). */
async function awaitReplacement(ctx: RunContext, evicted: PodIdentity, owner: string): Promise<void> {
  const waited = await waitUntil(
    async () => replacementState(evicted, await ctx.cluster.listMeshedPods()),
    waitOptions(ctx, `the replacement of evicted pod ${podName(evicted)} (${owner}) to be ready before the next pod of ${owner}`, ctx.config.rolloutTimeoutMs),
  );
  ctx.logger.info('replacement ready', { pod: podName(evicted), owner, waitedSeconds: inSeconds(waited.waitedMs) });
}

/**
 * Evicts stale pods no rollout restarts (--delete-stale-pods), in order, through the Eviction API:
 * PodDisruptionBudgets are respected, and a StatefulSet's next pod goes only once the last one's
 * replacement is ready. Returns how many were evicted.
 */
export async function evictStalePods(ctx: RunContext, targets: readonly MeshPod[]): Promise<number> {
  const awaiting = new Map<string, PodIdentity>();
  let evicted = 0;
  for (const target of targets) {
    const key = sequenceKey(target.pod);
    const previous = key ? awaiting.get(key) : undefined;
    if (key && previous) {
      await awaitReplacement(ctx, previous, target.owner);
      awaiting.delete(key);
    }
    const outcome = await evictWhenAllowed(ctx, target);
    if (outcome === 'gone') {
      ctx.logger.info('stale pod already gone', { pod: podName(target.pod), owner: target.owner });
      continue;
    }
    evicted++;
    ctx.logger.info('evicted stale pod', { pod: podName(target.pod), owner: target.owner });
    if (key) awaiting.set(key, { namespace: target.pod.namespace, name: target.pod.name, uid: target.pod.uid });
  }
  return evicted;
}
