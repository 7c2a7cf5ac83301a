// The pre-flight of a new rotation: held pods, linked clusters and cert-manager's own issuer schedule.
import { derivePlan } from '../../../src/rotation/plan.js';
import { heldOwners, issuerRenewal, issuerRenewalBeforeGate, issuerTiming, newRotationRefusals } from '../../../src/rotation/preflight.js';
import { s, shape } from '../../support/plan-shape.js';
import { anchorRenewedSpec, at, makeRotation, mesh, meshed, NOW, observedState, statePod, steadySpec, type Rotation } from '../../support/state.js';

const HOUR = 3_600_000;
const MARGIN = 2 * HOUR;
const options = { deleteStalePods: false, acceptHeldPods: false, issuerRenewalMarginMs: MARGIN };

let r: Rotation;
beforeAll(async () => {
  r = await makeRotation();
});

/** A steady mesh without the opted-out workload of the default fixture. */
const clean = (over: Parameters<typeof steadySpec>[1] = {}): ReturnType<typeof observedState> =>
  observedState(
    steadySpec(r, {
      workloads: [mesh.identity, mesh.web],
      pods: [statePod({ name: 'identity-0', of: mesh.identity, anchors: [r.newAnchor] }), statePod({ name: 'web-0', of: mesh.web, anchors: [r.newAnchor] })],
      ...over,
    }),
  );

describe('issuerRenewal: when cert-manager renews the issuer by itself', () => {
  it('reads status.renewalTime and the interval a fresh issuer of the same spec gets', () => {
    // newIssuer: notBefore ISSUED (10:00), 48h lifetime; renewalTime 23h after issue (48h/25h).
    const renewal = issuerRenewal(clean({ issuerRenewalTime: new Date(at('10:00').getTime() + 23 * HOUR) }).issuer);
    expect(renewal).toEqual({ at: new Date(at('10:00').getTime() + 23 * HOUR), intervalMs: 23 * HOUR, estimated: false });
  });

  it("without status.renewalTime: cert-manager's default, two thirds of the lifetime", () => {
    expect(issuerRenewal(clean().issuer)).toEqual({ at: new Date(at('10:00').getTime() + 32 * HOUR), intervalMs: 32 * HOUR, estimated: true });
  });

  it('renewal policy Disabled (cert-manager 1.21): never', () => {
    expect(issuerRenewal(clean({ issuerRenewalDisabled: true }).issuer)).toEqual({ estimated: false });
  });
});

describe('issuerTiming: may the anchor be renewed with this issuer schedule?', () => {
  // The new issuer was issued at 10:00 and it is 12:00: the interval is renewalTime - 10:00.
  it.each([
    ['renewal 20h away', at('10:00').getTime() + 30 * HOUR, MARGIN, 'ok'],
    ['renewal exactly at the margin', NOW.getTime() + MARGIN, MARGIN, 'ok'],
    ['renewal inside the margin, a fresh issuer lasts 4h: renew first', NOW.getTime() + MARGIN - 1000, MARGIN, 'renew-first'],
    ['renewal overdue by an hour, a fresh issuer lasts 1h, margin 30m: renew first', NOW.getTime() - HOUR, HOUR / 2, 'renew-first'],
  ] as const)('%s', (_name, renewalTime, margin, kind) => {
    expect(issuerTiming(clean({ issuerRenewalTime: new Date(renewalTime) }), margin).kind).toBe(kind);
  });

  it('refuses when even a fresh issuer is renewed sooner than the margin (issuer renewed every 2 minutes)', () => {
    // notBefore 10:00, renewal at 10:02: a 2-minute interval; now 12:00 means the renewal is overdue.
    const timing = issuerTiming(clean({ issuerRenewalTime: at('10:02') }), MARGIN);
    expect(timing.kind).toBe('refuse');
    expect(timing.reason).toMatch(/every 2m, less than the 2h \(--issuer-renewal-margin\)/);
  });

  it('never renewed by cert-manager: ok', () => {
    expect(issuerTiming(clean({ issuerRenewalDisabled: true }), MARGIN).kind).toBe('ok');
  });
});

