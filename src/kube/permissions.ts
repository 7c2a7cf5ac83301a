/**
 * Every request the Kubernetes adapter can make, as RBAC sees it. The call helper takes one of
 * these instead of free verb and resource strings, so a method cannot make a request this table
 * does not name: the chart's grants are tested against it (test/unit/kube/permissions.test.ts)
 * and the audit log of a real rotation is checked against it (test/e2e/keyless.test.ts).
 */
export interface Permission {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch';
  /** API group; '' is the core group. */
  group: string;
  /** Plural resource, with `/subresource` where the request targets one. */
  resource: string;
  /** The request names its object and the chart grants it by resourceNames; false where the name is not known in advance (generated pod names, create, list, watch). */
  named: boolean;
  /** A non-resource URL instead of a resource: granted to every authenticated identity, never by the chart. */
  nonResource?: string;
  /** Where the request goes: a grant anywhere else is more than the adapter needs (checked against the chart). */
  scopes: readonly Scope[];
}

/**
 * Where a request goes. `cluster`: any namespace (or none); `trust`: the namespace of the anchor, the
 * previous-anchor Secret and the bundle's sources; `linkerd`: Linkerd's namespace (the issuer); `lock`:
 * the lock's namespace (Linkerd's by default); `release`: the rotator's own namespace (its pod, a lock
 * holder's pod, Events); `workloads`: each namespace whose workloads it restarts (the restricted mode).
 * @internal exported for its unit tests
 */
export type Scope = 'cluster' | 'trust' | 'linkerd' | 'lock' | 'release' | 'workloads';

const p = <V extends Permission['verb']>(verb: V, group: string, resource: string, named: boolean, scopes: readonly Scope[]): Permission & { verb: V } => ({
  verb,
  group,
  resource,
  named,
  scopes,
});

/** The table: one entry per kind of request, named after what the adapter does with it. */
export const permissions = {
  getCertificate: p('get', 'cert-manager.io', 'certificates', true, ['trust', 'linkerd']),
  updateCertificateStatus: p('update', 'cert-manager.io', 'certificates/status', true, ['trust', 'linkerd']),
  listCertificateRequests: p('list', 'cert-manager.io', 'certificaterequests', false, ['trust', 'linkerd']),
  getBundle: p('get', 'trust.cert-manager.io', 'bundles', true, ['cluster']),
  getClusterBundle: p('get', 'trust-manager.io', 'clusterbundles', true, ['cluster']),
  getConfigMap: p('get', '', 'configmaps', true, ['cluster']),
  listNamespaces: p('list', '', 'namespaces', false, ['cluster']),
  listLinks: p('list', 'multicluster.linkerd.io', 'links', false, ['cluster']),
  getSecret: p('get', '', 'secrets', true, ['trust', 'linkerd']),
  updateSecret: p('update', '', 'secrets', true, ['trust']),
  listPods: p('list', '', 'pods', false, ['cluster']),
  /** The run's own pod and a lock holder's pod: names the Job controller generates. */
  getPod: p('get', '', 'pods', false, ['release']),
  evictPod: p('create', '', 'pods/eviction', false, ['cluster', 'workloads']),
  getDeployment: p('get', 'apps', 'deployments', false, ['cluster', 'workloads']),
  listDeployments: p('list', 'apps', 'deployments', false, ['cluster', 'workloads']),
  watchDeployments: p('watch', 'apps', 'deployments', false, ['cluster', 'workloads']),
  patchDeployment: p('patch', 'apps', 'deployments', false, ['cluster', 'workloads']),
  getStatefulSet: p('get', 'apps', 'statefulsets', false, ['cluster', 'workloads']),
  listStatefulSets: p('list', 'apps', 'statefulsets', false, ['cluster', 'workloads']),
  watchStatefulSets: p('watch', 'apps', 'statefulsets', false, ['cluster', 'workloads']),
  patchStatefulSet: p('patch', 'apps', 'statefulsets', false, ['cluster', 'workloads']),
  getDaemonSet: p('get', 'apps', 'daemonsets', false, ['cluster', 'workloads']),
  listDaemonSets: p('list', 'apps', 'daemonsets', false, ['cluster', 'workloads']),
  watchDaemonSets: p('watch', 'apps', 'daemonsets', false, ['cluster', 'workloads']),
  patchDaemonSet: p('patch', 'apps', 'daemonsets', false, ['cluster', 'workloads']),
  getLease: p('get', 'coordination.k8s.io', 'leases', true, ['lock']),
  createLease: p('create', 'coordination.k8s.io', 'leases', false, ['lock']),
  updateLease: p('update', 'coordination.k8s.io', 'leases', true, ['lock']),
  createEvent: p('create', 'events.k8s.io', 'events', false, ['release', 'trust']),
  /** Which API groups are served: the system:discovery ClusterRole lets every authenticated identity read it. */
  discovery: { verb: 'get', group: '', resource: '', named: false, nonResource: '/apis', scopes: ['cluster'] },
} as const satisfies Record<string, Permission>;

/** How errors and logs name a permission's resource: `secrets`, `certificates.cert-manager.io/status`. */
export function resourceLabel(permission: Permission): string {
  if (permission.nonResource) return permission.nonResource;
  const [base, sub] = permission.resource.split('/');
  const grouped = permission.group ? `${base}.${permission.group}` : (base as string);
  return sub ? `${grouped}/${sub}` : grouped;
}
