// The Helm chart against the real local apiserver (RBAC on, PodSecurity admission on): lint and render
// with default and CI values, every rendering through a server-side dry run (real schema validation,
// CRDs and trust-manager's webhook included), an install, a manual Job through the real Job controller,
// then a full rotation by the rotator authenticated as the chart's ServiceAccount (TokenRequest), and
// the denials that show the RBAC grants no more than that. Leaves the cluster steady and removes all it made.
import * as k8s from '@kubernetes/client-node';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../harness/cluster.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { names } from '../harness/fixture.js';
import { InvariantMonitor } from '../harness/monitor.js';
import { runRotator, type RotatorRun } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';
import { clusterTools, parseManifests, statusOfCall, serviceAccountKubeconfig, succeeded } from '../harness/tools.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();
const { helm, kubectl } = clusterTools(kubeconfig);
const batch = kube.config.makeApiClient(k8s.BatchV1Api);
const rbac = kube.config.makeApiClient(k8s.RbacAuthorizationV1Api);
const events = kube.config.makeApiClient(k8s.EventsV1Api);

const chart = join(repoRoot, 'chart');
const releaseNs = 'linkerd-cert-rotator';
/** The release name contains the chart name, so every object is named `linkerd-cert-rotator`. */
const release = 'linkerd-cert-rotator';
const fullname = 'linkerd-cert-rotator';
const manualJob = 'rotate-now';
const serviceAccountUser = `system:serviceaccount:${releaseNs}:${fullname}`;
/** The cluster is also shared with the other files: the CronJob never fires on its own here (a manual Job still runs). */
const installArgs = ['--set', 'cronJob.suspend=true', '--set', 'image.repository=localhost/linkerd-cert-rotator', '--set', 'image.tag=dev'];

const valueSets = [
  { label: 'default values', args: [] as string[] },
  ...readdirSync(join(chart, 'ci'))
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => ({ label: `chart/ci/${file}`, args: ['--values', join(chart, 'ci', file)] })),
];

const scratch = mkdtempSync(join(tmpdir(), 'lcr-chart-'));
const createdNamespaces: string[] = [];
const unrelatedSecrets: [string, string][] = [];
const timings: string[] = [];
let jobPod: k8s.V1Pod | undefined;
let saKubeconfig = '';
let installed = false;

/** Runs a test body and records how long it took, for the summary printed at the end. */
function timed(name: string, body: () => void | Promise<void>): [string, () => Promise<void>] {
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

function expectExit(run: RotatorRun, code: number): void {
  if (run.code !== code) throw new Error(`rotator exited ${String(run.code)}, expected ${code}:\n${run.stderr.slice(-4000)}`);
}

async function namespaceExists(name: string): Promise<boolean> {
  return (await statusOfCall(kube.core.readNamespace({ name }))) === 200;
}

/** Creates the namespaces a rendering puts objects into that the fixture does not have (removed at the end). */
async function ensureNamespaces(objects: k8s.KubernetesObject[]): Promise<void> {
  for (const namespace of new Set(objects.map((o) => o.metadata?.namespace).filter((n): n is string => !!n))) {
    if (await namespaceExists(namespace)) continue;
    await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
    createdNamespaces.push(namespace);
  }
}

/** The literal env of the chart's rotator container (LCR_*), as the pod would get it; fieldRefs are filled in by the caller. */
async function chartEnv(): Promise<Record<string, string>> {
  const cronJob = await batch.readNamespacedCronJob({ namespace: releaseNs, name: fullname });
  const container = cronJob.spec?.jobTemplate.spec?.template.spec?.containers.find((c) => c.name === 'rotator');
  return Object.fromEntries((container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value ?? '']));
}

/** Runs the built rotator as the chart's ServiceAccount, with the CronJob's env and the Downward API values of the manual Job's pod. */
async function rotatorAsServiceAccount(args: string[]): Promise<RotatorRun> {
  return runRotator(saKubeconfig, args, {
    env: {
      ...(await chartEnv()),
      POD_NAME: jobPod?.metadata?.name ?? '',
      POD_NAMESPACE: releaseNs,
      LCR_LOG_FORMAT: 'json',
      LCR_LOG_LEVEL: 'debug',
      LCR_POLL_INTERVAL: '250ms',
    },
  });
}

