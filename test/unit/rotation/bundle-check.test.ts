import type { BundleSourceView } from '../../../src/kube/model.js';
import { bundleRefusals, bundleWaitRefusal, unusableBundle } from '../../../src/rotation/bundle-check.js';
import { derivePlan } from '../../../src/rotation/plan.js';
import { certificateFindings } from '../../../src/rotation/health.js';
import type { BundleNames } from '../../../src/rotation/state.js';
import { bundleNames, bundleView, cleanPreviousSecret, makeRotation, observedState, steadySpec, type Rotation, type StateSpec } from '../../support/state.js';

let r: Rotation;
beforeAll(async () => {
  r = await makeRotation();
});

const anchorSource: BundleSourceView = { kind: 'Secret', name: 'linkerd-trust-anchor', key: 'tls.crt' };
const previousSource: BundleSourceView = { kind: 'Secret', name: 'linkerd-previous-anchor', key: 'tls.crt' };
const B = 'Bundle linkerd-identity-trust-roots';
const CB = 'ClusterBundle linkerd-identity-trust-roots';
const noPrevious = (name: string): string =>
  `${name} has no source Secret linkerd-previous-anchor key tls.crt: the old anchor would leave the bundle at the renewal while every leaf still chains to it`;
const noAnchor = (name: string): string => `${name} has no source Secret linkerd-trust-anchor key tls.crt: the renewed anchor would never reach the bundle`;
const unmanaged = (name: string, list: string): string =>
  `${name} has sources the rotator does not manage (${list}): its gates wait for the bundle to hold exactly the current and previous anchors`;

type Case = [string, (rot: Rotation) => Partial<StateSpec>, string[]];

