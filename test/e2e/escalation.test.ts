// The escalations of issue 11, attempted for real with a token of the chart's ServiceAccount on the
// real apiserver (RBAC and the ValidatingAdmissionPolicy admission plugin on): no Secret can be created
// or deleted, a restart patch passes but a patch of a workload's image, ServiceAccount or host network
// does not, and the previous-anchor Secret takes a certificate but cannot become a token Secret or hold
// a key. Every write is a server-side dry run (dryRun=All: authorization and admission run, nothing is
// stored). The negative control turns admissionPolicy.enabled off and sees the same image patch and
// token annotation accepted, so the policy, not something else, does the denying.
import * as k8s from '@kubernetes/client-node';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../harness/cluster.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { names } from '../harness/fixture.js';
import { ensureSteady } from '../harness/steady.js';
import { clusterTools, e2eClusterEnv, runTool, statusOfCall, serviceAccountKubeconfig, succeeded } from '../harness/tools.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();
const { helm, kubectl } = clusterTools(kubeconfig);
const chart = join(repoRoot, 'chart');

/** A release of its own (chart.test.ts has the default one): its objects are named `<release>-linkerd-cert-rotator`. */
const releaseNs = 'lcr-escalation';
const release = 'lcr-escalation';
const fullname = `${release}-linkerd-cert-rotator`;
const installArgs = ['--set', 'cronJob.suspend=true', '--set', 'image.repository=localhost/linkerd-cert-rotator', '--set', 'image.tag=dev'];
const workloadPolicy = `ValidatingAdmissionPolicy '${fullname}-workloads'`;
const secretPolicy = `ValidatingAdmissionPolicy '${fullname}-previous-anchor'`;

const scratch = mkdtempSync(join(tmpdir(), 'lcr-escalation-'));
const started = Date.now();
let sa: { core: k8s.CoreV1Api; apps: k8s.AppsV1Api; authz: k8s.AuthorizationV1Api };
let saKubeconfig = '';
let installed = false;

/** HTTP status and the Status message of a call (200 and '' when it succeeded). */
async function outcome(call: Promise<unknown>): Promise<{ code: number | undefined; message: string }> {
  try {
    await call;
    return { code: 200, message: '' };
  } catch (error) {
    const { code, body } = error as { code?: number; body?: unknown };
    let message = typeof body === 'string' ? body : String(error);
    try {
      message = (JSON.parse(message) as { message?: string }).message ?? message;
    } catch {
      // not a Status: keep the raw text
    }
    return { code, message };
  }
}

const strategic = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
const json = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
const restartedAt = (): Record<string, unknown> => ({
  spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } },
});
const podSpecPatch = (spec: Record<string, unknown>): Record<string, unknown> => ({ spec: { template: { spec } } });

/** A dry-run strategic merge patch of Deployment shop/api as the ServiceAccount. */
function patchApi(body: object, options = strategic): Promise<{ code: number | undefined; message: string }> {
  return outcome(sa.apps.patchNamespacedDeployment({ namespace: 'shop', name: 'api', body, dryRun: 'All' }, options));
}

/** SelfSubjectAccessReview with the ServiceAccount's token. */
async function may(attributes: k8s.V1ResourceAttributes): Promise<boolean> {
  const review = await sa.authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attributes } } });
  return review.status?.allowed ?? false;
}

const certManagerKey = (key: string): boolean => key.startsWith('cert-manager.io/') || key.startsWith('controller.cert-manager.io/');
const withoutCertManager = (map: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(map ?? {}).filter(([key]) => !certManagerKey(key)));

/**
 * The previous-anchor Secret as the rotator writes it (read as the ServiceAccount, like the rotator):
 * the same object with only tls.crt (and an empty tls.key for a kubernetes.io/tls copy made the old
 * way), cert-manager's labels and annotations dropped, the managed-by label added when absent.
 */
