import * as k8s from '@kubernetes/client-node';
import { deployment } from '../../test/harness/fixture.js';
import { inBatches } from '../../src/wait/poll.js';

/** Name of the i-th (1-based) scale namespace. */
export const scaleNamespace = (i: number): string => `bench-${String(i).padStart(4, '0')}`;

const api = (kubeconfig: string): { core: k8s.CoreV1Api; apps: k8s.AppsV1Api } => {
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfig);
  return { core: config.makeApiClient(k8s.CoreV1Api), apps: config.makeApiClient(k8s.AppsV1Api) };
};

const ignoreExists = (error: unknown): void => {
  if ((error as { code?: number }).code !== 409) throw error;
};

/**
 * Makes namespaces bench-0001..bench-N exist, each meshed by its `linkerd.io/inject: enabled`
 * annotation and holding one Deployment `app` of one replica, and waits until every one is
 * ready. Namespaces that already exist are kept, so growing 10 → 100 → 1,000 is incremental.
 */
export async function ensureScale(kubeconfig: string, count: number, log: (text: string) => void): Promise<void> {
  const { core, apps } = api(kubeconfig);
  const indexes = Array.from({ length: count }, (_, i) => i + 1);
  const started = Date.now();
  await inBatches(indexes, 16, async (i) => {
    const name = scaleNamespace(i);
    await core.createNamespace({ body: { metadata: { name, annotations: { 'linkerd.io/inject': 'enabled' } } } }).catch(ignoreExists);
    await apps.createNamespacedDeployment({ namespace: name, body: deployment(name, 'app') }).catch(ignoreExists);
  });
  log(`created ${count} meshed namespaces in ${((Date.now() - started) / 1000).toFixed(1)}s; waiting for their Deployments`);
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    const ready = await readyDeployments(apps);
    const missing = indexes.filter((i) => !ready.has(scaleNamespace(i))).length;
    if (missing === 0) break;
    if (Date.now() > deadline) throw new Error(`${missing} of ${count} scale Deployments not ready after 30 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  log(`${count} scale Deployments ready after ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/** Namespaces whose Deployment `app` is fully rolled out and available. */
async function readyDeployments(apps: k8s.AppsV1Api): Promise<Set<string>> {
  const ready = new Set<string>();
  let token: string | undefined;
  do {
    const page = await apps.listDeploymentForAllNamespaces({ limit: 500, _continue: token, fieldSelector: 'metadata.name=app' });
    for (const item of page.items) {
      const want = item.spec?.replicas ?? 1;
      const s = item.status;
      if (
        (s?.observedGeneration ?? 0) >= (item.metadata?.generation ?? 0) &&
        s?.updatedReplicas === want &&
        s.availableReplicas === want &&
        (s.replicas ?? 0) === want
      ) {
        ready.add(item.metadata?.namespace ?? '');
      }
    }
    token = page.metadata?._continue || undefined;
  } while (token);
  return ready;
}
