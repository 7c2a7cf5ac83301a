// The rotation policy: a new rotation only when due or forced; an unfinished one always finished.
import type { Phase } from '../../../src/rotation/plan.js';
import { decideRotation, policyGate, rotationDueAt, type PolicyDecision, type RotationPolicy } from '../../../src/unattended/policy.js';
import { makeRotation, meshWorkloads, observedState, podsOfMesh, steadySpec, type Rotation } from '../../support/state.js';

const DAY = 86_400_000;
const NOW = new Date('2025-06-01T12:00:00Z');
const policy: RotationPolicy = { rotateAfterMs: 25 * DAY, rotateBeforeExpiryMs: 60 * DAY, force: false };

/** An anchor issued `ageDays` before NOW, valid `lifetimeDays`. */
const anchor = (ageDays: number, lifetimeDays = 365): { fingerprint: string; notBefore: Date; notAfter: Date } => {
  const notBefore = new Date(NOW.getTime() - ageDays * DAY);
  return { fingerprint: 'ab'.repeat(32), notBefore, notAfter: new Date(notBefore.getTime() + lifetimeDays * DAY) };
};

describe('decideRotation', () => {
  it.each<[string, { ageDays: number; lifetimeDays?: number; phase?: Phase; force?: boolean }, Partial<PolicyDecision>, RegExp]>([
    [
      'a fresh anchor in a steady state: not due',
      { ageDays: 3 },
      { startNew: false, due: false, unfinished: false },
      /not due until 2025-06-23T12:00:00\.000Z.*--force/,
    ],
    ['one day short of the age limit: not due', { ageDays: 24 }, { startNew: false, due: false }, /24d old/],
    ['exactly at the age limit: due', { ageDays: 25 }, { startNew: true, due: true }, /is 25d old: a rotation is due/],
    ['a month old (the monthly CronJob): due', { ageDays: 31 }, { startNew: true, due: true }, /is 31d old/],
    ['young but expiring within the window: due', { ageDays: 2, lifetimeDays: 61 }, { startNew: true, due: true }, /expires in 59d/],
    ['forced while not due', { ageDays: 1, force: true }, { startNew: true, due: false, forced: true }, /--force/],
    [
      'unfinished and not due: finished, no new rotation',
      { ageDays: 1, phase: 'anchor-renewed' },
      { startNew: false, due: false, unfinished: true },
      /unfinished \(phase anchor-renewed\): this run finishes it/,
    ],
    [
      'unfinished and due: still only finished',
      { ageDays: 40, phase: 'issuer-renewed' },
      { startNew: false, due: true, unfinished: true },
      /this run finishes it/,
    ],
    [
      'unfinished and forced: --force does not start a second rotation over the first',
      { ageDays: 1, phase: 'anchor-renewing', force: true },
      { startNew: false, unfinished: true },
      /unfinished/,
    ],
  ])('%s', (_name, input, expected, reason) => {
    const decision = decideRotation(
      { anchor: anchor(input.ageDays, input.lifetimeDays), phase: input.phase ?? 'steady', now: NOW },
      { ...policy, force: input.force ?? false },
    );
    expect(decision).toMatchObject(expected);
    expect(decision.reason).toMatch(reason);
  });

  it('due at whichever limit comes first', () => {
    expect(rotationDueAt(anchor(0, 365), policy)).toEqual(new Date(NOW.getTime() + 25 * DAY));
    expect(rotationDueAt(anchor(0, 70), policy)).toEqual(new Date(NOW.getTime() + 10 * DAY));
  });

  it('a zero age limit makes every run due (rotate on every run)', () => {
    expect(decideRotation({ anchor: anchor(0), phase: 'steady', now: NOW }, { ...policy, rotateAfterMs: 0 }).startNew).toBe(true);
  });
});

describe('policyGate, the startNew callback of rotate', () => {
  let r: Rotation;
  beforeAll(async () => {
    r = await makeRotation();
  });

  it('in a steady state decides from the anchor and reports the decision', () => {
    const state = observedState(steadySpec(r));
    const seen: PolicyDecision[] = [];
    // newAnchor was issued at 08:00 on the test day: hours old, not due.
    const decision = policyGate(policy, (d) => seen.push(d))(state);
    expect(decision.startNew).toBe(false);
    // The decision returned is the one told, once.
    expect(seen).toEqual([decision]);
    expect(decision).toMatchObject({ phase: 'steady', due: false, anchor: { fingerprint: r.newAnchor.cert.fingerprint } });
    expect(policyGate({ ...policy, force: true })(state).startNew).toBe(true);
  });

  it('mid-rotation (bundle holds both anchors, issuer still old) reports the rotation unfinished', () => {
    const state = observedState({
      anchor: r.newAnchor,
      previous: [r.oldAnchor],
      issuer: r.oldIssuer,
      signer: r.oldAnchor,
      workloads: meshWorkloads,
      pods: podsOfMesh({ anchors: [r.oldAnchor, r.newAnchor] }),
    });
    const seen: PolicyDecision[] = [];
    expect(policyGate(policy, (d) => seen.push(d))(state).startNew).toBe(false);
    expect(seen[0]).toMatchObject({ unfinished: true, phase: 'anchor-renewed' });
  });
});
