import type { RotatorConfig } from '../config.js';
import { rotate, type RotationResult } from '../rotation/rotate.js';
import { policyGate, type PolicyDecision, type RotationPolicy } from '../unattended/policy.js';
import type { RunHooks } from '../unattended/supervise.js';
import { contextOf, type CommandDeps } from './deps.js';

/** `rotate` on one cluster. */
export interface RotateOptions {
  config: RotatorConfig;
  dryRun: boolean;
  /** When a new rotation may start from a steady state. */
  policy: RotationPolicy;
}

/** The rotation's result with the policy's decision (from the first look at the cluster). */
export type RotateResult = RotationResult<PolicyDecision>;

/**
 * The whole safe rotation from whatever state the cluster is in, or (dry run) its plan. The
 * policy decides whether a new rotation starts; the hooks hear the decision and every step.
 */
export function run(options: RotateOptions, deps: CommandDeps & { hooks?: RunHooks }): Promise<RotateResult> {
  const { hooks } = deps;
  const startNew = policyGate(options.policy, hooks ? (decision) => hooks.decided(decision) : undefined);
  return rotate(contextOf(options.config, deps), { dryRun: options.dryRun, startNew, hooks });
}
