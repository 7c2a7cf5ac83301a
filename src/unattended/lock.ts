import { LockedError } from '../errors.js';
import { hasWriteFencing, type Cluster } from '../kube/ports.js';
import type { Logger } from '../log.js';
import { throwIfAborted, type Clock } from '../wait/poll.js';
import { LeaseConflictError, type HolderProbe, type HolderRef, type LeaseRecord, type LeasePort } from './ports.js';
import { errorMessage, formatDuration } from './text.js';

/** Where the lock lives and how it behaves. */
export interface LockSpec {
  namespace: string;
  name: string;
  holder: string;
  /** Where this run runs, recorded on the Lease for the next run's liveness check. */
  holderRef?: HolderRef;
  /** leaseDurationSeconds: a run that stops renewing loses the lock after this long. */
  durationMs: number;
  /** How long to wait for another holder; 0 refuses at once. */
  waitMs: number;
  /** Interval between two looks while waiting. */
  pollMs: number;
}

/**
 * What to do with the Lease as read.
 * @internal exported for its unit tests
 */
export type LockDecision =
  { action: 'create' } | { action: 'take'; from?: string; reason: 'free' | 'expired' | 'self' | 'gone' } | { action: 'wait'; holder: string; expiresAt: Date };

/** The lock was lost while the run held it: another run may now act. The run stops at the next safe point. */
export class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

/**
 * When the Lease expires unless renewed (renewTime, else acquireTime, plus its duration); undefined when it cannot tell.
 * @internal exported for its unit tests
 */
export function leaseExpiry(lease: LeaseRecord): Date | undefined {
  const last = lease.renewTime ?? lease.acquireTime;
  if (!last || !lease.durationSeconds) return undefined;
  return new Date(last.getTime() + lease.durationSeconds * 1000);
}

/**
 * Pure: whether this holder may take the Lease now. Free, expired (a killed run), held by a
 * holder known to be gone (its pod deleted or finished, its process exited) or our own (a
 * restarted container of the same pod) may be taken; a live holder is waited for. Expiry is
 * judged by the holder's renewTime, so clocks are assumed roughly in sync (as in any cluster).
 * @internal exported for its unit tests
 */
export function decideLock(current: LeaseRecord | undefined, holder: string, now: Date, holderGone = false): LockDecision {
  if (!current) return { action: 'create' };
  if (!current.holder) return { action: 'take', reason: 'free' };
  if (current.holder === holder) return { action: 'take', from: holder, reason: 'self' };
  const expiresAt = leaseExpiry(current);
  if (!expiresAt || now.getTime() >= expiresAt.getTime()) return { action: 'take', from: current.holder, reason: 'expired' };
  if (holderGone) return { action: 'take', from: current.holder, reason: 'gone' };
  return { action: 'wait', holder: current.holder, expiresAt };
}

/** "pod linkerd-cert-rotator/rotator-29170080-x7k2p" or "process 4242 on laptop". */
function describeHolderRef(ref: HolderRef): string {
  return ref.kind === 'pod' ? `pod ${ref.namespace}/${ref.name}` : `process ${ref.pid} on ${ref.host}`;
}

const conflictAttempts = 10;

/** Renewals come at most this far apart, so that an apiserver away for a minute or more does not cost the default 3m Lease. */
const maxRenewIntervalMs = 10_000;
/** After a failed renewal, the next try comes this soon (the adapter retries within each try, too). */
const retryRenewMs = 1_000;
/**
 * No single Lease call may take longer than this, whatever the port does.
 * @internal exported for its unit tests
 */
export const lockCallTimeoutMs = 30_000;

/**
 * Renewal cadence and fencing deadline of a Lease of `durationMs`.
 * @internal exported for its unit tests
 */
export function lockTimings(durationMs: number): { renewEveryMs: number; fenceAfterMs: number } {
  return { renewEveryMs: Math.max(1, Math.min(Math.floor(durationMs / 3), maxRenewIntervalMs)), fenceAfterMs: Math.floor((durationMs * 2) / 3) };
}

