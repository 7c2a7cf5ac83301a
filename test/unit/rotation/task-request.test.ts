// A renew-certs request decided from the state alone (decideRenewal), and what a restart task's
// dry run lists (restartPreview): the rules the renew-certs and restart commands act on.
import { defaultConfig } from '../../../src/config.js';
import { derivePlan } from '../../../src/rotation/plan.js';
import type { ObservedState } from '../../../src/rotation/state.js';
import { controlPlaneRoles } from '../../../src/rotation/mesh.js';
import { decideRenewal, restartPreview, type RenewalRequest, type RenewalVerdict } from '../../../src/rotation/task-request.js';
import {
  anchorRenewedSpec,
  issuerRenewedSpec,
  makeRotation,
  mesh,
  NOW,
  observedState,
  statePod,
  steadySpec,
  type Rotation,
  type StateSpec,
} from '../../support/state.js';

const HOUR = 3_600_000;
const config = { ...defaultConfig, issuerRenewalMarginMs: 2 * HOUR };

let r: Rotation;
beforeAll(async () => {
  r = await makeRotation();
});

/** A steady mesh with nothing held (no opted-out workload), the issuer's own renewal 20h away unless told otherwise. */
const clean = (over: Partial<StateSpec> = {}): ObservedState =>
  observedState(
    steadySpec(r, {
      workloads: [mesh.identity, mesh.web],
      pods: [statePod({ name: 'identity-0', of: mesh.identity, anchors: [r.newAnchor] }), statePod({ name: 'web-0', of: mesh.web, anchors: [r.newAnchor] })],
      issuerRenewalTime: new Date(NOW.getTime() + 20 * HOUR),
      ...over,
    }),
  );

// renew-certs judges against the plan that may start a rotation, as the command does.
const decide = (request: RenewalRequest, state: ObservedState, cfg = config): RenewalVerdict =>
  decideRenewal(request, state, derivePlan(state, { startNew: true }), cfg);

describe('decideRenewal', () => {
  it('steady, nothing in the way: --which next renews the anchor, and so does --which anchor', () => {
    expect(decide('next', clean())).toEqual({ verdict: 'run', which: 'anchor', note: undefined });
    expect(decide('anchor', clean())).toEqual({ verdict: 'run', which: 'anchor', note: undefined });
  });

  it("the issuer's own renewal falls inside the margin: the anchor is refused, naming the issuer first", () => {
    const state = clean({ issuerRenewalTime: new Date(NOW.getTime() + HOUR) });
    const verdict = decide('anchor', state);
    expect(verdict.verdict).toBe('refuse');
    expect(verdict.verdict === 'refuse' && verdict.reason).toMatch(
      /^refusing to renew the trust anchor, nothing was changed: \(1\) .*: run renew-certs --which issuer first, or rotate$/,
    );
    // The issuer itself may be renewed: the margin protects the anchor renewal only.
    expect(decide('issuer', state)).toMatchObject({ verdict: 'run', which: 'issuer' });
  });

  it('a meshed pod nobody restarts refuses the anchor, as rotate refuses to start; --delete-stale-pods lets it run', () => {
    const bare = statePod({ name: 'debug', namespace: 'shop', anchors: [r.newAnchor], hold: 'bare pod shop/debug has no controller to restart it' });
    const state = clean({ pods: [...clean().pods, bare] });
    expect(decide('anchor', state)).toMatchObject({
      verdict: 'refuse',
      reason: expect.stringMatching(/^refusing to renew the trust anchor, nothing was changed: \(1\) .*shop\/debug/) as unknown,
    });
    expect(decide('anchor', state, { ...config, deleteStalePods: true })).toMatchObject({ verdict: 'run', which: 'anchor' });
  });

  it('the pre-flight applies only to a new rotation: an anchor being re-issued is awaited, with a note', () => {
    const state = observedState(steadySpec(r, { anchorIssuing: true, issuerRenewalTime: new Date(NOW.getTime() + HOUR) }));
    expect(decide('next', state)).toEqual({ verdict: 'run', which: 'anchor', note: 'the anchor is already being re-issued: awaiting that issuance' });
  });

  it('after the anchor: --which next renews the issuer; --which anchor is refused (the rotation is unfinished)', () => {
    const state = observedState(anchorRenewedSpec(r));
    expect(decide('next', state)).toMatchObject({ verdict: 'run', which: 'issuer' });
    expect(decide('anchor', state)).toMatchObject({ verdict: 'refuse', reason: expect.stringContaining('the last rotation is unfinished') as unknown });
  });

  it('nothing due in the safe order: refused, naming the next step', () => {
    expect(decide('next', observedState(issuerRenewedSpec(r)))).toEqual({
      verdict: 'refuse',
      reason: 'no certificate is due in the safe order now (phase issuer-renewed); the next step is update-bundle: run update-bundle (or rotate)',
    });
  });
});

describe('restartPreview', () => {
  it('control plane: identity, the rest and extensions; data plane: meshed workloads, the opted-out one listed as not restarted', () => {
    const state = observedState(steadySpec(r));
    expect(restartPreview(state, controlPlaneRoles)).toEqual({ targets: [mesh.identity.key, mesh.destination.key, mesh.viz.key], held: [] });
    const data = restartPreview(state, ['data-plane']);
    expect(data.targets).toEqual([mesh.web.key, mesh.db.key]);
    expect(data.held).toEqual([mesh.legacy.hold?.message]);
    expect(data.held[0]).toContain('legacy/api');
  });
});
