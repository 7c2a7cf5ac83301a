// Builders of the plain data the rotation logic decides from (ObservedState and its parts), so
// tests state a cluster snapshot in a few lines. Certificates come from ./certs.ts, generated per run.
import type { BundleView, Condition, CertificateView, SecretView, Workload, WorkloadKind } from '../../src/kube/model.js';
import { workloadKey, type Hold, type MeshWorkload, type Role } from '../../src/rotation/mesh.js';
import type { BundleNames, BundleTarget, ObservedBundle, ObservedState, StatePod } from '../../src/rotation/state.js';
import { makeAnchor, makeIssuer, type Generated } from './certs.js';

const HOUR_MS = 60 * 60 * 1000;

/** A time on the test day, 2025-06-01, UTC ("10:30" or "10:30:15"). */
export const at = (time: string): Date => new Date(`2025-06-01T${time.length === 5 ? `${time}:00` : time}Z`);

/** The moment every snapshot is taken unless told otherwise. */
export const NOW = at('12:00');
/** notBefore of the new identity issuer (the one signed by the new anchor). */
export const ISSUED = at('10:00');

/** The certificates of one rotation: from `oldAnchor` (signing `oldIssuer`) to `newAnchor` (signing `newIssuer`). */
export interface Rotation {
  oldAnchor: Generated;
  newAnchor: Generated;
  oldIssuer: Generated;
  newIssuer: Generated;
}

/** Valid at NOW and more than a day away from expiry, so a one-day warning window stays quiet. */
export async function makeRotation(): Promise<Rotation> {
  const oldAnchor = await makeAnchor({
    cn: 'root.linkerd.cluster.local',
    notBefore: new Date('2024-06-01T00:00:00Z'),
    notAfter: new Date('2026-06-01T00:00:00Z'),
  });
  const newAnchor = await makeAnchor({ cn: 'root.linkerd.cluster.local', notBefore: at('08:00'), notAfter: new Date('2027-06-01T00:00:00Z') });
  const oldIssuer = await makeIssuer(oldAnchor, { notBefore: at('06:00'), notAfter: new Date(at('06:00').getTime() + 48 * HOUR_MS) });
  const newIssuer = await makeIssuer(newAnchor, { notBefore: ISSUED, notAfter: new Date(ISSUED.getTime() + 48 * HOUR_MS) });
  return { oldAnchor, newAnchor, oldIssuer, newIssuer };
}

/** A Deployment, StatefulSet or DaemonSet that rolls out with RollingUpdate and has finished. */
export function workload(kind: WorkloadKind, namespace: string, name: string, overrides: Partial<Workload> = {}): Workload {
  return {
    kind,
    namespace,
    name,
    generation: 1,
    labels: {},
    annotations: {},
    templateAnnotations: {},
    specReplicas: kind === 'DaemonSet' ? undefined : 1,
    paused: false,
    strategy: 'RollingUpdate',
    status: { conditions: [] },
    ...overrides,
  };
}

/** A classified workload; `hold` makes it one the rotator will not restart. */
export function meshed(role: Role, kind: WorkloadKind, namespace: string, name: string, hold?: Hold['kind']): MeshWorkload {
  const w = workload(kind, namespace, name);
  return { key: workloadKey(w), workload: w, role, ...(hold ? { hold: { kind: hold, message: `${kind} ${namespace}/${name} is held (${hold})` } } : {}) };
}

export interface PodSpec {
  name: string;
  /** Default: `uid-<name>`. */
  uid?: string;
  /** The workload that restarts it: sets namespace, role, owner, workloadKey and hold. */
  of?: MeshWorkload;
  namespace?: string;
  role?: Role;
  /** Anchors in its env; undefined: unreadable. */
  anchors: readonly Generated[] | undefined;
  anchorsProblem?: string;
  /** Default 11:00. */
  startedAt?: Date;
  /** Default: 5 s before startedAt. */
  createdAt?: Date;
  /** Default: 30 s after startedAt; null: not ready. */
  readySince?: Date | null;
  terminating?: boolean;
  /** For pods without a workload: why nothing restarts them. */
  hold?: string;
}

