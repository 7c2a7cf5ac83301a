import { e2eKube, e2eKubeconfig } from './harness/env.js';
import { waitForWorkloads } from './harness/fixture.js';
import { runRotator } from './harness/rotator.js';
import { ensureSteady, statusOf } from './harness/steady.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();
const optOut = 'linkerd-cert-rotator.io/skip';

describe('a meshed workload opted out of restarts', () => {
  beforeAll(() => ensureSteady(kubeconfig));
  afterAll(async () => {
    await kube.mergePatchDeployment('jobs', 'worker', { metadata: { annotations: { [optOut]: null } } });
    await ensureSteady(kubeconfig);
  });

  test('stops the rotation at each gate, named, and each restart by hand lets the next run go on', async () => {
    await kube.mergePatchDeployment('jobs', 'worker', { metadata: { annotations: { [optOut]: 'true' } } });
    const issuer = await kube.issuer();
    const oldAnchor = await kube.anchor();

    // The plan warns up front that the opted-out workload will hold the gates.
    const dry = await runRotator(kubeconfig, ['rotate', '--force', '--dry-run', '--output', 'json']);
    const findings = (JSON.parse(dry.stdout) as { findings: { message: string }[] }).findings.map((f) => f.message).join('\n');
    expect(findings).toMatch(/will not be restarted.*Deployment jobs\/worker is opted out/s);

    const blocked = await runRotator(kubeconfig, ['rotate', '--force']);
    expect(blocked.code).toBe(4);
    expect(blocked.stderr).toMatch(/gate before the issuer renewal/);
    expect(blocked.stderr).toMatch(/jobs\/worker-[a-z0-9-]+ \(Deployment\/worker\)/);
    expect(blocked.stderr).toMatch(/opted out/);
    expect((await kube.issuer()).fingerprint256).toBe(issuer.fingerprint256);
    expect((await kube.anchor()).fingerprint256).not.toBe(oldAnchor.fingerprint256);
    expect((await statusOf(kubeconfig)).report.phase).toBe('anchor-renewed');

    // Running again without a hand restart stops at the same gate, and still renews nothing.
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

    await restartByHand();
    const finished = await runRotator(kubeconfig, ['rotate']);
    expect(finished.code).toBe(0);
    expect((await kube.bundleFingerprints()).length).toBe(1);

    // The opted-out pods were not restarted after the bundle was trimmed: status says so, and no new rotation starts.
    const { code, report } = await statusOf(kubeconfig);
    expect(code).toBe(10);
    expect(report.phase).toBe('bundle-trimmed');
    expect(JSON.stringify(report.stale)).toMatch(/Deployment\/worker/);
    const anchorNow = await kube.anchor();
    expect((await runRotator(kubeconfig, ['rotate', '--force'])).code).toBe(0);
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
