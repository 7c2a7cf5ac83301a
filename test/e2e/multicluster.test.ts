// Linked clusters sharing one trust anchor (issue 12): this worker's cluster is the primary
// (`east`, it holds the anchor Certificate), a second local cluster started by this file is the
// peer (`west`, a copy of the anchor Secret). The fleet monitor checks every pair of pods within
// and across the two clusters, from outside the rotator.
import { createHash } from 'node:crypto';
import { apiserverDownUntil } from '../harness/apiserver.js';
import { Certificates } from '../harness/certificates.js';
import { e2eKube, e2eKubeconfig } from '../harness/env.js';
import { names } from '../harness/fixture.js';
import { TestKube } from '../harness/kube.js';
import { deleteLinks, installLinks, removeLinks } from '../harness/links.js';
import { FleetMonitor, type FleetViolation } from '../harness/monitor.js';
import { startPeer, type PeerCluster } from '../harness/peer.js';
import { runRotator, type RotatorRun, type RunOptions } from '../harness/rotator.js';
import { ensureSteady } from '../harness/steady.js';

const primaryName = 'east';
const peerName = 'west';
const primaryKubeconfig = e2eKubeconfig();
const primary = e2eKube();
let peer: PeerCluster | undefined;
let peerKube: TestKube;

const started = Date.now();
const elapsed = (): string => `${Math.round((Date.now() - started) / 1000)} s`;
const say = (text: string): void => void process.stdout.write(`multicluster [${elapsed()}]: ${text}\n`);

function peerCluster(): PeerCluster {
  if (!peer) throw new Error('the peer cluster did not start');
  return peer;
}

/** The fleet flags: this cluster is `east`, the peer `west` through its own kubeconfig. */
const fleetArgs = (): string[] => [
  '--cluster-name',
  primaryName,
  '--peer',
  `${peerName}=${peerCluster().context}`,
  '--peer-kubeconfig',
  peerCluster().kubeconfig,
];

async function fleetRun(args: string[], options: RunOptions = {}): Promise<RotatorRun> {
  const at = Date.now();
  // A gate that cannot be met fails within 5 min, naming its pods, before runRotator's own deadline.
  const run = await runRotator(primaryKubeconfig, [...args, ...fleetArgs()], { ...options, env: { LCR_ROLLOUT_TIMEOUT: '300s', ...options.env } });
  say(`${args.join(' ')}: exit ${String(run.code)}${run.signal ? ` (${run.signal})` : ''} after ${Math.round((Date.now() - at) / 1000)} s`);
  // What the run last did and why it stopped, for a run that hangs or fails (no Secret data is logged).
  const tail = run.logs.filter((l) => l.level === 'error' || /^step \d+|barrier|gate/.test(String(l.message))).slice(-6);
  const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value ?? ''));
  for (const line of tail) say(`  ${text(line.cluster)} ${text(line.level)}: ${text(line.message)}${line.purpose ? ` (${text(line.purpose)})` : ''}`);
  return run;
}

const barrierPassed =
  (barrier: string) =>
  (line: Record<string, unknown>): boolean =>
    line.message === 'barrier passed' && line.barrier === barrier;
const passed = (run: RotatorRun, barrier: string): boolean => run.logs.some(barrierPassed(barrier));

const monitored = (): { name: string; kubeconfig: string }[] => [
  { name: primaryName, kubeconfig: primaryKubeconfig },
  { name: peerName, kubeconfig: peerCluster().kubeconfig },
];

/** A short, readable account of violations (the first few), for failure messages and the log. */
const account = (violations: FleetViolation[]): string =>
  `${violations.length} violation(s)${
    violations.length
      ? `, e.g. ${violations
          .slice(0, 3)
          .map((v) => `${v.pod} -> ${v.peer} lacks ${v.missingAnchor}`)
          .join('; ')}`
      : ''
  }`;

/** SHA-256 of each field of the anchor Secret: compared instead of the data, so that no key reaches a test report. */
async function anchorSecretDigest(kube: TestKube): Promise<Record<string, string>> {
  const secret = await kube.core.readNamespacedSecret({ namespace: names.trustNs, name: names.anchor });
  return Object.fromEntries(
    ['tls.crt', 'tls.key', 'ca.crt'].map((key) => [
      key,
      createHash('sha256')
        .update(secret.data?.[key] ?? '')
        .digest('hex'),
    ]),
  );
}

interface FleetStatus {
  clusters: { name: string; role: string; phase: string; stale: unknown[] }[];
  barrier?: string;
}

async function fleetStatus(): Promise<FleetStatus> {
  const run = await runRotator(primaryKubeconfig, ['status', '--output', 'json', ...fleetArgs()]);
  return JSON.parse(run.stdout) as FleetStatus;
}

