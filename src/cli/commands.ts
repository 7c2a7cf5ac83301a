import { ExitCode, PreconditionError } from '../errors.js';
import { fleetStatus, renderFleetStatus } from '../fleet/status.js';
import { rotateFleet, type FleetMember } from '../fleet/rotate.js';
import type { Cluster, KeyPairCopier } from '../kube/ports.js';
import { fenceWrites } from '../unattended/lock.js';
import type { Logger } from '../log.js';
import type { RunContext } from '../rotation/context.js';
import type { Role } from '../rotation/mesh.js';
import type { ProgressReporter } from '../rotation/progress.js';
import { anchorTarget, issuerTarget } from '../rotation/renew.js';
import { issuerTiming } from '../rotation/preflight.js';
import { planRotation, rotate, startRefusals } from '../rotation/rotate.js';
import { observe } from '../rotation/state.js';
import { renewAnchor, renewIssuer, restartControlPlane, restartDataPlane, targetsFor, updateBundle, waitForBundle } from '../rotation/steps.js';
import { judgeTask, nextRenewal, nothingToRenew, type TaskVerdict } from '../rotation/tasks.js';
import { buildStatus, renderStatus } from '../status/report.js';
import { nothingToDoReason } from '../unattended/events.js';
import { snapshotOf, statusExposition } from '../unattended/metrics.js';
import { policyGate, type PolicyDecision } from '../unattended/policy.js';
import type { UnattendedPorts } from '../unattended/ports.js';
import { pushStatusMetrics, supervise, type RunHooks } from '../unattended/supervise.js';
import type { Clock } from '../wait/poll.js';
import { formatData } from './format.js';
import type { Invocation } from './parse.js';
import { renderPlan } from './render.js';

/** What a command needs from outside: built once by main, faked by tests. */
export interface Deps {
  cluster: Cluster;
  logger: Logger;
  clock: Clock;
  signal?: AbortSignal;
  /** Shows restart passes while they run (src/cli/progress.ts). */
  progress?: ProgressReporter;
  print: (text: string) => void;
  /** Lock, Events, Pushgateway, webhook (src/unattended). */
  unattended: UnattendedPorts;
  /** The multicluster run's clusters (--peer): the primary's key reader and each peer's adapter. */
  fleet?: FleetPorts;
  /** Set by the supervisor: checked before every write, peers' included (the rotation lock). */
  fence?: () => void;
}

/** What a multicluster run needs beyond a single cluster's ports. */
export interface FleetPorts {
  primaryKeys: KeyPairCopier;
  peers: { name: string; cluster: Cluster & KeyPairCopier }[];
}

/** The members of a multicluster run: the primary (this cluster) first, each peer with its own context. */
function fleetMembers(invocation: Invocation, deps: Deps, ctx: RunContext, fleet: FleetPorts): FleetMember[] {
  const primaryName = invocation.unattended.clusterName ?? 'primary';
  const primary: FleetMember = { name: primaryName, role: 'primary', ctx: { ...ctx, logger: deps.logger.child({ cluster: primaryName }) }, keys: fleet.primaryKeys };
  const peers = fleet.peers.map((peer): FleetMember => {
    const cluster = deps.fence ? fenceWrites(peer.cluster, deps.fence) : peer.cluster;
    return { name: peer.name, role: 'peer', ctx: { ...ctx, cluster, config: { ...ctx.config, anchorSource: 'copy' }, logger: deps.logger.child({ cluster: peer.name }) }, keys: cluster };
  });
  return [primary, ...peers];
}

const cpRoles: Role[] = ['identity', 'control-plane', 'extension'];

/**
 * Runs one command and returns its exit code; errors propagate to main, which maps them.
 * Commands that change the cluster run supervised: under the rotation lock, with Events,
 * metrics and notifications.
 */
export async function run(invocation: Invocation, deps: Deps): Promise<ExitCode> {
  if (invocation.command === 'status' || invocation.dryRun) return runCommand(invocation, deps);
  return supervise(invocation, deps, (supervised, hooks) => runCommand(invocation, supervised, hooks));
}

