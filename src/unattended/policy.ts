import { shortFingerprint } from '../certs/index.js';
import { derivePlan, type Phase } from '../rotation/plan.js';
import type { ObservedState } from '../rotation/state.js';
import { formatDuration } from './text.js';

/** When a new rotation (a new trust anchor) is due. */
export interface RotationPolicy {
  /** Rotate once the anchor is this old (ms since its notBefore). */
  rotateAfterMs: number;
  /** Rotate once the anchor expires within this long. */
  rotateBeforeExpiryMs: number;
  /** Start a new rotation whatever the anchor's age. */
  force: boolean;
}

/** What the policy decided for one run, and why, in words for logs, Events and notifications. */
export interface PolicyDecision {
  /** Whether a new rotation may start (only matters in a steady state). */
  startNew: boolean;
  due: boolean;
  forced: boolean;
  /** A previous rotation is unfinished: it is finished whatever the policy says. */
  unfinished: boolean;
  phase: Phase;
  /** When the current anchor becomes due. */
  dueAt: Date;
  reason: string;
  anchor: { fingerprint: string; notBefore: Date; notAfter: Date };
}

/** The moment an anchor becomes due: old enough, or close enough to its expiry, whichever comes first. */
export function rotationDueAt(anchor: { notBefore: Date; notAfter: Date }, policy: Pick<RotationPolicy, 'rotateAfterMs' | 'rotateBeforeExpiryMs'>): Date {
  return new Date(Math.min(anchor.notBefore.getTime() + policy.rotateAfterMs, anchor.notAfter.getTime() - policy.rotateBeforeExpiryMs));
}

/**
 * Decides whether this run starts a new rotation. Pure: the anchor's dates, the phase the
 * cluster is in, the policy and `now`. An unfinished rotation is never blocked by the policy
 * (the plan finishes it); a new one starts only when due or forced.
 * @internal exported for its unit tests
 */
export function decideRotation(
  input: { anchor: { fingerprint: string; notBefore: Date; notAfter: Date }; phase: Phase; now: Date },
  policy: RotationPolicy,
): PolicyDecision {
  const { anchor, phase, now } = input;
  const dueAt = rotationDueAt(anchor, policy);
  const age = now.getTime() - anchor.notBefore.getTime();
  const left = anchor.notAfter.getTime() - now.getTime();
  const due = now.getTime() >= dueAt.getTime();
  const unfinished = phase !== 'steady';
  const a = shortFingerprint(anchor.fingerprint);
  const limits = `rotate after ${formatDuration(policy.rotateAfterMs)} or within ${formatDuration(policy.rotateBeforeExpiryMs)} of expiry`;
  const base = { due, forced: policy.force, unfinished, phase, dueAt, anchor };
  if (unfinished) {
    return {
      ...base,
      startNew: false,
      reason: `the last rotation is unfinished (phase ${phase}): this run finishes it; a new rotation starts only from a steady state`,
    };
  }
  if (policy.force) return { ...base, startNew: true, reason: `--force: rotating anchor ${a} (${formatDuration(age)} old) regardless of the policy` };
  if (due) {
    const why = age >= policy.rotateAfterMs ? `is ${formatDuration(age)} old` : `expires in ${formatDuration(left)}`;
    return { ...base, startNew: true, reason: `anchor ${a} ${why}: a rotation is due (${limits})` };
  }
  return {
    ...base,
    startNew: false,
    reason: `anchor ${a} is ${formatDuration(age)} old and expires in ${formatDuration(left)}: not due until ${dueAt.toISOString()} (${limits}); pass --force to rotate now`,
  };
}

/**
 * The `startNew` callback for `rotate`: decides from the first observed state (rotate's result
 * carries the decision) and tells `onDecision` at once, before the plan is reported (Events).
 */
export function policyGate(policy: RotationPolicy, onDecision?: (decision: PolicyDecision) => void): (state: ObservedState) => PolicyDecision {
  return (state) => {
    const phase = derivePlan(state, { startNew: false }).phase;
    const { fingerprint, notBefore, notAfter } = state.anchor.cert;
    const decision = decideRotation({ anchor: { fingerprint, notBefore, notAfter }, phase, now: state.now }, policy);
    onDecision?.(decision);
    return decision;
  };
}
