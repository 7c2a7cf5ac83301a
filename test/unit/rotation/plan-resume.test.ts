// derivePlan from the second half of a rotation: issuer renewing/renewed, bundle trimmed, inconsistent.
import { derivePlan } from '../../../src/rotation/plan.js';
import { s, shape, type Shape } from '../../support/plan-shape.js';
import type { Generated } from '../../support/certs.js';
import {
  anchorRenewedSpec,
  at,
  issuerRenewedSpec,
  makeRotation,
  mesh,
  meshWorkloads,
  observedState,
  podsOfMesh,
  statePod,
  steadySpec,
  type Rotation,
  type StateSpec,
} from '../../support/state.js';

const DESTINATION = 'Deployment/linkerd/linkerd-destination';
const WEB = 'Deployment/shop/web';

const DROP: Shape[] = [s('restart-control-plane', 'drop-old-anchor'), s('restart-data-plane', 'drop-old-anchor')];
const ADOPT: Shape[] = [s('restart-control-plane', 'adopt-new-issuer'), s('restart-data-plane', 'adopt-new-issuer')];

let r: Rotation;
let both: Generated[];
beforeAll(async () => {
  r = await makeRotation();
  both = [r.oldAnchor, r.newAnchor];
});

describe('issuer renewing (Issuing=True on the issuer Certificate, anchor renewed)', () => {
  const renewing = (over: Partial<StateSpec> = {}): StateSpec => anchorRenewedSpec(r, { issuerIssuing: true, ...over });

  it('the issuance under way is awaited, then the rest of the rotation', () => {
    const plan = derivePlan(observedState(renewing()), { startNew: true });
    expect(plan.phase).toBe('issuer-renewing');
    expect(shape(plan)).toEqual([{ name: 'renew-issuer', resume: true }, ...ADOPT, s('update-bundle'), ...DROP]);
  });

  it('an unsettled bundle is awaited first', () => {
    const plan = derivePlan(observedState(renewing({ targets: [{ namespace: 'linkerd', anchors: [r.oldAnchor] }] })), { startNew: false });
    expect(shape(plan)[0]).toEqual(s('wait-bundle'));
    expect(shape(plan)).toContainEqual({ name: 'renew-issuer', resume: true });
    expect(plan.steps.map((step) => step.name)).not.toContain('renew-anchor');
  });

  test('cert-manager re-issuing the issuer while pods still lack the new anchor: those pods restart first', () => {
    const pods = podsOfMesh({ anchors: both }, { web: { anchors: [r.oldAnchor] } });
    const plan = derivePlan(observedState(renewing({ pods })), { startNew: false });
    expect(shape(plan).slice(0, 2)).toEqual([s('restart-data-plane', 'trust-new-anchor', [WEB]), { name: 'renew-issuer', resume: true }]);
  });
});

describe('issuer renewed: it chains to the new anchor, the bundle still holds the old one', () => {
  const renewed = (over: Partial<StateSpec> = {}): StateSpec => issuerRenewedSpec(r, over);

  it('identity started before the issuer was issued: it restarts, then every workload (targets unknown yet)', () => {
    const pods = podsOfMesh({ anchors: both }, { identity: { startedAt: at('09:00') } });
    const plan = derivePlan(observedState(renewed({ pods })), { startNew: true });
    expect(plan.phase).toBe('issuer-renewed');
    expect(shape(plan)).toEqual([...ADOPT, s('update-bundle'), ...DROP]);
  });

  it('identity adopted the issuer (ready at 10:30:30): only pods created before that restart', () => {
    const pods = podsOfMesh(
      { anchors: both },
      {
        destination: { startedAt: at('10:15') },
        web: { createdAt: at('10:30:29'), startedAt: at('10:30:31') },
        db: { createdAt: at('10:30:31'), startedAt: at('10:30:31') },
      },
    );
    expect(shape(derivePlan(observedState(renewed({ pods })), { startNew: true }))).toEqual([
      s('restart-control-plane', 'adopt-new-issuer', [DESTINATION]),
      s('restart-data-plane', 'adopt-new-issuer', [WEB]),
      s('update-bundle'),
      ...DROP,
    ]);
  });

  it('every pod started after identity adopted the issuer: the bundle is trimmed next', () => {
    expect(shape(derivePlan(observedState(renewed()), { startNew: false }))).toEqual([s('update-bundle'), ...DROP]);
  });

  it('a bundle not settled yet: wait-bundle, then restarts of whatever is stale by then', () => {
    const pods = podsOfMesh({ anchors: both }, { web: { startedAt: at('10:20') } });
    const plan = derivePlan(observedState(renewed({ pods, targets: [{ namespace: 'linkerd', anchors: [r.newAnchor] }] })), { startNew: false });
    expect(shape(plan)).toEqual([s('wait-bundle'), ...ADOPT, s('update-bundle'), ...DROP]);
  });
});