describe('bundleRefusals', () => {
  it.each<Case>([
    ["the fixture's Bundle", () => ({}), []],
    ['the same sources in a ClusterBundle', () => ({ bundle: { kind: 'ClusterBundle' } }), []],
    ['a Bundle without the previous-anchor source (situation 4)', () => ({ bundle: { sources: [anchorSource] } }), [noPrevious(B)]],
    ['a ClusterBundle without the previous-anchor source', () => ({ bundle: { kind: 'ClusterBundle', sources: [anchorSource] } }), [noPrevious(CB)]],
    ['no anchor source', () => ({ bundle: { sources: [previousSource] } }), [noAnchor(B)]],
    ['no source at all', () => ({ bundle: { sources: [] } }), [noAnchor(B), noPrevious(B)]],
    [
      'the anchor Secret by another key',
      () => ({ bundle: { sources: [{ ...anchorSource, key: 'ca.crt' }, previousSource] } }),
      [noAnchor(B), unmanaged(B, 'Secret linkerd-trust-anchor key ca.crt')],
    ],
    [
      'the previous anchor as a ConfigMap of that name',
      () => ({ bundle: { sources: [anchorSource, { ...previousSource, kind: 'ConfigMap' }] } }),
      [noPrevious(B), unmanaged(B, 'ConfigMap linkerd-previous-anchor key tls.crt')],
    ],
    [
      'the previous anchor by selector',
      () => ({ bundle: { sources: [anchorSource, { kind: 'Secret', bySelector: true, key: 'tls.crt' }] } }),
      [noPrevious(B), unmanaged(B, 'Secret by selector key tls.crt')],
    ],
    [
      'extra sources: inline PEM, default CAs, all keys of a Secret',
      () => ({ bundle: { sources: [anchorSource, previousSource, { kind: 'inline' }, { kind: 'default-cas' }, { kind: 'Secret', name: 'peers', key: '*' }] } }),
      [unmanaged(B, 'inline PEM, default CAs, Secret peers (all keys)')],
    ],
    [
      'the previous-anchor Secret does not exist',
      () => ({ previous: [] }),
      [
        'Secret cert-manager/linkerd-previous-anchor does not exist: trust-manager stops updating a bundle whose source is missing, so the renewed anchor would never reach it',
      ],
    ],
    [
      'the previous-anchor Secret has no tls.crt key',
      () => ({ previousSecret: cleanPreviousSecret({ tlsCrt: undefined }) }),
      ['Secret cert-manager/linkerd-previous-anchor has no key tls.crt: trust-manager stops updating a bundle whose source key is missing'],
    ],
    ['an empty tls.crt in the previous-anchor Secret is a source trust-manager takes', () => ({ previousSecret: cleanPreviousSecret({ tlsCrt: '' }) }), []],
    ["the chart's previous-anchor source: all keys of the Secret", () => ({ bundle: { sources: [anchorSource, { ...previousSource, key: '*' }] } }), []],
    ['the chart\'s in a ClusterBundle (key "*")', () => ({ bundle: { kind: 'ClusterBundle', sources: [anchorSource, { ...previousSource, key: '*' }] } }), []],
    [
      'all keys of a previous-anchor Secret that holds no certificate yet (a fresh install)',
      () => ({ bundle: { sources: [anchorSource, { ...previousSource, key: '*' }] }, previousSecret: cleanPreviousSecret({ tlsCrt: undefined }) }),
      [
        'Secret cert-manager/linkerd-previous-anchor holds no certificate yet (a fresh install): the current anchor would leave the bundle at the renewal; write its certificate into tls.crt first (docs/runbook.md)',
      ],
    ],
    [
      'all keys of another Secret as the previous anchor',
      () => ({ bundle: { sources: [anchorSource, { kind: 'Secret', name: 'other', key: '*' }] } }),
      [noPrevious(B), unmanaged(B, 'Secret other (all keys)')],
    ],
    ['the Bundle selects no namespace', () => ({ targets: [] }), [`${B} selects no namespace: no ConfigMap carries the bundle`]],
    [
      'the targets miss the Linkerd namespace',
      (rot) => ({ targets: [{ namespace: 'linkerd-viz', anchors: [rot.newAnchor] }] }),
      [`${B} does not target namespace linkerd, where the identity controller and the proxy injector read ConfigMap linkerd-identity-trust-roots`],
    ],
    [
      'a target ConfigMap emptied',
      (rot) => ({
        targets: [
          { namespace: 'linkerd', anchors: [rot.newAnchor] },
          {
            namespace: 'linkerd-multicluster',
            anchors: [],
            problem: 'ConfigMap linkerd-multicluster/linkerd-identity-trust-roots key ca-bundle.crt holds no certificate',
          },
        ],
      }),
      ['ConfigMap linkerd-multicluster/linkerd-identity-trust-roots key ca-bundle.crt holds no certificate'],
    ],
    [
      'a target ConfigMap unparsable',
      () => ({
        targets: [{ namespace: 'linkerd', problem: 'ConfigMap linkerd/linkerd-identity-trust-roots key ca-bundle.crt: unexpected text before PEM block 1' }],
      }),
      ['ConfigMap linkerd/linkerd-identity-trust-roots key ca-bundle.crt: unexpected text before PEM block 1'],
    ],
    [
      'an untargeted Linkerd namespace without the ConfigMap: both said',
      (rot) => ({
        targets: [{ namespace: 'linkerd-viz', anchors: [rot.newAnchor] }],
        controlPlane: { namespace: 'linkerd', problem: 'ConfigMap linkerd/linkerd-identity-trust-roots key ca-bundle.crt is missing' },
      }),
      [
        `${B} does not target namespace linkerd, where the identity controller and the proxy injector read ConfigMap linkerd-identity-trust-roots`,
        'ConfigMap linkerd/linkerd-identity-trust-roots key ca-bundle.crt is missing',
      ],
    ],
  ])('%s', (_name, over, expected) => {
    expect(bundleRefusals(observedState(steadySpec(r, over(r))), bundleNames)).toEqual(expected);
  });

  it('checks the names in force, not the defaults', () => {
    const names: BundleNames = { trustNamespace: 'trust', anchorSecret: 'root', previousAnchorSecret: 'root-previous', linkerdNamespace: 'mesh' };
    const state = observedState(steadySpec(r, { targets: [{ namespace: 'mesh', anchors: [r.newAnchor] }] }));
    expect(bundleRefusals(state, names)).toEqual([
      `${B} has no source Secret root key tls.crt: the renewed anchor would never reach the bundle`,
      `${B} has no source Secret root-previous key tls.crt: the old anchor would leave the bundle at the renewal while every leaf still chains to it`,
      unmanaged(B, 'Secret linkerd-trust-anchor key tls.crt, Secret linkerd-previous-anchor key tls.crt'),
    ]);
    const renamed = observedState(
      steadySpec(r, {
        targets: [{ namespace: 'mesh', anchors: [r.newAnchor] }],
        bundle: bundleView({
          sources: [
            { ...anchorSource, name: 'root' },
            { ...previousSource, name: 'root-previous' },
          ],
        }),
      }),
    );
    expect(bundleRefusals(renamed, names)).toEqual([]);
  });
});

describe('unusableBundle (restarts refused)', () => {
  it.each<Case>([
    ['every ConfigMap holds anchors', () => ({}), []],
    [
      'a stale but parsable bundle is usable (the plan waits for it, restarts do no harm)',
      (rot) => ({ targets: [{ namespace: 'linkerd', anchors: [rot.oldAnchor] }] }),
      [],
    ],
    [
      'an empty ConfigMap without a problem text',
      () => ({ targets: [{ namespace: 'linkerd', anchors: [] }] }),
      ['ConfigMap linkerd/linkerd-identity-trust-roots key ca-bundle.crt holds no certificate'],
    ],
    [
      'a missing ConfigMap in another target',
      (rot) => ({
        targets: [
          { namespace: 'linkerd', anchors: [rot.newAnchor] },
          { namespace: 'linkerd-viz', problem: 'ConfigMap linkerd-viz/linkerd-identity-trust-roots key ca-bundle.crt is missing' },
        ],
      }),
      ['ConfigMap linkerd-viz/linkerd-identity-trust-roots key ca-bundle.crt is missing'],
    ],
    [
      'the Linkerd namespace read on its own',
      (rot) => ({ targets: [{ namespace: 'linkerd-viz', anchors: [rot.newAnchor] }], controlPlane: { namespace: 'linkerd', anchors: [] } }),
      ['ConfigMap linkerd/linkerd-identity-trust-roots key ca-bundle.crt holds no certificate'],
    ],
    ['the Linkerd namespace targeted is named once', () => ({ targets: [{ namespace: 'linkerd', problem: 'unparsable' }] }), ['unparsable']],
  ])('%s', (_name, over, expected) => {
    expect(unusableBundle(observedState(steadySpec(r, over(r))).bundle)).toEqual(expected);
  });
});

