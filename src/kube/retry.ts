import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '../log.js';
import { failureStatus, isTransient } from './errors.js';

/** How hard to retry transient API failures. */
export interface RetryPolicy {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

/** What every retried failure logs (tests and operators look for it). */
export const retryMessage = 'transient API failure, retrying';

export const defaultRetryPolicy: RetryPolicy = { retries: 6, minTimeoutMs: 200, maxTimeoutMs: 5_000 };

/**
 * Runs one API call, retrying 429, 5xx, resets and timeouts with jittered backoff.
 * Anything else (403, 404, 409, 422, ...) goes straight back to the caller, which
 * knows what it means for that object.
 */
export async function withRetry<T>(
  what: string,
  call: () => Promise<T>,
  deps: { logger: Logger; signal?: AbortSignal; policy?: RetryPolicy },
): Promise<T> {
  const policy = deps.policy ?? defaultRetryPolicy;
  return pRetry(
    async () => {
      try {
        return await call();
      } catch (error) {
        if (!isTransient(error)) throw new AbortError(error instanceof Error ? error : new Error(String(error)));
        throw error;
      }
    },
    {
      retries: policy.retries,
      minTimeout: policy.minTimeoutMs,
      maxTimeout: policy.maxTimeoutMs,
      randomize: true,
      signal: deps.signal,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        deps.logger.warn(retryMessage, {
          call: what,
          attempt: attemptNumber,
          retriesLeft,
          status: failureStatus(error),
        });
      },
    },
  );
}
