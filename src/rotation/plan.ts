import { shortFingerprint } from '../certs/index.js';
import { bundleMismatches, expectedBundle, previousTrimmed, restartableKeys, stalePods, type Purpose } from './gates.js';
import type { ObservedState } from './state.js';
import { controlPlaneRoles } from './mesh.js';

/** The actions a rotation is made of, in DOMAIN.md's seven-step order. */
export type StepName = 'renew-anchor' | 'wait-bundle' | 'restart-control-plane' | 'restart-data-plane' | 'renew-issuer' | 'update-bundle';

/** One step still to run, and why. */
export interface PlanStep {
  name: StepName;
  purpose?: Purpose;
  why: string;
  /**
   * Workloads to restart as known from the current state ("Kind/ns/name"); undefined when an
   * earlier step will change which ones (then every stale one at that time).
   */
  targets?: string[];
  /** The step was already under way (a certificate mid-issuance): it is awaited, not triggered again. */
  resume?: boolean;
}

/**
 * Where a rotation stands, read from the cluster alone:
 * steady, or which of the seven steps the last rotation (ours, or cert-manager's own renewal) reached.
 */
export type Phase = 'steady' | 'anchor-renewing' | 'anchor-renewed' | 'issuer-renewing' | 'issuer-renewed' | 'bundle-trimmed' | 'inconsistent';

export interface Plan {
  phase: Phase;
  summary: string;
  steps: PlanStep[];
}

const issuing = (conditions: readonly { type: string; status: string }[]): boolean => conditions.some((c) => c.type === 'Issuing' && c.status === 'True');

/** Restart steps for a purpose: computed from the state when `known`, else predicted as "every stale workload". */
function restarts(state: ObservedState, purpose: Purpose, known: boolean, why: string, evict: boolean): PlanStep[] {
  if (!known) {
    return [
      { name: 'restart-control-plane', purpose, why },
      { name: 'restart-data-plane', purpose, why },
    ];
  }
  const stale = stalePods(state, purpose);
  const identityStale = purpose === 'adopt-new-issuer' && stale.some((s) => s.pod.role === 'identity');
  const keys = [...restartableKeys(stale)];
  const roleOf = new Map(state.workloads.map((w) => [w.key, w.role]));
  const cp = keys.filter((key) => controlPlaneRoles.some((role) => role === roleOf.get(key)));
  const dp = keys.filter((key) => roleOf.get(key) === 'data-plane');
  const steps: PlanStep[] = [];
  if (cp.length > 0) steps.push({ name: 'restart-control-plane', purpose, why, targets: identityStale ? undefined : cp.sort() });
  // Once identity restarts, every other pod has started before it: all of them become stale.
  // The data-plane step also evicts (--delete-stale-pods) the stale pods no rollout restarts, of any role.
  const evictable = evict && stale.some((s) => s.pod.hold && s.pod.deletable && !s.pod.pod.terminating);
  if (identityStale) steps.push({ name: 'restart-data-plane', purpose, why });
  else if (dp.length > 0 || evictable) steps.push({ name: 'restart-data-plane', purpose, why, targets: dp.sort() });
  return steps;
}

const whyTrust = 'proxies read trust anchors only at start-up: every proxy must trust the new anchor before any leaf chains to it';
const whyAdopt = 'every proxy must get a leaf from the new issuer before the old anchor leaves the bundle';
const whyDrop = 'no proxy should keep trusting the old anchor';

/** The tail every unfinished rotation ends with: adopt the new issuer, trim the bundle, restart once more. */
function fromIssuerRenewed(state: ObservedState, known: boolean, evict: boolean): PlanStep[] {
  return [
    ...restarts(state, 'adopt-new-issuer', known, whyAdopt, evict),
    { name: 'update-bundle', why: 'write the current anchor into the previous-anchor Secret so the bundle holds only it' },
    ...restarts(state, 'drop-old-anchor', false, whyDrop, evict),
  ];
}

function fromAnchorRenewed(state: ObservedState, known: boolean, evict: boolean): PlanStep[] {
  return [
    ...restarts(state, 'trust-new-anchor', known, whyTrust, evict),
    { name: 'renew-issuer', why: 'the anchor renewal does not renew the issuer; new leaves must chain to the new anchor' },
    ...fromIssuerRenewed(state, false, evict),
  ];
}

/** What a plan may do beyond finishing what is under way. */
export interface PlanOptions {
  /** Start a new rotation from a steady state. */
  startNew: boolean;
  /** Why the issuer must be renewed before the new anchor (see preflight.ts issuerTiming); undefined: no need. */
  issuerFirst?: string;
  /** --delete-stale-pods: stale pods no rollout restarts are evicted by the data-plane step, which then remains to run. */
  deleteStalePods?: boolean;
}

/**
 * Derives the steps that remain from the observed state alone, so a run killed anywhere is
 * finished by the next one. A new rotation (renewing the anchor) starts only from a steady
 * state and only when `startNew` is set: an unfinished rotation is never started over.
 */
