import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The repository root: the nearest folder above this file holding scripts/cluster (works from sources and from .build/). */
export const repoRoot = ((): string => {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'scripts/cluster/up.sh')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

/** A running local control plane started by scripts/cluster/up.sh. */
export interface LocalCluster {
  stateDir: string;
  kubeconfig: string;
  env: Record<string, string>;
}

/** Parses the `export K='v'` lines of STATE_DIR/env. */
export function readClusterEnv(stateDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(stateDir, 'env'), 'utf8').split('\n')) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match?.[1]) env[match[1]] = (match[2] ?? '').replace(/^'(.*)'$/, '$1');
  }
  return env;
}

/** The environment of every up.sh run (clusterUp and startCluster): one place for the harness's cluster options. */
function upEnv(): NodeJS.ProcessEnv {
  // The audit log of Secret requests is on unless told otherwise: keyless.test.ts proves from it who received a key.
  return { ...process.env, LCR_AUDIT: process.env.LCR_AUDIT ?? '1' };
}

/** Brings a fresh cluster up (building binaries on a cold cache). Output goes to the terminal. */
export function clusterUp(stateDir = mkdtempSync(join(tmpdir(), 'lcr-e2e-'))): LocalCluster {
  const result = spawnSync('bash', [join(repoRoot, 'scripts/cluster/up.sh'), stateDir], { stdio: ['ignore', 'inherit', 'inherit'], env: upEnv() });
  if (result.status !== 0) throw new Error(`scripts/cluster/up.sh failed with exit code ${String(result.status)}`);
  return { stateDir, kubeconfig: join(stateDir, 'kubeconfig'), env: readClusterEnv(stateDir) };
}

/** Builds whatever binaries the cache lacks (build.sh holds no lock: run it once before starting clusters side by side). */
export function buildClusterBinaries(): void {
  const result = spawnSync('bash', [join(repoRoot, 'scripts/cluster/build.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`scripts/cluster/build.sh failed with exit code ${String(result.status)}`);
}

/**
 * Brings a fresh cluster up without blocking, so that several start side by side (up.sh claims
 * their ports under a lock). Its output goes to stderr, each line prefixed with `label`.
 */
export function startCluster(stateDir: string, label: string): Promise<LocalCluster> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, 'scripts/cluster/up.sh'), stateDir], { stdio: ['ignore', 'pipe', 'pipe'], env: upEnv() });
    let partial = '';
    const relay = (chunk: Buffer): void => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) process.stderr.write(`${label} ${line}\n`);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('error', reject);
    child.on('close', (code) => {
      if (partial) process.stderr.write(`${label} ${partial}\n`);
      if (code === 0) resolve({ stateDir, kubeconfig: join(stateDir, 'kubeconfig'), env: readClusterEnv(stateDir) });
      else reject(new Error(`scripts/cluster/up.sh ${stateDir} failed with exit code ${String(code)}`));
    });
  });
}

/** Stops only the processes the cluster started. */
export function clusterDown(stateDir: string): void {
  spawnSync('bash', [join(repoRoot, 'scripts/cluster/down.sh'), stateDir], { stdio: ['ignore', 'inherit', 'inherit'] });
}
