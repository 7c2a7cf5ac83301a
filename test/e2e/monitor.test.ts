import { X509Certificate } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { names } from '../harness/fixture.js';
import { identityIssuersAnnotation, issuerAnnotation, leafIssuers } from '../harness/injector.js';
import { InvariantMonitor } from '../harness/monitor.js';
import { runRotator } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';
import { signedBy } from '../harness/kube.js';

/**
 * The monitor sees what gate 2 guards against: a pod admitted after the issuer renewal but
 * served by an identity controller started before it holds a leaf that chains to the old
 * anchor. Driven without the rotator's safe order (the old anchor is dropped by hand while
 * identity still runs with the old issuer), then repaired by `rotate`.
 */
const kube = e2eKube();
const kubeconfig = e2eKubeconfig();

/** Deployments restarted after the issuer renewal, identity left alone: their new pods are the old-chain suspects. */
const suspects = [
  ['shop', 'api'],
  ['blog', 'frontend'],
  ['jobs', 'worker'],
] as const;
/** Deployments restarted after the trim: their pods trust only the new anchor. */
const trimmedPeers = [
  [names.vizNs, 'web'],
  [names.vizNs, 'tap'],
] as const;

const pemCerts = (text: string): string[] => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
const short = (fingerprint: string): string => fingerprint.slice(0, 23);
const nameOf = (pod: k8s.V1Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

/** What `kubectl rollout status` waits for, read straight from the Deployment. */
async function rolledOut(namespace: string, name: string): Promise<void> {
  await eventually(
    `${namespace}/${name} rolled out`,
    async () => {
      const d = await kube.apps.readNamespacedDeployment({ namespace, name });
      const want = d.spec?.replicas ?? 1;
      const s = d.status;
      const done =
        (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
        s?.updatedReplicas === want &&
        s.replicas === want &&
        (s.availableReplicas ?? 0) >= want;
      if (!done) throw new Error(JSON.stringify(s));
    },
    90_000,
  );
}

/** Restarts Deployments like `kubectl rollout restart`, waits for them, and returns their running pods. */
async function restart(targets: readonly (readonly [string, string])[]): Promise<k8s.V1Pod[]> {
  for (const [namespace, name] of targets) await kube.restartDeployment(namespace, name);
  for (const [namespace, name] of targets) await rolledOut(namespace, name);
  const pods: k8s.V1Pod[] = [];
  for (const [namespace, name] of targets) {
    const list = await kube.core.listNamespacedPod({ namespace, labelSelector: `app=${name}` });
    pods.push(...list.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running'));
  }
  return pods;
}

/** Writes the previous-anchor Secret as a clean, certificate-only object, as no gate would allow here. */
async function writePreviousAnchor(pem: string): Promise<void> {
  const current = await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.previous });
  const body: k8s.V1Secret = {
    metadata: { name: names.previous, namespace: names.trustNs },
    type: 'Opaque',
    data: { 'tls.crt': Buffer.from(pem).toString('base64') },
  };
  if ((current.type ?? 'Opaque') === 'Opaque') {
    await kube.core.replaceNamespacedSecret({
      namespace: names.trustNs,
      name: names.previous,
      body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion } },
    });
  } else {
    // A Secret's type is immutable (the fixture's copy of the anchor Secret is kubernetes.io/tls).
    await kube.core.deleteNamespacedSecret({ namespace: names.trustNs, name: names.previous });
    await kube.core.createNamespacedSecret({ namespace: names.trustNs, body });
  }
}

const trustedBy = (pod: k8s.V1Pod): Set<string> => {
  const env = pod.spec?.containers.find((c) => c.name === 'linkerd-proxy')?.env?.find((e) => e.name === 'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS')?.value ?? '';
  return new Set(pemCerts(env).map((p) => new X509Certificate(p).fingerprint256));
};

