import { shortFingerprint } from '../certs/index.js';
import { bundleMismatches, expectedBundle, previousTrimmed, stalePods, type Purpose } from './gates.js';
import type { Plan, StepName } from './plan.js';
import type { ObservedState } from './state.js';

/** The single tasks a person may run alone (renew-certs split by the certificate it renews). */
export type Task = 'renew-anchor' | 'renew-issuer' | 'restart-control-plane' | 'restart-data-plane' | 'update-bundle';

/**
 * What a single task may do in the phase the cluster is in: run (perhaps with a note to log),
 * change nothing because nothing is due, or be refused because it would break the invariant
 * (every proxy trusts the anchor behind every other proxy's leaf) or undo the rotation's order.
 */
export type TaskVerdict = { verdict: 'run'; note?: string } | { verdict: 'no-op'; reason: string } | { verdict: 'refuse'; reason: string };

/** The command a person runs for a plan step. */
const commandFor: Record<StepName, string> = {
  'renew-anchor': 'renew-certs --which anchor',
  'wait-bundle': 'rotate (it waits for trust-manager to write the bundle)',
  'restart-control-plane': 'restart-control-plane',
  'restart-data-plane': 'restart-data-plane',
  'renew-issuer': 'renew-certs --which issuer',
  'update-bundle': 'update-bundle',
};

const refuse = (reason: string): TaskVerdict => ({ verdict: 'refuse', reason });

/** "run X" for the next step of the plan, or rotate when nothing is planned. */
function nextCommand(plan: Plan): string {
  const step = plan.steps[0];
  return step ? `the next step is ${step.name}: run ${commandFor[step.name]} (or rotate)` : 'run rotate';
}

/**
 * A gate judged now: met, awaited (the only stale pods are terminating: a rollout is finishing),
 * or refused with the pods that must restart first and the commands that restart them.
 */
function gate(state: ObservedState, purpose: Purpose, what: string): TaskVerdict {
  const stale = stalePods(state, purpose).filter((s) => !s.pod.pod.terminating);
  if (stale.length === 0) return { verdict: 'run' };
  const held = stale.filter((s) => s.pod.hold);
  const examples = stale.slice(0, 3).map((s) => `${s.pod.pod.namespace}/${s.pod.pod.name} (${s.pod.owner}): ${s.reason}`);
  const remedy = held.length === stale.length ? 'restart them by hand (the rotator may not)' : 'run restart-control-plane, then restart-data-plane';
  return refuse(`${what} is not met: ${stale.length} meshed pod(s) must restart first, e.g. ${examples.join('; ')}; ${remedy}`);
}

/** How a verdict names where it was judged: the phase ("phase steady") and the current anchor's short fingerprint. */
interface Where {
  at: string;
  anchor: string;
}

type Judge = (state: ObservedState, plan: Plan, where: Where) => TaskVerdict;

const judgeRenewAnchor: Judge = (_state, plan, { at }) => {
  const { phase } = plan;
  if (phase === 'anchor-renewing') return { verdict: 'run', note: 'the anchor is already being re-issued: awaiting that issuance' };
  if (phase !== 'steady')
    return refuse(`refusing to renew the trust anchor in ${at}: the last rotation is unfinished (${plan.summary}); run rotate to finish it`);
  if (plan.steps[0]?.name !== 'renew-anchor') return refuse(`refusing to renew the trust anchor in ${at}: ${nextCommand(plan)}`);
  return { verdict: 'run' };
};

const judgeRenewIssuer: Judge = (state, plan, { at, anchor }) => {
  const { phase } = plan;
  if (phase === 'inconsistent')
    return refuse(`refusing to renew the issuer alone in ${at}: ${plan.summary}; the restarts must follow the renewal at once, so run rotate`);
  if (phase === 'anchor-renewing')
    return refuse(
      `refusing to renew the issuer in ${at}: the trust anchor is being re-issued and the issuer would be signed by either anchor; run rotate (or renew-certs --which anchor to await the anchor)`,
    );
  if (phase === 'issuer-renewing') return { verdict: 'run', note: 'the issuer is already being re-issued: awaiting that issuance' };
  return gate(state, 'trust-new-anchor', `refusing to renew the issuer in ${at}: gate 1 (every meshed pod trusts anchor ${anchor})`);
};

