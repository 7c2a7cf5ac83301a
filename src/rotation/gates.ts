import type { ParsedCert } from '../certs/index.js';
import { fingerprints } from '../certs/index.js';
import type { ObservedState, StatePod } from './state.js';

/**
 * Why a rotation restarts pods:
 * - `trust-new-anchor`: every proxy must carry a bundle holding the new anchor (gate before the issuer renewal);
 * - `adopt-new-issuer`: every proxy must have started after the identity controller ran with the new issuer
 *   (gate before the old anchor is dropped);
 * - `drop-old-anchor`: every proxy must carry exactly the trimmed bundle.
 */
export type Purpose = 'trust-new-anchor' | 'adopt-new-issuer' | 'drop-old-anchor';

/** A pod that does not yet meet a purpose, and why. */
export interface StalePod {
  pod: StatePod;
  reason: string;
}

const podTime = (pod: StatePod): Date => new Date(pod.pod.startedAtMs ?? pod.pod.createdAtMs);

/**
 * Kubernetes timestamps and certificate validity have whole-second precision: a moment stamped
 * in the same second as `reference` may have come before it, so only a later second is surely after.
 * @internal exported for its unit tests
 */
export function notSurelyAfter(moment: Date, reference: Date): boolean {
  return moment < nextSecond(reference);
}

/** The start of the whole second after the one `moment` falls in. */
const nextSecond = (moment: Date): Date => new Date(Math.floor(moment.getTime() / 1000) * 1000 + 1000);

/**
 * The moment since which the identity controller has been running with the current issuer:
 * every identity pod started after the issuer was issued and is ready. Undefined if not (yet).
 * @internal exported for its unit tests
 */
export function identityAdoptedSince(state: Pick<ObservedState, 'pods' | 'issuer'>): Date | undefined {
  const identity = state.pods.filter((p) => p.role === 'identity' && !p.pod.terminating);
  if (identity.length === 0) return undefined;
  const issued = state.issuer.cert.notBefore.getTime();
  let since = 0;
  for (const p of identity) {
    if (!p.pod.ready || p.pod.readySinceMs === undefined || notSurelyAfter(podTime(p), new Date(issued))) return undefined;
    since = Math.max(since, p.pod.readySinceMs);
  }
  return new Date(since);
}

/** Pods that do not yet meet `purpose` in this state. */
export function stalePods(state: Pick<ObservedState, 'pods' | 'issuer' | 'anchor'>, purpose: Purpose): StalePod[] {
  const anchor = state.anchor.cert.fingerprint;
  switch (purpose) {
    case 'trust-new-anchor':
      return state.pods.flatMap((pod) => {
        if (!pod.anchors) return [{ pod, reason: pod.anchorsProblem ?? 'trust anchors unreadable' }];
        return pod.anchors.has(anchor) ? [] : [{ pod, reason: 'its bundle lacks the new trust anchor' }];
      });
    case 'adopt-new-issuer': {
      const issued = state.issuer.cert.notBefore;
      const since = identityAdoptedSince(state);
      const anchorMissing = (pod: StatePod): boolean => !pod.anchors?.has(anchor);
      return state.pods.flatMap((pod) => {
        // A proxy that does not trust the new anchor cannot verify new leaves, however late it started.
        if (anchorMissing(pod))
          return [{ pod, reason: pod.anchors ? 'its bundle lacks the new trust anchor' : (pod.anchorsProblem ?? 'trust anchors unreadable') }];
        if (pod.role === 'identity') {
          return notSurelyAfter(podTime(pod), issued) ? [{ pod, reason: 'identity controller started before the current issuer was issued' }] : [];
        }
        if (!since) return [{ pod, reason: 'the identity controller is not yet running with the current issuer' }];
        // Judged by creation, not start: a pod created before the adoption (a slow rollout, an
        // outage) may have been set up against the old issuer; one more restart costs little.
        return notSurelyAfter(new Date(pod.pod.createdAtMs), since)
          ? [{ pod, reason: 'created before the identity controller ran with the current issuer' }]
          : [];
      });
    }
    case 'drop-old-anchor':
      return state.pods.flatMap((pod) => {
        if (!pod.anchors) return [{ pod, reason: pod.anchorsProblem ?? 'trust anchors unreadable' }];
        return pod.anchors.size === 1 && pod.anchors.has(anchor) ? [] : [{ pod, reason: 'its bundle still holds another anchor than the current one' }];
      });
  }
}

/**
 * When restarts for `purpose` may begin so that the pods they create are surely after what the
 * gate compares them with (see notSurelyAfter): the second after the issuance for the identity
 * controller, the second after identity adopted the issuer for everything else. A restart for
 * no purpose (the restart tasks run alone) must satisfy gate 2 as well. Undefined: at once.
 */
export function restartNotBefore(state: Pick<ObservedState, 'pods' | 'issuer'>, purpose: Purpose | undefined, identity: boolean): Date | undefined {
  if (purpose !== undefined && purpose !== 'adopt-new-issuer') return undefined;
  const reference = identity ? state.issuer.cert.notBefore : identityAdoptedSince(state);
  return reference && nextSecond(reference);
}

/** Stale pods that a restart in this run can still fix (not terminating, owned by a restartable workload). */
export function restartableKeys(stale: readonly StalePod[]): Set<string> {
  return new Set(stale.filter((s) => !s.pod.pod.terminating && s.pod.workloadKey && !s.pod.hold).map((s) => s.pod.workloadKey as string));
}

/**
 * The previous-anchor Secret keeps no other anchor in the bundle: it holds the current anchor alone,
 * or nothing (a fresh install whose Secret was created empty): the bundle is trimmed.
 */
export function previousTrimmed(state: Pick<ObservedState, 'anchor' | 'previous'>): boolean {
  return state.previous.certs.every((cert) => cert.fingerprint === state.anchor.cert.fingerprint);
}

/** The anchors every target ConfigMap must hold: the current anchor and the previous ones. */
export function expectedBundle(state: Pick<ObservedState, 'anchor' | 'previous'>): ParsedCert[] {
  const seen = new Set<string>();
  return [state.anchor.cert, ...state.previous.certs].filter((cert) => (seen.has(cert.fingerprint) ? false : (seen.add(cert.fingerprint), true)));
}

/** Targets that do not hold exactly `expected` yet. A bundle that selects no namespace is never settled. */
export function bundleMismatches(state: Pick<ObservedState, 'bundle'>, expected: readonly ParsedCert[]): string[] {
  const want = fingerprints(expected);
  if (state.bundle.targets.length === 0) return [`${state.bundle.view.kind} ${state.bundle.view.name} selects no namespace`];
  return state.bundle.targets.flatMap((target) => {
    if (!target.certs) return [`${target.namespace}: ${target.problem ?? 'missing'}`];
    const have = fingerprints(target.certs);
    const same = have.size === want.size && [...want].every((fp) => have.has(fp));
    return same ? [] : [`${target.namespace}: holds ${have.size} anchor(s), not the expected ${want.size}`];
  });
}

/** "ns/pod (Deployment/web): reason" lines grouped for reports. */
export function describeStale(stale: readonly StalePod[]): { namespace: string; name: string; owner: string; reason: string }[] {
  return stale.map((s) => ({
    namespace: s.pod.pod.namespace,
    name: s.pod.pod.name,
    owner: s.pod.owner,
    reason: s.pod.hold ? `${s.reason}; ${s.pod.hold}` : s.reason,
  }));
}
