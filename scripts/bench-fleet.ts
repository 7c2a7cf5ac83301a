/**
 * Benchmark of a multicluster rotation (issue 12): a two-cluster rotation of one shared anchor
 * (primary `east` with the anchor Certificate, peer `west` with a copy) against a single-cluster
 * rotation of the same primary, in the same run, on two local clusters of its own (always torn
 * down). Both rotations run with the invariant monitor (within and across clusters for the
 * fleet). Prints a Markdown table; not a test.
 *
 *   npm run bench:fleet [-- --rounds 1 --out results.json --keep]
 *
 * Each round: the primary alone and unlinked (the single-cluster order, the baseline), then
 * linked to the peer (the fleet order with its two barriers). The ratio says what the barriers
 * and the second cluster cost over one cluster's rotation.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { expectRotated, machineFacts, measureRotator, type MeasuredRun } from './bench/measure.js';
import { stepTimings } from './bench/steps.js';
import { ratio, seconds, table } from './bench/table.js';
import { clusterDown, clusterUp, repoRoot } from '../test/harness/cluster.js';
import { installFixture } from '../test/harness/fixture.js';
import { startInjector } from '../test/harness/injector.js';
import { deleteLinks, installLinks } from '../test/harness/links.js';
import { FleetMonitor, InvariantMonitor } from '../test/harness/monitor.js';
import { startPeer, type PeerCluster } from '../test/harness/peer.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const rounds = Math.max(1, Number(flags.rounds));
const progress = (text: string): void => void process.stderr.write(`[bench:fleet ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const print = (text: string): void => void process.stdout.write(`${text}\n`);
const snapshot = join(repoRoot, '.build/bench-fleet-dist');
const entry = join(snapshot, 'cli/main.js');
const mib = (kib: number | undefined): string => (kib ? (kib / 1024).toFixed(0) : 'n/a');

interface Measured {
  label: string;
  run: MeasuredRun;
  overheadMs: number;
  violations: number;
  across: number;
  samples: number;
  restarts: number;
}

const restarts = (run: MeasuredRun): number => run.logs.filter((l) => l.message === 'restarted').length;

async function single(kubeconfig: string): Promise<Measured> {
  const label = 'one cluster (east alone, unlinked)';
  const monitor = new InvariantMonitor(kubeconfig, 1_000);
  monitor.start();
  progress(`${label}: rotate --force`);
  const run = await measureRotator(entry, kubeconfig, ['rotate', '--force'], {});
  await monitor.stop();
  expectRotated(label, run);
  progress(`${label}: ${seconds(run.wallMs)} s, ${monitor.violations.length} violations / ${monitor.samples} samples`);
  return {
    label,
    run,
    overheadMs: stepTimings(run.logs, run.startedAt, run.wallMs).overheadMs,
    violations: monitor.violations.length,
    across: 0,
    samples: monitor.samples,
    restarts: restarts(run),
  };
}

async function fleet(kubeconfig: string, peer: PeerCluster): Promise<Measured> {
  const label = 'two clusters (east + west, one shared anchor)';
  const monitor = new FleetMonitor([
    { name: 'east', kubeconfig },
    { name: 'west', kubeconfig: peer.kubeconfig },
  ]);
  monitor.start();
  progress(`${label}: rotate --force --peer west`);
  const args = ['rotate', '--force', '--cluster-name', 'east', '--peer', `west=${peer.context}`, '--peer-kubeconfig', peer.kubeconfig];
  const run = await measureRotator(entry, kubeconfig, args, {});
  await monitor.stop();
  expectRotated(label, run);
  progress(`${label}: ${seconds(run.wallMs)} s, ${monitor.violations.length} violations / ${monitor.samples} samples`);
  // The step timings cover both clusters' steps (each log line names its cluster).
  return {
    label,
    run,
    overheadMs: stepTimings(run.logs, run.startedAt, run.wallMs).overheadMs,
    violations: monitor.violations.length,
    across: monitor.across().length,
    samples: monitor.samples,
    restarts: restarts(run),
  };
}

async function main(): Promise<number> {
  rmSync(snapshot, { recursive: true, force: true });
  cpSync(join(repoRoot, 'dist'), snapshot, { recursive: true });
  const results: Record<string, unknown> = { machine: machineFacts() };
  progress('bringing up the primary cluster (east)');
  const cluster = clusterUp(mkdtempSync(join(tmpdir(), 'lcr-bench-east-')));
  const injector = await startInjector(cluster.kubeconfig);
  let peer: PeerCluster | undefined;
  const rows: Measured[][] = [];
  try {
    await installFixture(cluster.kubeconfig);
    progress('bringing up the peer cluster (west) with a copy of the anchor');
    await startPeer(cluster.kubeconfig, '[west]', (p) => (peer = p));
    if (!peer) throw new Error('the peer did not start');
    for (let round = 1; round <= rounds; round++) {
      await deleteLinks(cluster.kubeconfig);
      await deleteLinks(peer.kubeconfig);
      const one = await single(cluster.kubeconfig);
      await installLinks(cluster.kubeconfig, 'west', 'west');
      await installLinks(peer.kubeconfig, 'east', 'east');
      // The peer still has the old anchor: the fleet run first copies the new one (no new rotation
      // without --force), so a healing run brings both onto one anchor before the measured rotation.
      const heal = await measureRotator(
        entry,
        cluster.kubeconfig,
        ['rotate', '--cluster-name', 'east', '--peer', `west=${peer.context}`, '--peer-kubeconfig', peer.kubeconfig],
        {},
      );
      if (heal.code !== 0) throw new Error(`healing run exited ${String(heal.code)}:\n${heal.stderr.slice(-3000)}`);
      const two = await fleet(cluster.kubeconfig, peer);
      rows.push([one, two]);
      results.rounds = rows.map(([a, b]) => ({
        single: { wallMs: a?.run.wallMs, peakRssKiB: a?.run.peakRssKiB, violations: a?.violations, samples: a?.samples, restarts: a?.restarts },
        fleet: {
          wallMs: b?.run.wallMs,
          peakRssKiB: b?.run.peakRssKiB,
          violations: b?.violations,
          across: b?.across,
          samples: b?.samples,
          restarts: b?.restarts,
        },
      }));
      if (flags.out) writeFileSync(flags.out, JSON.stringify(results, null, 2));
    }
    print(
      table(
        'A two-cluster rotation (shared anchor, barriers across clusters) against a single-cluster rotation of the primary (same clusters, same run; the single cluster is the baseline)',
        ['round', 'rotation', 'total s', 'tool overhead s', 'restarts', 'peak RSS MiB', 'violations (across) / samples', 'time vs one cluster'],
        rows.flatMap(([a, b], i) =>
          [a, b].flatMap((m) =>
            m
              ? [
                  [
                    i + 1,
                    m.label,
                    seconds(m.run.wallMs),
                    seconds(m.overheadMs),
                    m.restarts,
                    mib(m.run.peakRssKiB),
                    `${m.violations} (${m.across}) / ${m.samples}`,
                    ratio(m.run.wallMs, a?.run.wallMs ?? NaN),
                  ],
                ]
              : [],
          ),
        ),
      ),
    );
    return rows.every((pair) => pair.every((m) => m.violations === 0)) ? 0 : 1;
  } finally {
    await peer?.stop();
    await injector.stop();
    if (flags.keep) progress(`primary kept: export KUBECONFIG=${cluster.kubeconfig}`);
    else clusterDown(cluster.stateDir);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(2);
  },
);
