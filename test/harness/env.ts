import { delimiter, join } from 'node:path';
import { TestKube } from './kube.js';

/** Names the clusters globalSetup started, one per jest worker, joined by the path delimiter. */
export const stateDirsVariable = 'LCR_E2E_STATE_DIRS';

/**
 * The state dir of the cluster this jest worker uses: globalSetup starts one cluster per worker
 * and worker N (JEST_WORKER_ID, 1-based; 1 when in band) takes the Nth, so files that run at the
 * same time never share a cluster.
 */
export function e2eStateDir(): string {
  const dirs = (process.env[stateDirsVariable] ?? '').split(delimiter).filter((dir) => dir !== '');
  if (dirs.length === 0) throw new Error(`${stateDirsVariable} is not set: run the e2e suite with \`npm run test:e2e\``);
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  const dir = dirs[(Number.isInteger(worker) && worker > 0 ? worker - 1 : 0) % dirs.length];
  if (dir === undefined) throw new Error(`no cluster for jest worker ${String(process.env.JEST_WORKER_ID)}`);
  return dir;
}

/** The kubeconfig (admin) of this worker's cluster. */
export function e2eKubeconfig(): string {
  return join(e2eStateDir(), 'kubeconfig');
}

/** A client of this worker's cluster. */
export function e2eKube(): TestKube {
  return new TestKube(e2eKubeconfig());
}
