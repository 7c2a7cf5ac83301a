import type { FleetMember } from '../fleet/rotate.js';
import type { RunContext } from '../rotation/context.js';
import { fenceWrites } from '../unattended/lock.js';
import type { CommandDeps, FleetPorts } from './deps.js';

/** The members of a multicluster run: the primary (this cluster) first, each peer with its own context. */
export function fleetMembers(clusterName: string | undefined, deps: CommandDeps, ctx: RunContext, fleet: FleetPorts): FleetMember[] {
  const primaryName = clusterName ?? 'primary';
  const primary: FleetMember = {
    name: primaryName,
    role: 'primary',
    ctx: { ...ctx, logger: deps.logger.child({ cluster: primaryName }) },
    keys: fleet.primaryKeys,
  };
  const peers = fleet.peers.map((peer): FleetMember => {
    const cluster = deps.fence ? fenceWrites(peer.cluster, deps.fence) : peer.cluster;
    return {
      name: peer.name,
      role: 'peer',
      ctx: { ...ctx, cluster, config: { ...ctx.config, anchorSource: 'copy' }, logger: deps.logger.child({ cluster: peer.name }) },
      keys: cluster,
    };
  });
  return [primary, ...peers];
}