/** A Lease call that got no answer in time. */
class LockCallTimeoutError extends Error {
  override readonly name = 'LockCallTimeoutError';
}

/**
 * One rotation at a time: a coordination.k8s.io/v1 Lease held for the run, renewed every third
 * of its duration (every 10 s at most), released at the end. Fencing: once two thirds of the
 * duration have passed since the last renewal that reached the API server (another run may take
 * the Lease when all of it has), or when another holder took it, the lock is lost: `lost` aborts
 * (the run's waits and steps watch it) and `assertHeld` throws before any further write. Every
 * Lease call has a deadline, so a call that hangs cannot keep the run writing.
 */
export class LeaseLock {
  private held: LeaseRecord | undefined;
  /** The renewTime of the last write of the Lease that succeeded: others may take it at this plus the duration. */
  private renewedAt = 0;
  private readonly lostController = new AbortController();
  private readonly stopController = new AbortController();
  private renewing: Promise<void> | undefined;
  private lostReason: string | undefined;

  constructor(
    private readonly port: LeasePort,
    private readonly spec: LockSpec,
    private readonly deps: { clock: Clock; logger: Logger; holders?: HolderProbe },
  ) {}

  /** Aborted (reason 'lock-lost') when the lock is lost while held. */
  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  /**
   * Throws LockLostError unless the Lease is surely still ours: held, not lost, and renewed
   * within two thirds of its duration. Checked before every write of the run (see fenceWrites).
   */
  assertHeld(): void {
    if (!this.lostReason && this.held && this.deps.clock.now().getTime() - this.renewedAt >= lockTimings(this.spec.durationMs).fenceAfterMs) {
      this.lose(this.unrenewedReason());
    }
    if (this.lostReason) throw new LockLostError(`stopped before a write: the rotation lock was lost (${this.lostReason})`);
    if (!this.held) throw new LockLostError(`stopped before a write: ${this.where} is not held`);
  }

  /** Why the lock was lost, if it was. */
  get lostBecause(): string | undefined {
    return this.lostReason;
  }

  private get where(): string {
    return `Lease ${this.spec.namespace}/${this.spec.name}`;
  }

  /** Takes the Lease, waiting up to spec.waitMs for a live holder; throws LockedError when it cannot. */
  async acquire(signal?: AbortSignal): Promise<void> {
    const { clock, logger } = this.deps;
    const started = clock.now().getTime();
    let announced = false;
    for (;;) {
      throwIfAborted(signal);
      const blocked = await this.tryTake();
      if (!blocked) break;
      const now = clock.now();
      const waited = now.getTime() - started;
      const held = `${this.where} is held by ${blocked.holder}, which must renew it before ${blocked.expiresAt.toISOString()} (in ${formatDuration(blocked.expiresAt.getTime() - now.getTime())})`;
      if (waited >= this.spec.waitMs) {
        throw new LockedError(
          `another run holds the rotation lock: ${held}${this.spec.waitMs > 0 ? `; gave up after waiting ${formatDuration(waited)}` : ''}. Retry later, or pass --lock-wait to wait for it`,
        );
      }
      if (!announced)
        logger.info(`waiting for the rotation lock: ${held}`, { lease: this.where, holder: blocked.holder, waitUpTo: formatDuration(this.spec.waitMs) });
      announced = true;
      await clock.sleep(Math.min(this.spec.pollMs, this.spec.waitMs - waited), signal);
    }
    this.renewing = Promise.all([this.renewLoop(), this.fenceLoop()]).then(() => undefined);
  }

  /** Bounds one Lease call by lockCallTimeoutMs on the lock's clock, and (renewals) by the release. */
  private async bounded<T>(what: string, call: Promise<T>, until?: AbortSignal): Promise<T> {
    const timer = new AbortController();
    const stop = until ? AbortSignal.any([timer.signal, until]) : timer.signal;
    const timeout = this.deps.clock.sleep(lockCallTimeoutMs, stop).then(() => {
      if (timer.signal.aborted) return undefined as never;
      throw until?.aborted
        ? new LockLostError(`${this.where}: released while a renewal was under way`)
        : new LockCallTimeoutError(`${what} ${this.where} got no answer within ${formatDuration(lockCallTimeoutMs)}`);
    });
    try {
      return await Promise.race([call, timeout]);
    } finally {
      timer.abort();
    }
  }

