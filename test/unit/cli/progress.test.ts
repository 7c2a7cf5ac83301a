// src/cli/progress.ts: the live line on a terminal (log lines never mix with it) and the periodic records elsewhere.
import { liveIntervalMs, ProgressDisplay, recordIntervalMs, type Every } from '../../../src/cli/progress.js';
import { RestartProgress } from '../../../src/rotation/progress.js';
import { ManualClock } from '../../support/clock.js';

function manualTimer(): { every: Every; tick: () => void; intervals: number[]; stopped: () => boolean } {
  let tick: (() => void) | undefined;
  let stopped = false;
  const intervals: number[] = [];
  return {
    every: (ms, fn) => {
      intervals.push(ms);
      tick = fn;
      return () => (stopped = true);
    },
    tick: () => tick?.(),
    intervals,
    stopped: () => stopped,
  };
}

describe('ProgressDisplay', () => {
  it('on a terminal redraws one line in place, clears it around log lines, and erases it at the end', async () => {
    const clock = new ManualClock();
    const timer = manualTimer();
    let screen = '';
    const display = new ProgressDisplay({ live: true, write: (text) => (screen += text), columns: 200, record: () => undefined, every: timer.every });
    const progress = new RestartProgress({ step: 'restart-data-plane', purpose: 'trust-new-anchor' }, 10, clock);
    const shown = display.watch(progress);
    expect(timer.intervals).toEqual([liveIntervalMs]);
    expect(screen).toBe('\r\x1b[Krestart-data-plane (trust-new-anchor): 0/10 done, 0 in flight');
    progress.start('Deployment/shop/api', 'shop/api');
    await clock.advance(42_000);
    screen = '';
    timer.tick();
    expect(screen).toBe('\r\x1b[Krestart-data-plane (trust-new-anchor): 0/10 done, 1 in flight, slowest shop/api 42s');
    screen = '';
    await new Promise<void>((resolve) => display.stream.write('12:00:00 info  restarted\n', () => resolve()));
    expect(screen).toBe('\r\x1b[K12:00:00 info  restarted\n\r\x1b[Krestart-data-plane (trust-new-anchor): 0/10 done, 1 in flight, slowest shop/api 42s');
    screen = '';
    shown.stop();
    expect(timer.stopped()).toBe(true);
    expect(screen).toBe('\r\x1b[K');
    screen = '';
    await new Promise<void>((resolve) => display.stream.write('after\n', () => resolve()));
    expect(screen).toBe('after\n');
  });

  it('cuts a line wider than the terminal, which could not be redrawn in place', () => {
    let screen = '';
    const display = new ProgressDisplay({ live: true, write: (text) => (screen += text), columns: 30, record: () => undefined, every: manualTimer().every });
    display.watch(new RestartProgress({ step: 'restart-data-plane', purpose: 'trust-new-anchor' }, 10, new ManualClock()));
    expect(screen).toBe('\r\x1b[Krestart-data-plane (trust-ne…');
  });

  it('elsewhere logs a "progress" record every ten seconds, and nothing on the terminal', async () => {
    const clock = new ManualClock();
    const timer = manualTimer();
    const records: Record<string, unknown>[] = [];
    let screen = '';
    const display = new ProgressDisplay({ live: false, write: (text) => (screen += text), record: (fields) => records.push(fields), every: timer.every });
    const progress = new RestartProgress({ step: 'restart-data-plane' }, 3, clock);
    const shown = display.watch(progress);
    expect(timer.intervals).toEqual([recordIntervalMs]);
    expect(records).toEqual([]);
    progress.start('Deployment/shop/api', 'shop/api');
    progress.start('Deployment/shop/web', 'shop/web');
    progress.end('Deployment/shop/web', true);
    await clock.advance(10_000);
    timer.tick();
    expect(records).toEqual([{ step: 'restart-data-plane', total: 3, done: 1, inFlight: 1, slowest: 'shop/api', slowestSeconds: 10 }]);
    shown.stop();
    expect(screen).toBe('');
  });
});
