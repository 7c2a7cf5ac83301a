import { shortFingerprint, toPem, type ParsedCert } from '../certs/index.js';
import { GateError, PreconditionError } from '../errors.js';
import { inSeconds, waitUntil } from '../wait/poll.js';
import { refuseRestartWithoutAnchors } from './bundle-check.js';
import { waitOptions, type RunContext } from './context.js';
import { evictStalePods } from './evict.js';
import {
  bundleMismatches,
  describeStale,
  expectedBundle,
  previousTrimmed,
  restartableKeys,
  restartNotBefore,
  stalePods,
  type Purpose,
  type StalePod,
} from './gates.js';
import { controlPlaneRoles, type MeshWorkload, type Role } from './mesh.js';
import { anchorTarget, issuerTarget, refuseKeepingKey, renewCertificate } from './renew.js';
import { issuerRenewalBeforeGate, issuerRenewalFinding } from './preflight.js';
import { restartAll } from './restart.js';
import { observeBundle, observeCertificates, observeMesh, type ObservedState } from './state.js';

/** Label on the previous-anchor Secret the rotator writes, so people can tell who owns it. */
export const managedByLabel = { 'app.kubernetes.io/managed-by': 'linkerd-cert-rotator' };

type MeshState = Pick<ObservedState, 'anchor' | 'previous' | 'issuer' | 'workloads' | 'pods'>;

export async function observeForRestart(ctx: RunContext): Promise<MeshState> {
  const [certs, mesh] = await Promise.all([observeCertificates(ctx.cluster, ctx.config, ctx), observeMesh(ctx.cluster, ctx.config)]);
  return { ...certs, ...mesh };
}

/** Workloads of these roles to restart: every one in scope, or (with a purpose) those with stale pods. */
export function targetsFor(state: MeshState, roles: readonly Role[], purpose: Purpose | undefined): MeshWorkload[] {
  const inRoles = state.workloads.filter((w) => roles.includes(w.role));
  if (!purpose) return inRoles.filter((w) => !w.hold);
  const keys = restartableKeys(stalePods(state, purpose));
  return inRoles.filter((w) => keys.has(w.key));
}

function refuseHeld(state: MeshState, roles: readonly Role[], purpose: Purpose | undefined): void {
  const stale = purpose ? new Set(stalePods(state, purpose).map((s) => s.pod.workloadKey)) : undefined;
  const paused = state.workloads.filter((w) => roles.includes(w.role) && w.hold?.kind === 'paused' && (!stale || stale.has(w.key)));
  if (paused.length > 0) throw new PreconditionError(paused.map((w) => w.hold?.message).join('; '));
}

/**
 * Restarts the control plane: the identity controller first (every other proxy gets its
 * leaf from it), then the rest of the control plane, then extensions, each phase looked at
 * afresh because restarting identity makes every other proxy older than it. Refuses before the
 * first restart while a bundle ConfigMap is missing, empty or unparsable.
 */
export async function restartControlPlane(ctx: RunContext, purpose?: Purpose): Promise<{ restarted: number; waitedMs: number }> {
  await refuseRestartWithoutAnchors(ctx);
  let restarted = 0;
  let waitedMs = 0;
  for (const roles of [['identity'], ['control-plane'], ['extension']] as Role[][]) {
    const state = await observeForRestart(ctx);
    refuseHeld(state, roles, purpose);
    const targets = targetsFor(state, roles, purpose);
    if (targets.length === 0) continue;
    ctx.logger.info(`restarting ${roles[0]} workloads`, { count: targets.length, purpose: purpose ?? 'all' });
    const identity = roles[0] === 'identity';
    const result = await restartAll(ctx, targets, identity ? 1 : ctx.config.concurrency, restartNotBefore(state, purpose, identity), {
      step: 'restart-control-plane',
      purpose,
    });
    restarted += result.restarted;
    waitedMs += result.waitedMs;
  }
  waitedMs += await awaitOldPodsGone(ctx, controlPlaneRoles, purpose);
  return { restarted, waitedMs };
}

/**
 * The last pass (drop-old-anchor) ends when its old pods are gone, not when its rollouts are done: a
 * rollout completes once the new pods are ready, while the old ones may still terminate, trusting the
 * old anchor. A resumed run, too, finds such pods and waits for them instead of asking for restarts by
 * hand. Held pods (opted out, excluded, bare) are not waited for: the plan reports them.
 */
