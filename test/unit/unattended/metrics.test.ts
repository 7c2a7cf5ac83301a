// The Prometheus exposition: the writer's format, checked by an independent strict reader, and the values.
import { issuerRenewal } from '../../../src/rotation/preflight.js';
import { buildStatus } from '../../../src/status/report.js';
import {
  exposition,
  registryOf,
  runFamilies,
  snapshotFamilies,
  snapshotOf,
  statusExposition,
  type Family,
  type Snapshot,
} from '../../../src/unattended/metrics.js';
import type { RunReport } from '../../../src/unattended/recorder.js';
import { parseExposition, sampleValue } from '../../support/prometheus.js';
import { makeRotation, observedState, steadySpec } from '../../support/state.js';

const p = 'linkerd_cert_rotator_';
const g = (name: string, samples: Family['samples'], help = 'Help.'): Family => ({ name, help, type: 'gauge', samples });

describe('exposition (prom-client)', () => {
  it('writes HELP and TYPE before the samples, labels in braces in the order given, a blank line between families, one newline at the end', async () => {
    const text = await exposition([
      g('a_seconds', [
        { labels: { role: 'anchor', kind: 'x' }, value: 1.5 },
        { labels: { role: 'issuer', kind: 'y' }, value: 2 },
      ]),
      g('b', [{ value: 3 }], 'Counted.'),
    ]);
    expect(text).toBe(
      [
        '# HELP a_seconds Help.',
        '# TYPE a_seconds gauge',
        'a_seconds{role="anchor",kind="x"} 1.5',
        'a_seconds{role="issuer",kind="y"} 2',
        '',
        '# HELP b Counted.',
        '# TYPE b gauge',
        'b 3',
        '',
      ].join('\n'),
    );
  });

  it('escapes label values and help text so the reader gets them back', async () => {
    const text = await exposition([g('m', [{ labels: { why: 'a "quoted" back\\slash\nnewline' }, value: 1 }], 'line one\nline two \\ end')]);
    const parsed = parseExposition(text);
    expect(parsed.samples[0]?.labels.why).toBe('a "quoted" back\\slash\nnewline');
    expect(text).toContain('# HELP m line one\\nline two \\\\ end');
  });

  it('leaves out families without samples: an absent series, not a 0', async () => {
    expect(await exposition([g('empty', [])])).toBe('');
    expect(await exposition([g('empty', []), g('full', [{ value: 0 }])])).toBe('# HELP full Help.\n# TYPE full gauge\nfull 0\n');
  });

  it.each<[string, Family[], RegExp]>([
    ['a metric name with a dash', [g('bad-name', [{ value: 1 }])], /Invalid metric name/],
    ['a metric name starting with a digit', [g('1st', [{ value: 1 }])], /Invalid metric name/],
    ['a label name with a dot', [g('m', [{ labels: { 'a.b': 'x' }, value: 1 }])], /Invalid label name/],
    ['a reserved label name', [g('m', [{ labels: { __name__: 'x' }, value: 1 }])], /invalid label name "__name__"/],
    ['a gauge ending in _total', [g('restarts_total', [{ value: 1 }])], /gauge "restarts_total" must not end in _total/],
    ['the same family twice', [g('m', [{ value: 1 }]), g('m', [{ value: 2 }])], /already been registered/],
  ])('refuses %s', (_name, families, message) => {
    expect(() => registryOf(families)).toThrow(message);
  });

  it('one registry per rendering: the same families twice give the same text (no global state)', async () => {
    const families = [g('m', [{ labels: { a: '1' }, value: 1 }])];
    expect(await exposition(families)).toBe(await exposition(families));
  });
});

const snapshot: Snapshot = {
  now: new Date('2025-06-01T12:00:00Z'),
  anchor: { fingerprint: 'ab'.repeat(32), notBefore: new Date('2025-05-01T00:00:00Z'), notAfter: new Date('2026-05-01T00:00:00Z') },
  issuer: { notBefore: new Date('2025-06-01T10:00:00Z'), notAfter: new Date('2025-06-03T10:00:00Z') },
  phase: 'issuer-renewed',
  health: 'warning',
  stalePods: 4,
  meshedPods: 17,
  rotationDueAt: new Date('2025-05-26T00:00:00Z'),
};

