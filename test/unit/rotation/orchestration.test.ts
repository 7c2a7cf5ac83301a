// The rotate loop (src/rotation/rotate.ts, what the CLI's rotate command calls) against the
// in-memory FakeCluster: full rotations, resumes from phases cert-manager or a person left,
// cert-manager renewing the issuer by itself, failed writes and conflicts (kills between writes:
// orchestration-kills.test.ts). After every write and every pod change the invariant of
// test/support/invariant.ts is checked (every running proxy trusts the anchor behind every other
// running proxy's leaf); the negative controls show that a wrong order makes it fail.
import { PreconditionError, StepError } from '../../../src/errors.js';
import { ApiError } from '../../../src/kube/errors.js';
import { anchorTarget, issuerTarget, renewCertificate } from '../../../src/rotation/renew.js';
import { rotate } from '../../../src/rotation/rotate.js';
import { observeCertificates } from '../../../src/rotation/state.js';
import { renewAnchor, renewIssuer, restartControlPlane, restartDataPlane, waitForBundle } from '../../../src/rotation/steps.js';
import type { FakeCluster } from '../../support/fake-cluster.js';
import { anchorTriggers, contextFor, expectRotatedFrom, fresh, phaseOf, runRotate, violations } from '../../support/invariant.js';
import { splitPem } from '../../support/fake-trust.js';
import { fullRotation } from '../../support/plan-shape.js';

describe('rotate against the fake cluster', () => {
  it('a full rotation from a steady state: the seven steps, no violation after any change, one anchor left', async () => {
    const { fake, seen, anchor } = await fresh();
    expect(await phaseOf(fake)).toBe('steady');
    expect(fake.mesh.proxies().length).toBeGreaterThanOrEqual(10);
    const result = await runRotate(fake);
    expect(seen).toEqual([]);
    expect(result.finalPhase).toBe('steady');
    expect(result.executed.map((s) => s.step)).toEqual(fullRotation);
    expectRotatedFrom(fake, anchor);
    expect(anchorTriggers(fake)).toBe(1);
    expect(await phaseOf(fake)).toBe('steady');
    // A second run finds nothing to do and writes nothing.
    const writes = fake.writes.length;
    const again = await fake.clock.drive(rotate(contextFor(fake), { dryRun: false, startNew: false }));
    expect(again.executed).toEqual([]);
    expect(fake.writes).toHaveLength(writes);
  });

  it('a fresh install whose previous-anchor Secret is empty: the current anchor is written into it first', async () => {
    const { fake, seen, anchor } = await fresh({ previousAnchor: 'empty' });
    const result = await runRotate(fake);
    expect(seen).toEqual([]);
    expect(result.finalPhase).toBe('steady');
    expect(fake.writes[0]?.call).toBe('writeCertificateOnlySecret');
    expectRotatedFrom(fake, anchor);
  });
});

describe('a meshed pod no rollout restarts', () => {
  it('refuses to start without --delete-stale-pods: nothing is written', async () => {
    const { fake } = await fresh({ barePods: ['shop/debug'] });
    await expect(runRotate(fake)).rejects.toThrow(PreconditionError);
    expect(fake.writes).toEqual([]);
  });

  it('with --delete-stale-pods the data-plane steps evict it, and the rotation ends clean', async () => {
    const { fake, seen, anchor } = await fresh({ barePods: ['shop/debug'] });
    const result = await runRotate(fake, { config: { deleteStalePods: true } });
    expect(seen).toEqual([]);
    expect(result.finalPhase).toBe('steady');
    expect(fake.writes.filter((w) => w.call === 'evictPod').map((w) => w.object)).toEqual(['shop/debug']);
    expect(fake.mesh.proxies().some((p) => p.pod === 'shop/debug')).toBe(false);
    expectRotatedFrom(fake, anchor);
  });
});

