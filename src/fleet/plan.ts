import { shortFingerprint } from '../certs/index.js';
import type { Purpose } from '../rotation/gates.js';
import type { Plan, PlanStep } from '../rotation/plan.js';
import type { ObservedState } from '../rotation/state.js';

/**
 * The rotation of linked clusters that share one trust anchor, planned from their states alone.
 *
 * Each cluster's own plan (derivePlan) is the seven steps; the fleet cuts them into stages and runs
 * them lowest stage first across all clusters, with a barrier before the two steps that may break
 * another cluster's proxies:
 *   stage 1, trust: the primary renews the anchor, each peer receives a copy, every cluster
 *     restarts so that every proxy trusts the new anchor;
 *   barrier trust-new-anchor: no cluster renews its issuer until every proxy in every cluster
 *     trusts the new anchor (a leaf of any cluster's new issuer is verified by every other proxy);
 *   stage 2, adopt: each cluster renews its issuer and restarts;
 *   barrier adopt-new-issuer: no cluster drops the old anchor until every proxy in every cluster
 *     started after its own identity adopted its new issuer (no live leaf chains to the old anchor);
 *   stage 3, drop: each cluster trims its bundle and restarts.
 * Stage 0 steps (waiting for a bundle, repairing an inconsistent cluster, renewing an issuer before
 * the anchor) run first. Since every decision comes from the clusters' state, a run killed
 * anywhere, in any cluster, is resumed by the next.
 */
export type Barrier = 'trust-new-anchor' | 'adopt-new-issuer';

/** What the fleet knows of one cluster: its state and own plan, or why it could not be read. */
export type MemberView =
  | { name: string; role: 'primary' | 'peer'; state: ObservedState; plan: Plan; unreachable?: undefined }
  | { name: string; role: 'primary' | 'peer'; unreachable: string; state?: undefined; plan?: undefined };

/** The next thing the fleet does. */
export type FleetStep = { kind: 'copy-anchor'; cluster: string; why: string } | { kind: 'step'; cluster: string; step: PlanStep; barrier?: Barrier };

/** One cluster as the fleet plan sees it. */
interface MemberSummary {
  name: string;
  role: 'primary' | 'peer';
  phase: Plan['phase'] | 'unreachable';
  /** The stage of its next step (see Barrier); undefined when it has none. */
  stage?: number;
  next?: string;
}

export interface FleetPlan {
  /** steady: nothing to do in any cluster; rotating: a next step; held: work remains that cannot run now. */
  phase: 'steady' | 'rotating' | 'held';
  summary: string;
  next?: FleetStep;
  /** The barrier the next step waits on, or the one that holds the fleet. */
  barrier?: Barrier;
  clusters: MemberSummary[];
}

export interface FleetPlanOptions {
  /** Start a new rotation when every cluster is steady. */
  startNew: boolean;
  /** Clusters whose issuer must be renewed before the new anchor (issuerTiming), with why. */
  issuerFirst?: ReadonlyMap<string, string>;
}

const stagePurpose: Record<Purpose, number> = { 'trust-new-anchor': 1, 'adopt-new-issuer': 2, 'drop-old-anchor': 3 };

/**
 * The stage of one step of a cluster's own plan.
 * @internal exported for its unit tests
 */
export function stageOf(step: PlanStep, phase: Plan['phase']): number {
  switch (step.name) {
    case 'wait-bundle':
      return 0;
    case 'renew-anchor':
      return 1;
    case 'restart-control-plane':
    case 'restart-data-plane':
      return step.purpose ? stagePurpose[step.purpose] : 1;
    case 'renew-issuer':
      // Repairing a cluster whose issuer chains to a dropped anchor cannot wait for the others.
      return phase === 'inconsistent' ? 0 : 2;
    case 'update-bundle':
      return 3;
  }
}

/**
 * The barrier a step must pass first: renewing an issuer (unless cert-manager already does), dropping the old anchor.
 * @internal exported for its unit tests
 */
export function barrierOf(step: PlanStep, phase: Plan['phase']): Barrier | undefined {
  if (step.name === 'renew-issuer' && !step.resume && phase !== 'inconsistent') return 'trust-new-anchor';
  if (step.name === 'update-bundle') return 'adopt-new-issuer';
  return undefined;
}

type Reachable = Extract<MemberView, { state: ObservedState }>;

const isIssuing = (state: ObservedState): boolean => state.anchor.certificate.conditions.some((c) => c.type === 'Issuing' && c.status === 'True');

/** A peer whose copy is not the primary's current anchor (and the primary is not mid-issuance). */
function needsCopy(primary: Reachable, peer: Reachable): boolean {
  return !isIssuing(primary.state) && peer.state.anchor.cert.fingerprint !== primary.state.anchor.cert.fingerprint;
}

interface Candidate {
  member: Reachable;
  stage: number;
  step: FleetStep;
  barrier?: Barrier;
}

