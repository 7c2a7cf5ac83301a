import type { V1Secret } from '@kubernetes/client-node';
import { PreconditionError } from '../errors.js';

/** Label, annotation and owner prefixes of cert-manager: a certificate-only copy carries none of them. */
const certManagerPrefixes = ['cert-manager.io/', 'controller.cert-manager.io/'];

const isCertManager = (key: string): boolean => certManagerPrefixes.some((prefix) => key.startsWith(prefix));

function withoutCertManager(map: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).filter(([key]) => !isCertManager(key)));
}

/** How a person makes the previous-anchor Secret, which the rotator never creates. */
export function createPreviousAnchorHint(namespace: string, name: string, anchorSecret = 'linkerd-trust-anchor'): string {
  return (
    `create it holding the current anchor's certificate: kubectl -n ${namespace} create secret generic ${name} ` +
    `--from-literal=tls.crt="$(kubectl -n ${namespace} get secret ${anchorSecret} -o jsonpath='{.data.tls\\.crt}' | base64 -d)", ` +
    'or install the chart with certificates.create=true'
  );
}

/**
 * The existing Secret rewritten in place to hold only `tls.crt` (the PEM given): the same object
 * (uid, resourceVersion for optimistic concurrency, type, finalizers) with its labels and
 * annotations kept, Helm's ownership metadata and `helm.sh/resource-policy` included, except
 * cert-manager's labels, annotations and owner references. `labels` are added where the Secret
 * has no label of that key (an existing `app.kubernetes.io/managed-by: Helm` stays). A Secret
 * made the old way (type kubernetes.io/tls, immutable type) keeps its type with an empty
 * `tls.key`, which the apiserver accepts. Any other type, or an immutable Secret, is refused:
 * changing it would need a delete and a create, which the rotator never does.
 */
/** The Secret's type, when the rotator may update it in place; a PreconditionError otherwise. */
function refuseUnwritable(current: V1Secret): string {
  const metadata = current.metadata ?? {};
  const object = `${metadata.namespace ?? ''}/${metadata.name ?? ''}`;
  const type = current.type ?? 'Opaque';
  const hint = (): string => createPreviousAnchorHint(metadata.namespace ?? '', metadata.name ?? '');
  if (type !== 'Opaque' && type !== 'kubernetes.io/tls') {
    throw new PreconditionError(
      `Secret ${object} has type ${type}; the previous-anchor Secret must be Opaque: the rotator only updates it in place (no create, no delete), so delete it and ${hint()}`,
    );
  }
  if (current.immutable === true) {
    throw new PreconditionError(`Secret ${object} is immutable, so the rotator cannot write the previous anchor into it: delete it and ${hint()}`);
  }
  return type;
}

export function certificateOnlySecret(current: V1Secret, pem: string, labels: Record<string, string>): V1Secret {
  const metadata = current.metadata ?? {};
  const type = refuseUnwritable(current);
  const ownerReferences = metadata.ownerReferences?.filter((owner) => !isCertManager(owner.apiVersion));
  // managedFields left out: on an update the apiserver then keeps and extends its own record.
  const kept = { ...metadata, managedFields: undefined };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      ...kept,
      labels: { ...labels, ...withoutCertManager(metadata.labels) },
      annotations: withoutCertManager(metadata.annotations),
      ownerReferences: ownerReferences?.length ? ownerReferences : undefined,
    },
    type,
    data: { 'tls.crt': Buffer.from(pem, 'utf8').toString('base64'), ...(type === 'kubernetes.io/tls' ? { 'tls.key': '' } : {}) },
  };
}

/** True when the rewrite drops something besides the certificate: a key, other data, cert-manager's metadata. */
export function isMigration(current: V1Secret): boolean {
  const keys = Object.keys(current.data ?? {}).filter((key) => key !== 'tls.crt');
  const hasKey = (current.data?.['tls.key'] ?? '') !== '';
  const others = keys.filter((key) => key !== 'tls.key');
  const meta = [...Object.keys(current.metadata?.labels ?? {}), ...Object.keys(current.metadata?.annotations ?? {})].some(isCertManager);
  return hasKey || others.length > 0 || meta || (current.metadata?.ownerReferences ?? []).some((owner) => isCertManager(owner.apiVersion));
}