describe('newRotationRefusals', () => {
  const far = new Date(NOW.getTime() + 20 * HOUR);

  it('none for a clean mesh with a distant issuer renewal', () => {
    expect(newRotationRefusals(clean({ issuerRenewalTime: far }), options)).toEqual([]);
  });

  it('an opted-out workload refuses, naming it, unless --accept-held-pods', () => {
    const state = observedState(steadySpec(r, { issuerRenewalTime: far }));
    const reasons = newRotationRefusals(state, options);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/1 meshed owner\(s\) will not be restarted .*Deployment legacy\/api is held \(opted-out\).*--accept-held-pods/);
    expect(newRotationRefusals(state, { ...options, acceptHeldPods: true })).toEqual([]);
  });

  it('a bare pod refuses unless --delete-stale-pods covers it; an opted-out one is never deleted', () => {
    const bare = statePod({ name: 'debug', namespace: 'shop', anchors: [r.newAnchor], hold: 'bare pod shop/debug has no controller to restart it' });
    const state = clean({ issuerRenewalTime: far, pods: [...clean().pods, bare] });
    expect(newRotationRefusals(state, options)).toHaveLength(1);
    expect(newRotationRefusals(state, { ...options, deleteStalePods: true })).toEqual([]);
    const optedOut = observedState(steadySpec(r, { issuerRenewalTime: far }));
    expect(newRotationRefusals(optedOut, { ...options, deleteStalePods: true })).toHaveLength(1);
  });

  it('terminating held pods do not count', () => {
    const legacy = meshed('data-plane', 'Deployment', 'legacy', 'api', 'opted-out');
    const state = clean({
      issuerRenewalTime: far,
      pods: [...clean().pods, statePod({ name: 'api-0', of: legacy, anchors: [r.newAnchor], terminating: true })],
    });
    expect(heldOwners(state, options)).toEqual([]);
  });

  it('linked clusters refuse an anchor rotation', () => {
    const reasons = newRotationRefusals(clean({ issuerRenewalTime: far, links: ['linkerd-multicluster/east'] }), options);
    expect(reasons).toEqual([expect.stringMatching(/Link\(s\) present \(linkerd-multicluster\/east\).*cross-cluster mTLS/) as unknown]);
  });

  it('lists every reason at once', () => {
    const state = observedState(steadySpec(r, { issuerRenewalTime: at('10:02'), links: ['mc/west'] }));
    expect(newRotationRefusals(state, options)).toHaveLength(3);
  });
});

describe('derivePlan with issuerFirst', () => {
  it('renews the issuer before the anchor, then the whole rotation', () => {
    const plan = derivePlan(clean(), { startNew: true, issuerFirst: 'cert-manager would renew it during steps 1-3' });
    expect(shape(plan).slice(0, 3)).toEqual([s('renew-issuer'), s('renew-anchor'), s('wait-bundle')]);
    expect(plan.steps[0]?.why).toBe('cert-manager would renew it during steps 1-3');
    expect(shape(derivePlan(clean(), { startNew: true })).slice(0, 2)).toEqual([s('renew-anchor'), s('wait-bundle')]);
  });
});

describe('issuerRenewalBeforeGate: the clock of a rotation waiting before gate 1', () => {
  it('runs while the issuer still chains to the previous anchor', () => {
    const state = observedState(anchorRenewedSpec(r, { issuerRenewalTime: at('15:30') }));
    expect(issuerRenewalBeforeGate(state)).toEqual({ at: at('15:30'), leftMs: 3.5 * HOUR });
  });

  it('stops once the issuer chains to the current anchor, and when cert-manager never renews', () => {
    expect(issuerRenewalBeforeGate(clean({ issuerRenewalTime: at('15:30') }))).toBeUndefined();
    expect(issuerRenewalBeforeGate(observedState(anchorRenewedSpec(r, { issuerRenewalDisabled: true })))).toBeUndefined();
  });
});