/** API clients authenticated with the ServiceAccount's token. */
function asServiceAccount(): {
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  custom: k8s.CustomObjectsApi;
  authz: k8s.AuthorizationV1Api;
  authn: k8s.AuthenticationV1Api;
} {
  const config = new k8s.KubeConfig();
  config.loadFromFile(saKubeconfig);
  return {
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    custom: config.makeApiClient(k8s.CustomObjectsApi),
    authz: config.makeApiClient(k8s.AuthorizationV1Api),
    authn: config.makeApiClient(k8s.AuthenticationV1Api),
  };
}

/**
 * A `rotate --force` as the ServiceAccount, watched by the invariant monitor: exit 0, no request
 * refused and no key in its output, no warning but the fixture's (a previous-anchor Secret made the
 * old way), zero violations, a new anchor, and status steady and healthy afterwards.
 */
async function rotateAsServiceAccountSafely(): Promise<RotatorRun> {
  const anchorBefore = await kube.anchor();
  const monitor = new InvariantMonitor(kubeconfig);
  monitor.start();
  const run = await rotatorAsServiceAccount(['rotate', '--force']);
  await monitor.stop();
  expectExit(run, 0);
  expect(run.stderr).not.toMatch(/forbidden/i);
  expect(run.stderr).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  // Events and the lock need permissions too: nothing the rotator tried was refused, not even with a warning.
  const warnings = run.logs.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => String(l.message));
  expect(warnings.filter((m) => !/^previous anchor: .* is a copy of the anchor Secret/.test(m))).toEqual([]);
  expect(monitor.samples).toBeGreaterThan(10);
  expect(monitor.violations).toEqual([]);
  expect((await kube.anchor()).fingerprint256).not.toBe(anchorBefore.fingerprint256);
  const { code, report } = await statusOf(kubeconfig);
  expect({ code, phase: report.phase, health: report.health }).toEqual({ code: 0, phase: 'steady', health: 'healthy' });
  return run;
}

/** SelfSubjectAccessReview with the ServiceAccount's token: may it do this? */
async function may(attributes: k8s.V1ResourceAttributes): Promise<boolean> {
  const review = await asServiceAccount().authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attributes } } });
  return review.status?.allowed ?? false;
}

/** Kinds of certificates.create that the fixture also has, under the chart's default names. */
const fixtureKinds = ['Issuer', 'ClusterIssuer', 'Certificate', 'Bundle'];

const restartPatch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } };
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

