/**
 * Benchmarks of linkerd-cert-rotator on a local cluster of its own (scripts/cluster/up.sh into
 * a temporary directory, always torn down): the tool's overhead per step against the waits it
 * cannot shorten, the blog's procedure replayed on the same cluster as the baseline, rotations
 * at 10 / 100 / 1,000 meshed namespaces (time, API requests through a counting proxy, peak
 * memory), the entrypoint's start-up and the image size. Prints Markdown tables; not a test.
 *
 *   npm run bench [-- --scales 10,100,1000 --concurrency 32 --baseline-factor 10 --skip startup,baseline,scale,polling --out results.json --keep --as-chart --node-options '...' --sample-memory]
 *
 * At the largest scale two more rotations run in the same cluster: one with --no-watch-rollouts
 * (every rollout polled with GETs, as before rollouts were watched: the baseline of the watch's
 * gain; `--skip polling` leaves it out) and one with --concurrency N, to show how far the
 * default concurrency is from what the cluster can take.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { load } from 'js-yaml';
import { runBaseline, type BaselineRun } from './bench/baseline.js';
import { expectRotated, machineFacts, measureRotator, type MeasuredRun } from './bench/measure.js';
import { ensureScale } from './bench/scale.js';
import { imageSizes, startupTimes } from './bench/startup.js';
import { stepTimings, type RunTiming } from './bench/steps.js';
import { format, ratio, seconds, table } from './bench/table.js';
import { defaultConfig } from '../src/config.js';
import { clusterDown, clusterUp, repoRoot } from '../test/harness/cluster.js';
import { FaultProxy, type ProxyCounts } from '../test/harness/fault-proxy.js';
import { installFixture } from '../test/harness/fixture.js';
import { startInjector } from '../test/harness/injector.js';
import { InvariantMonitor } from '../test/harness/monitor.js';

const { values: flags } = parseArgs({
  options: {
    scales: { type: 'string', default: '10,100,1000' },
    concurrency: { type: 'string', default: '32' },
    'baseline-factor': { type: 'string', default: '10' },
    skip: { type: 'string', default: '' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'as-chart': { type: 'boolean', default: false },
    // The rotator's NODE_OPTIONS instead of the default (dist/: none; --as-chart: the chart's), to
    // separate the heap cap from the bundle: `--node-options ''` or `--node-options --max-old-space-size=128`.
    'node-options': { type: 'string' },
    'sample-memory': { type: 'boolean', default: false },
  },
});
const skip = new Set((flags.skip ?? '').split(',').filter(Boolean));
const scales = (flags.scales ?? '').split(',').filter(Boolean).map(Number);
const factor = Number(flags['baseline-factor']);
const results: Record<string, unknown> = { machine: machineFacts() };

const progress = (text: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const print = (text: string): void => void process.stdout.write(`${text}\n`);
let baselineViolations = 'n/a';
// The CLI as built when the bench started (dist/ may be rebuilt while a long run goes on);
// under the repository so that it resolves node_modules.
const snapshot = join(repoRoot, '.build/bench-dist');
// --as-chart: what the chart's pod runs, the esbuild bundle of the image (bundle/main.mjs) under the
// chart's default NODE_OPTIONS (values.yaml `nodeOptions`), instead of dist/ with Node's defaults.
const asChart = flags['as-chart'] ?? false;
const entry = asChart ? join(snapshot, 'main.mjs') : join(snapshot, 'cli/main.js');
const chartNodeOptions = (): string => {
  const values = load(readFileSync(join(repoRoot, 'chart/values.yaml'), 'utf8')) as { nodeOptions?: string };
  return values.nodeOptions ?? '';
};
const nodeOptions = flags['node-options'] ?? (asChart ? chartNodeOptions() : '');
// --sample-memory: process.memoryUsage() every 250 ms in the rotator (scripts/sample-memory.mjs).
const sampler = flags['sample-memory'] ? ` --import=${join(repoRoot, 'scripts/sample-memory.mjs')}` : '';
const runEnv: Record<string, string> = nodeOptions || sampler ? { NODE_OPTIONS: `${nodeOptions}${sampler}`.trim() } : {};
const mib = (kib: number | undefined): string => (kib ? (kib / 1024).toFixed(0) : 'n/a');

/** The largest of each process.memoryUsage() figure over a run, MiB, and the heap in use when the RSS peaked. */
interface MemoryPeaks {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  heapUsedAtPeakRss: number;
  samples: number;
}

