// The chart's RBAC against the adapter's permissions table (src/kube/permissions.ts), rendered with helm
// for the default values, rotator.readKeySecrets, a primary with peers and a peer: every (verb, group,
// resource) any rendering grants is a request the adapter can make, and every request in the table is
// granted by some rendering, by resourceNames where the table says the request is name-scoped.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { permissions } from '../../../src/kube/permissions.js';

const cache = join(process.env.LCR_CACHE_DIR ?? join(homedir(), '.cache', 'linkerd-cert-rotator'), 'bin');
const helmBinary = process.env.HELM ?? readdirSync(cache).filter((f) => f.startsWith('helm-v3.')).sort().map((f) => join(cache, f)).pop();

interface Rule { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[] }

/** "verb group/resource" with "(named)" when the rule lists resourceNames. */
function grants(args: string[]): string[] {
  const out = execFileSync(helmBinary as string, ['template', 'lcr', join(process.cwd(), 'chart'), '--namespace', 'linkerd-cert-rotator', ...args], { encoding: 'utf8' });
  const objects = loadAll(out) as { kind?: string; rules?: Rule[] }[];
  return objects
    .filter((o) => o?.kind === 'Role' || o?.kind === 'ClusterRole')
    .flatMap((o) => o.rules ?? [])
    .flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => (r.verbs ?? []).map((v) => `${v} ${g}/${res}${r.resourceNames ? ' (named)' : ''}`))));
}

const modes: Record<string, string[]> = {
  default: [],
  readKeySecrets: ['--set', 'rotator.readKeySecrets=true'],
  primary: ['-f', 'chart/ci/multicluster-values.yaml'],
  peer: ['-f', 'chart/ci/peer-values.yaml'],
  deleteStalePods: ['--set', 'rotator.deleteStalePods=true'],
};

const table = Object.values(permissions).filter((p) => !('nonResource' in p));
const key = (p: { verb: string; group: string; resource: string; named: boolean }): string => `${p.verb} ${p.group}/${p.resource}${p.named ? ' (named)' : ''}`;

(helmBinary ? describe : describe.skip)('chart RBAC against the permissions table', () => {
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
