// A discrete-event clock for the fake cluster: the rotator's sleeps and the fake controllers'
// scheduled work share one queue, and time jumps to the earliest entry once the code under test
// has gone quiet. No real time passes: a rotation of many virtual minutes runs in milliseconds.
import type { Clock } from '../../src/wait/poll.js';

interface Entry {
  at: number;
  seq: number;
  /** A sleeper of the code under test (resolved), or the fake's own work (run). */
  kind: 'sleep' | 'event';
  run: () => void | Promise<void>;
}

/** Macrotask turns without any call or sleep before the code under test counts as waiting (WebCrypto jobs finish within one). */
const quietTurns = 3;
/** Turns without a sleeper to wake before a drive gives up: the code waits on something no clock can end. */
const stallTurns = 20_000;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class SimClock implements Clock {
  private entries: Entry[] = [];
  private seq = 0;
  private activity = 0;

  constructor(private ms = Date.parse('2025-06-01T12:00:00Z')) {}

  now(): Date {
    return new Date(this.ms);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.touch();
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const onAbort = (): void => {
        this.entries = this.entries.filter((e) => e !== entry);
        resolve();
      };
      const entry = this.push(Math.max(0, ms), 'sleep', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The fake's own work, `delayMs` from now; it runs with the clock at its time. */
  schedule(delayMs: number, run: () => void | Promise<void>): void {
    this.push(Math.max(0, delayMs), 'event', run);
  }

  /** Marks that the code under test did something (a call into the fake): it is not quiet yet. */
  touch(): void {
    this.activity++;
  }

  /** How many sleepers of the code under test are waiting. */
  get sleepers(): number {
    return this.entries.filter((e) => e.kind === 'sleep').length;
  }

  /**
   * Runs `work` to its end: whenever it is quiet, the earliest entry runs (the fake's work up to the
   * next sleeper, then that sleeper wakes). Returns or throws what `work` does.
   */
  async drive<T>(work: Promise<T>): Promise<T> {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    work.then(
      (value) => (outcome = { ok: true, value }),
      (error: unknown) => (outcome = { ok: false, error }),
    );
    let idle = 0;
    for (;;) {
      await this.quiet();
      if (outcome) {
        if (outcome.ok) return outcome.value;
        throw outcome.error;
      }
      const next = this.next();
      if (!next || this.sleepers === 0) {
        if (++idle > stallTurns) throw new Error('simulation stalled: the code under test waits on something the clock cannot wake');
        continue;
      }
      idle = 0;
      await this.step(next);
    }
  }

  /** Lets `ms` pass with nobody driving: the fake's work (and any sleeper) due by then runs in order. */
  async advance(ms: number): Promise<void> {
    const target = this.ms + ms;
    for (;;) {
      await this.quiet();
      const next = this.next();
      if (!next || next.at > target) break;
      await this.step(next);
    }
    this.ms = Math.max(this.ms, target);
    await this.quiet();
  }

  private push(delayMs: number, kind: Entry['kind'], run: Entry['run']): Entry {
    const entry: Entry = { at: this.ms + delayMs, seq: this.seq++, kind, run };
    this.entries.push(entry);
    return entry;
  }

  private next(): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.entries) if (!best || e.at < best.at || (e.at === best.at && e.seq < best.seq)) best = e;
    return best;
  }

  private async step(entry: Entry): Promise<void> {
    this.entries = this.entries.filter((e) => e !== entry);
    this.ms = Math.max(this.ms, entry.at);
    await entry.run();
  }

  private async quiet(): Promise<void> {
    let still = 0;
    while (still < quietTurns) {
      const before = this.activity;
      await turn();
      still = this.activity === before ? still + 1 : 0;
    }
  }
}
