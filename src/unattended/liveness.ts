import type { HolderProbe, HolderRef } from './ports.js';

/**
 * Tells whether a lock holder still runs: its pod (gone or finished means no), or its process
 * when it ran on this very host (signal 0 finds out without touching it). Anything else cannot
 * be told, and the Lease's expiry decides.
 */
export class HolderLiveness implements HolderProbe {
  constructor(
    private readonly pods: { podAlive(namespace: string, name: string): Promise<boolean> },
    private readonly host: { hostname: string; processAlive?: (pid: number) => boolean },
  ) {}

  alive(ref: HolderRef): Promise<boolean | undefined> {
    if (ref.kind === 'pod') return this.pods.podAlive(ref.namespace, ref.name);
    if (ref.host !== this.host.hostname) return Promise.resolve(undefined);
    return Promise.resolve((this.host.processAlive ?? processAlive)(ref.pid));
  }
}

/**
 * Whether a process with this pid exists (EPERM: it does, owned by someone else).
 * @internal exported for its unit tests
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
