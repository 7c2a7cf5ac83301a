import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiserverOutage, apiserverReady } from '../harness/apiserver.js';
import { e2eKube, e2eKubeconfig, e2eStateDir } from '../harness/env.js';
import { allFaults, FaultProxy, seeded } from '../harness/fault-proxy.js';
import { issuerAnnotation } from '../harness/injector.js';
import { InvariantMonitor, type Violation } from '../harness/monitor.js';
import { runRotator, type RotatorRun } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';

/**
 * The rotator under stress: API faults of every kind through our fault proxy, a real
 * apiserver outage mid-rotation, and SIGKILL at random moments. Every scenario must end with
 * a finished rotation and no invariant violation, as the monitor sees it talking straight to
 * the apiserver. LCR_FAULT_SEED replays a run (the seed is printed).
 */
const kube = e2eKube();
const kubeconfig = e2eKubeconfig();
const stateDir = e2eStateDir();
const seed = Number(process.env.LCR_FAULT_SEED ?? Date.now() % 1_000_000);
const retryMessage = 'transient API failure, retrying';

interface PodSeen {
  name: string;
  created?: string;
  started?: string;
  admittedWithIssuer?: string;
}

/**
 * Runs `scenario` with the invariant monitor watching the cluster directly (not through the
 * proxy), and a record of every meshed pod seen, so that a violation can be explained.
 */
