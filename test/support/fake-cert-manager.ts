// The fake cluster's cert-manager and trust-manager. cert-manager issues a Certificate whenever it
// carries Issuing=True (the rotator's trigger, or its own renewal at status.renewalTime): it makes
// a CertificateRequest for the next revision (pruning old ones to revisionHistoryLimit), signs a
// new certificate (the anchor self-signed, the issuer with the anchor Secret's key pair as it is
// then), writes the Secret, and only then sets status.revision and clears Issuing. trust-manager
// rewrites the Bundle's target ConfigMaps from its sources after a delay, and stops updating while
// a source is missing.
import type { webcrypto } from 'node:crypto';
import { makeAnchor, makeIssuer, type Generated } from './certs.js';
import { fingerprintOf, splitPem, trustManagerBundle } from './fake-trust.js';
import { shortHash, type CertificateObject, type ConditionJson, type Store } from './fake-store.js';
import { parsePemBundle } from '../../src/certs/pem.js';
import { matchesSelector, parseSelector, selectorString } from '../../src/kube/selector.js';

type KeyPair = webcrypto.CryptoKeyPair;
/** A signed certificate with its key pair, and the CA cert-manager puts beside it (ca.crt, status.ca). */
type Issued = Generated & { ca: string };

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined): string => (text ? Buffer.from(text, 'base64').toString('utf8') : '');

/** The Secret a Certificate issues into, and the anchor Secret a CA ClusterIssuer signs with. */
export interface IssuingNames {
  trustNamespace: string;
  anchorSecret: string;
}

export class FakeCertManager {
  /** Private keys by certificate fingerprint: the fake's signer, never exposed through the port. */
  private readonly keys = new Map<string, KeyPair>();
  private readonly inFlight = new Set<string>();
  /** Issuances that end in failure instead of a certificate (Issuing=False, lastFailureTime). */
  failNext = 0;
  /** cert-manager renews a Certificate on its own at status.renewalTime. */
  autoRenew = true;

  constructor(
    private readonly store: Store,
    private readonly names: IssuingNames,
  ) {
    store.listeners.push((kind, namespace, name) => {
      if (kind !== 'Certificate') return;
      const certificate = store.get('Certificate', namespace, name);
      const issuing = certificate?.status.conditions?.some((c) => c.type === 'Issuing' && c.status === 'True');
      if (issuing) this.begin(namespace ?? '', name);
    });
  }

