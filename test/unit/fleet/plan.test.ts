// deriveFleetPlan: the seven steps of every cluster, cut into stages, with barriers across clusters.
import { barrierOf, deriveFleetPlan, stageOf, type MemberView } from '../../../src/fleet/plan.js';
import { derivePlan } from '../../../src/rotation/plan.js';
import {
  anchorRenewedSpec,
  issuerRenewedSpec,
  makeRotation,
  observedState,
  podsOfMesh,
  steadySpec,
  type Rotation,
  type StateSpec,
} from '../../support/state.js';

let r: Rotation;
beforeAll(async () => {
  r = await makeRotation();
});

function member(name: string, role: 'primary' | 'peer', spec: StateSpec): MemberView {
  const state = observedState(spec);
  return { name, role, state, plan: derivePlan(state, { startNew: false }) };
}
const down = (name: string): MemberView => ({ name, role: 'peer', unreachable: 'connect ECONNREFUSED 127.0.0.1:6443' });
/** The fleet's next step as "cluster: step (purpose)". */
function next(members: MemberView[], startNew = false, issuerFirst?: Map<string, string>): string | undefined {
  const plan = deriveFleetPlan(members, { startNew, issuerFirst });
  if (!plan.next) return undefined;
  return plan.next.kind === 'copy-anchor'
    ? `${plan.next.cluster}: copy-anchor`
    : `${plan.next.cluster}: ${plan.next.step.name}${plan.next.step.purpose ? ` (${plan.next.step.purpose})` : ''}`;
}
const both = (): ReturnType<typeof podsOfMesh> => podsOfMesh({ anchors: [r.oldAnchor, r.newAnchor] });
/** The old anchor everywhere: a cluster before the rotation. */
const onOld = (): StateSpec =>
  steadySpec(r, { anchor: r.oldAnchor, previous: [r.oldAnchor], issuer: r.oldIssuer, signer: r.oldAnchor, pods: podsOfMesh({ anchors: [r.oldAnchor] }) });

describe('starting', () => {
  test('every cluster steady on one anchor: nothing without startNew; with it, the primary renews the anchor', () => {
    const fleet = [member('east', 'primary', onOld()), member('west', 'peer', onOld())];
    expect(deriveFleetPlan(fleet, { startNew: false }).phase).toBe('steady');
    expect(next(fleet)).toBeUndefined();
    expect(next(fleet, true)).toBe('east: renew-anchor');
  });

  test("a peer's issuer renewal inside the margin: that issuer is renewed first, before the anchor", () => {
    const fleet = [member('east', 'primary', onOld()), member('west', 'peer', onOld())];
    expect(next(fleet, true, new Map([['west', 'renews in 1h']]))).toBe('west: renew-issuer');
  });

  test('a cluster that cannot be read: no rotation starts', () => {
    const plan = deriveFleetPlan([member('east', 'primary', onOld()), down('west')], { startNew: true });
    expect(plan.next).toBeUndefined();
    expect(plan.phase).toBe('held');
    expect(plan.summary).toMatch(/west cannot be read/);
    expect(plan.clusters.map((c) => c.phase)).toEqual(['steady', 'unreachable']);
  });
});

describe('stage 1 (trust) before any issuer renewal, in every cluster', () => {
  test('the primary renewed its anchor and its pods trust both: the peer gets the copy before anyone renews an issuer', () => {
    const fleet = [member('east', 'primary', anchorRenewedSpec(r, { pods: both() })), member('west', 'peer', onOld())];
    expect(fleet[0]?.plan?.steps[0]?.name).toBe('renew-issuer');
    expect(next(fleet)).toBe('west: copy-anchor');
  });

  test('while the primary re-issues its anchor, nothing is copied yet (the copy would be the old one)', () => {
    const fleet = [member('east', 'primary', anchorRenewedSpec(r, { pods: both(), anchorIssuing: true })), member('west', 'peer', onOld())];
    expect(next(fleet)).toBe('east: renew-anchor');
  });

  test('the peer has the copy but a pod lacking the new anchor: it restarts before the primary renews its issuer', () => {
    const peerPods = podsOfMesh({ anchors: [r.oldAnchor, r.newAnchor] }, { web: { anchors: [r.oldAnchor] } });
    const fleet = [member('east', 'primary', anchorRenewedSpec(r, { pods: both() })), member('west', 'peer', anchorRenewedSpec(r, { pods: peerPods }))];
    expect(next(fleet)).toBe('west: restart-data-plane (trust-new-anchor)');
  });

  test('every cluster trusts the new anchor: the first issuer renewal waits on barrier trust-new-anchor', () => {
    const fleet = [member('east', 'primary', anchorRenewedSpec(r, { pods: both() })), member('west', 'peer', anchorRenewedSpec(r, { pods: both() }))];
    const plan = deriveFleetPlan(fleet, { startNew: false });
    expect(next(fleet)).toBe('east: renew-issuer');
    expect(plan.barrier).toBe('trust-new-anchor');
    expect(plan.next?.kind === 'step' && plan.next.barrier).toBe('trust-new-anchor');
  });
});

