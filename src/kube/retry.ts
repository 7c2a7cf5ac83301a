import pRetry from 'p-retry';
import { AbortedError } from '../errors.js';
import type { Logger } from '../log.js';
import { systemClock, throwIfAborted, type Clock } from '../wait/poll.js';
import { failureStatus, isTransient, RequestTimeoutError } from './errors.js';

/**
 * How hard to retry transient API failures. The window is wall time, not a count: an
 * apiserver that is away for a minute (a control-plane upgrade) must not end a step.
 */
export interface RetryPolicy {
  /** Transient failures are retried until this much time has passed since the first attempt. */
  windowMs: number;
  /** First backoff; it doubles up to maxDelayMs, with jitter. */
  minDelayMs: number;
  maxDelayMs: number;
  /** Deadline of one attempt: a request on a half-open connection would otherwise wait for ever. */
  requestTimeoutMs: number;
}

/** What every retried failure logs (tests and operators look for it). */
export const retryMessage = 'transient API failure, retrying';

/** 120 s of retries (an outage of a minute and more), backoff capped at 5 s, 30 s per request. */
export const defaultRetryPolicy: RetryPolicy = { windowMs: 120_000, minDelayMs: 250, maxDelayMs: 5_000, requestTimeoutMs: 30_000 };

/** What a retried call needs: a logger, the run's signal, and (tests) a policy and a clock. */
export interface RetryDeps {
  logger: Logger;
  signal?: AbortSignal;
  policy?: Partial<RetryPolicy>;
  clock?: Clock;
  /** Jitter source in [0, 1); tests pin it. */
  random?: () => number;
  /**
   * The write fence (the rotation lock's assertHeld): called before every attempt of a write,
   * retries included, and throws when the run may no longer write. Reads never call it.
   */
  fence?: () => void;
}

/**
 * The backoff before attempt `attempt + 1`: doubling from minDelayMs, capped, with up to 50% jitter taken off.
 * @internal exported for its unit tests
 */
export function backoffMs(policy: Pick<RetryPolicy, 'minDelayMs' | 'maxDelayMs'>, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - random() / 2));
}

/**
 * One attempt, bounded by the request timeout and the run's signal. The call gets a signal to
 * hand to its request; the attempt also settles without it (a call that ignores the signal
 * cannot hold the run). A timeout becomes RequestTimeoutError (transient); an abort, AbortedError.
 */
async function attempt<T>(call: (signal: AbortSignal) => Promise<T>, timeoutMs: number, runSignal: AbortSignal | undefined): Promise<T> {
  const timeout = new AbortController();
  const signal = runSignal ? AbortSignal.any([timeout.signal, runSignal]) : timeout.signal;
  let stop: (() => void) | undefined;
  const stopped = new Promise<never>((_resolve, reject) => {
    const timer = setTimeout(() => {
      timeout.abort();
      reject(new RequestTimeoutError(`no answer within ${Math.round(timeoutMs / 100) / 10}s`));
    }, timeoutMs);
    const onAbort = (): void => {
      const reason: unknown = runSignal?.reason;
      reject(new AbortedError(typeof reason === 'string' ? reason : 'SIGTERM'));
    };
    runSignal?.addEventListener('abort', onAbort, { once: true });
    stop = () => {
      clearTimeout(timer);
      runSignal?.removeEventListener('abort', onAbort);
    };
  });
  stopped.catch(() => undefined);
  try {
    return await Promise.race([call(signal), stopped]);
  } catch (error) {
    // The request library reports our own abort as its AbortError: say which it was.
    throwIfAborted(runSignal);
    if (timeout.signal.aborted) throw new RequestTimeoutError(`no answer within ${Math.round(timeoutMs / 100) / 10}s`, { cause: error });
    throw error;
  } finally {
    stop?.();
  }
}

/**
 * Runs one API call, retrying 429, 5xx, refused and reset connections and timeouts with capped,
 * jittered backoff until the policy's window has passed. Anything else (403, 404, 409, 422, ...)
 * goes straight back to the caller, which knows what it means for that object. The run's
 * signal stops it at once, in a request or in a backoff (AbortedError). `beforeAttempt` runs
 * before every attempt, the first and each retry: a write's fence, so that a lock lost while a
 * write was being retried stops it before the next attempt (what it throws comes back as is).
 *
 * p-retry runs the attempts; the decision and the backoff are ours, in `shouldRetry` (awaited
 * before the next attempt), because the window and the sleeps are measured on the run's clock,
 * which tests replace (p-retry's own timers are set to zero).
 */
export async function withRetry<T>(what: string, call: (signal: AbortSignal) => Promise<T>, deps: RetryDeps, beforeAttempt?: () => void): Promise<T> {
  const policy = { ...defaultRetryPolicy, ...deps.policy };
  const clock = deps.clock ?? systemClock;
  const started = clock.now().getTime();
  return pRetry(
    () => {
      throwIfAborted(deps.signal);
      beforeAttempt?.();
      return attempt(call, policy.requestTimeoutMs, deps.signal);
    },
    {
      retries: Number.POSITIVE_INFINITY,
      minTimeout: 0,
      maxTimeout: 0,
      shouldRetry: async ({ error, attemptNumber }) => {
        throwIfAborted(deps.signal);
        if (!isTransient(error)) return false;
        const elapsed = clock.now().getTime() - started;
        const delay = backoffMs(policy, attemptNumber, deps.random);
        const retryLeftMs = policy.windowMs - elapsed - delay;
        if (retryLeftMs < 0) return false;
        deps.logger.warn(retryMessage, {
          call: what,
          attempt: attemptNumber,
          status: failureStatus(error),
          retryInMs: delay,
          retryWindowLeftSeconds: Math.round(retryLeftMs / 1000),
        });
        await clock.sleep(delay, deps.signal);
        return true;
      },
    },
  );
}
