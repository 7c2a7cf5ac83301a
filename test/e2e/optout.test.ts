// A meshed workload the rotator will not restart (opted out): issue 10's first situation. A new
// rotation is refused with nothing changed; accepted with --accept-held-pods, the stalled rotation
// reports the time left before cert-manager's issuer renewal, and each restart by hand lets it go on.
import { Certificates } from '../harness/certificates.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { names, waitForWorkloads } from '../harness/fixture.js';
import { runRotator } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';
import { evaluateAlert } from '../harness/alerts.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();
const certificates = new Certificates(kubeconfig);
const optOut = 'linkerd-cert-rotator.io/skip';

interface StatusJson {
  phase: string;
  issuer: { renewalTime?: string };
  findings: { severity: string; subject: string; message: string }[];
  stale: unknown[];
}

describe('a meshed workload opted out of restarts', () => {
  beforeAll(async () => {
    await ensureSteady(kubeconfig);
    await kube.mergePatchDeployment('jobs', 'worker', { metadata: { annotations: { [optOut]: 'true' } } });
  });
  afterAll(async () => {
    await certificates.patchSpec(names.linkerdNs, names.issuer, { renewBefore: '25h0m0s' });
    await kube.mergePatchDeployment('jobs', 'worker', { metadata: { annotations: { [optOut]: null } } });
    await ensureSteady(kubeconfig);
  });

  test('refuses a new rotation before anything changes, naming the workload; status says why', async () => {
    const before = await kube.resourceVersions();
    const dry = await runRotator(kubeconfig, ['rotate', '--force', '--dry-run', '--output', 'json']);
    expect(dry.code).toBe(3);
    const refusals = (JSON.parse(dry.stdout) as { refusals: string[] }).refusals.join('\n');
    expect(refusals).toMatch(/will not be restarted.*Deployment jobs\/worker is opted out.*--accept-held-pods/s);

    const refused = await runRotator(kubeconfig, ['rotate', '--force']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/refusing to start a rotation, nothing was changed.*Deployment jobs\/worker is opted out/);
    expect(await kube.resourceVersions()).toEqual(before);

    const { report } = (await statusOf(kubeconfig)) as unknown as { report: StatusJson };
    expect(report.phase).toBe('steady');
    expect(report.findings.some((f) => f.subject === 'next rotation' && /jobs\/worker is opted out/.test(f.message))).toBe(true);
  });

  test('accepted: stops at each gate, reports the time left before the issuer renewal, and each restart by hand lets the next run go on', async () => {
    const issuer = await kube.issuer();
    const oldAnchor = await kube.anchor();

    const blocked = await runRotator(kubeconfig, ['rotate', '--force', '--accept-held-pods']);
    expect(blocked.code).toBe(4);
    expect(blocked.stderr).toMatch(/gate before the issuer renewal/);
    expect(blocked.stderr).toMatch(/jobs\/worker-[a-z0-9-]+ \(Deployment\/worker\)/);
    expect(blocked.stderr).toMatch(/cert-manager renews the issuer at \S+ \(in \d+h/);
    expect((await kube.issuer()).fingerprint256).toBe(issuer.fingerprint256);
    expect((await kube.anchor()).fingerprint256).not.toBe(oldAnchor.fingerprint256);

    // cert-manager's renewal brought forward to 20 minutes from now: status and the metrics say so.
    const renewal = new Date(Date.now() + 20 * 60_000);
    await certificates.renewAt(names.linkerdNs, names.issuer, renewal);
    const stalled = await runRotator(kubeconfig, ['status', '--output', 'json']);
    expect(stalled.code).toBe(10);
    const report = JSON.parse(stalled.stdout) as StatusJson;
    expect(report.phase).toBe('anchor-renewed');
    expect(Math.abs(new Date(report.issuer.renewalTime ?? 0).getTime() - renewal.getTime())).toBeLessThan(1500);
    const left = report.findings.find((f) => f.subject === 'identity issuer' && f.message.startsWith('cert-manager renews the issuer'));
    // Time left as the formatter prints it: 20m when status ran within a second of renewAt
    // (renewalTime is stored in whole seconds), down to 18m-something on a slow machine.
    expect(left?.message).toMatch(/\(in (1[89]m\d*s?|20m)\): .*every stale pod must be restarted before then/);
    const metrics = await runRotator(kubeconfig, ['status', '--output', 'prometheus']);
    const alert = evaluateAlert('LinkerdCertRotationIssuerRenewalBeforeGate', metrics.stdout);
    expect(alert).toEqual({ firing: true });

    // Running again without a hand restart stops at the same gate, and still renews nothing.
    await certificates.patchSpec(names.linkerdNs, names.issuer, { renewBefore: '25h0m0s' });
    expect((await runRotator(kubeconfig, ['rotate'])).code).toBe(4);
    expect((await kube.issuer()).fingerprint256).toBe(issuer.fingerprint256);

    // Restarted by hand: the issuer is renewed; the worker's leaf still chains to the old anchor, so the
    // rotation stops again before dropping it, naming the worker once more.
    await restartByHand();
    const second = await runRotator(kubeconfig, ['rotate']);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(/gate before the old anchor is dropped.*Deployment\/worker/s);
    expect((await kube.issuer()).fingerprint256).not.toBe(issuer.fingerprint256);
    expect((await kube.bundleFingerprints()).length).toBe(2);
    // Past gate 1 the issuer's renewal no longer endangers anyone: the alert is quiet.
    const quiet = await runRotator(kubeconfig, ['status', '--output', 'prometheus']);
    expect(evaluateAlert('LinkerdCertRotationIssuerRenewalBeforeGate', quiet.stdout)).toEqual({ firing: false });

    await restartByHand();
    const finished = await runRotator(kubeconfig, ['rotate']);
    expect(finished.code).toBe(0);
    expect((await kube.bundleFingerprints()).length).toBe(1);

    // The opted-out pods were not restarted after the bundle was trimmed: status says so, and no new rotation starts.
    const { code, report: after } = await statusOf(kubeconfig);
    expect(code).toBe(10);
    expect(after.phase).toBe('bundle-trimmed');
    expect(JSON.stringify(after.stale)).toMatch(/Deployment\/worker/);
    const anchorNow = await kube.anchor();
    expect((await runRotator(kubeconfig, ['rotate', '--force', '--accept-held-pods'])).code).toBe(0);
    expect((await kube.anchor()).fingerprint256).toBe(anchorNow.fingerprint256);
  });
});

async function restartByHand(): Promise<void> {
  await kube.restartDeployment('jobs', 'worker');
  await waitForWorkloads(kube.config, ['jobs']);
  await waitForOldPodsGone('jobs');
}

async function waitForOldPodsGone(namespace: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const pods = await kube.core.listNamespacedPod({ namespace });
    if (!pods.items.some((p) => p.metadata?.deletionTimestamp)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
