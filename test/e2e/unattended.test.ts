// Unattended operation on the shared local cluster: the Lease lock with overlapping runs, Events,
// Prometheus metrics (Pushgateway and status), webhook notifications, the rotation policy, the
// per-workload timeout stopping a rotation before the issuer renewal, and no key material anywhere.
import * as k8s from '@kubernetes/client-node';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { names } from '../harness/fixture.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { eventually } from '../harness/eventually.js';
import { runRotator, type RotatorRun, type RunOptions } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';
import { parseExposition, sampleValue } from '../support/prometheus.js';
import { evaluateAlert } from '../harness/alerts.js';
import { signedBy } from '../harness/kube.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();
const events = kube.config.makeApiClient(k8s.EventsV1Api);
const batch = kube.config.makeApiClient(k8s.BatchV1Api);

const jobNs = 'lcr-unattended';
const stuckNs = 'lcr-stuck';
const jobName = 'rotator-e2e';
const p = 'linkerd_cert_rotator_';

/** Everything the rotator said or sent, for the key-material scan at the end. */
const runs: RotatorRun[] = [];
const keysSeen = new Set<string>();

async function rotator(args: string[], options: RunOptions = {}): Promise<RotatorRun> {
  const run = await runRotator(kubeconfig, args, options);
  runs.push(run);
  return run;
}

/** A loopback stand-in for a Pushgateway and a Slack webhook: records every request. */
interface Received {
  method: string;
  url: string;
  body: string;
}
const received: Received[] = [];
let server: Server;
let base = '';
const hooks = (): Received[] => received.filter((r) => r.url === '/hook');
const pushes = (): Received[] => received.filter((r) => r.url.startsWith('/metrics/'));
const reporting = (): string[] => ['--webhook-url', `${base}/hook`, '--pushgateway-url', base];
/** The group of a run with --cluster-name east: its own, beside the one without a name. */
const eastGroup = '/metrics/job/linkerd-cert-rotator/cluster/east';

const short = (cert: X509Certificate): string => cert.fingerprint256.replace(/:/g, '').toLowerCase().slice(0, 12);
const seconds = (cert: X509Certificate): number => Date.parse(cert.validTo) / 1000;
const runIdOf = (run: RotatorRun): string => String(run.logs.find((l) => l.message === 'run started')?.runId);
const logAt = (run: RotatorRun, message: string): number => Date.parse(String(run.logs.find((l) => l.message === message)?.timestamp));

/** The Events of one run, in the order they happened. */
async function eventsOf(namespace: string, run: RotatorRun): Promise<k8s.EventsV1Event[]> {
  const list = await events.listNamespacedEvent({ namespace, labelSelector: `linkerd-cert-rotator.io/run-id=${runIdOf(run)}` });
  const time = (event: k8s.EventsV1Event): number => (event.eventTime instanceof Date ? event.eventTime.getTime() : Date.parse(String(event.eventTime)));
  return list.items.sort((a, b) => time(a) - time(b));
}

/** Remembers the key material now in the anchor and issuer Secrets. */
async function noteKeys(): Promise<void> {
  for (const [namespace, name] of [
    [names.trustNs, names.anchor],
    [names.linkerdNs, names.issuer],
  ] as const) {
    const secret = await kube.core.readNamespacedSecret({ namespace, name });
    const data = secret.data?.['tls.key'];
    if (!data) continue;
    keysSeen.add(data);
    keysSeen.add(
      Buffer.from(data, 'base64')
        .toString('utf8')
        .replace(/-----[A-Z ]+-----|\s/g, ''),
    );
  }
}

let legacyPrevious = false;
let jobPod = '';
let jobUid = '';

