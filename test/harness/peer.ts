import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterDown, startCluster, type LocalCluster } from './cluster.js';
import { installPeerFixture } from './fixture.js';
import { startInjector, type Injector } from './injector.js';

/**
 * A second local cluster for one test file, beside its worker's cluster: its own control plane
 * (up.sh claims its ports under the same lock as every other cluster's), its own injector, and
 * the peer fixture ({@link installPeerFixture}) sharing the primary's anchor.
 */
export interface PeerCluster {
  stateDir: string;
  kubeconfig: string;
  /** The kubeconfig context up.sh writes (`--peer NAME=CONTEXT`). */
  context: string;
  cluster?: LocalCluster;
  injector?: Injector;
  /** Stops the injector and every process of the cluster, whatever start() got to; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the peer cluster and lays its fixture down. The state dir is made first and handed to
 * `record` before anything starts, so that a caller's afterAll can stop the peer even when this
 * rejects half-way (after up.sh or the injector started).
 */
export async function startPeer(primaryKubeconfig: string, label: string, record: (peer: PeerCluster) => void): Promise<PeerCluster> {
  const stateDir = mkdtempSync(join(tmpdir(), 'lcr-e2e-peer-'));
  let stopped = false;
  const peer: PeerCluster = {
    stateDir,
    kubeconfig: join(stateDir, 'kubeconfig'),
    context: 'lcr',
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        // Bounded, as the suite's own teardown: a hanging injector must not keep the cluster alive.
        if (peer.injector) await Promise.race([peer.injector.stop(), new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
      } finally {
        if (process.env.KEEP_CLUSTER !== '1') clusterDown(stateDir);
      }
    },
  };
  record(peer);
  peer.cluster = await startCluster(stateDir, label);
  peer.injector = await startInjector(peer.kubeconfig);
  await installPeerFixture(peer.kubeconfig, primaryKubeconfig);
  return peer;
}
