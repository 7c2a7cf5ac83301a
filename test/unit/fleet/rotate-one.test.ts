// rotateFleet's loop (first look, barriers, steps, re-observation) on the FakeCluster with the
// primary alone: the same seven steps as a single-cluster rotation, no invariant violation, and
// the start policy's decision handed back in the result.
import { rotateFleet, type FleetMember } from '../../../src/fleet/rotate.js';
import type { KeyPairCopier } from '../../../src/kube/ports.js';
import { policyGate } from '../../../src/unattended/policy.js';
import { contextFor, expectRotatedFrom, fresh } from '../../support/invariant.js';
import { fullRotation } from '../../support/plan-shape.js';

const DAY = 86_400_000;
// A primary alone never copies its anchor: reading or writing a key pair would be a bug here.
const noKeys: KeyPairCopier = {
  readKeyPair: () => Promise.reject(new Error('no key pair may be read in a one-cluster fleet')),
  writeKeyPair: () => Promise.reject(new Error('no key pair may be written in a one-cluster fleet')),
};

describe('rotateFleet with the primary alone', () => {
  it('--force: the seven steps on the primary, with the decision in the result; a second run does nothing', async () => {
    const { fake, seen, anchor } = await fresh();
    const members: FleetMember[] = [{ name: 'east', role: 'primary', ctx: contextFor(fake), keys: noKeys }];
    const startNew = policyGate({ rotateAfterMs: 3650 * DAY, rotateBeforeExpiryMs: DAY, force: true });
    const result = await fake.clock.drive(rotateFleet(members, { dryRun: false, startNew }));
    expect(result.decision).toMatchObject({ startNew: true, forced: true });
    expect(result.executed.map((s) => s.step)).toEqual(fullRotation);
    expect(result.executed.every((s) => s.cluster === 'east')).toBe(true);
    expect(result.finalPhase).toBe('steady');
    expect(seen).toEqual([]);
    expectRotatedFrom(fake, anchor);
    const writes = fake.writes.length;
    const again = await fake.clock.drive(rotateFleet(members, { dryRun: false, startNew: false }));
    expect(again.executed).toEqual([]);
    expect(again.decision).toBeUndefined();
    expect(fake.writes).toHaveLength(writes);
  });
});