describe('bundleWaitRefusal (rotate refuses a wait that cannot end)', () => {
  const empty = 'ConfigMap linkerd/linkerd-identity-trust-roots key ca-bundle.crt holds no certificate';
  const unparsable = 'ConfigMap linkerd-viz/linkerd-identity-trust-roots key ca-bundle.crt: unexpected text before PEM block 1';
  type WaitCase = [string, (rot: Rotation) => Partial<StateSpec>, string | undefined];
  it.each<WaitCase>([
    ['every ConfigMap holds the anchors: no wait, nothing to refuse', () => ({}), undefined],
    ['an emptied ConfigMap in the steady phase', () => ({ targets: [{ namespace: 'linkerd', anchors: [] }] }), empty],
    [
      'an unparsable ConfigMap in another target',
      (rot) => ({
        targets: [
          { namespace: 'linkerd', anchors: [rot.newAnchor] },
          { namespace: 'linkerd-viz', problem: unparsable },
        ],
      }),
      unparsable,
    ],
    [
      'an out-of-date but usable ConfigMap: trust-manager catching up is awaited',
      (rot) => ({ targets: [{ namespace: 'linkerd', anchors: [rot.oldAnchor] }] }),
      undefined,
    ],
    [
      'a missing ConfigMap (a namespace just selected): trust-manager creates it, so it is awaited',
      (rot) => ({
        targets: [
          { namespace: 'linkerd', anchors: [rot.newAnchor] },
          { namespace: 'linkerd-viz', problem: 'ConfigMap linkerd-viz/linkerd-identity-trust-roots key ca-bundle.crt is missing', missing: true },
        ],
      }),
      undefined,
    ],
  ])('%s', (_name, over, reason) => {
    const state = observedState(steadySpec(r, over(r)));
    const refusal = bundleWaitRefusal(derivePlan(state, { startNew: false }), state.bundle);
    if (reason === undefined) expect(refusal).toBeUndefined();
    else
      expect(refusal).toBe(
        `the bundle cannot be awaited: ${reason}; waiting would not end, and a proxy started now would trust no anchor. Restore it (deleting the ConfigMap makes trust-manager write it again), then run again`,
      );
  });

  it('only a plan that begins by waiting for the bundle is refused (an anchor issuance under way rewrites every target)', () => {
    const state = observedState(steadySpec(r, { targets: [{ namespace: 'linkerd', anchors: [] }] }));
    expect(
      bundleWaitRefusal(
        {
          steps: [
            { name: 'renew-anchor', resume: true, why: '' },
            { name: 'wait-bundle', why: '' },
          ],
        },
        state.bundle,
      ),
    ).toBeUndefined();
    expect(bundleWaitRefusal({ steps: [{ name: 'wait-bundle', why: '' }] }, state.bundle)).toContain(empty);
  });
});

describe('status findings of the bundle', () => {
  it('situation 4 is an error, so status is no longer healthy', () => {
    const findings = certificateFindings(observedState(steadySpec(r, { bundle: { sources: [anchorSource] } })), 1);
    expect(findings).toEqual([{ severity: 'error', subject: 'bundle', message: noPrevious(B) }]);
  });

  it('an emptied ConfigMap is an error and not also a mismatch warning', () => {
    const findings = certificateFindings(observedState(steadySpec(r, { targets: [{ namespace: 'linkerd', anchors: [] }] })), 1);
    expect(findings).toEqual([
      { severity: 'error', subject: 'bundle', message: 'ConfigMap linkerd/linkerd-identity-trust-roots key ca-bundle.crt holds no certificate' },
    ]);
  });

  it('a usable target out of step stays a warning', () => {
    const findings = certificateFindings(
      observedState(
        steadySpec(r, {
          targets: [
            { namespace: 'linkerd', anchors: [r.newAnchor] },
            { namespace: 'linkerd-viz', anchors: [r.oldAnchor] },
          ],
        }),
      ),
      1,
    );
    expect(findings).toEqual([{ severity: 'warning', subject: 'bundle', message: 'linkerd-viz: holds 1 anchor(s), not the expected 1' }]);
  });
});
