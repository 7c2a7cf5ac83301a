// Notifications and the wording they share with Events: what was rotated, where it stopped, no key material.
import { shortFingerprint } from '../../../src/certs/index.js';
import { notificationPayload, shouldNotify, stoppedAt } from '../../../src/unattended/notify.js';
import type { RunReport } from '../../../src/unattended/recorder.js';
import { formatDuration, redact, truncate } from '../../../src/unattended/text.js';
import { makeAnchor, type Generated } from '../../support/certs.js';
import { snapshotWith } from '../../support/snapshot.js';

let oldAnchor: Generated;
let newAnchor: Generated;
beforeAll(async () => {
  [oldAnchor, newAnchor] = await Promise.all([makeAnchor(), makeAnchor()]);
});

const at = (s: number): Date => new Date(Date.parse('2025-06-01T12:00:00Z') + s * 1000);

const report = (fields: Partial<RunReport> = {}): RunReport => ({
  command: 'rotate',
  runId: 'mx1-abc',
  holder: 'linkerd-cert-rotator-29170080-x7k2p',
  startedAt: at(0),
  finishedAt: at(125),
  outcome: 'succeeded',
  exitCode: 0,
  anchorBefore: oldAnchor.cert.fingerprint,
  after: snapshotWith({ anchor: { ...snapshotWith().anchor, fingerprint: newAnchor.cert.fingerprint } }),
  steps: [
    {
      index: 1,
      name: 'renew-anchor',
      startedAt: at(0),
      durationMs: 3_100,
      result: 'succeeded',
      writes: [{ kind: 'trigger-issuance', object: 'Certificate cert-manager/linkerd-trust-anchor' }],
    },
    {
      index: 2,
      name: 'restart-data-plane',
      purpose: 'trust-new-anchor',
      startedAt: at(4),
      durationMs: 61_000,
      result: 'succeeded',
      writes: [
        { kind: 'restart', object: 'Deployment shop/api' },
        { kind: 'restart', object: 'StatefulSet shop/db' },
      ],
    },
  ],
  restarted: 2,
  deletedPods: 0,
  ...fields,
});

describe('notificationPayload', () => {
  it('on success: the old and new anchors, each step with its time, workloads restarted', () => {
    const { text, blocks } = notificationPayload(report(), 'prod-eu');
    expect(text).toContain('linkerd-cert-rotator rotate succeeded on prod-eu in 2m5s');
    expect(text).toContain(`Trust anchor rotated: ${shortFingerprint(oldAnchor.cert.fingerprint)} → ${shortFingerprint(newAnchor.cert.fingerprint)}`);
    expect(text).toContain('1. renew-anchor in 3.1s');
    expect(text).toContain('2. restart-data-plane (trust-new-anchor) in 1m1s, 2 workload(s) restarted');
    expect(text).toContain('Phase now: steady');
    expect(JSON.stringify(blocks)).toContain('"type":"header"');
  });

  it('on failure: where it stopped and why, the exit code, and that the next run resumes', () => {
    const failed = report({
      outcome: 'failed',
      exitCode: 5,
      error: 'timed out after 10s waiting for Deployment lcr-stuck/stuck to roll out',
      after: snapshotWith({ anchor: { ...snapshotWith().anchor, fingerprint: newAnchor.cert.fingerprint }, phase: 'anchor-renewed' }),
      steps: [
        ...report().steps,
        {
          index: 3,
          name: 'restart-data-plane',
          purpose: 'trust-new-anchor',
          startedAt: at(70),
          durationMs: 10_000,
          result: 'failed',
          writes: [],
          error: 'timed out',
        },
      ],
    });
    const { text } = notificationPayload(failed);
    expect(text).toMatch(/^:x: linkerd-cert-rotator rotate FAILED \(exit code 5, after 2m5s\)/);
    expect(text).toContain('Stopped at step 3 restart-data-plane (trust-new-anchor): timed out after 10s waiting for Deployment lcr-stuck/stuck to roll out');
    expect(text).toContain('resumes where this one stopped');
    expect(text).toContain('3. restart-data-plane (trust-new-anchor) FAILED after 10s');
  });

  it.each<[string, Partial<RunReport>, string]>([
    ['a failure before any step', { outcome: 'failed', steps: [], plan: { phase: 'steady', summary: 's', steps: 10 } }, 'before the first step'],
    ['a failure while reading the cluster', { outcome: 'failed', steps: [], plan: undefined }, 'before planning, while reading the cluster'],
    ['a failure between steps (SIGTERM after a step ended)', { outcome: 'failed' }, 'after step 2 restart-data-plane (trust-new-anchor)'],
  ])('stoppedAt: %s', (_name, fields, words) => {
    expect(stoppedAt(report(fields))).toBe(words);
  });

  it('never carries key material, even when an error message holds some', () => {
    const leaked = `unexpected: ${newAnchor.keyPem} and raw ${newAnchor.keyPem.replace(/-----[A-Z ]+-----|\n/g, '')}`;
    const payload = JSON.stringify(notificationPayload(report({ outcome: 'failed', exitCode: 1, error: leaked })));
    expect(payload).not.toContain('PRIVATE KEY');
    const body = newAnchor.keyPem.replace(/-----[A-Z ]+-----|\n/g, '');
    for (let i = 0; i + 40 <= body.length; i += 20) expect(payload).not.toContain(body.slice(i, i + 40));
  });

  it('nothing-to-do runs are not notified; successes and failures are', () => {
    expect(shouldNotify(report({ outcome: 'nothing-to-do' }))).toBe(false);
    expect(shouldNotify(report())).toBe(true);
    expect(shouldNotify(report({ outcome: 'failed' }))).toBe(true);
  });
});

describe('text helpers', () => {
  it.each<[number, string]>([
    [250, '250ms'],
    [12_345, '12.3s'],
    [60_000, '1m'],
    [125_000, '2m5s'],
    [3_600_000, '1h'],
    [3_660_000, '1h1m'],
    [25 * 86_400_000, '25d'],
    [25 * 86_400_000 + 3 * 3_600_000, '25d3h'],
    [-90_000, '-1m30s'],
  ])('formatDuration(%s) = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('redact removes PEM blocks and long base64 runs, keeps fingerprints', () => {
    const fingerprint = 'a'.repeat(64);
    expect(redact(`key ${newAnchor.keyPem.trim()} fp ${fingerprint}`)).toBe(`key [redacted PEM block] fp ${fingerprint}`);
    expect(redact(`x ${'QUJD'.repeat(40)} y`)).toBe('x [redacted] y');
  });

  it('truncate keeps within the byte limit, multi-byte characters included', () => {
    const cut = truncate('→'.repeat(600), 1024);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
    expect(cut.endsWith('…')).toBe(true);
    expect(truncate('short', 1024)).toBe('short');
  });
});