describe('the invariant monitor models the issuer the identity controller loaded', () => {
  beforeAll(() => ensureSteady(kubeconfig));
  afterAll(() => ensureSteady(kubeconfig));

  test('a gate-2 regression (old anchor dropped while identity serves the old issuer) is caught, and only by the new model', async () => {
    const oldAnchor = await kube.anchor();
    const oldIssuer = await kube.issuer();
    const signerOf = (pem: string, anchors: X509Certificate[]): string => {
      const issuer = new X509Certificate(pem);
      return anchors.find((a) => signedBy(issuer, a))?.fingerprint256 ?? `unknown signer of ${issuer.fingerprint256}`;
    };
    const monitor = new InvariantMonitor(kubeconfig);
    monitor.start();
    let stopped = false;
    let peerNames: string[] = [];
    let oldIdentity = '';
    try {
      // Steps 1-3 of the safe order: the new anchor is trusted by everybody.
      expect((await runRotator(kubeconfig, ['renew-certs', '--which', 'anchor'])).code).toBe(0);
      const anchor = await kube.anchor();
      expect(anchor.fingerprint256).not.toBe(oldAnchor.fingerprint256);
      await eventually('bundle with both anchors', async () =>
        expect(await kube.bundleFingerprints()).toEqual([oldAnchor.fingerprint256, anchor.fingerprint256].sort()),
      );
      expect((await runRotator(kubeconfig, ['restart-control-plane'])).code).toBe(0);
      expect((await runRotator(kubeconfig, ['restart-data-plane'])).code).toBe(0);
      const [identityPod, ...moreIdentity] = (
        await kube.core.listNamespacedPod({ namespace: names.linkerdNs, labelSelector: 'linkerd.io/control-plane-component=identity' })
      ).items.filter((p) => !p.metadata?.deletionTimestamp);
      expect(moreIdentity).toEqual([]);
      oldIdentity = `${nameOf(identityPod as k8s.V1Pod)} created ${identityPod?.metadata?.creationTimestamp?.toISOString() ?? '?'}`;

      // Step 4, then the data plane restarted but not the identity controller: it still serves the old issuer.
      await kube.cmctlRenew(names.linkerdNs, names.issuer);
      const issuer = await eventually('issuer re-issued', async () => {
        const current = await kube.issuer();
        if (current.fingerprint256 === oldIssuer.fingerprint256) throw new Error('not yet');
        return current;
      });
      expect(signedBy(issuer, anchor)).toBe(true);
      const renewedAt = Date.now();
      const suspectPods = await restart(suspects);
      expect(suspectPods.length).toBe(5);
      for (const pod of suspectPods) {
        expect(new Date(pod.metadata?.creationTimestamp ?? 0).getTime()).toBeGreaterThanOrEqual(Math.floor(renewedAt / 1000) * 1000);
        // The injector's record: the issuer Secret says new, the identity pod running then says old.
        expect(new X509Certificate(pod.metadata?.annotations?.[issuerAnnotation] ?? '').fingerprint256).toBe(issuer.fingerprint256);
        expect(pemCerts(pod.metadata?.annotations?.[identityIssuersAnnotation] ?? '').map((p) => new X509Certificate(p).fingerprint256)).toEqual([
          oldIssuer.fingerprint256,
        ]);
      }

      // Step 7 done too early: the new anchor alone in the previous-anchor Secret, written by hand.
      await writePreviousAnchor(anchor.toString());
      await eventually('bundle with one anchor', async () => expect(await kube.bundleFingerprints()).toEqual([anchor.fingerprint256]));
      const peers = await restart(trimmedPeers);
      expect(peers.length).toBe(2);
      for (const peer of peers) expect([...trustedBy(peer)]).toEqual([anchor.fingerprint256]);
      const samples = monitor.samples;
      await eventually('two monitor samples with the new peers', () => Promise.resolve(expect(monitor.samples).toBeGreaterThanOrEqual(samples + 2)));
      const seen = await kube.core.listPodForAllNamespaces({ labelSelector: 'linkerd.io/control-plane-ns' });
      await monitor.stop();
      stopped = true;

      const anchors = [oldAnchor, anchor];
      const running = new Map(seen.items.filter((p) => p.status?.phase === 'Running').map((p) => [nameOf(p), p]));
      const suspectNames = suspectPods.map(nameOf).filter((name) => running.has(name));
      peerNames = peers.map(nameOf);
      expect(suspectNames.length).toBe(suspectPods.length);
      const pairs = (model: (pod: k8s.V1Pod) => string[]): string[] =>
        suspectNames.flatMap((name) => {
          const pod = running.get(name) as k8s.V1Pod;
          return peerNames.flatMap((peerName) => {
            const trusted = trustedBy(running.get(peerName) as k8s.V1Pod);
            return model(pod)
              .filter((a) => !trusted.has(a))
              .map((a) => `${name} -> ${peerName} lacks ${short(a)}`);
          });
        });
      const everyPair = suspectNames.flatMap((name) => peerNames.map((peerName) => `${name} -> ${peerName} lacks ${short(oldAnchor.fingerprint256)}`)).sort();
      // New model (every recorded issuer a candidate): every suspect against every trimmed peer, the old anchor missing.
      expect(pairs((pod) => leafIssuers(pod).map((pem) => signerOf(pem, anchors))).sort()).toEqual(everyPair);
      // Old model (the issuer Secret at admission only): nothing to see.
      expect(pairs((pod) => [signerOf(pod.metadata?.annotations?.[issuerAnnotation] ?? '', anchors)])).toEqual([]);
      // And the monitor itself reported exactly those pairs (among the violations of pods never restarted since step 3).
      const reported = new Set(monitor.violations.map((v) => `${v.pod} -> ${v.peer} lacks ${v.missingAnchor}`));
      expect(everyPair.filter((pair) => !reported.has(pair))).toEqual([]);
      expect(monitor.violations.some((v) => v.pod === nameOf(identityPod as k8s.V1Pod))).toBe(true);
    } finally {
      if (!stopped) await monitor.stop().catch(() => undefined);
    }

    // Repair with the rotator alone.
    for (let attempt = 1; (await statusOf(kubeconfig)).report.phase !== 'steady'; attempt++) {
      expect(attempt).toBeLessThanOrEqual(3);
      const run = await runRotator(kubeconfig, ['rotate']);
      expect(run.code).toBe(0);
    }
    // Finding: rotate restarts only pods whose bundle is wrong, so the peers restarted after the trim keep the
    // leaf the old identity controller gave them (their bundle is right). Nothing else may be left over.
    const residual = new InvariantMonitor(kubeconfig);
    await residual.sample();
    const leftOver = [...new Set(residual.violations.map((v) => v.pod))].sort();
    expect(leftOver.filter((pod) => !peerNames.includes(pod))).toEqual([]);
    if (leftOver.length > 0) {
      const seen = await kube.core.listPodForAllNamespaces({ labelSelector: 'linkerd.io/control-plane-ns' });
      const details = seen.items
        .filter((p) => leftOver.includes(nameOf(p)))
        .map(
          (p) =>
            `  ${nameOf(p)} created ${p.metadata?.creationTimestamp?.toISOString() ?? '?'}, leaf issuers ${leafIssuers(p)
              .map((pem) => short(new X509Certificate(pem).fingerprint256))
              .join(', ')}`,
        );
      process.stdout.write(
        `after rotate, ${leftOver.length} pod(s) still hold a leaf whose anchor no pod trusts (identity then: ${oldIdentity}):\n${details.join('\n')}\n`,
      );
      await restart(trimmedPeers);
    }
    // Now the new model sees nothing: it does not over-report a steady mesh.
    const after = new InvariantMonitor(kubeconfig);
    await after.sample();
    expect(after.violations).toEqual([]);
    const { code } = await statusOf(kubeconfig);
    expect(code).toBe(0);
  });
});
