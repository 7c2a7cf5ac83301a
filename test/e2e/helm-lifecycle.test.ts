// The chart's certificates.create objects through a Helm lifecycle, on the real apiserver with real
// cert-manager and trust-manager: install (adopting the fixture's objects, which carry the same names),
// a full rotation as the chart's ServiceAccount, `helm upgrade --reuse-values`, a second rotation with
// an upgrade and `helm template | kubectl apply` (client-side, then server-side with --force-conflicts,
// as GitOps controllers do) in its middle, then a last upgrade. After every step: the previous-anchor
// Secret is the same object (uid), still owned by Helm, holds the anchor the step must leave there, and
// every bundle ConfigMap holds exactly the anchors it must. Also: trust-manager's behaviour that the
// chart's Secret-without-data design rests on, and --soft-exits on a held lock. Restores the fixture.
import * as k8s from '@kubernetes/client-node';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../harness/cluster.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { names } from '../harness/fixture.js';
import { InvariantMonitor } from '../harness/monitor.js';
import { runRotator, type RotatorRun } from '../harness/rotator.js';
import { ensureSteady } from '../harness/steady.js';
import { clusterTools, parseManifests, statusOfCall, serviceAccountKubeconfig, succeeded } from '../harness/tools.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();
const { helm, kubectl } = clusterTools(kubeconfig);
const batch = kube.config.makeApiClient(k8s.BatchV1Api);
const leases = kube.config.makeApiClient(k8s.CoordinationV1Api);
const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

const chart = join(repoRoot, 'chart');
const release = 'lcr-life';
const releaseNs = 'lcr-life';
const fullname = `${release}-linkerd-cert-rotator`;
/** The chart's lock Lease lives in the Linkerd namespace (as a run by hand's does). */
const lockNs = names.linkerdNs;
const values = [
  '--set',
  'certificates.create=true',
  '--set',
  'cronJob.suspend=true',
  '--set',
  'image.repository=localhost/linkerd-cert-rotator',
  '--set',
  'image.tag=dev',
];
const scratch = mkdtempSync(join(tmpdir(), 'lcr-life-'));
const timings: string[] = [];

/** The fixture's objects that the chart's certificates.create renders under the same names: Helm adopts them. */
const certificate = (namespace: string, name: string) => ({ group: 'cert-manager.io', version: 'v1', plural: 'certificates', namespace, name });
const adopted = [
  { kind: 'Issuer', ref: { group: 'cert-manager.io', version: 'v1', plural: 'issuers', namespace: names.trustNs, name: 'linkerd-trust-root-issuer' } },
  { kind: 'Certificate', ref: certificate(names.trustNs, names.anchor) },
  { kind: 'ClusterIssuer', ref: { group: 'cert-manager.io', version: 'v1', plural: 'clusterissuers', name: names.issuer } },
  { kind: 'Certificate', ref: certificate(names.linkerdNs, names.issuer) },
  { kind: 'Bundle', ref: { group: 'trust.cert-manager.io', version: 'v1alpha1', plural: 'bundles', name: names.bundle } },
] as const;
type Ref = (typeof adopted)[number]['ref'];
const helmMetadata = {
  labels: { 'app.kubernetes.io/managed-by': 'Helm' },
  annotations: { 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': releaseNs },
};
const specsBefore = new Map<string, unknown>();

let saKubeconfig = '';
let secretUid = '';
let installed = false;

function timed(name: string, body: () => Promise<void>): [string, () => Promise<void>] {
  return [
    name,
    async () => {
      const start = Date.now();
      try {
        await body();
      } finally {
        timings.push(`${((Date.now() - start) / 1000).toFixed(1).padStart(6)} s  ${name}`);
      }
    },
  ];
}

const key = (ref: Ref): string => `${ref.plural}/${'namespace' in ref ? ref.namespace : ''}/${ref.name}`;

async function getObject(
  ref: Ref,
): Promise<{ metadata?: k8s.V1ObjectMeta; spec?: unknown; status?: { conditions?: { type: string; status: string; reason?: string }[] } }> {
  return (await ('namespace' in ref ? kube.custom.getNamespacedCustomObject(ref) : kube.custom.getClusterCustomObject(ref))) as never;
}

async function patchObject(ref: Ref, body: object): Promise<void> {
  if ('namespace' in ref) await kube.custom.patchNamespacedCustomObject({ ...ref, body }, merge);
  else await kube.custom.patchClusterCustomObject({ ...ref, body }, merge);
}

/** The rotator as the chart's ServiceAccount, with the CronJob's literal env (LCR_SOFT_EXITS included). */
async function rotator(args: string[], env: Record<string, string> = {}): Promise<RotatorRun> {
  const cronJob = await batch.readNamespacedCronJob({ namespace: releaseNs, name: fullname });
  const container = cronJob.spec?.jobTemplate.spec?.template.spec?.containers.find((c) => c.name === 'rotator');
  const chartEnv = Object.fromEntries((container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value ?? '']));
  return runRotator(saKubeconfig, args, {
    env: { ...chartEnv, POD_NAMESPACE: releaseNs, LCR_LOG_FORMAT: 'json', LCR_LOG_LEVEL: 'debug', LCR_POLL_INTERVAL: '250ms', ...env },
  });
}

