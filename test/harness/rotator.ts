import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './cluster.js';

export interface RotatorRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Parsed JSON log lines (stderr). */
  logs: Record<string, unknown>[];
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Kill the process (SIGKILL, as a node loss would) when a log line matches. */
  killWhen?: (line: Record<string, unknown>) => boolean;
  /** Called with every log line as it arrives (to act at a chosen moment of the run, e.g. stop an apiserver). */
  onLine?: (line: Record<string, unknown>) => void;
  /** Send SIGTERM when a log line matches. */
  termWhen?: (line: Record<string, unknown>) => boolean;
  timeoutMs?: number;
}

/** Runs the built binary (dist/cli/main.js) against the test cluster, as a user would. */
export async function runRotator(kubeconfig: string, args: string[], options: RunOptions = {}): Promise<RotatorRun> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist/cli/main.js'), ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      LCR_KUBECONFIG: kubeconfig,
      LCR_LOG_FORMAT: 'json',
      LCR_POLL_INTERVAL: '250ms',
      LCR_LOG_LEVEL: 'debug',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const logs: Record<string, unknown>[] = [];
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stderr += text;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        options.onLine?.(entry);
        if (options.killWhen?.(entry)) child.kill('SIGKILL');
        if (options.termWhen?.(entry)) child.kill('SIGTERM');
      } catch {
        // not a log line
      }
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  return { code, signal, stdout, stderr, logs };
}
