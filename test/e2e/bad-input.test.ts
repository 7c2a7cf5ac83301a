import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { bundleObject, names } from '../harness/fixture.js';
import { runRotator } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();

async function putSecret(name: string, crt: string): Promise<void> {
  await kube.core.deleteNamespacedSecret({ namespace: names.trustNs, name }).catch(() => undefined);
  await kube.core.createNamespacedSecret({
    namespace: names.trustNs,
    body: { metadata: { name }, type: 'Opaque', data: { 'tls.crt': Buffer.from(crt).toString('base64') } },
  });
}

/** Runs rotate (forced, so only the bad input can stop it) and proves it failed with `code`, said `pattern`, and changed nothing. */
async function refused(args: string[], code: number, pattern: RegExp): Promise<string> {
  const before = await kube.resourceVersions();
  const run = await runRotator(kubeconfig, ['rotate', '--force', ...args]);
  expect({ code: run.code, stderr: run.stderr.slice(-1500) }).toEqual({ code, stderr: expect.stringMatching(pattern) as unknown });
  expect(await kube.resourceVersions()).toEqual(before);
  return run.stderr;
}

describe('bad input gets a clear error and changes nothing', () => {
  beforeAll(() => ensureSteady(kubeconfig));
  // Whatever a failing test leaves half-done, the next file on this cluster must not inherit it.
  afterAll(() => ensureSteady(kubeconfig));

  // The anchor and issuer certificates come from cert-manager's CertificateRequests now, never from
  // their Secrets (issue 11): a malformed, expired or RSA certificate in a Secret is not read at all.
  // PEM, expiry and key-type checks of what is read are unit tests (test/unit/certs, published.test.ts).
  test('an --anchor-secret the Bundle does not read is refused, naming it', async () => {
    await putSecret('broken-anchor', '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n');
    try {
      await refused(['--anchor-secret', 'broken-anchor'], 3, /Bundle linkerd-identity-trust-roots has no source Secret broken-anchor key tls\.crt/);
    } finally {
      await kube.core.deleteNamespacedSecret({ namespace: names.trustNs, name: 'broken-anchor' });
    }
  });

  test('missing Certificate', async () => {
    await refused(['--anchor-certificate', 'no-such-anchor'], 3, /Certificate cert-manager\/no-such-anchor not found/);
  });

  test('a paused Deployment', async () => {
    await kube.mergePatchDeployment('shop', 'api', { spec: { paused: true } });
    try {
      await refused([], 3, /Deployment shop\/api is paused/);
    } finally {
      await kube.mergePatchDeployment('shop', 'api', { spec: { paused: false } });
    }
  });

  test('a rollout that cannot progress fails with ProgressDeadlineExceeded', async () => {
    await kube.core.createNamespace({ body: { metadata: { name: 'stuck', annotations: { 'linkerd.io/inject': 'enabled' } } } });
    try {
      await kube.apps.createNamespacedDeployment({
        namespace: 'stuck',
        body: {
          metadata: { name: 'stuck' },
          spec: {
            replicas: 1,
            progressDeadlineSeconds: 2,
            selector: { matchLabels: { app: 'stuck' } },
            template: {
              metadata: { labels: { app: 'stuck' } },
              spec: { nodeSelector: { 'no-such-label': 'x' }, containers: [{ name: 'app', image: 'registry.local/app:1' }] },
            },
          },
        },
      });
      const run = await runRotator(kubeconfig, ['restart-data-plane', '--include-namespaces', 'stuck', '--rollout-timeout', '90s']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/Deployment stuck\/stuck exceeded its progress deadline/);
    } finally {
      await kube.core.deleteNamespace({ name: 'stuck' });
      await waitGone(() => kube.core.readNamespace({ name: 'stuck' }));
    }
  });

  test('missing Bundle CRD', async () => {
    const crdName = 'bundles.trust.cert-manager.io';
    const statusBefore = await statusOf(kubeconfig);
    await kube.ext.deleteCustomResourceDefinition({ name: crdName });
    try {
      await waitGone(() => kube.ext.readCustomResourceDefinition({ name: crdName }));
      const run = await runRotator(kubeconfig, ['rotate']);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/bundles\.trust\.cert-manager\.io\/v1alpha1 is not served.*trust-manager/);
      const status = await runRotator(kubeconfig, ['status']);
      expect(status.code).toBe(11);
    } finally {
      restoreTrustManagerCrds();
      const objects = k8s.KubernetesObjectApi.makeApiClient(kube.config);
      await retry(() => objects.create(bundleObject()));
      await retry(async () => {
        if ((await kube.bundleFingerprints()).length !== 1) throw new Error('bundle not yet rebuilt');
      });
    }
    const statusAfter = await statusOf(kubeconfig);
    expect({ code: statusAfter.code, phase: statusAfter.report.phase }).toEqual({ code: statusBefore.code, phase: statusBefore.report.phase });
  });
});

function restoreTrustManagerCrds(): void {
  const cache = process.env.LCR_CACHE_DIR ?? join(process.env.HOME ?? '/root', '.cache/linkerd-cert-rotator');
  const dir = readdirSync(join(cache, 'crds')).find((d) => d.startsWith('trust-manager-'));
  if (!dir) throw new Error('trust-manager CRDs not in the cache');
  const result = spawnSync(
    'kubectl',
    ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--force-conflicts', '-f', join(cache, 'crds', dir, 'crds.yaml')],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`restoring CRDs failed: ${result.stderr}`);
}

async function waitGone(read: () => Promise<unknown>): Promise<void> {
  await retry(async () => {
    const gone = await read().then(
      () => false,
      () => true,
    );
    if (!gone) throw new Error('still there');
  });
}

async function retry<T>(probe: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
}