describe('stage 2 (adopt) before any anchor drop, in every cluster', () => {
  test('the primary adopted its new issuer; the peer has not renewed its own: the peer renews (stage 2) before the primary drops', () => {
    const fleet = [member('east', 'primary', issuerRenewedSpec(r, { pods: both() })), member('west', 'peer', anchorRenewedSpec(r, { pods: both() }))];
    // The primary's fixture pods started after its identity adopted: its next own step is the drop.
    expect(fleet[0]?.plan?.steps.map((s) => s.name)).toContain('update-bundle');
    expect(next(fleet)).toBe('west: renew-issuer');
  });

  test('both adopted: the drop waits on barrier adopt-new-issuer', () => {
    const fleet = [member('east', 'primary', issuerRenewedSpec(r, { pods: both() })), member('west', 'peer', issuerRenewedSpec(r, { pods: both() }))];
    const plan = deriveFleetPlan(fleet, { startNew: false });
    // The fixture's pods started after identity adopted the issuer: each cluster's own next step is the drop.
    expect(fleet.map((m) => m.plan?.steps[0]?.name)).toEqual(['update-bundle', 'update-bundle']);
    expect(next(fleet)).toBe('east: update-bundle');
    expect(plan.barrier).toBe('adopt-new-issuer');
  });

  test("cert-manager re-issuing a peer's issuer on its own is awaited without a barrier (it cannot be stopped)", () => {
    const fleet = [
      member('east', 'primary', anchorRenewedSpec(r, { pods: both() })),
      member('west', 'peer', anchorRenewedSpec(r, { pods: both(), issuerIssuing: true })),
    ];
    const plan = deriveFleetPlan(fleet, { startNew: false });
    // Both are stage 2; the primary's renewal needs the barrier, the peer's resume does not, and the primary comes first.
    expect(next(fleet)).toBe('east: renew-issuer');
    expect(plan.clusters[1]?.next).toBe('renew-issuer');
    expect(fleet[1]?.plan?.steps[0]).toMatchObject({ name: 'renew-issuer', resume: true });
    expect(barrierOf(fleet[1]?.plan?.steps[0] as never, 'issuer-renewing')).toBeUndefined();
  });
});

describe('an unreachable cluster', () => {
  test('restarts that need no barrier still run elsewhere', () => {
    const peerPods = podsOfMesh({ anchors: [r.oldAnchor, r.newAnchor] }, { web: { anchors: [r.oldAnchor] } });
    const plan = deriveFleetPlan([member('east', 'primary', anchorRenewedSpec(r, { pods: peerPods })), down('west')], { startNew: false });
    expect(plan.next?.kind === 'step' && plan.next.step.name).toBe('restart-data-plane');
  });

  test('a barrier step is never run: the fleet is held at the barrier', () => {
    const plan = deriveFleetPlan([member('east', 'primary', anchorRenewedSpec(r, { pods: both() })), down('west')], { startNew: false });
    expect(plan.next).toBeUndefined();
    expect(plan.phase).toBe('held');
    expect(plan.barrier).toBe('trust-new-anchor');
    const dropping = deriveFleetPlan([member('east', 'primary', issuerRenewedSpec(r, { pods: both() })), down('west')], { startNew: false });
    expect(dropping.next).toBeUndefined();
    expect(dropping.barrier).toBe('adopt-new-issuer');
  });
});

describe('stages', () => {
  test('waits first, trust, adopt, drop; a repair of an inconsistent cluster does not wait', () => {
    expect(stageOf({ name: 'wait-bundle', why: '' }, 'anchor-renewed')).toBe(0);
    expect(stageOf({ name: 'restart-data-plane', purpose: 'trust-new-anchor', why: '' }, 'anchor-renewed')).toBe(1);
    expect(stageOf({ name: 'renew-issuer', why: '' }, 'anchor-renewed')).toBe(2);
    expect(stageOf({ name: 'restart-control-plane', purpose: 'adopt-new-issuer', why: '' }, 'issuer-renewed')).toBe(2);
    expect(stageOf({ name: 'update-bundle', why: '' }, 'issuer-renewed')).toBe(3);
    expect(stageOf({ name: 'restart-data-plane', purpose: 'drop-old-anchor', why: '' }, 'bundle-trimmed')).toBe(3);
    expect(stageOf({ name: 'renew-issuer', why: '' }, 'inconsistent')).toBe(0);
    expect(barrierOf({ name: 'renew-issuer', why: '' }, 'inconsistent')).toBeUndefined();
    expect(barrierOf({ name: 'update-bundle', why: '' }, 'issuer-renewed')).toBe('adopt-new-issuer');
  });
});
