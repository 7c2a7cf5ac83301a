import type { Workload, WorkloadKind, WorkloadRef } from '../kube/model.js';
import type { WorkloadChange, WorkloadFeed } from '../kube/ports.js';
import type { Clock } from '../wait/poll.js';
import type { RunContext } from './context.js';
import { workloadKey as keyOf } from './mesh.js';

/** How long a restart pass waits for its watches to open before it starts restarting (and polling). */
const openPatienceMs = 5_000;

interface Tracked {
  /** The workload as last seen, undefined once deleted; absent until something was seen. */
  seen?: { workload: Workload | undefined; span: number };
  /** Counts changes, and the count at the last read, so a change between a read and a nap is not slept through. */
  changes: number;
  read: number;
  wake: Set<() => void>;
  /** When the watch last showed this workload, or it was last read with a GET for want of news. */
  heardAt: number;
}

/**
 * Watches the rollouts of one restart pass with at most one watch per workload kind, whatever
 * the number of workloads: the waits read the workloads they track from the watches and wake
 * when one of them changes, instead of each polling its own workload. A workload the watch has
 * not shown since it last (re)started afresh, or a kind the rotator may not watch, is read
 * with a GET as before: the watch saves requests and detection delay, never correctness. Nor
 * is it trusted blind: a workload it has shown nothing of for the idle limit is read with a GET
 * (once per such period), so a stream that went silent costs at most that much delay.
 */
export class RolloutWatch {
  private readonly tracked = new Map<string, Tracked>();
  private readonly feeds = new Map<WorkloadKind, WorkloadFeed>();
  private closed = false;

  private constructor(
    private readonly clock: Clock,
    private readonly idleMs: number,
  ) {}

  /**
   * Opens a watch for each kind among the targets, waiting for them a few seconds at most: a
   * watch that opens later is used from then on, and a kind that cannot be watched is polled.
   */
  static async open(ctx: RunContext, kinds: Iterable<WorkloadKind>): Promise<RolloutWatch> {
    const watch = new RolloutWatch(ctx.clock, ctx.config.watchIdleTimeoutMs);
    if (!ctx.config.watchRollouts) return watch;
    const opening = [...new Set(kinds)].map((kind) =>
      ctx.cluster
        .watchWorkloads(kind, (change) => watch.changed(change))
        .then(
          (feed) => {
            if (watch.closed) feed.stop();
            else watch.feeds.set(kind, feed);
          },
          (error: unknown) => {
            ctx.logger.info('rollouts of this kind are polled: cannot watch them', { kind, error: error instanceof Error ? error.message : String(error) });
          },
        ),
    );
    const patience = new AbortController();
    await Promise.race([Promise.all(opening), ctx.clock.sleep(openPatienceMs, patience.signal)]);
    patience.abort();
    return watch;
  }

  /** Starts keeping what the watch shows of this workload (before the restart patch, so nothing is missed). */
  track(ref: WorkloadRef): void {
    this.tracked.set(keyOf(ref), { changes: 0, read: 0, wake: new Set(), heardAt: this.clock.now().getTime() });
  }

  untrack(ref: WorkloadRef): void {
    this.tracked.delete(keyOf(ref));
  }

  /** Records an object read directly (the patch's answer) when the watch has been streaming since before it was read. */
  saw(ref: WorkloadRef, workload: Workload, spanBefore: number | undefined): void {
    const entry = this.tracked.get(keyOf(ref));
    if (entry && spanBefore !== undefined && this.span(ref.kind) === spanBefore && entry.seen?.span !== spanBefore) {
      entry.seen = { workload, span: spanBefore };
      entry.heardAt = this.clock.now().getTime();
    }
  }

  /** The watch's current span for a kind (undefined: not streaming, read with a GET). */
  span(kind: WorkloadKind): number | undefined {
    return this.feeds.get(kind)?.span;
  }

  /**
   * The workload as the watch last showed it, when that can be trusted to be current: the watch
   * is streaming in the same span it was seen in. `undefined` means "read it yourself"; a
   * result with `workload: undefined` means the watch saw it deleted. After the idle limit
   * without news of the workload, the answer is `undefined` once (read it yourself).
   */
  latest(ref: WorkloadRef): { workload: Workload | undefined } | undefined {
    const entry = this.tracked.get(keyOf(ref));
    if (entry) entry.read = entry.changes;
    const seen = entry?.seen;
    const span = this.span(ref.kind);
    if (seen === undefined || span === undefined || seen.span !== span) return undefined;
    const now = this.clock.now().getTime();
    if (entry && now - entry.heardAt >= this.idleMs) {
      entry.heardAt = now;
      return undefined;
    }
    return { workload: seen.workload };
  }

  /** Resolves when the watch shows a change to the workload, after `ms` at the latest, or on abort. */
  nextChange(ref: WorkloadRef, ms: number, sleep: (ms: number, signal?: AbortSignal) => Promise<void>, signal?: AbortSignal): Promise<void> {
    const entry = this.tracked.get(keyOf(ref));
    if (!entry) return sleep(ms, signal);
    if (entry.changes !== entry.read) return Promise.resolve();
    const early = new AbortController();
    const wake = (): void => early.abort();
    entry.wake.add(wake);
    const onAbort = (): void => early.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    return sleep(ms, early.signal).finally(() => {
      entry.wake.delete(wake);
      signal?.removeEventListener('abort', onAbort);
    });
  }

  /** Stops every watch. */
  close(): void {
    this.closed = true;
    for (const feed of this.feeds.values()) feed.stop();
    this.feeds.clear();
    this.tracked.clear();
  }

  private changed(change: WorkloadChange): void {
    const entry = this.tracked.get(keyOf(change.ref));
    if (!entry) return;
    entry.seen = { workload: change.workload, span: change.span };
    entry.heardAt = this.clock.now().getTime();
    entry.changes++;
    for (const wake of entry.wake) wake();
  }
}
