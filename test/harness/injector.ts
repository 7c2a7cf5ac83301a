import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { selfSignedServing } from './tls.js';

/**
 * A stand-in for Linkerd's proxy-injector, as a mutating admission webhook on loopback:
 * pods of meshed namespaces or annotated templates get a `linkerd-proxy` container whose
 * LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS is the bundle ConfigMap's content at creation time,
 * and the `linkerd.io/trust-root-sha256` annotation. A pod keeps that bundle until replaced.
 *
 * It also records which issuers may have signed the pod's leaf, for the invariant monitor.
 * A real leaf comes from the issuer the identity controller has loaded, and identity reads the
 * issuer at its start: the mounted Secret reaches a running pod late (a minute or more) and a
 * known bug can make it miss an update. So (pods start within a second of admission here):
 * - an identity pod's leaf comes from its own controller (its proxy asks `localhost.:8080`),
 *   which loaded the issuer Secret as it was at the pod's admission ({@link issuerAnnotation});
 * - any other pod's leaf may come from any identity pod not terminating at its admission
 *   ({@link identityIssuersAnnotation}: the issuers those identity pods loaded), or from the
 *   issuer Secret as it is then ({@link issuerAnnotation}: identity may have reloaded it).
 * Every recorded issuer is a candidate ({@link leafIssuers}); over-reporting is the safe side.
 * Not modelled: a renewal in the second between an identity pod's admission and its start, and
 * leaves renewed later by running proxies (every proxy here keeps the leaf it started with).
 */
export interface Injector {
  port: number;
  injected: () => number;
  stop: () => Promise<void>;
}

const webhookName = 'linkerd-proxy-injector.e2e.linkerd-cert-rotator';
const issuerSecretName = 'linkerd-identity-issuer';
/** Annotation holding the issuer Secret's certificate (PEM, never a key) when the pod was admitted. */
export const issuerAnnotation = 'e2e.linkerd-cert-rotator.io/issuer-at-admission';
/**
 * Annotation on every meshed pod but identity's own: the issuers (PEM list, certificates only)
 * loaded by the identity pods that were not terminating when the pod was admitted.
 */
export const identityIssuersAnnotation = 'e2e.linkerd-cert-rotator.io/identity-issuers-at-admission';

const splitPem = (text: string): string[] => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

/** Identity controller pods, as Linkerd labels them (Deployment linkerd-identity). */
export function isIdentityPod(namespace: string | undefined, labels: Record<string, string> | undefined, linkerdNs = 'linkerd'): boolean {
  return namespace === linkerdNs && labels?.['linkerd.io/control-plane-ns'] === linkerdNs && labels['linkerd.io/control-plane-component'] === 'identity';
}

/**
 * Every issuer (PEM) that may have signed this pod's leaf, from the injector's annotations:
 * the issuer Secret at admission, plus (for pods other than identity's) the issuers loaded by
 * the identity pods running then. Empty for a pod the injector did not record.
 */
export function leafIssuers(pod: { metadata?: { annotations?: Record<string, string> } }): string[] {
  const annotations = pod.metadata?.annotations ?? {};
  const all = [...splitPem(annotations[issuerAnnotation] ?? ''), ...splitPem(annotations[identityIssuersAnnotation] ?? '')];
  return [...new Set(all.map((pem) => pem.trim()))];
}

interface AdmissionPod {
  metadata?: {
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string }[];
    generateName?: string;
  };
  spec?: { containers?: { name: string }[] };
}

