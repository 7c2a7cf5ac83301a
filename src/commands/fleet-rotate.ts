import type { RotatorConfig } from '../config.js';
import { rotateFleet, type FleetResult } from '../fleet/rotate.js';
import { policyGate, type PolicyDecision, type RotationPolicy } from '../unattended/policy.js';
import type { RunHooks } from '../unattended/supervise.js';
import { contextOf, type CommandDeps, type FleetPorts } from './deps.js';
import { fleetMembers } from './fleet-members.js';

/** `rotate --peer ...`: one rotation across linked clusters. */
export interface FleetRotateOptions {
  config: RotatorConfig;
  dryRun: boolean;
  policy: RotationPolicy;
  /** This cluster's name as the peers' Links call it. */
  clusterName?: string;
}

/** The fleet's rotation result with the policy's decision. */
export type FleetRotateResult = FleetResult<PolicyDecision>;

/** The rotation over this cluster and its peers (src/fleet), or its plan (dry run). */
export function run(options: FleetRotateOptions, deps: CommandDeps & { fleet: FleetPorts; hooks?: RunHooks }): Promise<FleetRotateResult> {
  const members = fleetMembers(options.clusterName, deps, contextOf(options.config, deps), deps.fleet);
  const { hooks } = deps;
  const startNew = policyGate(options.policy, hooks ? (decision) => hooks.decided(decision) : undefined);
  return rotateFleet(members, { dryRun: options.dryRun, startNew, hooks });
}
