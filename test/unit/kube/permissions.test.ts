// The chart's RBAC against the adapter's permissions table (src/kube/permissions.ts), rendered with helm
// for the default values, rotator.readKeySecrets, a primary with peers, a peer, evictions and the
// restricted (namespaced) mode: every (verb, group, resource) any rendering grants is a request the
// adapter can make, and every request in the table is granted by some rendering, by resourceNames where
// the table says the request is name-scoped.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { permissions } from '../../../src/kube/permissions.js';

// The helm the chart checks use: $HELM, the cached build, helm on PATH, or built into the cache now (a
// fresh machine's first run builds it here, from the version scripts/cluster/versions.env pins).
const helmBinary = execFileSync('bash', [join(process.cwd(), 'scripts', 'chart-check.sh'), '--print-helm'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

interface Rule { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[] }

/** "verb group/resource" with "(named)" when the rule lists resourceNames. */
function grants(args: string[]): string[] {
  const out = execFileSync(helmBinary, ['template', 'lcr', join(process.cwd(), 'chart'), '--namespace', 'linkerd-cert-rotator', '--kube-version', kubeVersion(), ...args], { encoding: 'utf8' });
  const objects = loadAll(out) as { kind?: string; rules?: Rule[] }[];
  return objects
    .filter((o) => o?.kind === 'Role' || o?.kind === 'ClusterRole')
    .flatMap((o) => o.rules ?? [])
    .flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => (r.verbs ?? []).map((v) => `${v} ${g}/${res}${r.resourceNames ? ' (named)' : ''}`))));
}

/** The Kubernetes version the chart checks render for: the chart's kubeVersion refuses the v1.20.0 a go-installed helm assumes offline. */
function kubeVersion(): string {
  return execFileSync('bash', [join(process.cwd(), 'scripts', 'chart-check.sh'), '--print-kube-version'], { encoding: 'utf8' }).trim();
}

const modes: Record<string, string[]> = {
  default: [],
  readKeySecrets: ['--set', 'rotator.readKeySecrets=true'],
  primary: ['-f', 'chart/ci/multicluster-values.yaml'],
  peer: ['-f', 'chart/ci/peer-values.yaml'],
  deleteStalePods: ['--set', 'rotator.deleteStalePods=true'],
  restricted: ['-f', 'chart/ci/restricted-values.yaml'],
};

const table = Object.values(permissions).filter((p) => !('nonResource' in p));
const key = (p: { verb: string; group: string; resource: string; named: boolean }): string => `${p.verb} ${p.group}/${p.resource}${p.named ? ' (named)' : ''}`;

describe('chart RBAC against the permissions table', () => {
  const rendered = Object.fromEntries(Object.entries(modes).map(([mode, args]) => [mode, grants(args)]));
  const all = new Set(Object.values(rendered).flat());

  it.each(Object.keys(modes))('%s: every grant is a request the adapter can make, name-scoped where the table says so', (mode) => {
    const known = new Set(table.map(key));
    expect((rendered[mode] ?? []).filter((g) => !known.has(g))).toEqual([]);
  });

  it('every request in the table is granted by some rendering', () => {
    expect(table.map(key).filter((k) => !all.has(k))).toEqual([]);
  });
});
