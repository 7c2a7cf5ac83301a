import { shortFingerprint, type Finding } from '../certs/index.js';
import { toPem } from '../certs/index.js';
import { exitCodeFor, ExitCode, PreconditionError, StepError } from '../errors.js';
import type { KeyPairCopier } from '../kube/ports.js';
import type { RunContext } from '../rotation/context.js';
import { derivePlan } from '../rotation/plan.js';
import { issuerTiming } from '../rotation/preflight.js';
import { refuseUnsafe } from '../rotation/health.js';
import { runStep, startRefusals, type RotationHooks, type StartDecision, type StartNew, type StepRecord } from '../rotation/rotate.js';
import { previousTrimmed, restartableKeys, stalePods, type Purpose } from '../rotation/gates.js';
import { awaitGate, managedByLabel, observeForRestart, waitForBundle } from '../rotation/steps.js';
import { observe, type ObservedState } from '../rotation/state.js';
import { inSeconds, throwIfAborted } from '../wait/poll.js';
import { deriveFleetPlan, type Barrier, type FleetPlan, type FleetStep, type MemberView } from './plan.js';

/** One cluster of a multicluster run: its name (as Links call it), its role and its own run context. */
export interface FleetMember {
  name: string;
  role: 'primary' | 'peer';
  /** The context every single-cluster step runs with, on this cluster (peers: anchorSource `copy`). */
  ctx: RunContext;
  /** Reads the primary's anchor key pair; writes a peer's copy. */
  keys: KeyPairCopier;
}

/** The multicluster counterpart of RotationResult. */
export interface FleetResult<D extends StartDecision = StartDecision> {
  plan: FleetPlan;
  findings: Finding[];
  refusals: string[];
  executed: (StepRecord & { cluster: string })[];
  finalPhase: FleetPlan['phase'];
  /** What the start policy decided from the primary's first look (undefined when told to start or not outright). */
  decision?: D;
}

/** A cluster of the run could not be read, and what is left needs it: resumable once it answers. */
class ClusterUnreachableError extends StepError {}

const barrierText: Record<Barrier, { purpose: 'trust-new-anchor' | 'adopt-new-issuer'; gate: string }> = {
  'trust-new-anchor': { purpose: 'trust-new-anchor', gate: 'barrier before any issuer renewal (every proxy in every cluster trusts the new anchor)' },
  'adopt-new-issuer': {
    purpose: 'adopt-new-issuer',
    gate: 'barrier before any cluster drops the old anchor (every proxy in every cluster has a leaf of its new issuer)',
  },
};

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Reads every member. A precondition (a missing object, a malformed certificate, an unsupported
 * topology) refuses the whole run, naming the cluster; any other failure (the adapter has retried
 * for its whole window) marks the member unreachable, for the plan to stop at the next barrier.
 */
export async function observeFleet(members: readonly FleetMember[]): Promise<{ views: MemberView[]; states: Map<string, ObservedState> }> {
  const states = new Map<string, ObservedState>();
  const views = await Promise.all(
    members.map(async (member): Promise<MemberView> => {
      try {
        const state = await observe(member.ctx.cluster, member.ctx.config, member.ctx.clock.now(), member.ctx);
        states.set(member.name, state);
        const plan = derivePlan(state, { startNew: false, deleteStalePods: member.ctx.config.deleteStalePods });
        return { name: member.name, role: member.role, state, plan };
      } catch (error) {
        if (error instanceof PreconditionError) throw new PreconditionError(`cluster ${member.name}: ${error.message}`);
        member.ctx.logger.warn('cluster cannot be read', { error: message(error) });
        return { name: member.name, role: member.role, unreachable: message(error) };
      }
    }),
  );
  return { views, states };
}

