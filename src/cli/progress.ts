import { Writable } from 'node:stream';
import { progressLine, type ProgressReporter, type ProgressSnapshot, type RestartProgress } from '../rotation/progress.js';

/**
 * How often the display looks: a terminal line every second, a log record every ten.
 * @internal exported for its unit tests
 */
export const liveIntervalMs = 1000;
/** @internal exported for its unit tests */
export const recordIntervalMs = 10_000;

/** Repeats a function until the returned stop is called; tests pass a manual one. */
export type Every = (ms: number, tick: () => void) => () => void;

const realEvery: Every = (ms, tick) => {
  const timer = setInterval(tick, ms);
  // A pending tick must never keep the process alive after the run.
  timer.unref();
  return () => clearInterval(timer);
};

export interface ProgressDisplayOptions {
  /** A live line on a terminal (stderr is a TTY and logs are readable text); else periodic records. */
  live: boolean;
  /** Writes to the terminal (stderr). */
  write: (text: string) => void;
  /** Width of the terminal: a longer line would wrap and could not be redrawn in place. */
  columns?: number;
  /** Logs one progress record (message "progress"). */
  record: (fields: Record<string, unknown>) => void;
  every?: Every;
}

/** A snapshot as the fields of a JSON log record. */
function progressRecord(snapshot: ProgressSnapshot): Record<string, unknown> {
  const { slowest, ...counts } = snapshot;
  return { ...counts, ...(slowest ? { slowest: slowest.workload, slowestSeconds: slowest.seconds } : {}) };
}

/**
 * Shows restart passes while they run. On a terminal one line is redrawn in place, and log lines
 * written through `stream` clear it first and draw it again after, so the two never mix; elsewhere
 * a "progress" record is logged every ten seconds.
 */
export class ProgressDisplay implements ProgressReporter {
  private line = '';
  private readonly every: Every;

  constructor(private readonly options: ProgressDisplayOptions) {
    this.every = options.every ?? realEvery;
  }

  /** The logger's stream on a terminal. */
  readonly stream = new Writable({
    write: (chunk: Buffer | string, _encoding, done) => {
      const drawn = this.line;
      if (drawn) this.draw('');
      this.options.write(chunk.toString());
      if (drawn) this.draw(drawn);
      done();
    },
  });

  watch(progress: RestartProgress): { stop(): void } {
    const show = (): void => {
      const snapshot = progress.snapshot();
      if (this.options.live) this.draw(progressLine(snapshot));
      else this.options.record(progressRecord(snapshot));
    };
    if (this.options.live) show();
    const stop = this.every(this.options.live ? liveIntervalMs : recordIntervalMs, show);
    return {
      stop: () => {
        stop();
        if (this.line) this.draw('');
      },
    };
  }

  private draw(line: string): void {
    const width = Math.max(20, (this.options.columns ?? 80) - 1);
    const shown = line.length > width ? `${line.slice(0, width - 1)}…` : line;
    this.options.write(`\r\x1b[K${shown}`);
    this.line = shown;
  }
}
