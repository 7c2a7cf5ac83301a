// No private key within the rotator's reach, shown from the apiserver's own audit log (scripts/cluster
// records request and response bodies of every `secrets` request with LCR_AUDIT=1, which the e2e
// suite sets), not from the rotator's logs: a full rotation as the chart's ServiceAccount (default
// values) receives no response holding a key and never asks for the anchor or issuer Secret; the same
// scan does find the key in the response to a read of a Secret that holds one (so it can fail); and
// where no CertificateRequest publishes a certificate, the rotator refuses naming the opt-in, which
// then reads the Secret. Leaves the cluster steady and removes all it made.
import * as k8s from '@kubernetes/client-node';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../harness/cluster.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { names } from '../harness/fixture.js';
import { InvariantMonitor } from '../harness/monitor.js';
import { runRotator, type RotatorRun } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';
import { clusterTools, e2eClusterEnv, serviceAccountKubeconfig, succeeded } from '../harness/tools.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();
const { helm } = clusterTools(kubeconfig);
const batch = kube.config.makeApiClient(k8s.BatchV1Api);

const releaseNs = 'lcr-keyless';
const release = 'keyless';
const fullname = 'keyless-linkerd-cert-rotator';
const user = `system:serviceaccount:${releaseNs}:${fullname}`;
const scratch = mkdtempSync(join(tmpdir(), 'lcr-keyless-'));
const requests = { group: 'cert-manager.io', version: 'v1', plural: 'certificaterequests' };
const started = Date.now();
let installed = false;
let saKubeconfig = '';
let issuerRequestsDeleted = false;

interface AuditEvent {
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  responseObject?: unknown;
}

function auditLog(): string {
  const path = e2eClusterEnv().LCR_AUDIT_LOG;
  if (!path) throw new Error('the cluster runs without an audit log: start it with LCR_AUDIT=1 (the e2e suite does unless LCR_AUDIT=0)');
  return path;
}

/** Audit events of Secret requests written after byte `from` of the log. */
function secretEvents(from: number): AuditEvent[] {
  return readFileSync(auditLog())
    .subarray(from)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditEvent)
    .filter((event) => event.objectRef?.resource === 'secrets');
}