function memoryPeaks(file: string): MemoryPeaks | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const rows = text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<'rss' | 'heapTotal' | 'heapUsed' | 'external' | 'arrayBuffers', number>);
  const top = (key: keyof (typeof rows)[number]): number => Math.max(...rows.map((r) => r[key])) / 2 ** 20;
  const atPeak = rows.reduce((a, b) => (b.rss > a.rss ? b : a), rows[0] ?? { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 });
  return {
    rss: top('rss'),
    heapTotal: top('heapTotal'),
    heapUsed: top('heapUsed'),
    external: top('external'),
    arrayBuffers: top('arrayBuffers'),
    heapUsedAtPeakRss: atPeak.heapUsed / 2 ** 20,
    samples: rows.length,
  };
}

interface ToolRun {
  label: string;
  run: MeasuredRun;
  memory?: MemoryPeaks;
  timing: RunTiming;
  requests: ProxyCounts;
  violations: number;
  samples: number;
}

/** One `rotate` through the counting proxy, with the invariant monitor watching the cluster directly. */
async function rotation(label: string, proxy: FaultProxy, proxyKubeconfig: string, kubeconfig: string, env: Record<string, string>): Promise<ToolRun> {
  proxy.resetCounts();
  const monitor = new InvariantMonitor(kubeconfig, 1_000);
  monitor.start();
  progress(`${label}: rotate`);
  // --force: the rotation policy would otherwise wait until the anchor is due.
  const samplesDir = sampler ? mkdtempSync(join(tmpdir(), 'lcr-bench-memory-')) : undefined;
  const samples = samplesDir ? join(samplesDir, 'samples.jsonl') : undefined;
  const run = await measureRotator(entry, proxyKubeconfig, ['rotate', '--force'], {
    ...runEnv,
    ...(samples ? { LCR_BENCH_MEMORY_FILE: samples } : {}),
    ...env,
  });
  const memory = samples ? memoryPeaks(samples) : undefined;
  if (samplesDir) rmSync(samplesDir, { recursive: true, force: true });
  await monitor.stop();
  expectRotated(label, run);
  const timing = stepTimings(run.logs, run.startedAt, run.wallMs);
  const split = memory
    ? ` (sampled: rss ${memory.rss.toFixed(0)}, heapTotal ${memory.heapTotal.toFixed(0)}, heapUsed ${memory.heapUsed.toFixed(0)}, external ${memory.external.toFixed(0)}, arrayBuffers ${memory.arrayBuffers.toFixed(0)} MiB)`
    : '';
  progress(
    `${label}: ${seconds(run.wallMs)} s, ${proxy.snapshot().total} requests, peak RSS ${mib(run.peakRssKiB)} MiB${split}, CPU ${run.cpuSeconds?.toFixed(1) ?? 'n/a'} s`,
  );
  return { label, run, memory, timing, requests: proxy.snapshot(), violations: monitor.violations.length, samples: monitor.samples };
}

function stepTable(title: string, timing: RunTiming): string {
  const rows: (string | number)[][] = timing.steps.map((s) => [s.step, seconds(s.wallMs), seconds(s.waitedMs), seconds(s.overheadMs), s.waits]);
  rows.push(['before step 1 (start-up, reading the cluster, planning)', seconds(timing.beforeStepsMs), '0.0', seconds(timing.beforeStepsMs), 0]);
  rows.push(['between steps (re-reading the cluster, re-planning)', seconds(timing.betweenStepsMs), '0.0', seconds(timing.betweenStepsMs), 0]);
  rows.push(['**total**', seconds(timing.totalMs), seconds(timing.waitedMs), seconds(timing.overheadMs), timing.steps.reduce((n, s) => n + s.waits, 0)]);
  return table(title, ['step', 'wall s', 'waiting s', 'tool overhead s', 'waits'], rows);
}

