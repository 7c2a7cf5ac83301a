import type { RotatorConfig } from '../config.js';
import { fleetStatus, type FleetStatus } from '../fleet/status.js';
import { contextOf, type CommandDeps, type FleetPorts } from './deps.js';
import { fleetMembers } from './fleet-members.js';

/** `status --peer ...`: the report across linked clusters. */
export interface FleetStatusOptions {
  config: RotatorConfig;
  clusterName?: string;
}

/** Reads every cluster and reports each, with the fleet's phase and the barrier that holds. */
export function run(options: FleetStatusOptions, deps: CommandDeps & { fleet: FleetPorts }): Promise<FleetStatus> {
  return fleetStatus(fleetMembers(options.clusterName, deps, contextOf(options.config, deps), deps.fleet));
}
