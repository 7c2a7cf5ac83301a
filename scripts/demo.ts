/**
 * The main job, for a newcomer: a local cluster with the Linkerd fixture, `status`, a full
 * `rotate` watched by the invariant monitor, `status` again and the monitor's verdict, then
 * teardown. Run with `npm run demo` (KEEP_CLUSTER=1 leaves the cluster up; DEMO_CLUSTER_DIR=<state dir> uses
 * a cluster that scripts/cluster/up.sh already started).
 */
import { clusterDown, clusterUp } from '../test/harness/cluster.js';
import { installFixture } from '../test/harness/fixture.js';
import { startInjector } from '../test/harness/injector.js';
import { InvariantMonitor } from '../test/harness/monitor.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../test/harness/cluster.js';

const say = (text: string): void => void process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

/** Runs the built CLI; asynchronously, because the injector and the monitor live in this process. */
async function rotator(kubeconfig: string, args: string[]): Promise<number> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist/cli/main.js'), ...args, '--kubeconfig', kubeconfig], {
    stdio: 'inherit',
    // The poll interval as env: every command reads its LCR_* variables, but refuses flags it does not take (status).
    env: { ...process.env, LCR_LOG_FORMAT: 'text', LCR_POLL_INTERVAL: '500ms' },
  });
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}

async function main(): Promise<number> {
  say('bringing up the local cluster (real kube-apiserver, controllers, cert-manager, trust-manager; kwok nodes)');
  const reuse = process.env.DEMO_CLUSTER_DIR;
  const cluster = reuse ? { stateDir: reuse, kubeconfig: join(reuse, 'kubeconfig') } : clusterUp();
  const injector = await startInjector(cluster.kubeconfig);
  try {
    say('laying down Linkerd as its cert-manager guide describes');
    await installFixture(cluster.kubeconfig);
    say('linkerd-cert-rotator status (before)');
    await rotator(cluster.kubeconfig, ['status']);
    say('linkerd-cert-rotator rotate --dry-run');
    await rotator(cluster.kubeconfig, ['rotate', '--dry-run', '--force']);
    const monitor = new InvariantMonitor(cluster.kubeconfig);
    monitor.start();
    say('linkerd-cert-rotator rotate (the invariant monitor samples the mesh meanwhile)');
    const code = await rotator(cluster.kubeconfig, ['rotate', '--force']);
    await monitor.stop();
    say('linkerd-cert-rotator status (after)');
    const status = await rotator(cluster.kubeconfig, ['status']);
    say('verdict');
    process.stdout.write(`rotate exit code ${code}; status exit code ${status}\n`);
    process.stdout.write(
      `invariant monitor: ${monitor.samples} samples, ${monitor.violations.length} violations${monitor.violations.length ? `, first: ${JSON.stringify(monitor.violations[0])}` : ''}\n`,
    );
    return code === 0 && status === 0 && monitor.violations.length === 0 ? 0 : 1;
  } finally {
    await injector.stop();
    if (reuse || process.env.KEEP_CLUSTER === '1') process.stdout.write(`cluster kept: export KUBECONFIG=${cluster.kubeconfig}\n`);
    else clusterDown(cluster.stateDir);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