function benchStartup(): void {
  const startup = startupTimes(entry);
  const base = startup.results[0]?.meanMs ?? NaN;
  const baseCpu = startup.results[0]?.cpuMs ?? NaN;
  print(
    table(
      `Start-up (${startup.tool})`,
      ['command', 'wall ms', '± ms', 'CPU ms (user+sys)', 'runs', 'wall vs node -e 0', 'CPU vs node -e 0'],
      startup.results.map((r) => [
        r.name,
        r.meanMs.toFixed(0),
        r.stddevMs.toFixed(0),
        r.cpuMs.toFixed(0),
        r.runs,
        ratio(r.meanMs, base),
        ratio(r.cpuMs, baseCpu),
      ]),
    ),
  );
  const images = imageSizes(['localhost/linkerd-cert-rotator:dev', 'gcr.io/distroless/nodejs24-debian12']);
  const runtimeBase = images.find((i) => i.image.includes('distroless'))?.bytes ?? NaN;
  if (images.length > 0) {
    print(
      table(
        'Image size (podman; the base is a local stand-in for distroless/nodejs24, see scripts/image-build.sh)',
        ['image', 'MB', 'vs runtime base'],
        images.map((i) => [i.image, (i.bytes / 1e6).toFixed(1), ratio(i.bytes, runtimeBase)]),
      ),
    );
  } else print('(no image linkerd-cert-rotator:dev: run scripts/image-build.sh to measure its size)\n');
  results.startup = startup;
  results.images = images;
}

function printOverhead(fast: ToolRun, normal: ToolRun, baseline: BaselineRun | undefined): void {
  print(stepTable(`Overhead per step, fixture (${fast.label})`, fast.timing));
  print(stepTable(`Overhead per step, fixture (${normal.label})`, normal.timing));
  const rows: (string | number)[][] = [
    [
      `tool, ${fast.label}`,
      seconds(fast.run.wallMs),
      seconds(fast.timing.overheadMs),
      fast.requests.total,
      `${fast.violations} / ${fast.samples}`,
      baseline ? ratio(fast.run.wallMs, baseline.realTimeMs) : 'n/a',
    ],
    [
      `tool, ${normal.label}`,
      seconds(normal.run.wallMs),
      seconds(normal.timing.overheadMs),
      normal.requests.total,
      `${normal.violations} / ${normal.samples}`,
      baseline ? ratio(normal.run.wallMs, baseline.realTimeMs) : 'n/a',
    ],
  ];
  if (baseline) {
    rows.push([
      `blog procedure, sleeps ÷${baseline.factor} (measured)`,
      seconds(baseline.measuredMs),
      'n/a',
      'n/a',
      baselineViolations,
      ratio(baseline.measuredMs, baseline.realTimeMs),
    ]);
    rows.push(['blog procedure, real-time equivalent (baseline)', seconds(baseline.realTimeMs), 'n/a', 'n/a', '', '1.00×']);
  }
  print(
    table(
      'Total rotation time on the fixture: tool vs the blog procedure (same cluster, same run)',
      ['procedure', 'total s', 'tool overhead s', 'API requests', 'invariant violations / samples', 'time vs baseline'],
      rows,
    ),
  );
  if (baseline) {
    print(
      table(
        `The blog procedure by phase (sleeps scaled ÷${baseline.factor}; real time = measured + the sleeps it skipped)`,
        ['phase', 'measured s', 'fixed sleeps s', 'real-time s'],
        baseline.phases.map((p) => [p.phase, seconds(p.measuredMs), p.sleptSeconds, seconds(p.realTimeMs)]),
      ),
    );
  }
}

interface ScaleRow {
  label: string;
  namespaces: number;
  workloads: number;
  run: ToolRun;
}

