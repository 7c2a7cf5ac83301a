import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One measured run of the built CLI. */
export interface MeasuredRun {
  code: number | null;
  wallMs: number;
  startedAt: number;
  /** Peak resident set size of the rotator process, KiB (GNU time's %M), when /usr/bin/time exists. */
  peakRssKiB?: number;
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
  const [command, ...argv] = existsSync(gnuTime) ? [gnuTime, '-f', '%M', '-o', rssFile, ...node] : node;
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
  if (existsSync(rssFile)) {
    const value = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
    if (Number.isFinite(value) && value > 0) peakRssKiB = value;
  }
  rmSync(dir, { recursive: true, force: true });
  return { code, wallMs, startedAt, peakRssKiB, logs, stdout, stderr };
}
