import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

/** One measured run of the built CLI. */
export interface MeasuredRun {
  code: number | null;
  wallMs: number;
  startedAt: number;
  /** Peak resident set size of the rotator process, KiB (GNU time's %M), when /usr/bin/time exists. */
  peakRssKiB?: number;
  /** User + system CPU seconds of the rotator process (GNU time's %U + %S), when /usr/bin/time exists. */
  cpuSeconds?: number;
  logs: Record<string, unknown>[];
  stdout: string;
  stderr: string;
}

const gnuTime = '/usr/bin/time';

/**
 * Runs `node ENTRY ARGS` (the built CLI) with JSON logs, under GNU time for its peak RSS
 * (the child's own maximum resident set, the node process alone).
 */
export async function measureRotator(entry: string, kubeconfig: string, args: string[], env: Record<string, string> = {}): Promise<MeasuredRun> {
  const dir = mkdtempSync(join(tmpdir(), 'lcr-bench-run-'));
  const rssFile = join(dir, 'rss');
  const node = [process.execPath, entry, ...args];
  const [command, ...argv] = existsSync(gnuTime) ? [gnuTime, '-f', '%M %U %S', '-o', rssFile, ...node] : node;
  const startedAt = Date.now();
  const child = spawn(command ?? process.execPath, argv, {
    env: { PATH: process.env.PATH ?? '', LCR_KUBECONFIG: kubeconfig, LCR_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const wallMs = Date.now() - startedAt;
  const logs = stderr.split('\n').flatMap((line) => {
    try {
      return line.startsWith('{') ? [JSON.parse(line) as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
  let peakRssKiB: number | undefined;
  let cpuSeconds: number | undefined;
  if (existsSync(rssFile)) {
    const [rss, user, system] = (readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
    if (rss !== undefined && Number.isFinite(rss) && rss > 0) peakRssKiB = rss;
    if (user !== undefined && system !== undefined && Number.isFinite(user + system)) cpuSeconds = user + system;
  }
  rmSync(dir, { recursive: true, force: true });
  return { code, wallMs, startedAt, peakRssKiB, cpuSeconds, logs, stdout, stderr };
}

/** Fails the benchmark unless the measured `rotate` exited 0 and ran a rotation (a no-op run measures nothing). */
export function expectRotated(label: string, run: MeasuredRun): void {
  if (run.code !== 0) throw new Error(`${label}: rotate exited ${String(run.code)}:\n${run.stderr.slice(-3000)}`);
  if (!run.logs.some((line) => line.message === 'rotation complete')) throw new Error(`${label}: rotate ran no rotation:\n${run.stdout}`);
}

/** The machine a benchmark ran on, for its results file. */
export function machineFacts(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
}