/** A meshed pod as observeMesh would produce it. */
export function statePod(spec: PodSpec): StatePod {
  const startedAt = spec.startedAt ?? at('11:00');
  const readySince = spec.readySince === null ? undefined : (spec.readySince ?? new Date(startedAt.getTime() + 30_000));
  const namespace = spec.of?.workload.namespace ?? spec.namespace ?? 'default';
  const hold = spec.of?.hold?.message ?? spec.hold;
  return {
    pod: {
      namespace,
      name: spec.name,
      uid: spec.uid ?? `uid-${spec.name}`,
      phase: 'Running',
      labels: {},
      annotations: {},
      owner: spec.of ? { kind: spec.of.workload.kind, name: spec.of.workload.name } : undefined,
      createdAtMs: (spec.createdAt ?? new Date(startedAt.getTime() - 5_000)).getTime(),
      startedAtMs: startedAt.getTime(),
      ready: readySince !== undefined,
      readySinceMs: readySince?.getTime(),
      terminating: spec.terminating ?? false,
    },
    role: spec.of?.role ?? spec.role ?? 'data-plane',
    workloadKey: spec.of?.key,
    owner: spec.of ? `${spec.of.workload.kind}/${spec.of.workload.name}` : 'bare pod',
    ...(hold ? { hold } : {}),
    deletable: !spec.of,
    anchors: spec.anchors ? new Set(spec.anchors.map((g) => g.cert.fingerprint)) : undefined,
    ...(spec.anchorsProblem ? { anchorsProblem: spec.anchorsProblem } : {}),
  };
}

/** A cert-manager Certificate, Ready, optionally mid-issuance. */
export function certificateView(
  namespace: string,
  name: string,
  opts: { issuing?: boolean; conditions?: Condition[]; renewalTime?: Date; renewalDisabled?: boolean } = {},
): CertificateView {
  const conditions = opts.conditions ?? [
    { type: 'Ready', status: 'True', observedGeneration: 1 },
    ...(opts.issuing ? [{ type: 'Issuing', status: 'True', reason: 'ManuallyTriggered' }] : []),
  ];
  return {
    namespace,
    name,
    uid: '',
    generation: 1,
    secretName: name,
    conditions,
    revision: 1,
    failedIssuanceAttempts: 0,
    renewalTime: opts.renewalTime,
    renewalDisabled: opts.renewalDisabled ?? false,
  };
}

/** The previous-anchor Secret as the rotator writes it: certificate only, type Opaque. */
export function cleanPreviousSecret(overrides: Partial<SecretView> = {}): SecretView {
  return {
    namespace: 'cert-manager',
    name: 'linkerd-previous-anchor',
    type: 'Opaque',
    resourceVersion: '1',
    // The key is there (trust-manager needs it), empty unless told otherwise.
    tlsCrt: '',
    hasPrivateKey: false,
    otherKeys: [],
    hasCertManagerMetadata: false,
    ...overrides,
  };
}

export interface StateSpec {
  now?: Date;
  anchor: Generated;
  anchorIssuing?: boolean;
  /** Certificates in the previous-anchor Secret ([] and no Secret when empty, unless `previousSecret`). */
  previous: readonly Generated[];
  previousSecret?: SecretView;
  issuer: Generated;
  /** The anchor that signed the issuer, as observeCertificates found it; undefined: none. */
  signer: Generated | undefined;
  issuerIssuing?: boolean;
  /** status.renewalTime of the issuer Certificate; default: none recorded. */
  issuerRenewalTime?: Date;
  issuerRenewalDisabled?: boolean;
  /** Linkerd multicluster Links present ("namespace/name"). */
  links?: string[];
  /** Target ConfigMaps; default: namespace linkerd holding exactly the expected anchors. */
  targets?: { namespace: string; anchors?: readonly Generated[]; problem?: string; missing?: boolean }[];
  /** The Linkerd namespace's ConfigMap when no target is in namespace linkerd (default: the expected anchors). */
  controlPlane?: { namespace: string; anchors?: readonly Generated[]; problem?: string; missing?: boolean };
  /** Overrides of the Bundle object (kind, sources, ...). */
  bundle?: Partial<BundleView>;
  workloads?: MeshWorkload[];
  pods?: StatePod[];
}

/** The fixture's Bundle: the anchor and previous-anchor Secrets as sources, Linkerd's control-plane namespaces as targets. */
export const bundleView = (over: Partial<BundleView> = {}): BundleView => ({
  kind: 'Bundle',
  name: 'linkerd-identity-trust-roots',
  configMapKey: 'ca-bundle.crt',
  namespaceSelector: { matchLabels: { 'linkerd.io/is-control-plane': 'true' } },
  sources: [
    { kind: 'Secret', name: 'linkerd-trust-anchor', key: 'tls.crt' },
    { kind: 'Secret', name: 'linkerd-previous-anchor', key: 'tls.crt' },
  ],
  ...over,
});

/** The names of defaultConfig that the bundle is checked against. */
export const bundleNames: BundleNames = {
  trustNamespace: 'cert-manager',
  anchorSecret: 'linkerd-trust-anchor',
  previousAnchorSecret: 'linkerd-previous-anchor',
  linkerdNamespace: 'linkerd',
};

type TargetSpec = NonNullable<StateSpec['targets']>[number];

const toTarget = (t: TargetSpec): BundleTarget => ({
  namespace: t.namespace,
  ...(t.anchors ? { certs: t.anchors.map((g) => g.cert) } : {}),
  ...(t.problem ? { problem: t.problem } : {}),
  ...(t.missing ? { missing: true } : {}),
});