beforeAll(async () => {
  await ensureSteady(kubeconfig);
  // Restricted Pod Security on the release namespace: the apiserver itself checks the pod's hardening.
  await kube.core.createNamespace({
    body: { metadata: { name: releaseNs, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' } } },
  });
  createdNamespaces.push(releaseNs);
});

afterAll(async () => {
  try {
    if (installed) succeeded(helm(['uninstall', release, '--namespace', releaseNs, '--wait', '--timeout', '60s']), 'helm uninstall');
    for (const [namespace, name] of unrelatedSecrets) await kube.core.deleteNamespacedSecret({ namespace, name }).catch(() => undefined);
    for (const name of createdNamespaces) await kube.core.deleteNamespace({ name }).catch(() => undefined);
    for (const name of createdNamespaces) {
      await eventually(
        `namespace ${name} deleted`,
        async () => {
          if (await namespaceExists(name)) throw new Error('still there');
        },
        120_000,
      );
    }
    await ensureSteady(kubeconfig);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    console.log(`chart.test.ts timings:\n${timings.join('\n')}`);
  }
});

describe('the Helm chart on the real apiserver', () => {
  test(
    ...timed('helm lint --strict and helm template pass with default and non-default values', () => {
      for (const { label, args } of valueSets) {
        succeeded(helm(['lint', '--strict', chart, '--namespace', releaseNs, ...args]), `helm lint (${label})`);
        const objects = parseManifests(succeeded(helm(['template', release, chart, '--namespace', releaseNs, ...args]), `helm template (${label})`));
        const kinds = objects.map((o) => o.kind);
        expect(kinds).toEqual(expect.arrayContaining(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']));
        // A peer cluster's release (peerAccess) runs nothing: the primary's rotator drives the peer.
        if (label.endsWith('peer-values.yaml')) expect(kinds).not.toContain('CronJob');
        else expect(kinds).toContain('CronJob');
      }
      // The schema refuses a typo rather than ignoring it.
      const typo = helm(['template', release, chart, '--namespace', releaseNs, '--set', 'rotator.concurency=3']);
      expect(typo.code).not.toBe(0);
      expect(typo.stderr).toMatch(/additional properties 'concurency' not allowed/);
    }),
  );

  test(
    ...timed('every rendering passes a server-side dry run (schema, CRDs, admission webhooks, PodSecurity)', async () => {
      const kindsSeen = new Set<string>();
      for (const { label, args } of valueSets) {
        // Offline rendering first: the namespaces it targets must exist for the dry run.
        const offline = parseManifests(succeeded(helm(['template', release, chart, '--namespace', releaseNs, ...args]), `helm template (${label})`));
        await ensureNamespaces(offline);
        // What `helm install` would send: rendered with lookups against the cluster. `helm template` does not
        // take the API versions from the cluster as `helm install` does, so the one the chart asks for
        // (served here: Kubernetes 1.35) is named. --skip-tests: `helm install` does not create the `helm test`
        // Pod, and a Pod of a ServiceAccount that does not exist yet is refused by the apiserver.
        const rendered = succeeded(
          helm([
            'template',
            release,
            chart,
            '--namespace',
            releaseNs,
            '--dry-run=server',
            '--skip-tests',
            '--api-versions',
            'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy',
            ...args,
          ]),
          `helm template --dry-run=server (${label})`,
        );
        // certificates.create renders objects the fixture already has under the same names (with other
        // settings, which a server-side apply would refuse as conflicts): dry-run those under scratch names.
        const objects = parseManifests(rendered).map((o) =>
          fixtureKinds.includes(o.kind ?? '') || (o.kind === 'Secret' && o.metadata?.name === names.previous)
            ? { ...o, metadata: { ...o.metadata, name: `${o.metadata?.name ?? ''}-dry-run` } }
            : o,
        );
        const applied = kubectl(
          ['apply', '--server-side', '--dry-run=server', '--field-manager=lcr-chart-test', '-f', '-'],
          JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
        );
        succeeded(applied, `kubectl apply --server-side --dry-run=server (${label})`);
        const lines = applied.stdout.trim().split('\n');
        expect(lines).toHaveLength(objects.length);
        for (const line of lines) expect(line).toMatch(/serverside-applied \(server dry run\)$/);
        // Not even a warning: no PodSecurity "restricted" violation, no deprecated API, no unknown field.
        expect({ label, warnings: applied.stderr.trim() }).toEqual({ label, warnings: '' });
        for (const o of objects) kindsSeen.add(`${o.apiVersion ?? ''}/${o.kind ?? ''}`);

        // certificates.create=true: the previous-anchor Secret is rendered the same with and without lookup, and
        // without data, so no renderer can overwrite or empty the anchor it holds (helm-lifecycle.test.ts applies it).
        const previous = offline.find((o) => o.kind === 'Secret' && o.metadata?.name === names.previous);
        if (previous) {
          expect(parseManifests(rendered).find((o) => o.kind === 'Secret' && o.metadata?.name === names.previous)).toEqual(previous);
          expect(previous).not.toHaveProperty('data');
          expect(previous).not.toHaveProperty('stringData');
        }
      }
      // The CRD-backed objects of certificates.create were validated too (by the CRDs' schemas and trust-manager's webhook).
      expect([...kindsSeen]).toEqual(
        expect.arrayContaining([
          'cert-manager.io/v1/Certificate',
          'cert-manager.io/v1/Issuer',
          'cert-manager.io/v1/ClusterIssuer',
          'trust.cert-manager.io/v1alpha1/Bundle',
          'batch/v1/CronJob',
          'rbac.authorization.k8s.io/v1/Role',
          'rbac.authorization.k8s.io/v1/ClusterRole',
          'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy',
          'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding',
        ]),
      );
      // The checks are real: PodSecurity flags a pod template that is not hardened, and a CRD's schema
      // refuses a field it does not declare.
      const loose = helm([
        'template',
        release,
        chart,
        '--namespace',
        releaseNs,
        '--show-only',
        'templates/cronjob.yaml',
        '--set',
        'securityContext.allowPrivilegeEscalation=true',
      ]);
      const flagged = kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], succeeded(loose, 'helm template (allowPrivilegeEscalation=true)'));
      expect(flagged.stderr).toMatch(/would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
      const bundle = parseManifests(
        succeeded(
          helm(['template', release, chart, '--namespace', releaseNs, '--set', 'certificates.create=true', '--show-only', 'templates/bundle.yaml']),
          'helm template bundle',
        ),
      )[0] as (k8s.KubernetesObject & { spec: { target: Record<string, unknown> } }) | undefined;
      if (!bundle) throw new Error('no Bundle rendered');
      bundle.spec.target.configMaps = bundle.spec.target.configMap;
      const refused = kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], JSON.stringify(bundle));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/\.spec\.target\.configMaps: field not declared in schema/);
      // A dry run changes nothing: no release objects exist yet.
      expect(await statusOfCall(batch.readNamespacedCronJob({ namespace: releaseNs, name: fullname }))).toBe(404);
    }),
  );

  test(
    ...timed('helm install, then `kubectl create job --from=cronjob/...` makes a hardened Job through the Job controller', async () => {
      const install = helm(['install', release, chart, '--namespace', releaseNs, ...installArgs]);
      succeeded(install, 'helm install');
      installed = true;
      expect(install.stdout).toContain(`kubectl -n ${releaseNs} create job --from=cronjob/${fullname}`);
      const cronJob = await batch.readNamespacedCronJob({ namespace: releaseNs, name: fullname });
      expect(cronJob.spec).toMatchObject({
        schedule: '17 * * * *',
        concurrencyPolicy: 'Forbid',
        suspend: true,
        startingDeadlineSeconds: 1800,
        successfulJobsHistoryLimit: 6,
      });

      succeeded(kubectl(['create', 'job', `--from=cronjob/${fullname}`, manualJob, '--namespace', releaseNs]), 'kubectl create job --from');
      const job = await batch.readNamespacedJob({ namespace: releaseNs, name: manualJob });
      expect(job.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'CronJob', name: fullname, uid: cronJob.metadata?.uid })]);
      expect(job.metadata?.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
      expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 21600 });
      expect(job.spec?.template.spec?.containers).toEqual(cronJob.spec?.jobTemplate.spec?.template.spec?.containers);
      expect(job.spec?.template.spec?.securityContext).toEqual(cronJob.spec?.jobTemplate.spec?.template.spec?.securityContext);

      // The Job controller made the pod, and the restricted PodSecurity level of the namespace admitted it.
      const pod = await eventually('the Job controller creates the pod', async () => {
        const pods = await kube.core.listNamespacedPod({ namespace: releaseNs, labelSelector: `batch.kubernetes.io/job-name=${manualJob}` });
        const [first] = pods.items;
        if (!first) throw new Error('no pod yet');
        return first;
      });
      jobPod = pod;
      expect(pod.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Job', name: manualJob, uid: job.metadata?.uid, controller: true })]);
      expect(pod.metadata?.annotations?.['linkerd.io/inject']).toBe('disabled');
      expect(pod.spec?.containers.map((c) => c.name)).toEqual(['rotator']); // not meshed by the injector
      expect(pod.spec?.serviceAccountName).toBe(fullname);
      expect(pod.spec?.restartPolicy).toBe('Never');
      expect(pod.spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
      const [container] = pod.spec?.containers ?? [];
      expect(container?.image).toBe('localhost/linkerd-cert-rotator:dev');
      expect(container?.args).toEqual(['rotate']);
      expect(container?.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container?.volumeMounts?.map((m) => m.mountPath)).toEqual(expect.arrayContaining(['/tmp', '/var/run/secrets/kubernetes.io/serviceaccount']));
      expect(container?.env?.filter((e) => e.valueFrom?.fieldRef).map((e) => `${e.name}=${e.valueFrom?.fieldRef?.fieldPath ?? ''}`)).toEqual([
        'POD_NAME=metadata.name',
        'POD_NAMESPACE=metadata.namespace',
      ]);
      // kwok plays the kubelet: the pod is scheduled, runs and completes without its image ever running.
      const ran = await eventually('the scheduler places the pod and kwok runs it', async () => {
        const current = await kube.core.readNamespacedPod({ namespace: releaseNs, name: pod.metadata?.name ?? '' });
        if (!['Running', 'Succeeded'].includes(current.status?.phase ?? '')) throw new Error(`phase ${current.status?.phase ?? 'unknown'}`);
        return current;
      });
      expect(ran.spec?.nodeName).toMatch(/^kwok-node-/);
      // What NOTES.txt tells the user to read: the Job's completion.
      const done = await eventually('the Job controller marks the Job finished', async () => {
        const current = await batch.readNamespacedJob({ namespace: releaseNs, name: manualJob });
        const condition = current.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
        if (!condition) throw new Error(`active ${current.status?.active ?? 0}`);
        return condition.type;
      });
      expect(done).toBe('Complete');
      console.log(
        `manual Job ${releaseNs}/${manualJob}: pod ${pod.metadata?.name ?? ''} on ${ran.spec?.nodeName ?? ''} went ${ran.status?.phase ?? ''}, Job ${done} (kwok plays the kubelet; the image is not run)`,
      );
    }),
  );

  test(
    ...timed("a full `rotate --force` as the chart's ServiceAccount (TokenRequest) succeeds under the real RBAC and keeps mTLS", async () => {
      const pod = jobPod;
      if (!pod?.metadata?.name || !pod.metadata.uid) throw new Error('no Job pod from the previous test');
      // A token like the kubelet projects into the pod: bound to the pod, default audience.
      ({ kubeconfig: saKubeconfig } = await serviceAccountKubeconfig(
        kube.core,
        join(scratch, 'sa.kubeconfig'),
        { namespace: releaseNs, name: fullname },
        { boundPod: { name: pod.metadata.name, uid: pod.metadata.uid } },
      ));
      const review = await asServiceAccount().authn.createSelfSubjectReview({ body: {} });
      expect(review.status?.userInfo?.username).toBe(serviceAccountUser);
      expect(review.status?.userInfo?.groups).not.toContain('system:masters');

      // The rotation runs under the chart's admission policies too (what they deny: escalation.test.ts).
      for (const policy of ['workloads', 'previous-anchor'])
        succeeded(kubectl(['get', 'validatingadmissionpolicybinding', `${fullname}-${policy}`]), `the ${policy} policy binding`);
      const run = await rotateAsServiceAccountSafely();

      // The lock Lease was created in the Linkerd namespace (where a run by hand looks too, not the pod's), and the run's Events regard the manual Job.
      const lease = await kube.config.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace: names.linkerdNs, name: 'linkerd-cert-rotator' });
      expect(lease.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('linkerd-cert-rotator');
      const runId = String(run.logs.find((l) => l.message === 'run started')?.runId);
      const list = await events.listNamespacedEvent({ namespace: releaseNs, labelSelector: `linkerd-cert-rotator.io/run-id=${runId}` });
      expect(list.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['RotationStarted', 'RotationSucceeded']));
      for (const event of list.items) expect(event.regarding).toMatchObject({ kind: 'Job', name: manualJob });
    }),
  );

  test(
    ...timed('the same identity is denied what a rotation does not need (Secrets, Certificate specs, deletes)', async () => {
      const sa = asServiceAccount();
      // An unrelated Secret in every namespace where the ServiceAccount holds a Role.
      for (const namespace of [names.trustNs, names.linkerdNs, releaseNs]) {
        await kube.core.createNamespacedSecret({
          namespace,
          body: { metadata: { name: 'unrelated-secret' }, type: 'Opaque', stringData: { password: 'hunter2' } },
        });
        unrelatedSecrets.push([namespace, 'unrelated-secret']);
        expect({ namespace, read: await statusOfCall(sa.core.readNamespacedSecret({ namespace, name: 'unrelated-secret' })) }).toEqual({
          namespace,
          read: 403,
        });
      }
      expect(await statusOfCall(sa.core.listNamespacedSecret({ namespace: names.trustNs }))).toBe(403);
      expect(await statusOfCall(sa.core.listSecretForAllNamespaces())).toBe(403);
      // The anchor and issuer Secrets hold private keys: neither read nor written (certificates come from
      // CertificateRequests); the Certificates' status may be written, not their spec.
      expect(await statusOfCall(sa.core.readNamespacedSecret({ namespace: names.trustNs, name: names.anchor }))).toBe(403);
      expect(await statusOfCall(sa.core.readNamespacedSecret({ namespace: names.linkerdNs, name: names.issuer }))).toBe(403);
      const anchorSecret = await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.anchor });
      expect(await statusOfCall(sa.core.replaceNamespacedSecret({ namespace: names.trustNs, name: names.anchor, body: anchorSecret }))).toBe(403);
      const certificate = { group: 'cert-manager.io', version: 'v1', plural: 'certificates', namespace: names.trustNs, name: names.anchor };
      expect(await statusOfCall(sa.custom.patchNamespacedCustomObject({ ...certificate, body: { spec: { duration: '1h' } } }, mergePatch))).toBe(403);

      const denied: k8s.V1ResourceAttributes[] = [
        { verb: 'get', resource: 'secrets', namespace: 'default', name: 'anything' },
        { verb: 'create', resource: 'secrets', namespace: names.linkerdNs },
        // The previous-anchor Secret is updated in place: no create (not name-scoped) and no delete anywhere.
        { verb: 'create', resource: 'secrets', namespace: names.trustNs },
        { verb: 'delete', resource: 'secrets', namespace: names.trustNs, name: names.previous },
        { verb: 'update', resource: 'secrets', namespace: names.linkerdNs, name: names.issuer },
        { verb: 'get', group: 'cert-manager.io', resource: 'certificates', namespace: names.trustNs, name: 'another-certificate' },
        { verb: 'update', group: 'cert-manager.io', resource: 'certificates', namespace: names.linkerdNs, name: names.issuer },
        { verb: 'update', group: 'cert-manager.io', resource: 'certificates', subresource: 'status', namespace: names.trustNs, name: 'another-certificate' },
        { verb: 'delete', resource: 'pods', namespace: 'shop' },
        { verb: 'create', resource: 'pods', namespace: releaseNs },
        { verb: 'delete', group: 'apps', resource: 'deployments', namespace: 'shop' },
        { verb: 'update', group: 'trust.cert-manager.io', resource: 'bundles', name: names.bundle },
        { verb: 'get', resource: 'configmaps', namespace: names.linkerdNs, name: 'another-configmap' },
        { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: names.linkerdNs, name: 'another-lease' },
        { verb: 'escalate', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
      ];
      const answers = await Promise.all(denied.map(async (attributes) => ({ ...attributes, allowed: await may(attributes) })));
      expect(answers.filter((a) => a.allowed)).toEqual([]);
    }),
  );

  test(
    ...timed('with rbac.restrictToNamespaces the identity cannot restart workloads outside the listed namespaces', async () => {
      succeeded(helm(['upgrade', release, chart, '--namespace', releaseNs, '--reuse-values', '--set', 'rbac.restrictToNamespaces={shop}']), 'helm upgrade');
      // Cluster-wide, workloads are only listed (each meshed pod's owner counts for the gates) and watched (rollout status); get and patch are namespaced.
      const clusterRole = await rbac.readClusterRole({ name: fullname });
      expect(clusterRole.rules?.filter((r) => r.apiGroups?.includes('apps'))).toEqual([
        expect.objectContaining({ resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: ['list', 'watch'] }),
      ]);
      for (const namespace of ['shop', names.linkerdNs, names.vizNs])
        expect(await statusOfCall(rbac.readNamespacedRole({ namespace, name: `${fullname}-workloads` }))).toBe(200);
      expect((await chartEnv()).LCR_INCLUDE_NAMESPACES).toBe('shop,linkerd,linkerd-viz');

      const sa = asServiceAccount();
      // Outside the scope: a real restart patch is refused.
      expect(await statusOfCall(sa.apps.patchNamespacedDeployment({ namespace: 'blog', name: 'frontend', body: restartPatch }, mergePatch))).toBe(403);
      expect(await statusOfCall(sa.apps.patchNamespacedDeployment({ namespace: 'jobs', name: 'worker', body: restartPatch }, mergePatch))).toBe(403);
      expect(await may({ verb: 'patch', group: 'apps', resource: 'deployments' })).toBe(false);
      expect(await may({ verb: 'get', group: 'apps', resource: 'daemonsets', namespace: 'blog' })).toBe(false);
      // Inside it: the same patch is authorized (run as a server-side dry run, so nothing restarts).
      expect(await statusOfCall(sa.apps.patchNamespacedDeployment({ namespace: 'shop', name: 'api', body: restartPatch, dryRun: 'All' }, mergePatch))).toBe(
        200,
      );
      expect(await may({ verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'blog', name: 'frontend' })).toBe(false);
      expect(await may({ verb: 'patch', group: 'apps', resource: 'deployments', namespace: names.linkerdNs, name: 'linkerd-identity' })).toBe(true);

      // The rotator works under the restricted RBAC: status reads everything, and because the scope does not
      // cover every meshed workload (blog/frontend, jobs/worker are outside it), a new rotation is refused
      // before the first change (exit 3) instead of stopping at gate 1 or with a 403 mid-rotation.
      const status = await rotatorAsServiceAccount(['status', '--output', 'json']);
      expectExit(status, 10);
      expect(status.stderr).not.toMatch(/forbidden/i);
      const findings = (JSON.parse(status.stdout) as { findings: { subject: string; message: string }[] }).findings;
      expect(
        findings
          .filter((f) => f.subject === 'next rotation')
          .map((f) => f.message)
          .join('\n'),
      ).toMatch(/namespace (blog|jobs) is excluded from restarts/);
      const before = await kube.resourceVersions();
      const plan = await rotatorAsServiceAccount(['rotate', '--dry-run', '--force', '--output', 'json']);
      expectExit(plan, 3);
      const dry = JSON.parse(plan.stdout) as { plan: { steps: { name: string }[] }; refusals: string[] };
      expect(dry.plan.steps[0]?.name).toBe('renew-anchor');
      expect(dry.refusals.join('\n')).toMatch(/will not be restarted.*namespace blog is excluded.*namespace jobs is excluded/s);
      const refused = await rotatorAsServiceAccount(['rotate', '--force']);
      expectExit(refused, 3);
      expect(await kube.resourceVersions()).toEqual(before);
    }),
  );

  test(
    ...timed('with rbac.restrictToNamespaces covering every meshed namespace, a full rotation as the ServiceAccount passes with zero violations', async () => {
      succeeded(
        helm(['upgrade', release, chart, '--namespace', releaseNs, '--reuse-values', '--set', 'rbac.restrictToNamespaces={shop,blog,jobs}']),
        'helm upgrade',
      );
      expect((await chartEnv()).LCR_INCLUDE_NAMESPACES).toBe('shop,blog,jobs,linkerd,linkerd-viz');
      // Still namespaced: no patch of workloads cluster-wide, none in a namespace outside the list.
      expect(await may({ verb: 'patch', group: 'apps', resource: 'deployments' })).toBe(false);
      expect(await may({ verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'default', name: 'anything' })).toBe(false);
      expect(await may({ verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'blog', name: 'frontend' })).toBe(true);

      await rotateAsServiceAccountSafely();
    }),
  );
});