function printScale(rows: ScaleRow[]): void {
  const first = rows[0];
  if (!first) return;
  const perWorkload = (r: ScaleRow): number => r.run.requests.total / r.workloads;
  const restarts = (r: ScaleRow): number =>
    Object.entries(r.run.requests.byRequest)
      .filter(([key]) => key.startsWith('patch '))
      .reduce((n, [, v]) => n + v, 0);
  const gets = (r: ScaleRow): number =>
    Object.entries(r.run.requests.byRequest)
      .filter(([key]) => /^get (deployments|statefulsets|daemonsets)\.apps$/.test(key))
      .reduce((n, [, v]) => n + v, 0);
  const watches = (r: ScaleRow): number =>
    Object.entries(r.run.requests.byRequest)
      .filter(([key]) => key.startsWith('watch '))
      .reduce((n, [, v]) => n + v, 0);
  print(
    table(
      `Scale: one rotation (defaults: --concurrency ${defaultConfig.concurrency}, --poll-interval ${defaultConfig.pollIntervalMs / 1000}s, rollouts watched) with N meshed namespaces of one 1-replica Deployment each, plus the fixture`,
      [
        'meshed ns',
        'options',
        'meshed workloads',
        'total s',
        'waiting s',
        'overhead s',
        'API requests',
        'req / workload',
        'TLS conns',
        'list pages followed',
        'watches',
        'rollout GETs / restart',
        'peak RSS MiB',
        'CPU s',
        'CPU s / 1,000 restarts',
        'time vs N=10',
        'requests vs N=10',
        'RSS vs N=10',
        "blog's fixed sleeps s",
      ],
      rows.map((r) => [
        r.namespaces,
        r.label,
        r.workloads,
        seconds(r.run.run.wallMs),
        seconds(r.run.timing.waitedMs),
        seconds(r.run.timing.overheadMs),
        r.run.requests.total,
        perWorkload(r).toFixed(1),
        r.run.requests.connections,
        r.run.requests.continuedLists,
        watches(r),
        (gets(r) / Math.max(1, restarts(r))).toFixed(2),
        mib(r.run.run.peakRssKiB),
        r.run.run.cpuSeconds?.toFixed(1) ?? 'n/a',
        r.run.run.cpuSeconds === undefined ? 'n/a' : ((r.run.run.cpuSeconds * 1000) / Math.max(1, restarts(r))).toFixed(1),
        ratio(r.run.run.wallMs, first.run.run.wallMs),
        ratio(r.run.requests.total, first.run.requests.total),
        ratio(r.run.run.peakRssKiB ?? NaN, first.run.run.peakRssKiB ?? NaN),
        format(380 + 10 * (r.namespaces + 2)),
      ]),
    ),
  );
  const last = [...rows].reverse().find((r) => r.label === 'defaults') ?? first;
  const polled = rows.find((r) => r.label === '--no-watch-rollouts');
  if (polled) {
    print(
      table(
        `Watching rollouts vs polling them at ${last.namespaces} namespaces (same cluster, same run; polling is the baseline)`,
        ['rollouts', 'total s', 'API requests', 'watches', 'rollout GETs', 'time vs polling', 'requests vs polling'],
        [last, polled].map((r) => [
          r === polled ? 'polled (--no-watch-rollouts)' : 'watched (default)',
          seconds(r.run.run.wallMs),
          r.run.requests.total,
          watches(r),
          gets(r),
          ratio(r.run.run.wallMs, polled.run.run.wallMs),
          ratio(r.run.requests.total, polled.run.requests.total),
        ]),
      ),
    );
  }
  const mix = Object.entries(last.run.requests.byRequest).sort((a, b) => b[1] - a[1]);
  print(
    table(
      `API request mix at ${last.namespaces} namespaces`,
      ['request', 'count', 'per workload'],
      mix.map(([key, count]) => [key, count, (count / last.workloads).toFixed(2)]),
    ),
  );
  print(stepTable(`Overhead per step at ${last.namespaces} namespaces`, last.run.timing));
  for (const r of rows.filter((row) => row.label !== 'defaults')) print(stepTable(`Overhead per step at ${r.namespaces} namespaces, ${r.label}`, r.run.timing));
}

function workloadsOf(run: ToolRun): number {
  // Every meshed workload is restarted once per purpose; the data-plane pass of 'drop-old-anchor' restarts all of them.
  const restarted = run.run.logs.filter((l) => l.message === 'restarted').map((l) => String(l.workload));
  return new Set(restarted).size;
}

