import {
  bundleMismatches,
  expectedBundle,
  identityAdoptedSince,
  notSurelyAfter,
  restartableKeys,
  restartNotBefore,
  stalePods,
  type Purpose,
  type StalePod,
} from '../../../src/rotation/gates.js';
import type { StatePod } from '../../../src/rotation/state.js';
import type { Generated } from '../../support/certs.js';
import { at, ISSUED, makeRotation, mesh, observedState, statePod, type PodSpec, type Rotation } from '../../support/state.js';

let r: Rotation;
beforeAll(async () => {
  r = await makeRotation();
});

/** Mid-rotation: anchor renewed, the issuer chains to the new anchor and was issued at ISSUED (10:00). */
const state = (pods: StatePod[]) => observedState({ anchor: r.newAnchor, previous: [r.oldAnchor], issuer: r.newIssuer, signer: r.newAnchor, pods });
const identityPod = (over: Partial<PodSpec> = {}): StatePod =>
  statePod({ name: 'identity-0', of: mesh.identity, anchors: [r.newAnchor, r.oldAnchor], startedAt: at('10:30'), ...over });
const reasons = (stale: StalePod[]): [string, string][] => stale.map((s) => [s.pod.pod.name, s.reason]);

describe('stalePods', () => {
  type Anchors = (rot: Rotation) => Generated[] | undefined;
  const OLD: Anchors = (rot) => [rot.oldAnchor];
  const NEW: Anchors = (rot) => [rot.newAnchor];
  const BOTH: Anchors = (rot) => [rot.newAnchor, rot.oldAnchor];
  const NONE: Anchors = () => undefined;

  it.each<[Purpose, string, Anchors, string | undefined]>([
    ['trust-new-anchor', 'old anchor only', OLD, 'its bundle lacks the new trust anchor'],
    ['trust-new-anchor', 'new anchor only', NEW, undefined],
    ['trust-new-anchor', 'old and new anchors', BOTH, undefined],
    ['trust-new-anchor', 'unreadable anchors', NONE, 'trust anchors unreadable'],
    ['drop-old-anchor', 'old anchor only', OLD, 'its bundle still holds another anchor than the current one'],
    ['drop-old-anchor', 'new anchor only', NEW, undefined],
    ['drop-old-anchor', 'old and new anchors', BOTH, 'its bundle still holds another anchor than the current one'],
    ['drop-old-anchor', 'unreadable anchors', NONE, 'trust anchors unreadable'],
  ])('%s: a pod with %s -> %s', (purpose, _name, anchors, reason) => {
    const stale = stalePods(state([identityPod(), statePod({ name: 'web-0', of: mesh.web, anchors: anchors(r) })]), purpose);
    expect(reasons(stale.filter((s) => s.pod.pod.name === 'web-0'))).toEqual(reason ? [['web-0', reason]] : []);
  });

  it.each<Purpose>(['trust-new-anchor', 'drop-old-anchor'])('%s: gives the reason observeMesh recorded for unreadable anchors', (purpose) => {
    const pod = statePod({ name: 'web-0', of: mesh.web, anchors: undefined, anchorsProblem: 'no literal LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS' });
    expect(reasons(stalePods(state([pod]), purpose))).toEqual([['web-0', 'no literal LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS']]);
  });

  describe('adopt-new-issuer (identity ready since 10:30:30)', () => {
    it.each<[string, Partial<PodSpec>, string | undefined]>([
      ['created long before', { createdAt: at('09:00'), startedAt: at('09:00') }, 'created before the identity controller ran with the current issuer'],
      [
        'created a second before identity was ready',
        { createdAt: at('10:30:29'), startedAt: at('10:30:29') },
        'created before the identity controller ran with the current issuer',
      ],
      [
        'created before identity was ready but started after it',
        { createdAt: at('10:30:20'), startedAt: at('10:31') },
        'created before the identity controller ran with the current issuer',
      ],
      // Timestamps have whole seconds: a pod stamped in the second identity became ready may have been created before it.
      [
        'created in the second identity became ready',
        { createdAt: at('10:30:30'), startedAt: at('10:30:30') },
        'created before the identity controller ran with the current issuer',
      ],
      ['created the second after identity became ready', { createdAt: at('10:30:31'), startedAt: at('10:30:31') }, undefined],
      ['created later', { createdAt: at('11:00'), startedAt: at('11:00') }, undefined],
    ])('a data-plane pod %s', (_name, over, reason) => {
      const stale = stalePods(
        state([identityPod(), statePod({ name: 'web-0', of: mesh.web, anchors: [r.newAnchor, r.oldAnchor], ...over })]),
        'adopt-new-issuer',
      );
      expect(reasons(stale)).toEqual(reason ? [['web-0', reason]] : []);
    });

    it('a pod started late but without the new anchor in its bundle is stale', () => {
      const stale = stalePods(
        state([identityPod(), statePod({ name: 'web-0', of: mesh.web, anchors: [r.oldAnchor], startedAt: at('11:00') })]),
        'adopt-new-issuer',
      );
      expect(reasons(stale)).toEqual([['web-0', 'its bundle lacks the new trust anchor']]);
    });

    it('without a start time the creation time counts', () => {
      const pod = statePod({ name: 'web-0', of: mesh.web, anchors: [r.newAnchor, r.oldAnchor], startedAt: at('11:00') });
      const unstarted: StatePod = { ...pod, pod: { ...pod.pod, startedAtMs: undefined, createdAtMs: at('09:00').getTime() } };
      expect(reasons(stalePods(state([identityPod(), unstarted]), 'adopt-new-issuer'))).toHaveLength(1);
    });

    it('an identity pod started before the issuer was issued is stale, and so is every other pod', () => {
      const stale = stalePods(
        state([identityPod({ startedAt: at('09:59') }), statePod({ name: 'web-0', of: mesh.web, anchors: [r.newAnchor, r.oldAnchor] })]),
        'adopt-new-issuer',
      );
      expect(reasons(stale)).toEqual([
        ['identity-0', 'identity controller started before the current issuer was issued'],
        ['web-0', 'the identity controller is not yet running with the current issuer'],
      ]);
    });

    it('an identity pod started after the issuance but not ready yet is not stale itself; the others are', () => {
      const stale = stalePods(
        state([identityPod({ readySince: null }), statePod({ name: 'web-0', of: mesh.web, anchors: [r.newAnchor, r.oldAnchor] })]),
        'adopt-new-issuer',
      );
      expect(reasons(stale)).toEqual([['web-0', 'the identity controller is not yet running with the current issuer']]);
    });
  });
});

