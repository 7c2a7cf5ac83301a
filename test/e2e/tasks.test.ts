import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { InvariantMonitor } from '../harness/monitor.js';
import { runRotator } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';
import { signedBy } from '../harness/kube.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();

async function podUids(namespace: string): Promise<Map<string, { uid: string; created: number }>> {
  const pods = await kube.core.listNamespacedPod({ namespace });
  return new Map(
    pods.items
      .filter((p) => !p.metadata?.deletionTimestamp)
      .map((p) => [p.metadata?.name ?? '', { uid: p.metadata?.uid ?? '', created: new Date(p.metadata?.creationTimestamp ?? 0).getTime() }]),
  );
}

describe('the single task commands, driven in the safe order by hand', () => {
  beforeAll(() => ensureSteady(kubeconfig));
  // A test that fails mid-rotation leaves it unfinished: the next file on this cluster must not inherit it.
  afterAll(() => ensureSteady(kubeconfig));

  test('renew-certs, restart-control-plane, restart-data-plane, renew-certs, restarts, update-bundle', async () => {
    const monitor = new InvariantMonitor(kubeconfig);
    monitor.start();
    const oldAnchor = await kube.anchor();
    const oldIssuer = await kube.issuer();

    const renewAnchor = await runRotator(kubeconfig, ['renew-certs']);
    expect(renewAnchor.code).toBe(0);
    const anchor = await kube.anchor();
    expect(anchor.fingerprint256).not.toBe(oldAnchor.fingerprint256);
    expect((await kube.issuer()).fingerprint256).toBe(oldIssuer.fingerprint256);
    expect((await statusOf(kubeconfig)).report.phase).toBe('anchor-renewed');

    // A second anchor renewal while this rotation is unfinished is refused, and so is the issuer before the gate.
    expect((await runRotator(kubeconfig, ['renew-certs', '--which', 'anchor'])).code).toBe(3);
    const early = await runRotator(kubeconfig, ['renew-certs', '--which', 'issuer']);
    expect(early.code).toBe(3);
    expect((await kube.issuer()).fingerprint256).toBe(oldIssuer.fingerprint256);

    const cpBefore = await podUids('linkerd');
    expect((await runRotator(kubeconfig, ['restart-control-plane'])).code).toBe(0);
    const cpAfter = await podUids('linkerd');
    for (const [, pod] of cpAfter) expect([...cpBefore.values()].map((p) => p.uid)).not.toContain(pod.uid);
    const created = (prefix: string): number => Math.min(...[...cpAfter].filter(([name]) => name.startsWith(prefix)).map(([, p]) => p.created));
    expect(created('linkerd-identity')).toBeLessThanOrEqual(created('linkerd-destination'));

    const plainBefore = await podUids('blog');
    expect((await runRotator(kubeconfig, ['restart-data-plane'])).code).toBe(0);
    for (const pod of await kube.meshedPods()) expect(pod.anchors).toContain(anchor.fingerprint256);
    const plainAfter = await podUids('blog');
    const plain = [...plainBefore].find(([name]) => name.startsWith('plain-'));
    expect(plain && plainAfter.get(plain[0])?.uid).toBe(plain?.[1].uid);

    const renewIssuer = await runRotator(kubeconfig, ['renew-certs']);
    expect(renewIssuer.code).toBe(0);
    const issuer = await kube.issuer();
    expect(signedBy(issuer, anchor)).toBe(true);

    // Dropping the old anchor before every proxy adopted the new issuer is refused (gate 2).
    const tooEarly = await runRotator(kubeconfig, ['update-bundle']);
    expect(tooEarly.code).toBe(3);
    expect((await kube.bundleFingerprints()).length).toBe(2);

    expect((await runRotator(kubeconfig, ['restart-control-plane'])).code).toBe(0);
    expect((await runRotator(kubeconfig, ['restart-data-plane'])).code).toBe(0);
    expect((await runRotator(kubeconfig, ['update-bundle'])).code).toBe(0);
    expect(await kube.bundleFingerprints()).toEqual([anchor.fingerprint256]);

    const finish = await runRotator(kubeconfig, ['rotate']);
    expect(finish.code).toBe(0);
    await monitor.stop();
    expect(monitor.violations).toEqual([]);
    const { code, report } = await statusOf(kubeconfig);
    expect(report.phase).toBe('steady');
    expect(code).toBe(0);
  });

  test('--dry-run of every task changes nothing', async () => {
    const before = await kube.resourceVersions();
    for (const command of ['rotate', 'renew-certs', 'restart-control-plane', 'restart-data-plane', 'update-bundle']) {
      const run = await runRotator(kubeconfig, [command, '--dry-run']);
      expect({ command, code: run.code }).toEqual({ command, code: 0 });
      expect(run.stdout.length).toBeGreaterThan(0);
    }
    expect(await kube.resourceVersions()).toEqual(before);
  });
});
