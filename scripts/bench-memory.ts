/**
 * Memory per meshed pod of the rotator's look at the mesh, without a cluster but through the
 * real client-node code path: a loopback server (scripts/bench/list-server.ts) answers the
 * adapter's paged lists with generated meshed pods (~5 KB of JSON each: a linkerd-proxy container
 * whose env holds a real trust bundle, generated at start), their Deployments and namespaces.
 * Each measurement runs in a fresh `node --expose-gc` process: the adapter lists the pods (step
 * `list`: KubeCluster.listMeshedPods) or observes the whole mesh (step `observe`: observeMesh,
 * what every plan and restart pass holds), keeps the result, forces a GC and reports the heap
 * and RSS it holds. The baseline is the old path (scripts/bench/memory-baseline.ts: every page of
 * client-node objects held, every label, annotation and PEM copy kept), measured in the same run.
 *
 *   npm run bench:memory [-- --pods 1000,10000,30000 --steps list,observe --heap-limit 128 --out results.json]
 *
 * `--heap-limit MiB` runs every measurement once more under --max-old-space-size (the chart's
 * nodeOptions) and reports whether it completed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startListServer } from './bench/list-server.js';
import { KeepingObjectsCluster } from './bench/memory-baseline.js';
import { format, ratio, table } from './bench/table.js';
import { defaultConfig } from '../src/config.js';
import { KubeCluster } from '../src/kube/client.js';
import { loadKubeConfig } from '../src/kube/kubeconfig.js';
import { silentLogger } from '../src/log.js';
import { podMetadataKeys } from '../src/rotation/mesh.js';
import { observeMesh } from '../src/rotation/state.js';
import { makeAnchor } from '../test/support/certs.js';

type Mode = 'current' | 'keep-objects';
type Step = 'list' | 'observe';
interface Task {
  mode: Mode;
  step: Step;
  pods: number;
  kubeconfig: string;
}
interface Measured {
  rssBefore: number;
  heapBefore: number;
  heapAfter: number;
  rssAfter: number;
  peakRss: number;
  /** Pods in the result held through the measurement. */
  heldPods: number;
}

const { values: flags } = parseArgs({
  options: {
    pods: { type: 'string', default: '1000,10000,30000' },
    steps: { type: 'string', default: 'list,observe' },
    'heap-limit': { type: 'string' },
    out: { type: 'string' },
    child: { type: 'string' },
  },
});
const warmPods = 100;
const mib = (bytes: number): number => bytes / 2 ** 20;

/** One measurement, in the child process: warm the code path on a small cluster, then hold the result of one look. */
async function measure(task: Task): Promise<Measured> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const deps = { logger: silentLogger() };
  const cluster = (context: string): KubeCluster => {
    const config = loadKubeConfig({ kubeconfig: task.kubeconfig, context });
    return task.mode === 'current' ? new KubeCluster(config, deps) : new KeepingObjectsCluster(config, deps);
  };
  const look = async (adapter: KubeCluster): Promise<{ pods: number; held: unknown }> => {
    if (task.step === 'list') {
      const pods = await adapter.listMeshedPods(podMetadataKeys(defaultConfig));
      return { pods: pods.length, held: pods };
    }
    const mesh = await observeMesh(adapter, defaultConfig);
    // The baseline adapter keeps the whole workloads it listed, as the old state did.
    return { pods: mesh.pods.length, held: { mesh, adapter } };
  };
  await look(cluster('warm'));
  gc();
  gc();
  const { heapUsed: heapBefore, rss: rssBefore } = process.memoryUsage();
  const result = await look(cluster(`n${task.pods}`));
  gc();
  gc();
  const after = process.memoryUsage();
  // Read after the measurement, so that the result is surely alive through it.
  const heldPods = result.held === undefined ? 0 : result.pods;
  return { rssBefore, heapBefore, heapAfter: after.heapUsed, rssAfter: after.rss, peakRss: process.resourceUsage().maxRSS * 1024, heldPods };
}

/** Runs one task in a fresh process (the server keeps answering in this one meanwhile). */
function runChild(task: Task, heapLimit?: number): Promise<Measured | { failed: string }> {
  const args = ['--expose-gc', ...(heapLimit ? [`--max-old-space-size=${heapLimit}`] : []), fileURLToPath(import.meta.url), '--child', JSON.stringify(task)];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) resolve({ failed: /heap out of memory/i.test(stderr) ? 'out of memory' : `exit ${String(error.code)}: ${stderr.slice(-1500)}` });
      else resolve(JSON.parse(stdout) as Measured);
    });
  });
}

/** Bytes per pod as the slope between the smallest and the largest cluster. */
const slope = (rows: { pods: number; bytes: number }[]): number => {
  const first = rows[0];
  const last = rows[rows.length - 1];
  return first && last && last.pods > first.pods ? (last.bytes - first.bytes) / (last.pods - first.pods) : NaN;
};

