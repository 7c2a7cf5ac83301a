import { e2eKubeconfig } from './env.js';
import { runRotator } from './rotator.js';

/** Status exit code and parsed report. */
export async function statusOf(kubeconfig = e2eKubeconfig()): Promise<{ code: number | null; report: { health: string; phase: string; stale: unknown[] } }> {
  const run = await runRotator(kubeconfig, ['status', '--output', 'json']);
  return { code: run.code, report: JSON.parse(run.stdout) as { health: string; phase: string; stale: unknown[] } };
}

/** Lets a test file start from (and leave) a finished rotation, whatever the previous file did. */
export async function ensureSteady(kubeconfig = e2eKubeconfig()): Promise<void> {
  const { report } = await statusOf(kubeconfig);
  if (report.phase === 'steady') return;
  const run = await runRotator(kubeconfig, ['rotate']);
  if (run.code !== 0) throw new Error(`could not bring the cluster back to steady (exit ${String(run.code)}): ${run.stderr.slice(-2000)}`);
}
