import { X509Certificate } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { e2eKubeconfig } from './env.js';
import { eventually } from './eventually.js';
import { fixtureSchedules, names } from './fixture.js';
import { isIdentityPod, leafIssuers } from './injector.js';
import { signedBy, TestKube } from './kube.js';
import { runRotator } from './rotator.js';

/** Status exit code and parsed report. */
export async function statusOf(kubeconfig = e2eKubeconfig()): Promise<{ code: number | null; report: { health: string; phase: string; stale: unknown[] } }> {
  const run = await runRotator(kubeconfig, ['status', '--output', 'json']);
  return { code: run.code, report: JSON.parse(run.stdout) as { health: string; phase: string; stale: unknown[] } };
}

/** A meshed pod that does not trust only the current anchor, or whose leaf may come from an issuer the anchor did not sign. */
interface StalePod {
  namespace: string;
  name: string;
  identity: boolean;
}

/**
 * What keeps the cluster from the fixture's steady state, judged from the objects themselves (the
 * rotator's own reading is what the tests test): the Certificates' schedules as the fixture lays
 * them, the issuer signed by the anchor, the previous-anchor Secret and the bundle holding only the
 * anchor, every meshed pod born with that bundle and a leaf of an issuer the anchor signed, and no
 * meshed pod still terminating.
 */
async function unsteadiness(kube: TestKube): Promise<{ findings: string[]; stale: StalePod[] }> {
  const findings: string[] = [];
  for (const schedule of fixtureSchedules()) {
    const cert = (await kube.custom.getNamespacedCustomObject({
      group: 'cert-manager.io',
      version: 'v1',
      plural: 'certificates',
      namespace: schedule.namespace,
      name: schedule.name,
    })) as { spec?: { duration?: string; renewBefore?: string } };
    if (cert.spec?.duration !== schedule.duration || cert.spec.renewBefore !== schedule.renewBefore)
      findings.push(`Certificate ${schedule.namespace}/${schedule.name} schedule changed`);
  }
  const anchor = await kube.anchor();
  if (!signedBy(await kube.issuer(), anchor)) findings.push('issuer not signed by the anchor');
  const [previous] = await kube.secretCerts(names.trustNs, names.previous).catch(() => []);
  if (previous?.fingerprint256 !== anchor.fingerprint256) findings.push('previous-anchor Secret is not the anchor');
  const bundle = await kube.bundleFingerprints().catch(() => []);
  if (bundle.join() !== anchor.fingerprint256) findings.push(`bundle holds ${bundle.length} certificate(s), not only the anchor`);
  const stale: StalePod[] = [];
  for (const { pod, anchors } of await kube.meshedPods()) {
    const issuers = leafIssuers(pod).map((pem) => new X509Certificate(pem));
    if (anchors.join() === anchor.fingerprint256 && issuers.every((issuer) => signedBy(issuer, anchor))) continue;
    const { namespace = '', name = '', labels } = pod.metadata ?? {};
    stale.push({ namespace, name, identity: isIdentityPod(namespace, labels) });
  }
  if (stale.length > 0) findings.push(`${stale.length} meshed pod(s) do not trust only the anchor`);
  const pods = await kube.core.listPodForAllNamespaces({ labelSelector: 'linkerd.io/control-plane-ns' });
  const terminating = pods.items.filter((pod) => pod.metadata?.deletionTimestamp).length;
  if (terminating > 0) findings.push(`${terminating} meshed pod(s) still terminating`);
  return { findings, stale };
}

/**
 * Deletes the stale pods of one group (identity's, or every other) and waits until the group has no
 * stale pod left: controllers re-create theirs with the current bundle, a bare pod is just gone.
 */