export async function startInjector(kubeconfig: string, options: { linkerdNamespace?: string; bundle?: string } = {}): Promise<Injector> {
  const linkerdNs = options.linkerdNamespace ?? 'linkerd';
  const bundle = options.bundle ?? 'linkerd-identity-trust-roots';
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfig);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const admission = config.makeApiClient(k8s.AdmissionregistrationV1Api);
  const tls = await selfSignedServing();
  let count = 0;

  async function patchFor(namespace: string, pod: AdmissionPod): Promise<unknown[] | undefined> {
    const annotations = pod.metadata?.annotations ?? {};
    const labels = pod.metadata?.labels ?? {};
    if (annotations['linkerd.io/inject'] === 'disabled') return undefined;
    if (pod.spec?.containers?.some((c) => c.name === 'linkerd-proxy')) return undefined;
    const controlPlane = namespace === linkerdNs && labels['linkerd.io/control-plane-ns'] === linkerdNs;
    let meshed = controlPlane || annotations['linkerd.io/inject'] === 'enabled';
    if (!meshed) {
      const ns = await core.readNamespace({ name: namespace });
      meshed = ns.metadata?.annotations?.['linkerd.io/inject'] === 'enabled';
    }
    if (!meshed) return undefined;
    const map = await core.readNamespacedConfigMap({ namespace: linkerdNs, name: bundle });
    // The issuer Secret now: what an identity pod admitted now loads, and what a running one may have reloaded.
    const issuerSecret = await core.readNamespacedSecret({ namespace: linkerdNs, name: issuerSecretName });
    const issuerPem = splitPem(Buffer.from(issuerSecret.data?.['tls.crt'] ?? '', 'base64').toString('utf8'))[0] ?? '';
    let identityIssuers: string | undefined;
    if (!isIdentityPod(namespace, labels, linkerdNs)) {
      // Any identity pod not terminating may serve this proxy's certificate request, with the issuer it loaded at its start.
      const identity = await core.listNamespacedPod({
        namespace: linkerdNs,
        labelSelector: `linkerd.io/control-plane-ns=${linkerdNs},linkerd.io/control-plane-component=identity`,
      });
      const loaded = identity.items
        .filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
        .flatMap((p) => splitPem(p.metadata?.annotations?.[issuerAnnotation] ?? ''));
      identityIssuers = [...new Set(loaded.map((pem) => pem.trim()))].join('\n');
    }
    const anchors = map.data?.['ca-bundle.crt'] ?? '';
    const sha = createHash('sha256').update(anchors.trim()).digest('hex');
    const owner = pod.metadata?.ownerReferences?.[0];
    const ownerLabels: Record<string, string> = { 'linkerd.io/control-plane-ns': linkerdNs };
    if (owner?.kind === 'ReplicaSet') ownerLabels['linkerd.io/proxy-deployment'] = owner.name.replace(/-[a-z0-9]+$/, '');
    if (owner?.kind === 'StatefulSet') ownerLabels['linkerd.io/proxy-statefulset'] = owner.name;
    if (owner?.kind === 'DaemonSet') ownerLabels['linkerd.io/proxy-daemonset'] = owner.name;
    const ops: unknown[] = [];
    if (!pod.metadata?.labels) ops.push({ op: 'add', path: '/metadata/labels', value: {} });
    for (const [key, value] of Object.entries(ownerLabels)) ops.push({ op: 'add', path: `/metadata/labels/${key.replace(/\//g, '~1')}`, value });
    if (!pod.metadata?.annotations) ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
    ops.push({ op: 'add', path: '/metadata/annotations/linkerd.io~1trust-root-sha256', value: sha });
    ops.push({ op: 'add', path: '/metadata/annotations/linkerd.io~1proxy-version', value: 'e2e-stand-in' });
    ops.push({ op: 'add', path: `/metadata/annotations/${issuerAnnotation.replace(/\//g, '~1')}`, value: issuerPem });
    if (identityIssuers !== undefined)
      ops.push({ op: 'add', path: `/metadata/annotations/${identityIssuersAnnotation.replace(/\//g, '~1')}`, value: identityIssuers });
    ops.push({
      op: 'add',
      path: '/spec/containers/-',
      value: { name: 'linkerd-proxy', image: 'cr.l5d.io/linkerd/proxy:stand-in', env: [{ name: 'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS', value: anchors }] },
    });
    return ops;
  }

  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: { uid: string; namespace: string; object: AdmissionPod } };
        const response: Record<string, unknown> = { uid: review.request.uid, allowed: true };
        try {
          const patch = await patchFor(review.request.namespace, review.request.object);
          if (patch) {
            count++;
            response.patchType = 'JSONPatch';
            response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
          }
        } catch (error) {
          // Like a real injector that cannot read the bundle: refuse the pod rather than create it unmeshed.
          response.allowed = false;
          response.status = { message: `injector: ${error instanceof Error ? error.message : String(error)}` };
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const body: k8s.V1MutatingWebhookConfiguration = {
    metadata: { name: webhookName },
    webhooks: [
      {
        name: 'proxy-injector.linkerd.io',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        reinvocationPolicy: 'Never',
        timeoutSeconds: 10,
        clientConfig: { url: `https://127.0.0.1:${port}/mutate`, caBundle: Buffer.from(tls.certPem).toString('base64') },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        namespaceSelector: {
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-public', 'kube-node-lease'] }],
        },
      },
    ],
  };
  await admission.deleteMutatingWebhookConfiguration({ name: webhookName }).catch(() => undefined);
  await admission.createMutatingWebhookConfiguration({ body });
  return {
    port,
    injected: () => count,
    stop: async () => {
      await admission.deleteMutatingWebhookConfiguration({ name: webhookName }).catch(() => undefined);
      // The apiserver keeps connections to the webhook alive: close them, or close() waits for ever.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
