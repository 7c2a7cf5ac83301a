import { PreconditionError } from '../errors.js';
import type { BundleSourceView } from '../kube/model.js';
import type { RunContext } from './context.js';
import type { Plan } from './plan.js';
import { observeBundle, type BundleNames, type BundleTarget, type ObservedBundle, type ObservedState } from './state.js';

const certKey = 'tls.crt';

const label = (bundle: ObservedBundle): string => `${bundle.view.kind} ${bundle.view.name}`;

const isNamedSecret = (source: BundleSourceView, name: string): boolean =>
  source.kind === 'Secret' && !source.bySelector && source.name === name && source.key === certKey;

/**
 * The previous-anchor source may also take all keys of its Secret (the chart's: it renders that Secret
 * without data, so no render can empty it, and trust-manager fails a named key that is missing); the
 * rotator keeps tls.crt as its only key.
 */
const isPreviousSource = (source: BundleSourceView, name: string): boolean =>
  isNamedSecret(source, name) || (source.kind === 'Secret' && !source.bySelector && source.name === name && source.key === '*');

function describeSource(source: BundleSourceView): string {
  if (source.kind === 'inline') return 'inline PEM';
  if (source.kind === 'default-cas') return 'default CAs';
  const which = source.bySelector ? 'by selector' : (source.name ?? '(unnamed)');
  return `${source.kind} ${which}${source.key === '*' ? ' (all keys)' : source.key ? ` key ${source.key}` : ''}`;
}

/** A ConfigMap that holds at least one certificate and parsed. */
export const usableTarget = (target: BundleTarget): boolean => target.certs !== undefined && target.certs.length > 0 && !target.problem;

/**
 * Target ConfigMaps a proxy must not be started from: missing, empty or unparsable, in a namespace
 * the bundle targets or in the Linkerd namespace (where the injector and identity read it). A proxy
 * started without anchors never becomes ready, so no command restarts anything while one is listed.
 * @internal exported for its unit tests
 */
export function unusableBundle(bundle: ObservedBundle): string[] {
  return unusableTargets(bundle).map((target) => describeUnusable(bundle, target));
}

/** The targets and the Linkerd namespace's ConfigMap, each namespace once, that are not usable. */
function unusableTargets(bundle: ObservedBundle): BundleTarget[] {
  const seen = new Set<string>();
  const all: BundleTarget[] = [...bundle.targets, bundle.controlPlane].filter((t) => (seen.has(t.namespace) ? false : (seen.add(t.namespace), true)));
  return all.filter((target) => !usableTarget(target));
}

const describeUnusable = (bundle: ObservedBundle, target: BundleTarget): string =>
  target.problem ?? `ConfigMap ${target.namespace}/${bundle.configMap} key ${bundle.view.configMapKey} holds no certificate`;

/**
 * Why a plan must not begin by waiting for the bundle: a target ConfigMap that is there but empty
 * or unparsable. trust-manager rewrites a target when a source changes, not because a wait began,
 * so the wait would run into its deadline (exit 5), and no step after it may restart a proxy
 * without anchors. Refused instead (exit 3, nothing changed). A missing ConfigMap is awaited:
 * trust-manager creates the targets of a newly selected namespace by itself.
 */
export function bundleWaitRefusal(plan: Pick<Plan, 'steps'>, bundle: ObservedBundle): string | undefined {
  if (plan.steps[0]?.name !== 'wait-bundle') return undefined;
  const broken = unusableTargets(bundle)
    .filter((t) => !t.missing)
    .map((t) => describeUnusable(bundle, t));
  if (broken.length === 0) return undefined;
  return `the bundle cannot be awaited: ${broken.join('; ')}; waiting would not end, and a proxy started now would trust no anchor. Restore it (deleting the ConfigMap makes trust-manager write it again), then run again`;
}

/**
 * Reasons an anchor rotation must not start with this bundle; empty when it may. The bundle must
 * take Secret `--anchor-secret` key tls.crt (else the new anchor never reaches it) and Secret
 * `--previous-anchor-secret` key tls.crt, which must exist with that key (else the old anchor leaves
 * the bundle at the renewal, or trust-manager stops updating it: a missing source stalls the whole
 * bundle), and nothing else (the gates wait for exactly those anchors). Its targets must select at
 * least one namespace including the Linkerd namespace, and every ConfigMap must be usable
 * (see unusableBundle). Pure: `state` as observe() reads it, `config` the names in force.
 */
export function bundleRefusals(state: Pick<ObservedState, 'bundle' | 'previous'>, config: BundleNames): string[] {
  const { bundle } = state;
  const name = label(bundle);
  const sources = bundle.view.sources;
  const reasons: string[] = [];
  if (!sources.some((s) => isNamedSecret(s, config.anchorSecret))) {
    reasons.push(`${name} has no source Secret ${config.anchorSecret} key ${certKey}: the renewed anchor would never reach the bundle`);
  }
  if (!sources.some((s) => isPreviousSource(s, config.previousAnchorSecret))) {
    reasons.push(
      `${name} has no source Secret ${config.previousAnchorSecret} key ${certKey}: the old anchor would leave the bundle at the renewal while every leaf still chains to it`,
    );
  }
  const previous = `Secret ${config.trustNamespace}/${config.previousAnchorSecret}`;
  if (!state.previous.secret) {
    reasons.push(`${previous} does not exist: trust-manager stops updating a bundle whose source is missing, so the renewed anchor would never reach it`);
  } else if (state.previous.secret.tlsCrt === undefined) {
    reasons.push(
      sources.some((s) => isNamedSecret(s, config.previousAnchorSecret))
        ? `${previous} has no key ${certKey}: trust-manager stops updating a bundle whose source key is missing`
        : `${previous} holds no certificate yet (a fresh install): the current anchor would leave the bundle at the renewal; write its certificate into ${certKey} first (docs/runbook.md)`,
    );
  }
  const unmanaged = sources.filter((s) => !isNamedSecret(s, config.anchorSecret) && !isPreviousSource(s, config.previousAnchorSecret));
  if (unmanaged.length > 0) {
    reasons.push(
      `${name} has sources the rotator does not manage (${unmanaged.map(describeSource).join(', ')}): its gates wait for the bundle to hold exactly the current and previous anchors`,
    );
  }
  if (bundle.targets.length === 0) {
    reasons.push(`${name} selects no namespace: no ConfigMap carries the bundle`);
  } else if (!bundle.targets.some((t) => t.namespace === config.linkerdNamespace)) {
    reasons.push(
      `${name} does not target namespace ${config.linkerdNamespace}, where the identity controller and the proxy injector read ConfigMap ${bundle.configMap}`,
    );
  }
  reasons.push(...unusableBundle(bundle));
  return reasons;
}

/**
 * Refuses (PreconditionError, nothing restarted) while a bundle ConfigMap is missing, empty or
 * unparsable: every restart would start proxies that never become ready.
 */
export async function refuseRestartWithoutAnchors(ctx: RunContext): Promise<void> {
  const reasons = unusableBundle(await observeBundle(ctx.cluster, ctx.config));
  if (reasons.length > 0) throw new PreconditionError(`refusing to restart: a proxy started now would trust no anchor: ${reasons.join('; ')}`);
}
