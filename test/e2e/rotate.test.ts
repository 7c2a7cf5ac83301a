import { InvariantMonitor } from '../harness/monitor.js';
import { layLegacyPreviousAnchor, names } from '../harness/fixture.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { runRotator } from '../harness/rotator.js';
import { ensureSteady } from '../harness/steady.js';
import { fullRotation } from '../support/plan-shape.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();

interface StatusJson {
  health: string;
  phase: string;
  pods: { meshed: number };
  findings: { severity: string; message: string }[];
}

async function status(): Promise<{ code: number | null; report: StatusJson }> {
  const run = await runRotator(kubeconfig, ['status', '--output', 'json']);
  return { code: run.code, report: JSON.parse(run.stdout) as StatusJson };
}

describe('rotate on the Linkerd fixture', () => {
  // The fixture as freshly laid down, whatever ran before on this cluster: steady, with the previous-anchor Secret made the old way.
  beforeAll(async () => {
    await ensureSteady(kubeconfig);
    await layLegacyPreviousAnchor(kubeconfig);
  });
  afterAll(() => ensureSteady(kubeconfig));

  test('status before: steady, with a warning for the previous-anchor Secret made the old way', async () => {
    const { code, report } = await status();
    expect(report.phase).toBe('steady');
    expect(report.health).toBe('warning');
    expect(code).toBe(10);
    expect(report.findings.map((f) => f.message).join('\n')).toMatch(/copy of the anchor Secret/);
    expect(report.pods.meshed).toBeGreaterThanOrEqual(14);
  });

  test('--dry-run prints the seven-step plan and changes nothing', async () => {
    const before = await kube.resourceVersions();
    const run = await runRotator(kubeconfig, ['rotate', '--dry-run', '--force', '--output', 'json']);
    expect(run.code).toBe(0);
    const plan = (JSON.parse(run.stdout) as { plan: { steps: { name: string; purpose?: string }[] } }).plan;
    expect(plan.steps.map((s) => s.name)).toEqual(fullRotation);
    expect(await kube.resourceVersions()).toEqual(before);
  });

  test('a full rotation keeps the mTLS invariant at every sample and ends steady', async () => {
    const oldAnchor = await kube.anchor();
    const legacyPods = await kube.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=legacy' });
    const plainPods = await kube.core.listNamespacedPod({ namespace: 'blog', labelSelector: 'app=plain' });
    const previousUid = (await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.previous })).metadata?.uid;
    const monitor = new InvariantMonitor(kubeconfig);
    monitor.start();
    const run = await runRotator(kubeconfig, ['rotate', '--force']);
    await monitor.stop();
    expect(run.stderr).not.toMatch(/PRIVATE KEY/);
    expect(run.code).toBe(0);
    expect(monitor.samples).toBeGreaterThan(10);
    expect(monitor.violations).toEqual([]);

    const anchor = await kube.anchor();
    expect(anchor.fingerprint256).not.toBe(oldAnchor.fingerprint256);
    const issuer = await kube.issuer();
    expect(issuer.checkIssued(anchor) && issuer.verify(anchor.publicKey)).toBe(true);
    expect(await kube.bundleFingerprints()).toEqual([anchor.fingerprint256]);
    const pods = await kube.meshedPods();
    expect(pods.length).toBeGreaterThanOrEqual(14);
    for (const pod of pods) expect({ pod: pod.name, anchors: pod.anchors }).toEqual({ pod: pod.name, anchors: [anchor.fingerprint256] });

    const previous = await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.previous });
    // The copy made the old way was rewritten in place (same object; its type is immutable), without the key.
    expect(previous.metadata?.uid).toBe(previousUid);
    expect(previous.type).toBe('kubernetes.io/tls');
    expect(previous.data?.['tls.key']).toBe('');
    expect(Object.keys(previous.data ?? {}).sort()).toEqual(['tls.crt', 'tls.key']);
    expect(Object.keys(previous.metadata?.annotations ?? {}).filter((k) => k.includes('cert-manager'))).toEqual([]);
    expect(Object.keys(previous.metadata?.labels ?? {}).filter((k) => k.includes('cert-manager'))).toEqual([]);

    const legacyAfter = await kube.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=legacy' });
    const plainAfter = await kube.core.listNamespacedPod({ namespace: 'blog', labelSelector: 'app=plain' });
    expect(legacyAfter.items.map((p) => p.metadata?.uid)).toEqual(legacyPods.items.map((p) => p.metadata?.uid));
    expect(plainAfter.items.map((p) => p.metadata?.uid)).toEqual(plainPods.items.map((p) => p.metadata?.uid));
  });

  test('status after: healthy, exit 0', async () => {
    const { code, report } = await status();
    expect(report.health).toBe('healthy');
    expect(code).toBe(0);
  });

  test("the monitor catches the blog's order (renew anchor and issuer back to back, then restart)", async () => {
    const monitor = new InvariantMonitor(kubeconfig);
    monitor.start();
    const anchorBefore = await kube.anchor();
    await kube.cmctlRenew(names.trustNs, names.anchor);
    await waitFor(async () => (await kube.anchor()).fingerprint256 !== anchorBefore.fingerprint256);
    const issuerBefore = await kube.issuer();
    await kube.cmctlRenew(names.linkerdNs, names.issuer);
    await waitFor(async () => (await kube.issuer()).fingerprint256 !== issuerBefore.fingerprint256);
    // The restart tasks refuse an unsettled bundle: let trust-manager write both anchors first.
    await waitFor(async () => (await kube.bundleFingerprints()).length === 2);
    // restart-control-plane.sh, then restart-data-plane.sh (our single-task commands do what they did).
    expect((await runRotator(kubeconfig, ['restart-control-plane'])).code).toBe(0);
    expect((await runRotator(kubeconfig, ['restart-data-plane'])).code).toBe(0);
    await monitor.stop();
    expect(monitor.violations.length).toBeGreaterThan(0);

    // The rotator recovers from that state: the next run finishes with a trimmed bundle.
    const repair = await runRotator(kubeconfig, ['rotate']);
    expect(repair.code).toBe(0);
    const { report } = await status();
    expect(report.phase).toBe('steady');
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('condition not met in time');
}
