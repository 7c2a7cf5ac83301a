// --delete-stale-pods evicts through policy/v1 Eviction: a PodDisruptionBudget that allows no
// disruption stops the run (exit 5, resumable) with every pod still running, and a permissive one
// lets the rotation finish with StatefulSet pods replaced one at a time and the invariant intact.
import * as k8s from '@kubernetes/client-node';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { waitForWorkloads } from '../harness/fixture.js';
import { InvariantMonitor } from '../harness/monitor.js';
import { runRotator } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();
const policy = kube.config.makeApiClient(k8s.PolicyV1Api);
const namespace = 'lcr-evict';
const replicas = 2;

/** The db pods by name with their uids (running, not terminating). */
async function dbPods(): Promise<Record<string, string>> {
  const pods = await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=db' });
  return Object.fromEntries(pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => [p.metadata?.name ?? '', p.metadata?.uid ?? '']));
}

async function setBudget(spec: k8s.V1PodDisruptionBudgetSpec): Promise<void> {
  await policy.deleteNamespacedPodDisruptionBudget({ namespace, name: 'db' }).catch(() => undefined);
  await policy.createNamespacedPodDisruptionBudget({
    namespace,
    body: { metadata: { name: 'db', namespace }, spec: { ...spec, selector: { matchLabels: { app: 'db' } } } },
  });
  // The disruption controller must have counted the pods before an eviction is judged against it.
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 250))) {
    const budget = await policy.readNamespacedPodDisruptionBudget({ namespace, name: 'db' });
    if (budget.status?.observedGeneration === budget.metadata?.generation && budget.status?.currentHealthy === replicas) return;
  }
  throw new Error('the disruption controller did not observe the budget');
}

describe('--delete-stale-pods evicts, respecting PodDisruptionBudgets', () => {
  beforeAll(async () => {
    await ensureSteady(kubeconfig);
    await kube.core.createNamespace({ body: { metadata: { name: namespace, annotations: { 'linkerd.io/inject': 'enabled' } } } });
    // OnDelete: no rollout replaces its pods, so only an eviction restarts them.
    await kube.apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: 'db', namespace },
        spec: {
          replicas,
          serviceName: 'db',
          selector: { matchLabels: { app: 'db' } },
          updateStrategy: { type: 'OnDelete' },
          template: {
            metadata: { labels: { app: 'db' } },
            spec: { containers: [{ name: 'app', image: 'registry.local/app:1' }], tolerations: [{ operator: 'Exists' }], terminationGracePeriodSeconds: 0 },
          },
        },
      },
    });
    await waitForWorkloads(kube.config, [namespace]);
  });
  afterAll(async () => {
    await kube.core.deleteNamespace({ name: namespace }).catch(() => undefined);
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 500))) {
      if ((await kube.core.listNamespacedPod({ namespace })).items.length === 0) break;
    }
    await ensureSteady(kubeconfig);
  });

  test('a budget that allows no disruption: the run stops resumable (exit 5) naming pod and budget, nothing evicted; a permissive one finishes the rotation', async () => {
    await setBudget({ minAvailable: replicas });
    const before = await dbPods();
    expect(Object.keys(before).sort()).toEqual(['db-0', 'db-1']);
    const oldAnchor = await kube.anchor();

    const monitor = new InvariantMonitor(kubeconfig);
    monitor.start();
    const blocked = await runRotator(kubeconfig, ['rotate', '--force', '--delete-stale-pods', '--rollout-timeout', '30s']);
    await monitor.stop();
    expect(blocked.code).toBe(5);
    expect(blocked.stderr).toMatch(
      /the eviction of stale pod lcr-evict\/db-[01] \(StatefulSet\/db\).*disruption budget db needs 2 healthy pods.*Nothing was bypassed/,
    );
    // Not a pod was evicted, and the rotation stopped where the next run resumes: before gate 1.
    expect(await dbPods()).toEqual(before);
    expect((await kube.anchor()).fingerprint256).not.toBe(oldAnchor.fingerprint256);
    expect((await statusOf(kubeconfig)).report.phase).toBe('anchor-renewed');
    expect(monitor.violations).toEqual([]);

    // Permissive enough for both pods at once: only the rotator's own sequencing keeps them apart.
    await setBudget({ maxUnavailable: replicas });
    const watch = new InvariantMonitor(kubeconfig);
    watch.start();
    const finished = await runRotator(kubeconfig, ['rotate', '--delete-stale-pods']);
    await watch.stop();
    expect(finished.code).toBe(0);
    expect(watch.samples).toBeGreaterThan(10);
    expect(watch.violations).toEqual([]);
    const after = await dbPods();
    expect(Object.keys(after).sort()).toEqual(['db-0', 'db-1']);
    for (const name of ['db-0', 'db-1']) expect(after[name]).not.toBe(before[name]);
    expect((await kube.bundleFingerprints()).length).toBe(1);
    expect((await statusOf(kubeconfig)).report.phase).toBe('steady');

    // In each restart pass, one db pod was evicted, its replacement awaited until ready, then the next evicted.
    const passes: string[][] = [];
    for (const line of finished.logs) {
      if (line.message === 'restarting data-plane workloads') passes.push([]);
      else if ((line.message === 'evicted stale pod' || line.message === 'replacement ready') && String(line.pod).startsWith(`${namespace}/`)) {
        passes[passes.length - 1]?.push(`${line.message === 'evicted stale pod' ? 'evict' : 'ready'} ${String(line.pod).slice(namespace.length + 1)}`);
      }
    }
    const evicting = passes.filter((pass) => pass.length > 0);
    expect(evicting.length).toBeGreaterThanOrEqual(1);
    for (const pass of evicting) {
      const [first, ready, second] = pass;
      expect(pass).toHaveLength(3);
      expect(ready).toBe(first?.replace('evict', 'ready'));
      expect(second?.startsWith('evict')).toBe(true);
      expect(second).not.toBe(first);
    }
  });
});
