import type * as k8s from '@kubernetes/client-node';
import { statusMessage } from './errors.js';
import type { PodIdentity } from './ports.js';

/**
 * The Eviction of one pod as judged. Only the uid is a precondition: what made the pod stale
 * (the anchors in its proxy's env) is in its immutable spec, fixed for a uid, while its
 * resourceVersion moves with every status update (readiness), which would fail evictions for
 * no safety gain.
 */
export function evictionBody(pod: PodIdentity): k8s.V1Eviction {
  return {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { namespace: pod.namespace, name: pod.name },
    deleteOptions: { preconditions: { uid: pod.uid } },
  };
}

interface StatusCauses {
  details?: { causes?: { reason?: string; message?: string }[] };
}

/**
 * What the API server said when it refused an eviction (429): its message and the causes, which
 * name the disruption budget ("The disruption budget web needs 2 healthy pods and has 2 currently").
 */
export function evictionRefusal(error: unknown): string {
  const message = statusMessage(error);
  let causes: string[] = [];
  const body = typeof error === 'object' && error !== null && 'body' in error ? error.body : undefined;
  try {
    const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as StatusCauses | undefined;
    causes = (parsed?.details?.causes ?? []).map((cause) => cause.message ?? '').filter((text) => text !== '');
  } catch {
    // not JSON: the message alone
  }
  return causes.length > 0 ? `${message} (${causes.join('; ')})` : message;
}
