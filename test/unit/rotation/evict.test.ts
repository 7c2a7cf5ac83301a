// src/rotation/evict.ts and src/kube/eviction.ts: stale pods are evicted (never deleted), a
// disruption budget's refusal is retried until the deadline, and a StatefulSet's pods go one at a time.
import { defaultConfig } from '../../../src/config.js';
import { TimeoutError } from '../../../src/errors.js';
import { evictionBody, evictionRefusal } from '../../../src/kube/eviction.js';
import type { PodView } from '../../../src/kube/model.js';
import type { Cluster, EvictionResult, PodIdentity } from '../../../src/kube/ports.js';
import type { RunContext } from '../../../src/rotation/context.js';
import { evictionState, evictStalePods, replacementState, sequenceKey } from '../../../src/rotation/evict.js';
import type { MeshPod } from '../../../src/rotation/mesh.js';
import { silentLogger } from '../../../src/log.js';
import type { Clock } from '../../../src/wait/poll.js';
import { derivePlan } from '../../../src/rotation/plan.js';
import { anchorRenewedSpec, makeRotation, meshed, observedState, podsOfMesh, statePod, type Rotation } from '../../support/state.js';

/** Sleeps pass at once and move the time on. */
class SkippingClock implements Clock {
  ms = Date.parse('2025-06-01T12:00:00Z');
  now(): Date {
    return new Date(this.ms);
  }
  sleep(ms: number): Promise<void> {
    this.ms += ms;
    return Promise.resolve();
  }
}

const db = meshed('data-plane', 'StatefulSet', 'shop', 'db', 'on-delete');
const agent = meshed('data-plane', 'DaemonSet', 'shop', 'agent', 'on-delete');
const pod = (name: string, over: Partial<PodView> = {}): PodView => ({ ...statePod({ name, of: db, anchors: undefined }).pod, ...over });

describe('the Eviction request and the API server refusal', () => {
  it('pins the eviction to the uid judged stale, and to nothing that moves with status updates', () => {
    expect(evictionBody({ namespace: 'shop', name: 'db-0', uid: 'u-1' })).toEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { namespace: 'shop', name: 'db-0' },
      deleteOptions: { preconditions: { uid: 'u-1' } },
    });
  });

  it("names the disruption budget from the 429's causes", () => {
    const body = JSON.stringify({
      kind: 'Status',
      status: 'Failure',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      reason: 'TooManyRequests',
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget db needs 2 healthy pods and has 2 currently' }] },
      code: 429,
    });
    expect(evictionRefusal({ code: 429, body })).toBe(
      "Cannot evict pod as it would violate the pod's disruption budget. (The disruption budget db needs 2 healthy pods and has 2 currently)",
    );
    expect(evictionRefusal({ code: 429, body: JSON.stringify({ message: 'Too many requests, please try again later.' }) })).toBe(
      'Too many requests, please try again later.',
    );
  });
});

describe('pure decisions', () => {
  it.each<[string, PodView['owner'], string | undefined]>([
    ['a StatefulSet pod', { kind: 'StatefulSet', name: 'db' }, 'StatefulSet/shop/db'],
    ['a DaemonSet pod', { kind: 'DaemonSet', name: 'agent' }, undefined],
    ["a Job's pod", { kind: 'Job', name: 'migrate' }, undefined],
    ['a bare pod', undefined, undefined],
  ])('%s: sequenced by %s', (_name, owner, key) => {
    expect(sequenceKey({ namespace: 'shop', owner })).toBe(key);
  });

  const evicted: PodIdentity = { namespace: 'shop', name: 'db-0', uid: 'old' };
  it.each<[string, PodView[], boolean, string]>([
    ['only the evicted pod, still terminating', [pod('db-0', { uid: 'old', terminating: true })], false, 'to be created'],
    ['the evicted pod, not yet terminating', [pod('db-0', { uid: 'old' })], false, 'to be created'],
    ['a replacement, not ready', [pod('db-0', { uid: 'new', ready: false })], false, 'to be ready'],
    ['a ready pod of another name', [pod('db-1', { uid: 'x' })], false, 'to be created'],
    ['a ready replacement', [pod('db-0', { uid: 'new' })], true, ''],
  ])('replacement: %s', (_name, pods, done, waiting) => {
    const state = replacementState(evicted, pods);
    expect(state.done).toBe(done);
    if (!state.done) expect(state.waitingFor).toContain(waiting);
  });

  it.each<[EvictionResult, boolean]>([
    [{ result: 'evicted' }, true],
    [{ result: 'gone' }, true],
    [{ result: 'blocked', reason: 'budget db' }, false],
  ])('eviction %j done: %s', (outcome, done) => {
    expect(evictionState(evicted, outcome).done).toBe(done);
  });
});

/** The two calls evictions make, scripted: a budget that refuses a number of times, replacements that become ready later. */
class ScriptedPods {
  readonly calls: string[] = [];
  pods: PodView[];
  refusals = new Map<string, number>();
  /** Replacements are ready after this many looks. */
  readyAfterLooks = 2;
  private looks = 0;

  constructor(pods: PodView[]) {
    this.pods = pods;
  }

