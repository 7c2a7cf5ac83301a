// The chart installed in a PEER cluster of a shared anchor (peerAccess, docs/multicluster.md), on the real
// apiserver (RBAC and the ValidatingAdmissionPolicy admission plugin on): no CronJob; the kubeconfig
// minted by the commands NOTES.txt prints authenticates as the chart's ServiceAccount through the token
// controller's long-lived token; that token may update the anchor copy and renew the issuer but not the
// anchor, and creates no Secret, Event or Lease; and the anchor-copy policy takes a key pair but refuses
// any other key, an empty or missing one, and metadata changes. Every write is a server-side dry run
// (dryRun=All: authorization and admission run, nothing is stored). The negative control turns
// admissionPolicy.enabled off and sees the same extra key accepted, so the policy does the denying.
import * as k8s from '@kubernetes/client-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../harness/cluster.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { names } from '../harness/fixture.js';
import { ensureSteady } from '../harness/steady.js';
import { clusterTools, e2eClusterEnv, runTool, statusOfCall, succeeded } from '../harness/tools.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();
const { helm, kubectl } = clusterTools(kubeconfig);
const chart = join(repoRoot, 'chart');

/** A release of its own (chart.test.ts and escalation.test.ts have theirs): objects named `<release>-linkerd-cert-rotator`. */
const releaseNs = 'lcr-peer';
const release = 'lcr-peer';
const fullname = `${release}-linkerd-cert-rotator`;
const serviceAccountUser = `system:serviceaccount:${releaseNs}:${fullname}`;
/** This cluster's name as the primary's Links would call it: the context of the minted kubeconfig. */
const peerName = 'west';
const anchorCopyPolicy = `ValidatingAdmissionPolicy '${fullname}-anchor-copy'`;
const previousPolicy = `ValidatingAdmissionPolicy '${fullname}-previous-anchor'`;

const scratch = mkdtempSync(join(tmpdir(), 'lcr-peer-'));
const started = Date.now();
let notes = '';
let sa: { core: k8s.CoreV1Api; authz: k8s.AuthorizationV1Api; authn: k8s.AuthenticationV1Api };
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

/** SelfSubjectAccessReview with the peer token. */
async function may(attributes: k8s.V1ResourceAttributes): Promise<boolean> {
  const review = await sa.authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attributes } } });
  return review.status?.allowed ?? false;
}

/** The anchor copy as the peer token reads it, without the server's bookkeeping. */
async function anchorCopy(): Promise<k8s.V1Secret> {
  const current = await sa.core.readNamespacedSecret({ namespace: names.trustNs, name: names.anchor });
  return { ...current, metadata: { ...current.metadata, managedFields: undefined } };
}

function replaceAnchorCopy(body: k8s.V1Secret): Promise<{ code: number | undefined; message: string }> {
  return outcome(sa.core.replaceNamespacedSecret({ namespace: names.trustNs, name: names.anchor, body, dryRun: 'All' }));
}

/**
 * A key pair other than the stored one, made at run time: the fixture's identity issuer (read as admin),
 * standing in for the primary's next anchor. The policy checks shape, not which CA (docs/permissions.md).
 */
async function anotherKeyPair(): Promise<Record<string, string>> {
  const issuer = await kube.core.readNamespacedSecret({ namespace: names.linkerdNs, name: names.issuer });
  const data = issuer.data ?? {};
  return { 'tls.crt': data['tls.crt'] ?? '', 'tls.key': data['tls.key'] ?? '', 'ca.crt': data['ca.crt'] ?? data['tls.crt'] ?? '' };
}