async function awaitOldPodsGone(ctx: RunContext, roles: readonly Role[], purpose: Purpose | undefined): Promise<number> {
  if (purpose !== 'drop-old-anchor') return 0;
  const waited = await waitUntil(
    async () => {
      const leaving = stalePods(await observeForRestart(ctx), purpose).filter((s) => s.pod.pod.terminating && !s.pod.hold && roles.includes(s.pod.role));
      if (leaving.length === 0) return { done: true, value: undefined };
      return { done: false, waitingFor: `${leaving.length} old pod(s) still terminating, e.g. ${leaving[0]?.pod.pod.namespace}/${leaving[0]?.pod.pod.name}` };
    },
    waitOptions(ctx, 'the old pods of the last restarts to terminate', ctx.config.rolloutTimeoutMs),
  );
  return waited.waitedMs;
}

/**
 * Restarts the data plane with bounded concurrency. Stale pods that no rollout restarts are
 * evicted when --delete-stale-pods allows it (see evictStalePods), otherwise reported: they
 * still hold the gates.
 * Refuses before the first restart while a bundle ConfigMap is missing, empty or unparsable.
 */
export async function restartDataPlane(ctx: RunContext, purpose?: Purpose): Promise<{ restarted: number; waitedMs: number; deleted: number }> {
  await refuseRestartWithoutAnchors(ctx);
  const state = await observeForRestart(ctx);
  refuseHeld(state, ['data-plane'], purpose);
  const targets = targetsFor(state, ['data-plane'], purpose);
  ctx.logger.info('restarting data-plane workloads', { count: targets.length, concurrency: ctx.config.concurrency, purpose: purpose ?? 'all' });
  const result = await restartAll(ctx, targets, ctx.config.concurrency, restartNotBefore(state, purpose, false), { step: 'restart-data-plane', purpose });
  const stale: StalePod[] = purpose
    ? stalePods(await observeForRestart(ctx), purpose)
    : state.pods.filter((p) => p.role === 'data-plane' && p.hold).map((pod) => ({ pod, reason: 'no rollout restarts it' }));
  const unmanaged = stale.filter((s) => s.pod.hold && !s.pod.pod.terminating);
  const evictable = unmanaged.filter((s) => ctx.config.deleteStalePods && s.pod.deletable).map((s) => s.pod);
  for (const s of unmanaged.filter((s) => !evictable.includes(s.pod))) {
    ctx.logger.warn('stale pod not restarted', { pod: `${s.pod.pod.namespace}/${s.pod.pod.name}`, owner: s.pod.owner, reason: s.pod.hold });
  }
  const deleted = await evictStalePods(ctx, evictable);
  const gone = await awaitOldPodsGone(ctx, ['data-plane'], purpose);
  return { ...result, waitedMs: result.waitedMs + gone, deleted };
}

/**
 * Waits until no meshed pod is stale for `purpose`. Fails at once, naming the pods, when
 * every stale pod is one the rotator will not restart (opted out, excluded, bare, Job, OnDelete).
 */
export async function awaitGate(ctx: RunContext, purpose: Purpose, gate: string): Promise<void> {
  const waited = await waitUntil(
    async () => {
      const stale = stalePods(await observeForRestart(ctx), purpose);
      if (stale.length === 0) return { done: true, value: undefined };
      if (stale.every((s) => s.pod.hold && !s.pod.pod.terminating)) {
        const list = describeStale(stale);
        throw new GateError(
          `${gate}: ${list.length} meshed pod(s) must be restarted first: ${list.map((p) => `${p.namespace}/${p.name} (${p.owner}): ${p.reason}`).join('; ')}${await deadlineNote(ctx, purpose)}`,
          list,
        );
      }
      return { done: false, waitingFor: `${stale.length} stale pod(s), e.g. ${stale[0]?.pod.pod.namespace}/${stale[0]?.pod.pod.name}` };
    },
    waitOptions(ctx, gate, ctx.config.rolloutTimeoutMs),
  ).catch(async (error: unknown) => {
    if (error instanceof GateError || !(error instanceof Error) || error.name !== 'TimeoutError') throw error;
    const list = describeStale(stalePods(await observeForRestart(ctx), purpose));
    throw new GateError(
      `${gate}: timed out with ${list.length} stale pod(s): ${list.map((p) => `${p.namespace}/${p.name} (${p.owner}): ${p.reason}`).join('; ')}${await deadlineNote(ctx, purpose)}`,
      list,
    );
  });
  ctx.logger.info('gate met', { gate: purpose, waitedSeconds: inSeconds(waited.waitedMs) });
}

/** For a stop before gate 1: when cert-manager's issuer renewal makes the stale pods' wait dangerous. */
async function deadlineNote(ctx: RunContext, purpose: Purpose): Promise<string> {
  if (purpose !== 'trust-new-anchor') return '';
  const renewal = issuerRenewalBeforeGate({ ...(await observeCertificates(ctx.cluster, ctx.config, ctx)), now: ctx.clock.now() });
  return renewal ? `. ${issuerRenewalFinding(renewal).message}` : '';
}