describe('snapshot metrics (status --output prometheus)', () => {
  let parsed: ReturnType<typeof parseExposition>;
  beforeAll(async () => {
    parsed = parseExposition(await exposition(snapshotFamilies(snapshot)));
  });

  it('certificate dates as Unix seconds, per role (an alert subtracts time(); no frozen "seconds until")', () => {
    expect(sampleValue(parsed, `${p}certificate_not_after_timestamp_seconds`, { role: 'anchor' })).toBe(Date.parse('2026-05-01T00:00:00Z') / 1000);
    expect(sampleValue(parsed, `${p}certificate_not_after_timestamp_seconds`, { role: 'issuer' })).toBe(Date.parse('2025-06-03T10:00:00Z') / 1000);
    expect(sampleValue(parsed, `${p}certificate_not_before_timestamp_seconds`, { role: 'anchor' })).toBe(Date.parse('2025-05-01T00:00:00Z') / 1000);
    expect(parsed.samples.filter((s) => /until/.test(s.name))).toEqual([]);
  });

  it('the phase and health as state sets with exactly one 1', () => {
    const phases = parsed.samples.filter((s) => s.name === `${p}rotation_phase`);
    expect(phases).toHaveLength(7);
    expect(phases.filter((s) => s.value === 1).map((s) => s.labels.phase)).toEqual(['issuer-renewed']);
    expect(parsed.samples.filter((s) => s.name === `${p}status_health` && s.value === 1).map((s) => s.labels.health)).toEqual(['warning']);
  });

  it('stale and meshed pods, and when the policy makes the next rotation due', () => {
    expect(sampleValue(parsed, `${p}stale_pods`)).toBe(4);
    expect(sampleValue(parsed, `${p}meshed_pods`)).toBe(17);
    expect(sampleValue(parsed, `${p}rotation_due_timestamp_seconds`)).toBe(Date.parse('2025-05-26T00:00:00Z') / 1000);
  });

  it('a cluster that cannot be judged exposes health broken only', async () => {
    const broken = parseExposition(await statusExposition(undefined));
    expect(broken.samples.filter((s) => s.value === 1).map((s) => `${s.name}/${s.labels.health}`)).toEqual([`${p}status_health/broken`]);
  });

  it('snapshotOf reads the dates from the observed certificates and the counts from the status', async () => {
    const r = await makeRotation();
    const state = observedState(steadySpec(r));
    const status = buildStatus(state, 1);
    const s = snapshotOf(state, status, { rotateAfterMs: 25 * 86_400_000, rotateBeforeExpiryMs: 60 * 86_400_000, force: false });
    expect(s).toMatchObject({
      anchor: { fingerprint: r.newAnchor.cert.fingerprint, notAfter: r.newAnchor.cert.notAfter },
      issuer: { notAfter: r.newIssuer.cert.notAfter },
      phase: 'steady',
      meshedPods: 6,
    });
    // The issuer's renewal is judged once, by the status (estimated here: no status.renewalTime); the snapshot carries that instant.
    expect(status.issuer.renewalTimeEstimated).toBe(true);
    expect(s.issuerRenewalAt?.toISOString()).toBe(status.issuer.renewalTime);
    expect(s.issuerRenewalAt).toEqual(issuerRenewal(state.issuer).at);
    expect(s.rotationDueAt).toEqual(new Date(r.newAnchor.cert.notBefore.getTime() + 25 * 86_400_000));
  });
});

const report = (fields: Partial<RunReport> = {}): RunReport => ({
  command: 'rotate',
  runId: 'r1',
  holder: 'job-pod',
  startedAt: new Date('2025-06-01T12:00:00Z'),
  finishedAt: new Date('2025-06-01T12:03:20Z'),
  outcome: 'succeeded',
  exitCode: 0,
  steps: [
    { index: 1, name: 'renew-anchor', startedAt: new Date(), durationMs: 4_000, result: 'succeeded', writes: [] },
    { index: 2, name: 'restart-data-plane', purpose: 'trust-new-anchor', startedAt: new Date(), durationMs: 30_000, result: 'succeeded', writes: [] },
    { index: 3, name: 'restart-data-plane', purpose: 'trust-new-anchor', startedAt: new Date(), durationMs: 2_500, result: 'succeeded', writes: [] },
    { index: 4, name: 'renew-issuer', startedAt: new Date(), durationMs: 1_000, result: 'failed', writes: [] },
  ],
  restarted: 12,
  deletedPods: 0,
  ...fields,
});

