// src/wait/poll.ts: the waiter every step uses (kept here, beside the steps that wait).
import { AbortedError, StepError, TimeoutError } from '../../../src/errors.js';
import { inBatches, waitUntil, type Check, type Clock } from '../../../src/wait/poll.js';

/** A clock whose sleep advances time at once and records what was asked. */
class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  readonly signals: (AbortSignal | undefined)[] = [];
  constructor(private ms = Date.parse('2025-06-01T12:00:00Z')) {}
  now(): Date {
    return new Date(this.ms);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    this.signals.push(signal);
    this.ms += ms;
    return Promise.resolve();
  }
}

/** A check that is done at look number `doneAt` (never when undefined), counting its looks. */
function checkDoneAt(doneAt: number | undefined): { check: () => Promise<Check<string>>; looks: () => number } {
  let looks = 0;
  return {
    check: () => {
      looks++;
      return Promise.resolve(
        looks === doneAt ? { done: true, value: `value at look ${looks}` } : { done: false, waitingFor: `look ${looks} saw 2 stale pods` },
      );
    },
    looks: () => looks,
  };
}

describe('waitUntil', () => {
  const options = (clock: Clock, signal?: AbortSignal) => ({ what: 'the bundle to settle', timeoutMs: 2_500, intervalMs: 1_000, clock, signal });

  it('done at the first look: no sleep', async () => {
    const clock = new FakeClock();
    const { check } = checkDoneAt(1);
    expect(await waitUntil(check, options(clock))).toEqual({ value: 'value at look 1', waitedMs: 0, looks: 1 });
    expect(clock.sleeps).toEqual([]);
  });

  it('done at the third look: two intervals waited, each sleep given the signal', async () => {
    const clock = new FakeClock();
    const signal = new AbortController().signal;
    const { check } = checkDoneAt(3);
    expect(await waitUntil(check, options(clock, signal))).toEqual({ value: 'value at look 3', waitedMs: 2_000, looks: 3 });
    expect(clock.sleeps).toEqual([1_000, 1_000]);
    expect(clock.signals).toEqual([signal, signal]);
  });

  it('times out: the last sleep is cut to the deadline, and the error says what it still waited for', async () => {
    const clock = new FakeClock();
    const { check, looks } = checkDoneAt(undefined);
    const waiting = waitUntil(check, options(clock));
    await expect(waiting).rejects.toThrow(TimeoutError);
    await expect(waiting).rejects.toThrow('timed out after 3s waiting for the bundle to settle: still waiting for look 4 saw 2 stale pods');
    expect(clock.sleeps).toEqual([1_000, 1_000, 500]);
    expect(looks()).toBe(4);
  });

  it('a look at the deadline that is done still counts', async () => {
    const clock = new FakeClock();
    const { check } = checkDoneAt(4);
    expect(await waitUntil(check, options(clock))).toMatchObject({ waitedMs: 2_500, looks: 4 });
  });

  it.each<[string, unknown, string]>([
    ['SIGINT', 'SIGINT', 'SIGINT'],
    ['SIGTERM', 'SIGTERM', 'SIGTERM'],
    ['a reason that is not a signal name', new Error('stop'), 'SIGTERM'],
  ])('aborted before the first look (%s): AbortedError, the check never runs', async (_name, reason, signalName) => {
    const controller = new AbortController();
    controller.abort(reason);
    const { check, looks } = checkDoneAt(1);
    const waiting = waitUntil(check, options(new FakeClock(), controller.signal));
    await expect(waiting).rejects.toThrow(AbortedError);
    await expect(waiting).rejects.toMatchObject({ signal: signalName });
    expect(looks()).toBe(0);
  });

  it('aborted between two looks: stops before the next look', async () => {
    const controller = new AbortController();
    let looks = 0;
    const check = (): Promise<Check<string>> => {
      looks++;
      if (looks === 2) controller.abort('SIGTERM');
      return Promise.resolve({ done: false, waitingFor: 'never' });
    };
    await expect(waitUntil(check, { ...options(new FakeClock(), controller.signal), timeoutMs: 60_000 })).rejects.toThrow(new AbortedError('SIGTERM'));
    expect(looks).toBe(2);
  });

  it('a check that throws ends the wait with its error', async () => {
    const clock = new FakeClock();
    let looks = 0;
    const check = (): Promise<Check<string>> => {
      looks++;
      return looks === 2 ? Promise.reject(new StepError('issuance failed')) : Promise.resolve({ done: false, waitingFor: 'x' });
    };
    await expect(waitUntil(check, options(clock))).rejects.toThrow(new StepError('issuance failed'));
    expect(looks).toBe(2);
    expect(clock.sleeps).toEqual([1_000]);
  });
});

describe('inBatches', () => {
  /** Lets every pending promise callback run, a few rounds deep. */
  const tick = (rounds: number): Promise<void> =>
    rounds <= 0 ? Promise.resolve() : new Promise<void>((resolve) => setImmediate(resolve)).then(() => tick(rounds - 1));

  function tracked(duration: (item: number) => number, fail?: (item: number) => boolean) {
    const stats = { inFlight: 0, max: 0, started: [] as number[], settled: [] as number[] };
    const task = async (item: number): Promise<string> => {
      stats.started.push(item);
      stats.inFlight++;
      stats.max = Math.max(stats.max, stats.inFlight);
      await tick(duration(item));
      stats.inFlight--;
      stats.settled.push(item);
      if (fail?.(item)) throw new Error(`task ${item} failed`);
      return `result ${item}`;
    };
    return { stats, task };
  }

  it.each<[number, number, number]>([
    [10, 3, 3],
    [10, 1, 1],
    [3, 8, 3],
    [4, 0, 1],
  ])('%d items, limit %d: at most %d in flight, results in input order', async (count, limit, max) => {
    const items = Array.from({ length: count }, (_, i) => i);
    // Later items finish sooner, so completion order differs from input order.
    const { stats, task } = tracked((item) => count - item);
    expect(await inBatches(items, limit, task)).toEqual(items.map((i) => `result ${i}`));
    expect(stats.max).toBe(max);
    if (max > 1) expect(stats.settled).not.toEqual(items);
  });

  it('no items: no task, no result', async () => {
    const { stats, task } = tracked(() => 1);
    expect(await inBatches([], 4, task)).toEqual([]);
    expect(stats.started).toEqual([]);
  });

  it('propagates the first error, starts nothing after it, and waits for the running tasks', async () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    // Item 1 fails first (after 1 round), item 2 later (after 3 rounds).
    const { stats, task } = tracked(
      (item) => (item === 1 ? 1 : 3),
      (item) => item === 1 || item === 2,
    );
    await expect(inBatches(items, 3, task)).rejects.toThrow('task 1 failed');
    expect(stats.started).toEqual([0, 1, 2]);
    expect([...stats.settled].sort()).toEqual([0, 1, 2]);
  });
});
