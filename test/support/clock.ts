// A clock that only moves when the test says so, for code that runs timers in the background
// (the lock's renewal loop): sleepers wake when `advance` passes their time or their signal aborts.
import type { Clock } from '../../src/wait/poll.js';

interface Sleeper {
  wakeAt: number;
  resolve: () => void;
}

export class ManualClock implements Clock {
  private sleepers: Sleeper[] = [];

  constructor(private ms = Date.parse('2025-06-01T12:00:00Z')) {}

  now(): Date {
    return new Date(this.ms);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        resolve();
      };
      const sleeper: Sleeper = {
        wakeAt: this.ms + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Moves time forward by `ms`, waking every sleeper due by then (in order), letting each run before the next. */
  async advance(ms: number): Promise<void> {
    const target = this.ms + ms;
    for (;;) {
      await settle();
      const next = this.sleepers.filter((s) => s.wakeAt <= target).sort((a, b) => a.wakeAt - b.wakeAt)[0];
      if (!next) break;
      this.ms = Math.max(this.ms, next.wakeAt);
      this.sleepers = this.sleepers.filter((s) => s !== next);
      next.resolve();
    }
    this.ms = target;
    await settle();
  }

  /** How many sleepers wait. */
  get waiting(): number {
    return this.sleepers.length;
  }
}

/** Lets pending promise callbacks run (a macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