beforeAll(async () => {
  await ensureSteady(kubeconfig);
  legacyPrevious = (await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.previous })).type !== 'Opaque';
  await noteKeys();
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // The rotator's own Job, as a CronJob would create it; its pod's name is what the Downward API gives the run.
  // The run itself is a local process: the pod only stands in for it, so it must look alive to the next
  // run's liveness check. Unschedulable, it stays Pending (kwok completes Job pods once they run).
  await kube.core.createNamespace({ body: { metadata: { name: jobNs } } });
  const job = await batch.createNamespacedJob({
    namespace: jobNs,
    body: {
      metadata: { name: jobName },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            nodeSelector: { 'lcr.e2e/nowhere': 'true' },
            containers: [{ name: 'rotator', image: 'registry.local/linkerd-cert-rotator:e2e' }],
          },
        },
      },
    },
  });
  jobUid = job.metadata?.uid ?? '';
  jobPod = await eventually('the Job to create its pod', async () => {
    const pods = await kube.core.listNamespacedPod({ namespace: jobNs, labelSelector: `job-name=${jobName}` });
    const name = pods.items[0]?.metadata?.name;
    if (!name) throw new Error('no pod yet');
    return name;
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const name of [jobNs, stuckNs]) await kube.core.deleteNamespace({ name }).catch(() => undefined);
  await ensureSteady(kubeconfig);
  if (legacyPrevious) await restoreLegacyPreviousAnchor();
});