async function main(): Promise<void> {
  const sizes = (flags.pods ?? '')
    .split(',')
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);
  const steps = (flags.steps ?? '').split(',').filter(Boolean) as Step[];
  const heapLimit = flags['heap-limit'] ? Number(flags['heap-limit']) : undefined;
  const progress = (text: string): void => void process.stderr.write(`[bench-memory ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
  // Mid-rotation: a third of the pods born with the old anchor alone, the rest with old and new.
  const [oldAnchor, newAnchor] = await Promise.all([makeAnchor(), makeAnchor()]);
  const bundles = [oldAnchor.pem, `${oldAnchor.pem}${newAnchor.pem}`, `${oldAnchor.pem}${newAnchor.pem}`];
  const server = await startListServer((pods) => ({ pods, perNamespace: 10, bundles }));
  const dir = mkdtempSync(join(tmpdir(), 'lcr-bench-memory-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const contexts = [{ name: 'warm', pods: warmPods }, ...sizes.map((pods) => ({ name: `n${pods}`, pods }))];
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: contexts.map((c) => ({ name: c.name, cluster: { server: server.url(c.pods), 'insecure-skip-tls-verify': true } })),
      users: [{ name: 'bench', user: {} }],
      contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: 'bench' } })),
      'current-context': 'warm',
    }),
  );
  const results: Record<string, unknown>[] = [];
  const print = (text: string): void => void process.stdout.write(`${text}\n`);
  try {
    for (const step of steps) {
      const measured: Record<Mode, { pods: number; m: Measured }[]> = { current: [], 'keep-objects': [] };
      const limited: string[][] = [];
      for (const pods of sizes) {
        for (const mode of ['keep-objects', 'current'] as Mode[]) {
          progress(`${step} ${mode} ${pods} pods`);
          const m = await runChild({ mode, step, pods, kubeconfig: kubeconfig });
          if ('failed' in m) throw new Error(`${step} ${mode} ${pods}: ${m.failed}`);
          if (m.heldPods !== pods) throw new Error(`${step} ${mode} ${pods}: held ${m.heldPods} pods`);
          measured[mode].push({ pods, m });
          results.push({ step, mode, pods, ...m });
          if (heapLimit) {
            const bounded = await runChild({ mode, step, pods, kubeconfig: kubeconfig }, heapLimit);
            limited.push([String(pods), mode, 'failed' in bounded ? bounded.failed : 'completed']);
            results.push({ step, mode, pods, heapLimit, outcome: 'failed' in bounded ? bounded.failed : 'completed' });
          }
        }
      }
      const rows = sizes.flatMap((pods) =>
        (['keep-objects', 'current'] as Mode[]).map((mode) => {
          const m = measured[mode].find((r) => r.pods === pods)?.m as Measured;
          const base = measured['keep-objects'].find((r) => r.pods === pods)?.m as Measured;
          const held = m.heapAfter - m.heapBefore;
          return [
            pods,
            mode === 'current' ? 'current' : 'baseline (--keep-objects)',
            mib(held),
            Math.round(held / pods),
            mib(m.rssAfter),
            mib(m.peakRss),
            ratio(held, base.heapAfter - base.heapBefore),
            ratio(m.peakRss, base.peakRss),
          ];
        }),
      );
      print(
        table(
          `${step === 'list' ? 'listMeshedPods' : 'observeMesh (namespaces, workloads, pods, classified)'}: memory held after a forced GC`,
          ['pods', 'code', 'heap held MiB', 'heap bytes / pod', 'RSS after MiB', 'peak RSS MiB', 'heap vs baseline', 'peak RSS vs baseline'],
          rows,
        ),
      );
      const slopes = (['keep-objects', 'current'] as Mode[]).map((mode) =>
        slope(measured[mode].map((r) => ({ pods: r.pods, bytes: r.m.heapAfter - r.m.heapBefore }))),
      );
      const peakSlopes = (['keep-objects', 'current'] as Mode[]).map((mode) => slope(measured[mode].map((r) => ({ pods: r.pods, bytes: r.m.peakRss }))));
      print(
        table(
          `${step}: growth per pod (slope from ${format(sizes[0] ?? 0)} to ${format(sizes[sizes.length - 1] ?? 0)} pods)`,
          ['code', 'heap bytes / pod', 'peak RSS bytes / pod', 'heap slope vs baseline', 'peak RSS slope vs baseline'],
          [
            ['baseline (--keep-objects)', Math.round(slopes[0] ?? NaN), Math.round(peakSlopes[0] ?? NaN), '1.00×', '1.00×'],
            [
              'current',
              Math.round(slopes[1] ?? NaN),
              Math.round(peakSlopes[1] ?? NaN),
              ratio(slopes[1] ?? NaN, slopes[0] ?? NaN),
              ratio(peakSlopes[1] ?? NaN, peakSlopes[0] ?? NaN),
            ],
          ],
        ),
      );
      if (limited.length > 0) print(table(`${step} under --max-old-space-size=${heapLimit}`, ['pods', 'code', 'outcome'], limited));
    }
    print(
      `Pod JSON as served: ${format(server.served.podBytes / Math.max(1, server.served.pods))} bytes per pod on average; ${cpus().length} CPUs, Node ${process.version}.`,
    );
    if (flags.out)
      writeFileSync(flags.out, JSON.stringify({ node: process.version, podBytes: server.served.podBytes / Math.max(1, server.served.pods), results }, null, 2));
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (flags.child) {
  const task = JSON.parse(flags.child) as Task;
  process.stdout.write(JSON.stringify(await measure(task)));
} else {
  await main();
}