function candidateOf(member: Reachable, primary: Reachable | undefined): Candidate | undefined {
  if (member.role === 'peer' && primary && needsCopy(primary, member)) {
    return {
      member,
      stage: 1,
      step: {
        kind: 'copy-anchor',
        cluster: member.name,
        why: `the peer must sign with and trust the primary's anchor ${shortFingerprint(primary.state.anchor.cert.fingerprint)}`,
      },
    };
  }
  const first = member.plan.steps[0];
  if (!first) return undefined;
  const barrier = barrierOf(first, member.plan.phase);
  return { member, stage: stageOf(first, member.plan.phase), step: { kind: 'step', cluster: member.name, step: first, barrier }, barrier };
}

const describeStep = (step: FleetStep): string =>
  step.kind === 'copy-anchor' ? 'copy-anchor' : `${step.step.name}${step.step.purpose ? ` (${step.step.purpose})` : ''}`;

/**
 * The fleet's next step from every member's state and own plan (derived without starting a new
 * rotation). The primary is the first member. A member that could not be read holds every barrier
 * and every new rotation; the others still run the steps that need no barrier.
 */
export function deriveFleetPlan(members: readonly MemberView[], options: FleetPlanOptions): FleetPlan {
  const reachable = members.filter((m): m is Reachable => m.unreachable === undefined);
  const primary = reachable.find((m) => m.role === 'primary');
  const unreachable = members.filter((m) => m.unreachable !== undefined).map((m) => m.name);
  const candidates = new Map<string, Candidate | undefined>(reachable.map((m) => [m.name, candidateOf(m, primary)]));
  const clusters: MemberSummary[] = members.map((m) => {
    if (m.unreachable !== undefined) return { name: m.name, role: m.role, phase: 'unreachable' };
    const candidate = candidates.get(m.name);
    return { name: m.name, role: m.role, phase: m.plan.phase, stage: candidate?.stage, next: candidate ? describeStep(candidate.step) : undefined };
  });
  const pending = [...candidates.values()].filter((c): c is Candidate => c !== undefined);

  if (pending.length === 0) {
    const unsettled = reachable.filter((m) => m.plan.phase !== 'steady');
    if (unreachable.length > 0)
      return { phase: 'held', summary: `cluster(s) ${unreachable.join(', ')} cannot be read: nothing is started until every cluster answers`, clusters };
    if (unsettled.length > 0) {
      return { phase: 'held', summary: unsettled.map((m) => `${m.name}: ${m.plan.summary}`).join('; '), clusters };
    }
    if (!options.startNew || !primary)
      return { phase: 'steady', summary: `steady: every cluster on anchor ${shortFingerprint(primary?.state.anchor.cert.fingerprint ?? '')}`, clusters };
    const first = members.find((m) => options.issuerFirst?.has(m.name));
    if (first) {
      const why = options.issuerFirst?.get(first.name) ?? '';
      return {
        phase: 'rotating',
        summary: `a rotation across ${members.length} clusters starts: ${first.name} renews its issuer first`,
        next: { kind: 'step', cluster: first.name, step: { name: 'renew-issuer', why } },
        clusters,
      };
    }
    return {
      phase: 'rotating',
      summary: `steady on anchor ${shortFingerprint(primary.state.anchor.cert.fingerprint)}: a rotation across ${members.length} clusters starts`,
      next: {
        kind: 'step',
        cluster: primary.name,
        step: { name: 'renew-anchor', why: 'a new trust anchor, shared by every cluster; each bundle then holds old and new' },
      },
      clusters,
    };
  }

  // Lowest stage first; among equals, the order the clusters were given (the primary first).
  const order = new Map(members.map((m, index) => [m.name, index]));
  pending.sort((a, b) => a.stage - b.stage || (order.get(a.member.name) ?? 0) - (order.get(b.member.name) ?? 0));
  const lowest = pending[0] as Candidate;
  if (unreachable.length > 0) {
    // Restarts and waits are safe whatever the unread cluster is doing; a barrier is not.
    const free = pending.find((c) => c.barrier === undefined);
    if (!free) {
      return {
        phase: 'held',
        summary: `cluster(s) ${unreachable.join(', ')} cannot be read: the fleet stops at barrier ${lowest.barrier ?? ''} until every cluster answers`,
        barrier: lowest.barrier,
        clusters,
      };
    }
    return {
      phase: 'rotating',
      summary: `cluster(s) ${unreachable.join(', ')} cannot be read: ${free.member.name} runs what needs no barrier`,
      next: free.step,
      clusters,
    };
  }
  const summary = `rotation across ${members.length} clusters: stage ${lowest.stage}, next ${describeStep(lowest.step)} in ${lowest.member.name}${lowest.barrier ? ` after barrier ${lowest.barrier}` : ''}`;
  return { phase: 'rotating', summary, next: lowest.step, barrier: lowest.barrier, clusters };
}
