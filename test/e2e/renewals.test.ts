// cert-manager acting on its own (issue 10, situation 2 and the anchor renewed without a rotation),
// and linked clusters. cert-manager's real trigger controller renews when status.renewalTime comes;
// the tests bring that moment forward by changing renewBefore, as HARNESS.md describes.
import { Certificates } from '../harness/certificates.js';
import { eventually } from '../harness/eventually.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { names } from '../harness/fixture.js';
import { installLinks, removeLinks } from '../harness/links.js';
import { InvariantMonitor } from '../harness/monitor.js';
import { runRotator, type RotatorRun } from '../harness/rotator.js';
import { ensureSteady, statusOf } from '../harness/steady.js';

const kube = e2eKube();
const kubeconfig = e2eKubeconfig();
const certificates = new Certificates(kubeconfig);
const fixtureIssuer = { duration: '48h0m0s', renewBefore: '25h0m0s' };
const fixtureAnchorRenewBefore = '7320h0m0s';

const steps = (run: RotatorRun): string[] =>
  run.logs
    .map((line) => (typeof line.message === 'string' ? line.message : ''))
    .filter((message) => /^step \d+: /.test(message))
    .map((message) => message.replace(/^step \d+: /, ''));

/** What a refused run must leave alone: the anchor, the previous anchor, every workload and pod. */
async function untouched(): Promise<Record<string, string>> {
  const versions = await kube.resourceVersions();
  // cert-manager renews the issuer by itself in these tests: its Secret and Certificate may move.
  return Object.fromEntries(Object.entries(versions).filter(([key]) => !key.includes(names.issuer)));
}

async function issuerAge(): Promise<number> {
  const status = await certificates.status(names.linkerdNs, names.issuer);
  return Date.now() - (status.notBefore?.getTime() ?? Date.now());
}

describe("cert-manager's own renewals", () => {
  beforeAll(() => ensureSteady(kubeconfig));
  afterAll(async () => {
    await certificates.patchSpec(names.linkerdNs, names.issuer, fixtureIssuer);
    await certificates.patchSpec(names.trustNs, names.anchor, { renewBefore: fixtureAnchorRenewBefore });
    await ensureSteady(kubeconfig);
  });

  test('an issuer renewal falling due inside steps 1-3: the issuer is renewed first, under the old anchor, and the rotation keeps the invariant', async () => {
    // The issuer must be old enough that a fresh one outlasts steps 1-3 (the margin below).
    const age = await issuerAge();
    if (age < 70_000) await new Promise((resolve) => setTimeout(resolve, 70_000 - age));
    const oldAnchor = await kube.anchor();
    const before = await certificates.status(names.linkerdNs, names.issuer);
    // cert-manager would renew the issuer 10 s from now, during the anchor renewal or the restarts.
    await certificates.renewAt(names.linkerdNs, names.issuer, new Date(Date.now() + 10_000));

    const monitor = new InvariantMonitor(kubeconfig);
    monitor.start();
    const run = await runRotator(kubeconfig, ['rotate', '--force', '--issuer-renewal-margin', '60s']);
    await monitor.stop();
    expect(run.code).toBe(0);
    expect(steps(run).slice(0, 2)).toEqual(['renew-issuer', 'renew-anchor']);
    expect(monitor.samples).toBeGreaterThan(10);
    expect(monitor.violations).toEqual([]);
    // The first renewal chained to the old anchor (issued before the new one existed).
    const after = await certificates.status(names.linkerdNs, names.issuer);
    expect(after.revision).toBeGreaterThanOrEqual(before.revision + 2);
    expect((await kube.anchor()).fingerprint256).not.toBe(oldAnchor.fingerprint256);
    expect((await statusOf(kubeconfig)).report.phase).toBe('steady');
    await certificates.patchSpec(names.linkerdNs, names.issuer, fixtureIssuer);
  });

  test('situation 2: an issuer renewed every two minutes refuses a rotation (exit 3), nothing changed', async () => {
    const before = await certificates.status(names.linkerdNs, names.issuer);
    // duration 1h, renewBefore 58m: cert-manager re-issues now and then every two minutes.
    await certificates.patchSpec(names.linkerdNs, names.issuer, { duration: '1h0m0s', renewBefore: '58m0s' });
    // The first revision after the patch may still be one cert-manager began under the old spec (the
    // test before leaves the issuer renewing itself every few seconds until it restores the spec):
    // wait for the first one issued with the new duration.
    const short = await eventually('an issuer issued with duration 1h', async () => {
      const now = await certificates.status(names.linkerdNs, names.issuer);
      if (now.revision <= before.revision || (now.notAfter?.getTime() ?? 0) - (now.notBefore?.getTime() ?? 0) !== 3_600_000)
        throw new Error(`revision ${now.revision}`);
      return now;
    });
    expect((short.renewalTime?.getTime() ?? 0) - (short.notBefore?.getTime() ?? 0)).toBe(120_000);
    const kept = await untouched();
    const run = await runRotator(kubeconfig, ['rotate', '--force']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/renews the identity issuer every 2m, less than the 2h \(--issuer-renewal-margin\)/);
    expect(await untouched()).toEqual(kept);
    await certificates.patchSpec(names.linkerdNs, names.issuer, fixtureIssuer);
    await certificates.issuedAfter(names.linkerdNs, names.issuer, short.revision);
  });

  test('an anchor renewed by cert-manager on its own is carried through by a scheduled run (no --force), with zero violations', async () => {
    const oldAnchor = await kube.anchor();
    const before = await certificates.status(names.trustNs, names.anchor);
    await certificates.renewAt(names.trustNs, names.anchor, new Date(Date.now() + 2_000)).catch(() => undefined);
    await certificates.issuedAfter(names.trustNs, names.anchor, before.revision);
    // Put the anchor's own schedule back before cert-manager renews the fresh one too.
    await certificates.patchSpec(names.trustNs, names.anchor, { renewBefore: fixtureAnchorRenewBefore });
    expect((await kube.anchor()).fingerprint256).not.toBe(oldAnchor.fingerprint256);

    const monitor = new InvariantMonitor(kubeconfig);
    monitor.start();
    const run = await runRotator(kubeconfig, ['rotate']);
    await monitor.stop();
    expect(run.code).toBe(0);
    expect(steps(run)).not.toContain('renew-anchor');
    expect(steps(run)).toContain('renew-issuer');
    expect(monitor.violations).toEqual([]);
    const anchor = await kube.anchor();
    expect(await kube.bundleFingerprints()).toEqual([anchor.fingerprint256]);
    expect((await statusOf(kubeconfig)).report.phase).toBe('steady');
  });
});

describe('linked clusters', () => {
  beforeAll(() => installLinks(kubeconfig, 'east', 'east'));
  afterAll(() => removeLinks(kubeconfig));

  test('a Link refuses an anchor rotation before anything changes; status names it', async () => {
    const kept = await kube.resourceVersions();
    const run = await runRotator(kubeconfig, ['rotate', '--force']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/Linkerd multicluster Link\(s\) present \(linkerd\/east\)/);
    expect(await kube.resourceVersions()).toEqual(kept);
    const { report } = (await statusOf(kubeconfig)) as unknown as { report: { findings: { subject: string; message: string }[] } };
    expect(report.findings.some((f) => f.subject === 'next rotation' && /Link\(s\) present/.test(f.message))).toBe(true);
  });
});