beforeAll(async () => {
  await ensureSteady(kubeconfig);
  await kube.core.createNamespace({ body: { metadata: { name: releaseNs } } });
  notes = succeeded(helm(['install', release, chart, '--namespace', releaseNs, '--set', 'peerAccess.enabled=true']), 'helm install (peerAccess)');
  installed = true;
  await eventually('the token controller fills in the peer token Secret', async () => {
    const secret = await kube.core.readNamespacedSecret({ namespace: releaseNs, name: `${fullname}-peer-token` });
    if (!secret.data?.token || !secret.data['ca.crt']) throw new Error('no token yet');
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
    console.log(`peer-access.test.ts took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
});

describe('the chart in a peer cluster (peerAccess)', () => {
  test("no CronJob; the kubeconfig NOTES.txt says how to mint authenticates as the chart's ServiceAccount under the peer's name", async () => {
    const objects = succeeded(kubectl(['get', 'cronjobs,jobs,roles', '--namespace', releaseNs, '-o', 'name']), 'kubectl get');
    expect(objects.trim()).toBe('');
    // The commands of NOTES.txt, step 2, run as printed but for the placeholders: both contexts are this
    // cluster (admin kubeconfig), NAME is the peer's name, SERVER the apiserver's URL.
    const start = notes.indexOf('(umask 077');
    const end = notes.indexOf('rm -r "$dir")', start);
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    const env = e2eClusterEnv();
    const commands = notes
      .slice(start, end + 'rm -r "$dir")'.length)
      .replaceAll('--context PEER ', '')
      .replaceAll('--context PRIMARY ', '')
      .replaceAll('PRIMARY_RELEASE_NAMESPACE', releaseNs)
      .replaceAll('NAME', peerName)
      .replaceAll('SERVER', env.LCR_APISERVER_URL ?? '');
    const script = `set -euo pipefail\nkubectl() { "$LCR_KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }\n${commands}\n`;
    succeeded(runTool('bash', ['-c', script], { env: { LCR_KUBECTL: env.LCR_KUBECTL ?? 'kubectl', ADMIN_KUBECONFIG: kubeconfig } }), 'the NOTES.txt commands');
    // What the primary's CronJob would mount: the Secret's kubeconfig key, context named after the peer.
    const stored = await kube.core.readNamespacedSecret({ namespace: releaseNs, name: `lcr-peer-${peerName}` });
    const file = join(scratch, 'kubeconfig');
    writeFileSync(file, Buffer.from(stored.data?.kubeconfig ?? '', 'base64'), { mode: 0o600 });
    const config = new k8s.KubeConfig();
    config.loadFromFile(file);
    config.setCurrentContext(peerName);
    sa = {
      core: config.makeApiClient(k8s.CoreV1Api),
      authz: config.makeApiClient(k8s.AuthorizationV1Api),
      authn: config.makeApiClient(k8s.AuthenticationV1Api),
    };
    const review = await sa.authn.createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(serviceAccountUser);
  });

  test('the peer token updates the anchor copy and renews the issuer, but renews no anchor and creates no Secret, Event or Lease', async () => {
    const allowed: k8s.V1ResourceAttributes[] = [
      { verb: 'get', resource: 'secrets', namespace: names.trustNs, name: names.anchor },
      { verb: 'update', resource: 'secrets', namespace: names.trustNs, name: names.anchor },
      { verb: 'update', resource: 'secrets', namespace: names.trustNs, name: names.previous },
      { verb: 'get', group: 'cert-manager.io', resource: 'certificates', namespace: names.trustNs, name: names.anchor },
      { verb: 'update', group: 'cert-manager.io', resource: 'certificates', subresource: 'status', namespace: names.linkerdNs, name: names.issuer },
      { verb: 'list', resource: 'pods' },
      { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'shop', name: 'api' },
    ];
    const denied: k8s.V1ResourceAttributes[] = [
      { verb: 'update', group: 'cert-manager.io', resource: 'certificates', subresource: 'status', namespace: names.trustNs, name: names.anchor },
      ...[names.trustNs, names.linkerdNs, releaseNs].flatMap((namespace) => [
        { verb: 'create', resource: 'secrets', namespace },
        { verb: 'delete', resource: 'secrets', namespace },
        { verb: 'create', group: 'events.k8s.io', resource: 'events', namespace },
        { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace },
      ]),
      { verb: 'delete', resource: 'secrets', namespace: names.trustNs, name: names.anchor },
      { verb: 'patch', resource: 'secrets', namespace: names.trustNs, name: names.anchor },
      { verb: 'get', resource: 'secrets', namespace: names.linkerdNs, name: names.issuer },
      { verb: 'get', resource: 'secrets', namespace: releaseNs, name: `${fullname}-peer-token` },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: names.linkerdNs, name: 'linkerd-cert-rotator' },
      { verb: 'get', resource: 'pods', namespace: releaseNs, name: 'anything' },
    ];
    const answer = (attributes: k8s.V1ResourceAttributes[]): Promise<(k8s.V1ResourceAttributes & { allowed: boolean })[]> =>
      Promise.all(attributes.map(async (a) => ({ ...a, allowed: await may(a) })));
    expect((await answer(allowed)).filter((a) => !a.allowed)).toEqual([]);
    expect((await answer(denied)).filter((a) => a.allowed)).toEqual([]);
  });

  test('the anchor copy takes a new key pair, but no other key, no empty or missing key and no metadata change', async () => {
    const current = await anchorCopy();
    const pair = await anotherKeyPair();
    const rotated = { ...current, data: pair };
    await eventually('the anchor-copy policy denies an extra key', async () => {
      const { message } = await replaceAnchorCopy({ ...rotated, data: { ...pair, token: Buffer.from('stolen').toString('base64') } });
      if (!message.includes(anchorCopyPolicy)) throw new Error(`not denied by the policy yet: ${message || 'accepted'}`);
    });
    // What the rotator writes: the primary's new anchor, certificate and key.
    expect(await replaceAnchorCopy(rotated)).toEqual({ code: 200, message: '' });
    const withoutCa = Object.fromEntries(Object.entries(pair).filter(([key]) => key !== 'ca.crt'));
    const cases: [string, k8s.V1Secret, string][] = [
      ['another data key', { ...rotated, data: { ...pair, token: Buffer.from('stolen').toString('base64') } }, 'this request writes token'],
      ['an empty tls.key', { ...rotated, data: { ...pair, 'tls.key': '' } }, 'leaves out or empties tls.key'],
      ['no ca.crt', { ...rotated, data: withoutCa }, 'leaves out or empties ca.crt'],
      [
        'a label',
        { ...rotated, metadata: { ...rotated.metadata, labels: { ...rotated.metadata?.labels, extra: 'label' } } },
        'this request changes metadata.labels',
      ],
      ['immutable', { ...rotated, immutable: true }, 'this request changes immutable'],
      [
        'an owner',
        {
          ...rotated,
          metadata: {
            ...rotated.metadata,
            ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: names.bundle, uid: '00000000-0000-0000-0000-000000000001' }],
          },
        },
        'this request changes metadata.ownerReferences',
      ],
    ];
    for (const [what, body, reason] of cases) {
      const result = await replaceAnchorCopy(body);
      expect({ what, code: result.code, policy: result.message.includes(anchorCopyPolicy) }).toEqual({ what, code: 403, policy: true });
      expect(result.message).toContain(reason);
    }
    // The previous-anchor Secret keeps its own, stricter rules in a peer: a key is refused there.
    const previous = await sa.core.readNamespacedSecret({ namespace: names.trustNs, name: names.previous });
    const keyed = await outcome(
      sa.core.replaceNamespacedSecret({
        namespace: names.trustNs,
        name: names.previous,
        body: { ...previous, data: { ...previous.data, 'tls.key': pair['tls.key'] ?? '' } },
        dryRun: 'All',
      }),
    );
    expect({ code: keyed.code, policy: keyed.message.includes(previousPolicy) }).toEqual({ code: 403, policy: true });
    // Nothing was stored: the anchor copy is what it was.
    expect((await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.anchor })).data).toEqual(current.data);
  });

  test('negative control: with admissionPolicy.enabled=false the same extra key is accepted', async () => {
    succeeded(helm(['upgrade', release, chart, '--namespace', releaseNs, '--reuse-values', '--set', 'admissionPolicy.enabled=false']), 'helm upgrade');
    const policies = succeeded(kubectl(['get', 'validatingadmissionpolicies', '-o', 'name']), 'kubectl get validatingadmissionpolicies');
    expect(policies).not.toContain(fullname);
    const pair = await anotherKeyPair();
    await eventually('the extra key is accepted without the policy', async () => {
      const result = await replaceAnchorCopy({ ...(await anchorCopy()), data: { ...pair, token: Buffer.from('stolen').toString('base64') } });
      if (result.code !== 200) throw new Error(`still denied: ${result.message}`);
    });
  });
});
