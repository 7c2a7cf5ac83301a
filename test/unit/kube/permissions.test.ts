// The chart's RBAC against the adapter's permissions table (src/kube/permissions.ts), rendered with helm
// for the default values, rotator.readKeySecrets, a primary with peers, a peer, evictions and the
// restricted (namespaced) mode: every (verb, group, resource) any rendering grants is a request the
// adapter can make, and every request in the table is granted by some rendering, by resourceNames where
// the table says the request is name-scoped.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { load, loadAll } from 'js-yaml';
import { permissions, type Scope } from '../../../src/kube/permissions.js';

// The helm the chart checks use: $HELM, the cached build, helm on PATH, or built into the cache now (a
// fresh machine's first run builds it here, from the version scripts/cluster/versions.env pins).
const helmBinary = execFileSync('bash', [join(process.cwd(), 'scripts', 'chart-check.sh'), '--print-helm'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
}).trim();

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}
interface RbacObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
}

/** Where a rendering's namespaces sit among the table's scopes (a namespace can be several: Linkerd's holds the lock and, restricted, workloads). */
type Places = Record<string, Scope[]>;

/** A grant as the bindings make it: "verb group/resource" with "(named)" when the rule lists resourceNames, and where it holds. */
interface Grant {
  key: string;
  where: string;
}

/**
 * Every grant of a rendering, through its bindings: a ClusterRoleBinding grants its ClusterRole in
 * every namespace ("*"), a RoleBinding its Role (or ClusterRole) in the binding's namespace.
 */
function grants(args: string[]): Grant[] {
  const out = execFileSync(helmBinary, ['template', 'lcr', join(process.cwd(), 'chart'), '--namespace', releaseNs, '--kube-version', kubeVersion(), ...args], {
    encoding: 'utf8',
  });
  const objects = (loadAll(out) as (RbacObject | null)[]).filter((o): o is RbacObject => o !== null);
  const roles = new Map(
    objects
      .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
      .map((o) => [`${o.kind}/${o.kind === 'Role' ? (o.metadata?.namespace ?? '') : ''}/${o.metadata?.name ?? ''}`, o]),
  );
  return objects
    .filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')
    .flatMap((binding) => {
      const where = binding.kind === 'ClusterRoleBinding' ? '*' : (binding.metadata?.namespace ?? '');
      const role = roles.get(`${binding.roleRef?.kind}/${binding.roleRef?.kind === 'Role' ? where : ''}/${binding.roleRef?.name ?? ''}`);
      if (!role)
        throw new Error(`${binding.kind} ${binding.metadata?.name} binds ${binding.roleRef?.kind} ${binding.roleRef?.name}, which the rendering does not hold`);
      return (role.rules ?? []).flatMap((r) =>
        (r.apiGroups ?? []).flatMap((g) =>
          (r.resources ?? []).flatMap((res) => (r.verbs ?? []).map((v) => ({ key: `${v} ${g}/${res}${r.resourceNames ? ' (named)' : ''}`, where }))),
        ),
      );
    });
}

/** The Kubernetes version the chart checks render for: the chart's kubeVersion refuses the v1.20.0 a go-installed helm assumes offline. */
function kubeVersion(): string {
  return execFileSync('bash', [join(process.cwd(), 'scripts', 'chart-check.sh'), '--print-kube-version'], { encoding: 'utf8' }).trim();
}

const releaseNs = 'linkerd-cert-rotator';
const restricted = load(readFileSync(join(process.cwd(), 'chart', 'ci', 'restricted-values.yaml'), 'utf8')) as {
  rbac: { restrictToNamespaces: string[]; controlPlaneNamespaces: string[] };
};

/** The default namespaces: the anchor's in cert-manager, Linkerd's (and the lock) in linkerd. */
const defaultPlaces: Places = { '*': ['cluster'], 'cert-manager': ['trust'], linkerd: ['linkerd', 'lock'], [releaseNs]: ['release'] };

