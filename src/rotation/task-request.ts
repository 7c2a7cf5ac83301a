import type { RotatorConfig } from '../config.js';
import type { Role } from './mesh.js';
import type { Plan } from './plan.js';
import { issuerTiming } from './preflight.js';
import { startRefusals } from './rotate.js';
import type { ObservedState } from './state.js';
import { targetsFor } from './steps.js';
import { judgeTask, nextRenewal, nothingToRenew, type TaskVerdict } from './tasks.js';

/** The certificate `renew-certs` is asked for: the next in the safe order, or one by name. */
export type RenewalRequest = 'next' | 'anchor' | 'issuer';

/** What `renew-certs` does: renew one certificate (perhaps with a note to log), nothing, or refuse with the reasons. */
export type RenewalVerdict = { verdict: 'run'; which: 'anchor' | 'issuer'; note?: string } | Exclude<TaskVerdict, { verdict: 'run' }>;

/**
 * Decides a `renew-certs` request from the observed state and the plan that may start a rotation:
 * which certificate, and whether renewing it now keeps the rotation's order. Renewing the anchor
 * from a steady state starts a rotation, so it is refused for everything that would strand one
 * (as `rotate` refuses it), and when the issuer must be renewed first (its own renewal falls
 * inside the margin). Pure: the table of requests and phases is its unit test.
 */
export function decideRenewal(request: RenewalRequest, state: ObservedState, plan: Plan, config: RotatorConfig): RenewalVerdict {
  const which = request === 'next' ? nextRenewal(plan) : request;
  if (!which) return { verdict: 'refuse', reason: nothingToRenew(plan) };
  const verdict = judgeTask(which === 'anchor' ? 'renew-anchor' : 'renew-issuer', state, plan);
  if (verdict.verdict !== 'run') return verdict;
  if (which === 'anchor' && plan.phase === 'steady') {
    const timing = issuerTiming(state, config.issuerRenewalMarginMs);
    const refusals = [
      ...startRefusals(state, config),
      ...(timing.kind === 'renew-first' ? [`${timing.reason}: run renew-certs --which issuer first, or rotate`] : []),
    ];
    if (refusals.length > 0)
      return { verdict: 'refuse', reason: `refusing to renew the trust anchor, nothing was changed: ${refusals.map((r, i) => `(${i + 1}) ${r}`).join(' ')}` };
  }
  return { verdict: 'run', which, note: verdict.note };
}

/** What a restart task would touch (its dry run): the workloads it restarts, and why the others in its roles are not. */
export function restartPreview(
  state: Pick<ObservedState, 'anchor' | 'previous' | 'issuer' | 'workloads' | 'pods'>,
  roles: readonly Role[],
): { targets: string[]; held: string[] } {
  const targets = targetsFor(state, roles, undefined).map((w) => w.key);
  const held = state.workloads.filter((w) => roles.includes(w.role) && w.hold).map((w) => w.hold?.message ?? w.key);
  return { targets, held };
}
