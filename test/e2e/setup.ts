import { clusterDown, clusterUp } from './harness/cluster.js';
import { installFixture } from './harness/fixture.js';
import { startInjector, type Injector } from './harness/injector.js';

/** Shared with teardown.ts: jest runs both in its parent process. */
const shared = globalThis as { __lcrE2e?: { stateDir?: string; injector?: Injector } };
export const e2e = (shared.__lcrE2e ??= {});

/** Brings the cluster up once for every e2e file, with the injector and the Linkerd fixture. */
export default async function setup(): Promise<void> {
  const cluster = clusterUp();
  e2e.stateDir = cluster.stateDir;
  process.env.LCR_E2E_STATE_DIR = cluster.stateDir;
  process.env.LCR_E2E_KUBECONFIG = cluster.kubeconfig;
  try {
    e2e.injector = await startInjector(cluster.kubeconfig);
    await installFixture(cluster.kubeconfig);
  } catch (error) {
    await e2e.injector?.stop();
    if (process.env.KEEP_CLUSTER !== '1') clusterDown(cluster.stateDir);
    throw error;
  }
}
