// The rotation lock: the pure decision, then LeaseLock against an in-memory Lease with a manual clock.
import { LockedError } from '../../../src/errors.js';
import type { Cluster } from '../../../src/kube/ports.js';
import { silentLogger } from '../../../src/log.js';
import { decideLock, fenceWrites, leaseExpiry, LeaseLock, lockCallTimeoutMs, LockLostError, lockTimings, type LockSpec } from '../../../src/unattended/lock.js';
import type { HolderRef, LeaseRecord } from '../../../src/unattended/ports.js';
import { ManualClock, settle } from '../../support/clock.js';
import { FakeLeaseStore } from '../../support/unattended.js';

const T0 = new Date('2025-06-01T12:00:00Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const lease = (fields: Partial<LeaseRecord>): LeaseRecord => ({
  namespace: 'rotator',
  name: 'linkerd-cert-rotator',
  transitions: 0,
  resourceVersion: '7',
  ...fields,
});

describe('decideLock', () => {
  it.each<[string, LeaseRecord | undefined, number, ReturnType<typeof decideLock>]>([
    ['no Lease yet: create it', undefined, 0, { action: 'create' }],
    ['released (no holder): take it', lease({ durationSeconds: 120, renewTime: at(0) }), 10, { action: 'take', reason: 'free' }],
    [
      'held by another, renewed 10 s ago: wait until it expires',
      lease({ holder: 'job-a', durationSeconds: 120, renewTime: at(0) }),
      10,
      { action: 'wait', holder: 'job-a', expiresAt: at(120) },
    ],
    [
      'held by another, one second before expiry: wait',
      lease({ holder: 'job-a', durationSeconds: 120, renewTime: at(0) }),
      119,
      { action: 'wait', holder: 'job-a', expiresAt: at(120) },
    ],
    [
      'held by another, expired (a killed run): take it over',
      lease({ holder: 'job-a', durationSeconds: 120, renewTime: at(0) }),
      120,
      { action: 'take', from: 'job-a', reason: 'expired' },
    ],
    [
      'held by another, never renewed: expiry from acquireTime',
      lease({ holder: 'job-a', durationSeconds: 60, acquireTime: at(0) }),
      30,
      { action: 'wait', holder: 'job-a', expiresAt: at(60) },
    ],
    [
      'held by another without times: cannot be alive, take it',
      lease({ holder: 'job-a', durationSeconds: 60 }),
      0,
      { action: 'take', from: 'job-a', reason: 'expired' },
    ],
    [
      'held by this holder (a restarted container): take it back',
      lease({ holder: 'me', durationSeconds: 120, renewTime: at(0) }),
      5,
      { action: 'take', from: 'me', reason: 'self' },
    ],
  ])('%s', (_name, current, now, expected) => {
    expect(decideLock(current, 'me', at(now))).toEqual(expected);
  });

  it('a live-looking Lease whose holder is known to be gone is taken over at once', () => {
    expect(decideLock(lease({ holder: 'job-a', durationSeconds: 120, renewTime: at(0) }), 'me', at(10), true)).toEqual({
      action: 'take',
      from: 'job-a',
      reason: 'gone',
    });
  });

  it('leaseExpiry prefers renewTime over acquireTime', () => {
    expect(leaseExpiry(lease({ durationSeconds: 10, acquireTime: at(0), renewTime: at(50) }))).toEqual(at(60));
  });
});

const spec = (fields: Partial<LockSpec> = {}): LockSpec => ({
  namespace: 'rotator',
  name: 'linkerd-cert-rotator',
  holder: 'me',
  durationMs: 90_000,
  waitMs: 0,
  pollMs: 1_000,
  ...fields,
});
const liveOther = (renewedAt: Date, durationSeconds = 90): Omit<LeaseRecord, 'resourceVersion'> => ({
  namespace: 'rotator',
  name: 'linkerd-cert-rotator',
  holder: 'job-a',
  durationSeconds,
  renewTime: renewedAt,
  acquireTime: renewedAt,
  transitions: 3,
});

