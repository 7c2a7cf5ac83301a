// The FakeCluster itself: what the orchestration tests lean on must behave like the components it
// stands in for (the apiserver's resourceVersions, the workload controllers' status, cert-manager's
// issuance order, trust-manager's output), or those tests prove nothing.
import { X509Certificate } from 'node:crypto';
import { ApiError } from '../../../src/kube/errors.js';
import { rolloutState } from '../../../src/rotation/rollout.js';
import { FakeCluster, KilledError } from '../../support/fake-cluster.js';

const pems = (text: string | undefined): string[] => (text ?? '').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
const secretPem = (fake: FakeCluster, namespace: string, name: string): string =>
  Buffer.from(fake.store.get('Secret', namespace, name)?.data?.['tls.crt'] ?? '', 'base64').toString('utf8');

describe('FakeCluster', () => {
  it('a restart: generation moves at once, the controller observes it later, pods roll one at a time, status reaches done', async () => {
    const fake = await FakeCluster.create();
    const port = fake.connect();
    const ref = { kind: 'Deployment' as const, namespace: 'shop', name: 'web' };
    const before = await port.getWorkload(ref);
    const patched = await fake.clock.drive(port.restartWorkload(ref, fake.clock.now().toISOString()));
    expect(patched.generation).toBe((before?.generation ?? 0) + 1);
    expect(rolloutState(patched, patched.generation).state).toBe('progressing');
    const oldPods = (await port.listMeshedPods()).filter((p) => p.namespace === 'shop' && p.name.startsWith('web-')).map((p) => p.name);
    await fake.clock.advance(defaultControllerMs + 1);
    const early = (await port.getWorkload(ref)) ?? patched;
    expect(early.status.observedGeneration).toBe(patched.generation);
    expect(early.status.updatedReplicas).toBe(1);
    expect(early.status.replicas).toBe(3);
    await fake.clock.advance(60_000);
    const done = (await port.getWorkload(ref)) ?? patched;
    expect(rolloutState(done, patched.generation)).toEqual({ state: 'done' });
    const pods = (await port.listMeshedPods()).filter((p) => p.namespace === 'shop' && p.name.startsWith('web-'));
    expect(pods).toHaveLength(2);
    expect(pods.some((p) => oldPods.includes(p.name))).toBe(false);
    expect(pods.every((p) => p.ready && p.trustAnchorsPem !== undefined)).toBe(true);
  });

  it('an issuance: request of the next revision first (the old one pruned), then the Secret, then status.revision; the issuer signed by the anchor Secret', async () => {
    const fake = await FakeCluster.create();
    const port = fake.connect();
    await fake.clock.drive(port.triggerIssuance('linkerd', 'linkerd-identity-issuer', fake.clock.now()));
    expect((await port.getCertificate('linkerd', 'linkerd-identity-issuer'))?.conditions.find((c) => c.type === 'Issuing')?.status).toBe('True');
    const oldPem = secretPem(fake, 'linkerd', 'linkerd-identity-issuer');
    await fake.clock.advance(1_600);
    expect((await port.listCertificateRequests('linkerd')).map((r) => r.revision)).toEqual([2]);
    await fake.clock.advance(1_500);
    const newPem = secretPem(fake, 'linkerd', 'linkerd-identity-issuer');
    expect(newPem).not.toBe(oldPem);
    expect((await port.getCertificate('linkerd', 'linkerd-identity-issuer'))?.revision).toBe(1);
    await fake.clock.advance(500);
    const certificate = await port.getCertificate('linkerd', 'linkerd-identity-issuer');
    expect(certificate?.revision).toBe(2);
    expect(certificate?.conditions.some((c) => c.type === 'Issuing')).toBe(false);
    const [request] = await port.listCertificateRequests('linkerd');
    expect(pems(request?.certificatePem)).toEqual(pems(newPem));
    const anchor = secretPem(fake, 'cert-manager', 'linkerd-trust-anchor');
    expect(pems(request?.caPem)).toEqual(pems(anchor));
    const issuer = new X509Certificate(newPem);
    expect(issuer.checkIssued(new X509Certificate(anchor)) && issuer.verify(new X509Certificate(anchor).publicKey)).toBe(true);
    expect((await port.getSecret('linkerd', 'linkerd-identity-issuer'))?.hasPrivateKey).toBe(true);
  });

  it('trust-manager: the target follows the sources after its delay, de-duplicated and sorted by fingerprint', async () => {
    const fake = await FakeCluster.create();
    const port = fake.connect();
    const read = (): Promise<string | undefined> => port.getConfigMapValue('linkerd', 'linkerd-identity-trust-roots', 'ca-bundle.crt');
    expect(pems(await read())).toHaveLength(1);
    fake.renewByCertManager('anchor');
    await fake.clock.advance(3_600);
    expect(pems(await read())).toHaveLength(1);
    await fake.clock.advance(2_000);
    const both = pems(await read());
    expect(both).toHaveLength(2);
    const fingerprints = both.map((pem) => new X509Certificate(pem).fingerprint256);
    expect(fingerprints).toEqual([...fingerprints].sort((a, b) => a.replace(/:/g, '').toLowerCase().localeCompare(b.replace(/:/g, '').toLowerCase())));
  });

  it('conflicts are retried like the adapter, and past its attempts the 409 comes back', async () => {
    const fake = await FakeCluster.create();
    const port = fake.connect();
    fake.conflicts('triggerIssuance', 7);
    await fake.clock.drive(port.triggerIssuance('linkerd', 'linkerd-identity-issuer', fake.clock.now()));
    await fake.clock.advance(10_000);
    fake.conflicts('triggerIssuance', 8);
    await expect(fake.clock.drive(port.triggerIssuance('linkerd', 'linkerd-identity-issuer', fake.clock.now()))).rejects.toThrow(
      expect.objectContaining({ code: 409 }) as Error,
    );
    expect(fake.writes).toHaveLength(1);
  });

  it('an injected failure changes nothing; a kill stops that run for good while a new port works', async () => {
    const fake = await FakeCluster.create();
    const port = fake.connect();
    fake.failWrites(500);
    await expect(port.restartWorkload({ kind: 'Deployment', namespace: 'shop', name: 'web' }, 'now')).rejects.toThrow(ApiError);
    expect(fake.writes).toHaveLength(0);
    fake.killAfterWrites(1);
    await expect(port.restartWorkload({ kind: 'Deployment', namespace: 'shop', name: 'web' }, 'now')).rejects.toThrow(KilledError);
    expect(fake.writes).toHaveLength(1);
    expect(fake.killSignal.aborted).toBe(false);
    await expect(port.listMeshedPods()).rejects.toThrow(KilledError);
    expect((await fake.connect().listMeshedPods()).length).toBeGreaterThan(0);
  });

  it('evictions: a budget refuses (blocked), then the bare pod goes and nothing replaces it; a stale uid is gone', async () => {
    const fake = await FakeCluster.create({ barePods: ['shop/debug'] });
    const port = fake.connect();
    const pod = (await port.listMeshedPods()).find((p) => p.name === 'debug');
    if (!pod) throw new Error('no bare pod');
    fake.blockEvictions(1);
    expect((await port.evictPod(pod)).result).toBe('blocked');
    expect(await port.evictPod({ ...pod, uid: 'another' })).toEqual({ result: 'gone' });
    expect(await port.evictPod(pod)).toEqual({ result: 'evicted' });
    await fake.clock.advance(10_000);
    expect((await port.listMeshedPods()).some((p) => p.name === 'debug')).toBe(false);
  });
});

const defaultControllerMs = 200;
