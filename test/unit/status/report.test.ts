import { buildStatus, renderStatus } from '../../../src/status/report.js';
import type { Generated } from '../../support/certs.js';
import { at, makeRotation, observedState, podsOfMesh, type Rotation, type StateSpec, anchorRenewedSpec, steadySpec } from '../../support/state.js';

// The default window: the 48h issuer stays quiet (its window is a third of its lifetime).
const WARNING_DAYS = 60;

let r: Rotation;
let both: Generated[];
beforeAll(async () => {
  r = await makeRotation();
  both = [r.oldAnchor, r.newAnchor];
});

const steady = (over: Partial<StateSpec> = {}): StateSpec => steadySpec(r, over);

describe('buildStatus', () => {
  it('steady: healthy, nothing remains, no finding', () => {
    const report = buildStatus(observedState(steady()), WARNING_DAYS);
    expect(report).toMatchObject({
      health: 'healthy',
      phase: 'steady',
      remainingSteps: [],
      stale: [],
      findings: [],
      pods: { meshed: 6, lackingNewAnchor: 0, trustingOldAnchor: 0, untrustingIssuerAnchor: 0 },
    });
    expect(report.anchor.fingerprint).toBe(r.newAnchor.cert.fingerprint);
    expect(report.issuer).toMatchObject({
      fingerprint: r.newIssuer.cert.fingerprint,
      signedBy: r.newAnchor.cert.fingerprint,
      keyAlgorithm: 'ECDSA P-256',
      daysLeft: 1,
    });
    expect(report.bundle.targets).toEqual([{ namespace: 'linkerd', anchors: [r.newAnchor.cert.fingerprint], problem: undefined }]);
  });

  it('mid-rotation (anchor renewed, two workloads not restarted yet): warning with the remaining steps and the stale pods', () => {
    const state = observedState(
      anchorRenewedSpec(r, { pods: podsOfMesh({ anchors: both }, { web: { anchors: [r.oldAnchor] }, legacy: { anchors: [r.oldAnchor] } }) }),
    );
    const report = buildStatus(state, WARNING_DAYS);
    expect(report.health).toBe('warning');
    expect(report.phase).toBe('anchor-renewed');
    expect(report.remainingSteps).toEqual([
      'restart-data-plane (trust-new-anchor)',
      'renew-issuer',
      'restart-control-plane (adopt-new-issuer)',
      'restart-data-plane (adopt-new-issuer)',
      'update-bundle',
      'restart-control-plane (drop-old-anchor)',
      'restart-data-plane (drop-old-anchor)',
    ]);
    expect(report.stale.map((s) => `${s.namespace}/${s.name}`)).toEqual(['shop/web-0', 'legacy/legacy-0']);
    expect(report.stale[1]?.reason).toBe('its bundle lacks the new trust anchor; Deployment legacy/api is held (opted-out)');
    expect(report.pods).toEqual({ meshed: 6, lackingNewAnchor: 2, trustingOldAnchor: 6, untrustingIssuerAnchor: 0 });
    expect(report.findings).toEqual([
      // No status.renewalTime in this snapshot: cert-manager's default, two thirds of the old issuer's 48h from 06:00.
      {
        severity: 'warning',
        subject: 'identity issuer',
        message: expect.stringMatching(
          /^cert-manager renews the issuer at 2025-06-02T14:00:00.000Z \(in 1d2h\): .*every stale pod must be restarted before then$/,
        ) as unknown,
      },
      { severity: 'warning', subject: 'data plane', message: '2 meshed pod(s) must restart for the rotation to finish' },
      { severity: 'warning', subject: 'rotation', message: `unfinished: ${report.summary}` },
    ]);
  });

  it('issuer renewed: the stale pods are those created before identity adopted it', () => {
    const pods = podsOfMesh({ anchors: both }, { db: { startedAt: at('10:20') } });
    const report = buildStatus(observedState(steady({ previous: [r.oldAnchor], pods })), WARNING_DAYS);
    expect(report).toMatchObject({ health: 'warning', phase: 'issuer-renewed' });
    expect(report.stale).toEqual([
      { namespace: 'shop', name: 'db-0', owner: 'StatefulSet/db', reason: 'created before the identity controller ran with the current issuer' },
    ]);
  });

  it('pods not trusting the anchor that signed the issuer: broken', () => {
    const pods = podsOfMesh({ anchors: both }, { web: { anchors: [r.oldAnchor] } });
    const report = buildStatus(observedState(steady({ previous: [r.oldAnchor], pods })), WARNING_DAYS);
    expect(report.health).toBe('broken');
    expect(report.pods.untrustingIssuerAnchor).toBe(1);
    expect(report.findings).toContainEqual({
      severity: 'error',
      subject: 'data plane',
      message: '1 meshed pod(s) do not trust the anchor that signed the current issuer',
    });
  });

  it('an issuer chaining to no known anchor: broken, every pod counted as not trusting it', () => {
    const report = buildStatus(observedState(steady({ issuer: r.oldIssuer, signer: undefined, previous: [r.oldAnchor] })), WARNING_DAYS);
    expect(report.health).toBe('broken');
    expect(report.issuer.signedBy).toBeUndefined();
    expect(report.pods.untrustingIssuerAnchor).toBe(6);
  });

  it('bundle trimmed but an opted-out pod still trusts the old anchor: a warning naming it', () => {
    const report = buildStatus(observedState(steady({ pods: podsOfMesh({ anchors: [r.newAnchor] }, { legacy: { anchors: both } }) })), WARNING_DAYS);
    expect(report).toMatchObject({ health: 'warning', phase: 'bundle-trimmed', remainingSteps: [] });
    expect(report.stale.map((s) => s.name)).toEqual(['legacy-0']);
  });

  it('a certificate inside the warning window alone makes it a warning', () => {
    const report = buildStatus(observedState(steady()), 800);
    expect(report).toMatchObject({ health: 'warning', phase: 'steady', remainingSteps: [] });
    expect(report.findings).toEqual([expect.objectContaining({ severity: 'warning', subject: 'trust anchor' })]);
  });
});

describe('renderStatus', () => {
  it('puts health and phase first, then the certificates, the remaining steps and the stale pods', () => {
    const state = observedState(anchorRenewedSpec(r, { pods: podsOfMesh({ anchors: both }, { web: { anchors: [r.oldAnchor] } }) }));
    const lines = renderStatus(buildStatus(state, WARNING_DAYS)).split('\n');
    const short = (g: Generated): string => g.cert.fingerprint.slice(0, 12);
    expect(lines[0]).toBe('health: WARNING    phase: anchor-renewed');
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^trust anchor {5}${short(r.newAnchor)} {2}expires 2027-06-01T00:00:00.000Z \\(\\d+ days\\)$`)),
    );
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^previous anchor {2}${short(r.oldAnchor)} `)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`, ECDSA P-256, signed by ${short(r.oldAnchor)}$`)));
    expect(lines).toContainEqual(expect.stringMatching(/^remaining steps: restart-data-plane \(trust-new-anchor\) -> renew-issuer -> /));
    expect(lines).toContainEqual('  stale shop/web-0 (Deployment/web): its bundle lacks the new trust anchor');
    expect(lines).toContainEqual('warning: data plane: 1 meshed pod(s) must restart for the rotation to finish');
  });
});