describe('negative controls: the invariant check catches a wrong order', () => {
  // Built from the rotator's own steps, in an order it would never choose.
  it("the blog's order (anchor and issuer renewed back to back, restarts after) breaks mTLS while the mesh rolls", async () => {
    const { fake, seen } = await fresh();
    const ctx = contextFor(fake);
    await fake.clock.drive(
      (async () => {
        await renewCertificate(ctx, anchorTarget(ctx));
        await waitForBundle(ctx);
        await renewCertificate(ctx, issuerTarget(ctx));
        await restartControlPlane(ctx);
        await restartDataPlane(ctx);
      })(),
    );
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toContain('cannot verify');
  });

  it('renewing the issuer after the control plane restarted but before the data plane did breaks mTLS', async () => {
    const { fake, seen } = await fresh();
    const ctx = contextFor(fake);
    await fake.clock.drive(
      (async () => {
        await renewAnchor(ctx);
        await waitForBundle(ctx);
        await restartControlPlane(ctx, 'trust-new-anchor');
        expect(seen).toEqual([]);
        await renewCertificate(ctx, issuerTarget(ctx)); // gate 1 skipped: the data plane lacks the new anchor
        await restartControlPlane(ctx, 'adopt-new-issuer');
      })(),
    );
    expect(seen.length).toBeGreaterThan(0);
  });

  it('dropping the old anchor before the data plane adopted the new issuer breaks mTLS', async () => {
    const { fake, seen } = await fresh();
    const ctx = contextFor(fake);
    await fake.clock.drive(
      (async () => {
        await renewAnchor(ctx);
        await waitForBundle(ctx);
        await restartControlPlane(ctx, 'trust-new-anchor');
        await restartDataPlane(ctx, 'trust-new-anchor');
        await renewIssuer(ctx);
        expect(seen).toEqual([]);
        const certs = await observeCertificates(ctx.cluster, ctx.config, ctx);
        await ctx.cluster.writeCertificateOnlySecret('cert-manager', 'linkerd-previous-anchor', certs.anchor.cert.pem, {}); // gate 2 skipped
        await waitForBundle(ctx);
        await restartDataPlane(ctx);
      })(),
    );
    expect(seen.length).toBeGreaterThan(0);
  });
});

describe('resume from phases cert-manager or a person left', () => {
  it('anchor-renewing: cert-manager re-issuing the anchor on its own is awaited, not triggered again', async () => {
    const { fake, seen, anchor } = await fresh();
    fake.renewByCertManager('anchor');
    expect(await phaseOf(fake)).toBe('anchor-renewing');
    const result = await runRotate(fake);
    expect(seen).toEqual([]);
    expect(result.plan.phase).toBe('anchor-renewing');
    expect(anchorTriggers(fake)).toBe(0);
    expectRotatedFrom(fake, anchor);
  });

  it('anchor-renewed: cert-manager renewed the anchor and nothing restarted', async () => {
    const { fake, seen, anchor } = await fresh();
    fake.renewByCertManager('anchor');
    await fake.clock.advance(10_000);
    expect(await phaseOf(fake)).toBe('anchor-renewed');
    const result = await runRotate(fake);
    expect(seen).toEqual([]);
    expect(result.executed.map((s) => s.step)).toEqual(fullRotation.slice(2));
    expectRotatedFrom(fake, anchor);
  });

  it('inconsistent: the old anchor was dropped before the issuer moved; the run repairs it and ends steady', async () => {
    const { fake, anchor } = await fresh();
    fake.renewByCertManager('anchor');
    await fake.clock.advance(10_000);
    const ctx = contextFor(fake);
    const certs = await fake.clock.drive(observeCertificates(ctx.cluster, ctx.config, ctx));
    await fake.clock.drive(ctx.cluster.writeCertificateOnlySecret('cert-manager', 'linkerd-previous-anchor', certs.anchor.cert.pem, {}));
    await fake.clock.advance(10_000);
    expect(await phaseOf(fake)).toBe('inconsistent');
    const result = await runRotate(fake);
    expect(result.finalPhase).toBe('steady');
    // Pods restarted during the repair trust only the new anchor while old leaves still chain to the old one:
    // violations are expected on the way; none is left at the end.
    expect(violations(fake.mesh.proxies())).toEqual([]);
    expectRotatedFrom(fake, anchor);
  });
});