describe('LeaseLock', () => {
  let clock: ManualClock;
  beforeEach(() => {
    clock = new ManualClock(T0.getTime());
  });
  const deps = (): { clock: ManualClock; logger: ReturnType<typeof silentLogger> } => ({ clock, logger: silentLogger() });

  it('creates the Lease when there is none, holds it with its duration, and releases it at the end', async () => {
    const store = new FakeLeaseStore();
    const lock = new LeaseLock(store, spec(), deps());
    await lock.acquire();
    expect(store.lease).toMatchObject({ holder: 'me', durationSeconds: 90, acquireTime: T0, renewTime: T0, transitions: 0 });
    await lock.release();
    expect(store.lease?.holder).toBeUndefined();
    expect(lock.lost.aborted).toBe(false);
  });

  it('refuses at once with --lock-wait 0, naming the holder and when its Lease expires, and changes nothing', async () => {
    const store = new FakeLeaseStore(liveOther(at(-30)));
    const lock = new LeaseLock(store, spec(), deps());
    const attempt = lock.acquire();
    await expect(attempt).rejects.toThrow(LockedError);
    await expect(attempt).rejects.toThrow(/held by job-a, which must renew it before 2025-06-01T12:01:00\.000Z \(in 1m\)/);
    expect(store.writes).toEqual([]);
  });

  it('waits while the holder is alive, then takes the Lease once it is released', async () => {
    const store = new FakeLeaseStore(liveOther(at(0)));
    const lock = new LeaseLock(store, spec({ waitMs: 600_000 }), deps());
    let acquired = false;
    const attempt = lock.acquire().then(() => (acquired = true));
    await clock.advance(5_000);
    expect(acquired).toBe(false);
    store.put({ ...liveOther(at(5)), holder: undefined });
    await clock.advance(1_000);
    await attempt;
    expect(store.lease).toMatchObject({ holder: 'me', transitions: 4 });
    await lock.release();
  });

  it('takes over a Lease whose holder stopped renewing, once it expires', async () => {
    const store = new FakeLeaseStore(liveOther(at(-80)));
    const lock = new LeaseLock(store, spec({ waitMs: 60_000 }), deps());
    let acquired = false;
    const attempt = lock.acquire().then(() => (acquired = true));
    await clock.advance(9_000);
    expect(acquired).toBe(false);
    await clock.advance(2_000);
    await attempt;
    expect(store.lease).toMatchObject({ holder: 'me', transitions: 4 });
    await lock.release();
  });

  it("takes over at once from a holder the probe finds gone (a killed Job's pod), recording its own whereabouts", async () => {
    const store = new FakeLeaseStore({ ...liveOther(at(-5)), holderRef: { kind: 'pod', namespace: 'rotator', name: 'job-a' } });
    const asked: string[] = [];
    const holders = { alive: (ref: HolderRef): Promise<boolean> => (asked.push(JSON.stringify(ref)), Promise.resolve(false)) };
    const lock = new LeaseLock(store, spec({ holderRef: { kind: 'process', host: 'laptop', pid: 7 } }), { ...deps(), holders });
    await lock.acquire();
    expect(asked).toEqual([JSON.stringify({ kind: 'pod', namespace: 'rotator', name: 'job-a' })]);
    expect(store.lease).toMatchObject({ holder: 'me', holderRef: { kind: 'process', host: 'laptop', pid: 7 }, transitions: 4 });
    await lock.release();
    expect(store.lease?.holderRef).toBeUndefined();
  });

  it('a holder the probe finds alive, or cannot judge, is waited for', async () => {
    for (const answer of [true, undefined, 'throws'] as const) {
      const store = new FakeLeaseStore({ ...liveOther(at(-5)), holderRef: { kind: 'pod', namespace: 'rotator', name: 'job-a' } });
      const holders = { alive: (): Promise<boolean | undefined> => (answer === 'throws' ? Promise.reject(new Error('forbidden')) : Promise.resolve(answer)) };
      await expect(new LeaseLock(store, spec(), { ...deps(), holders }).acquire()).rejects.toThrow(LockedError);
    }
  });

  it('gives up when the wait runs out', async () => {
    const store = new FakeLeaseStore(liveOther(at(0)));
    const lock = new LeaseLock(store, spec({ waitMs: 3_000 }), deps());
    const attempt = lock.acquire();
    const outcome = expect(attempt).rejects.toThrow(/gave up after waiting 3s/);
    await clock.advance(3_000);
    await outcome;
  });

  it('re-reads after losing a race (409) and waits for the run that won it', async () => {
    const store = new FakeLeaseStore();
    store.beforeWrite = () => {
      store.beforeWrite = undefined;
      store.put(liveOther(clock.now()));
    };
    const lock = new LeaseLock(store, spec(), deps());
    await expect(lock.acquire()).rejects.toThrow(/held by job-a/);
  });

  it('renews every third of the duration, every 10 s at most, while held', async () => {
    expect(lockTimings(90_000)).toEqual({ renewEveryMs: 10_000, fenceAfterMs: 60_000 });
    expect(lockTimings(6_000)).toEqual({ renewEveryMs: 2_000, fenceAfterMs: 4_000 });
    const store = new FakeLeaseStore();
    const lock = new LeaseLock(store, spec(), deps());
    await lock.acquire();
    await clock.advance(10_000);
    expect(store.lease?.renewTime).toEqual(at(10));
    await clock.advance(10_000);
    expect(store.lease?.renewTime).toEqual(at(20));
    expect(store.lease?.acquireTime).toEqual(T0);
    await lock.release();
    const renewals = store.writes.length;
    await clock.advance(60_000);
    expect(store.writes).toHaveLength(renewals);
  });

  it('survives failed renewals, trying again each second, and is lost (aborting the run) two thirds of the duration after the last renewal', async () => {
    const store = new DownLeaseStore();
    const lock = new LeaseLock(store, spec(), deps());
    await lock.acquire();
    await clock.advance(10_000);
    expect(store.lease?.renewTime).toEqual(at(10));
    store.down = true;
    await clock.advance(59_000);
    expect(lock.lost.aborted).toBe(false);
    expect(() => lock.assertHeld()).not.toThrow();
    expect(store.refused).toBeGreaterThan(40);
    await clock.advance(1_000);
    expect(lock.lost.aborted).toBe(true);
    expect(lock.lost.reason).toBe('lock-lost');
    expect(lock.lostBecause).toMatch(/could not renew Lease rotator\/linkerd-cert-rotator for 1m \(connect ECONNREFUSED/);
    expect(() => lock.assertHeld()).toThrow(LockLostError);
    // Back again: a late renewal does not revive the lock.
    store.down = false;
    await clock.advance(10_000);
    expect(lock.lost.aborted).toBe(true);
    await lock.release();
  });

  it('the default 3m Lease outlives an apiserver away for 105 s, starting just before a renewal: renewal resumes as soon as it is back', async () => {
    const store = new DownLeaseStore();
    const lock = new LeaseLock(store, spec({ durationMs: 180_000 }), deps());
    await lock.acquire();
    await clock.advance(9_999);
    store.down = true;
    await clock.advance(105_000);
    expect(lock.lost.aborted).toBe(false);
    store.down = false;
    await clock.advance(1_000);
    expect(store.lease?.renewTime?.getTime()).toBeGreaterThanOrEqual(at(115).getTime());
    expect(lock.lost.aborted).toBe(false);
    expect(() => lock.assertHeld()).not.toThrow();
    await lock.release();
  });

  it('a renewal call that never answers cannot keep the run writing: the fence falls on time all the same', async () => {
    const store = new DownLeaseStore();
    const lock = new LeaseLock(store, spec(), deps());
    await lock.acquire();
    store.hang = true;
    await clock.advance(59_999);
    expect(lock.lost.aborted).toBe(false);
    expect(() => lock.assertHeld()).not.toThrow();
    await clock.advance(1);
    expect(lock.lost.aborted).toBe(true);
    expect(() => lock.assertHeld()).toThrow(/stopped before a write: the rotation lock was lost \(could not renew .* for 1m/);
    await lock.release();
  });

  it('every lock call has a deadline: a Lease read that never answers fails the acquisition', async () => {
    const store = new DownLeaseStore();
    store.hang = true;
    const lock = new LeaseLock(store, spec(), deps());
    const acquiring = lock.acquire();
    const outcome = acquiring.then(
      () => 'acquired',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    await clock.advance(lockCallTimeoutMs - 1);
    expect(store.calls).toBe(1);
    await clock.advance(1);
    await expect(outcome).resolves.toMatch(/get Lease rotator\/linkerd-cert-rotator got no answer within 30s/);
  });

  it('is lost at the next renewal when another run took the Lease, refuses writes, and then leaves the Lease alone on release', async () => {
    const store = new FakeLeaseStore();
    const lock = new LeaseLock(store, spec(), deps());
    await lock.acquire();
    store.put(liveOther(at(5)));
    await clock.advance(10_000);
    expect(lock.lost.aborted).toBe(true);
    expect(lock.lostBecause).toMatch(/taken by job-a/);
    expect(() => lock.assertHeld()).toThrow(/lock was lost \(Lease rotator\/linkerd-cert-rotator was taken by job-a/);
    await lock.release();
    expect(store.lease?.holder).toBe('job-a');
  });

  it('a release that fails is only a warning: the Lease expires by itself', async () => {
    const store = new FakeLeaseStore();
    const lock = new LeaseLock(store, spec(), deps());
    await lock.acquire();
    store.failNextWrites = [new Error('connection refused')];
    await expect(lock.release()).resolves.toBeUndefined();
    expect(store.lease?.holder).toBe('me');
    await settle();
  });
});

/** A Lease store that can refuse connections (an outage) or never answer (a half-open connection). */
class DownLeaseStore extends FakeLeaseStore {
  down = false;
  hang = false;
  refused = 0;
  calls = 0;

  private gate<T>(call: () => Promise<T>): Promise<T> {
    this.calls++;
    if (this.hang) return new Promise<T>(() => undefined);
    if (this.down) {
      this.refused++;
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }));
    }
    return call();
  }

  override getLease(namespace: string, name: string): Promise<LeaseRecord | undefined> {
    return this.gate(() => super.getLease(namespace, name));
  }

  override replaceLease(lease: LeaseRecord): Promise<LeaseRecord> {
    return this.gate(() => super.replaceLease(lease));
  }
}

describe('fenceWrites', () => {
  it('lets reads through always, and each write only while the lock is held', async () => {
    const calls: string[] = [];
    let held = true;
    const inner = {
      getSecret: () => Promise.resolve(calls.push('getSecret') && undefined),
      listMeshedPods: () => Promise.resolve(calls.push('listMeshedPods') && []),
      restartWorkload: () => Promise.resolve(calls.push('restartWorkload')),
      evictPod: () => Promise.resolve(calls.push('evictPod') && { result: 'evicted' }),
    } as unknown as Cluster;
    const fenced = fenceWrites(inner, () => {
      if (!held) throw new LockLostError('stopped before a write: lost');
    });
    await fenced.restartWorkload({ kind: 'Deployment', namespace: 'shop', name: 'api' }, 'now');
    held = false;
    await fenced.getSecret('shop', 'x');
    await fenced.listMeshedPods();
    await expect((async () => fenced.evictPod({ namespace: 'shop', name: 'api-0', uid: 'u' }))()).rejects.toThrow(LockLostError);
    await expect((async () => fenced.restartWorkload({ kind: 'Deployment', namespace: 'shop', name: 'api' }, 'now'))()).rejects.toThrow(
      /stopped before a write/,
    );
    expect(calls).toEqual(['restartWorkload', 'getSecret', 'listMeshedPods']);
  });
});
