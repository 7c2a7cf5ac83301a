import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { buildClusterBinaries, clusterDown, startCluster } from '../harness/cluster.js';
import { stateDirsVariable } from '../harness/env.js';
import { installFixture } from '../harness/fixture.js';
import { startInjector, type Injector } from '../harness/injector.js';

/** Shared with teardown.ts and sequencer.cjs: jest runs all three in its parent process. */
interface Shared {
  stateDirs?: string[];
  injectors?: Injector[];
  /** How many e2e files this run has (set by sequencer.cjs, which jest calls before globalSetup). */
  files?: number;
}
const shared = globalThis as { __lcrE2e?: Shared };
export const e2e = (shared.__lcrE2e ??= {});

/** The parts of jest's global config that decide how many workers run the files. */
interface JestGlobalConfig {
  maxWorkers: number;
  runInBand?: boolean;
  detectOpenHandles?: boolean;
}

/**
 * One cluster per jest worker that will run files: LCR_E2E_WORKERS in jest.e2e.config.js sets
 * maxWorkers; jest runs in band (one worker) with --runInBand, --detectOpenHandles or one file.
 */
function clusterCount(config: JestGlobalConfig): number {
  if (config.runInBand === true || config.detectOpenHandles === true) return 1;
  return Math.max(1, Math.min(config.maxWorkers, e2e.files ?? config.maxWorkers));
}

/** Stops whatever set-up started; KEEP_CLUSTER=1 leaves the clusters running. */
export async function stopAll(): Promise<void> {
  try {
    // Bounded: a hanging injector must never keep the cluster's processes alive.
    await Promise.race([
      Promise.allSettled((e2e.injectors ?? []).map((injector) => injector.stop())),
      new Promise((resolve) => setTimeout(resolve, 15_000).unref()),
    ]);
  } finally {
    if (process.env.KEEP_CLUSTER !== '1') for (const dir of e2e.stateDirs ?? []) clusterDown(dir);
  }
}

/** Brings up, side by side, one cluster per worker, each with its injector and the Linkerd fixture. */
export default async function setup(config: JestGlobalConfig): Promise<void> {
  buildClusterBinaries();
  const count = clusterCount(config);
  // Recorded before anything starts, so that a failure half-way still stops every cluster.
  const stateDirs = Array.from({ length: count }, () => mkdtempSync(join(tmpdir(), 'lcr-e2e-')));
  e2e.stateDirs = stateDirs;
  e2e.injectors = [];
  process.env[stateDirsVariable] = stateDirs.join(delimiter);
  process.stderr.write(`e2e: ${count} cluster(s), one per jest worker: ${stateDirs.join(' ')}\n`);
  const started = await Promise.allSettled(
    stateDirs.map(async (dir, index) => {
      const cluster = await startCluster(dir, `[cluster ${index + 1}]`);
      const injector = await startInjector(cluster.kubeconfig);
      e2e.injectors?.push(injector);
      await installFixture(cluster.kubeconfig);
    }),
  );
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
}