async function certificateOnly(): Promise<k8s.V1Secret> {
  const current = await sa.core.readNamespacedSecret({ namespace: names.trustNs, name: names.previous });
  const metadata = { ...current.metadata, managedFields: undefined };
  return {
    ...current,
    metadata: {
      ...metadata,
      labels: { 'app.kubernetes.io/managed-by': 'linkerd-cert-rotator', ...withoutCertManager(metadata.labels) },
      annotations: withoutCertManager(metadata.annotations),
    },
    data: { 'tls.crt': current.data?.['tls.crt'] ?? '', ...(current.type === 'kubernetes.io/tls' ? { 'tls.key': '' } : {}) },
  };
}

function replacePrevious(body: k8s.V1Secret): Promise<{ code: number | undefined; message: string }> {
  return outcome(sa.core.replaceNamespacedSecret({ namespace: names.trustNs, name: names.previous, body, dryRun: 'All' }));
}

const tokenAnnotated = (secret: k8s.V1Secret): k8s.V1Secret => ({
  ...secret,
  metadata: { ...secret.metadata, annotations: { ...secret.metadata?.annotations, 'kubernetes.io/service-account.name': 'cert-manager' } },
});

beforeAll(async () => {
  await ensureSteady(kubeconfig);
  await kube.core.createNamespace({ body: { metadata: { name: releaseNs } } });
  succeeded(helm(['install', release, chart, '--namespace', releaseNs, ...installArgs]), 'helm install');
  installed = true;
  // A token like `kubectl create token`: the ServiceAccount's identity and nothing else.
  saKubeconfig = (
    await serviceAccountKubeconfig(kube.core, join(scratch, 'sa.kubeconfig'), { namespace: releaseNs, name: fullname }, { expirationSeconds: 1800 })
  ).kubeconfig;
  const config = new k8s.KubeConfig();
  config.loadFromFile(saKubeconfig);
  sa = { core: config.makeApiClient(k8s.CoreV1Api), apps: config.makeApiClient(k8s.AppsV1Api), authz: config.makeApiClient(k8s.AuthorizationV1Api) };
  // The admission plugin picks up new policies asynchronously.
  await eventually('the workload policy denies an image change', async () => {
    const { message } = await patchApi(podSpecPatch({ containers: [{ name: 'app', image: 'registry.example.com/evil:1' }] }));
    if (!message.includes(workloadPolicy)) throw new Error(`not denied by the policy yet: ${message || 'accepted'}`);
  });
});

