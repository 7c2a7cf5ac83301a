// A rotation killed after each of its writes (a Job's deadline, an eviction, a lost node), then
// run again from what the cluster shows: the FakeCluster's write counter stops the first run
// right after write N, for every N a full rotation makes; the next run must end steady with the
// invariant held at every change (test/support/invariant.ts) and the anchor renewed only once.
import { defaultWorkloads, KilledError, type FakeOptions } from '../../support/fake-cluster.js';
import { anchorTriggers, expectRotatedFrom, fresh, phaseOf, runRotate } from '../../support/invariant.js';

/** A mesh of one workload of each kind (and the control plane), so the many runs stay fast. */
const small: FakeOptions = {
  workloads: defaultWorkloads
    .filter((w) => w.name !== 'linkerd-proxy-injector' && w.namespace !== 'linkerd-viz' && w.namespace !== 'plain')
    .map((w) => ({ ...w, replicas: 1 })),
  timings: { issueMs: 1_000, issueStatusMs: 200, bundleMs: 500 },
};

describe('a run killed after each of its writes is finished by the next run', () => {
  let writesOfFullRotation = 0;
  const phases = new Set<string>();

  beforeAll(async () => {
    const { fake } = await fresh(small);
    await runRotate(fake);
    writesOfFullRotation = fake.writes.length;
  });

  it('a full rotation of the small mesh makes a write per trigger, restart and Secret update', () => {
    // 2 triggers, 1 previous-anchor write, 3 passes over 5 workloads.
    expect(writesOfFullRotation).toBe(18);
  });

  // The write count is known once beforeAll ran: each case runs a stretch of kill points.
  it.each([
    [1, 5],
    [6, 10],
    [11, 14],
    [15, 18],
  ])(
    'killed after write %i..%i: the next run ends steady, no violation, the anchor renewed once',
    async (from, to) => {
      for (let n = from; n <= Math.min(to, writesOfFullRotation); n++) {
        const { fake, seen, anchor } = await fresh(small);
        fake.killAfterWrites(n);
        await expect(runRotate(fake)).rejects.toThrow(KilledError);
        expect(fake.writes).toHaveLength(n);
        expect(fake.clock.sleepers).toBe(0);
        // The next run starts at once (odd n) or a few seconds later (even n, when rollouts and issuances moved on).
        await fake.clock.advance(n % 2 === 0 ? 5_000 : 0);
        phases.add(await phaseOf(fake));
        const resumed = await runRotate(fake, { resume: true });
        // Steady when the run ends, not a few seconds later: it waits for old pods still terminating (see below).
        expect({ n, seen, final: resumed.finalPhase, phase: await phaseOf(fake), anchorTriggers: anchorTriggers(fake) }).toEqual({
          n,
          seen: [],
          final: 'steady',
          phase: 'steady',
          anchorTriggers: 1,
        });
        expectRotatedFrom(fake, anchor);
      }
    },
    60_000,
  );

  it('the kills left the cluster in every phase of an unfinished rotation', () => {
    expect([...phases].sort()).toEqual(['anchor-renewed', 'anchor-renewing', 'bundle-trimmed', 'issuer-renewed', 'issuer-renewing']);
  });
});

describe('a resume that finds only terminating pods left', () => {
  // Found with the fake: killed after the last restart patch and resumed at once, the run saw the old
  // pods terminating, which no step restarts, and ended without steps in phase bundle-trimmed, its
  // summary asking to restart them by hand. Now the last pass waits until they are gone.
  it('waits for the old pods to terminate and ends steady, restarting nothing more', async () => {
    const { fake, seen } = await fresh(small);
    fake.killAfterWrites(18);
    await expect(runRotate(fake)).rejects.toThrow(KilledError);
    await fake.clock.advance(4_500);
    const before = await phaseOf(fake);
    const writes = fake.writes.length;
    const resumed = await runRotate(fake, { resume: true });
    expect({
      before,
      phase: resumed.finalPhase,
      now: await phaseOf(fake),
      passes: resumed.executed.map((record) => record.step),
      writes: fake.writes.length - writes,
    }).toEqual({
      before: 'bundle-trimmed',
      phase: 'steady',
      now: 'steady',
      passes: ['restart-data-plane'],
      writes: 0,
    });
    expect(seen).toEqual([]);
  });

  it('a full rotation ends with no old pod left, however long the old pods take to terminate', async () => {
    // 30 s of graceful termination (a regression guard: an uninterrupted run already ended steady, since
    // here; only a resumed run met old pods terminating and stopped).
    const { fake, seen } = await fresh({ ...small, timings: { ...small.timings, terminationMs: 30_000 } });
    const result = await runRotate(fake);
    expect(result.finalPhase).toBe('steady');
    expect(seen).toEqual([]);
  });
});
