import { LockedError } from '../errors.js';
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

/** What to do with the Lease as read. */
export type LockDecision =
  | { action: 'create' }
  | { action: 'take'; from?: string; reason: 'free' | 'expired' | 'self' | 'gone' }
  | { action: 'wait'; holder: string; expiresAt: Date };

/** The lock was lost while the run held it: another run may now act. The run stops at the next safe point. */
export class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

/** When the Lease expires unless renewed (renewTime, else acquireTime, plus its duration); undefined when it cannot tell. */
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
export function describeHolderRef(ref: HolderRef): string {
  return ref.kind === 'pod' ? `pod ${ref.namespace}/${ref.name}` : `process ${ref.pid} on ${ref.host}`;
}

const conflictAttempts = 10;

/**
 * One rotation at a time: a coordination.k8s.io/v1 Lease held for the run, renewed every third
 * of its duration, released at the end. Renewal failing for two thirds of the duration (or the
 * Lease taken by another holder) aborts `lost`, which the run's waits and steps watch.
 */
export class LeaseLock {
  private held: LeaseRecord | undefined;
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
      if (!announced) logger.info(`waiting for the rotation lock: ${held}`, { lease: this.where, holder: blocked.holder, waitUpTo: formatDuration(this.spec.waitMs) });
      announced = true;
      await clock.sleep(Math.min(this.spec.pollMs, this.spec.waitMs - waited), signal);
    }
    this.renewing = this.renewLoop();
  }

  /** One read-decide-write round, again on a conflict; returns the live holder when it must wait. */
  private async tryTake(): Promise<{ holder: string; expiresAt: Date } | undefined> {
    for (let attempt = 1; ; attempt++) {
      const now = this.deps.clock.now();
      const current = await this.port.getLease(this.spec.namespace, this.spec.name);
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
        this.held = decision.action === 'create' ? await this.port.createLease(mine) : await this.port.replaceLease(mine);
        const tookOver =
          decision.action === 'take' && (decision.reason === 'expired' || decision.reason === 'gone')
            ? { tookOverFrom: decision.from, because: decision.reason === 'gone' && current?.holderRef ? `${describeHolderRef(current.holderRef)} is gone` : `its Lease expired at ${current && leaseExpiry(current)?.toISOString()}` }
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

  /** Renews every third of the duration until released; marks the lock lost when it cannot keep it. */
  private async renewLoop(): Promise<void> {
    const { clock, logger } = this.deps;
    const interval = Math.max(1, Math.floor(this.spec.durationMs / 3));
    let lastRenewed = clock.now().getTime();
    for (;;) {
      await clock.sleep(interval, this.stopController.signal);
      if (this.stopController.signal.aborted) return;
      try {
        await this.renewOnce();
        lastRenewed = clock.now().getTime();
      } catch (error) {
        const message = errorMessage(error);
        const since = clock.now().getTime() - lastRenewed;
        if (error instanceof LockLostError || since >= (this.spec.durationMs * 2) / 3) {
          this.lostReason = error instanceof LockLostError ? message : `could not renew ${this.where} for ${formatDuration(since)} (${message}); another run may take it`;
          logger.error(`rotation lock lost: ${this.lostReason}; stopping at the next safe point`, { lease: this.where });
          this.held = undefined;
          this.lostController.abort('lock-lost');
          return;
        }
        logger.warn('could not renew the rotation lock; trying again', { lease: this.where, error: message, sinceLastRenewal: formatDuration(since) });
      }
    }
  }

  private async renewOnce(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const held = this.held;
      if (!held) throw new LockLostError(`${this.where} is no longer held`);
      try {
        this.held = await this.port.replaceLease({ ...held, renewTime: this.deps.clock.now() });
        return;
      } catch (error) {
        if (!(error instanceof LeaseConflictError) || attempt >= conflictAttempts) throw error;
        const current = await this.port.getLease(this.spec.namespace, this.spec.name);
        if (current?.holder !== this.spec.holder) throw new LockLostError(`${this.where} was taken by ${current?.holder || 'nobody'} (deleted or expired while this run held it)`);
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
        const current = await this.port.getLease(this.spec.namespace, this.spec.name);
        if (current?.holder !== this.spec.holder) return;
        try {
          await this.port.replaceLease({ ...current, holder: undefined, holderRef: undefined, acquireTime: undefined, renewTime: this.deps.clock.now() });
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
