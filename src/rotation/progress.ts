import type { Clock } from '../wait/poll.js';

/** Which restart pass is under way: the step's name and, in a rotation, its purpose. */
export interface RestartLabel {
  step: string;
  purpose?: string;
}

/** How far a restart pass is, at one instant: plain data for a live line, a log record or an Event. */
export interface ProgressSnapshot extends RestartLabel {
  total: number;
  done: number;
  inFlight: number;
  /** The rollout waited on longest, and for how long. */
  slowest?: { workload: string; seconds: number };
}

/** Where a restart pass reports: the CLI polls `snapshot` while the pass runs, until `stop`. */
export interface ProgressReporter {
  watch(progress: RestartProgress): { stop(): void };
}

/** Counts a restart pass's workloads as they start and finish; the snapshot is computed from the clock. */
export class RestartProgress {
  private readonly started = new Map<string, { shown: string; since: number }>();
  private finished = 0;

  constructor(
    readonly label: RestartLabel,
    private readonly total: number,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  /** A workload's restart begins; `shown` is how people name it (namespace/name), `key` tells kinds apart. */
  start(key: string, shown: string = key): void {
    this.started.set(key, { shown, since: this.clock.now().getTime() });
  }

  /** A workload's rollout is over; `done` counts only those that finished well. */
  end(key: string, done: boolean): void {
    this.started.delete(key);
    if (done) this.finished++;
  }

  snapshot(): ProgressSnapshot {
    const now = this.clock.now().getTime();
    let slowest: ProgressSnapshot['slowest'];
    for (const { shown, since } of this.started.values()) {
      const seconds = Math.max(0, Math.floor((now - since) / 1000));
      if (!slowest || seconds > slowest.seconds) slowest = { workload: shown, seconds };
    }
    return { ...this.label, total: this.total, done: this.finished, inFlight: this.started.size, ...(slowest ? { slowest } : {}) };
  }
}

/** `restart-data-plane (trust-new-anchor): 340/1010 done, 8 in flight, slowest shop/api 42s`. */
export function progressLine(snapshot: ProgressSnapshot): string {
  const purpose = snapshot.purpose ? ` (${snapshot.purpose})` : '';
  const slowest = snapshot.slowest ? `, slowest ${snapshot.slowest.workload} ${snapshot.slowest.seconds}s` : '';
  return `${snapshot.step}${purpose}: ${snapshot.done}/${snapshot.total} done, ${snapshot.inFlight} in flight${slowest}`;
}