function expectExit(run: RotatorRun, code: number): void {
  if (run.code !== code) throw new Error(`rotator ${run.code === null ? 'was killed' : `exited ${run.code}`}, expected ${code}:\n${run.stderr.slice(-4000)}`);
}

const fingerprints = (pem: string): string[] =>
  (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p).fingerprint256).sort();

/** Every ConfigMap the Bundle targets (namespaces labelled as Linkerd's control plane). */
async function bundleAnchors(): Promise<Record<string, string[]>> {
  const namespaces = await kube.core.listNamespace({ labelSelector: 'linkerd.io/is-control-plane=true' });
  const out: Record<string, string[]> = {};
  for (const ns of namespaces.items) {
    const map = await kube.core.readNamespacedConfigMap({ namespace: ns.metadata?.name ?? '', name: names.bundle });
    out[ns.metadata?.name ?? ''] = fingerprints(map.data?.['ca-bundle.crt'] ?? '');
  }
  return out;
}

/**
 * The previous-anchor Secret holds exactly `previous` (and nothing else), is the object first seen
 * (never deleted), is still owned by the release, and every bundle ConfigMap holds `bundle`.
 */
async function expectTrust(step: string, previous: string, bundle: string[]): Promise<void> {
  const secret = await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.previous });
  expect({ step, uid: secret.metadata?.uid }).toEqual({ step, uid: secretUid });
  expect({ step, keys: Object.keys(secret.data ?? {}), certs: fingerprints(Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString('utf8')) }).toEqual({
    step,
    keys: ['tls.crt'],
    certs: [previous],
  });
  const labels = secret.metadata?.labels ?? {};
  const annotations = secret.metadata?.annotations ?? {};
  expect({ step, managedBy: labels['app.kubernetes.io/managed-by'], instance: labels['app.kubernetes.io/instance'] }).toEqual({
    step,
    managedBy: 'Helm',
    instance: release,
  });
  expect({
    step,
    release: annotations['meta.helm.sh/release-name'],
    namespace: annotations['meta.helm.sh/release-namespace'],
    policy: annotations['helm.sh/resource-policy'],
  }).toEqual({
    step,
    release,
    namespace: releaseNs,
    policy: 'keep',
  });
  expect(
    Object.keys(secret.metadata?.labels ?? {})
      .concat(Object.keys(secret.metadata?.annotations ?? {}))
      .filter((k) => k.includes('cert-manager.io/')),
  ).toEqual([]);
  // trust-manager writes asynchronously: wait for the expected anchors (a wrong program never gets there).
  const want = [...bundle].sort();
  await eventually(
    `${step}: every bundle ConfigMap holds the expected anchors`,
    async () => {
      const got = await bundleAnchors();
      const wrong = Object.entries(got).filter(([, anchors]) => JSON.stringify(anchors) !== JSON.stringify(want));
      if (Object.keys(got).length === 0 || wrong.length > 0) throw new Error(`unexpected: ${JSON.stringify(wrong)}`);
    },
    60_000,
  );
}

const anchorFingerprint = async (): Promise<string> => (await kube.anchor()).fingerprint256;