async function watched<T>(
  scenario: () => Promise<T>,
): Promise<{ result: T; violations: Violation[]; samples: number; diagnose: (runs: RotatorRun[]) => string }> {
  const monitor = new InvariantMonitor(kubeconfig);
  const pods = new Map<string, PodSeen>();
  let recording = true;
  const recorder = (async () => {
    while (recording) {
      const list = await kube.core.listPodForAllNamespaces({ labelSelector: 'linkerd.io/control-plane-ns' }).catch(() => undefined);
      for (const pod of list?.items ?? []) {
        const issuer = pod.metadata?.annotations?.[issuerAnnotation];
        pods.set(pod.metadata?.uid ?? '', {
          name: `${pod.metadata?.namespace}/${pod.metadata?.name}`,
          created: pod.metadata?.creationTimestamp?.toISOString(),
          started: pod.status?.startTime?.toISOString(),
          admittedWithIssuer: issuer ? `notBefore ${new X509Certificate(issuer).validFrom}` : undefined,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const diagnose = (runs: RotatorRun[]): string => {
    const involved = new Set(monitor.violations.flatMap((v) => [v.pod, v.peer]));
    const steps = runs.flatMap((run) => run.logs.filter((line) => /^step \d|re-issued|restarted|rotation complete|lock/.test(String(line.message))));
    return [
      `first violation ${monitor.violations[0]?.at ?? '-'}, last ${monitor.violations.at(-1)?.at ?? '-'}`,
      ...[...pods.values()].filter((pod) => involved.has(pod.name)).map((pod) => `  pod ${JSON.stringify(pod)}`),
      ...steps.map((line) => `  ${String(line.timestamp)} ${String(line.message)} ${JSON.stringify(line.purpose ?? line.workload ?? '')}`),
    ].join('\n');
  };
  monitor.start();
  try {
    const result = await scenario();
    await monitor.stop();
    return { result, violations: monitor.violations, samples: monitor.samples, diagnose };
  } finally {
    recording = false;
    await recorder;
    await monitor.stop();
  }
}

/** Prints what explains violations, if there are any, before they fail the test. */
function report(violations: readonly Violation[], diagnose: (runs: RotatorRun[]) => string, runs: (RotatorRun | undefined)[]): void {
  if (violations.length > 0)
    process.stdout.write(`${violations.length} invariant violation(s):\n${diagnose(runs.filter((run): run is RotatorRun => run !== undefined))}\n`);
}

const retries = (run: RotatorRun): Record<string, unknown>[] => run.logs.filter((line) => line.message === retryMessage);

async function expectSteadyAndHealthy(): Promise<void> {
  const { code, report } = await statusOf(kubeconfig);
  expect({ phase: report.phase, health: report.health, code }).toEqual({ phase: 'steady', health: 'healthy', code: 0 });
}

describe('faults: the rotation survives API errors, an apiserver outage and being killed', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'lcr-faults-'));
  let proxy: FaultProxy;

  beforeAll(async () => {
    process.stdout.write(`faults.test.ts: seed ${seed} (LCR_FAULT_SEED=${seed} replays it)\n`);
    proxy = await FaultProxy.start(stateDir);
    await ensureSteady(kubeconfig);
  });

  afterAll(async () => {
    await proxy.stop();
    rmSync(scratch, { recursive: true, force: true });
    // Leave the shared cluster as the next file expects it: up, and steady.
    expect(await apiserverReady(stateDir)).toBe(true);
    await ensureSteady(kubeconfig);
  });

  test('a full rotation through 15% faults of every kind completes, keeps the invariant and logs its retries', async () => {
    const anchorBefore = await kube.anchor();
    proxy.setFaults({ rate: 0.15, kinds: allFaults, latencyMs: [50, 800], retryAfterSeconds: 1, seed });
    proxy.resetCounts();
    const faulty = proxy.writeKubeconfig(join(scratch, 'faulty.kubeconfig'));
    const { result: run, violations, samples, diagnose } = await watched(() => runRotator(faulty, ['rotate', '--force']));
    const counts = proxy.snapshot();
    proxy.setFaults({ rate: 0, kinds: [] });
    report(violations, diagnose, [run]);

    expect(run.code).toBe(0);
    expect(samples).toBeGreaterThan(10);
    expect(violations).toEqual([]);
    for (const kind of allFaults) expect({ kind, injected: (counts.faults[kind] ?? 0) > 0 }).toEqual({ kind, injected: true });
    // Every fault but latency fails an attempt, and each failed attempt is logged before its retry.
    const failing = allFaults.filter((kind) => kind !== 'latency').reduce((sum, kind) => sum + (counts.faults[kind] ?? 0), 0);
    const logged = retries(run);
    expect(logged.length).toBeGreaterThanOrEqual(Math.floor(failing * 0.9));
    const statuses = new Set(logged.map((line) => line.status));
    for (const status of [429, 500, 503]) expect(statuses).toContain(status);
    expect([...statuses].some((status) => typeof status === 'string')).toBe(true);
    process.stdout.write(`faults: ${counts.total} requests, ${JSON.stringify(counts.faults)} injected, ${logged.length} retries logged\n`);

    expect((await kube.anchor()).fingerprint256).not.toBe(anchorBefore.fingerprint256);
    await expectSteadyAndHealthy();
  });

  test('a 60 s apiserver outage mid-rotation (a control-plane upgrade): the same run finishes, exit 0, with the default lock', async () => {
    let outage: Promise<number> | undefined;
    const started = Date.now();
    const { result, violations, diagnose } = await watched(async () => {
      const run = await runRotator(kubeconfig, ['rotate', '--force'], {
        // Not a kill: the hook stops the real kube-apiserver once the data plane starts restarting.
        killWhen: (line) => {
          if (!outage && line.message === 'restarting data-plane workloads') {
            outage = apiserverOutage(stateDir, 60_000);
          }
          return false;
        },
      });
      return { run, outageMs: await outage };
    });
    const { run, outageMs } = result;
    report(violations, diagnose, [run]);
    const tightest = retries(run)
      .filter((line) => typeof line.retryWindowLeftSeconds === 'number')
      .sort((a, b) => Number(a.retryWindowLeftSeconds) - Number(b.retryWindowLeftSeconds))[0];
    process.stdout.write(
      `outage: apiserver down for ${((outageMs ?? 0) / 1000).toFixed(1)} s; run exit ${String(run.code)} after ${retries(run).length} retries (least retry window left ${String(tightest?.retryWindowLeftSeconds)} s, by ${String(tightest?.call)} at attempt ${String(tightest?.attempt)}, ${String(tightest?.status)}), ${Math.round((Date.now() - started) / 1000)} s in all\n`,
    );

    expect(outageMs).toBeGreaterThanOrEqual(60_000);
    expect(retries(run).length).toBeGreaterThan(0);
    // One run rides it out: the lock was kept (renewals resumed), no step gave up.
    expect(run.logs.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([]);
    expect(run.logs.some((l) => l.message === 'rotation complete')).toBe(true);
    expect(run.code).toBe(0);
    expect(violations).toEqual([]);
    await expectSteadyAndHealthy();
  });

  test('silent watches (open, but no event and no bookmark): re-opened after the idle limit, rollouts read with GETs, the rotation finishes long before its deadlines', async () => {
    const rolloutTimeoutS = 300;
    proxy.resetCounts();
    proxy.silenceWatches(true);
    const silent = proxy.writeKubeconfig(join(scratch, 'silent.kubeconfig'));
    const started = Date.now();
    let run: RotatorRun;
    try {
      const watchedRun = await watched(() =>
        runRotator(silent, ['rotate', '--force'], { env: { LCR_WATCH_IDLE_TIMEOUT: '3s', LCR_ROLLOUT_TIMEOUT: `${rolloutTimeoutS}s` } }),
      );
      run = watchedRun.result;
      report(watchedRun.violations, watchedRun.diagnose, [run]);
      expect(watchedRun.violations).toEqual([]);
    } finally {
      proxy.silenceWatches(false);
    }
    const seconds = (Date.now() - started) / 1000;
    const counts = proxy.snapshot();
    const reopened = run.logs.filter((l) => l.message === 'watch sent nothing (no event, no bookmark) for too long, re-opening it');
    const waits = run.logs.filter((l) => l.message === 'restarted').map((l) => Number(l.waitedSeconds));
    process.stdout.write(
      `silent watches: ${counts.faults['silent-watch'] ?? 0} watches held silent, ${reopened.length} re-opened, longest rollout wait ${Math.max(...waits)} s, run ${seconds.toFixed(0)} s\n`,
    );

    expect(run.code).toBe(0);
    expect(counts.faults['silent-watch'] ?? 0).toBeGreaterThan(0);
    expect(reopened.length).toBeGreaterThan(0);
    expect(waits.length).toBeGreaterThan(0);
    // Blind for one idle limit at most, then a GET: nowhere near the rollout deadline.
    expect(Math.max(...waits)).toBeLessThan(rolloutTimeoutS / 5);
    await expectSteadyAndHealthy();
  });

  test('random kill points: SIGKILL at random moments until a run finishes, several times; every experiment ends steady', async () => {
    // Kill moments a seed replays.
    const next = seeded(seed);
    const experiments = 4;
    const maxRuns = 8;
    const summary: { experiment: number; kills: number; runs: number; seconds: number }[] = [];
    for (let experiment = 1; experiment <= experiments; experiment++) {
      const started = Date.now();
      const runs: RotatorRun[] = [];
      const { result, violations, diagnose } = await watched(async () => {
        let kills = 0;
        for (let run = 1; run <= maxRuns; run++) {
          // Kill between 0.3 s and 12 s in (a full run takes about 15 s); the last run is left alone.
          const killAfterMs = run < maxRuns ? 300 + Math.floor(next() * 11_700) : 600_000;
          // A killed run keeps the rotation lock until its Lease expires: a short Lease, waited for.
          const outcome = await runRotator(kubeconfig, ['rotate', '--force'], {
            timeoutMs: killAfterMs,
            env: { LCR_LOCK_DURATION: '6s', LCR_LOCK_WAIT: '30s' },
          });
          runs.push(outcome);
          if (outcome.signal === 'SIGKILL') {
            kills++;
            continue;
          }
          expect(outcome.code).toBe(0);
          return { kills, runs: run };
        }
        throw new Error(`experiment ${experiment}: no run finished in ${maxRuns}`);
      });
      summary.push({ experiment, ...result, seconds: Math.round((Date.now() - started) / 1000) });
      report(violations, diagnose, runs);
      expect({ experiment, violations }).toEqual({ experiment, violations: [] });
      await expectSteadyAndHealthy();
    }
    const kills = summary.reduce((sum, s) => sum + s.kills, 0);
    process.stdout.write(
      `kill points: ${kills} SIGKILLs survived with the invariant intact over ${experiments} experiments\n${summary.map((s) => `  experiment ${s.experiment}: ${s.kills} kill(s), ${s.runs} run(s), ${s.seconds} s`).join('\n')}\n`,
    );
    expect(kills).toBeGreaterThan(0);
  });
});