  private unrenewedReason(): string {
    const since = this.deps.clock.now().getTime() - this.renewedAt;
    return `could not renew ${this.where} for ${formatDuration(since)}${this.lastRenewError ? ` (${this.lastRenewError})` : ''}; another run may take it`;
  }

  private lastRenewError: string | undefined;

  /** Marks the lock lost once, says so, and aborts `lost`. */
  private lose(reason: string): void {
    if (this.lostReason) return;
    this.lostReason = reason;
    this.deps.logger.error(`rotation lock lost: ${reason}; stopping at the next safe point, no further write`, { lease: this.where });
    this.held = undefined;
    this.lostController.abort('lock-lost');
  }

  /** Fencing deadline: whether or not a renewal call returns, the lock is lost two thirds of the duration after the last renewal. */
  private async fenceLoop(): Promise<void> {
    const { clock } = this.deps;
    const { fenceAfterMs } = lockTimings(this.spec.durationMs);
    while (!this.stopController.signal.aborted && !this.lostReason) {
      const left = this.renewedAt + fenceAfterMs - clock.now().getTime();
      if (left <= 0) {
        this.lose(this.unrenewedReason());
        return;
      }
      await clock.sleep(left, this.stopController.signal);
    }
  }

  /** One read-decide-write round, again on a conflict; returns the live holder when it must wait. */
  // eslint-disable-next-line complexity -- the decision is decideLock's (pure, tested); this is the read-decide-write round around it, kept whole because its order is what makes the lock safe
  private async tryTake(): Promise<{ holder: string; expiresAt: Date } | undefined> {
    for (let attempt = 1; ; attempt++) {
      const now = this.deps.clock.now();
      const current = await this.bounded('get', this.port.getLease(this.spec.namespace, this.spec.name));
      let decision = decideLock(current, this.spec.holder, now);
      if (decision.action === 'wait' && current?.holderRef && (await this.holderAlive(current.holderRef)) === false) {
        decision = decideLock(current, this.spec.holder, now, true);
      }
      if (decision.action === 'wait') return decision;
      const mine: LeaseRecord = {
        namespace: this.spec.namespace,
        name: this.spec.name,
        holder: this.spec.holder,
        holderRef: this.spec.holderRef,
        durationSeconds: Math.max(1, Math.round(this.spec.durationMs / 1000)),
        acquireTime: now,
        renewTime: now,
        transitions: (current?.transitions ?? 0) + (decision.action === 'take' && decision.reason !== 'self' ? 1 : 0),
        resourceVersion: current?.resourceVersion,
      };
      try {
        this.held = await this.bounded(
          decision.action === 'create' ? 'create' : 'update',
          decision.action === 'create' ? this.port.createLease(mine) : this.port.replaceLease(mine),
        );
        this.renewedAt = now.getTime();
        const tookOver =
          decision.action === 'take' && (decision.reason === 'expired' || decision.reason === 'gone')
            ? {
                tookOverFrom: decision.from,
                because:
                  decision.reason === 'gone' && current?.holderRef
                    ? `${describeHolderRef(current.holderRef)} is gone`
                    : `its Lease expired at ${current && leaseExpiry(current)?.toISOString()}`,
              }
            : {};
        this.deps.logger.info('rotation lock acquired', { lease: this.where, holder: this.spec.holder, durationSeconds: mine.durationSeconds, ...tookOver });
        return undefined;
      } catch (error) {
        if (!(error instanceof LeaseConflictError) || attempt >= conflictAttempts) throw error;
      }
    }
  }

  /** Asks the probe; a probe that fails cannot tell (the holder counts as alive). */
  private async holderAlive(ref: HolderRef): Promise<boolean | undefined> {
    if (!this.deps.holders) return undefined;
    try {
      return await this.deps.holders.alive(ref);
    } catch (error) {
      this.deps.logger.debug('could not tell whether the lock holder still runs', { holder: describeHolderRef(ref), error: errorMessage(error) });
      return undefined;
    }
  }

