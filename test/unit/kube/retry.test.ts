// src/kube/retry.ts: the retry window in wall time, capped backoff, the request timeout and the run's abort.
import { AbortedError } from '../../../src/errors.js';
import { RequestTimeoutError } from '../../../src/kube/errors.js';
import { backoffMs, defaultRetryPolicy, retryMessage, withRetry } from '../../../src/kube/retry.js';
import { silentLogger } from '../../../src/log.js';
import type { Clock } from '../../../src/wait/poll.js';
import { capturingLogger } from '../../support/logger.js';

/** A clock whose sleeps pass at once and move its time on: the whole window runs in microseconds. */
class SkippingClock implements Clock {
  readonly sleeps: number[] = [];
  ms = 0;
  now(): Date {
    return new Date(this.ms);
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.ms += ms;
    return Promise.resolve();
  }
}

const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
const status = (code: number): Error => Object.assign(new Error(`HTTP ${code}`), { code });

describe('withRetry', () => {
  it('keeps retrying refused connections for two minutes of wall time, with backoff doubling from 250 ms and capped at 5 s', async () => {
    const clock = new SkippingClock();
    let attempts = 0;
    const failing = withRetry(
      'get secrets a/b',
      () => {
        attempts++;
        return Promise.reject(refused());
      },
      { logger: silentLogger(), clock, random: () => 0 },
    );
    await expect(failing).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(clock.sleeps.slice(0, 6)).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000]);
    expect(Math.max(...clock.sleeps)).toBe(5_000);
    // Gave up only once another backoff would have passed the window, never before 90 s.
    expect(clock.ms).toBeGreaterThan(defaultRetryPolicy.windowMs - 5_000);
    expect(clock.ms).toBeLessThanOrEqual(defaultRetryPolicy.windowMs);
    expect(attempts).toBe(clock.sleeps.length + 1);
  });

  it('an apiserver away for 60 s: the call succeeds once it is back', async () => {
    const clock = new SkippingClock();
    const value = await withRetry('list pods (all)', () => (clock.ms < 60_000 ? Promise.reject(refused()) : Promise.resolve('pods')), {
      logger: silentLogger(),
      clock,
    });
    expect(value).toBe('pods');
    expect(clock.ms).toBeGreaterThanOrEqual(60_000);
    expect(clock.ms).toBeLessThan(66_000);
  });

  it.each([429, 500, 503])('retries HTTP %s, and logs each retry with the status and the window left', async (code) => {
    const clock = new SkippingClock();
    const { logger, lines } = capturingLogger();
    let attempts = 0;
    await withRetry('patch deployments.apps shop/api', () => (++attempts < 3 ? Promise.reject(status(code)) : Promise.resolve('ok')), {
      logger,
      clock,
      random: () => 0,
    });
    const retries = lines.filter((line) => line.message === retryMessage);
    expect(retries.map((line) => [line.call, line.attempt, line.status, line.retryInMs])).toEqual([
      ['patch deployments.apps shop/api', 1, code, 250],
      ['patch deployments.apps shop/api', 2, code, 500],
    ]);
    expect(retries[0]?.retryWindowLeftSeconds).toBe(120);
  });

  it('checks the fence before every attempt, retries included: what it throws ends the call before the next attempt', async () => {
    const clock = new SkippingClock();
    let attempts = 0;
    let fenceChecks = 0;
    let held = true;
    const lost = new Error('stopped before a write: the rotation lock was lost');
    const write = withRetry(
      'update secrets a/b',
      () => {
        attempts++;
        // The lock is lost while the write is failing transiently.
        if (attempts === 2) held = false;
        return Promise.reject(status(503));
      },
      { logger: silentLogger(), clock, random: () => 0 },
      () => {
        fenceChecks++;
        if (!held) throw lost;
      },
    );
    await expect(write).rejects.toBe(lost);
    expect(attempts).toBe(2);
    expect(fenceChecks).toBe(3);
  });

  it.each([403, 404, 409, 422])('hands HTTP %s straight back, without a retry', async (code) => {
    const clock = new SkippingClock();
    let attempts = 0;
    await expect(withRetry('get x', () => (attempts++, Promise.reject(status(code))), { logger: silentLogger(), clock })).rejects.toMatchObject({ code });
    expect(attempts).toBe(1);
  });

  it('ends an attempt that gets no answer at the request timeout, aborts its request, and retries it', async () => {
    const signals: AbortSignal[] = [];
    let attempts = 0;
    const value = await withRetry(
      'get secrets a/b',
      (signal) => {
        signals.push(signal);
        return ++attempts < 3 ? new Promise<never>(() => undefined) : Promise.resolve('answered');
      },
      { logger: silentLogger(), policy: { requestTimeoutMs: 50, minDelayMs: 1, maxDelayMs: 1 } },
    );
    expect(value).toBe('answered');
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true, false]);
  });

  it('gives up with RequestTimeoutError once the window has passed', async () => {
    const started = Date.now();
    await expect(
      withRetry('get secrets a/b', () => new Promise<never>(() => undefined), {
        logger: silentLogger(),
        policy: { requestTimeoutMs: 50, windowMs: 300, minDelayMs: 10, maxDelayMs: 10 },
      }),
    ).rejects.toThrow(RequestTimeoutError);
    // It stops once another attempt and backoff would pass the window: at most one of each short of it.
    expect(Date.now() - started).toBeGreaterThanOrEqual(300 - 50 - 10 - 5);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("stops at once on the run's abort, in a request that hangs (even one that ignores its signal)", async () => {
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort('SIGTERM'), 50);
    await expect(withRetry('get secrets a/b', () => new Promise<never>(() => undefined), { logger: silentLogger(), signal: abort.signal })).rejects.toEqual(
      new AbortedError('SIGTERM'),
    );
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("stops at once on the run's abort, in a backoff", async () => {
    const abort = new AbortController();
    const started = Date.now();
    let attempts = 0;
    setTimeout(() => abort.abort('SIGINT'), 50);
    const call = withRetry('get secrets a/b', () => (attempts++, Promise.reject(refused())), {
      logger: silentLogger(),
      signal: abort.signal,
      policy: { minDelayMs: 10_000, maxDelayMs: 10_000 },
    });
    await expect(call).rejects.toEqual(new AbortedError('SIGINT'));
    expect(attempts).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('backoffMs takes up to half off with jitter, never more', () => {
    const policy = { minDelayMs: 250, maxDelayMs: 5_000 };
    expect(backoffMs(policy, 1, () => 0)).toBe(250);
    expect(backoffMs(policy, 1, () => 0.999)).toBe(125);
    expect(backoffMs(policy, 10, () => 0)).toBe(5_000);
    expect(backoffMs(policy, 10, () => 0.5)).toBe(3_750);
  });
});
