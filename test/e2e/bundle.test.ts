import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { repoRoot } from '../harness/cluster.js';
import { eventually } from '../harness/eventually.js';
import { bundleObject, clusterBundleObject, names } from '../harness/fixture.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { InvariantMonitor } from '../harness/monitor.js';
import { runRotator } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';
import { clusterTools, parseManifests, succeeded } from '../harness/tools.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();

const bundleApi = { group: 'trust.cert-manager.io', version: 'v1alpha1', plural: 'bundles', name: names.bundle };
const clusterBundleApi = { group: 'trust-manager.io', version: 'v1alpha2', plural: 'clusterbundles', name: names.bundle };
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

interface Report {
  health: string;
  phase: string;
  findings: { severity: string; subject: string; message: string }[];
}

async function setBundleSpec(spec: unknown): Promise<void> {
  await kube.custom.patchClusterCustomObject({ ...bundleApi, body: { spec } }, mergePatch);
}

async function bundleConfigMap(): Promise<{ resourceVersion: string; pem: string }> {
  const map = await kube.core.readNamespacedConfigMap({ namespace: names.linkerdNs, name: names.bundle });
  return { resourceVersion: map.metadata?.resourceVersion ?? '', pem: map.data?.['ca-bundle.crt'] ?? '' };
}

/** Everything a refused run must leave as it was: certificates, Secrets, workloads, pods, the bundle. */
async function snapshot(): Promise<unknown> {
  const bundle = (await kube.custom.getClusterCustomObject(bundleApi)) as { metadata?: { generation?: number } };
  return {
    anchor: (await kube.anchor()).fingerprint256,
    issuer: (await kube.issuer()).fingerprint256,
    previous: (await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.previous })).metadata?.resourceVersion,
    bundleGeneration: bundle.metadata?.generation,
    configMap: await bundleConfigMap(),
    everything: await kube.resourceVersions(),
  };
}

async function deleteClusterBundle(): Promise<void> {
  await kube.custom.deleteClusterCustomObject(clusterBundleApi).catch((error: unknown) => {
    if ((error as { code?: number }).code !== 404) throw error;
  });
}