// eslint-disable-next-line complexity, max-lines-per-function -- the phases in the rotation's order, read top to bottom as DOMAIN.md's seven steps; a split per phase is left to the plan's owners (issue 13)
export function derivePlan(state: ObservedState, options: PlanOptions): Plan {
  const evict = options.deleteStalePods ?? false;
  const anchor = state.anchor.cert.fingerprint;
  // An empty previous-anchor Secret (a fresh install) is trimmed too: restarting the mesh would change nothing.
  const trimmed = previousTrimmed(state);
  const signedByAnchor = state.issuer.signer?.fingerprint === anchor;
  const expected = expectedBundle(state);
  const bundleSettled = bundleMismatches(state, expected).length === 0;
  const waitBundle: PlanStep[] = bundleSettled
    ? []
    : [{ name: 'wait-bundle', why: `trust-manager must write ${expected.length} anchor(s) into every target ConfigMap before proxies restart` }];
  const a = shortFingerprint(anchor);

  if (issuing(state.anchor.certificate.conditions)) {
    return {
      phase: 'anchor-renewing',
      summary: 'the trust anchor is being re-issued; the rotation continues from there',
      steps: [
        { name: 'renew-anchor', resume: true, why: 'await the issuance already under way' },
        { name: 'wait-bundle', why: 'the bundle must hold old and new anchors' },
        ...fromAnchorRenewed(state, false, evict),
      ],
    };
  }

  if (trimmed) {
    if (!signedByAnchor) {
      return {
        phase: 'inconsistent',
        summary: `the bundle holds only anchor ${a} but the issuer does not chain to it (the old anchor was dropped too early): rotate repairs it by renewing the issuer, then restarting the control plane and the data plane`,
        steps: [
          ...waitBundle,
          { name: 'renew-issuer', why: 'the issuer must chain to the only anchor in the bundle; every proxy is restarted right after, in the same step' },
          ...fromIssuerRenewed(state, false, evict).filter((step) => step.name !== 'update-bundle'),
        ],
      };
    }
    const drop = restarts(state, 'drop-old-anchor', bundleSettled, whyDrop, evict);
    if (waitBundle.length > 0 || drop.length > 0) {
      return {
        phase: 'bundle-trimmed',
        summary: `the bundle was trimmed to anchor ${a}; proxies that still trust the old anchor are restarted`,
        steps: [...waitBundle, ...drop],
      };
    }
    const stale = stalePods(state, 'drop-old-anchor');
    const leaving = stale.filter((s) => s.pod.pod.terminating && !s.pod.hold);
    if (leaving.length > 0) {
      // Old pods of finished rollouts (a run killed after its last restart): the pass waits for them.
      const passes: StepName[] = [
        ...(leaving.some((s) => s.pod.role !== 'data-plane') ? ['restart-control-plane' as const] : []),
        ...(leaving.some((s) => s.pod.role === 'data-plane') ? ['restart-data-plane' as const] : []),
      ];
      return {
        phase: 'bundle-trimmed',
        summary: `the bundle was trimmed to anchor ${a}; ${leaving.length} old pod(s) of finished restarts still terminate: the rotation waits for them`,
        steps: passes.map((name) => ({ name, purpose: 'drop-old-anchor', why: whyDrop, targets: [] })),
      };
    }
    const held = stale;
    if (held.length > 0) {
      // Not dangerous, but not finished either: no new rotation starts until someone restarts them.
      return {
        phase: 'bundle-trimmed',
        summary: `the bundle was trimmed to anchor ${a}, but ${held.length} meshed pod(s) the rotator may not restart still trust an old anchor: restart them by hand`,
        steps: [],
      };
    }
    if (!options.startNew) return { phase: 'steady', summary: `steady: anchor ${a}, issuer chains to it, every proxy trusts only it`, steps: [] };
    return {
      phase: 'steady',
      summary: `steady on anchor ${a}: a full rotation starts`,
      steps: [
        ...(options.issuerFirst ? [{ name: 'renew-issuer' as const, why: options.issuerFirst }] : []),
        { name: 'renew-anchor', why: 'a new trust anchor; the bundle then holds old and new' },
        { name: 'wait-bundle', why: 'the bundle must hold old and new anchors before proxies restart' },
        ...fromAnchorRenewed(state, false, evict),
      ],
    };
  }

  if (signedByAnchor) {
    return {
      phase: 'issuer-renewed',
      summary: `rotation to anchor ${a} under way: the issuer chains to it; proxies adopt the new issuer, then the old anchor is dropped`,
      steps: [...waitBundle, ...fromIssuerRenewed(state, bundleSettled, evict)],
    };
  }
  if (issuing(state.issuer.certificate.conditions)) {
    return {
      phase: 'issuer-renewing',
      summary: `rotation to anchor ${a} under way: the issuer is being re-issued`,
      // cert-manager may be renewing the issuer on its own before every proxy trusts the new anchor: restart those first.
      steps: [
        ...waitBundle,
        ...restarts(state, 'trust-new-anchor', bundleSettled, whyTrust, evict),
        { name: 'renew-issuer', resume: true, why: 'await the issuance already under way' },
        ...fromIssuerRenewed(state, false, evict),
      ],
    };
  }
  return {
    phase: 'anchor-renewed',
    summary: `rotation to anchor ${a} under way: the bundle holds old and new anchors; proxies must trust the new one before the issuer is renewed`,
    steps: [...waitBundle, ...fromAnchorRenewed(state, bundleSettled, evict)],
  };
}