async function main(): Promise<number> {
  rmSync(snapshot, { recursive: true, force: true });
  if (asChart) {
    const bundled = spawnSync(process.execPath, [join(repoRoot, 'scripts/bundle.mjs')], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    if (bundled.status !== 0) throw new Error('scripts/bundle.mjs failed');
    // The entry and its lazily imported chunks (bundle/chunks/), as the image ships them.
    cpSync(join(repoRoot, 'bundle'), snapshot, { recursive: true });
  } else cpSync(join(repoRoot, 'dist'), snapshot, { recursive: true });
  progress(`measuring ${asChart ? 'the bundle (--as-chart)' : 'dist/'} under NODE_OPTIONS=${runEnv.NODE_OPTIONS ?? ''}`);
  results.entry = { bundle: asChart, nodeOptions: runEnv.NODE_OPTIONS ?? '' };
  if (!skip.has('startup')) benchStartup();
  if (skip.has('baseline') && skip.has('scale') && skip.has('overhead')) return 0;
  progress('bringing up a local cluster of its own');
  const cluster = clusterUp(mkdtempSync(join(tmpdir(), 'lcr-bench-')));
  const injector = await startInjector(cluster.kubeconfig);
  const proxy = await FaultProxy.start(cluster.stateDir);
  const proxyKubeconfig = proxy.writeKubeconfig(join(cluster.stateDir, 'proxy.kubeconfig'));
  try {
    progress('installing the Linkerd fixture');
    await installFixture(cluster.kubeconfig);
    const fast = await rotation('--poll-interval 250ms', proxy, proxyKubeconfig, cluster.kubeconfig, { LCR_POLL_INTERVAL: '250ms' });
    const normal = await rotation('defaults (--poll-interval 2s)', proxy, proxyKubeconfig, cluster.kubeconfig, {});
    results.overhead = { fast: summary(fast), normal: summary(normal) };
    let baseline: BaselineRun | undefined;
    if (!skip.has('baseline')) {
      progress(`the blog procedure, sleeps ÷${factor}`);
      const monitor = new InvariantMonitor(cluster.kubeconfig, 1_000);
      monitor.start();
      baseline = await runBaseline(cluster.kubeconfig, cluster.env.LCR_KUBECTL ?? 'kubectl', factor);
      await monitor.stop();
      baselineViolations = `${monitor.violations.length} / ${monitor.samples}`;
      results.baselineViolations = baselineViolations;
      if (baseline.code !== 0) throw new Error(`the blog procedure failed (exit ${String(baseline.code)}):\n${baseline.output.slice(-3000)}`);
      results.baseline = { ...baseline, output: undefined };
      progress(`blog procedure: ${seconds(baseline.measuredMs)} s measured, ${seconds(baseline.realTimeMs)} s real-time equivalent; repairing with rotate`);
      const repair = await measureRotator(entry, cluster.kubeconfig, ['rotate'], {});
      if (repair.code !== 0) throw new Error(`rotate could not finish what the blog procedure left:\n${repair.stderr.slice(-3000)}`);
      results.repairSeconds = repair.wallMs / 1000;
    }
    printOverhead(fast, normal, baseline);
    if (!skip.has('scale')) {
      const rows: ScaleRow[] = [];
      for (const namespaces of scales) {
        progress(`scale: ${namespaces} meshed namespaces`);
        await ensureScale(cluster.kubeconfig, namespaces, progress);
        const run = await rotation(`${namespaces} namespaces`, proxy, proxyKubeconfig, cluster.kubeconfig, {});
        rows.push({ label: 'defaults', namespaces, workloads: workloadsOf(run), run });
        results.scale = rows.map((r) => ({ namespaces: r.namespaces, options: r.label, workloads: r.workloads, ...summary(r.run) }));
        if (flags.out) writeFileSync(flags.out, JSON.stringify(results, null, 2));
      }
      const largest = scales[scales.length - 1];
      if (!skip.has('polling') && largest !== undefined) {
        const run = await rotation(`${largest} namespaces, --no-watch-rollouts`, proxy, proxyKubeconfig, cluster.kubeconfig, { LCR_WATCH_ROLLOUTS: 'false' });
        rows.push({ label: '--no-watch-rollouts', namespaces: largest, workloads: workloadsOf(run), run });
        results.scale = rows.map((r) => ({ namespaces: r.namespaces, options: r.label, workloads: r.workloads, ...summary(r.run) }));
        if (flags.out) writeFileSync(flags.out, JSON.stringify(results, null, 2));
      }
      if (flags.concurrency && largest !== undefined) {
        const run = await rotation(`${largest} namespaces, --concurrency ${flags.concurrency}`, proxy, proxyKubeconfig, cluster.kubeconfig, {
          LCR_CONCURRENCY: flags.concurrency,
        });
        rows.push({ label: `--concurrency ${flags.concurrency}`, namespaces: largest, workloads: workloadsOf(run), run });
        results.scale = rows.map((r) => ({ namespaces: r.namespaces, options: r.label, workloads: r.workloads, ...summary(r.run) }));
      }
      printScale(rows);
    }
  } finally {
    await proxy.stop();
    await injector.stop();
    if (flags.keep) progress(`cluster kept: export KUBECONFIG=${cluster.kubeconfig}`);
    else clusterDown(cluster.stateDir);
  }
  if (flags.out) {
    writeFileSync(flags.out, JSON.stringify(results, null, 2));
    progress(`results written to ${flags.out}`);
  }
  return 0;
}

function summary(run: ToolRun): Record<string, unknown> {
  return {
    label: run.label,
    seconds: run.run.wallMs / 1000,
    peakRssKiB: run.run.peakRssKiB,
    cpuSeconds: run.run.cpuSeconds,
    memory: run.memory,
    timing: run.timing,
    requests: run.requests,
    violations: run.violations,
    samples: run.samples,
  };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