describe('bundle trimmed: the previous-anchor Secret holds the current anchor', () => {
  const trimmed = (over: Partial<StateSpec> = {}): StateSpec =>
    steadySpec(r, {
      pods: podsOfMesh({ anchors: [r.newAnchor] }, { destination: { anchors: both }, web: { anchors: both }, legacy: { anchors: both } }),
      ...over,
    });

  it.each([true, false])('pods still trusting the old anchor restart (startNew %s), opted-out ones are no targets', (startNew) => {
    const plan = derivePlan(observedState(trimmed()), { startNew });
    expect(plan.phase).toBe('bundle-trimmed');
    expect(shape(plan)).toEqual([s('restart-control-plane', 'drop-old-anchor', [DESTINATION]), s('restart-data-plane', 'drop-old-anchor', [WEB])]);
  });

  it('a data-plane pod alone: no control-plane restart', () => {
    const pods = podsOfMesh({ anchors: [r.newAnchor] }, { web: { anchors: both } });
    expect(shape(derivePlan(observedState(trimmed({ pods })), { startNew: false }))).toEqual([s('restart-data-plane', 'drop-old-anchor', [WEB])]);
  });

  it('the ConfigMaps still hold the old anchor: wait-bundle, then restarts of whatever is stale by then', () => {
    const plan = derivePlan(observedState(trimmed({ targets: [{ namespace: 'linkerd', anchors: both }] })), { startNew: true });
    expect(plan.phase).toBe('bundle-trimmed');
    expect(shape(plan)).toEqual([s('wait-bundle'), ...DROP]);
  });

  it('a pod with unreadable anchors restarts', () => {
    const pods = [...podsOfMesh({ anchors: [r.newAnchor] }), statePod({ name: 'db-1', of: mesh.db, anchors: undefined })];
    expect(shape(derivePlan(observedState(trimmed({ pods })), { startNew: false }))).toEqual([
      s('restart-data-plane', 'drop-old-anchor', ['StatefulSet/shop/db']),
    ]);
  });
});

describe('inconsistent: the bundle was trimmed but the issuer does not chain to the anchor', () => {
  it.each<[string, (rot: Rotation) => StateSpec['targets'], Shape[]]>([
    ['bundle settled', (rot) => [{ namespace: 'linkerd', anchors: [rot.newAnchor] }], []],
    ['bundle not settled', (rot) => [{ namespace: 'linkerd', anchors: [rot.oldAnchor, rot.newAnchor] }], [s('wait-bundle')]],
  ])('%s: renew the issuer and restart everything, without another update-bundle', (_name, targets, head) => {
    const state = observedState({
      anchor: r.newAnchor,
      previous: [r.newAnchor],
      issuer: r.oldIssuer,
      signer: undefined,
      targets: targets(r),
      workloads: meshWorkloads,
      pods: podsOfMesh({ anchors: [r.newAnchor] }),
    });
    const plan = derivePlan(state, { startNew: true });
    expect(plan.phase).toBe('inconsistent');
    expect(shape(plan)).toEqual([...head, s('renew-issuer'), ...ADOPT, ...DROP]);
  });
});
