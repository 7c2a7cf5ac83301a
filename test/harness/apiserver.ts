import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { readClusterEnv } from './cluster.js';

/**
 * A real apiserver outage: stops a component that scripts/cluster/up.sh started (by the pid it
 * recorded) and starts it again with the same binary and flags, the way up.sh does (own
 * session, same pid and log files), so that down.sh still stops it.
 */
export interface Stopped {
  /** Starts the component again with its old flags. */
  start(): Promise<void>;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** True once `url` answers 200 (with the admin client certificate and the cluster CA, or any certificate when `insecure`). */
function answers(url: URL, stateDir: string, insecure = false): Promise<boolean> {
  const env = readClusterEnv(stateDir);
  const tls = insecure
    ? { rejectUnauthorized: false }
    : { ca: readFileSync(env.LCR_CA_CERT ?? ''), cert: readFileSync(env.LCR_ADMIN_CERT ?? ''), key: readFileSync(env.LCR_ADMIN_KEY ?? '') };
  return new Promise((resolve) => {
    const done = (res: { statusCode?: number; resume: () => void }): void => {
      res.resume();
      resolve(res.statusCode === 200);
    };
    const req = url.protocol === 'http:' ? httpRequest(url, { timeout: 2_000 }, done) : request(url, { ...tls, timeout: 2_000 }, done);
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** True once the apiserver's /readyz answers 200. */
export function apiserverReady(stateDir: string): Promise<boolean> {
  return answers(new URL('/readyz', readClusterEnv(stateDir).LCR_APISERVER_URL), stateDir);
}

async function readyWithin(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within 60 s after its restart`);
    await sleep(250);
  }
}

/** Stops one component of the local cluster (SIGTERM, SIGKILL after 15 s); returns how to start it again. */
export async function stopComponent(stateDir: string, name: string): Promise<Stopped> {
  const pidFile = join(stateDir, `pids/${name}.pid`);
  const exeFile = join(stateDir, `pids/${name}.exe`);
  const exe = readFileSync(exeFile, 'utf8').trim();
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '') !== exe) {
    throw new Error(`pid ${pid} in ${pidFile} is not the cluster's ${name}`);
  }
  // argv[0] is the binary; the trailing NUL leaves an empty last element.
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(1, -1);
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; alive(pid); waited += 100) {
    if (waited === 15_000) process.kill(pid, 'SIGKILL');
    await sleep(100);
  }
  return {
    start() {
      const log = openSync(join(stateDir, `logs/${name}.log`), 'a');
      // As up.sh: a new session whose shell records its pid, then execs the binary.
      const child = spawn('setsid', ['bash', '-c', 'echo $$ >"$1"; shift; exec "$@"', '_', pidFile, exe, ...args], {
        detached: true,
        stdio: ['ignore', log, log],
      });
      child.unref();
      closeSync(log);
      writeFileSync(exeFile, `${exe}\n`);
      return Promise.resolve();
    },
  };
}

/**
 * Stops kube-apiserver until `until` settles, starts it again and waits for /readyz. kube-scheduler,
 * kube-controller-manager and kwok are restarted after it: v1.35's scheduler did not schedule another pod after the apiserver came
 * back (observed: new pods Pending for more than 5 minutes after "Scheduler cache is
 * corrupted"), which would leave the cluster broken for the files that follow.
 * Resolves with how long the apiserver was unreachable.
 */
export async function apiserverDownUntil(stateDir: string, until: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  const apiserver = await stopComponent(stateDir, 'kube-apiserver');
  try {
    await until();
  } finally {
    await apiserver.start();
  }
  await readyWithin('kube-apiserver', () => apiserverReady(stateDir));
  const down = Date.now() - started;
  // As a control-plane upgrade does, the components that watch through the apiserver restart
  // too: kwok (the kubelets) has also been seen to stop marking new pods ready after an outage.
  const env = readClusterEnv(stateDir);
  const restarts: [string, URL, boolean][] = [
    ['kube-scheduler', new URL(`https://127.0.0.1:${env.LCR_SCHEDULER_PORT ?? ''}/healthz`), true],
    ['kube-controller-manager', new URL(`https://127.0.0.1:${env.LCR_KCM_PORT ?? ''}/healthz`), true],
    ['kwok', new URL(`http://127.0.0.1:${env.LCR_KWOK_PORT ?? ''}/healthz`), false],
  ];
  for (const [name, healthz, tls] of restarts) {
    const component = await stopComponent(stateDir, name);
    await component.start();
    await readyWithin(name, () => answers(healthz, stateDir, tls));
  }
  return down;
}

/** Stops kube-apiserver for `ms` (see {@link apiserverDownUntil}); resolves with how long it was unreachable. */
export async function apiserverOutage(stateDir: string, ms: number): Promise<number> {
  const started = Date.now();
  return apiserverDownUntil(stateDir, () => sleep(Math.max(0, ms - (Date.now() - started))));
}