describe('unattended runs', () => {
  test('not due: rotate says nothing to do, changes nothing, records NothingToDo and does not notify', async () => {
    const before = await kube.resourceVersions();
    const dry = await rotator(['rotate', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      /policy: anchor [0-9a-f]{12} is .+ old and expires in .+: not due until \S+ \(rotate after 25d or within 60d of expiry\); pass --force/,
    );

    const run = await rotator(['rotate', ...reporting(), '--cluster-name', 'east']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^nothing to do: anchor [0-9a-f]{12} is .+ not due until/);
    expect(run.logs.some((l) => String(l.message).startsWith('nothing to do: anchor'))).toBe(true);
    expect(await kube.resourceVersions()).toEqual(before);

    const story = await eventsOf(names.trustNs, run);
    expect(story.map((e) => [e.type, e.reason])).toEqual([['Normal', 'NothingToDo']]);
    expect(story[0]?.regarding).toMatchObject({ kind: 'Certificate', name: names.anchor, namespace: names.trustNs });
    expect(story[0]?.regarding?.uid).toBeTruthy();
    expect(hooks()).toEqual([]);
    // Nothing to do is a success: the group is replaced, with the time of this last success.
    const push = pushes().at(-1);
    expect([push?.method, push?.url]).toEqual(['PUT', eastGroup]);
    const pushed = parseExposition(push?.body ?? '');
    expect(sampleValue(pushed, `${p}last_run_exit_code`, { command: 'rotate', result: 'nothing-to-do' })).toBe(0);
    expect(sampleValue(pushed, `${p}last_success_timestamp_seconds`, { command: 'rotate' })).toBe(sampleValue(pushed, `${p}last_run_finish_timestamp_seconds`));
  });

  let a: RotatorRun;
  let anchorBefore: X509Certificate;

  test('two overlapping runs: the second refuses at once with exit code 6 naming the holder; a third with --lock-wait waits, then runs', async () => {
    anchorBefore = await kube.anchor();
    let acquired: () => void = () => undefined;
    const lockHeld = new Promise<void>((resolve) => (acquired = resolve));
    // The Lease lives in the Linkerd namespace wherever a run happens; this test names one namespace for all three.
    const first = rotator(['rotate', '--force', '--lock-namespace', jobNs, '--output', 'json', ...reporting()], {
      env: { POD_NAME: jobPod, POD_NAMESPACE: jobNs },
      termWhen: (line) => {
        if (line.message === 'rotation lock acquired') acquired();
        return false;
      },
    });
    await lockHeld;
    const [refused, waited] = await Promise.all([
      rotator(['rotate', '--force', '--lock-namespace', jobNs, '--lock-wait', '0']),
      rotator(['rotate', '--lock-namespace', jobNs, '--lock-wait', '5m', ...reporting()]),
    ]);
    a = await first;

    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(
      new RegExp(`another run holds the rotation lock: Lease ${jobNs}/linkerd-cert-rotator is held by ${jobPod}, which must renew it before \\S+Z \\(in `),
    );

    expect(a.code).toBe(0);
    expect(waited.code).toBe(0);
    expect(
      waited.logs.some((l) => String(l.message).startsWith(`waiting for the rotation lock: Lease ${jobNs}/linkerd-cert-rotator is held by ${jobPod}`)),
    ).toBe(true);
    expect(logAt(waited, 'rotation lock acquired')).toBeGreaterThanOrEqual(logAt(a, 'rotation lock released'));
    // It ran after the first rotation finished, on an anchor that is now fresh: nothing was due.
    expect(waited.stdout).toMatch(/^nothing to do: anchor/);
    expect((await kube.anchor()).fingerprint256).not.toBe(anchorBefore.fingerprint256);
    await noteKeys();
  });

  test("Events on the run's Job tell the rotation in order: started, each step started and succeeded, succeeded", async () => {
    const { executed, plan } = JSON.parse(a.stdout) as { executed: { step: string; purpose?: string }[]; plan: { steps: unknown[] } };
    expect(executed.length).toBeGreaterThanOrEqual(7);
    const story = await eventsOf(jobNs, a);
    const expected = ['RotationStarted', ...executed.flatMap(() => ['StepStarted', 'StepSucceeded']), 'RotationSucceeded'];
    expect(story.map((e) => e.reason)).toEqual(expected);
    for (const event of story) {
      expect(event.regarding).toMatchObject({ kind: 'Job', name: jobName, namespace: jobNs, uid: jobUid });
      expect(event).toMatchObject({ type: 'Normal', reportingController: 'linkerd-cert-rotator', reportingInstance: jobPod });
    }
    const starts = story.filter((e) => e.reason === 'StepStarted');
    executed.forEach((step, i) =>
      expect(starts[i]?.note).toContain(
        `step ${i + 1} of ${plan.steps.length} planned: ${step.purpose ? `${step.step} (${step.purpose})` : step.step} started`,
      ),
    );
    const done = story.filter((e) => e.reason === 'StepSucceeded').map((e) => e.note ?? '');
    expect(done[0]).toMatch(/^step 1: renew-anchor succeeded after \S+; triggered re-issuance of Certificate cert-manager\/linkerd-trust-anchor$/);
    expect(
      done.some((note) => /restart-data-plane \(trust-new-anchor\) succeeded after \S+; restarted \d+ workload\(s\): .*Deployment shop\/api/.test(note)),
    ).toBe(true);
    expect(story.at(-1)?.note).toContain(`anchor ${short(anchorBefore)} → ${short(await kube.anchor())}`);

    // `kubectl get events --for job/...` sees them through the core API as well.
    const core = await kube.core.listNamespacedEvent({ namespace: jobNs, fieldSelector: `involvedObject.kind=Job,involvedObject.name=${jobName}` });
    expect(core.items.filter((e) => e.reason === 'RotationSucceeded').length).toBeGreaterThanOrEqual(1);
  });

  test('metrics: the Pushgateway got the run and the new anchor; status --output prometheus prints the same gauges', async () => {
    const anchor = await kube.anchor();
    const issuer = await kube.issuer();
    const put = pushes().filter((r) => r.method === 'PUT' && r.url === '/metrics/job/linkerd-cert-rotator');
    const runPush = put.find((r) => r.body.includes('result="succeeded"'));
    expect(runPush).toBeDefined();
    const pushed = parseExposition(runPush?.body ?? '');
    expect(sampleValue(pushed, `${p}last_run_exit_code`, { command: 'rotate', result: 'succeeded' })).toBe(0);
    expect(sampleValue(pushed, `${p}last_success_timestamp_seconds`, { command: 'rotate' })).toBe(sampleValue(pushed, `${p}last_run_finish_timestamp_seconds`));
    expect(sampleValue(pushed, `${p}certificate_not_after_timestamp_seconds`, { role: 'anchor' })).toBe(seconds(anchor));
    expect(sampleValue(pushed, `${p}rotation_phase`, { phase: 'steady' })).toBe(1);
    expect(sampleValue(pushed, `${p}stale_pods`)).toBe(0);
    expect(sampleValue(pushed, `${p}last_run_workloads_restarted`)).toBeGreaterThanOrEqual(9);
    expect(pushed.samples.filter((s) => s.name.endsWith('_total') || s.name.includes('until'))).toEqual([]);
    const executed = (JSON.parse(a.stdout) as { executed: { step: string; purpose?: string }[] }).executed;
    for (const step of executed) expect(sampleValue(pushed, `${p}step_duration_seconds`, { step: step.step, purpose: step.purpose ?? '' })).toBeGreaterThan(0);
    const started = sampleValue(pushed, `${p}last_run_start_timestamp_seconds`);
    expect(sampleValue(pushed, `${p}last_run_finish_timestamp_seconds`)).toBeGreaterThan(started);

    const status = await rotator(['status', '--output', 'prometheus']);
    expect(status.code).toBe(0);
    const scraped = parseExposition(`${status.stdout.trimEnd()}\n`);
    expect(sampleValue(scraped, `${p}certificate_not_after_timestamp_seconds`, { role: 'anchor' })).toBe(seconds(anchor));
    expect(sampleValue(scraped, `${p}certificate_not_after_timestamp_seconds`, { role: 'issuer' })).toBe(seconds(issuer));
    expect(sampleValue(scraped, `${p}certificate_not_before_timestamp_seconds`, { role: 'anchor' })).toBe(Date.parse(anchor.validFrom) / 1000);
    expect(sampleValue(scraped, `${p}rotation_due_timestamp_seconds`)).toBe(Date.parse(anchor.validFrom) / 1000 + 25 * 86_400);
    expect(sampleValue(scraped, `${p}status_health`, { health: 'healthy' })).toBe(1);
    expect(scraped.samples.filter((s) => s.name.includes('until'))).toEqual([]);

    // The chart's alerts on this run's push: a fresh anchor (365 days) and issuer (48 hours) are quiet
    // at the default thresholds and fire at thresholds beyond their lifetimes; a success fires nothing.
    const body = runPush?.body ?? '';
    expect(evaluateAlert('LinkerdTrustAnchorExpiresSoon', body)).toEqual({ firing: false });
    expect(evaluateAlert('LinkerdTrustAnchorExpiresSoon', body, { set: { 'prometheusRule.anchorExpiryDays': '400' } })).toEqual({ firing: true });
    expect(evaluateAlert('LinkerdIdentityIssuerExpiresSoon', body)).toEqual({ firing: false });
    expect(evaluateAlert('LinkerdIdentityIssuerExpiresSoon', body, { set: { 'prometheusRule.issuerExpiryHours': '49' } })).toEqual({ firing: true });
    expect(evaluateAlert('LinkerdCertRotationFailed', body)).toEqual({ firing: false });
    expect(evaluateAlert('LinkerdCertRotationOverdue', body)).toEqual({ firing: false });
  });

  test('the webhook got one success payload: the old and new anchors and the steps', async () => {
    const payloads = hooks().map((r) => JSON.parse(r.body) as { text: string; blocks: unknown[] });
    expect(payloads).toHaveLength(1);
    const text = payloads[0]?.text ?? '';
    expect(text).toMatch(/^:white_check_mark: linkerd-cert-rotator rotate succeeded in /);
    expect(text).toContain(`Trust anchor rotated: ${short(anchorBefore)} → ${short(await kube.anchor())}`);
    expect(text).toMatch(/Steps \(\d+\):\n1\. renew-anchor in /);
    expect(text).toContain(`Run ${runIdOf(a)} by ${jobPod}`);
    expect(payloads[0]?.blocks.length).toBeGreaterThan(0);
  });

  test('a restart past --rollout-timeout stops the rotation before the issuer renewal; the failure is notified; the next run finishes though nothing is due', async () => {
    await kube.core.createNamespace({ body: { metadata: { name: stuckNs, annotations: { 'linkerd.io/inject': 'enabled' } } } });
    // One replica pinned to a node with a host port: its surge pod can never be scheduled, so its rollout never ends.
    await kube.apps.createNamespacedDeployment({
      namespace: stuckNs,
      body: {
        metadata: { name: 'stuck' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'stuck' } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: { labels: { app: 'stuck' } },
            spec: {
              nodeSelector: { 'kubernetes.io/hostname': 'kwok-node-1' },
              tolerations: [{ operator: 'Exists' }],
              terminationGracePeriodSeconds: 0,
              containers: [{ name: 'app', image: 'registry.local/app:1', ports: [{ containerPort: 18080, hostPort: 18080 }] }],
            },
          },
        },
      },
    });
    await eventually(
      'the stuck Deployment to be ready',
      async () => {
        const d = await kube.apps.readNamespacedDeployment({ namespace: stuckNs, name: 'stuck' });
        if ((d.status?.readyReplicas ?? 0) < 1) throw new Error('not ready');
      },
      120_000,
    );
    const anchorBeforeRun = await kube.anchor();
    const issuerBefore = await kube.issuer();
    const hooksBefore = hooks().length;

    // Every meshed workload outside the scope holds the gates: accepted, since the run is to fail at a restart first.
    const failed = await rotator([
      'rotate',
      '--force',
      '--accept-held-pods',
      '--include-namespaces',
      stuckNs,
      '--rollout-timeout',
      '10s',
      '--output',
      'json',
      ...reporting(),
      '--cluster-name',
      'east',
    ]);
    expect(failed.code).toBe(5);
    expect(failed.stderr).toMatch(/timed out after 1\ds waiting for Deployment lcr-stuck\/stuck to roll out/);
    const anchorAfter = await kube.anchor();
    expect(anchorAfter.fingerprint256).not.toBe(anchorBeforeRun.fingerprint256);
    const issuer = await kube.issuer();
    expect(issuer.fingerprint256).toBe(issuerBefore.fingerprint256);
    expect(signedBy(issuer, anchorBeforeRun)).toBe(true);
    expect((await statusOf(kubeconfig)).report.phase).toBe('anchor-renewed');
    await noteKeys();

    const story = await eventsOf(names.trustNs, failed);
    expect(story.slice(-2).map((e) => [e.type, e.reason])).toEqual([
      ['Warning', 'StepFailed'],
      ['Warning', 'RotationFailed'],
    ]);
    expect(story.at(-2)?.note).toMatch(
      /^step \d+: restart-data-plane \(trust-new-anchor\) failed after \S+; restarted 1 workload\(s\): Deployment lcr-stuck\/stuck\. Error: timed out/,
    );
    expect(story.some((e) => e.reason === 'StepStarted' && e.note?.includes('renew-issuer'))).toBe(false);

    const payload = JSON.parse(hooks()[hooksBefore]?.body ?? '{}') as { text?: string };
    expect(payload.text).toMatch(/^:x: linkerd-cert-rotator rotate FAILED on east \(exit code 5, after /);

    // Pushed to the cluster's group as a merge: the Pushgateway keeps the earlier success this push lacks.
    const push = pushes().at(-1);
    expect([push?.method, push?.url]).toEqual(['POST', eastGroup]);
    const pushed = parseExposition(push?.body ?? '');
    expect(sampleValue(pushed, `${p}last_run_exit_code`, { command: 'rotate', result: 'failed' })).toBe(5);
    expect(pushed.samples.filter((s) => s.name === `${p}last_success_timestamp_seconds`)).toEqual([]);
    expect(evaluateAlert('LinkerdCertRotationFailed', push?.body ?? '', { labels: { cluster: 'east' } })).toEqual({ firing: true });
    // The same run stopped at a gate (exit 4) is waiting, not failing.
    const gated = (push?.body ?? '').replace(/^(linkerd_cert_rotator_last_run_exit_code\{[^}]*\}) 5$/m, '$1 4');
    expect(gated).not.toBe(push?.body);
    expect(evaluateAlert('LinkerdCertRotationFailed', gated, { labels: { cluster: 'east' } })).toEqual({ firing: false });
    expect(payload.text).toMatch(/Stopped at step \d+ restart-data-plane \(trust-new-anchor\): timed out after 1\ds waiting for Deployment lcr-stuck\/stuck/);
    expect(payload.text).toContain('Phase now: anchor-renewed');

    await kube.core.deleteNamespace({ name: stuckNs });
    await eventually(
      'the stuck pods to be gone',
      async () => {
        const pods = await kube.core.listNamespacedPod({ namespace: stuckNs });
        if (pods.items.length > 0) throw new Error(`${pods.items.length} pod(s) left`);
      },
      120_000,
    );

    const finished = await rotator(['rotate', '--output', 'json']);
    expect(finished.code).toBe(0);
    const result = JSON.parse(finished.stdout) as { decision: { unfinished: boolean; startNew: boolean }; executed: unknown[]; finalPhase: string };
    expect(result.decision).toMatchObject({ unfinished: true, startNew: false });
    expect(result.executed.length).toBeGreaterThan(0);
    expect(result.finalPhase).toBe('steady');
    const newIssuer = await kube.issuer();
    expect(signedBy(newIssuer, anchorAfter)).toBe(true);
    expect((await kube.anchor()).fingerprint256).toBe(anchorAfter.fingerprint256);
    await noteKeys();
  });

  test('SIGTERM mid-command: exit 143, the step recorded as failed, the Lease released for the next run', async () => {
    const stopped = await rotator(['restart-control-plane', '--lock-namespace', jobNs], {
      termWhen: (line) => String(line.message).startsWith('restarting identity workloads'),
    });
    expect(stopped.code).toBe(143);
    const lease = await kube.config.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace: jobNs, name: 'linkerd-cert-rotator' });
    expect(lease.spec?.holderIdentity ?? '').toBe('');
    expect(stopped.logs.some((l) => l.message === 'rotation lock released')).toBe(true);
    const story = await eventsOf(names.trustNs, stopped);
    expect(story.map((e) => [e.type, e.reason])).toEqual([
      ['Normal', 'StepStarted'],
      ['Warning', 'StepFailed'],
    ]);
    expect(story[1]?.note).toMatch(/^step 1: restart-control-plane failed after \S+; .*Error: aborted by SIGTERM$/);
  });

  test('a run killed with SIGKILL leaves its Lease held; the next run finds the holder gone and takes over at once', async () => {
    const killed = await rotator(['restart-control-plane', '--lock-namespace', jobNs], { killWhen: (line) => line.message === 'rotation lock acquired' });
    expect(killed.signal).toBe('SIGKILL');
    const held = await kube.config.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace: jobNs, name: 'linkerd-cert-rotator' });
    expect(held.spec?.holderIdentity).toBe(String(killed.logs[0]?.holder));
    const next = await rotator(['rotate', '--lock-namespace', jobNs]);
    expect(next.code).toBe(0);
    expect(next.logs.find((l) => l.message === 'rotation lock acquired')).toMatchObject({
      tookOverFrom: held.spec?.holderIdentity,
      because: expect.stringMatching(/^process \d+ on .+ is gone$/) as unknown,
    });
  });

  test('no key material in any log line, stdout, Event note or notification', async () => {
    const all = await events.listEventForAllNamespaces({ labelSelector: 'linkerd-cert-rotator.io/run-id' });
    expect(all.items.length).toBeGreaterThan(20);
    const texts = [...runs.flatMap((r) => [r.stdout, r.stderr]), ...all.items.map((e) => JSON.stringify(e)), ...received.map((r) => r.body)];
    expect(keysSeen.size).toBeGreaterThanOrEqual(6);
    for (const text of texts) {
      expect(text).not.toMatch(/PRIVATE KEY/);
      for (const key of keysSeen) {
        for (let i = 0; i + 40 <= key.length; i += 20) expect(text.includes(key.slice(i, i + 40))).toBe(false);
      }
    }
  });
});

/** Puts the previous-anchor Secret back the way the fixture made it (a copy of the anchor Secret), as this file found it. */
async function restoreLegacyPreviousAnchor(): Promise<void> {
  const anchor = await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.anchor });
  await kube.core.deleteNamespacedSecret({ namespace: names.trustNs, name: names.previous });
  await kube.core.createNamespacedSecret({
    namespace: names.trustNs,
    body: {
      metadata: { name: names.previous, namespace: names.trustNs, labels: anchor.metadata?.labels ?? {}, annotations: anchor.metadata?.annotations ?? {} },
      type: anchor.type,
      data: anchor.data,
    },
  });
}