async function runCommand(invocation: Invocation, deps: Deps, hooks?: RunHooks): Promise<ExitCode> {
  const ctx: RunContext = { cluster: deps.cluster, config: invocation.config, logger: deps.logger, clock: deps.clock, signal: deps.signal, progress: deps.progress };
  const { output } = invocation;
  const emit = (data: unknown, text: string): void => deps.print(output === 'json' || output === 'yaml' ? formatData(output, data) : text);

  if (deps.fleet && invocation.peers.length > 0) return runFleetCommand(invocation, deps, ctx, deps.fleet, emit, hooks);
  switch (invocation.command) {
    case 'rotate': {
      const { seen, startNew } = policyStart(invocation, hooks);
      const result = await rotate(ctx, { dryRun: invocation.dryRun, startNew, hooks });
      const { decision } = seen;
      if (invocation.dryRun) {
        const refused = result.refusals.map((reason) => `\nwould refuse: ${reason}`).join('');
        emit({ plan: result.plan, findings: result.findings, refusals: result.refusals, decision }, `${renderPlan(result.plan)}${decision ? `\npolicy: ${decision.reason}` : ''}${refused}`);
        return result.refusals.length > 0 ? ExitCode.refused : ExitCode.ok;
      }
      emit({ ...result, decision }, result.executed.length === 0 ? `nothing to do: ${nothingToDoReason({ decision, plan: result.plan })}` : `rotation finished: ${result.executed.length} step(s), phase ${result.finalPhase}`);
      return ExitCode.ok;
    }
    case 'status': {
      let state;
      try {
        state = await observe(ctx.cluster, ctx.config, ctx.clock.now(), ctx);
      } catch (error) {
        // Missing objects or CRDs, malformed certificates: the mesh's trust cannot be judged, which is broken.
        if (!(error instanceof PreconditionError)) throw error;
        if (invocation.output === 'prometheus') deps.print((await statusExposition(undefined)).trimEnd());
        else emit({ health: 'broken', error: error.message }, `health: BROKEN\n${error.message}`);
        await pushStatusMetrics(deps, undefined);
        return ExitCode.statusBroken;
      }
      const report = buildStatus(state, ctx.config.expiryWarningDays, ctx.config);
      const snapshot = snapshotOf(state, report, invocation.unattended.policy);
      if (invocation.output === 'prometheus') deps.print((await statusExposition(snapshot)).trimEnd());
      else emit(report, renderStatus(report));
      await pushStatusMetrics(deps, snapshot);
      return exitForHealth(report.health);
    }
    case 'renew-certs': {
      const { state, plan } = await planRotation(ctx, true);
      const which = invocation.which === 'next' ? nextRenewal(plan) : invocation.which;
      if (!which) throw new PreconditionError(nothingToRenew(plan));
      const task = which === 'anchor' ? 'renew-anchor' : 'renew-issuer';
      if (!allowed(judgeTask(task, state, plan), ctx, emit)) return ExitCode.ok;
      if (task === 'renew-anchor' && plan.phase === 'steady') {
        const timing = issuerTiming(state, ctx.config.issuerRenewalMarginMs);
        const refusals = [...startRefusals(state, ctx.config), ...(timing.kind === 'renew-first' ? [`${timing.reason}: run renew-certs --which issuer first, or rotate`] : [])];
        if (refusals.length > 0) throw new PreconditionError(`refusing to renew the trust anchor, nothing was changed: ${refusals.map((r, i) => `(${i + 1}) ${r}`).join(' ')}`);
      }
      const target = which === 'anchor' ? anchorTarget(ctx) : issuerTarget(ctx);
      if (invocation.dryRun) {
        emit({ renew: which, certificate: `${target.namespace}/${target.certificate}` }, `would renew the ${target.role} (Certificate ${target.namespace}/${target.certificate})`);
        return ExitCode.ok;
      }
      if (which === 'anchor') {
        await renewAnchor(ctx);
        // The restarts that come next refuse an unsettled bundle: finish the task with old and new anchor in it.
        await waitForBundle(ctx);
      } else await renewIssuer(ctx);
      emit({ renewed: which }, `renewed the ${target.role}`);
      return ExitCode.ok;
    }
    case 'restart-control-plane':
    case 'restart-data-plane': {
      const controlPlane = invocation.command === 'restart-control-plane';
      const { state, plan } = await planRotation(ctx, false);
      if (!allowed(judgeTask(invocation.command, state, plan), ctx, emit)) return ExitCode.ok;
      if (invocation.dryRun) {
        const roles: Role[] = controlPlane ? cpRoles : ['data-plane'];
        const targets = targetsFor(state, roles, undefined).map((w) => w.key);
        const held = state.workloads.filter((w) => roles.includes(w.role) && w.hold).map((w) => w.hold?.message ?? w.key);
        emit({ targets, held }, [`would restart ${targets.length} workload(s):`, ...targets.map((t) => `  ${t}`), ...held.map((h) => `  not restarted: ${h}`)].join('\n'));
        return ExitCode.ok;
      }
      const result = controlPlane ? await restartControlPlane(ctx) : await restartDataPlane(ctx);
      emit(result, `restarted ${result.restarted} workload(s)`);
      return ExitCode.ok;
    }
    case 'update-bundle': {
      const { state, plan } = await planRotation(ctx, false);
      if (!allowed(judgeTask('update-bundle', state, plan), ctx, emit)) return ExitCode.ok;
      if (invocation.dryRun) {
        emit({ previousAnchorSecret: `${ctx.config.trustNamespace}/${ctx.config.previousAnchorSecret}` }, `would write the current anchor into Secret ${ctx.config.trustNamespace}/${ctx.config.previousAnchorSecret} and wait for the bundle`);
        return ExitCode.ok;
      }
      await updateBundle(ctx);
      emit({ updated: true }, 'bundle updated: it holds only the current anchor');
      return ExitCode.ok;
    }
  }
}

