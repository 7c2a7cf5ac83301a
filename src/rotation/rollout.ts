import type { Workload } from '../kube/model.js';

/** Where a rollout stands, as `kubectl rollout status` would judge it. */
export type RolloutState = { state: 'done' } | { state: 'progressing'; waitingFor: string } | { state: 'failed'; reason: string };

/** Why a workload cannot be restarted by a rollout, or undefined when it can. */
export function restartRefusal(workload: Workload): string | undefined {
  if (workload.kind === 'Deployment' && workload.paused) {
    return `Deployment ${workload.namespace}/${workload.name} is paused: resume it (kubectl rollout resume) or opt it out`;
  }
  if (workload.kind !== 'Deployment' && workload.strategy === 'OnDelete') {
    return `${workload.kind} ${workload.namespace}/${workload.name} uses the OnDelete update strategy: a rollout restart would not replace its pods`;
  }
  return undefined;
}

/**
 * Judges a rollout after a restart patch that returned `generation`, with the rules of
 * `kubectl rollout status` for Deployments, StatefulSets and DaemonSets.
 */
// eslint-disable-next-line complexity -- kubectl's rollout-status rules for three kinds, side by side as kubectl has them; split, they could drift apart
export function rolloutState(workload: Workload, generation: number): RolloutState {
  const status = workload.status;
  if ((status.observedGeneration ?? 0) < Math.max(generation, workload.generation)) {
    return { state: 'progressing', waitingFor: 'the controller to observe the new generation' };
  }
  switch (workload.kind) {
    case 'Deployment': {
      const progressing = status.conditions.find((condition) => condition.type === 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded') {
        return { state: 'failed', reason: `Deployment ${workload.namespace}/${workload.name} exceeded its progress deadline` };
      }
      const want = workload.specReplicas ?? 1;
      const updated = status.updatedReplicas ?? 0;
      if (updated < want) return { state: 'progressing', waitingFor: `${updated} of ${want} updated replicas` };
      const total = status.replicas ?? 0;
      if (total > updated) return { state: 'progressing', waitingFor: `${total - updated} old replicas to terminate` };
      const available = status.availableReplicas ?? 0;
      if (available < updated) return { state: 'progressing', waitingFor: `${available} of ${updated} updated replicas available` };
      return { state: 'done' };
    }
    case 'DaemonSet': {
      if (workload.strategy !== 'RollingUpdate') return { state: 'failed', reason: 'rollout status is only available for the RollingUpdate strategy' };
      const desired = status.desiredNumberScheduled ?? 0;
      const updated = status.updatedNumberScheduled ?? 0;
      if (updated < desired) return { state: 'progressing', waitingFor: `${updated} of ${desired} updated pods scheduled` };
      const available = status.numberAvailable ?? 0;
      if (available < desired) return { state: 'progressing', waitingFor: `${available} of ${desired} updated pods available` };
      return { state: 'done' };
    }
    case 'StatefulSet': {
      if (workload.strategy !== 'RollingUpdate') return { state: 'failed', reason: 'rollout status is only available for the RollingUpdate strategy' };
      const want = workload.specReplicas ?? 1;
      const ready = status.readyReplicas ?? 0;
      if (ready < want) return { state: 'progressing', waitingFor: `${ready} of ${want} pods ready` };
      if (workload.partition !== undefined && workload.partition > 0) {
        const updated = status.updatedReplicas ?? 0;
        const target = want - workload.partition;
        if (updated < target) return { state: 'progressing', waitingFor: `${updated} of ${target} pods updated (partition ${workload.partition})` };
        return { state: 'done' };
      }
      if (status.updateRevision !== status.currentRevision) {
        return { state: 'progressing', waitingFor: `pods to move to revision ${status.updateRevision ?? '?'}` };
      }
      return { state: 'done' };
    }
  }
}
