import type { Health, StatusReport } from '../status/report.js';
import { buildStatus, renderStatus } from '../status/report.js';
import { deriveFleetPlan, type Barrier, type FleetPlan } from './plan.js';
import { observeFleet, type FleetMember } from './rotate.js';

/** One cluster in the multicluster status. */
type ClusterStatus =
  | { name: string; role: 'primary' | 'peer'; health: Health; phase: StatusReport['phase']; stale: StatusReport['stale']; report: StatusReport }
  | { name: string; role: 'primary' | 'peer'; health: 'broken'; phase: 'unreachable'; stale: []; error: string };

/** `status` across linked clusters: each cluster's report, the fleet's phase and the barrier that holds. */
export interface FleetStatus {
  health: Health;
  phase: FleetPlan['phase'];
  summary: string;
  /** The barrier the fleet's next step waits on, or that an unreadable cluster holds. */
  barrier?: Barrier;
  next?: string;
  clusters: ClusterStatus[];
}

const worst = (healths: readonly Health[]): Health => (healths.includes('broken') ? 'broken' : healths.includes('warning') ? 'warning' : 'healthy');

/** Reads every cluster and reports; a cluster that cannot be read is broken (its trust cannot be judged). */
export async function fleetStatus(members: readonly FleetMember[]): Promise<FleetStatus> {
  const { views } = await observeFleet(members);
  const plan = deriveFleetPlan(views, { startNew: false });
  const clusters = views.map((view): ClusterStatus => {
    if (!view.state) return { name: view.name, role: view.role, health: 'broken', phase: 'unreachable', stale: [], error: view.unreachable };
    const member = members.find((m) => m.name === view.name) as FleetMember;
    // Links are judged across the run (fleetRefusals), not as a single cluster's refusal.
    const report = buildStatus({ ...view.state, links: [] }, member.ctx.config.expiryWarningDays, member.ctx.config);
    return { name: view.name, role: view.role, health: report.health, phase: report.phase, stale: report.stale, report };
  });
  const next = plan.next ? `${plan.next.kind === 'copy-anchor' ? 'copy-anchor' : plan.next.step.name} in ${plan.next.cluster}` : undefined;
  return { health: worst(clusters.map((c) => c.health)), phase: plan.phase, summary: plan.summary, barrier: plan.barrier, next, clusters };
}

/** The text form: the fleet line, then each cluster's own report under its name. */
export function renderFleetStatus(status: FleetStatus): string {
  const head = [
    `health: ${status.health.toUpperCase()} across ${status.clusters.length} clusters (${status.phase})`,
    status.summary,
    ...(status.barrier ? [`barrier: ${status.barrier}`] : []),
    ...(status.next ? [`next: ${status.next}`] : []),
  ];
  const parts = status.clusters.map((c) =>
    c.phase === 'unreachable'
      ? `== cluster ${c.name} (${c.role}): UNREACHABLE\n${c.error}`
      : `== cluster ${c.name} (${c.role}): ${c.stale.length} stale pod(s)\n${renderStatus(c.report)}`,
  );
  return [head.join('\n'), ...parts].join('\n\n');
}