/** The rotation policy as rotate asks it, with the decision kept for the output and told to the hooks. */
function policyStart(invocation: Invocation, hooks?: RunHooks): { seen: { decision?: PolicyDecision }; startNew: ReturnType<typeof policyGate> } {
  const seen: { decision?: PolicyDecision } = {};
  const startNew = policyGate(invocation.unattended.policy, (decision) => {
    seen.decision = decision;
    hooks?.decided(decision);
  });
  return { seen, startNew };
}

/** status' exit code: 0 healthy, 10 warning, 11 broken. */
const exitForHealth = (health: 'healthy' | 'warning' | 'broken'): ExitCode => (health === 'healthy' ? ExitCode.ok : health === 'warning' ? ExitCode.statusWarning : ExitCode.statusBroken);

/** rotate and status across linked clusters (src/fleet). */
async function runFleetCommand(invocation: Invocation, deps: Deps, ctx: RunContext, fleet: FleetPorts, emit: (data: unknown, text: string) => void, hooks?: RunHooks): Promise<ExitCode> {
  const members = fleetMembers(invocation, deps, ctx, fleet);
  if (invocation.command === 'status') {
    const status = await fleetStatus(members);
    emit(status, renderFleetStatus(status));
    return exitForHealth(status.health);
  }
  const { seen, startNew } = policyStart(invocation, hooks);
  const result = await rotateFleet(members, { dryRun: invocation.dryRun, startNew, hooks });
  const { decision } = seen;
  if (invocation.dryRun) {
    const lines = [result.plan.summary, ...result.plan.clusters.map((c) => `  ${c.name} (${c.role}): ${c.phase}${c.next ? `, next ${c.next}` : ''}`), ...result.refusals.map((r) => `would refuse: ${r}`)];
    emit({ plan: result.plan, findings: result.findings, refusals: result.refusals, decision }, lines.join('\n'));
    return result.refusals.length > 0 ? ExitCode.refused : ExitCode.ok;
  }
  emit({ ...result, decision }, result.executed.length === 0 ? `nothing to do: ${result.plan.summary}` : `rotation across ${members.length} clusters finished: ${result.executed.length} step(s), phase ${result.finalPhase}`);
  return ExitCode.ok;
}

/**
 * Acts on a single task's verdict: a refusal is a PreconditionError (exit 3, nothing changed),
 * a no-op is printed and ends the command with exit 0, a note is logged before the task runs.
 */
function allowed(verdict: TaskVerdict, ctx: RunContext, emit: (json: unknown, text: string) => void): boolean {
  if (verdict.verdict === 'refuse') throw new PreconditionError(verdict.reason);
  if (verdict.verdict === 'no-op') {
    emit({ nothingToDo: verdict.reason }, `nothing to do: ${verdict.reason}`);
    return false;
  }
  if (verdict.note) ctx.logger.info(verdict.note);
  return true;
}
