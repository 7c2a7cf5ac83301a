// src/rotation/progress.ts: what a restart pass reports while it runs, computed from a fake clock.
import { progressLine, RestartProgress } from '../../../src/rotation/progress.js';
import { ManualClock } from '../../support/clock.js';

describe('RestartProgress', () => {
  it('counts done and in flight, and names the rollout waited on longest', async () => {
    const clock = new ManualClock();
    const progress = new RestartProgress({ step: 'restart-data-plane', purpose: 'trust-new-anchor' }, 4, clock);
    expect(progress.snapshot()).toEqual({ step: 'restart-data-plane', purpose: 'trust-new-anchor', total: 4, done: 0, inFlight: 0 });
    progress.start('Deployment/shop/api', 'shop/api');
    await clock.advance(30_000);
    progress.start('StatefulSet/shop/api', 'shop/db');
    await clock.advance(12_500);
    expect(progress.snapshot()).toMatchObject({ done: 0, inFlight: 2, slowest: { workload: 'shop/api', seconds: 42 } });
    progress.end('Deployment/shop/api', true);
    expect(progress.snapshot()).toMatchObject({ done: 1, inFlight: 1, slowest: { workload: 'shop/db', seconds: 12 } });
    progress.end('StatefulSet/shop/api', false);
    expect(progress.snapshot()).toEqual({ step: 'restart-data-plane', purpose: 'trust-new-anchor', total: 4, done: 1, inFlight: 0 });
  });

  it.each([
    [
      { step: 'restart-data-plane', purpose: 'trust-new-anchor', total: 1010, done: 340, inFlight: 8, slowest: { workload: 'shop/api', seconds: 42 } },
      'restart-data-plane (trust-new-anchor): 340/1010 done, 8 in flight, slowest shop/api 42s',
    ],
    [{ step: 'restart-control-plane', total: 3, done: 3, inFlight: 0 }, 'restart-control-plane: 3/3 done, 0 in flight'],
  ])('progressLine %#', (snapshot, line) => {
    expect(progressLine(snapshot)).toBe(line);
  });
});
