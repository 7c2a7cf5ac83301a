import type { HolderProbe, HolderRef } from './ports.js';

/** Annotation on the Lease recording where its holder runs. */
export const holderAnnotation = 'linkerd-cert-rotator.io/holder';

/** "pod:<namespace>/<name>" or "process:<host>:<pid>". */
export function formatHolderRef(ref: HolderRef): string {
  return ref.kind === 'pod' ? `pod:${ref.namespace}/${ref.name}` : `process:${ref.host}:${ref.pid}`;
}

/** The inverse of formatHolderRef; undefined for anything else (a Lease written by something else). */
export function parseHolderRef(text: string | undefined): HolderRef | undefined {
  const pod = /^pod:([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(text ?? '');
  if (pod) return { kind: 'pod', namespace: pod[1] as string, name: pod[2] as string };
  const proc = /^process:(.+):(\d+)$/.exec(text ?? '');
  if (proc) return { kind: 'process', host: proc[1] as string, pid: Number(proc[2]) };
  return undefined;
}

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
