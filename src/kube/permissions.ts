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
}

const p = <V extends Permission['verb']>(verb: V, group: string, resource: string, named: boolean): Permission & { verb: V } => ({ verb, group, resource, named });

/** The table: one entry per kind of request, named after what the adapter does with it. */
export const permissions = {
  getCertificate: p('get', 'cert-manager.io', 'certificates', true),
  updateCertificateStatus: p('update', 'cert-manager.io', 'certificates/status', true),
  listCertificateRequests: p('list', 'cert-manager.io', 'certificaterequests', false),
  getBundle: p('get', 'trust.cert-manager.io', 'bundles', true),
  getClusterBundle: p('get', 'trust-manager.io', 'clusterbundles', true),
  getConfigMap: p('get', '', 'configmaps', true),
  listNamespaces: p('list', '', 'namespaces', false),
  listLinks: p('list', 'multicluster.linkerd.io', 'links', false),
  getSecret: p('get', '', 'secrets', true),
  updateSecret: p('update', '', 'secrets', true),
  listPods: p('list', '', 'pods', false),
  /** The run's own pod and a lock holder's pod: names the Job controller generates. */
  getPod: p('get', '', 'pods', false),
  evictPod: p('create', '', 'pods/eviction', false),
  getDeployment: p('get', 'apps', 'deployments', false),
  listDeployments: p('list', 'apps', 'deployments', false),
  watchDeployments: p('watch', 'apps', 'deployments', false),
  patchDeployment: p('patch', 'apps', 'deployments', false),
  getStatefulSet: p('get', 'apps', 'statefulsets', false),
  listStatefulSets: p('list', 'apps', 'statefulsets', false),
  watchStatefulSets: p('watch', 'apps', 'statefulsets', false),
  patchStatefulSet: p('patch', 'apps', 'statefulsets', false),
  getDaemonSet: p('get', 'apps', 'daemonsets', false),
  listDaemonSets: p('list', 'apps', 'daemonsets', false),
  watchDaemonSets: p('watch', 'apps', 'daemonsets', false),
  patchDaemonSet: p('patch', 'apps', 'daemonsets', false),
  getLease: p('get', 'coordination.k8s.io', 'leases', true),
  createLease: p('create', 'coordination.k8s.io', 'leases', false),
  updateLease: p('update', 'coordination.k8s.io', 'leases', true),
  createEvent: p('create', 'events.k8s.io', 'events', false),
  /** Which API groups are served: the system:discovery ClusterRole lets every authenticated identity read it. */
  discovery: { verb: 'get', group: '', resource: '', named: false, nonResource: '/apis' },
} as const satisfies Record<string, Permission>;

/** The name of one entry of the table. */
export type PermissionName = keyof typeof permissions;

/** How errors and logs name a permission's resource: `secrets`, `certificates.cert-manager.io/status`. */
export function resourceLabel(permission: Permission): string {
  if (permission.nonResource) return permission.nonResource;
  const [base, sub] = permission.resource.split('/');
  const grouped = permission.group ? `${base}.${permission.group}` : (base as string);
  return sub ? `${grouped}/${sub}` : grouped;
}