/** Issuers to renew before the new anchor (their renewal falls inside the margin), by cluster. */
function issuersFirst(members: readonly FleetMember[], states: ReadonlyMap<string, ObservedState>): Map<string, string> {
  const first = new Map<string, string>();
  for (const member of members) {
    const state = states.get(member.name);
    if (!state) continue;
    const timing = issuerTiming(state, member.ctx.config.issuerRenewalMarginMs);
    if (timing.kind === 'renew-first') first.set(member.name, timing.reason);
  }
  return first;
}

/**
 * Why a rotation across these clusters must not start: each cluster's own refusals (but for its
 * Links, judged here), a Link to a cluster outside the run, a peer on another anchor.
 */
function fleetRefusals(members: readonly FleetMember[], views: readonly MemberView[]): string[] {
  const names = new Set(members.map((m) => m.name));
  const reasons: string[] = [];
  const primary = views.find((v) => v.role === 'primary' && v.state);
  for (const view of views) {
    if (!view.state) {
      reasons.push(`cluster ${view.name} cannot be read (${view.unreachable}): a rotation starts only when every cluster answers`);
      continue;
    }
    const member = members.find((m) => m.name === view.name) as FleetMember;
    for (const reason of startRefusals({ ...view.state, links: [] }, member.ctx.config)) reasons.push(`cluster ${view.name}: ${reason}`);
    for (const link of view.state.links) {
      if (!link.targetClusterName || !names.has(link.targetClusterName)) {
        reasons.push(
          `cluster ${view.name}: Link ${link.namespace}/${link.name} targets cluster ${link.targetClusterName ?? '(none)'}, which is not part of this run (clusters: ${[...names].join(', ')}): that cluster trusts this anchor too; add it with --peer or remove the Link`,
        );
      }
    }
    if (view.role === 'peer' && primary?.state && view.state.anchor.cert.fingerprint !== primary.state.anchor.cert.fingerprint) {
      reasons.push(
        `cluster ${view.name}: its anchor copy holds anchor ${shortFingerprint(view.state.anchor.cert.fingerprint)}, not the primary's ${shortFingerprint(primary.state.anchor.cert.fingerprint)}: the clusters do not share one anchor (per-cluster anchors are not supported)`,
      );
    }
  }
  return reasons;
}

/**
 * Copies the primary's anchor (certificate and key) into a peer's copy Secret, then waits for the
 * peer's bundle to hold old and new anchors. The peer's previous-anchor Secret first gets the
 * anchor it trusts now when it is empty, as renewAnchor does in a single cluster. The key passes
 * from one response to one write: never parsed, logged or kept.
 */
async function copyAnchor(primary: FleetMember, peer: FleetMember, peerState: ObservedState): Promise<void> {
  const { trustNamespace, anchorSecret } = primary.ctx.config;
  const peerNs = peer.ctx.config.trustNamespace;
  const current = peerState.anchor.cert;
  if (peerState.previous.certs.length === 0) {
    // A fresh peer: its bundle would hold only the new anchor. Keep the one its proxies trust now.
    await peer.ctx.cluster.writeCertificateOnlySecret(peerNs, peer.ctx.config.previousAnchorSecret, toPem([current]), managedByLabel);
    peer.ctx.logger.info('previous-anchor Secret given the current anchor', { anchor: shortFingerprint(current.fingerprint) });
  } else if (!peerState.previous.certs.some((cert) => cert.fingerprint === current.fingerprint)) {
    throw new PreconditionError(
      `cluster ${peer.name}: its previous-anchor Secret does not hold the anchor its proxies trust now (${shortFingerprint(current.fingerprint)}): copying the new anchor would drop that one from its bundle. Finish that cluster's own change first`,
    );
  }
  const pair = await primary.keys.readKeyPair(trustNamespace, anchorSecret);
  if (!pair?.data['tls.crt'] || !pair.data['tls.key'])
    throw new PreconditionError(`cluster ${primary.name}: the anchor Secret ${trustNamespace}/${anchorSecret} holds no certificate and key to copy`);
  await peer.keys.writeKeyPair(peerNs, peer.ctx.config.anchorSecret, pair);
  peer.ctx.logger.info('anchor copied to peer', { secret: `${peerNs}/${peer.ctx.config.anchorSecret}` });
  await waitForBundle(peer.ctx);
}

