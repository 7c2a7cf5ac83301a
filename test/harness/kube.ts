import * as k8s from '@kubernetes/client-node';
import { X509Certificate } from 'node:crypto';
import { names } from './fixture.js';

/** True when `anchor` issued and signed `cert` (names match and the signature verifies with its key). */
export const signedBy = (cert: X509Certificate, anchor: X509Certificate): boolean => cert.checkIssued(anchor) && cert.verify(anchor.publicKey);

/** Direct cluster reads and writes for assertions, independent of the rotator's code. */
export class TestKube {
  readonly config = new k8s.KubeConfig();
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly custom: k8s.CustomObjectsApi;
  readonly ext: k8s.ApiextensionsV1Api;

  constructor(kubeconfig: string) {
    this.config.loadFromFile(kubeconfig);
    this.core = this.config.makeApiClient(k8s.CoreV1Api);
    this.apps = this.config.makeApiClient(k8s.AppsV1Api);
    this.custom = this.config.makeApiClient(k8s.CustomObjectsApi);
    this.ext = this.config.makeApiClient(k8s.ApiextensionsV1Api);
  }

  async secretCerts(namespace: string, name: string): Promise<X509Certificate[]> {
    const secret = await this.core.readNamespacedSecret({ namespace, name });
    const pem = Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString('utf8');
    return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
  }

  async anchor(): Promise<X509Certificate> {
    const [cert] = await this.secretCerts(names.trustNs, names.anchor);
    if (!cert) throw new Error('no anchor');
    return cert;
  }

  async issuer(): Promise<X509Certificate> {
    const [cert] = await this.secretCerts(names.linkerdNs, names.issuer);
    if (!cert) throw new Error('no issuer');
    return cert;
  }

  async bundleFingerprints(namespace = names.linkerdNs): Promise<string[]> {
    const map = await this.core.readNamespacedConfigMap({ namespace, name: names.bundle });
    const pems = map.data?.['ca-bundle.crt']?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    return pems.map((p) => new X509Certificate(p).fingerprint256).sort();
  }

  /** Every running meshed pod with the fingerprints of the anchors it was born with. */
  async meshedPods(): Promise<{ name: string; anchors: string[]; pod: k8s.V1Pod }[]> {
    const pods = await this.core.listPodForAllNamespaces({ labelSelector: 'linkerd.io/control-plane-ns' });
    return pods.items
      .filter((pod) => pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp)
      .map((pod) => {
        const env =
          pod.spec?.containers?.find((c) => c.name === 'linkerd-proxy')?.env?.find((e) => e.name === 'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS')?.value ?? '';
        const anchors = (env.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
          .map((p) => new X509Certificate(p).fingerprint256)
          .sort();
        return { name: `${pod.metadata?.namespace}/${pod.metadata?.name}`, anchors, pod };
      });
  }

  /** resourceVersions of everything a rotation could touch, to prove a run changed nothing. */
  async resourceVersions(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const secrets = await this.core.listSecretForAllNamespaces();
    for (const s of secrets.items) out[`secret/${s.metadata?.namespace}/${s.metadata?.name}`] = s.metadata?.resourceVersion ?? '';
    for (const kind of ['deployments', 'statefulsets', 'daemonsets'] as const) {
      const list =
        kind === 'deployments'
          ? await this.apps.listDeploymentForAllNamespaces()
          : kind === 'statefulsets'
            ? await this.apps.listStatefulSetForAllNamespaces()
            : await this.apps.listDaemonSetForAllNamespaces();
      for (const item of list.items) out[`${kind}/${item.metadata?.namespace}/${item.metadata?.name}`] = item.metadata?.generation?.toString() ?? '';
    }
    const pods = await this.core.listPodForAllNamespaces();
    for (const p of pods.items) out[`pod/${p.metadata?.namespace}/${p.metadata?.name}`] = p.metadata?.uid ?? '';
    for (const [namespace, name] of [
      [names.trustNs, names.anchor],
      [names.linkerdNs, names.issuer],
    ] as const) {
      const cert = (await this.custom.getNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', plural: 'certificates', namespace, name })) as {
        status?: { revision?: number };
      };
      out[`certificate/${namespace}/${name}`] = String(cert.status?.revision ?? '');
    }
    return out;
  }

  /** What `cmctl renew` does, for replaying the blog's procedure. */
  async cmctlRenew(namespace: string, name: string): Promise<void> {
    const cert = (await this.custom.getNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', plural: 'certificates', namespace, name })) as {
      status?: { conditions?: object[] };
    };
    cert.status ??= {};
    cert.status.conditions = [
      ...(cert.status.conditions ?? []),
      { type: 'Issuing', status: 'True', reason: 'ManuallyTriggered', message: 'e2e', lastTransitionTime: new Date().toISOString() },
    ];
    await this.custom.replaceNamespacedCustomObjectStatus({ group: 'cert-manager.io', version: 'v1', plural: 'certificates', namespace, name, body: cert });
  }

  /** `kubectl rollout restart` for a Deployment. */
  async restartDeployment(namespace: string, name: string): Promise<void> {
    await this.apps.patchNamespacedDeployment(
      { namespace, name, body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
  }

  async mergePatchDeployment(namespace: string, name: string, body: object): Promise<void> {
    await this.apps.patchNamespacedDeployment({ namespace, name, body }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  }
}
