import type { Workload, WorkloadStatus } from '../../../src/kube/model.js';
import { restartRefusal, rolloutState, type RolloutState } from '../../../src/rotation/rollout.js';
import { workload } from '../../support/state.js';

const status = (fields: Partial<WorkloadStatus>): WorkloadStatus => ({ conditions: [], ...fields });
const progressing = (waitingFor: string): RolloutState => ({ state: 'progressing', waitingFor });
const DONE: RolloutState = { state: 'done' };

// Each case is a workload at generation 2 after a restart patch that returned generation 2.
describe('rolloutState: Deployment (3 replicas)', () => {
  const deployment = (s: Partial<WorkloadStatus>, over: Partial<Workload> = {}): Workload =>
    workload('Deployment', 'shop', 'web', { generation: 2, specReplicas: 3, status: status({ observedGeneration: 2, ...s }), ...over });
  const rolledOut = { replicas: 3, updatedReplicas: 3, availableReplicas: 3 };

  it.each<[string, Workload, RolloutState]>([
    ['controller has not seen the patch', deployment({ ...rolledOut, observedGeneration: 1 }), progressing('the controller to observe the new generation')],
    ['no observedGeneration at all', deployment({ ...rolledOut, observedGeneration: undefined }), progressing('the controller to observe the new generation')],
    [
      'progress deadline exceeded',
      deployment({ ...rolledOut, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }),
      { state: 'failed', reason: 'Deployment shop/web exceeded its progress deadline' },
    ],
    [
      'Progressing for another reason is no failure',
      deployment({ ...rolledOut, conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }] }),
      DONE,
    ],
    ['fewer updated replicas than wanted', deployment({ replicas: 4, updatedReplicas: 1, availableReplicas: 3 }), progressing('1 of 3 updated replicas')],
    ['old replicas remaining', deployment({ replicas: 4, updatedReplicas: 3, availableReplicas: 3 }), progressing('1 old replicas to terminate')],
    [
      'updated replicas not all available',
      deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 2 }),
      progressing('2 of 3 updated replicas available'),
    ],
    ['done', deployment(rolledOut), DONE],
    ['more available than updated is done', deployment({ ...rolledOut, availableReplicas: 4 }), DONE],
    ['scaled to zero', deployment({}, { specReplicas: 0 }), DONE],
    ['replicas unset defaults to one', deployment({ replicas: 1, updatedReplicas: 1, availableReplicas: 1 }, { specReplicas: undefined }), DONE],
  ])('%s', (_name, w, expected) => {
    expect(rolloutState(w, 2)).toEqual(expected);
  });

  it('waits for the generation the patch returned even when the object read is older', () => {
    const staleRead = deployment({ ...rolledOut, observedGeneration: 2 }, { generation: 2 });
    expect(rolloutState(staleRead, 3)).toEqual(progressing('the controller to observe the new generation'));
    expect(rolloutState(staleRead, 2)).toEqual(DONE);
  });

  it('waits for the object generation when the patch returned an older one', () => {
    expect(rolloutState(deployment(rolledOut, { generation: 3 }), 2)).toEqual(progressing('the controller to observe the new generation'));
  });
});

describe('rolloutState: StatefulSet (3 replicas)', () => {
  const sts = (s: Partial<WorkloadStatus>, over: Partial<Workload> = {}): Workload =>
    workload('StatefulSet', 'shop', 'db', { generation: 2, specReplicas: 3, status: status({ observedGeneration: 2, ...s }), ...over });
  const rolledOut = { readyReplicas: 3, updatedReplicas: 3, currentRevision: 'db-2', updateRevision: 'db-2' };

  it.each<[string, Workload, RolloutState]>([
    ['OnDelete', sts(rolledOut, { strategy: 'OnDelete' }), { state: 'failed', reason: 'rollout status is only available for the RollingUpdate strategy' }],
    ['controller has not seen the patch', sts({ ...rolledOut, observedGeneration: 1 }), progressing('the controller to observe the new generation')],
    ['not all ready', sts({ ...rolledOut, readyReplicas: 2 }), progressing('2 of 3 pods ready')],
    [
      'partition 1, one pod updated',
      sts({ ...rolledOut, updatedReplicas: 1, updateRevision: 'db-3' }, { partition: 1 }),
      progressing('1 of 2 pods updated (partition 1)'),
    ],
    [
      'partition 1, two pods updated (revisions differ, as they will)',
      sts({ ...rolledOut, updatedReplicas: 2, updateRevision: 'db-3' }, { partition: 1 }),
      DONE,
    ],
    ['partition 0 behaves as no partition', sts({ ...rolledOut, updateRevision: 'db-3' }, { partition: 0 }), progressing('pods to move to revision db-3')],
    ['revision mismatch', sts({ ...rolledOut, updateRevision: 'db-3' }), progressing('pods to move to revision db-3')],
    ['done', sts(rolledOut), DONE],
  ])('%s', (_name, w, expected) => {
    expect(rolloutState(w, 2)).toEqual(expected);
  });
});

describe('rolloutState: DaemonSet (5 nodes)', () => {
  const ds = (s: Partial<WorkloadStatus>, over: Partial<Workload> = {}): Workload =>
    workload('DaemonSet', 'shop', 'agent', { generation: 2, status: status({ observedGeneration: 2, ...s }), ...over });
  const rolledOut = { desiredNumberScheduled: 5, updatedNumberScheduled: 5, numberAvailable: 5 };

  it.each<[string, Workload, RolloutState]>([
    ['OnDelete', ds(rolledOut, { strategy: 'OnDelete' }), { state: 'failed', reason: 'rollout status is only available for the RollingUpdate strategy' }],
    ['controller has not seen the patch', ds({ ...rolledOut, observedGeneration: 1 }), progressing('the controller to observe the new generation')],
    ['updated below desired', ds({ ...rolledOut, updatedNumberScheduled: 3 }), progressing('3 of 5 updated pods scheduled')],
    ['available below desired', ds({ ...rolledOut, numberAvailable: 4 }), progressing('4 of 5 updated pods available')],
    ['done', ds(rolledOut), DONE],
  ])('%s', (_name, w, expected) => {
    expect(rolloutState(w, 2)).toEqual(expected);
  });
});

describe('restartRefusal', () => {
  it.each<[string, Workload, string | undefined]>([
    ['a running Deployment', workload('Deployment', 'shop', 'web'), undefined],
    [
      'a paused Deployment',
      workload('Deployment', 'shop', 'web', { paused: true }),
      'Deployment shop/web is paused: resume it (kubectl rollout resume) or opt it out',
    ],
    ['a Recreate Deployment', workload('Deployment', 'shop', 'web', { strategy: 'Recreate' }), undefined],
    ['a RollingUpdate StatefulSet', workload('StatefulSet', 'shop', 'db'), undefined],
    [
      'an OnDelete StatefulSet',
      workload('StatefulSet', 'shop', 'db', { strategy: 'OnDelete' }),
      'StatefulSet shop/db uses the OnDelete update strategy: a rollout restart would not replace its pods',
    ],
    [
      'an OnDelete DaemonSet',
      workload('DaemonSet', 'shop', 'agent', { strategy: 'OnDelete' }),
      'DaemonSet shop/agent uses the OnDelete update strategy: a rollout restart would not replace its pods',
    ],
    ['a RollingUpdate DaemonSet', workload('DaemonSet', 'shop', 'agent'), undefined],
  ])('%s', (_name, w, expected) => {
    expect(restartRefusal(w)).toBe(expected);
  });
});