/** Waits, cluster by cluster, until the barrier's gate holds in every one (each gate only ever becomes truer). */
async function passBarrier(members: readonly FleetMember[], barrier: Barrier, logger: RunContext['logger']): Promise<void> {
  const { purpose, gate } = barrierText[barrier];
  const started = Date.now();
  for (const member of members) {
    if (pastBarrier(await observeForRestart(member.ctx), barrier)) continue;
    await awaitGate(member.ctx, purpose, `cluster ${member.name}: ${gate}`);
  }
  logger.info('barrier passed', { barrier, clusters: members.map((m) => m.name).join(','), waitedSeconds: inSeconds(Date.now() - started) });
}

/**
 * A cluster with stale pods that a restart can fix, for the barrier's gate: its proxies fell
 * behind again after their own restarts (an identity pod that became ready anew, an outage that
 * restarted the kubelets). The fleet then re-plans, and that cluster restarts them first, instead
 * of waiting at the barrier for pods nobody restarts.
 */
async function behindBarrier(members: readonly FleetMember[], barrier: Barrier): Promise<{ name: string; stale: number } | undefined> {
  for (const member of members) {
    const state = await observeForRestart(member.ctx);
    if (pastBarrier(state, barrier)) continue;
    const keys = restartableKeys(stalePods(state, barrierText[barrier].purpose));
    if (keys.size > 0) return { name: member.name, stale: keys.size };
  }
  return undefined;
}

/**
 * A cluster that already trimmed its bundle passed barrier adopt-new-issuer before it did: its
 * drop restarts (identity first) make its pods look older than identity again, which says nothing
 * about their leaves (the issuer is the same). Checking it again would hold the others for ever.
 */
function pastBarrier(state: Parameters<typeof previousTrimmed>[0], barrier: Barrier): boolean {
  return barrier === 'adopt-new-issuer' && previousTrimmed(state);
}

/** Steps beyond this many per cluster in one run mean the clusters do not converge. */
const maxStepsPerCluster = 40;
const maxRepeats = 2;
/** Re-plans before one barrier at most this often; then its gate is awaited (and fails naming the pods). */
const maxReplans = 3;

/** What the fleet's first look decided: the plan, findings, refusals and the start policy's decision, all from one observation. */
interface FirstFleetLook<D> {
  plan: FleetPlan;
  findings: Finding[];
  refusals: string[];
  starting: boolean;
  decision?: D;
  states: Map<string, ObservedState>;
}

async function lookFirst<D extends StartDecision>(members: readonly FleetMember[], primary: FleetMember, startNew: StartNew<D>): Promise<FirstFleetLook<D>> {
  const first = await observeFleet(members);
  const findings = [...first.states.entries()].flatMap(([name, state]) =>
    refuseUnsafe(state, primary.ctx.config.expiryWarningDays).map((f) => ({ ...f, subject: `${name}: ${f.subject}` })),
  );
  const primaryState = first.states.get(primary.name);
  const decision = primaryState && typeof startNew === 'function' ? startNew(primaryState) : undefined;
  const starting = primaryState !== undefined && (decision ? decision.startNew : startNew === true);
  const plan = deriveFleetPlan(first.views, { startNew: starting, issuerFirst: starting ? issuersFirst(members, first.states) : undefined });
  const startsRotation = plan.next?.kind === 'step' && plan.next.step.name === 'renew-anchor' && plan.next.cluster === primary.name && !plan.next.step.resume;
  const startsWithIssuer = starting && first.views.every((v) => v.plan?.phase === 'steady' && v.plan.steps.length === 0) && plan.next !== undefined;
  const refusals = startsRotation || startsWithIssuer ? fleetRefusals(members, first.views) : [];
  return { plan, findings, refusals, starting, decision, states: first.states };
}