  /** Installs a Certificate issued `ageMs` ago (revision 1, its request kept). */
  async install(spec: Omit<CertificateObject, 'apiVersion' | 'kind' | 'status'>, ageMs: number): Promise<void> {
    const at = new Date(this.store.clock.now().getTime() - ageMs);
    const created = this.store.create('Certificate', { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', ...spec, status: {} });
    const generated = await this.sign(created, at);
    this.createRequest(created, 1);
    this.finish(created, 1, generated, at);
  }

  /** cert-manager's own renewal, now: Issuing=True (reason Renewing), then the issuance. */
  renew(namespace: string, name: string): void {
    this.store.update('Certificate', namespace, name, (certificate) => {
      const others = (certificate.status.conditions ?? []).filter((c) => c.type !== 'Issuing');
      certificate.status.conditions = [
        ...others,
        {
          type: 'Issuing',
          status: 'True',
          reason: 'Renewing',
          message: 'Renewing certificate as renewal was scheduled',
          lastTransitionTime: this.store.clock.now().toISOString(),
        },
      ];
    });
  }

  /** The key pair behind a certificate the fake issued (for a test that must sign as cert-manager would). */
  keyOf(pem: string): KeyPair | undefined {
    return this.keys.get(fingerprintOf(pem));
  }

  private begin(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    const { issueMs, issueStatusMs } = this.store.timings;
    this.store.clock.schedule(issueMs / 2, () => {
      const certificate = this.store.get('Certificate', namespace, name);
      if (certificate) this.createRequest(certificate, (certificate.status.revision ?? 0) + 1);
    });
    this.store.clock.schedule(issueMs, async () => {
      const certificate = this.store.get('Certificate', namespace, name);
      if (!certificate) return void this.inFlight.delete(key);
      const revision = (certificate.status.revision ?? 0) + 1;
      if (this.failNext > 0) {
        this.failNext--;
        this.inFlight.delete(key);
        this.store.update('Certificate', namespace, name, (c) => {
          const others = (c.status.conditions ?? []).filter((x) => x.type !== 'Issuing');
          c.status.conditions = [
            ...others,
            { type: 'Issuing', status: 'False', reason: 'Failed', message: 'The certificate request has failed to complete and will be retried' },
          ];
          c.status.lastFailureTime = this.store.clock.now().toISOString();
          c.status.failedIssuanceAttempts = (c.status.failedIssuanceAttempts ?? 0) + 1;
        });
        return;
      }
      const generated = await this.sign(certificate, this.store.clock.now());
      this.publish(certificate, revision, generated);
      this.store.clock.schedule(issueStatusMs, () => {
        this.inFlight.delete(key);
        const current = this.store.get('Certificate', namespace, name);
        if (current) this.finish(current, revision, generated, generated.cert.notBefore);
      });
    });
  }

  /** A new certificate for the Certificate's spec: new key unless rotationPolicy Never; signed by itself or the anchor Secret's key. */
  private async sign(certificate: CertificateObject, at: Date): Promise<Issued> {
    const secret = this.store.get('Secret', certificate.metadata.namespace, certificate.spec.secretName);
    const oldPem = splitPem(unb64(secret?.data?.['tls.crt']))[0];
    const keys = certificate.spec.privateKey.rotationPolicy === 'Never' && oldPem ? this.keyOf(oldPem) : undefined;
    const validity = {
      cn: certificate.spec.commonName,
      notBefore: at,
      notAfter: new Date(at.getTime() + certificate.spec.durationMs),
      ...(keys ? { keys } : {}),
    };
    let generated: Generated;
    let ca: string;
    if (certificate.spec.issuerRef.kind === 'Issuer') {
      generated = await makeAnchor(validity);
      ca = generated.pem;
    } else {
      const anchorPem = splitPem(unb64(this.store.get('Secret', this.names.trustNamespace, this.names.anchorSecret)?.data?.['tls.crt']))[0];
      const anchorKeys = anchorPem && this.keyOf(anchorPem);
      if (!anchorPem || !anchorKeys) throw new Error('fake cert-manager: the CA ClusterIssuer has no anchor key pair to sign with');
      const signer: Generated = { cert: parsePemBundle(anchorPem, 'fake anchor')[0] as Generated['cert'], pem: anchorPem, keyPem: '', keys: anchorKeys };
      generated = await makeIssuer(signer, validity);
      ca = anchorPem;
    }
    this.keys.set(fingerprintOf(generated.pem), generated.keys);
    return { ...generated, ca };
  }

  private createRequest(certificate: CertificateObject, revision: number): void {
    const { namespace, name, uid } = certificate.metadata;
    const limit = certificate.spec.revisionHistoryLimit ?? 1;
    const requestName = `${name}-${revision}`;
    if (!this.store.get('CertificateRequest', namespace, requestName)) {
      this.store.create('CertificateRequest', {
        apiVersion: 'cert-manager.io/v1',
        kind: 'CertificateRequest',
        metadata: {
          namespace,
          name: requestName,
          annotations: { 'cert-manager.io/certificate-name': name ?? '', 'cert-manager.io/certificate-revision': String(revision) },
          ownerReferences: [{ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: name ?? '', uid: uid ?? '', controller: true }],
        },
        status: { conditions: [{ type: 'Ready', status: 'False', reason: 'Pending' }] },
      });
    }
    // revisionHistoryLimit: the newest requests stay, the current revision's may go as soon as the next one exists.
    const mine = this.store
      .list('CertificateRequest', namespace)
      .filter((r) => r.metadata.annotations?.['cert-manager.io/certificate-name'] === name)
      .sort(
        (a, b) =>
          Number(b.metadata.annotations?.['cert-manager.io/certificate-revision']) - Number(a.metadata.annotations?.['cert-manager.io/certificate-revision']),
      );
    for (const old of mine.slice(Math.max(1, limit))) this.store.delete('CertificateRequest', namespace, old.metadata.name ?? '');
  }

  /** The signed certificate in the request of `revision` and in the Secret (before status.revision moves). */
  private publish(certificate: CertificateObject, revision: number, generated: Issued): void {
    const { namespace, name } = certificate.metadata;
    const { ca } = generated;
    this.store.update('CertificateRequest', namespace, `${name}-${revision}`, (request) => {
      request.status = { conditions: [{ type: 'Ready', status: 'True', reason: 'Issued' }], certificate: b64(generated.pem), ca: b64(ca) };
    });
    const data = { 'tls.crt': b64(generated.pem), 'tls.key': b64(generated.keyPem), 'ca.crt': b64(ca) };
    const annotations = { 'cert-manager.io/certificate-name': name ?? '', 'cert-manager.io/issuer-name': certificate.spec.issuerRef.name };
    const existing = this.store.get('Secret', namespace, certificate.spec.secretName);
    if (existing) {
      this.store.update('Secret', namespace, certificate.spec.secretName, (secret) => {
        secret.data = data;
        secret.metadata = { ...secret.metadata, annotations: { ...secret.metadata?.annotations, ...annotations } };
      });
    } else {
      this.store.create('Secret', { metadata: { namespace, name: certificate.spec.secretName, annotations }, type: 'kubernetes.io/tls', data });
    }
  }

  private finish(certificate: CertificateObject, revision: number, generated: Issued, notBefore: Date): void {
    const { namespace, name } = certificate.metadata;
    if (revision === 1) this.publish(certificate, 1, generated);
    const notAfter = generated.cert.notAfter;
    const renewalTime = new Date(notAfter.getTime() - certificate.spec.renewBeforeMs);
    this.store.update('Certificate', namespace, name ?? '', (c) => {
      const conditions: ConditionJson[] = (c.status.conditions ?? []).filter((x) => x.type !== 'Issuing' && x.type !== 'Ready');
      conditions.push({
        type: 'Ready',
        status: 'True',
        reason: 'Ready',
        message: 'Certificate is up to date and has not expired',
        observedGeneration: c.metadata.generation,
      });
      c.status = {
        ...c.status,
        conditions,
        revision,
        notBefore: notBefore.toISOString(),
        notAfter: notAfter.toISOString(),
        renewalTime: renewalTime.toISOString(),
      };
    });
    const delay = renewalTime.getTime() - this.store.clock.now().getTime();
    this.store.clock.schedule(Math.max(0, delay), () => {
      const current = this.store.get('Certificate', namespace, name ?? '');
      if (this.autoRenew && current?.status.revision === revision) this.renew(namespace ?? '', name ?? '');
    });
  }
}

/** trust-manager for one Bundle: its target ConfigMaps follow its sources, `bundleMs` after they change. */
export class FakeTrustManager {
  private scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly bundle: string,
    private readonly trustNamespace: string,
  ) {
    store.listeners.push((kind, namespace) => {
      if ((kind === 'Secret' && namespace === trustNamespace) || kind === 'Namespace' || kind === 'Bundle') this.later();
    });
  }

  private later(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.store.clock.schedule(this.store.timings.bundleMs, () => {
      this.scheduled = false;
      this.sync();
    });
  }

  /** Writes the targets now (the fake's install calls it; afterwards it follows changes by itself). */
  sync(): void {
    const bundle = this.store.get('Bundle', undefined, this.bundle);
    if (!bundle) return;
    const pems: string[] = [];
    for (const source of bundle.spec.sources) {
      if (!source.secret) continue;
      const secret = this.store.get('Secret', this.trustNamespace, source.secret.name);
      const values = source.secret.includeAllKeys ? Object.values(secret?.data ?? {}) : [secret?.data?.[source.secret.key ?? '']];
      if (!secret || values.some((v) => v === undefined)) {
        this.synced({ type: 'Synced', status: 'False', reason: 'SourceNotFound', message: `source Secret ${source.secret.name} not found` });
        return;
      }
      for (const value of values) pems.push(...splitPem(unb64(value)));
    }
    const text = trustManagerBundle(pems);
    const key = bundle.spec.target.configMap.key;
    const selector = parseSelector(selectorString(bundle.spec.target.namespaceSelector));
    for (const namespace of this.store.list('Namespace')) {
      if (!matchesSelector(selector, namespace.metadata?.labels ?? {})) continue;
      const ns = namespace.metadata?.name ?? '';
      const annotations = { 'trust.cert-manager.io/hash': shortHash(text, 64) };
      const existing = this.store.get('ConfigMap', ns, this.bundle);
      if (!existing)
        this.store.create('ConfigMap', {
          metadata: { namespace: ns, name: this.bundle, annotations, labels: { 'trust.cert-manager.io/bundle': this.bundle } },
          data: { [key]: text },
        });
      else if (existing.data?.[key] !== text) {
        this.store.update('ConfigMap', ns, this.bundle, (map) => {
          map.data = { ...map.data, [key]: text };
          map.metadata = { ...map.metadata, annotations };
        });
      }
    }
    this.synced({ type: 'Synced', status: 'True', reason: 'Synced', message: 'Successfully synced Bundle to all namespaces' });
  }

  private synced(condition: ConditionJson): void {
    const bundle = this.store.get('Bundle', undefined, this.bundle);
    if (!bundle || JSON.stringify(bundle.status.conditions?.[0]) === JSON.stringify(condition)) return;
    this.store.update('Bundle', undefined, this.bundle, (b) => {
      b.status.conditions = [condition];
    });
  }
}
