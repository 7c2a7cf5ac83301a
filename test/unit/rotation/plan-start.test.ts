// derivePlan from a steady state and from the first half of a rotation (anchor renewed, restarts pending).
import { derivePlan } from '../../../src/rotation/plan.js';
import { s, shape, type Shape } from '../../support/plan-shape.js';
import type { Generated } from '../../support/certs.js';
import {
  cleanPreviousSecret,
  makeRotation,
  meshWorkloads,
  observedState,
  podsOfMesh,
  statePod,
  mesh,
  type Rotation,
  type StateSpec,
  anchorRenewedSpec,
  steadySpec,
} from '../../support/state.js';

const IDENTITY = 'Deployment/linkerd/linkerd-identity';
const VIZ = 'Deployment/linkerd-viz/web';
const WEB = 'Deployment/shop/web';
const DB = 'StatefulSet/shop/db';

/** Everything after the anchor is trusted: renew the issuer, adopt it, trim the bundle, restart once more. */
const FROM_RENEW_ISSUER: Shape[] = [
  s('renew-issuer'),
  s('restart-control-plane', 'adopt-new-issuer'),
  s('restart-data-plane', 'adopt-new-issuer'),
  s('update-bundle'),
  s('restart-control-plane', 'drop-old-anchor'),
  s('restart-data-plane', 'drop-old-anchor'),
];

let r: Rotation;
let both: Generated[];
beforeAll(async () => {
  r = await makeRotation();
  both = [r.oldAnchor, r.newAnchor];
});

describe('steady: the bundle holds only the anchor, which signed the issuer, and every proxy trusts only it', () => {
  const steady = (): StateSpec => steadySpec(r);

  it('without startNew there is nothing to do', () => {
    const plan = derivePlan(observedState(steady()), { startNew: false });
    expect(plan.phase).toBe('steady');
    expect(plan.steps).toEqual([]);
  });

  it('with startNew the whole seven-step rotation is planned, starting with renew-anchor', () => {
    const plan = derivePlan(observedState(steady()), { startNew: true });
    expect(plan.phase).toBe('steady');
    expect(shape(plan)).toEqual([
      s('renew-anchor'),
      s('wait-bundle'),
      s('restart-control-plane', 'trust-new-anchor'),
      s('restart-data-plane', 'trust-new-anchor'),
      ...FROM_RENEW_ISSUER,
    ]);
  });

  it.each([true, false])('an opted-out workload still trusting the old anchor: unfinished, nothing to restart, no new rotation (startNew %s)', (startNew) => {
    const pods = podsOfMesh({ anchors: [r.newAnchor] }, { legacy: { anchors: both } });
    const plan = derivePlan(observedState({ ...steady(), pods }), { startNew });
    expect(plan).toMatchObject({ phase: 'bundle-trimmed', steps: [] });
    expect(plan.summary).toContain('1 meshed pod(s) the rotator may not restart still trust an old anchor');
  });
});

describe('a fresh install: the previous-anchor Secret is empty or absent', () => {
  it.each<[string, Partial<StateSpec>]>([
    ['Secret with an empty tls.crt', { previous: [], previousSecret: cleanPreviousSecret({ tlsCrt: '' }) }],
    ['no Secret', { previous: [] }],
  ])('%s, the bundle holds only the anchor, every pod trusts only it: steady, no restart', (_name, over) => {
    const state = observedState(steadySpec(r, over));
    expect(derivePlan(state, { startNew: false })).toMatchObject({ phase: 'steady', steps: [] });
    // A new rotation starts with the anchor renewal itself (renewAnchor fills the Secret first), not with restarts.
    expect(shape(derivePlan(state, { startNew: true }))[0]).toEqual(s('renew-anchor'));
  });

  it('pods that trust another anchor restart: the bundle holds only the current one', () => {
    const pods = podsOfMesh({ anchors: [r.newAnchor] }, { web: { anchors: both } });
    const plan = derivePlan(observedState(steadySpec(r, { previous: [], pods })), { startNew: false });
    expect(plan.phase).toBe('bundle-trimmed');
    expect(shape(plan)).toEqual([s('restart-data-plane', 'drop-old-anchor', [WEB])]);
  });
});

describe('anchor being issued (Issuing=True on the anchor Certificate)', () => {
  it.each([
    ['from a steady state', true],
    ['without startNew', false],
  ])('%s: the issuance is awaited, never triggered again', (_name, startNew) => {
    const state = observedState({
      anchor: r.oldAnchor,
      anchorIssuing: true,
      previous: [r.oldAnchor],
      issuer: r.oldIssuer,
      signer: r.oldAnchor,
      workloads: meshWorkloads,
      pods: podsOfMesh({ anchors: [r.oldAnchor] }),
    });
    const plan = derivePlan(state, { startNew });
    expect(plan.phase).toBe('anchor-renewing');
    expect(shape(plan)).toEqual([
      { name: 'renew-anchor', resume: true },
      s('wait-bundle'),
      s('restart-control-plane', 'trust-new-anchor'),
      s('restart-data-plane', 'trust-new-anchor'),
      ...FROM_RENEW_ISSUER,
    ]);
  });
});

