import type { RunIdentity } from './ports.js';

const labelValue = /[^a-z0-9.-]+/g;

/**
 * The run's identity from the Downward API (POD_NAME, POD_NAMESPACE) when in a pod, else the
 * host name and process id, so that two runs never share a Lease holder identity.
 */
export function runIdentity(env: Record<string, string | undefined>, host: { hostname: string; pid: number; now: Date; random: string }): RunIdentity {
  const podName = env.POD_NAME?.trim() || undefined;
  const podNamespace = env.POD_NAMESPACE?.trim() || undefined;
  const holder = podName ?? `${host.hostname}-${host.pid}`;
  const holderRef: RunIdentity['holderRef'] =
    podName && podNamespace ? { kind: 'pod', namespace: podNamespace, name: podName } : { kind: 'process', host: host.hostname, pid: host.pid };
  // A label value (<= 63 characters of [a-z0-9.-]) that sorts by start time.
  const runId = `${host.now.getTime().toString(36)}-${host.random.toLowerCase().replace(labelValue, '')}`.slice(0, 63);
  return { holder, holderRef, runId, podName, podNamespace };
}
