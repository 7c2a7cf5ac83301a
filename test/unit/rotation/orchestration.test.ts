// The rotate loop (src/rotation/rotate.ts, as `rotate` runs it) against the in-memory FakeCluster:
// full rotations, resumes from every phase, a run killed after each of its writes, cert-manager
// renewing the issuer by itself, and failed writes. After every change of the fake's world an
// invariant is checked that is written here, apart from the rotator's own code: every running
// proxy trusts the anchor behind every other running proxy's leaf. A wrong order makes it fail.
import { X509Certificate } from 'node:crypto';
import { defaultConfig, type RotatorConfig } from '../../../src/config.js';
import { ApiError } from '../../../src/kube/errors.js';
import { silentLogger } from '../../../src/log.js';
import type { RunContext } from '../../../src/rotation/context.js';
import { planRotation, rotate, type RotationResult } from '../../../src/rotation/rotate.js';
import { FakeCluster, KilledError, type FakeOptions, type Proxy } from '../../support/fake-cluster.js';

// --- The invariant, from the proxies' own data (node:crypto; nothing of src/certs) ---

const pemBlocks = (text: string): string[] => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
const certs = new Map<string, X509Certificate>();
const x509 = (pem: string): X509Certificate => {
  let cert = certs.get(pem);
  if (!cert) certs.set(pem, (cert = new X509Certificate(pem)));
  return cert;
};
const verdicts = new Map<string, boolean>();
/** Whether a proxy trusting `bundle` can verify a leaf signed by `issuer`: one of its anchors issued and signed the issuer. */
function trusts(bundle: string, issuer: string): boolean {
  const key = `${bundle}\n${issuer}`;
  let verdict = verdicts.get(key);
  if (verdict === undefined) {
    const i = x509(issuer);
    verdict = pemBlocks(bundle).some((anchor) => i.checkIssued(x509(anchor)) && i.verify(x509(anchor).publicKey));
    verdicts.set(key, verdict);
  }
  return verdict;
}

/** "a cannot verify b": every pair of running proxies where one does not trust an issuer that may have signed the other's leaf. */
function violations(proxies: readonly Proxy[]): string[] {
  const found: string[] = [];
  for (const verifier of proxies) {
    for (const presenter of proxies) {
      if (verifier === presenter) continue;
      for (const issuer of presenter.leafIssuers) {
        if (!trusts(verifier.trustPem, issuer)) found.push(`${verifier.pod} cannot verify ${presenter.pod}`);
      }
    }
  }
  return found;
}

/** Checks the invariant after every change of the fake's world; `seen` keeps each violation found, with its cause. */
function watchInvariant(fake: FakeCluster): { seen: string[] } {
  const seen: string[] = [];
  fake.observers.push((cause) => {
    const broken = violations(fake.mesh.proxies());
    if (broken.length > 0 && seen.length < 50) seen.push(`${fake.clock.now().toISOString()} after ${cause}: ${broken[0]} (${broken.length} pair(s))`);
  });
  return { seen };
}

// --- Runs ---

const config: RotatorConfig = { ...defaultConfig };

function contextFor(fake: FakeCluster): RunContext {
  return { cluster: fake.connect(), config, logger: silentLogger(), clock: fake.clock };
}

/** One `rotate` run (what the CLI's rotate command calls) on a fresh port, driven on the fake clock. */
function runRotate(fake: FakeCluster): Promise<RotationResult> {
  return fake.clock.drive(rotate(contextFor(fake), { dryRun: false }));
}

async function phaseOf(fake: FakeCluster): Promise<string> {
  return (await fake.clock.drive(planRotation(contextFor(fake), false))).plan.phase;
}

/** The fake's own view of the end: one anchor (not `from`) in the bundle, in every proxy, behind every leaf. */
function expectRotatedFrom(fake: FakeCluster, fromAnchor: string): void {
  const bundle = fake.store.get('ConfigMap', 'linkerd', 'linkerd-identity-trust-roots')?.data?.['ca-bundle.crt'] ?? '';
  const anchors = pemBlocks(bundle);
  expect(anchors).toHaveLength(1);
  expect(anchors[0]).not.toBe(pemBlocks(fromAnchor)[0]);
  for (const proxy of fake.mesh.proxies()) {
    expect({ pod: proxy.pod, anchors: pemBlocks(proxy.trustPem) }).toEqual({ pod: proxy.pod, anchors });
    for (const issuer of proxy.leafIssuers) expect({ pod: proxy.pod, trusted: trusts(bundle, issuer) }).toEqual({ pod: proxy.pod, trusted: true });
  }
}

const bundleNow = (fake: FakeCluster): string => fake.store.get('ConfigMap', 'linkerd', 'linkerd-identity-trust-roots')?.data?.['ca-bundle.crt'] ?? '';

async function fresh(options: FakeOptions = {}): Promise<{ fake: FakeCluster; seen: string[]; anchor: string }> {
  const fake = await FakeCluster.create(options);
  const { seen } = watchInvariant(fake);
  return { fake, seen, anchor: bundleNow(fake) };
}

describe('rotate against the fake cluster', () => {
  it('a full rotation from a steady state: seven steps, every write checked, no violation', async () => {
    const { fake, seen, anchor } = await fresh();
    expect(await phaseOf(fake)).toBe('steady');
    expect(violations(fake.mesh.proxies())).toEqual([]);
    const result = await runRotate(fake);
    expect(seen).toEqual([]);
    expect(result.finalPhase).toBe('steady');
    expect(result.executed.map((s) => s.step)).toEqual([
      'renew-anchor',
      'wait-bundle',
      'restart-control-plane',
      'restart-data-plane',
      'renew-issuer',
      'restart-control-plane',
      'restart-data-plane',
      'update-bundle',
      'restart-control-plane',
      'restart-data-plane',
    ]);
    expectRotatedFrom(fake, anchor);
    expect(await phaseOf(fake)).toBe('steady');
  });
});

export { ApiError, KilledError };