const modes: Record<string, { args: string[]; places: Places }> = {
  default: { args: [], places: defaultPlaces },
  readKeySecrets: { args: ['--set', 'rotator.readKeySecrets=true'], places: defaultPlaces },
  primary: { args: ['-f', 'chart/ci/multicluster-values.yaml'], places: defaultPlaces },
  peer: { args: ['-f', 'chart/ci/peer-values.yaml'], places: defaultPlaces },
  deleteStalePods: { args: ['--set', 'rotator.deleteStalePods=true'], places: defaultPlaces },
  restricted: {
    args: ['-f', 'chart/ci/restricted-values.yaml'],
    places: {
      ...defaultPlaces,
      ...Object.fromEntries(
        [...restricted.rbac.restrictToNamespaces, ...restricted.rbac.controlPlaneNamespaces].map((ns) => [
          ns,
          [...(defaultPlaces[ns] ?? []), 'workloads' as const],
        ]),
      ),
    },
  },
  // Namespaces of its own for each object: a template that wrote one where another belongs shows here.
  ownNamespaces: {
    args: [
      '--set',
      'rotator.trustNamespace=pki',
      '--set',
      'rotator.linkerdNamespace=mesh',
      '--set',
      'rotator.lockNamespace=locks',
      '--set',
      'rotator.readKeySecrets=true',
    ],
    places: { '*': ['cluster'], pki: ['trust'], mesh: ['linkerd'], locks: ['lock'], [releaseNs]: ['release'] },
  },
};

const table = Object.values(permissions).filter((p) => !('nonResource' in p));
const key = (p: { verb: string; group: string; resource: string; named: boolean }): string => `${p.verb} ${p.group}/${p.resource}${p.named ? ' (named)' : ''}`;

/** Each grant the table does not name, or that holds somewhere its entry's scopes do not reach. */
function misfits(list: readonly Grant[], places: Places): string[] {
  const scopesOf = new Map<string, readonly Scope[]>(table.map((p) => [key(p), p.scopes]));
  return list.flatMap(({ key: k, where }) => {
    const scopes = scopesOf.get(k);
    if (!scopes) return [`${k}: not a request the adapter makes`];
    const here = places[where];
    if (!here) return [`${k} in ${where}: a namespace the rotator has no business in`];
    return here.some((scope) => scopes.includes(scope))
      ? []
      : [`${k} in ${where === '*' ? 'every namespace' : where} (${here.join(', ')}): the adapter makes it only in ${scopes.join(', ')}`];
  });
}

describe('chart RBAC against the permissions table', () => {
  const rendered = Object.fromEntries(Object.entries(modes).map(([mode, { args }]) => [mode, grants(args)]));
  const all = new Set(Object.values(rendered).flatMap((list) => list.map((g) => g.key)));

  it.each(Object.keys(modes))(
    '%s: every grant is a request the adapter can make, name-scoped where the table says so, where the table says it goes',
    (mode) => {
      expect(misfits(rendered[mode] ?? [], modes[mode]?.places ?? {})).toEqual([]);
    },
  );

  it('every request in the table is granted by some rendering', () => {
    expect(table.map(key).filter((k) => !all.has(k))).toEqual([]);
  });

  it('catches a grant in the wrong place, in a stray namespace, or of a request the adapter never makes', () => {
    const wrong: Grant[] = [
      { key: 'get /secrets (named)', where: '*' },
      { key: 'patch apps/deployments', where: 'kube-system' },
      { key: 'delete /secrets', where: 'cert-manager' },
      { key: 'update /secrets (named)', where: 'cert-manager' },
    ];
    expect(misfits(wrong, defaultPlaces)).toEqual([
      'get /secrets (named) in every namespace (cluster): the adapter makes it only in trust, linkerd',
      'patch apps/deployments in kube-system: a namespace the rotator has no business in',
      'delete /secrets: not a request the adapter makes',
    ]);
  });
});