async function replaceStale(kube: TestKube, identity: boolean): Promise<void> {
  const group = (await unsteadiness(kube)).stale.filter((pod) => pod.identity === identity);
  if (group.length === 0) return;
  for (const { namespace, name } of group) {
    await kube.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 }).catch((error: unknown) => {
      if ((error as { code?: number }).code !== 404) throw error;
    });
  }
  await eventually(
    `replacements of ${group.length} ${identity ? 'identity' : 'meshed'} pod(s) trusting only the anchor`,
    async () => {
      const left = (await unsteadiness(kube)).stale.filter((pod) => pod.identity === identity);
      if (left.length > 0) throw new Error(`still stale: ${left.map((p) => `${p.namespace}/${p.name}`).join(', ')}`);
    },
    120_000,
  );
}

/**
 * Lets a test file start from (and leave) the fixture's steady state, whatever the previous file
 * did, with the harness's own hands, not the rotator's: the fixture's certificate schedules put
 * back, the issuer re-issued under the anchor (cmctl renew) if it is not, the previous-anchor Secret
 * set to the anchor (certificate only, as the rotator writes it) so trust-manager trims the bundle,
 * then identity's pods replaced, then every other meshed pod that does not trust only the anchor.
 * Returns what it found (empty when the cluster was steady already).
 */
export async function ensureSteady(kubeconfig = e2eKubeconfig()): Promise<string[]> {
  const kube = new TestKube(kubeconfig);
  const first = await unsteadiness(kube);
  if (first.findings.length === 0) return [];
  for (const schedule of fixtureSchedules()) {
    await kube.custom.patchNamespacedCustomObject(
      {
        group: 'cert-manager.io',
        version: 'v1',
        plural: 'certificates',
        namespace: schedule.namespace,
        name: schedule.name,
        body: { spec: { duration: schedule.duration, renewBefore: schedule.renewBefore } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }
  let anchor = await kube.anchor();
  if (!signedBy(await kube.issuer(), anchor)) {
    await kube.cmctlRenew(names.linkerdNs, names.issuer);
    await eventually('issuer re-issued under the anchor', async () => {
      anchor = await kube.anchor();
      if (!signedBy(await kube.issuer(), anchor)) throw new Error('issuer not signed by the anchor yet');
    });
  }
  await layPreviousAnchor(kube, anchor);
  await eventually('bundle holding only the anchor', async () => {
    const bundle = await kube.bundleFingerprints();
    if (bundle.join() !== anchor.fingerprint256) throw new Error(`bundle holds ${bundle.length} certificate(s)`);
  });
  await replaceStale(kube, true);
  // After identity's: the others' leaves come from identity pods that loaded the current issuer.
  await replaceStale(kube, false);
  await eventually(
    'the fixture steady again',
    async () => {
      const { findings } = await unsteadiness(kube);
      if (findings.length > 0) throw new Error(findings.join('; '));
    },
    120_000,
  );
  // The rotator's reading must agree with the harness's (a disagreement is a finding of its own).
  const { report } = await statusOf(kubeconfig);
  if (report.phase !== 'steady' || report.health !== 'healthy')
    throw new Error(
      `the harness made the fixture steady (it found: ${first.findings.join('; ')}), but the rotator's status says phase ${report.phase}, health ${report.health}`,
    );
  return first.findings;
}

/** The previous-anchor Secret holding only the anchor's certificate (its type is immutable: re-created when it differs). */
async function layPreviousAnchor(kube: TestKube, anchor: X509Certificate): Promise<void> {
  const body: k8s.V1Secret = {
    metadata: { name: names.previous, namespace: names.trustNs },
    type: 'Opaque',
    data: { 'tls.crt': Buffer.from(anchor.toString()).toString('base64') },
  };
  const existing = await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.previous }).catch(() => undefined);
  if (existing?.type === 'Opaque') {
    await kube.core.replaceNamespacedSecret({
      namespace: names.trustNs,
      name: names.previous,
      body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } },
    });
    return;
  }
  if (existing) await kube.core.deleteNamespacedSecret({ namespace: names.trustNs, name: names.previous });
  await kube.core.createNamespacedSecret({ namespace: names.trustNs, body });
}