beforeAll(async () => {
  await ensureSteady(kubeconfig);
  await kube.core.createNamespace({ body: { metadata: { name: releaseNs } } });
  // The chart's Bundle reads the previous anchor with includeAllKeys, which trust-manager refuses for a
  // kubernetes.io/tls Secret: replace a copy made the old way once, as docs/runbook.md says (steady: it holds the anchor).
  const existing = await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.previous });
  if ((existing.type ?? 'Opaque') !== 'Opaque') {
    const anchor = await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.anchor });
    await kube.core.deleteNamespacedSecret({ namespace: names.trustNs, name: names.previous });
    await kube.core.createNamespacedSecret({
      namespace: names.trustNs,
      body: { metadata: { name: names.previous }, type: 'Opaque', data: { 'tls.crt': anchor.data?.['tls.crt'] ?? '' } },
    });
  }
  // Helm adopts existing objects that carry its ownership metadata (the runbook's migration step).
  await kube.core.patchNamespacedSecret({ namespace: names.trustNs, name: names.previous, body: { metadata: helmMetadata } }, merge);
  // Helm 3 patches a custom resource it adopts by the difference between two renderings of the chart,
  // never toward the chart from the live spec: give the adopted objects the chart's specs first.
  const rendered = parseManifests(
    succeeded(helm(['template', release, chart, '--namespace', releaseNs, ...values]), 'helm template (adoption)'),
  ) as (k8s.KubernetesObject & { spec?: unknown })[];
  for (const { kind, ref } of adopted) {
    const current = (await getObject(ref)) as Record<string, unknown> & { metadata?: k8s.V1ObjectMeta };
    specsBefore.set(key(ref), current.spec);
    const spec = rendered.find((o) => o.kind === kind && o.metadata?.name === ref.name)?.spec;
    if (spec === undefined) throw new Error(`the chart renders no ${kind} ${ref.name}`);
    const body = {
      ...current,
      metadata: {
        ...current.metadata,
        labels: { ...current.metadata?.labels, ...helmMetadata.labels },
        annotations: { ...current.metadata?.annotations, ...helmMetadata.annotations },
      },
      spec,
    };
    if ('namespace' in ref) await kube.custom.replaceNamespacedCustomObject({ ...ref, body });
    else await kube.custom.replaceClusterCustomObject({ ...ref, body });
  }
});

afterAll(async () => {
  try {
    if (installed) {
      // Uninstalling would delete the adopted cert-manager objects: orphan them instead (drop the
      // release's records), delete what only the release made, and give the fixture its specs back.
      const rendered = parseManifests(succeeded(helm(['template', release, chart, '--namespace', releaseNs, ...values]), 'helm template (teardown)'));
      const own = rendered.filter((o) => !['Issuer', 'ClusterIssuer', 'Certificate', 'Bundle', 'Secret'].includes(o.kind ?? ''));
      succeeded(
        kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: own })),
        'delete the release objects',
      );
      succeeded(kubectl(['delete', 'secret', '-n', releaseNs, '-l', `owner=helm,name=${release}`]), 'delete the release records');
    }
  } finally {
    const drop = {
      'app.kubernetes.io/managed-by': null,
      'app.kubernetes.io/instance': null,
      'app.kubernetes.io/name': null,
      'app.kubernetes.io/version': null,
      'helm.sh/chart': null,
    };
    const unannotate = { 'meta.helm.sh/release-name': null, 'meta.helm.sh/release-namespace': null, 'helm.sh/resource-policy': null };
    for (const { ref } of adopted) {
      const spec = specsBefore.get(key(ref));
      if (spec === undefined) continue;
      // A merge patch cannot drop list items or keys the chart added; replace the spec whole.
      const current = await getObject(ref);
      const body = {
        ...current,
        metadata: { ...current.metadata, labels: { ...current.metadata?.labels, ...drop }, annotations: { ...current.metadata?.annotations, ...unannotate } },
      };
      await patchObject(ref, { metadata: body.metadata });
      const fresh = (await getObject(ref)) as Record<string, unknown>;
      const replaced = { ...fresh, spec };
      if ('namespace' in ref) await kube.custom.replaceNamespacedCustomObject({ ...ref, body: replaced });
      else await kube.custom.replaceClusterCustomObject({ ...ref, body: replaced });
    }
    await kube.core
      .patchNamespacedSecret({ namespace: names.trustNs, name: names.previous, body: { metadata: { labels: drop, annotations: unannotate } } }, merge)
      .catch(() => undefined);
    await kube.core.deleteNamespace({ name: releaseNs }).catch(() => undefined);
    await ensureSteady(kubeconfig);
    rmSync(scratch, { recursive: true, force: true });
    console.log(`helm-lifecycle.test.ts timings:\n${timings.join('\n')}`);
  }
});