function observedBundle(spec: StateSpec, targets: TargetSpec[], expected: readonly Generated[]): ObservedBundle {
  const linkerd = targets.find((t) => t.namespace === 'linkerd');
  return {
    view: bundleView(spec.bundle),
    configMap: 'linkerd-identity-trust-roots',
    targets: targets.map(toTarget),
    // Read on its own when the Bundle does not target it; by default it holds the expected anchors.
    controlPlane: toTarget(spec.controlPlane ?? linkerd ?? { namespace: 'linkerd', anchors: [...new Set(expected)] }),
    names: bundleNames,
  };
}

/** A whole snapshot. */
export function observedState(spec: StateSpec): ObservedState {
  const previousCerts = spec.previous.map((g) => g.cert);
  const expected = [spec.anchor, ...spec.previous.filter((g) => g !== spec.anchor)];
  const targets = spec.targets ?? [{ namespace: 'linkerd', anchors: [...new Set(expected)] }];
  return {
    now: spec.now ?? NOW,
    anchor: { certificate: certificateView('cert-manager', 'linkerd-trust-anchor', { issuing: spec.anchorIssuing }), cert: spec.anchor.cert },
    previous: {
      secret: spec.previousSecret ?? (previousCerts.length > 0 ? cleanPreviousSecret({ tlsCrt: previousCerts.map((c) => c.pem).join('') }) : undefined),
      certs: previousCerts,
    },
    issuer: {
      certificate: certificateView('linkerd', 'linkerd-identity-issuer', {
        issuing: spec.issuerIssuing,
        renewalTime: spec.issuerRenewalTime,
        renewalDisabled: spec.issuerRenewalDisabled,
      }),
      cert: spec.issuer.cert,
      signer: spec.signer?.cert,
    },
    bundle: observedBundle(spec, targets, expected),
    workloads: spec.workloads ?? [],
    pods: spec.pods ?? [],
    links: (spec.links ?? []).map((link) => ({ namespace: link.split('/')[0] ?? '', name: link.split('/')[1] ?? '' })),
  };
}

/** A small mesh: identity, another control-plane Deployment, an extension, two data-plane workloads, one opted out. */
export const mesh = {
  identity: meshed('identity', 'Deployment', 'linkerd', 'linkerd-identity'),
  destination: meshed('control-plane', 'Deployment', 'linkerd', 'linkerd-destination'),
  viz: meshed('extension', 'Deployment', 'linkerd-viz', 'web'),
  web: meshed('data-plane', 'Deployment', 'shop', 'web'),
  db: meshed('data-plane', 'StatefulSet', 'shop', 'db'),
  legacy: meshed('data-plane', 'Deployment', 'legacy', 'api', 'opted-out'),
};
export type MeshName = keyof typeof mesh;
export const meshWorkloads: MeshWorkload[] = Object.values(mesh);

/**
 * One pod per workload of `mesh`, named "<workload>-0": `base` applies to all, `each` to one.
 * The identity pod starts at 10:30 (after ISSUED) and the others at 11:00 unless told otherwise,
 * so by default every pod has started since identity adopted the new issuer.
 */
export function podsOfMesh(base: Omit<PodSpec, 'name' | 'of'>, each: Partial<Record<MeshName, Partial<PodSpec>>> = {}): StatePod[] {
  return (Object.keys(mesh) as MeshName[]).map((name) =>
    statePod({ ...base, ...(name === 'identity' ? { startedAt: at('10:30') } : {}), ...each[name], name: `${name}-0`, of: mesh[name] }),
  );
}

/**
 * The rotation's states as specs, so tests name the state and change only what they are about:
 * steady (one anchor everywhere), anchor renewed (issuer still on the old anchor, pods trusting
 * both) and issuer renewed (issuer on the new anchor, the bundle still holding both).
 */
export function steadySpec(r: Rotation, over: Partial<StateSpec> = {}): StateSpec {
  return {
    anchor: r.newAnchor,
    previous: [r.newAnchor],
    issuer: r.newIssuer,
    signer: r.newAnchor,
    workloads: meshWorkloads,
    pods: podsOfMesh({ anchors: [r.newAnchor] }),
    ...over,
  };
}

export function anchorRenewedSpec(r: Rotation, over: Partial<StateSpec> = {}): StateSpec {
  return {
    anchor: r.newAnchor,
    previous: [r.oldAnchor],
    issuer: r.oldIssuer,
    signer: r.oldAnchor,
    workloads: meshWorkloads,
    pods: podsOfMesh({ anchors: [r.oldAnchor, r.newAnchor] }),
    ...over,
  };
}

export function issuerRenewedSpec(r: Rotation, over: Partial<StateSpec> = {}): StateSpec {
  return { ...anchorRenewedSpec(r), issuer: r.newIssuer, signer: r.newAnchor, ...over };
}
