// The invariant every test of the orchestration checks, and the helpers that run the rotator
// against a FakeCluster. The check is written from the proxies' own data with node:crypto, apart
// from the rotator's code: every running proxy trusts the anchor behind every other running
// proxy's leaf (every issuer that may have signed it).
import { defaultConfig, type RotatorConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import type { RunContext } from '../../src/rotation/context.js';
import { planRotation, rotate, type RotationResult } from '../../src/rotation/rotate.js';
import { FakeCluster, type FakeOptions, type Proxy } from './fake-cluster.js';
import { chainsTo, splitPem } from './fake-trust.js';

const ids = new Map<string, number>();
/** A small number per distinct PEM text, so verdicts are looked up by two numbers. */
const idOf = (pem: string): number => {
  let id = ids.get(pem);
  if (id === undefined) ids.set(pem, (id = ids.size));
  return id;
};
const verdicts = new Map<string, boolean>();
/** Whether a proxy trusting `bundle` can verify a leaf signed by `issuer`: one of its anchors issued and signed the issuer. */
export function trusts(bundle: string, issuer: string): boolean {
  const key = `${idOf(bundle)}/${idOf(issuer)}`;
  let verdict = verdicts.get(key);
  if (verdict === undefined) {
    verdict = chainsTo(issuer, bundle);
    verdicts.set(key, verdict);
  }
  return verdict;
}

/** "a cannot verify b": every pair of running proxies where one does not trust an issuer that may have signed the other's leaf. */
export function violations(proxies: readonly Proxy[]): string[] {
  const found: string[] = [];
  // Distinct bundles and issuers first: a mesh has many pods but few of either.
  const bundles = new Map<string, Proxy[]>();
  const issuers = new Map<string, Proxy[]>();
  for (const proxy of proxies) {
    bundles.set(proxy.trustPem, [...(bundles.get(proxy.trustPem) ?? []), proxy]);
    for (const issuer of proxy.leafIssuers) issuers.set(issuer, [...(issuers.get(issuer) ?? []), proxy]);
  }
  for (const [bundle, verifiers] of bundles) {
    for (const [issuer, presenters] of issuers) {
      if (trusts(bundle, issuer)) continue;
      for (const verifier of verifiers)
        for (const presenter of presenters) if (verifier !== presenter) found.push(`${verifier.pod} cannot verify ${presenter.pod}`);
    }
  }
  return found;
}

/** Checks the invariant after every write and every change of a pod; `seen` keeps each violation found, with its cause. */
export function watchInvariant(fake: FakeCluster): { seen: string[] } {
  const seen: string[] = [];
  fake.observers.push((cause) => {
    if (!cause.startsWith('write ') && !cause.startsWith('Pod ')) return;
    const broken = violations(fake.mesh.proxies());
    if (broken.length > 0 && seen.length < 50) seen.push(`${fake.clock.now().toISOString()} after ${cause}: ${broken[0]} (${broken.length} pair(s))`);
  });
  return { seen };
}

export const config: RotatorConfig = { ...defaultConfig };

export function contextFor(fake: FakeCluster, overrides: Partial<RotatorConfig> = {}): RunContext {
  return { cluster: fake.connect(), config: { ...config, ...overrides }, logger: silentLogger(), clock: fake.clock, signal: fake.killSignal };
}

/**
 * One `rotate` run (what the CLI's rotate command calls) on a fresh port, driven on the fake
 * clock; `resume` finishes what is under way without starting a new rotation from a steady state.
 */
export function runRotate(fake: FakeCluster, options: { resume?: boolean; config?: Partial<RotatorConfig> } = {}): Promise<RotationResult> {
  return fake.clock.drive(rotate(contextFor(fake, options.config), { dryRun: false, ...(options.resume ? { startNew: false } : {}) }));
}

export async function phaseOf(fake: FakeCluster): Promise<string> {
  return (await fake.clock.drive(planRotation(contextFor(fake), false))).plan.phase;
}

/** The fake's own view of the end: one anchor (not `from`) in the bundle, in every proxy, behind every leaf. */
export function expectRotatedFrom(fake: FakeCluster, fromAnchor: string): void {
  const bundle = fake.store.get('ConfigMap', 'linkerd', 'linkerd-identity-trust-roots')?.data?.['ca-bundle.crt'] ?? '';
  const anchors = splitPem(bundle);
  expect(anchors).toHaveLength(1);
  expect(anchors[0]).not.toBe(splitPem(fromAnchor)[0]);
  for (const proxy of fake.mesh.proxies()) {
    expect({ pod: proxy.pod, anchors: splitPem(proxy.trustPem) }).toEqual({ pod: proxy.pod, anchors });
    for (const issuer of proxy.leafIssuers) expect({ pod: proxy.pod, trusted: trusts(bundle, issuer) }).toEqual({ pod: proxy.pod, trusted: true });
  }
}

export const bundleNow = (fake: FakeCluster): string => fake.store.get('ConfigMap', 'linkerd', 'linkerd-identity-trust-roots')?.data?.['ca-bundle.crt'] ?? '';

export async function fresh(options: FakeOptions = {}): Promise<{ fake: FakeCluster; seen: string[]; anchor: string }> {
  const fake = await FakeCluster.create(options);
  const { seen } = watchInvariant(fake);
  return { fake, seen, anchor: bundleNow(fake) };
}

export const anchorTriggers = (fake: FakeCluster): number =>
  fake.writes.filter((w) => w.call === 'triggerIssuance' && w.object === 'cert-manager/linkerd-trust-anchor').length;
