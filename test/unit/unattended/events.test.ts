// Events: what they regard, how they are named and ordered, what their notes say, and that writing one never fails a run.
import { defaultConfig } from '../../../src/config.js';
import { silentLogger } from '../../../src/log.js';
import { describeWrites, resolveEventTarget, RunEvents, runIdLabel, stepAction, stepEndedNote, stepStartedNote } from '../../../src/unattended/events.js';
import type { RunIdentity } from '../../../src/unattended/ports.js';
import { ManualClock } from '../../support/clock.js';
import { FakeEvents } from '../../support/unattended.js';
import { capturingLogger } from '../../support/logger.js';

const identity: RunIdentity = {
  holder: 'rotator-29170080-x7k2p',
  holderRef: { kind: 'pod', namespace: 'linkerd-cert-rotator', name: 'rotator-29170080-x7k2p' },
  runId: 'mx1-abc',
  podName: 'rotator-29170080-x7k2p',
  podNamespace: 'linkerd-cert-rotator',
};
const job = { apiVersion: 'batch/v1', kind: 'Job', namespace: 'linkerd-cert-rotator', name: 'rotator-29170080', uid: 'job-uid' };

describe('resolveEventTarget', () => {
  it("regards the run's own Job when its pod is controlled by one", async () => {
    const port = new FakeEvents({ 'linkerd-cert-rotator/rotator-29170080-x7k2p': job });
    expect(await resolveEventTarget(port, identity, defaultConfig, silentLogger())).toEqual(job);
  });

  it('regards the trust anchor Certificate outside a Job, or outside a pod', async () => {
    const port = new FakeEvents({});
    const certificate = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', namespace: 'cert-manager', name: 'linkerd-trust-anchor', uid: 'cert-uid' };
    expect(await resolveEventTarget(port, identity, defaultConfig, silentLogger())).toEqual(certificate);
    expect(
      await resolveEventTarget(
        port,
        { holder: 'laptop-42', holderRef: { kind: 'process', host: 'laptop', pid: 42 }, runId: 'x' },
        defaultConfig,
        silentLogger(),
      ),
    ).toEqual(certificate);
  });

  it('falls back to the Certificate (without uid) when neither the pod nor the Certificate can be read', async () => {
    const port = new FakeEvents({});
    port.ownerJob = () => Promise.reject(new Error('forbidden'));
    port.certificateRef = () => Promise.reject(new Error('forbidden'));
    expect(await resolveEventTarget(port, identity, defaultConfig, silentLogger())).toEqual({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      namespace: 'cert-manager',
      name: 'linkerd-trust-anchor',
    });
  });
});

describe('RunEvents', () => {
  it('names Events uniquely after their object, orders their times strictly, labels them with the run id', async () => {
    const port = new FakeEvents();
    const clock = new ManualClock();
    const events = new RunEvents(port, job, identity, { clock, logger: silentLogger() });
    await events.emit('Normal', 'StepStarted', 'RenewAnchor', 'a');
    await events.emit('Normal', 'StepSucceeded', 'RenewAnchor', 'b');
    await events.emit('Warning', 'StepFailed', 'RenewIssuer', 'c');
    const names = port.events.map((e) => e.name);
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^rotator-29170080\.[0-9a-f]+$/);
    const times = port.events.map((e) => e.time.getTime());
    expect(times[1]).toBeGreaterThan(times[0] as number);
    expect(times[2]).toBeGreaterThan(times[1] as number);
    expect(port.events[2]).toMatchObject({
      type: 'Warning',
      reason: 'StepFailed',
      regarding: job,
      reportingController: 'linkerd-cert-rotator',
      reportingInstance: identity.holder,
      labels: { [runIdLabel]: 'mx1-abc' },
    });
  });

  it('keeps notes under the 1 kB limit and free of PEM blocks', async () => {
    const port = new FakeEvents();
    const events = new RunEvents(port, job, identity, { clock: new ManualClock(), logger: silentLogger() });
    // A key-shaped block (not a key), assembled here so no key marker sits in the sources.
    const keyBlock = (body: string): string => [`-----BEGIN EC ${'PRIVATE'} KEY-----`, body, `-----END EC ${'PRIVATE'} KEY-----`].join('\n');
    await events.emit('Warning', 'StepFailed', 'X', `${'x'.repeat(2000)} ${keyBlock('MHc')}`);
    await events.emit('Warning', 'StepFailed', 'X', `error: ${keyBlock('MHcCAQEE')} end`);
    expect(Buffer.byteLength(port.events[0]?.note ?? '')).toBeLessThanOrEqual(1024);
    expect(port.events[1]?.note).toBe('error: [redacted PEM block] end');
  });

  it('a failing Event write is a warning once, then debug, and never throws', async () => {
    const port = new FakeEvents();
    port.fail = new Error('events is forbidden');
    const { logger, lines } = capturingLogger();
    const events = new RunEvents(port, job, identity, { clock: new ManualClock(), logger });
    await expect(events.emit('Normal', 'StepStarted', 'X', 'a')).resolves.toBeUndefined();
    await expect(events.emit('Normal', 'StepStarted', 'X', 'b')).resolves.toBeUndefined();
    expect(lines.map((l) => l.level)).toEqual(['warn', 'debug']);
    expect(lines[0]?.error).toBe('events is forbidden');
  });
});

describe('notes', () => {
  it('a step start says which step of how many and why', () => {
    expect(stepStartedNote({ name: 'restart-data-plane', purpose: 'trust-new-anchor', why: 'proxies read trust anchors only at start-up' }, 4, 10)).toBe(
      'step 4 of 10 planned: restart-data-plane (trust-new-anchor) started: proxies read trust anchors only at start-up',
    );
  });

  it('a step end says how long and which objects changed, naming at most eight', () => {
    const writes = Array.from({ length: 10 }, (_, i) => ({ kind: 'restart' as const, object: `Deployment shop/app-${i}` }));
    const note = stepEndedNote({
      index: 4,
      name: 'restart-data-plane',
      purpose: 'trust-new-anchor',
      startedAt: new Date(),
      durationMs: 42_000,
      result: 'succeeded',
      writes,
    });
    expect(note).toBe(
      `step 4: restart-data-plane (trust-new-anchor) succeeded after 42s; restarted 10 workload(s): ${writes
        .slice(0, 8)
        .map((w) => w.object)
        .join(', ')} and 2 more`,
    );
  });

  it('describes every kind of write', () => {
    expect(
      describeWrites([
        { kind: 'trigger-issuance', object: 'Certificate linkerd/linkerd-identity-issuer' },
        { kind: 'write-secret', object: 'Secret cert-manager/linkerd-previous-anchor' },
        { kind: 'delete-pod', object: 'Pod jobs/batch-1' },
      ]),
    ).toBe(
      'triggered re-issuance of Certificate linkerd/linkerd-identity-issuer; wrote the certificate only into Secret cert-manager/linkerd-previous-anchor; deleted 1 stale pod(s): Pod jobs/batch-1',
    );
    expect(describeWrites([])).toBe('changed nothing');
  });

  it('actions in CamelCase', () => {
    expect(stepAction('restart-control-plane')).toBe('RestartControlPlane');
  });
});