describe('run metrics (pushed after each run)', () => {
  let parsed: ReturnType<typeof parseExposition>;
  beforeAll(async () => {
    parsed = parseExposition(await exposition(runFamilies(report())));
  });

  it('start, finish, duration, result and exit code of the last run', () => {
    expect(sampleValue(parsed, `${p}last_run_start_timestamp_seconds`, { command: 'rotate' })).toBe(Date.parse('2025-06-01T12:00:00Z') / 1000);
    expect(sampleValue(parsed, `${p}last_run_finish_timestamp_seconds`, { command: 'rotate' })).toBe(Date.parse('2025-06-01T12:03:20Z') / 1000);
    expect(sampleValue(parsed, `${p}last_run_duration_seconds`)).toBe(200);
    expect(sampleValue(parsed, `${p}last_run_exit_code`, { command: 'rotate', result: 'succeeded' })).toBe(0);
    expect(sampleValue(parsed, `${p}last_success_timestamp_seconds`, { command: 'rotate' })).toBe(Date.parse('2025-06-01T12:03:20Z') / 1000);
    expect(parsed.samples.filter((s) => s.name === `${p}last_run_success`)).toEqual([]);
    expect(sampleValue(parsed, `${p}last_run_steps`)).toBe(4);
  });

  it('one duration per step and purpose, a step run twice summed, a failed step apart', () => {
    expect(sampleValue(parsed, `${p}step_duration_seconds`, { step: 'restart-data-plane', purpose: 'trust-new-anchor' })).toBe(32.5);
    expect(sampleValue(parsed, `${p}step_duration_seconds`, { step: 'renew-anchor', purpose: '', result: 'succeeded' })).toBe(4);
    expect(sampleValue(parsed, `${p}step_duration_seconds`, { step: 'renew-issuer', result: 'failed' })).toBe(1);
  });

  it('workloads restarted and pods deleted as gauges of the last run, no pushed counter (each push would reset it)', async () => {
    const counts = parseExposition(await exposition(runFamilies(report({ deletedPods: 3 }))));
    expect(counts.types[`${p}last_run_workloads_restarted`]).toBe('gauge');
    expect(sampleValue(counts, `${p}last_run_workloads_restarted`, { command: 'rotate' })).toBe(12);
    expect(sampleValue(counts, `${p}last_run_pods_deleted`, { command: 'rotate' })).toBe(3);
    expect(Object.values(counts.types)).not.toContain('counter');
    expect(counts.samples.filter((s) => s.name.endsWith('_total'))).toEqual([]);
  });

  it('a nothing-to-do run is a success too', async () => {
    const idle = parseExposition(await exposition(runFamilies(report({ outcome: 'nothing-to-do', steps: [], finishedAt: new Date('2025-06-01T12:00:02Z') }))));
    expect(sampleValue(idle, `${p}last_success_timestamp_seconds`)).toBe(Date.parse('2025-06-01T12:00:02Z') / 1000);
    expect(sampleValue(idle, `${p}last_run_exit_code`, { result: 'nothing-to-do' })).toBe(0);
  });

  it('a failed run has its exit code and result, and no last success (the Pushgateway keeps the earlier one)', async () => {
    const failed = parseExposition(await exposition(runFamilies(report({ outcome: 'failed', exitCode: 5 }))));
    expect(sampleValue(failed, `${p}last_run_exit_code`, { result: 'failed' })).toBe(5);
    expect(failed.samples.filter((s) => s.name === `${p}last_success_timestamp_seconds`)).toEqual([]);
  });

  it('every metric name ends in its unit or says it has none: _timestamp_seconds, _seconds, or a count', () => {
    const names = new Set([...snapshotFamilies(snapshot), ...runFamilies(report())].filter((f) => f.samples.length > 0).map((f) => f.name.slice(p.length)));
    for (const name of names)
      expect(name).toMatch(/(_timestamp_seconds|_duration_seconds|_exit_code|_steps|_pods|_pods_deleted|_workloads_restarted|_phase|_health)$/);
    expect([...names].filter((n) => /seconds_/.test(n))).toEqual([]);
  });

  it('snapshot and run metrics together form one valid exposition', async () => {
    const both = await exposition([...snapshotFamilies(snapshot), ...runFamilies(report())]);
    expect(() => parseExposition(both)).not.toThrow();
  });
});