describe('anchor renewed (by the rotator or by cert-manager on its own): the bundle holds old and new', () => {
  // identity, viz, web and the opted-out legacy pod still carry only the old anchor.
  const renewed = (over: Partial<StateSpec> = {}): StateSpec =>
    anchorRenewedSpec(r, {
      pods: podsOfMesh(
        { anchors: both },
        { identity: { anchors: [r.oldAnchor] }, viz: { anchors: [r.oldAnchor] }, web: { anchors: [r.oldAnchor] }, legacy: { anchors: [r.oldAnchor] } },
      ),
      ...over,
    });

  it.each([true, false])('bundle settled (startNew %s): only workloads with stale pods restart, never a second renew-anchor', (startNew) => {
    const plan = derivePlan(observedState(renewed()), { startNew });
    expect(plan.phase).toBe('anchor-renewed');
    expect(shape(plan)).toEqual([
      s('restart-control-plane', 'trust-new-anchor', [VIZ, IDENTITY]),
      s('restart-data-plane', 'trust-new-anchor', [WEB]),
      ...FROM_RENEW_ISSUER,
    ]);
  });

  it.each<[string, (rot: Rotation) => StateSpec['targets']]>([
    [
      'a ConfigMap still holds only the old anchor',
      (rot) => [
        { namespace: 'linkerd', anchors: [rot.oldAnchor, rot.newAnchor] },
        { namespace: 'linkerd-viz', anchors: [rot.oldAnchor] },
      ],
    ],
    ['a ConfigMap is missing', () => [{ namespace: 'linkerd', problem: 'ConfigMap linkerd/linkerd-identity-trust-roots has no key ca-bundle.crt yet' }]],
  ])('bundle not settled (%s): wait-bundle first, then restarts of whatever is stale by then', (_name, targets) => {
    const plan = derivePlan(observedState(renewed({ targets: targets(r) })), { startNew: true });
    expect(plan.phase).toBe('anchor-renewed');
    expect(shape(plan)).toEqual([
      s('wait-bundle'),
      s('restart-control-plane', 'trust-new-anchor'),
      s('restart-data-plane', 'trust-new-anchor'),
      ...FROM_RENEW_ISSUER,
    ]);
  });

  it('the bundle holding the anchors in another order, with a duplicate, counts as settled', () => {
    const targets = [{ namespace: 'linkerd', anchors: [r.oldAnchor, r.newAnchor, r.oldAnchor] }];
    expect(derivePlan(observedState(renewed({ targets })), { startNew: true }).steps[0]?.name).toBe('restart-control-plane');
  });

  it('restarts half done: only the remaining stale workloads are targets; terminating pods are ignored', () => {
    const pods = [
      ...podsOfMesh({ anchors: both }, { db: { anchors: [r.oldAnchor] } }),
      statePod({ name: 'web-old', of: mesh.web, anchors: [r.oldAnchor], terminating: true }),
    ];
    expect(shape(derivePlan(observedState(renewed({ pods })), { startNew: true }))).toEqual([
      s('restart-data-plane', 'trust-new-anchor', [DB]),
      ...FROM_RENEW_ISSUER,
    ]);
  });

  it('a workload half rolled out (one new pod, one old) is still a target', () => {
    const pods = [...podsOfMesh({ anchors: both }), statePod({ name: 'web-1', of: mesh.web, anchors: [r.oldAnchor] })];
    expect(shape(derivePlan(observedState(renewed({ pods })), { startNew: false }))).toEqual([
      s('restart-data-plane', 'trust-new-anchor', [WEB]),
      ...FROM_RENEW_ISSUER,
    ]);
  });

  it('a pod whose anchors cannot be read counts as stale', () => {
    const pods = podsOfMesh({ anchors: both }, { db: { anchors: undefined, anchorsProblem: 'no literal env' } });
    expect(shape(derivePlan(observedState(renewed({ pods })), { startNew: false }))[0]).toEqual(s('restart-data-plane', 'trust-new-anchor', [DB]));
  });

  it('every restartable pod trusts the new anchor: the issuer renewal comes next, opted-out pods are no targets', () => {
    const pods = podsOfMesh({ anchors: both }, { legacy: { anchors: [r.oldAnchor] } });
    expect(shape(derivePlan(observedState(renewed({ pods })), { startNew: true }))).toEqual(FROM_RENEW_ISSUER);
  });

  it('bare pods and held workloads with stale pods are never restart targets', () => {
    const bare = statePod({ name: 'debug', namespace: 'shop', anchors: [r.oldAnchor], hold: 'bare pod shop/debug has no controller to restart it' });
    const pods = [...podsOfMesh({ anchors: both }, { legacy: { anchors: [r.oldAnchor] } }), bare];
    expect(shape(derivePlan(observedState(renewed({ pods })), { startNew: true }))[0]).toEqual(s('renew-issuer'));
  });
});
