import { AbortedError, TimeoutError } from '../errors.js';

/** One look at the cluster: finished with a value, or not yet and why. */
export type Check<T> = { done: true; value: T } | { done: false; waitingFor: string };

/** The clock and sleep a waiter uses; tests pass a fake. */
export interface Clock {
  now(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export interface WaitOptions {
  /** What is awaited, for the timeout message. */
  what: string;
  timeoutMs: number;
  intervalMs: number;
  clock: Clock;
  signal?: AbortSignal;
  /** How to pause between two looks; the clock's sleep unless the waiter can wake earlier (a watch). */
  nap?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface Waited<T> {
  value: T;
  waitedMs: number;
  looks: number;
}

/** Milliseconds as seconds with one decimal, as logs report waits (`waitedSeconds`). */
export const inSeconds = (ms: number): number => Math.round(ms / 100) / 10;

/** Throws AbortedError when the run was told to stop. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    throw new AbortedError(typeof reason === 'string' ? reason : 'SIGTERM');
  }
}

/**
 * Looks at the cluster every `intervalMs` until the check says done, its own deadline
 * passes (TimeoutError naming what was still awaited) or the signal aborts. A check that
 * throws ends the wait: that is how a failure (issuance failed, deadline exceeded) stops it early.
 */
export async function waitUntil<T>(check: () => Promise<Check<T>>, options: WaitOptions): Promise<Waited<T>> {
  const start = options.clock.now().getTime();
  let looks = 0;
  for (;;) {
    throwIfAborted(options.signal);
    const result = await check();
    looks++;
    const waitedMs = options.clock.now().getTime() - start;
    if (result.done) return { value: result.value, waitedMs, looks };
    if (waitedMs >= options.timeoutMs) {
      throw new TimeoutError(`timed out after ${Math.round(waitedMs / 1000)}s waiting for ${options.what}: still waiting for ${result.waitingFor}`);
    }
    const pause = Math.min(options.intervalMs, options.timeoutMs - waitedMs);
    await (options.nap ? options.nap(pause, options.signal) : options.clock.sleep(pause, options.signal));
  }
}

/** Runs tasks with at most `limit` at a time; fails with the first error after the running ones settle. */
export async function inBatches<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  async function worker(): Promise<void> {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker()));
  if (failure) throw failure.error;
  return results;
}