/** The plan holds only because a cluster cannot be read: the run stops, resumable once it answers. */
const heldByUnreachable = (plan: FleetPlan): boolean => plan.phase === 'held' && plan.clusters.some((c) => c.phase === 'unreachable');

/** A fleet step as it is logged, told to the hooks and counted: its name, purpose, reason and cluster/name/purpose key. */
function describeStep(next: FleetStep): { name: string; purpose?: Purpose; why: string; key: string } {
  const name = next.kind === 'copy-anchor' ? 'copy-anchor' : next.step.name;
  const purpose = next.kind === 'step' ? next.step.purpose : undefined;
  const why = next.kind === 'copy-anchor' ? next.why : next.step.why;
  return { name, purpose, why, key: `${next.cluster}/${name}/${purpose ?? ''}` };
}

/**
 * Before a step behind a barrier: a cluster whose pods fell behind again is re-observed for the
 * fleet to re-plan (at most maxReplans times per barrier), else the barrier's gate is awaited.
 */
async function atBarrier(
  members: readonly FleetMember[],
  barrier: Barrier,
  replans: Map<Barrier, number>,
  logger: RunContext['logger'],
): Promise<Awaited<ReturnType<typeof observeFleet>> | undefined> {
  const behind = await behindBarrier(members, barrier);
  const replanned = replans.get(barrier) ?? 0;
  if (behind && replanned < maxReplans) {
    replans.set(barrier, replanned + 1);
    logger.info('barrier not met: restarting the stale workloads first', { barrier, behind: behind.name, workloads: behind.stale });
    return observeFleet(members);
  }
  await passBarrier(members, barrier, logger);
  return undefined;
}

/** Runs one fleet step on its cluster, told to the hooks; an API failure the adapter gave up on names the cluster. */
async function runFleetStep(
  primary: FleetMember,
  member: FleetMember,
  next: FleetStep,
  state: ObservedState | undefined,
  index: number,
  hooks: RotationHooks | undefined,
): Promise<FleetResult['executed'][number]> {
  const { name, purpose, why } = describeStep(next);
  const started = primary.ctx.clock.now().getTime();
  member.ctx.logger.info(`step ${index}: ${name}`, { purpose, why });
  const hookStep = { name, purpose, why } as Parameters<RotationHooks['stepStarted']>[0];
  await hooks?.stepStarted(hookStep, index);
  try {
    throwIfAborted(member.ctx.signal);
    if (next.kind === 'copy-anchor') await copyAnchor(primary, member, state as ObservedState);
    else await runStep(member.ctx, next.step);
  } catch (error) {
    await hooks?.stepFailed(hookStep, index, error, primary.ctx.clock.now().getTime() - started);
    // API failures the adapter gave up on name the cluster; gates, timeouts, refusals and stops keep their exit codes.
    throw exitCodeFor(error) === ExitCode.failed && !(error instanceof StepError)
      ? new ClusterUnreachableError(
          `cluster ${member.name}: ${name}: ${message(error)}; run again once it answers: the next run resumes from the clusters' state`,
          { cause: error },
        )
      : error;
  }
  const record = { cluster: member.name, step: name, purpose, durationMs: primary.ctx.clock.now().getTime() - started };
  member.ctx.logger.info(`step ${index} done: ${name}`, { purpose, seconds: inSeconds(record.durationMs) });
  await hooks?.stepFinished(hookStep, index, record);
  return record;
}

/**
 * Runs the fleet's plan from its first look until nothing remains: each step behind its barrier,
 * every cluster observed again after each, stopping rather than looping when they do not converge.
 */