const judgeRestart =
  (task: 'restart-control-plane' | 'restart-data-plane'): Judge =>
  (state, plan, { at, anchor }) => {
    const { phase } = plan;
    const restart = `refusing to ${task.replace('-', ' ')} in ${at}`;
    const mismatches = state.bundle.targets.length === 0 ? ['no target namespace'] : bundleMismatches(state, expectedBundle(state));
    if (phase === 'anchor-renewing')
      return refuse(
        `${restart}: the trust anchor is being re-issued and the bundle is about to change; run rotate (or renew-certs --which anchor to await the anchor)`,
      );
    if (phase === 'inconsistent')
      return refuse(
        `${restart}: proxies started now would trust only anchor ${anchor}, which the issuer's leaves do not chain to; run rotate (it renews the issuer first)`,
      );
    if (mismatches.length > 0)
      return refuse(
        `${restart}: the bundle is not settled (${mismatches.slice(0, 3).join('; ')}), so proxies would start with the wrong trust anchors; wait for trust-manager, or run rotate (it waits)`,
      );
    return { verdict: 'run' };
  };

const judgeUpdateBundle: Judge = (state, plan, { at, anchor }) => {
  const { phase } = plan;
  if (phase === 'inconsistent')
    return refuse(
      `refusing to update the bundle in ${at}: it holds only anchor ${anchor} already, and the issuer does not chain to it; run rotate to repair that (it renews the issuer, then restarts the mesh)`,
    );
  if (phase === 'anchor-renewing' || phase === 'anchor-renewed' || phase === 'issuer-renewing') {
    return refuse(
      `refusing to drop the old anchor in ${at}: the issuer does not chain to the current anchor ${anchor} yet, so every leaf it signs would lose its trust; ${nextCommand(plan)}`,
    );
  }
  if (phase === 'issuer-renewed')
    return gate(
      state,
      'adopt-new-issuer',
      `refusing to drop the old anchor in ${at}: gate 2 (every meshed pod started after the identity controller ran with the new issuer)`,
    );
  // steady or bundle-trimmed: the bundle already holds the current anchor alone.
  return previousTrimmed(state) && state.previous.certs.length > 0 && cleanSecret(state)
    ? { verdict: 'no-op', reason: `the previous-anchor Secret already holds only the current anchor ${anchor} (${at}): nothing to write` }
    : {
        verdict: 'run',
        note: 'the bundle holds only the current anchor: rewriting the previous-anchor Secret as a clean certificate-only object, which changes no anchor',
      };
};

const judges: Record<Task, Judge> = {
  'renew-anchor': judgeRenewAnchor,
  'renew-issuer': judgeRenewIssuer,
  'restart-control-plane': judgeRestart('restart-control-plane'),
  'restart-data-plane': judgeRestart('restart-data-plane'),
  'update-bundle': judgeUpdateBundle,
};

/**
 * Decides, from the observed state and the plan derived from it, whether a single task may run.
 * A pure function of its inputs: the table of every task in every phase is its unit test, and
 * the README's Commands section says the same in words.
 */
export function judgeTask(task: Task, state: ObservedState, plan: Plan): TaskVerdict {
  return judges[task](state, plan, { at: `phase ${plan.phase}`, anchor: shortFingerprint(state.anchor.cert.fingerprint) });
}

const cleanSecret = (state: ObservedState): boolean => {
  const secret = state.previous.secret;
  return secret !== undefined && !secret.hasPrivateKey && secret.type === 'Opaque' && !secret.hasCertManagerMetadata;
};

/** Which certificate `renew-certs` (without --which) renews: the next one in the safe order. */
export function nextRenewal(plan: Plan): 'anchor' | 'issuer' | undefined {
  const step = plan.steps[0]?.name;
  if (step === 'renew-anchor' || plan.phase === 'anchor-renewing') return 'anchor';
  if (step === 'renew-issuer' || plan.phase === 'anchor-renewed' || plan.phase === 'issuer-renewing' || plan.phase === 'inconsistent') return 'issuer';
  return undefined;
}

/** Why `renew-certs` has nothing to renew now, naming what to run instead. */
export function nothingToRenew(plan: Plan): string {
  return `no certificate is due in the safe order now (phase ${plan.phase}); ${nextCommand(plan)}`;
}