afterAll(async () => {
  try {
    if (installed) succeeded(helm(['uninstall', release, '--namespace', releaseNs, '--wait', '--timeout', '60s']), 'helm uninstall');
    await kube.core.deleteNamespace({ name: releaseNs }).catch(() => undefined);
    await eventually(
      `namespace ${releaseNs} deleted`,
      async () => {
        if ((await statusOfCall(kube.core.readNamespace({ name: releaseNs }))) !== 404) throw new Error('still there');
      },
      120_000,
    );
    await ensureSteady(kubeconfig);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    console.log(`escalation.test.ts took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
});

describe("escalations with the chart's ServiceAccount token", () => {
  test('no Secret can be created or deleted (auth can-i and real requests), the previous-anchor Secret only read and updated', async () => {
    // What `kubectl auth can-i` answers for this token.
    const canI = (args: string[]): string =>
      runTool(e2eClusterEnv().LCR_KUBECTL ?? 'kubectl', ['--kubeconfig', saKubeconfig, 'auth', 'can-i', ...args]).stdout.trim();
    expect(canI(['create', 'secrets', '-n', names.trustNs])).toBe('no');
    expect(canI(['delete', `secrets/${names.previous}`, '-n', names.trustNs])).toBe('no');
    expect(canI(['update', `secrets/${names.previous}`, '-n', names.trustNs])).toBe('yes');
    const denied: k8s.V1ResourceAttributes[] = [
      ...[names.trustNs, names.linkerdNs, releaseNs, 'default'].flatMap((namespace) => [
        { verb: 'create', resource: 'secrets', namespace },
        { verb: 'delete', resource: 'secrets', namespace },
        { verb: 'deletecollection', resource: 'secrets', namespace },
      ]),
      { verb: 'delete', resource: 'secrets', namespace: names.trustNs, name: names.previous },
      { verb: 'patch', resource: 'secrets', namespace: names.trustNs, name: names.previous },
      { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: names.trustNs, name: 'cert-manager' },
      { verb: 'get', resource: 'pods', namespace: 'shop', name: 'anything' },
      { verb: 'get', resource: 'namespaces', name: names.trustNs },
      { verb: 'get', group: 'batch', resource: 'jobs', namespace: releaseNs },
      { verb: 'patch', group: 'cert-manager.io', resource: 'certificates', subresource: 'status', namespace: names.trustNs, name: names.anchor },
      { verb: 'create', resource: 'events', namespace: releaseNs },
      { verb: 'patch', group: 'events.k8s.io', resource: 'events', namespace: releaseNs },
    ];
    const answers = await Promise.all(denied.map(async (attributes) => ({ ...attributes, allowed: await may(attributes) })));
    expect(answers.filter((a) => a.allowed)).toEqual([]);
    // The positive side of the same reviews: the calls the rotator makes are allowed.
    expect(await may({ verb: 'update', resource: 'secrets', namespace: names.trustNs, name: names.previous })).toBe(true);
    expect(await may({ verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'shop', name: 'api' })).toBe(true);
    expect(
      await may({ verb: 'update', group: 'cert-manager.io', resource: 'certificates', subresource: 'status', namespace: names.trustNs, name: names.anchor }),
    ).toBe(true);
    expect(await may({ verb: 'get', resource: 'pods', namespace: releaseNs, name: 'anything' })).toBe(true);

    // The attack of issue 11, tried for real: delete the previous-anchor Secret and make it again as a
    // token Secret of cert-manager's ServiceAccount (which reads every Secret of the cluster).
    const deleted = await outcome(sa.core.deleteNamespacedSecret({ namespace: names.trustNs, name: names.previous, dryRun: 'All' }));
    expect(deleted.code).toBe(403);
    const token: k8s.V1Secret = {
      metadata: { name: names.previous, namespace: names.trustNs, annotations: { 'kubernetes.io/service-account.name': 'cert-manager' } },
      type: 'kubernetes.io/service-account-token',
    };
    const created = await outcome(
      sa.core.createNamespacedSecret({
        namespace: names.trustNs,
        body: { ...token, metadata: { ...token.metadata, name: 'lcr-stolen-token' } },
        dryRun: 'All',
      }),
    );
    expect(created).toEqual({ code: 403, message: expect.stringMatching(/cannot create resource "secrets"/) as unknown });
  });

  test('a restart patch passes; a patch of image, serviceAccountName or hostNetwork is denied by the policy', async () => {
    for (const [kind, patch] of [
      ['Deployment', (body: object) => patchApi(body)],
      ['StatefulSet', (body: object) => outcome(sa.apps.patchNamespacedStatefulSet({ namespace: 'shop', name: 'db', body, dryRun: 'All' }, strategic))],
      ['DaemonSet', (body: object) => outcome(sa.apps.patchNamespacedDaemonSet({ namespace: 'shop', name: 'agent', body, dryRun: 'All' }, strategic))],
    ] as const) {
      expect({ kind, restart: await patch(restartedAt()) }).toEqual({ kind, restart: { code: 200, message: '' } });
      const escalations: [string, object][] = [
        ['image', podSpecPatch({ containers: [{ name: 'app', image: 'registry.example.com/evil:1' }] })],
        ['serviceAccountName', podSpecPatch({ serviceAccountName: 'cert-manager' })],
        ['hostNetwork', podSpecPatch({ hostNetwork: true })],
        // Riding along with a restart does not help.
        [
          'restartedAt and privileged',
          {
            spec: {
              template: {
                metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } },
                spec: { containers: [{ name: 'app', securityContext: { privileged: true } }] },
              },
            },
          },
        ],
      ];
      for (const [what, body] of escalations) {
        const result = await patch(body);
        expect({ kind, what, code: result.code }).toEqual({ kind, what, code: 403 });
        expect(result.message).toContain(workloadPolicy);
        expect(result.message).toContain('this request changes spec.template.spec');
      }
    }
    // Other paths than the pod spec, and other patch types, are covered just as well.
    const others: [string, object, typeof strategic][] = [
      ['replicas', { spec: { replicas: 0 } }, strategic],
      ['a template label', { spec: { template: { metadata: { labels: { extra: 'label' } } } } }, strategic],
      ['another template annotation', { spec: { template: { metadata: { annotations: { 'linkerd.io/inject': 'disabled' } } } } }, strategic],
      ['an object label', { metadata: { labels: { extra: 'label' } } }, strategic],
      ['a JSON patch of the image', [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.example.com/evil:1' }], json],
    ];
    for (const [what, body, options] of others) {
      const result = await patchApi(body, options);
      expect({ what, code: result.code, policy: result.message.includes(workloadPolicy) }).toEqual({ what, code: 403, policy: true });
    }
    // Nothing changed: the dry runs stored nothing, and the fixture's image is still in place.
    const api = await kube.apps.readNamespacedDeployment({ namespace: 'shop', name: 'api' });
    expect(api.spec?.template.spec?.containers[0]?.image).toBe('registry.local/app:1');
  });

  test('the previous-anchor Secret takes a certificate, but no token type or annotation, no key and no other data', async () => {
    const clean = await certificateOnly();
    // What the rotator writes is accepted.
    expect(await replacePrevious(clean)).toEqual({ code: 200, message: '' });
    // A key made now, never one committed: what a copy of the anchor Secret would carry.
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPem = privateKey.export({ type: 'sec1', format: 'pem' });
    const withKey = { ...clean, data: { ...clean.data, 'tls.key': Buffer.from(keyPem).toString('base64') } };
    const withToken = { ...clean, data: { ...clean.data, token: Buffer.from('stolen').toString('base64') } };
    const cases: [string, k8s.V1Secret, string][] = [
      ['the token annotation', tokenAnnotated(clean), 'may carry no ServiceAccount-token annotation'],
      ['a non-empty tls.key', withKey, 'this request writes tls.key'],
      ['another data key', withToken, 'this request writes token'],
      ['immutable', { ...clean, immutable: true }, 'this request changes immutable'],
      [
        'an owner',
        {
          ...clean,
          metadata: {
            ...clean.metadata,
            ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: names.bundle, uid: '00000000-0000-0000-0000-000000000001' }],
          },
        },
        'this request changes metadata.ownerReferences',
      ],
    ];
    for (const [what, body, reason] of cases) {
      const result = await replacePrevious(body);
      expect({ what, code: result.code }).toEqual({ what, code: 403 });
      expect(result.message).toContain(secretPolicy);
      expect(result.message).toContain(reason);
    }
    // The type is immutable in the apiserver itself (422), before the policy gets to say no.
    const retyped = await replacePrevious(tokenAnnotated({ ...clean, type: 'kubernetes.io/service-account-token' }));
    expect([403, 422]).toContain(retyped.code);
    const stored = await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.previous });
    expect(stored.type).not.toBe('kubernetes.io/service-account-token');
    expect(stored.metadata?.annotations?.['kubernetes.io/service-account.name']).toBeUndefined();
  });

  test('negative control: with admissionPolicy.enabled=false the same image patch and token annotation are accepted', async () => {
    succeeded(helm(['upgrade', release, chart, '--namespace', releaseNs, '--reuse-values', '--set', 'admissionPolicy.enabled=false']), 'helm upgrade');
    const policies = succeeded(kubectl(['get', 'validatingadmissionpolicies', '-o', 'name']), 'kubectl get validatingadmissionpolicies');
    expect(policies).not.toContain(fullname);
    await eventually('the image change is accepted without the policy', async () => {
      const result = await patchApi(podSpecPatch({ containers: [{ name: 'app', image: 'registry.example.com/evil:1' }] }));
      if (result.code !== 200) throw new Error(`still denied: ${result.message}`);
    });
    expect(await replacePrevious(tokenAnnotated(await certificateOnly()))).toEqual({ code: 200, message: '' });
  });
});