/** Both clusters steady, each bundle holding only `anchor`, the peer's anchor Secret the primary's. */
async function expectSteadyOn(anchor: string): Promise<void> {
  expect((await primary.anchor()).fingerprint256).toBe(anchor);
  expect((await peerKube.anchor()).fingerprint256).toBe(anchor);
  expect(await primary.bundleFingerprints()).toEqual([anchor]);
  expect(await peerKube.bundleFingerprints()).toEqual([anchor]);
  expect(await anchorSecretDigest(peerKube)).toEqual(await anchorSecretDigest(primary));
  const status = await fleetStatus();
  expect(status.clusters.map((c) => [c.name, c.role, c.phase, c.stale.length])).toEqual([
    [primaryName, 'primary', 'steady', 0],
    [peerName, 'peer', 'steady', 0],
  ]);
}

// In the default suite since it passed repeatedly (it adds a third control plane beside the two
// workers' for about 5 minutes: test/e2e/sequencer.cjs starts it first, beside faults.test.ts, so
// that the other files share the rest). LCR_E2E_MULTICLUSTER=0 leaves it out of a run by hand.
const suite = process.env.LCR_E2E_MULTICLUSTER === '0' ? describe.skip : describe;

suite('linked clusters sharing one anchor', () => {
  beforeAll(async () => {
    // The primary starts steady (its bundle holds only its anchor), whatever the files before left.
    await ensureSteady(primaryKubeconfig);
    await startPeer(primaryKubeconfig, `[peer ${peerName}]`, (p) => (peer = p));
    peerKube = new TestKube(peerCluster().kubeconfig);
    await installLinks(primaryKubeconfig, peerName, peerName);
    await installLinks(peerCluster().kubeconfig, primaryName, primaryName);
    say('peer cluster up with its fixture, Links in both clusters');
  }, 600_000);

  afterAll(async () => {
    try {
      // The Link CRD goes, and every Link with it: the files after this one see an unlinked cluster.
      await removeLinks(primaryKubeconfig);
    } finally {
      await peer?.stop();
    }
    await ensureSteady(primaryKubeconfig);
    say(`done (file took ${elapsed()})`);
  }, 600_000);

  test('a two-cluster rotation, killed at each barrier and resumed, the peer apiserver stopped between them: zero violations within and across clusters; no old anchor dropped while the peer was away', async () => {
    const old = (await primary.anchor()).fingerprint256;
    expect((await peerKube.anchor()).fingerprint256).toBe(old);
    // cert-manager renews west's issuer on its own 10 s from now, inside steps 1-3: were it renewed
    // after the new anchor reached west's copy, its leaves would chain to an anchor east's proxies do
    // not trust yet. The fleet renews it first, under the old anchor. (Its issuer must be old enough
    // that a fresh one outlasts the 60 s margin.)
    const peerCertificates = new Certificates(peerCluster().kubeconfig);
    const peerIssuer = await peerCertificates.status(names.linkerdNs, names.issuer);
    const age = Date.now() - (peerIssuer.notBefore?.getTime() ?? Date.now());
    if (age < 70_000) await new Promise((resolve) => setTimeout(resolve, 70_000 - age));
    await peerCertificates.renewAt(names.linkerdNs, names.issuer, new Date(Date.now() + 10_000));
    const monitor = new FleetMonitor(monitored());
    monitor.start();
    let stopped = false;
    try {
      // Run 1 is killed (as a node loss would) the moment every proxy in both clusters trusts the new anchor.
      const first = await fleetRun(['rotate', '--force', '--issuer-renewal-margin', '60s'], { killWhen: barrierPassed('trust-new-anchor') });
      expect(first.signal).toBe('SIGKILL');
      const steps = first.logs
        .filter((l) => /^step \d+: /.test(String(l.message)))
        .map((l) => `${String(l.cluster)} ${String(l.message).replace(/^step \d+: /, '')}`);
      expect(steps.slice(0, 2)).toEqual([`${peerName} renew-issuer`, `${primaryName} renew-anchor`]);
      await peerCertificates.patchSpec(names.linkerdNs, names.issuer, { renewBefore: '25h0m0s' });
      expect((await peerCertificates.status(names.linkerdNs, names.issuer)).revision).toBeGreaterThan(peerIssuer.revision);
      expect(first.logs.some((l) => l.message === 'anchor copied to peer' && l.cluster === peerName)).toBe(true);
      const fresh = (await primary.anchor()).fingerprint256;
      expect(fresh).not.toBe(old);
      expect((await peerKube.anchor()).fingerprint256).toBe(fresh);
      for (const kube of [primary, peerKube]) expect(await kube.bundleFingerprints()).toEqual([old, fresh].sort());

      // Run 2 resumes. The primary goes first through stage 2 (issuer renewed, then restarts); as it
      // restarts its data plane the last time before it could drop the old anchor, the peer's
      // apiserver stops, and stays down until the run ends. The primary then waits at barrier
      // adopt-new-issuer: the peer's proxies may still hold leaves of the old anchor.
      let outage: Promise<number> | undefined;
      let release: () => void = () => undefined;
      const second = await fleetRun(['rotate'], {
        onLine: (line) => {
          if (!outage && line.cluster === primaryName && /^step \d+: restart-data-plane$/.test(String(line.message)) && line.purpose === 'adopt-new-issuer') {
            stopped = true;
            outage = apiserverDownUntil(peerCluster().stateDir, () => new Promise<void>((resolve) => (release = resolve)));
          }
        },
        timeoutMs: 420_000,
      });
      release();
      const downMs = await outage;
      stopped = false;
      say(`peer apiserver was down ${Math.round((downMs ?? 0) / 1000)} s; ${monitor.unreachable[peerName] ?? 0} samples kept the peer's last views`);
      expect(outage).toBeDefined();
      expect(second.signal).toBeNull();
      expect(second.code).not.toBe(0);
      expect(JSON.stringify(second.logs.filter((l) => l.level === 'error'))).toContain(peerName);
      expect(passed(second, 'adopt-new-issuer')).toBe(false);
      // The primary went on without the peer as far as no barrier held it: its issuer now chains to the new anchor.
      expect((await primary.issuer()).verify((await primary.anchor()).publicKey)).toBe(true);
      // Never half-dropped: both bundles (and the primary's previous-anchor Secret) still hold the old anchor.
      for (const kube of [primary, peerKube]) expect(await kube.bundleFingerprints()).toEqual([old, fresh].sort());
      expect((await primary.secretCerts(names.trustNs, names.previous)).map((c) => c.fingerprint256)).toEqual([old]);

      // Run 3 resumes with both clusters back and is killed as the last barrier passes.
      const third = await fleetRun(['rotate'], { killWhen: barrierPassed('adopt-new-issuer') });
      expect(third.signal).toBe('SIGKILL');
      expect((await primary.anchor()).fingerprint256).toBe(fresh);
      for (const kube of [primary, peerKube]) expect(await kube.bundleFingerprints()).toEqual([old, fresh].sort());

      // Run 4 finishes.
      const fourth = await fleetRun(['rotate']);
      expect(fourth.code).toBe(0);
      expect(fourth.logs.some((l) => l.message === 'rotation complete')).toBe(true);
      await monitor.stop();
      say(`rotation monitored: ${monitor.samples} samples, ${account(monitor.violations)}`);
      expect(monitor.samples).toBeGreaterThan(20);
      expect(monitor.violations).toEqual([]);
      // Not renewed again by the resumed runs.
      await expectSteadyOn(fresh);
    } finally {
      if (stopped) say('the peer apiserver may still be down after a failure');
      await monitor.stop().catch(() => undefined);
    }
  }, 900_000);

  test('negative control: a cluster-at-a-time rotation (the single-cluster run on the primary alone) breaks pairs across clusters, and the fleet rotation heals them', async () => {
    // Unlinked, the primary's single-cluster rotation runs; the peer keeps the old anchor.
    await deleteLinks(primaryKubeconfig);
    await deleteLinks(peerCluster().kubeconfig);
    const old = (await primary.anchor()).fingerprint256;
    const monitor = new FleetMonitor(monitored());
    monitor.start();
    const alone = await runRotator(primaryKubeconfig, ['rotate', '--force']);
    await monitor.stop();
    say(`single-cluster rotation of ${primaryName}: exit ${String(alone.code)}; ${monitor.samples} samples, ${account(monitor.violations)}`);
    expect(alone.code).toBe(0);
    const fresh = (await primary.anchor()).fingerprint256;
    expect(fresh).not.toBe(old);
    // Within the primary the single-cluster order is safe; across clusters it breaks both ways.
    expect(monitor.violations.filter((v) => v.podCluster === primaryName && v.peerCluster === primaryName)).toEqual([]);
    const across = monitor.across();
    expect(across.some((v) => v.podCluster === primaryName && v.peerCluster === peerName)).toBe(true);
    expect(across.some((v) => v.podCluster === peerName && v.peerCluster === primaryName)).toBe(true);
    expect(await peerKube.bundleFingerprints()).toEqual([old]);

    // Linked again, the fleet rotation brings the peer onto the primary's anchor.
    await installLinks(primaryKubeconfig, peerName, peerName);
    await installLinks(peerCluster().kubeconfig, primaryName, primaryName);
    // No --force: the run finishes what the clusters' state asks for (the copy and the peer's
    // rotation onto it) and starts no new rotation.
    const heal = await fleetRun(['rotate']);
    expect(heal.logs.some((l) => l.message === 'anchor copied to peer' && l.cluster === peerName)).toBe(true);
    expect(heal.code).toBe(0);
    await expectSteadyOn(fresh);
    // After the run: every pair holds, across the clusters too (sampled for a few seconds).
    const after = new FleetMonitor(monitored());
    for (let i = 0; i < 10; i++) {
      await after.sample();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    say(`after the healing run: ${after.samples} samples, ${account(after.violations)}`);
    expect(after.violations).toEqual([]);
  }, 900_000);
});