/** Waits until every target ConfigMap of the Bundle holds exactly the current and previous anchors. */
export async function waitForBundle(ctx: RunContext): Promise<number> {
  const waited = await waitUntil(
    async () => {
      const [certs, bundle] = await Promise.all([observeCertificates(ctx.cluster, ctx.config, ctx), observeBundle(ctx.cluster, ctx.config)]);
      if (bundle.targets.length === 0) throw new PreconditionError(`Bundle ${ctx.config.bundle} selects no namespace: no ConfigMap to check`);
      const mismatches = bundleMismatches({ bundle }, expectedBundle(certs));
      return mismatches.length === 0 ? { done: true, value: undefined } : { done: false, waitingFor: mismatches.join(', ') };
    },
    waitOptions(ctx, `the bundle ${ctx.config.bundle} to hold the expected anchors`, ctx.config.bundleTimeoutMs),
  );
  ctx.logger.info('bundle holds the expected anchors', { waitedSeconds: inSeconds(waited.waitedMs) });
  return waited.waitedMs;
}

/**
 * Renews the anchor. An issuer whose renewal would keep its key stops the rotation here, before
 * anything changed, rather than at step 4. An empty previous-anchor Secret (a fresh install) is
 * first given the current anchor: otherwise the renewal would drop it from the bundle at once.
 */
export async function renewAnchor(ctx: RunContext): Promise<void> {
  const certs = await observeCertificates(ctx.cluster, ctx.config, ctx);
  refuseKeepingKey(certs.issuer.certificate, 'identity issuer');
  if (certs.previous.certs.length === 0) await writePreviousAnchor(ctx, certs.anchor.cert);
  await renewCertificate(ctx, anchorTarget(ctx));
}

/**
 * Renews the issuer once every meshed pod trusts the new anchor (gate 1). In the inconsistent
 * state (the bundle holds only the current anchor, the issuer chains to an anchor it dropped)
 * the gate is not awaited: every proxy started since the drop already fails to verify the old
 * chain, and waiting only prolongs that. The restarts follow in the same step, because once the
 * issuer chains to the anchor nothing in the cluster shows that the leaves still do not.
 */
export async function renewIssuer(ctx: RunContext): Promise<void> {
  const certs = await observeCertificates(ctx.cluster, ctx.config, ctx);
  if (certs.issuer.signer || !previousTrimmed(certs)) {
    await awaitGate(ctx, 'trust-new-anchor', 'gate before the issuer renewal (every proxy trusts the new anchor)');
    await renewCertificate(ctx, issuerTarget(ctx));
    return;
  }
  const lacking = stalePods(await observeForRestart(ctx), 'trust-new-anchor').length;
  ctx.logger.warn('repairing: the issuer does not chain to the only anchor in the bundle; renewing it, then restarting the control plane and the data plane', {
    anchor: shortFingerprint(certs.anchor.cert.fingerprint),
    podsLackingAnchor: lacking,
  });
  await renewCertificate(ctx, issuerTarget(ctx));
  await restartControlPlane(ctx, 'adopt-new-issuer');
  await restartDataPlane(ctx, 'adopt-new-issuer');
}

async function writePreviousAnchor(ctx: RunContext, anchor: ParsedCert): Promise<void> {
  const result = await ctx.cluster.writeCertificateOnlySecret(ctx.config.trustNamespace, ctx.config.previousAnchorSecret, toPem([anchor]), managedByLabel);
  ctx.logger.info(`previous-anchor Secret ${result}`, {
    secret: `${ctx.config.trustNamespace}/${ctx.config.previousAnchorSecret}`,
    anchor: shortFingerprint(anchor.fingerprint),
  });
  await waitForBundle(ctx);
}

/**
 * Writes the current anchor into the previous-anchor Secret as a clean object (certificate
 * only) once every proxy chains to the new anchor (gate 2), then waits for the trimmed bundle.
 * A Secret made the old way (type kubernetes.io/tls, with the key) is migrated here, when
 * the anchor it keeps is no longer needed by any live leaf.
 */
export async function updateBundle(ctx: RunContext): Promise<void> {
  const certs = await observeCertificates(ctx.cluster, ctx.config, ctx);
  if (!previousTrimmed(certs))
    await awaitGate(ctx, 'adopt-new-issuer', 'gate before the old anchor is dropped (every proxy started after identity adopted the new issuer)');
  await writePreviousAnchor(ctx, certs.anchor.cert);
}
