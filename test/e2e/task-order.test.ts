// Single tasks run in an order the safe rotation forbids: each is refused with nothing changed
// (exit 3), and rotate finishes from whatever state is left; an issuer left on an anchor that was
// dropped by hand (the inconsistent phase) is repaired by rotate.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { names } from '../harness/fixture.js';
import { InvariantMonitor } from '../harness/monitor.js';
import { runRotator, type RotatorRun } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';
import { signedBy } from '../harness/kube.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: not met in time`);
}

/** Rollouts leave terminating pods behind for a moment; a snapshot taken then would differ by them alone. */
const noTerminatingPods = (): Promise<void> =>
  waitFor('no terminating pods', async () => !(await kube.core.listPodForAllNamespaces()).items.some((p) => p.metadata?.deletionTimestamp));

/** Runs a task that must be refused: exit 3, the reason on stderr, and no object changed. */
async function expectRefused(args: string[], reason: RegExp): Promise<RotatorRun> {
  await noTerminatingPods();
  const before = await kube.resourceVersions();
  const run = await runRotator(kubeconfig, args);
  expect({ args, code: run.code }).toEqual({ args, code: 3 });
  expect(run.stderr).toMatch(reason);
  expect(await kube.resourceVersions()).toEqual(before);
  return run;
}

const ok = async (args: string[]): Promise<void> => {
  const run = await runRotator(kubeconfig, args);
  expect({ args, code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-1500) }).toEqual({ args, code: 0, stderr: '' });
};

describe('single tasks out of the safe order', () => {
  beforeAll(() => ensureSteady(kubeconfig));
  afterAll(() => ensureSteady(kubeconfig));

  test("issue 10's situation 3 is refused at update-bundle, every forbidden transition is refused, and rotate finishes with no violation", async () => {
    const monitor = new InvariantMonitor(kubeconfig);
    monitor.start();
    const oldAnchor = await kube.anchor();
    const oldIssuer = await kube.issuer();

    await ok(['renew-certs', '--which', 'anchor']);
    const anchor = await kube.anchor();
    expect(anchor.fingerprint256).not.toBe(oldAnchor.fingerprint256);

    // Forbidden from anchor-renewed: the anchor twice, the issuer before gate 1, the bundle before the issuer.
    await expectRefused(['renew-certs', '--which', 'anchor'], /phase anchor-renewed: the last rotation is unfinished .*run rotate to finish it/);
    await expectRefused(
      ['renew-certs', '--which', 'issuer'],
      /phase anchor-renewed: gate 1 .* is not met: \d+ meshed pod\(s\) must restart first.*run restart-control-plane, then restart-data-plane/,
    );
    await expectRefused(['update-bundle'], /refusing to drop the old anchor in phase anchor-renewed: the issuer does not chain to the current anchor/);

    // Situation 3: anchor, restarts, update-bundle. The drop is refused: the issuer still chains to the old anchor.
    await ok(['restart-control-plane']);
    await ok(['restart-data-plane']);
    for (const pod of await kube.meshedPods()) expect(pod.anchors).toContain(anchor.fingerprint256);
    await expectRefused(
      ['update-bundle'],
      /phase anchor-renewed: the issuer does not chain to the current anchor [0-9a-f]{12} yet.*run renew-certs --which issuer/,
    );
    expect((await kube.bundleFingerprints()).length).toBe(2);

    // The issuer now (gate 1 met); dropping the old anchor before the mesh adopted it is refused (gate 2).
    await ok(['renew-certs']);
    const issuer = await kube.issuer();
    expect(issuer.fingerprint256).not.toBe(oldIssuer.fingerprint256);
    expect(signedBy(issuer, anchor)).toBe(true);
    await expectRefused(
      ['update-bundle'],
      /phase issuer-renewed: gate 2 .* is not met: \d+ meshed pod\(s\) must restart first, e\.g\. .*the identity controller is not yet running with the current issuer/,
    );

    // rotate finishes from the state the refused tasks left.
    await ok(['rotate']);
    await monitor.stop();
    expect(monitor.violations.slice(0, 5)).toEqual([]);
    expect(monitor.samples).toBeGreaterThan(10);
    expect(await kube.bundleFingerprints()).toEqual([anchor.fingerprint256]);
    const { code, report } = await statusOf(kubeconfig);
    expect({ code, phase: report.phase }).toEqual({ code: 0, phase: 'steady' });
  });

  test('an issuer left on an anchor dropped by hand: status BROKEN with the remedy, single tasks refused, rotate repairs it', async () => {
    await ensureSteady(kubeconfig);
    const oldIssuer = await kube.issuer();
    await ok(['renew-certs', '--which', 'anchor']);
    await ok(['restart-control-plane']);
    await ok(['restart-data-plane']);
    const anchor = await kube.anchor();

    // Drop the old anchor the way nobody should: the current anchor into the previous-anchor Secret, issuer untouched.
    await kube.core.patchNamespacedSecret(
      { namespace: names.trustNs, name: names.previous, body: { data: { 'tls.crt': Buffer.from(anchor.toString()).toString('base64') } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor('the bundle to hold only the current anchor', async () => (await kube.bundleFingerprints()).join() === anchor.fingerprint256);
    expect((await kube.issuer()).fingerprint256).toBe(oldIssuer.fingerprint256);

    const status = await runRotator(kubeconfig, ['status', '--output', 'json']);
    expect(status.code).toBe(11);
    const report = JSON.parse(status.stdout) as { health: string; phase: string; findings: { severity: string; message: string }[] };
    expect({ health: report.health, phase: report.phase }).toEqual({ health: 'broken', phase: 'inconsistent' });
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        message: expect.stringMatching(/old anchor was dropped while the issuer still chained to it\): run rotate to repair/) as unknown,
      }),
    );

    await expectRefused(['restart-data-plane'], /phase inconsistent: proxies started now would trust only anchor .*run rotate/);
    await expectRefused(['renew-certs', '--which', 'issuer'], /phase inconsistent: .*run rotate/);
    await expectRefused(['update-bundle'], /phase inconsistent: .*run rotate/);

    const repair = await runRotator(kubeconfig, ['rotate']);
    expect({ code: repair.code, stderr: repair.code === 0 ? '' : repair.stderr.slice(-1500) }).toEqual({ code: 0, stderr: '' });
    const issuer = await kube.issuer();
    expect(signedBy(issuer, anchor)).toBe(true);
    const after = await statusOf(kubeconfig);
    expect({ code: after.code, phase: after.report.phase }).toEqual({ code: 0, phase: 'steady' });
    // Every pod trusts only the current anchor, and every leaf chains to it: one sample of a fresh monitor.
    for (const pod of await kube.meshedPods()) expect(pod.anchors).toEqual([anchor.fingerprint256]);
    const monitor = new InvariantMonitor(kubeconfig);
    await monitor.sample();
    expect(monitor.violations).toEqual([]);
  });
});