describe("the chart's certificates.create objects through a Helm lifecycle", () => {
  test(
    ...timed('trust-manager: a Secret without data is an empty source under includeAllKeys, a missing key fails the Bundle', async () => {
      const empty = 'lcr-life-empty-previous';
      await kube.core.createNamespacedSecret({ namespace: names.trustNs, body: { metadata: { name: empty }, type: 'Opaque' } });
      const bundles = { group: 'trust.cert-manager.io', version: 'v1alpha1', plural: 'bundles' };
      const target = { configMap: { key: 'ca-bundle.crt' }, namespaceSelector: { matchLabels: { 'linkerd.io/is-control-plane': 'true' } } };
      const make = (name: string, previous: object) =>
        kube.custom.createClusterCustomObject({
          ...bundles,
          body: {
            apiVersion: 'trust.cert-manager.io/v1alpha1',
            kind: 'Bundle',
            metadata: { name },
            spec: { sources: [{ secret: { name: names.anchor, key: 'tls.crt' } }, { secret: { name: empty, ...previous } }], target },
          },
        });
      try {
        await make('lcr-life-all-keys', { includeAllKeys: true });
        await make('lcr-life-named-key', { key: 'tls.crt' });
        const anchor = await anchorFingerprint();
        await eventually(
          'the includeAllKeys Bundle writes the anchor alone',
          async () => {
            const map = await kube.core.readNamespacedConfigMap({ namespace: names.linkerdNs, name: 'lcr-life-all-keys' });
            expect(fingerprints(map.data?.['ca-bundle.crt'] ?? '')).toEqual([anchor]);
          },
          60_000,
        );
        await eventually(
          'the named-key Bundle fails for the missing key',
          async () => {
            const bundle = (await kube.custom.getClusterCustomObject({ ...bundles, name: 'lcr-life-named-key' })) as {
              status?: { conditions?: { type: string; status: string; reason?: string }[] };
            };
            expect(bundle.status?.conditions?.find((c) => c.type === 'Synced')).toMatchObject({ status: 'False', reason: 'SourceNotFound' });
          },
          60_000,
        );
        expect(await statusOfCall(kube.core.readNamespacedConfigMap({ namespace: names.linkerdNs, name: 'lcr-life-named-key' }))).toBe(404);
      } finally {
        for (const name of ['lcr-life-all-keys', 'lcr-life-named-key'])
          await kube.custom.deleteClusterCustomObject({ ...bundles, name }).catch(() => undefined);
        await kube.core.deleteNamespacedSecret({ namespace: names.trustNs, name: empty }).catch(() => undefined);
      }
    }),
  );

  test(
    ...timed('helm install adopts the objects; a full rotation as the ServiceAccount keeps the Secret in place and owned by Helm', async () => {
      const before = await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.previous });
      secretUid = before.metadata?.uid ?? '';
      const oldAnchor = await anchorFingerprint();
      succeeded(helm(['install', release, chart, '--namespace', releaseNs, ...values]), 'helm install');
      installed = true;
      saKubeconfig = (await serviceAccountKubeconfig(kube.core, join(scratch, 'sa.kubeconfig'), { namespace: releaseNs, name: fullname })).kubeconfig;
      await expectTrust('after helm install', oldAnchor, [oldAnchor]);
      // The chart's settings reached the live objects.
      const anchorCert = (await getObject(adopted[1].ref)).spec as { renewBefore: string; issuerRef: { group: string } };
      expect(anchorCert).toMatchObject({ renewBefore: '720h0m0s', issuerRef: { group: 'cert-manager.io' } });
      const bundle = (await getObject(adopted[4].ref)).spec as { sources: object[] };
      expect(bundle.sources).toContainEqual({ secret: { name: names.previous, includeAllKeys: true } });

      const monitor = new InvariantMonitor(kubeconfig);
      monitor.start();
      const run = await rotator(['rotate', '--force']);
      await monitor.stop();
      expectExit(run, 0);
      expect(run.stderr).not.toMatch(/forbidden/i);
      expect(monitor.violations).toEqual([]);
      const newAnchor = await anchorFingerprint();
      expect(newAnchor).not.toBe(oldAnchor);
      await expectTrust('after the first rotation', newAnchor, [newAnchor]);
    }),
  );

  test(
    ...timed('helm upgrade --reuse-values, a rotation with an upgrade and helm template | kubectl apply in its middle, another upgrade', async () => {
      const first = await anchorFingerprint();
      succeeded(helm(['upgrade', release, chart, '--namespace', releaseNs, '--reuse-values', '--set', 'cronJob.suspend=true']), 'helm upgrade');
      await expectTrust('after helm upgrade', first, [first]);

      // Steps 1-3 of the next rotation: the bundle holds both anchors, the Secret the old one.
      for (const args of [['renew-certs', '--which', 'anchor'], ['restart-control-plane'], ['restart-data-plane']]) expectExit(await rotator(args), 0);
      const second = await anchorFingerprint();
      expect(second).not.toBe(first);
      await expectTrust('mid-rotation (anchor renewed, mesh restarted)', first, [first, second]);

      succeeded(helm(['upgrade', release, chart, '--namespace', releaseNs, '--reuse-values']), 'helm upgrade mid-rotation');
      await expectTrust('mid-rotation, after helm upgrade', first, [first, second]);

      // Rendering without lookup, applied as a user or a GitOps controller would.
      const rendered = succeeded(helm(['template', release, chart, '--namespace', releaseNs, ...values]), 'helm template');
      expect(parseManifests(rendered).find((o) => o.kind === 'Secret' && o.metadata?.name === names.previous)).toBeDefined();
      succeeded(kubectl(['apply', '-f', '-'], rendered), 'kubectl apply (client-side)');
      await expectTrust('mid-rotation, after helm template | kubectl apply', first, [first, second]);
      succeeded(
        kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=gitops', '-f', '-'], rendered),
        'kubectl apply --server-side --force-conflicts',
      );
      await expectTrust('mid-rotation, after helm template | kubectl apply --server-side --force-conflicts', first, [first, second]);

      const monitor = new InvariantMonitor(kubeconfig);
      monitor.start();
      const finish = await rotator(['rotate']);
      await monitor.stop();
      expectExit(finish, 0);
      expect(monitor.violations).toEqual([]);
      expect(await anchorFingerprint()).toBe(second);
      await expectTrust('after the second rotation', second, [second]);

      succeeded(helm(['upgrade', release, chart, '--namespace', releaseNs, '--reuse-values']), 'helm upgrade after the rotation');
      await expectTrust('after the last helm upgrade', second, [second]);
    }),
  );

  test(
    ...timed('--soft-exits (the chart default): a held lock ends the run with 0, and with exit 6 without it', async () => {
      const now = new Date();
      // The rotations above left the released Lease behind: another run takes it now.
      const held = { holderIdentity: 'another-run', leaseDurationSeconds: 120, acquireTime: new k8s.V1MicroTime(now), renewTime: new k8s.V1MicroTime(now) };
      const lease = await leases.readNamespacedLease({ namespace: lockNs, name: 'linkerd-cert-rotator' }).catch(() => undefined);
      if (lease) await leases.replaceNamespacedLease({ namespace: lockNs, name: 'linkerd-cert-rotator', body: { ...lease, spec: { ...lease.spec, ...held } } });
      else await leases.createNamespacedLease({ namespace: lockNs, body: { metadata: { name: 'linkerd-cert-rotator' }, spec: held } });
      try {
        const before = await kube.resourceVersions();
        const soft = await rotator(['restart-control-plane']);
        expectExit(soft, 0);
        expect(soft.logs.some((l) => /exit code 6 reported as 0 \(--soft-exits\)/.test(String(l.message)))).toBe(true);
        const strict = await rotator(['restart-control-plane'], { LCR_SOFT_EXITS: 'false' });
        expectExit(strict, 6);
        expect(await kube.resourceVersions()).toEqual(before);
      } finally {
        await leases.deleteNamespacedLease({ namespace: lockNs, name: 'linkerd-cert-rotator' }).catch(() => undefined);
      }
    }),
  );
});