describe('the bundle pre-flight and the ClusterBundle adapter', () => {
  beforeAll(() => ensureSteady(kubeconfig));
  afterAll(async () => {
    await deleteClusterBundle();
    await setBundleSpec(bundleObject().spec);
  });

  test('a Bundle without the previous-anchor source: status is broken and rotate --force refuses, changing nothing', async () => {
    await setBundleSpec(bundleObject({ previousSource: false }).spec);
    try {
      const status = await runRotator(kubeconfig, ['status', '--output', 'json']);
      const report = JSON.parse(status.stdout) as Report;
      expect(status.code).toBe(11);
      expect(report.health).toBe('broken');
      expect(report.findings).toContainEqual({
        severity: 'error',
        subject: 'bundle',
        message: expect.stringMatching(/^Bundle linkerd-identity-trust-roots has no source Secret linkerd-previous-anchor key tls\.crt/) as unknown,
      });

      const before = await snapshot();
      const run = await runRotator(kubeconfig, ['rotate', '--force']);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/refusing to start a rotation.*Bundle linkerd-identity-trust-roots has no source Secret linkerd-previous-anchor/);
      expect(await snapshot()).toEqual(before);
    } finally {
      await setBundleSpec(bundleObject().spec);
    }
    expect((await statusOf(kubeconfig)).report.health).not.toBe('broken');
  });

  test('an emptied bundle ConfigMap: restart-data-plane, restart-control-plane and rotate refuse and restart nothing', async () => {
    // Written under trust-manager's own field manager, so trust-manager (which only re-applies a target
    // whose hash annotation or field ownership changed) leaves the emptied data in place.
    await kube.core.patchNamespacedConfigMap(
      { namespace: names.linkerdNs, name: names.bundle, body: { data: { 'ca-bundle.crt': '' } }, fieldManager: 'trust-manager' },
      mergePatch,
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect((await bundleConfigMap()).pem).toBe('');
      const before = await snapshot();
      for (const command of ['restart-data-plane', 'restart-control-plane']) {
        const run = await runRotator(kubeconfig, [command]);
        expect({ command, code: run.code }).toEqual({ command, code: 3 });
        // The task's phase check (the bundle is not settled) or the restart guard (no anchor at all) refuses first.
        expect(run.stderr).toMatch(
          /refusing to restart: a proxy started now would trust no anchor: ConfigMap linkerd\/linkerd-identity-trust-roots key ca-bundle\.crt holds no certificate|refusing to restart [a-z-]+ in phase [a-z-]+: the bundle is not settled \(linkerd: holds 0 anchor\(s\)/,
        );
      }
      // rotate (no rotation due) would wait for the bundle: refused at once instead of running into the bundle timeout (exit 5).
      const started = Date.now();
      const rotate = await runRotator(kubeconfig, ['rotate']);
      expect(rotate.code).toBe(3);
      expect(rotate.stderr).toMatch(
        /refusing to run, nothing was changed: \(1\) the bundle cannot be awaited: ConfigMap linkerd\/linkerd-identity-trust-roots key ca-bundle\.crt holds no certificate/,
      );
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(await snapshot()).toEqual(before);
    } finally {
      // A deleted target is written again by trust-manager at once.
      await kube.core.deleteNamespacedConfigMap({ namespace: names.linkerdNs, name: names.bundle });
      await eventually('trust-manager to write the bundle ConfigMap again', async () => {
        if (!(await bundleConfigMap()).pem.includes('BEGIN CERTIFICATE')) throw new Error('still empty');
      });
    }
  });

  test("the chart's ClusterBundle (certificates.bundle.kind=ClusterBundle) is valid for the served CRD", () => {
    const { helm, kubectl } = clusterTools(kubeconfig);
    const rendered = succeeded(
      helm([
        'template',
        'lcr',
        join(repoRoot, 'chart'),
        '--set',
        'certificates.create=true',
        '--set',
        'certificates.bundle.kind=ClusterBundle',
        '--show-only',
        'templates/bundle.yaml',
      ]),
      'helm template ClusterBundle',
    );
    const [object, ...rest] = parseManifests(rendered) as (k8s.KubernetesObject & { spec?: unknown })[];
    expect(rest).toEqual([]);
    // The chart's previous-anchor Secret has no data until the first rotation: the chart reads all its keys ("*").
    const spec = clusterBundleObject().spec as { sourceRefs: { name: string; key: string }[] };
    const expected = { ...spec, sourceRefs: spec.sourceRefs.map((ref) => (ref.name === names.previous ? { ...ref, key: '*' } : ref)) };
    expect({ apiVersion: object?.apiVersion, kind: object?.kind, spec: object?.spec }).toEqual({
      apiVersion: 'trust-manager.io/v1alpha2',
      kind: 'ClusterBundle',
      spec: expected,
    });
    const applied = kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], rendered);
    expect({ code: applied.code, stdout: applied.stdout.trim(), warnings: applied.stderr.trim() }).toEqual({
      code: 0,
      stdout: `clusterbundle.trust-manager.io/${names.bundle} serverside-applied (server dry run)`,
      warnings: '',
    });
  });

  test('a ClusterBundle of the same name wins over the Bundle, is checked the same way, and rotates like it', async () => {
    // Without the previous-anchor source, while the Bundle beside it is complete: refused, so the ClusterBundle is what was read.
    await kube.custom.createClusterCustomObject({ ...clusterBundleApi, body: clusterBundleObject({ previousSource: false }) });
    const before = await snapshot();
    const refused = await runRotator(kubeconfig, ['rotate', '--force']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/refusing to start a rotation.*ClusterBundle linkerd-identity-trust-roots has no source Secret linkerd-previous-anchor/);
    expect(await snapshot()).toEqual(before);

    await kube.custom.patchClusterCustomObject({ ...clusterBundleApi, body: { spec: clusterBundleObject().spec } }, mergePatch);
    const oldAnchor = await kube.anchor();
    const monitor = new InvariantMonitor(kubeconfig);
    monitor.start();
    const run = await runRotator(kubeconfig, ['rotate', '--force']);
    await monitor.stop();
    expect(run.code).toBe(0);
    expect(monitor.samples).toBeGreaterThan(10);
    expect(monitor.violations).toEqual([]);
    const anchor = await kube.anchor();
    expect(anchor.fingerprint256).not.toBe(oldAnchor.fingerprint256);
    expect(await kube.bundleFingerprints()).toEqual([anchor.fingerprint256]);
    for (const pod of await kube.meshedPods()) expect({ pod: pod.name, anchors: pod.anchors }).toEqual({ pod: pod.name, anchors: [anchor.fingerprint256] });
    const { code, report } = await statusOf(kubeconfig);
    expect(report.phase).toBe('steady');
    expect(code).toBe(0);
  });
});