describe('identityAdoptedSince', () => {
  it.each<[string, () => StatePod[], Date | undefined]>([
    ['no identity pod', () => [statePod({ name: 'web-0', of: mesh.web, anchors: [r.newAnchor, r.oldAnchor] })], undefined],
    ['one ready identity pod started after the issuance', () => [identityPod()], at('10:30:30')],
    ['started in the second of the issuance (maybe before it)', () => [identityPod({ startedAt: ISSUED })], undefined],
    ['started the second after the issuance', () => [identityPod({ startedAt: new Date(ISSUED.getTime() + 1000) })], at('10:00:31')],
    ['started before the issuance', () => [identityPod({ startedAt: at('09:59:59') })], undefined],
    ['not ready', () => [identityPod({ readySince: null })], undefined],
    ['two replicas: the later readiness counts', () => [identityPod(), identityPod({ name: 'identity-1', readySince: at('10:45') })], at('10:45')],
    ['one of two replicas started before the issuance', () => [identityPod(), identityPod({ name: 'identity-1', startedAt: at('09:00') })], undefined],
    [
      'an old replica still terminating is ignored',
      () => [identityPod(), identityPod({ name: 'identity-old', startedAt: at('09:00'), terminating: true })],
      at('10:30:30'),
    ],
    ['only a terminating replica', () => [identityPod({ terminating: true })], undefined],
  ])('%s', (_name, pods, expected) => {
    expect(identityAdoptedSince(state(pods()))).toEqual(expected);
  });
});

describe('restartableKeys', () => {
  const stale = (spec: PodSpec): StalePod => ({ pod: statePod(spec), reason: 'stale' });

  it('keeps one key per workload and leaves out terminating, held and unowned pods', () => {
    const keys = restartableKeys([
      stale({ name: 'web-0', of: mesh.web, anchors: [r.newAnchor, r.oldAnchor] }),
      stale({ name: 'web-1', of: mesh.web, anchors: [r.newAnchor, r.oldAnchor] }),
      stale({ name: 'db-0', of: mesh.db, anchors: [r.newAnchor, r.oldAnchor], terminating: true }),
      stale({ name: 'api-0', of: mesh.legacy, anchors: [r.newAnchor, r.oldAnchor] }),
      stale({ name: 'debug', namespace: 'shop', anchors: [r.newAnchor, r.oldAnchor], hold: 'bare pod shop/debug has no controller to restart it' }),
      stale({ name: 'identity-0', of: mesh.identity, anchors: [r.newAnchor, r.oldAnchor] }),
    ]);
    expect([...keys].sort()).toEqual(['Deployment/linkerd/linkerd-identity', 'Deployment/shop/web']);
  });

  it('a terminating pod does not hide another stale pod of the same workload', () => {
    const keys = restartableKeys([
      stale({ name: 'db-0', of: mesh.db, anchors: [r.newAnchor, r.oldAnchor], terminating: true }),
      stale({ name: 'db-1', of: mesh.db, anchors: [r.newAnchor, r.oldAnchor] }),
    ]);
    expect([...keys]).toEqual(['StatefulSet/shop/db']);
  });
});

