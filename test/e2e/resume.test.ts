import { names } from '../harness/fixture.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { InvariantMonitor } from '../harness/monitor.js';
import { runRotator } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();

const message = (line: Record<string, unknown>): string => (typeof line.message === 'string' ? line.message : '');

/** Kill points named by the log line after which the process dies (SIGKILL, like a node loss). */
const killPoints: [string, (line: Record<string, unknown>) => boolean][] = [
  ['during the anchor wait', (line) => message(line).startsWith('trust anchor: renewal triggered')],
  ['mid data-plane restart', (line) => message(line) === 'restarted' && line.role === 'data-plane'],
  ['right after the issuer renewal', (line) => message(line).startsWith('identity issuer: re-issued')],
  ['during the bundle update', (line) => message(line).startsWith('previous-anchor Secret')],
];

async function anchorRevision(): Promise<number> {
  const cert = (await kube.custom.getNamespacedCustomObject({
    group: 'cert-manager.io',
    version: 'v1',
    plural: 'certificates',
    namespace: names.trustNs,
    name: names.anchor,
  })) as { status?: { revision?: number } };
  return cert.status?.revision ?? 0;
}

describe('a rotation killed anywhere is finished by the next run', () => {
  beforeAll(() => ensureSteady(kubeconfig));
  // A test that fails mid-rotation leaves it unfinished: the next file on this cluster must not inherit it.
  afterAll(() => ensureSteady(kubeconfig));

  test.each(killPoints)('killed %s', async (_point, killWhen) => {
    const revisionBefore = await anchorRevision();
    const monitor = new InvariantMonitor(kubeconfig);
    monitor.start();
    const killed = await runRotator(kubeconfig, ['rotate', '--force'], { killWhen });
    expect(killed.signal).toBe('SIGKILL');
    const resumed = await runRotator(kubeconfig, ['rotate']);
    await monitor.stop();
    expect(resumed.code).toBe(0);
    // The resumed run finished the same rotation: it never triggered a second anchor renewal.
    expect(resumed.logs.filter((line) => message(line).startsWith('trust anchor: renewal triggered'))).toEqual([]);
    expect(await anchorRevision()).toBe(revisionBefore + 1);
    expect(monitor.violations).toEqual([]);
    const { code, report } = await statusOf(kubeconfig);
    expect(report.phase).toBe('steady');
    expect(code).toBe(0);
    const anchor = await kube.anchor();
    for (const pod of await kube.meshedPods()) expect(pod.anchors).toEqual([anchor.fingerprint256]);
  });

  test('SIGTERM aborts a wait cleanly with exit 143, and the next run resumes', async () => {
    const stopped = await runRotator(kubeconfig, ['rotate', '--force'], { termWhen: (line) => message(line).startsWith('restarting data-plane') });
    expect(stopped.code).toBe(143);
    expect(stopped.stderr).toMatch(/SIGTERM received/);
    const resumed = await runRotator(kubeconfig, ['rotate']);
    expect(resumed.code).toBe(0);
    expect((await statusOf(kubeconfig)).report.phase).toBe('steady');
  });
});