async function runFleetPlan(
  members: readonly FleetMember[],
  primary: FleetMember,
  first: Pick<FirstFleetLook<unknown>, 'plan' | 'starting' | 'states'>,
  hooks: RotationHooks | undefined,
): Promise<{ executed: FleetResult['executed']; finalPhase: FleetPlan['phase'] }> {
  const logger = primary.ctx.logger;
  const { starting } = first;
  let { plan, states } = first;
  const executed: FleetResult['executed'] = [];
  const repeats = new Map<string, number>();
  const replans = new Map<Barrier, number>();
  let anchorRenewed = false;
  while (plan.next) {
    throwIfAborted(primary.ctx.signal);
    const next: FleetStep = plan.next;
    const member = members.find((m) => m.name === next.cluster) as FleetMember;
    const { key } = describeStep(next);
    const count = (repeats.get(key) ?? 0) + 1;
    repeats.set(key, count);
    if (count > maxRepeats || executed.length >= maxStepsPerCluster * members.length) {
      throw new StepError(`step ${key} still remains after running ${count - 1} time(s): the clusters do not reach the expected state (see the logs above)`);
    }
    const again = next.kind === 'step' && next.barrier ? await atBarrier(members, next.barrier, replans, logger) : undefined;
    if (again) {
      states = again.states;
      plan = deriveFleetPlan(again.views, { startNew: false });
      repeats.set(key, count - 1);
      continue;
    }
    executed.push(await runFleetStep(primary, member, next, states.get(member.name), executed.length + 1, hooks));
    if (next.kind === 'step' && next.step.name === 'renew-anchor') anchorRenewed = true;
    const seen = await observeFleet(members);
    states = seen.states;
    const stillStarting = starting && !anchorRenewed;
    plan = deriveFleetPlan(seen.views, { startNew: stillStarting, issuerFirst: stillStarting ? issuersFirst(members, states) : undefined });
    if (!plan.next && heldByUnreachable(plan)) throw new ClusterUnreachableError(`stopped, resumable: ${plan.summary}`);
  }
  return { executed, finalPhase: plan.phase };
}

/**
 * One rotation over linked clusters sharing an anchor: observe every cluster, derive the fleet's
 * next step (deriveFleetPlan), pass its barrier, run it, and again, until nothing remains. The
 * first member is the primary (it holds the anchor Certificate). Anything refused before the first
 * change refuses the whole run; an unreachable cluster stops the run at the next barrier.
 */
export async function rotateFleet<D extends StartDecision = StartDecision>(
  members: readonly FleetMember[],
  options: { dryRun: boolean; startNew?: StartNew<D>; hooks?: RotationHooks },
): Promise<FleetResult<D>> {
  const primary = members[0];
  if (!primary || primary.role !== 'primary') throw new PreconditionError('a multicluster run needs its primary cluster first');
  const logger = primary.ctx.logger;
  const { findings, refusals, starting, decision, ...first } = await lookFirst(members, primary, options.startNew ?? true);
  const { plan } = first;
  for (const finding of findings) logger.warn(finding.message, { subject: finding.subject });
  logger.info(plan.summary, { phase: plan.phase, clusters: plan.clusters.map((c) => `${c.name}:${c.phase}`).join(',') });
  if (options.dryRun || !plan.next) {
    if (!options.dryRun && heldByUnreachable(plan)) throw new ClusterUnreachableError(plan.summary);
    return { plan, findings, refusals, executed: [], finalPhase: plan.phase, decision };
  }
  if (refusals.length > 0)
    throw new PreconditionError(
      `refusing to start a rotation across ${members.length} clusters, nothing was changed: ${refusals.map((r, i) => `(${i + 1}) ${r}`).join(' ')}`,
    );

  const { executed, finalPhase } = await runFleetPlan(members, primary, { plan, starting, states: first.states }, options.hooks);
  logger.info('rotation complete', { steps: executed.length, phase: finalPhase, clusters: members.length });
  return { plan, findings, refusals, executed, finalPhase, decision };
}
