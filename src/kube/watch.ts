import type { Logger } from '../log.js';
import { throwIfAborted, type Clock } from '../wait/poll.js';
import { failureStatus, isTransient, statusCode, statusMessage } from './errors.js';
import { retryMessage, withRetry, type RetryPolicy } from './retry.js';

/** One open watch stream. */
export interface WatchStream {
  close(): void;
}

/** What a watch stream reports: each event, and once, its end. */
export interface WatchHandlers {
  event(type: string, object: unknown): void;
  closed(error?: unknown): void;
}

/** The two API calls a resuming watch is built from; the client-node adapter implements them. */
export interface WatchSource {
  /** The collection's current resourceVersion (a list of at most one item). */
  version(): Promise<string>;
  /** Opens a watch from `resourceVersion`: resolves once it streams, rejects when it cannot open. */
  open(resourceVersion: string, handlers: WatchHandlers): Promise<WatchStream>;
}

/** An object the watch delivered, with the span it arrived in. */
export type WatchChange = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: unknown; span: number };

const reconnectMs = { first: 250, max: 5_000 };

/**
 * A stream that sent nothing (no event, no bookmark) for this long is taken for dead and
 * re-opened. The apiserver sends a bookmark about every minute on a watch that asks for them
 * (measured on kube-apiserver 1.35: 60.1 to 60.7 s apart on an idle watch), so the limit must
 * leave room above that: at 60 s, every watch of a kind with nothing rolling out (the
 * DaemonSets and StatefulSets while 1,000 Deployments restart) was re-opened each minute,
 * just before its bookmark came.
 */
const defaultWatchIdleMs = 90_000;

/** What a resuming watch needs: names for its logs, a clock, the run's signal, and its idle limit. */
export interface ResumingWatchDeps {
  what: string;
  logger: Logger;
  clock: Clock;
  signal?: AbortSignal;
  /** Re-open a stream silent for this long (default defaultWatchIdleMs). */
  idleMs?: number;
  /** How the first open is retried (the adapter's policy). */
  retry?: Partial<RetryPolicy>;
}

function versionOf(object: unknown): string | undefined {
  const metadata = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata;
  return typeof metadata?.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
}

/**
 * One watch on a collection that survives dropped connections, like an informer without its
 * cache. A dropped stream is resumed from the last resourceVersion seen, so no event is lost and
 * the span stays the same; when the server no longer has that version (410 Gone) the watch starts
 * afresh from the current version and the span changes: whatever the consumer learnt in the old
 * span may since have changed unseen. While no stream is open, `span` is undefined.
 */
export class ResumingWatch {
  private spans = 0;
  private current: number | undefined;
  private version: string | undefined;
  private stream: (WatchStream & { live: boolean }) | undefined;
  private heardAt = 0;
  private readonly halt = new AbortController();

  constructor(
    private readonly source: WatchSource,
    private readonly onChange: (change: WatchChange) => void,
    private readonly deps: ResumingWatchDeps,
  ) {}

  private get idleMs(): number {
    return this.deps.idleMs ?? defaultWatchIdleMs;
  }

  /** The unbroken stretch the watch is in, or undefined while it is not streaming. */
  get span(): number | undefined {
    return this.current;
  }

  /** Opens the first stream, retrying transient failures; throws what the API answered when it cannot (403, ...). */
  async start(): Promise<void> {
    throwIfAborted(this.deps.signal);
    this.deps.signal?.addEventListener('abort', this.stop, { once: true });
    try {
      await withRetry(this.deps.what, () => this.connect(), {
        logger: this.deps.logger,
        signal: this.halt.signal,
        clock: this.deps.clock,
        policy: this.deps.retry,
      });
    } catch (error) {
      this.stop();
      throw error;
    }
    void this.watchdog();
  }

  /** Closes the stream; the watch does not reconnect after this. */
  readonly stop = (): void => {
    this.halt.abort();
    this.current = undefined;
    this.deps.signal?.removeEventListener('abort', this.stop);
    this.stream?.close();
    this.stream = undefined;
  };

  private async connect(): Promise<void> {
    const resume = this.version !== undefined;
    const version = this.version ?? (await this.source.version());
    const span = resume ? this.spans : ++this.spans;
    this.version = version;
    const handle = { live: true };
    const stream = await this.source.open(version, {
      event: (type, object) => {
        if (!handle.live || this.halt.signal.aborted) return;
        this.heardAt = this.deps.clock.now().getTime();
        this.event(type, object, span);
      },
      closed: (error) => {
        if (!handle.live) return;
        handle.live = false;
        this.dropped(error);
      },
    });
    if (this.halt.signal.aborted || !handle.live) {
      stream.close();
      return;
    }
    this.stream = Object.assign(handle, { close: () => stream.close() });
    this.heardAt = this.deps.clock.now().getTime();
    this.current = span;
  }

  /**
   * A stream can stay open and deliver nothing: a half-open connection, a proxy that holds it.
   * One silent for the idle limit is closed and resumed from the last version seen (the
   * server replays what was missed); meanwhile `span` is undefined and readers use GETs.
   */
  private async watchdog(): Promise<void> {
    const { clock } = this.deps;
    while (!this.halt.signal.aborted) {
      const quiet = clock.now().getTime() - this.heardAt;
      if (this.stream?.live && quiet >= this.idleMs) {
        const stream = this.stream;
        stream.live = false;
        stream.close();
        this.deps.logger.warn('watch sent nothing (no event, no bookmark) for too long, re-opening it', {
          watch: this.deps.what,
          quietSeconds: Math.round(quiet / 1000),
        });
        this.dropped(undefined, true);
        continue;
      }
      await clock.sleep(this.stream?.live ? this.idleMs - quiet : Math.min(this.idleMs, 1_000), this.halt.signal);
    }
  }

  private event(type: string, object: unknown, span: number): void {
    if (type === 'ERROR') {
      // The server ends a watch whose version it has compacted away with an ERROR event (410).
      if (statusCode(object) === 410 || (object as { code?: unknown } | null)?.code === 410) this.version = undefined;
      this.deps.logger.debug('watch error event', { watch: this.deps.what, code: (object as { code?: unknown } | null)?.code });
      return;
    }
    const version = versionOf(object);
    if (version !== undefined) this.version = version;
    if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.onChange({ type, object, span });
  }

  private dropped(error: unknown, idle = false): void {
    this.current = undefined;
    this.stream = undefined;
    if (this.halt.signal.aborted) return;
    // The server ends watches after a while (a clean close); a broken stream is a failure, retried like any call.
    if (idle) this.deps.logger.debug('watch closed for silence, resuming', { watch: this.deps.what });
    else if (error === undefined || error === null) this.deps.logger.debug('watch closed, resuming', { watch: this.deps.what });
    else this.deps.logger.warn(retryMessage, { call: this.deps.what, status: failureStatus(error) });
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    for (let delay = reconnectMs.first; !this.halt.signal.aborted; delay = Math.min(delay * 2, reconnectMs.max)) {
      try {
        await this.connect();
        return;
      } catch (error) {
        if (statusCode(error) === 410) this.version = undefined;
        const status = failureStatus(error);
        if (isTransient(error) || statusCode(error) === 410) this.deps.logger.warn(retryMessage, { call: this.deps.what, status, retryInMs: delay });
        else
          this.deps.logger.warn('watch cannot resume, rollouts are read with GETs meanwhile', {
            call: this.deps.what,
            status,
            error: statusMessage(error),
            retryInMs: delay,
          });
        await this.deps.clock.sleep(delay, this.halt.signal);
      }
    }
  }
}