describe('cert-manager renews the issuer by itself during a rotation', () => {
  /** cert-manager's own issuer renewal right after write `k` of the run (it chains to whichever anchor the anchor Secret holds then). */
  function renewIssuerAfterWrite(fake: FakeCluster, k: number): void {
    let done = false;
    fake.observers.push((cause) => {
      if (done || !cause.startsWith('write ') || fake.writes.length !== k) return;
      done = true;
      fake.clock.schedule(0, () => fake.renewByCertManager('issuer'));
    });
  }

  it('its renewal is due within the margin: the issuer is renewed first, under the old anchor, and the rotation follows', async () => {
    const { fake, seen, anchor } = await fresh({ issuerAgeMs: 22 * 3_600_000 });
    const result = await runRotate(fake);
    expect(result.executed[0]?.step).toBe('renew-issuer');
    expect(result.executed.slice(1).map((s) => s.step)).toEqual(fullRotation);
    expect(seen).toEqual([]);
    expectRotatedFrom(fake, anchor);
  });

  it('the moment gate 1 is met (every proxy trusts both anchors): no violation; the run awaits that issuance instead of triggering its own', async () => {
    const { fake, seen, anchor } = await fresh();
    let renewed = false;
    fake.observers.push(() => {
      if (renewed || fake.writes.length === 0) return;
      const proxies = fake.mesh.proxies();
      if (!proxies.every((p) => splitPem(p.trustPem).length === 2 && !p.terminating)) return;
      renewed = true;
      fake.clock.schedule(0, () => fake.renewByCertManager('issuer'));
    });
    const result = await runRotate(fake);
    expect(renewed).toBe(true);
    expect(seen).toEqual([]);
    expect(result.finalPhase).toBe('steady');
    expect(fake.writes.filter((w) => w.object === 'linkerd/linkerd-identity-issuer')).toHaveLength(0);
    expectRotatedFrom(fake, anchor);
  });

  // With the default mesh, write 9 is the rotator's own issuer trigger (after gate 1).
  it.each([10, 14, 18, 21])('after write %i (past gate 1): no violation, the run ends steady', async (k) => {
    const { fake, seen, anchor } = await fresh();
    renewIssuerAfterWrite(fake, k);
    const result = await runRotate(fake);
    expect({ k, seen, final: result.finalPhase }).toEqual({ k, seen: [], final: 'steady' });
    expectRotatedFrom(fake, anchor);
  });

  // Between step 1 and gate 1 cert-manager's renewal makes leaves chain to an anchor stale proxies lack:
  // the hazard the issuer-first timing exists for. The fake shows it; the run still repairs the mesh.
  it.each([1, 3, 5])('after write %i (before gate 1): violations while the mesh rolls, yet the run ends steady and clean', async (k) => {
    const { fake, seen, anchor } = await fresh();
    renewIssuerAfterWrite(fake, k);
    const result = await runRotate(fake);
    expect(seen.length).toBeGreaterThan(0);
    expect(result.finalPhase).toBe('steady');
    expect(violations(fake.mesh.proxies())).toEqual([]);
    expectRotatedFrom(fake, anchor);
  });
});

describe('faults', () => {
  it('a write that fails (500 after the adapter gave up) stops the run; the next run finishes', async () => {
    const { fake, seen, anchor } = await fresh();
    fake.failWrites(500, { call: 'restartWorkload' });
    await expect(runRotate(fake)).rejects.toThrow(ApiError);
    expect(fake.writes.map((w) => w.call)).toEqual(['triggerIssuance']);
    const resumed = await runRotate(fake, { resume: true });
    expect(resumed.finalPhase).toBe('steady');
    expect(seen).toEqual([]);
    expect(anchorTriggers(fake)).toBe(1);
    expectRotatedFrom(fake, anchor);
  });

  it('a 409 on the previous-anchor write stops the run before the bundle changes; the next run finishes', async () => {
    const { fake, seen, anchor } = await fresh();
    fake.failWrites(409, { call: 'writeCertificateOnlySecret' });
    await expect(runRotate(fake)).rejects.toThrow(ApiError);
    expect(await phaseOf(fake)).toBe('issuer-renewed');
    const resumed = await runRotate(fake, { resume: true });
    expect(resumed.finalPhase).toBe('steady');
    expect(seen).toEqual([]);
    expectRotatedFrom(fake, anchor);
  });

  it('conflicts on the status and Secret updates are retried on a fresh read, as the adapter does', async () => {
    const { fake, seen, anchor } = await fresh();
    fake.conflicts('triggerIssuance', 3);
    fake.conflicts('writeCertificateOnlySecret', 2);
    const before = fake.store.get('Certificate', 'cert-manager', 'linkerd-trust-anchor')?.metadata.resourceVersion;
    const result = await runRotate(fake);
    expect(result.finalPhase).toBe('steady');
    expect(fake.takeConflict('triggerIssuance')).toBe(false);
    expect(fake.store.get('Certificate', 'cert-manager', 'linkerd-trust-anchor')?.metadata.resourceVersion).not.toBe(before);
    expect(seen).toEqual([]);
    expectRotatedFrom(fake, anchor);
  });

  it('a replace with a stale resourceVersion gets 409 from the store', async () => {
    const { fake } = await fresh();
    const secret = fake.store.get('Secret', 'cert-manager', 'linkerd-previous-anchor');
    if (!secret) throw new Error('no previous-anchor Secret');
    fake.store.bump('Secret', 'cert-manager', 'linkerd-previous-anchor');
    expect(() => fake.store.replace('Secret', secret)).toThrow(expect.objectContaining({ code: 409 }) as Error);
  });

  it('a failed issuance stops the run with a StepError before any restart', async () => {
    const { fake, seen } = await fresh();
    fake.certManager.failNext = 1;
    await expect(runRotate(fake)).rejects.toThrow(StepError);
    expect(fake.writes.map((w) => w.call)).toEqual(['triggerIssuance']);
    expect(seen).toEqual([]);
  });
});