describe('expectedBundle and bundleMismatches', () => {
  const fps = (certs: { fingerprint: string }[]): string[] => certs.map((c) => c.fingerprint);

  it.each<[string, (rot: Rotation) => { anchor: Generated; previous: Generated[] }, (rot: Rotation) => Generated[]]>([
    ['trimmed: the anchor once', (rot) => ({ anchor: rot.newAnchor, previous: [rot.newAnchor] }), (rot) => [rot.newAnchor]],
    [
      'mid-rotation: anchor first, then the previous one',
      (rot) => ({ anchor: rot.newAnchor, previous: [rot.oldAnchor] }),
      (rot) => [rot.newAnchor, rot.oldAnchor],
    ],
    [
      'duplicates in the previous Secret collapse',
      (rot) => ({ anchor: rot.newAnchor, previous: [rot.oldAnchor, rot.newAnchor, rot.oldAnchor] }),
      (rot) => [rot.newAnchor, rot.oldAnchor],
    ],
    ['no previous Secret', (rot) => ({ anchor: rot.newAnchor, previous: [] }), (rot) => [rot.newAnchor]],
  ])('expectedBundle: %s', (_name, input, expected) => {
    const { anchor, previous } = input(r);
    expect(fps(expectedBundle(observedState({ anchor, previous, issuer: r.newIssuer, signer: r.newAnchor })))).toEqual(fps(expected(r).map((g) => g.cert)));
  });

  type Target = { namespace: string; anchors?: Generated[]; problem?: string };
  it.each<[string, (rot: Rotation) => Target[], string[]]>([
    ['same anchors in another order', (rot) => [{ namespace: 'linkerd', anchors: [rot.oldAnchor, rot.newAnchor] }], []],
    ['same anchors with a duplicate', (rot) => [{ namespace: 'linkerd', anchors: [rot.newAnchor, rot.oldAnchor, rot.newAnchor] }], []],
    ['one anchor missing', (rot) => [{ namespace: 'linkerd', anchors: [rot.oldAnchor] }], ['linkerd: holds 1 anchor(s), not the expected 2']],
    [
      'an extra anchor',
      (rot) => [{ namespace: 'linkerd', anchors: [rot.oldAnchor, rot.newAnchor, rot.oldIssuer] }],
      ['linkerd: holds 3 anchor(s), not the expected 2'],
    ],
    [
      'as many anchors but another one',
      (rot) => [{ namespace: 'linkerd', anchors: [rot.newAnchor, rot.newIssuer] }],
      ['linkerd: holds 2 anchor(s), not the expected 2'],
    ],
    [
      'a missing ConfigMap with its problem',
      () => [{ namespace: 'shop', problem: 'ConfigMap shop/x has no key ca-bundle.crt yet' }],
      ['shop: ConfigMap shop/x has no key ca-bundle.crt yet'],
    ],
    ['a missing ConfigMap without a problem', () => [{ namespace: 'shop' }], ['shop: missing']],
    [
      'only the bad targets are named',
      (rot) => [
        { namespace: 'linkerd', anchors: [rot.newAnchor, rot.oldAnchor] },
        { namespace: 'viz', anchors: [rot.newAnchor] },
      ],
      ['viz: holds 1 anchor(s), not the expected 2'],
    ],
    ['no targets: never settled', () => [], ['Bundle linkerd-identity-trust-roots selects no namespace']],
  ])('bundleMismatches: %s', (_name, targets, expected) => {
    const observed = observedState({ anchor: r.newAnchor, previous: [r.oldAnchor], issuer: r.newIssuer, signer: r.newAnchor, targets: targets(r) });
    expect(bundleMismatches(observed, expectedBundle(observed))).toEqual(expected);
  });
});

describe('notSurelyAfter (whole-second timestamps)', () => {
  it.each<[string, Date, Date, boolean]>([
    ['a second earlier', at('10:30:29'), at('10:30:30'), true],
    ['the same second', at('10:30:30'), at('10:30:30'), true],
    ['the same second, reference with milliseconds', at('10:30:30'), new Date(at('10:30:30').getTime() + 766), true],
    ['the next second', at('10:30:31'), new Date(at('10:30:30').getTime() + 999), false],
    ['much later', at('11:00'), at('10:30:30'), false],
  ])('%s', (_name, moment, reference, expected) => {
    expect(notSurelyAfter(moment, reference)).toBe(expected);
  });
});

describe('restartNotBefore', () => {
  it.each<[string, Purpose | undefined, boolean, Date | undefined]>([
    ['identity, adopting the issuer: the second after the issuance', 'adopt-new-issuer', true, new Date(ISSUED.getTime() + 1000)],
    ['the rest, adopting the issuer: the second after identity became ready', 'adopt-new-issuer', false, at('10:30:31')],
    ['trusting the new anchor: at once', 'trust-new-anchor', false, undefined],
    ['dropping the old anchor: at once', 'drop-old-anchor', true, undefined],
    ['a restart for no purpose (a task run alone) satisfies gate 2 too', undefined, false, at('10:30:31')],
  ])('%s', (_name, purpose, identity, expected) => {
    expect(restartNotBefore(state([identityPod()]), purpose, identity)).toEqual(expected);
  });

  it('while identity has not adopted the issuer, the rest has nothing to wait for (its gate holds anyway)', () => {
    expect(restartNotBefore(state([identityPod({ readySince: null })]), 'adopt-new-issuer', false)).toBeUndefined();
  });
});