  readonly cluster = {
    evictPod: (target: PodIdentity): Promise<EvictionResult> => {
      this.calls.push(`evict ${target.name}`);
      const left = this.refusals.get(target.name) ?? 0;
      if (left !== 0) {
        this.refusals.set(target.name, left - 1);
        return Promise.resolve({ result: 'blocked', reason: `The disruption budget db needs 2 healthy pods and has 2 currently` });
      }
      const current = this.pods.find((p) => p.name === target.name);
      if (!current || current.uid !== target.uid) return Promise.resolve({ result: 'gone' });
      // The controller recreates it under the same name, not ready yet.
      this.pods = [...this.pods.filter((p) => p !== current), { ...current, uid: `${current.uid}-next`, ready: false }];
      this.looks = 0;
      return Promise.resolve({ result: 'evicted' });
    },
    listMeshedPods: (): Promise<PodView[]> => {
      this.calls.push('list');
      if (++this.looks >= this.readyAfterLooks) this.pods = this.pods.map((p) => (p.uid.endsWith('-next') ? { ...p, ready: true } : p));
      return Promise.resolve(this.pods);
    },
  } as unknown as Cluster;
}

const ctxFor = (cluster: Cluster, clock = new SkippingClock(), rolloutTimeoutMs = 60_000): RunContext => ({
  cluster,
  config: { ...defaultConfig, rolloutTimeoutMs, pollIntervalMs: 1_000 },
  logger: silentLogger(),
  clock,
});
const target = (name: string, of = db): MeshPod => statePod({ name, of, anchors: undefined });

describe('evictStalePods', () => {
  it("evicts a StatefulSet's second pod only once the first one's replacement is ready; other owners are not held up", async () => {
    const script = new ScriptedPods([pod('db-0'), pod('db-1'), { ...pod('agent-x'), owner: { kind: 'DaemonSet', name: 'agent' } }]);
    const evicted = await evictStalePods(ctxFor(script.cluster), [target('db-0'), target('agent-x', agent), target('db-1')]);
    expect(evicted).toBe(3);
    expect(script.calls).toEqual(['evict db-0', 'evict agent-x', 'list', 'list', 'evict db-1']);
  });

  it('a budget that refuses for a while is retried, then the eviction goes through', async () => {
    const script = new ScriptedPods([pod('db-0')]);
    script.refusals.set('db-0', 3);
    const clock = new SkippingClock();
    const started = clock.ms;
    expect(await evictStalePods(ctxFor(script.cluster, clock), [target('db-0')])).toBe(1);
    expect(script.calls).toEqual(['evict db-0', 'evict db-0', 'evict db-0', 'evict db-0']);
    expect(clock.ms - started).toBe(3_000);
  });

  it('a budget that never allows it: stops at the rollout timeout (exit 5) naming pod and budget, the pod untouched', async () => {
    const script = new ScriptedPods([pod('db-0'), pod('db-1')]);
    script.refusals.set('db-0', -1);
    const failure = await evictStalePods(ctxFor(script.cluster, new SkippingClock(), 10_000), [target('db-0'), target('db-1')]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TimeoutError);
    expect((failure as Error).message).toMatch(
      /the eviction of stale pod shop\/db-0 \(StatefulSet\/db\).*The disruption budget db needs 2 healthy pods.*Nothing was bypassed/,
    );
    expect(script.pods.map((p) => p.uid)).toEqual(['uid-db-0', 'uid-db-1']);
    expect(script.calls.every((call) => call === 'evict db-0')).toBe(true);
  });

  it('a pod already gone or replaced (uid precondition failed) is not counted and does not hold up the next', async () => {
    const script = new ScriptedPods([pod('db-0', { uid: 'replaced' }), pod('db-1')]);
    expect(await evictStalePods(ctxFor(script.cluster), [target('db-0'), target('db-1')])).toBe(1);
    expect(script.calls).toEqual(['evict db-0', 'evict db-1']);
  });

  it('a replacement that never becomes ready stops the run before the next pod of that StatefulSet', async () => {
    const script = new ScriptedPods([pod('db-0'), pod('db-1')]);
    script.readyAfterLooks = Number.POSITIVE_INFINITY;
    await expect(evictStalePods(ctxFor(script.cluster, new SkippingClock(), 5_000), [target('db-0'), target('db-1')])).rejects.toThrow(
      /replacement of evicted pod shop\/db-0 \(StatefulSet\/db\) to be ready/,
    );
    expect(script.calls.filter((call) => call.startsWith('evict'))).toEqual(['evict db-0']);
  });
});

describe('the plan with --delete-stale-pods', () => {
  let r: Rotation;
  beforeAll(async () => {
    r = await makeRotation();
  });

  it('a stale pod no rollout restarts keeps the data-plane step in the plan only when it may be evicted (resuming a stopped run)', () => {
    const lonely = statePod({ name: 'lonely', namespace: 'shop', anchors: [r.oldAnchor], hold: 'bare pod shop/lonely has no controller to restart it' });
    const state = observedState(anchorRenewedSpec(r, { pods: [...podsOfMesh({ anchors: [r.oldAnchor, r.newAnchor] }), lonely] }));
    const names = (deleteStalePods: boolean): string[] =>
      derivePlan(state, { startNew: false, deleteStalePods }).steps.map((s) => `${s.name}${s.purpose ? `/${s.purpose}` : ''}`);
    expect(names(false)[0]).toBe('renew-issuer');
    expect(names(true)[0]).toBe('restart-data-plane/trust-new-anchor');
    expect(names(true)[1]).toBe('renew-issuer');
  });
});
