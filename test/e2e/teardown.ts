import { clusterDown } from './harness/cluster.js';
import type { Injector } from './harness/injector.js';

/** Stops the injector and every process the cluster started, also after failures. */
export default async function teardown(): Promise<void> {
  const e2e = (globalThis as Record<string, unknown>).__lcrE2e as { stateDir?: string; injector?: Injector } | undefined;
  try {
    // Bounded: a hanging injector must never keep the cluster's processes alive.
    await Promise.race([e2e?.injector?.stop(), new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
  } finally {
    if (e2e?.stateDir && process.env.KEEP_CLUSTER !== '1') clusterDown(e2e.stateDir);
  }
}