  /** Renews on its cadence until released, sooner again after a failure; loses the lock when another run took it. */
  private async renewLoop(): Promise<void> {
    const { clock, logger } = this.deps;
    const { renewEveryMs } = lockTimings(this.spec.durationMs);
    let pause = renewEveryMs;
    for (;;) {
      await clock.sleep(pause, this.stopController.signal);
      if (this.stopController.signal.aborted || this.lostReason) return;
      try {
        await this.renewOnce();
        this.lastRenewError = undefined;
        pause = renewEveryMs;
      } catch (error) {
        if (this.lostReason || this.stopController.signal.aborted) return;
        if (error instanceof LockLostError) {
          this.lose(error.message);
          return;
        }
        this.lastRenewError = errorMessage(error);
        logger.warn('could not renew the rotation lock; trying again', {
          lease: this.where,
          error: this.lastRenewError,
          sinceLastRenewal: formatDuration(clock.now().getTime() - this.renewedAt),
        });
        pause = Math.min(retryRenewMs, renewEveryMs);
      }
    }
  }

  private async renewOnce(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const held = this.held;
      if (!held) throw new LockLostError(`${this.where} is no longer held`);
      const renewTime = this.deps.clock.now();
      try {
        const renewed = await this.bounded('update', this.port.replaceLease({ ...held, renewTime }), this.stopController.signal);
        // A renewal that returns after the fence fell must not revive the lock.
        if (this.lostReason) return;
        this.held = renewed;
        this.renewedAt = renewTime.getTime();
        return;
      } catch (error) {
        if (!(error instanceof LeaseConflictError) || attempt >= conflictAttempts) throw error;
        const current = await this.bounded('get', this.port.getLease(this.spec.namespace, this.spec.name), this.stopController.signal);
        if (current?.holder !== this.spec.holder)
          throw new LockLostError(`${this.where} was taken by ${current?.holder || 'nobody'} (deleted or expired while this run held it)`);
        this.held = current;
      }
    }
  }

  /** Stops renewing and frees the Lease if still ours. Never throws: a Lease left behind expires on its own. */
  async release(): Promise<void> {
    this.stopController.abort();
    await this.renewing;
    if (!this.held) return;
    try {
      for (let attempt = 1; ; attempt++) {
        const current = await this.bounded('get', this.port.getLease(this.spec.namespace, this.spec.name));
        if (current?.holder !== this.spec.holder) return;
        try {
          await this.bounded(
            'update',
            this.port.replaceLease({ ...current, holder: undefined, holderRef: undefined, acquireTime: undefined, renewTime: this.deps.clock.now() }),
          );
          this.deps.logger.info('rotation lock released', { lease: this.where });
          return;
        } catch (error) {
          if (!(error instanceof LeaseConflictError) || attempt >= conflictAttempts) throw error;
        }
      }
    } catch (error) {
      this.deps.logger.warn(`could not release the rotation lock; it expires on its own within ${formatDuration(this.spec.durationMs)}`, {
        lease: this.where,
        error: errorMessage(error),
      });
    } finally {
      this.held = undefined;
    }
  }
}

/**
 * The cluster port with every write fenced: before each call that is not a read (a method named
 * get*, list* or watch*), `assertHeld` must pass, so a run whose lock was lost makes no further
 * change. An adapter that retries (the real one) also checks it before every retry of a write:
 * a lock lost while a write was being retried stops it before its next attempt. Reads stay
 * free: the run may still look, and report, after the lock is gone.
 */
export function fenceWrites<C extends Cluster>(cluster: C, assertHeld: () => void): C {
  // The fenced adapter is the same class as `cluster` (withWriteFence returns a copy of it).
  const inner = (hasWriteFencing(cluster) ? cluster.withWriteFence(assertHeld) : cluster) as C;
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (typeof property === 'string' && /^(get|list|watch|read)/.test(property)) return method.bind(target);
      return (...args: unknown[]) => {
        assertHeld();
        return method.apply(target, args);
      };
    },
  });
}