const privateKeyPem = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** Where in a response body a private key is: a non-empty tls.key, or a PEM private key as text or base64. */
function privateKeysIn(value: unknown, path = ''): string[] {
  if (typeof value === 'string') {
    const decoded = /^[A-Za-z0-9+/=\s]+$/.test(value) ? Buffer.from(value, 'base64').toString('latin1') : '';
    return privateKeyPem.test(value) || privateKeyPem.test(decoded) ? [path] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => privateKeysIn(item, `${path}[${index}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) => [
    ...(key === 'tls.key' && typeof item === 'string' && item !== '' ? [`${path}.${key} (non-empty)`] : []),
    ...privateKeysIn(item, `${path}.${key}`),
  ]);
}

/** One line per response to the ServiceAccount that carries a key: "verb namespace/name: where". */
function keysReceived(events: AuditEvent[]): string[] {
  return events
    .filter((e) => e.user.username === user)
    .flatMap((e) => privateKeysIn(e.responseObject).map((where) => `${e.verb} ${e.objectRef?.namespace ?? ''}/${e.objectRef?.name ?? '(list)'}: ${where}`));
}

async function chartEnv(): Promise<Record<string, string>> {
  const cronJob = await batch.readNamespacedCronJob({ namespace: releaseNs, name: fullname });
  const container = cronJob.spec?.jobTemplate.spec?.template.spec?.containers.find((c) => c.name === 'rotator');
  return Object.fromEntries((container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value ?? '']));
}

/** The built rotator with the CronJob's env, authenticated as the chart's ServiceAccount. */
async function asServiceAccount(args: string[]): Promise<RotatorRun> {
  return runRotator(saKubeconfig, args, { env: { ...(await chartEnv()), LCR_LOG_FORMAT: 'json', LCR_LOG_LEVEL: 'debug', LCR_POLL_INTERVAL: '250ms' } });
}

function expectExit(run: RotatorRun, code: number): void {
  if (run.code !== code) throw new Error(`rotator exited ${String(run.code)}, expected ${code}:\n${run.stderr.slice(-4000)}`);
}

async function issuerRevision(): Promise<number> {
  const raw = (await kube.custom.getNamespacedCustomObject({
    group: 'cert-manager.io',
    version: 'v1',
    plural: 'certificates',
    namespace: names.linkerdNs,
    name: names.issuer,
  })) as { status?: { revision?: number } };
  return raw.status?.revision ?? 0;
}

async function issuerRequests(): Promise<string[]> {
  const list = (await kube.custom.listNamespacedCustomObject({ ...requests, namespace: names.linkerdNs })) as {
    items: { metadata: { name: string; annotations?: Record<string, string> } }[];
  };
  return list.items.filter((r) => r.metadata.annotations?.['cert-manager.io/certificate-name'] === names.issuer).map((r) => r.metadata.name);
}

beforeAll(async () => {
  auditLog();
  await ensureSteady(kubeconfig);
  // A previous-anchor Secret made the old way holds the anchor's key until update-bundle rewrites it
  // (documented): start from the certificate-only Secret every rotation leaves.
  const migrate = await runRotator(kubeconfig, ['update-bundle']);
  if (migrate.code !== 0) throw new Error(`update-bundle: ${migrate.stderr.slice(-2000)}`);
  await kube.core.createNamespace({ body: { metadata: { name: releaseNs } } });
  succeeded(helm(['install', release, join(repoRoot, 'chart'), '--namespace', releaseNs, '--set', 'cronJob.suspend=true']), 'helm install');
  installed = true;
  saKubeconfig = (await serviceAccountKubeconfig(kube.core, join(scratch, 'sa.kubeconfig'), { namespace: releaseNs, name: fullname })).kubeconfig;
});

afterAll(async () => {
  try {
    if (issuerRequestsDeleted) {
      // Give the issuer a CertificateRequest again (a renewal under the same anchor), so the next file's rotator finds one.
      const before = await issuerRevision();
      await kube.cmctlRenew(names.linkerdNs, names.issuer);
      await eventually(
        'the issuer re-issued with a new CertificateRequest',
        async () => {
          if ((await issuerRevision()) <= before || (await issuerRequests()).length === 0) throw new Error('not yet');
        },
        120_000,
      );
    }
    if (installed) succeeded(helm(['uninstall', release, '--namespace', releaseNs, '--wait', '--timeout', '60s']), 'helm uninstall');
    await kube.core.deleteNamespace({ name: releaseNs }).catch(() => undefined);
    await ensureSteady(kubeconfig);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    console.log(`keyless.test.ts took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
});

describe('no private key within the rotator’s reach (audit log of the apiserver)', () => {
  test("a full rotation as the chart's ServiceAccount receives no private key and never asks for the anchor or issuer Secret", async () => {
    const offset = statSync(auditLog()).size;
    const anchorBefore = await kube.anchor();
    const monitor = new InvariantMonitor(kubeconfig);
    monitor.start();
    const run = await asServiceAccount(['rotate', '--force']);
    await monitor.stop();
    expectExit(run, 0);
    expect(monitor.samples).toBeGreaterThan(10);
    expect(monitor.violations).toEqual([]);
    expect((await kube.anchor()).fingerprint256).not.toBe(anchorBefore.fingerprint256);

    const events = await eventually('the rotation’s update of the previous-anchor Secret is in the audit log', async () => {
      await Promise.resolve();
      const all = secretEvents(offset);
      if (!all.some((e) => e.user.username === user && e.verb === 'update' && e.objectRef?.name === names.previous)) throw new Error('not yet');
      return all;
    });
    const mine = events.filter((e) => e.user.username === user);
    // The log records this identity's Secret requests with their bodies: the previous-anchor Secret, read and written.
    expect(mine.filter((e) => e.objectRef?.name === names.previous && e.verb === 'get' && e.responseObject !== undefined).length).toBeGreaterThan(0);
    expect(
      mine
        .filter((e) => e.objectRef?.name !== names.previous)
        .map((e) => `${e.verb} ${e.objectRef?.namespace ?? ''}/${e.objectRef?.name ?? ''} ${e.responseStatus?.code ?? ''}`),
    ).toEqual([]);
    expect(keysReceived(events)).toEqual([]);
    // cert-manager did put keys into Secrets meanwhile: the log holds them, just never in a response to the rotator.
    expect(events.filter((e) => e.user.username !== user).flatMap((e) => privateKeysIn(e.responseObject)).length).toBeGreaterThan(0);
    const { code, report } = await statusOf(kubeconfig);
    expect({ code, phase: report.phase }).toEqual({ code: 0, phase: 'steady' });
  });

  test('without a CertificateRequest: refused naming the opt-in with nothing changed; rotator.readKeySecrets reads the Secret, and the scan finds the key it received', async () => {
    for (const name of await issuerRequests()) await kube.custom.deleteNamespacedCustomObject({ ...requests, namespace: names.linkerdNs, name });
    issuerRequestsDeleted = true;
    const before = await kube.resourceVersions();
    const refused = await asServiceAccount(['rotate', '--force']);
    expectExit(refused, 3);
    expect(refused.stderr).toMatch(
      /cannot read the identity issuer's current certificate without its Secret linkerd\/linkerd-identity-issuer.*--read-key-secrets/,
    );
    expect(await kube.resourceVersions()).toEqual(before);

    succeeded(
      helm(['upgrade', release, join(repoRoot, 'chart'), '--namespace', releaseNs, '--reuse-values', '--set', 'rotator.readKeySecrets=true']),
      'helm upgrade readKeySecrets',
    );
    expect((await chartEnv()).LCR_READ_KEY_SECRETS).toBe('true');
    const offset = statSync(auditLog()).size;
    const status = await asServiceAccount(['status', '--output', 'json']);
    expectExit(status, 0);
    expect(status.stderr).not.toMatch(privateKeyPem);
    const received = await eventually('the fallback read in the audit log', async () => {
      await Promise.resolve();
      const found = keysReceived(secretEvents(offset));
      if (found.length === 0) throw new Error('not yet');
      return found;
    });
    // The negative control: the same scan flags the one Secret that holds a key, and only it.
    expect([...new Set(received.map((line) => line.split(':')[0]))]).toEqual([`get ${names.linkerdNs}/${names.issuer}`]);
    expect(received.join('\n')).toMatch(/\.data\.tls\.key/);
  });
});
