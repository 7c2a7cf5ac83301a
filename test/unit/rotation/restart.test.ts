// src/rotation/restart.ts and rollout-watch.ts: restart passes waiting on shared watches, against a scripted workload API.
import { defaultConfig, type RotatorConfig } from '../../../src/config.js';
import { StepError } from '../../../src/errors.js';
import type { Workload, WorkloadKind, WorkloadRef } from '../../../src/kube/model.js';
import type { Cluster, WorkloadChange, WorkloadFeed } from '../../../src/kube/ports.js';
import { silentLogger } from '../../../src/log.js';
import type { RunContext } from '../../../src/rotation/context.js';
import { workloadKey } from '../../../src/rotation/mesh.js';
import type { ProgressReporter, RestartProgress } from '../../../src/rotation/progress.js';
import { restartAll } from '../../../src/rotation/restart.js';
import { ManualClock, settle } from '../../support/clock.js';
import { meshed } from '../../support/state.js';

const POLL = defaultConfig.pollIntervalMs;

interface Feed extends WorkloadFeed {
  kind: WorkloadKind;
  span: number | undefined;
  stopped: boolean;
  onChange: (change: WorkloadChange) => void;
}

/**
 * Deployments, StatefulSets and DaemonSets behind the three calls a restart pass makes. A
 * rollout finishes only when the test says so (`finish`), as the controller would report it:
 * observedGeneration caught up and every replica updated and available.
 */
class ScriptedWorkloads {
  readonly objects = new Map<string, Workload>();
  readonly feeds: Feed[] = [];
  readonly patched: string[] = [];
  gets = 0;
  /** Patched and not yet finished, and the most there ever were at once. */
  unfinished = new Set<string>();
  mostUnfinished = 0;
  watchRefusal: Error | undefined;
  /** When set, watches open only when the test calls `openWatches`. */
  slowWatches = false;
  private pendingWatches: (() => void)[] = [];

  constructor(targets: Workload[]) {
    for (const target of targets) this.objects.set(workloadKey(target), structuredClone(target));
  }

  readonly cluster = new Proxy({} as Cluster, {
    get: (_target, method: string) => {
      const calls: Partial<Cluster> = {
        restartWorkload: (ref) => Promise.resolve(this.restart(ref)),
        getWorkload: (ref) => {
          this.gets++;
          const found = this.objects.get(workloadKey(ref));
          return Promise.resolve(found && structuredClone(found));
        },
        watchWorkloads: (kind, onChange) => {
          if (this.watchRefusal) return Promise.reject(this.watchRefusal);
          const feed: Feed = { kind, span: 1, stopped: false, onChange, stop: () => Object.assign(feed, { stopped: true, span: undefined }) };
          if (!this.slowWatches) {
            this.feeds.push(feed);
            return Promise.resolve(feed);
          }
          return new Promise<WorkloadFeed>((resolve) => this.pendingWatches.push(() => (this.feeds.push(feed), resolve(feed))));
        },
      };
      const call = calls[method as keyof Cluster];
      if (!call) throw new Error(`${method}: not in this test`);
      return call;
    },
  });

  private restart(ref: WorkloadRef): Workload {
    const key = workloadKey(ref);
    const object = this.objects.get(key);
    if (!object) throw new Error(`${key} not found`);
    object.generation++;
    this.patched.push(key);
    this.unfinished.add(key);
    this.mostUnfinished = Math.max(this.mostUnfinished, this.unfinished.size);
    return structuredClone(object);
  }

  openWatches(): void {
    for (const open of this.pendingWatches.splice(0)) open();
  }

  /** The controller finishes the rollout; the watches (if any) show it unless `quietly`. */
  finish(key: string, { quietly = false } = {}): void {
    const object = this.objects.get(key);
    if (!object) throw new Error(`${key} not found`);
    const replicas = object.specReplicas ?? 1;
    object.status = {
      conditions: [],
      observedGeneration: object.generation,
      replicas,
      updatedReplicas: replicas,
      availableReplicas: replicas,
      readyReplicas: replicas,
      desiredNumberScheduled: replicas,
      updatedNumberScheduled: replicas,
      numberAvailable: replicas,
      currentRevision: 'r2',
      updateRevision: 'r2',
    };
    this.unfinished.delete(key);
    if (!quietly) this.show(key);
  }

  /** The watches deliver the object as it now is (or its deletion). */
  show(key: string, { deleted = false } = {}): void {
    const object = this.objects.get(key);
    if (!object) throw new Error(`${key} not found`);
    for (const feed of this.feeds.filter((f) => f.kind === object.kind && f.span !== undefined)) {
      feed.onChange({
        ref: { kind: object.kind, namespace: object.namespace, name: object.name },
        workload: deleted ? undefined : structuredClone(object),
        span: feed.span ?? 0,
      });
    }
  }
}

function context(api: ScriptedWorkloads, clock: ManualClock, config: Partial<RotatorConfig> = {}): RunContext {
  return { cluster: api.cluster, config: { ...defaultConfig, ...config }, logger: silentLogger(), clock };
}

