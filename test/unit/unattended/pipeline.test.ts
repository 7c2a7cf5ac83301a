// The reporting pipeline: one RunReport (with the cluster as the run left it) or one status Snapshot,
// and every sink a renderer of it: the push and its mode, the last Event, the notification.
import { runEndedEvent } from '../../../src/unattended/events.js';
import { runPushFamilies, runPushMode } from '../../../src/unattended/metrics.js';
import { notificationPayload } from '../../../src/unattended/notify.js';
import { publishRun, pushStatusMetrics } from '../../../src/unattended/publish.js';
import type { RunReport } from '../../../src/unattended/recorder.js';
import { capturingLogger } from '../../support/logger.js';
import { parseExposition, sampleValue } from '../../support/prometheus.js';
import { snapshotWith } from '../../support/snapshot.js';
import { FakeMetricsSink, FakeNotifier } from '../../support/unattended.js';

const p = 'linkerd_cert_rotator_';
const oldAnchor = '11'.repeat(32);
const newAnchor = '22'.repeat(32);

const report = (fields: Partial<RunReport> = {}): RunReport => ({
  command: 'rotate',
  runId: 'r1',
  holder: 'job-pod',
  startedAt: new Date('2025-06-01T12:00:00Z'),
  finishedAt: new Date('2025-06-01T12:01:00Z'),
  outcome: 'succeeded',
  exitCode: 0,
  anchorBefore: oldAnchor,
  steps: [{ index: 1, name: 'renew-anchor', startedAt: new Date('2025-06-01T12:00:00Z'), durationMs: 5_000, result: 'succeeded', writes: [] }],
  restarted: 3,
  deletedPods: 0,
  after: snapshotWith({ anchor: { ...snapshotWith().anchor, fingerprint: newAnchor }, phase: 'anchor-renewed', health: 'warning', stalePods: 2 }),
  ...fields,
});

describe('one run report, every sink', () => {
  it('the phase and anchor after the run reach the push, the Event and the notification from the one snapshot', async () => {
    const r = report();
    const sink = new FakeMetricsSink();
    await publishRun({ unattended: { metrics: sink }, logger: capturingLogger().logger }, r);
    const text = parseExposition(sink.pushes[0]?.exposition ?? '');
    expect(sampleValue(text, `${p}rotation_phase`, { phase: 'anchor-renewed' })).toBe(1);
    expect(sampleValue(text, `${p}stale_pods`)).toBe(2);
    expect(sampleValue(text, `${p}status_health`, { health: 'warning' })).toBe(1);
    expect(sampleValue(text, `${p}last_run_workloads_restarted`, { command: 'rotate' })).toBe(3);
    expect(runEndedEvent(r).note).toContain(`anchor ${oldAnchor.slice(0, 12)} → ${newAnchor.slice(0, 12)}; phase now anchor-renewed`);
    const { text: notified } = notificationPayload(r);
    expect(notified).toContain(`Trust anchor rotated: ${oldAnchor.slice(0, 12)} → ${newAnchor.slice(0, 12)}`);
    expect(notified).toContain('Phase now: anchor-renewed');
  });

  it('a cluster that could not be read after the run: only the run gauges are pushed, the Event says the phase is unknown, the notification names the anchor before', () => {
    const r = report({ after: undefined });
    const families = runPushFamilies(r)
      .filter((f) => f.samples.length > 0)
      .map((f) => f.name.slice(p.length));
    expect(families).toContain('last_run_exit_code');
    expect(families.filter((n) => /certificate|phase|health|stale|meshed|observed/.test(n))).toEqual([]);
    expect(runEndedEvent(r).note).toContain('phase now unknown');
    const { text } = notificationPayload(r);
    expect(text).toContain(`Trust anchor: ${oldAnchor.slice(0, 12)}`);
    expect(text).not.toContain('Phase now');
  });

  it.each<[RunReport['outcome'], 'replace' | 'merge', 'Normal' | 'Warning', string]>([
    ['succeeded', 'replace', 'Normal', 'RotationSucceeded'],
    ['nothing-to-do', 'replace', 'Normal', 'NothingToDo'],
    ['failed', 'merge', 'Warning', 'RotationFailed'],
  ])('a %s run pushes as %s and ends with a %s %s Event', (outcome, mode, type, reason) => {
    const r = report({ outcome, exitCode: outcome === 'failed' ? 5 : 0 });
    expect(runPushMode(r)).toBe(mode);
    expect(runEndedEvent(r)).toMatchObject({ type, reason, action: 'Rotate' });
  });
});

describe('publishRun', () => {
  it('a failed push is a warning and the webhook is still told; a failed webhook is a warning too', async () => {
    const metrics = new FakeMetricsSink();
    metrics.fail = new Error('ECONNREFUSED');
    const notifier = new FakeNotifier();
    notifier.fail = new Error('HTTP 500');
    const { logger, lines } = capturingLogger();
    await expect(publishRun({ unattended: { metrics, notifier }, logger }, report({ outcome: 'failed', exitCode: 5 }), 'east')).resolves.toBeUndefined();
    expect(lines.filter((l) => l.level === 'warn').map((l) => [l.message, l.error])).toEqual([
      ['could not push metrics to the Pushgateway', 'ECONNREFUSED'],
      ['could not notify the webhook', 'HTTP 500'],
    ]);
  });

  it('pushes with the mode of the outcome; notifies with the cluster name; a nothing-to-do run stays quiet', async () => {
    const metrics = new FakeMetricsSink();
    const notifier = new FakeNotifier();
    const deps = { unattended: { metrics, notifier }, logger: capturingLogger().logger };
    await publishRun(deps, report({ outcome: 'failed', exitCode: 5 }), 'east');
    await publishRun(deps, report({ outcome: 'nothing-to-do', steps: [] }), 'east');
    expect(metrics.pushes.map((push) => push.mode)).toEqual(['merge', 'replace']);
    expect(notifier.sent.map((sent) => sent.text.split('\n')[0])).toEqual([':x: linkerd-cert-rotator rotate FAILED on east (exit code 5, after 1m)']);
  });
});

describe('pushStatusMetrics', () => {
  it('merges the status gauges into the group, or health broken alone when the cluster could not be judged', async () => {
    const metrics = new FakeMetricsSink();
    const deps = { unattended: { metrics }, logger: capturingLogger().logger };
    await pushStatusMetrics(deps, snapshotWith({ meshedPods: 9 }));
    await pushStatusMetrics(deps, undefined);
    expect(metrics.pushes.map((push) => push.mode)).toEqual(['merge', 'merge']);
    expect(sampleValue(parseExposition(metrics.pushes[0]?.exposition ?? ''), `${p}meshed_pods`)).toBe(9);
    const broken = parseExposition(metrics.pushes[1]?.exposition ?? '');
    expect(broken.samples.map((s) => `${s.name.slice(p.length)}/${s.labels.health}=${s.value}`)).toEqual([
      'status_health/healthy=0',
      'status_health/warning=0',
      'status_health/broken=1',
    ]);
  });

  it('without a Pushgateway does nothing, and a failed push is a warning', async () => {
    await expect(pushStatusMetrics({ unattended: {}, logger: capturingLogger().logger }, undefined)).resolves.toBeUndefined();
    const metrics = new FakeMetricsSink();
    metrics.fail = new Error('HTTP 400');
    const { logger, lines } = capturingLogger();
    await pushStatusMetrics({ unattended: { metrics }, logger }, undefined);
    expect(lines.map((l) => [l.level, l.error])).toEqual([['warn', 'HTTP 400']]);
  });
});
