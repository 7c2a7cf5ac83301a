import type { RotatorConfig } from '../config.js';
import { anchorTarget, issuerTarget, type RenewTarget } from '../rotation/renew.js';
import { planRotation } from '../rotation/rotate.js';
import { renewAnchor, renewIssuer, waitForBundle } from '../rotation/steps.js';
import { decideRenewal, type RenewalRequest } from '../rotation/task-request.js';
import { contextOf, mayRun, type CommandDeps, type NothingToDo } from './deps.js';

/** `renew-certs`: the next certificate in the safe order, or one by name. */
export interface RenewCertsOptions {
  config: RotatorConfig;
  dryRun: boolean;
  which: RenewalRequest;
}

/** What renew-certs did, or would do (dry run). */
export type RenewCertsResult = NothingToDo | { kind: 'would-renew' | 'renewed'; which: 'anchor' | 'issuer'; target: RenewTarget };

/**
 * Renews one certificate and waits until it is re-issued (the anchor: also until the bundle holds
 * old and new anchors). A request that would break the rotation's order is refused
 * (PreconditionError, nothing changed).
 */
export async function run(options: RenewCertsOptions, deps: CommandDeps): Promise<RenewCertsResult> {
  const ctx = contextOf(options.config, deps);
  const { state, plan } = await planRotation(ctx, true);
  const verdict = decideRenewal(options.which, state, plan, options.config);
  if (!mayRun(verdict, deps.logger)) return { kind: 'nothing-to-do', reason: verdict.reason };
  const { which } = verdict;
  const target = which === 'anchor' ? anchorTarget(ctx) : issuerTarget(ctx);
  if (options.dryRun) return { kind: 'would-renew', which, target };
  if (which === 'anchor') {
    await renewAnchor(ctx);
    // The restarts that come next refuse an unsettled bundle: finish the task with old and new anchor in it.
    await waitForBundle(ctx);
  } else await renewIssuer(ctx);
  return { kind: 'renewed', which, target };
}