/** Runs a promise to its end in the background, so the test can look at it while it is pending. */
function track<T>(promise: Promise<T>): { settled: () => boolean; result: () => Promise<T> } {
  let done = false;
  const kept = promise.finally(() => (done = true));
  kept.catch(() => undefined);
  return { settled: () => done, result: () => kept };
}

describe('restartAll with a watch per kind', () => {
  const shop = ['api', 'web', 'cart', 'search', 'mail'].map((name) => meshed('data-plane', 'Deployment', 'shop', name));
  const keys = shop.map((target) => target.key);

  it('waits on the watch alone (no GET, the clock never moves) and starts the next restart as soon as one finishes', async () => {
    const api = new ScriptedWorkloads(shop.map((t) => t.workload));
    const clock = new ManualClock();
    const pass = track(restartAll(context(api, clock), shop, 2));
    await settle();
    expect(api.patched).toEqual(keys.slice(0, 2));
    expect(api.feeds.map((f) => f.kind)).toEqual(['Deployment']);

    api.finish(keys[1] as string);
    await settle();
    expect(api.patched).toEqual(keys.slice(0, 3));
    for (const key of [keys[0], keys[2], keys[3], keys[4]]) {
      api.finish(key as string);
      await settle();
    }
    expect(pass.settled()).toBe(true);
    expect(await pass.result()).toMatchObject({ restarted: 5, waitedMs: 0 });
    expect(api.gets).toBe(0);
    expect(api.mostUnfinished).toBe(2);
    expect(api.feeds.every((f) => f.stopped)).toBe(true);
  });

  it('reports its progress while it runs, under the label it was given, and stops reporting when done', async () => {
    const api = new ScriptedWorkloads(shop.map((t) => t.workload));
    const clock = new ManualClock();
    const watched: { progress?: RestartProgress; stopped: boolean } = { stopped: false };
    const progress: ProgressReporter = {
      watch: (given) => {
        watched.progress = given;
        return { stop: () => (watched.stopped = true) };
      },
    };
    const pass = track(restartAll({ ...context(api, clock), progress }, shop, 2, undefined, { step: 'restart-data-plane', purpose: 'adopt-new-issuer' }));
    await settle();
    await clock.advance(5_000);
    expect(watched.progress?.snapshot()).toEqual({
      step: 'restart-data-plane',
      purpose: 'adopt-new-issuer',
      total: 5,
      done: 0,
      inFlight: 2,
      slowest: { workload: 'shop/api', seconds: 5 },
    });
    api.finish(keys[0] as string);
    await settle();
    expect(watched.progress?.snapshot()).toMatchObject({ done: 1, inFlight: 2, slowest: { workload: 'shop/web', seconds: 5 } });
    expect(watched.stopped).toBe(false);
    for (const key of keys.slice(1)) {
      api.finish(key);
      await settle();
    }
    await pass.result();
    expect(watched.progress?.snapshot()).toMatchObject({ done: 5, inFlight: 0 });
    expect(watched.stopped).toBe(true);
  });

  it('opens one watch per kind among the targets, never one per workload', async () => {
    const mixed = [
      ...shop,
      meshed('data-plane', 'StatefulSet', 'shop', 'db'),
      meshed('data-plane', 'DaemonSet', 'shop', 'agent'),
      meshed('data-plane', 'StatefulSet', 'shop', 'queue'),
    ];
    const api = new ScriptedWorkloads(mixed.map((t) => t.workload));
    const pass = track(restartAll(context(api, new ManualClock()), mixed, 8));
    await settle();
    expect(api.feeds.map((f) => f.kind).sort()).toEqual(['DaemonSet', 'Deployment', 'StatefulSet']);
    for (const target of mixed) api.finish(target.key);
    await settle();
    expect(await pass.result()).toMatchObject({ restarted: 8 });
    expect(api.gets).toBe(0);
  });

  it('polls each rollout with GETs when the rollouts cannot be watched (403)', async () => {
    const api = new ScriptedWorkloads(shop.map((t) => t.workload));
    api.watchRefusal = Object.assign(new Error('watch deployments.apps (all): forbidden'), { code: 403 });
    const clock = new ManualClock();
    const pass = track(restartAll(context(api, clock), shop, 5));
    await settle();
    for (const key of keys) api.finish(key);
    await settle();
    expect(pass.settled()).toBe(false);
    await clock.advance(POLL);
    expect(pass.settled()).toBe(true);
    expect(await pass.result()).toMatchObject({ restarted: 5, waitedMs: POLL });
    expect(api.gets).toBe(10);
  });

  it('with --no-watch-rollouts opens no watch and polls each rollout', async () => {
    const api = new ScriptedWorkloads(shop.map((t) => t.workload));
    const clock = new ManualClock();
    const pass = track(restartAll(context(api, clock, { watchRollouts: false }), shop.slice(0, 2), 2));
    await settle();
    for (const key of keys.slice(0, 2)) api.finish(key);
    await clock.advance(POLL);
    expect(pass.settled()).toBe(true);
    expect(api.feeds).toEqual([]);
    expect(api.gets).toBe(4);
  });

  it('reads with a GET when the watch has started afresh since it showed the workload (an event may have been missed)', async () => {
    const api = new ScriptedWorkloads(shop.map((t) => t.workload));
    const clock = new ManualClock();
    const pass = track(restartAll(context(api, clock), shop.slice(0, 1), 1));
    await settle();
    const feed = api.feeds[0] as Feed;
    feed.span = 2;
    api.finish(keys[0] as string, { quietly: true });
    await settle();
    expect(pass.settled()).toBe(false);
    await clock.advance(POLL);
    expect(pass.settled()).toBe(true);
    expect(api.gets).toBe(1);
  });

  it('reads with a GET while the watch is down, and trusts it again once it resumed', async () => {
    const api = new ScriptedWorkloads(shop.map((t) => t.workload));
    const clock = new ManualClock();
    const pass = track(restartAll(context(api, clock), shop.slice(0, 1), 1));
    await settle();
    const feed = api.feeds[0] as Feed;
    feed.span = undefined;
    await clock.advance(POLL);
    expect(api.gets).toBe(1);
    feed.span = 1;
    api.finish(keys[0] as string);
    await settle();
    expect(pass.settled()).toBe(true);
    expect(api.gets).toBe(1);
  });

  it('never trusts a silent watch blind: a rollout it shows nothing of is read with a GET once per idle limit', async () => {
    const api = new ScriptedWorkloads(shop.map((t) => t.workload));
    const clock = new ManualClock();
    const idle = 20_000;
    const pass = track(restartAll(context(api, clock, { watchIdleTimeoutMs: idle }), shop.slice(0, 1), 1));
    await settle();
    // The feed says it streams, but the finished rollout never comes through it.
    api.finish(keys[0] as string, { quietly: true });
    await clock.advance(idle - POLL);
    expect(pass.settled()).toBe(false);
    expect(api.gets).toBe(0);
    await clock.advance(POLL);
    expect(pass.settled()).toBe(true);
    expect(api.gets).toBe(1);
  });

  it('a slow rollout under a silent watch costs one GET per idle limit, not one per poll', async () => {
    const api = new ScriptedWorkloads(shop.map((t) => t.workload));
    const clock = new ManualClock();
    const idle = 20_000;
    const pass = track(restartAll(context(api, clock, { watchIdleTimeoutMs: idle }), shop.slice(0, 1), 1));
    await settle();
    await clock.advance(3 * idle);
    expect(api.gets).toBe(3);
    api.finish(keys[0] as string);
    await settle();
    expect(pass.settled()).toBe(true);
    expect(api.gets).toBe(3);
  });

  it('starts restarting after a few seconds without its watch, uses the watch once it opens, and stops one that opens after the pass', async () => {
    const api = new ScriptedWorkloads(shop.map((t) => t.workload));
    api.slowWatches = true;
    const clock = new ManualClock();
    const pass = track(restartAll(context(api, clock), shop.slice(0, 2), 1));
    await clock.advance(4_999);
    expect(api.patched).toEqual([]);
    await clock.advance(1);
    expect(api.patched).toEqual(keys.slice(0, 1));
    api.finish(keys[0] as string);
    await clock.advance(POLL);
    // key 0: one GET after the patch, one after the poll interval; key 1: one GET after its patch.
    expect(api.gets).toBe(3);
    expect(api.patched).toEqual(keys.slice(0, 2));
    api.openWatches();
    await settle();
    api.finish(keys[1] as string);
    await settle();
    expect(pass.settled()).toBe(true);
    expect(api.gets).toBe(3);

    const late = new ScriptedWorkloads(shop.map((t) => t.workload));
    late.slowWatches = true;
    const lateClock = new ManualClock();
    const quick = track(restartAll(context(late, lateClock), shop.slice(0, 1), 1));
    await lateClock.advance(5_000);
    late.finish(keys[0] as string);
    await lateClock.advance(POLL);
    expect(quick.settled()).toBe(true);
    late.openWatches();
    await settle();
    expect(late.feeds.map((f) => f.stopped)).toEqual([true]);
  });

  it('with a not-before moment, the first restart waits for it (so new pods are stamped a later second)', async () => {
    const api = new ScriptedWorkloads(shop.map((t) => t.workload));
    const clock = new ManualClock();
    const notBefore = new Date(clock.now().getTime() + 700);
    const pass = track(restartAll(context(api, clock), shop.slice(0, 1), 1, notBefore));
    await clock.advance(699);
    expect(api.patched).toEqual([]);
    await clock.advance(1);
    expect(api.patched).toEqual(keys.slice(0, 1));
    api.finish(keys[0] as string);
    await settle();
    expect(await pass.result()).toMatchObject({ restarted: 1, waitedMs: 700 });
  });

  it('a workload deleted during its restart fails the pass with its name', async () => {
    const api = new ScriptedWorkloads(shop.map((t) => t.workload));
    const pass = track(restartAll(context(api, new ManualClock()), shop.slice(0, 1), 1));
    await settle();
    api.show(keys[0] as string, { deleted: true });
    await expect(pass.result()).rejects.toEqual(new StepError('Deployment shop/api was deleted during its restart'));
    expect(api.feeds[0]?.stopped).toBe(true);
  });
});
