// The command modules against the in-memory FakeCluster: what each returns (data, not text), that
// a dry run writes nothing, and that rotate hands back the policy's decision in its result.
import * as renewCerts from '../../../src/commands/renew-certs.js';
import * as restart from '../../../src/commands/restart.js';
import * as rotate from '../../../src/commands/rotate.js';
import * as updateBundle from '../../../src/commands/update-bundle.js';
import type { CommandDeps } from '../../../src/commands/deps.js';
import { PreconditionError } from '../../../src/errors.js';
import type { PolicyDecision } from '../../../src/unattended/policy.js';
import type { FakeCluster } from '../../support/fake-cluster.js';
import { config, contextFor, expectRotatedFrom, fresh } from '../../support/invariant.js';
import { fullRotation } from '../../support/plan-shape.js';

const DAY = 86_400_000;
const notDue = { rotateAfterMs: 3650 * DAY, rotateBeforeExpiryMs: DAY, force: false };

const depsFor = (fake: FakeCluster): CommandDeps => {
  const { cluster, logger, clock, signal } = contextFor(fake);
  return { cluster, logger, clock, signal };
};

describe('rotate', () => {
  it('not due: nothing runs, and the decision comes back in the result (the one the hooks heard)', async () => {
    const { fake } = await fresh();
    const heard: PolicyDecision[] = [];
    const hooks = {
      decided: (d: PolicyDecision) => heard.push(d),
      planned: () => Promise.resolve(),
      stepStarted: () => Promise.resolve(),
      stepFinished: () => Promise.resolve(),
      stepFailed: () => Promise.resolve(),
    };
    const result = await fake.clock.drive(rotate.run({ config, dryRun: false, policy: notDue }, { ...depsFor(fake), hooks }));
    expect(result.executed).toEqual([]);
    expect(result.decision).toMatchObject({ startNew: false, due: false, phase: 'steady' });
    expect(heard).toEqual([result.decision]);
    expect(fake.writes).toEqual([]);
  });

  it('--force: the whole rotation, with the forced decision', async () => {
    const { fake, seen, anchor } = await fresh();
    const result = await fake.clock.drive(rotate.run({ config, dryRun: false, policy: { ...notDue, force: true } }, depsFor(fake)));
    expect(result.decision).toMatchObject({ startNew: true, forced: true });
    expect(result.executed.map((s) => s.step)).toEqual(fullRotation);
    expect(seen).toEqual([]);
    expectRotatedFrom(fake, anchor);
  });
});

describe('the single tasks', () => {
  it('dry runs return what they would do and write nothing', async () => {
    const { fake } = await fresh();
    const deps = depsFor(fake);
    const renew = await fake.clock.drive(renewCerts.run({ config, dryRun: true, which: 'next' }, deps));
    expect(renew).toMatchObject({ kind: 'would-renew', which: 'anchor', target: { namespace: config.trustNamespace, certificate: config.anchorCertificate } });
    const cp = await fake.clock.drive(restart.run({ config, dryRun: true, plane: 'control-plane' }, deps));
    expect(cp.kind).toBe('would-restart');
    expect(cp.kind === 'would-restart' && cp.targets.some((t) => t.includes('linkerd-identity'))).toBe(true);
    const dp = await fake.clock.drive(restart.run({ config, dryRun: true, plane: 'data-plane' }, deps));
    const cpTargets = cp.kind === 'would-restart' ? cp.targets : [];
    const dpTargets = dp.kind === 'would-restart' ? dp.targets : [];
    expect(dpTargets.length).toBeGreaterThan(0);
    // The two planes do not overlap.
    expect(dpTargets.filter((t) => cpTargets.includes(t))).toEqual([]);
    expect(fake.writes).toEqual([]);
  });

  it('renew-certs --which issuer right after the anchor, before gate 1, is refused and writes nothing', async () => {
    const { fake } = await fresh();
    const deps = depsFor(fake);
    await fake.clock.drive(renewCerts.run({ config, dryRun: false, which: 'anchor' }, deps));
    const writes = fake.writes.length;
    expect(writes).toBeGreaterThan(0);
    await expect(fake.clock.drive(renewCerts.run({ config, dryRun: false, which: 'issuer' }, deps))).rejects.toThrow(PreconditionError);
    expect(fake.writes).toHaveLength(writes);
    // The next step in the safe order is a restart, which runs and returns its count.
    const restarted = await fake.clock.drive(restart.run({ config, dryRun: false, plane: 'control-plane' }, deps));
    expect(restarted).toMatchObject({ kind: 'restarted', restarted: expect.any(Number) as unknown });
  });

  it('update-bundle in a steady state with a clean previous-anchor Secret has nothing to do', async () => {
    const { fake } = await fresh();
    const result = await fake.clock.drive(updateBundle.run({ config, dryRun: false }, depsFor(fake)));
    expect(result.kind).toBe('nothing-to-do');
    expect(fake.writes).toEqual([]);
  });
});
