import { clusterDown } from './harness/cluster.js';
import type { Injector } from './harness/injector.js';

/** Stops the injector and every process the cluster started, also after failures. */
export default async function teardown(): Promise<void> {
  const e2e = (globalThis as Record<string, unknown>).__lcrE2e as { stateDir?: string; injector?: Injector } | undefined;
  await e2e?.injector?.stop();
  if (e2e?.stateDir && process.env.KEEP_CLUSTER !== '1') clusterDown(e2e.stateDir);
}
