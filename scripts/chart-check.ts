// The chart's rendering checks (run by scripts/chart-check.sh, which finds helm and lints the chart):
// every manifest helm renders is parsed with js-yaml and asserted on as objects (RBAC rules, env, pod
// specs, admission policies), NOTES.txt on its rendered text, and bad values must be refused for the
// expected reason. Every check runs; each failure says what was expected and what was rendered.
//
// Usage: HELM=PATH KUBE_VERSION=V [RELEASE=lcr] [NAMESPACE=linkerd-cert-rotator] node scripts/chart-check.ts
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load, loadAll } from 'js-yaml';

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name?: string; key?: string } };
}
interface Mount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}
interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: EnvVar[];
  securityContext?: { readOnlyRootFilesystem?: boolean };
  terminationMessagePolicy?: string;
  volumeMounts?: Mount[];
}
interface Volume {
  name: string;
  secret?: { secretName?: string; defaultMode?: number; items?: { key: string; path: string }[] };
}
interface PodSpec {
  containers: Container[];
  serviceAccountName?: string;
  securityContext?: { fsGroup?: number };
  volumes?: Volume[];
}
interface Named {
  name: string;
  expression: string;
}
interface Alert {
  alert?: string;
  expr?: string;
  annotations?: Record<string, string>;
}
interface Spec extends Partial<PodSpec> {
  schedule?: string;
  startingDeadlineSeconds?: number;
  jobTemplate?: { spec: { template: { metadata?: Meta; spec: PodSpec } } };
  groups?: { rules: Alert[] }[];
  failurePolicy?: string;
  policyName?: string;
  validationActions?: string[];
  matchConstraints?: { resourceRules?: Rule[] };
  matchConditions?: Named[];
  variables?: Named[];
  validations?: { expression: string }[];
  sources?: { secret?: { name?: string; key?: string; includeAllKeys?: boolean } }[];
  issuerRef?: { group?: string };
  privateKey?: { rotationPolicy?: string };
  renewBefore?: string;
  duration?: string;
  revisionHistoryLimit?: number;
  ca?: { secretName?: string };
}
interface Manifest {
  kind?: string;
  metadata?: Meta;
  type?: string;
  data?: unknown;
  stringData?: unknown;
  rules?: Rule[];
  spec?: Spec;
  notes?: string;
}

const root = resolve(import.meta.dirname, '..');
const chart = join(root, 'chart');
const helm = process.env.HELM ?? 'helm';
const kubeVersion = process.env.KUBE_VERSION ?? 'v1.35.0';
const release = process.env.RELEASE ?? 'lcr';
const namespace = process.env.NAMESPACE ?? 'linkerd-cert-rotator';
const fullname = `${release}-linkerd-cert-rotator`;
const serviceAccountUser = `system:serviceaccount:${namespace}:${fullname}`;
const vap = ['--api-versions', 'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy'];
const ci = (file: string): string[] => ['--values', join(chart, 'ci', file)];

// ---------------------------------------------------------------- running helm, parsing its output

/** Thrown by an assertion: the check's failure, in words. */
class Problem extends Error {}

function helmRun(args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const result = spawnSync(helm, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  return { ok: result.status === 0, stdout: result.stdout, stderr: result.stderr };
}

const renderings = new Map<string, Manifest[]>();

/** `helm template` of a chart (default: chart/) with these arguments, parsed into its manifests. */
function render(args: string[] = [], chartDir = chart): Manifest[] {
  const key = JSON.stringify([chartDir, args]);
  const cached = renderings.get(key);
  if (cached) return cached;
  const { ok, stdout, stderr } = helmRun(['template', release, chartDir, '--namespace', namespace, '--kube-version', kubeVersion, ...args]);
  if (!ok) throw new Problem(`helm template ${args.join(' ')} failed: ${stderr.trim()}`);
  const manifests = loadAll(stdout).filter((doc): doc is Manifest => typeof doc === 'object' && doc !== null);
  renderings.set(key, manifests);
  return manifests;
}

/** One template's objects. */
const only = (template: string, ...args: string[]): Manifest[] => render([...args, '--show-only', `templates/${template}`]);

/** The one object the list holds (of that kind). */
function one(manifests: Manifest[], kind?: string): Manifest {
  const found = kind ? manifests.filter((m) => m.kind === kind) : manifests;
  if (found.length !== 1) throw new Problem(`expected one ${kind ?? 'object'}, rendered ${found.length} (${describe(found)})`);
  return found[0]!;
}

const describe = (manifests: Manifest[]): string => manifests.map((m) => `${m.kind}/${m.metadata?.name}`).join(', ') || 'none';
const ofKind = (manifests: Manifest[], kind: string): Manifest[] => manifests.filter((m) => m.kind === kind);
const show = (value: unknown): string => JSON.stringify(value) ?? 'nothing';

/** Every RBAC rule of every Role and ClusterRole, with the role it is in. */
function rulesOf(manifests: Manifest[]): (Rule & { role: string })[] {
  return manifests
    .filter((m) => m.kind === 'Role' || m.kind === 'ClusterRole')
    .flatMap((m) =>
      (m.rules ?? []).map((rule) => ({ ...rule, role: `${m.kind}/${m.metadata?.namespace ? `${m.metadata.namespace}/` : ''}${m.metadata?.name}` })),
    );
}

/** The rules that name this resource. */
const rulesOn = (manifests: Manifest[], resource: string): (Rule & { role: string })[] => rulesOf(manifests).filter((r) => r.resources?.includes(resource));

const workloads = ['deployments', 'statefulsets', 'daemonsets'];
const isWorkloadRule = (rule: Rule): boolean => show(rule.resources) === show(workloads);

/** The one rule naming this resource (or the workloads) in these manifests. */
function ruleOn(manifests: Manifest[], resource: string): Rule & { role: string } {
  const rules = resource === 'workloads' ? rulesOf(manifests).filter(isWorkloadRule) : rulesOn(manifests, resource);
  if (rules.length !== 1) throw new Problem(`expected one rule on ${resource}, rendered ${rules.length}: ${show(rules)}`);
  return rules[0]!;
}

/** The CronJob's pod spec. */
function cronPod(manifests: Manifest[]): PodSpec {
  const spec = one(manifests, 'CronJob').spec?.jobTemplate?.spec.template.spec;
  if (!spec) throw new Problem('the CronJob has no pod template');
  return spec;
}

/** The one container of a pod spec. */
function theContainer(pod: PodSpec): Container {
  if (pod.containers.length !== 1) throw new Problem(`expected one container, rendered ${pod.containers.length}`);
  return pod.containers[0]!;
}

/** Every container of every pod, CronJob and Job rendered. */
function containersOf(manifests: Manifest[]): Container[] {
  return manifests.flatMap((m) => m.spec?.containers ?? m.spec?.jobTemplate?.spec.template.spec.containers ?? []);
}

/** The env entries of this name. */
const envOf = (container: Container, name: string): EnvVar[] => (container.env ?? []).filter((e) => e.name === name);

/** The value of the one env entry of this name (undefined when there is none). */
function envValue(container: Container, name: string): string | undefined {
  const entries = envOf(container, name);
  if (entries.length > 1) throw new Problem(`${name} is set ${entries.length} times`);
  return entries[0]?.value;
}

/** Every CEL expression of an admission policy. */
function expressionsOf(policy: Manifest): string[] {
  const spec = policy.spec ?? {};
  return [...(spec.matchConditions ?? []), ...(spec.variables ?? []), ...(spec.validations ?? [])].map((e) => e.expression);
}

// ---------------------------------------------------------------- assertions

function must(condition: boolean, problem: string): void {
  if (!condition) throw new Problem(problem);
}

function equal(actual: unknown, expected: unknown, what: string): void {
  must(show(actual) === show(expected), `${what}: expected ${show(expected)}, rendered ${show(actual)}`);
}

function matches(text: string | undefined, pattern: RegExp, what: string): void {
  must(
    text !== undefined && pattern.test(text),
    `${what}: expected ${pattern} in ${text === undefined ? 'nothing' : show(text.length > 400 ? `${text.slice(0, 400)}...` : text)}`,
  );
}

function none<T>(items: T[], what: string): void {
  must(items.length === 0, `${what}: expected none, rendered ${show(items)}`);
}

let passed = 0;
const failed: string[] = [];

/** Runs one check; a failure is recorded with its reason and the other checks still run. */
function check(what: string, assertion: () => void): void {
  try {
    assertion();
    passed += 1;
    console.error(`[chart-check] ok   ${what}`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    failed.push(`${what}: ${reason}`);
    console.error(`[chart-check] FAIL ${what}\n               ${reason}`);
  }
}

/** Rendering with these values must fail, and for the expected reason. */
function reject(what: string, reason: RegExp, args: string[]): void {
  check(`${what} is rejected`, () => {
    const { ok, stderr } = helmRun(['template', release, chart, '--namespace', namespace, '--kube-version', kubeVersion, ...args]);
    must(!ok, `accepted, but must be rejected (helm template ${args.join(' ')})`);
    matches(stderr, reason, 'rejected for another reason');
  });
}

// ---------------------------------------------------------------- 1. every values file renders

for (const args of [[], ci('multicluster-values.yaml'), ci('peer-values.yaml'), ci('restricted-values.yaml')]) {
  check(`helm template (${args[1]?.slice(root.length + 1) ?? 'default values'})`, () => {
    const manifests = render([...args, ...vap]);
    must(
      manifests.every((m) => m.kind && m.metadata?.name),
      `an object without kind or name: ${show(manifests.find((m) => !m.kind || !m.metadata?.name))}`,
    );
    const kinds = new Map<string, number>();
    for (const m of manifests) kinds.set(m.kind!, (kinds.get(m.kind!) ?? 0) + 1);
    console.error(`[chart-check]      ${manifests.length} objects (${[...kinds].map(([kind, n]) => `${n} ${kind}`).join(', ')})`);
  });
}

// ---------------------------------------------------------------- 2. what the defaults render

const clusterRole = (...args: string[]): Manifest[] => only('clusterrole.yaml', ...args);
check('defaults: ClusterRole may restart workloads cluster-wide', () => equal(ruleOn(clusterRole(), 'workloads').apiGroups, ['apps'], 'the workloads rule'));
check('defaults: workloads are read, watched (rollout status) and patched (restarts)', () =>
  equal(ruleOn(clusterRole(), 'workloads').verbs, ['get', 'list', 'watch', 'patch'], 'verbs'),
);
check('watchRollouts=false: no watch permission', () =>
  equal(ruleOn(clusterRole('--set', 'rotator.watchRollouts=false'), 'workloads').verbs, ['get', 'list', 'patch'], 'verbs'),
);
check('defaults: pods are only listed cluster-wide (deleteStalePods=false; get only in the release namespace)', () =>
  equal(ruleOn(clusterRole(), 'pods').verbs, ['list'], 'verbs'),
);
check("defaults: the run's own pod (and a lock holder's) is read in the release namespace", () =>
  equal(ruleOn(only('role-release.yaml'), 'pods').verbs, ['get'], 'verbs'),
);
check('deleteStalePods=true: pods may be evicted (PodDisruptionBudgets respected)', () =>
  equal(ruleOn(clusterRole('--set', 'rotator.deleteStalePods=true'), 'pods/eviction').verbs, ['create'], 'verbs'),
);
const deletes = (manifests: Manifest[]): Rule[] => rulesOf(manifests).filter((r) => r.verbs?.includes('delete'));
check('deleteStalePods=true: still no delete of pods', () => none(deletes(clusterRole('--set', 'rotator.deleteStalePods=true')), 'rules with delete'));
check('defaults: no eviction (deleteStalePods=false)', () => none(rulesOn(clusterRole(), 'pods/eviction'), 'rules on pods/eviction'));
check('defaults: ClusterRole grants no delete', () => none(deletes(clusterRole()), 'rules with delete'));
check('defaults: no cert-manager objects (certificates.create=false)', () =>
  none(
    render()
      .filter((m) => ['Certificate', 'Issuer', 'ClusterIssuer', 'Bundle'].includes(m.kind ?? ''))
      .map((m) => m.kind),
    'cert-manager objects',
  ),
);
const cronTemplate = (args: string[] = []): { metadata?: Meta; spec: PodSpec } | undefined => one(render(args), 'CronJob').spec?.jobTemplate?.spec.template;
check('defaults: pod opts out of the mesh', () =>
  equal(cronTemplate()?.metadata?.annotations?.['linkerd.io/inject'], 'disabled', 'the pod annotation linkerd.io/inject'),
);
const rotator = (args: string[] = []): Container => theContainer(cronPod(render(args)));
check('defaults: rotator options are rendered as LCR_* env', () => must(envValue(rotator(), 'LCR_CONCURRENCY') !== undefined, 'no LCR_CONCURRENCY env'));
check('defaults: no include list (every meshed namespace)', () => none(envOf(rotator(), 'LCR_INCLUDE_NAMESPACES'), 'LCR_INCLUDE_NAMESPACES env'));
check('defaults: read-only root filesystem', () => equal(rotator().securityContext?.readOnlyRootFilesystem, true, 'securityContext.readOnlyRootFilesystem'));
check('defaults: heap (old space and young generation) capped below the memory limit (NODE_OPTIONS)', () =>
  equal(envValue(rotator(), 'NODE_OPTIONS'), '--max-old-space-size=128 --max-semi-space-size=2', 'NODE_OPTIONS'),
);
check("an extraEnv NODE_OPTIONS replaces the chart's own (no duplicate env)", () => {
  const container = theContainer(
    cronPod(only('cronjob.yaml', '--set', 'extraEnv[0].name=NODE_OPTIONS', '--set', 'extraEnv[0].value=--max-old-space-size=300')),
  );
  equal(
    envOf(container, 'NODE_OPTIONS').map((e) => e.value),
    ['--max-old-space-size=300'],
    'NODE_OPTIONS entries',
  );
});
check('defaults: no PrometheusRule (prometheusRule.enabled=false)', () => none(ofKind(render(), 'PrometheusRule'), 'PrometheusRules'));
const alertsOf = (...args: string[]): Alert[] =>
  (one(only('prometheusrule.yaml', '--set', 'prometheusRule.enabled=true', ...args), 'PrometheusRule').spec?.groups ?? []).flatMap((g) => g.rules);
const alert = (alerts: Alert[], name: string): Alert => {
  const found = alerts.find((a) => a.alert === name);
  if (!found) throw new Problem(`no alert ${name} (alerts: ${alerts.map((a) => a.alert).join(', ')})`);
  return found;
};
check('prometheusRule: anchor expiry alert uses the configured window', () =>
  matches(
    alert(alertsOf('--set', 'prometheusRule.anchorExpiryDays=45'), 'LinkerdTrustAnchorExpiresSoon').expr,
    /role="anchor"\}\) - time\(\) < 45 \* 86400$/,
    'expr',
  ),
);
check('prometheusRule: failed and overdue rotation alerts', () => {
  alert(alertsOf(), 'LinkerdCertRotationFailed');
  alert(alertsOf(), 'LinkerdCertRotationOverdue');
});
check('prometheusRule: Prometheus templates survive Helm rendering', () =>
  matches(
    alert(alertsOf(), 'LinkerdCertRotationFailed').annotations?.summary,
    /^The last linkerd-cert-rotator \{\{ \$labels\.command \}\} run failed/,
    'summary',
  ),
);
check('prometheusRule: every alert has a description and a runbook_url to its own section of docs/runbook.md', () => {
  const runbook = readFileSync(join(root, 'docs', 'runbook.md'), 'utf8').split('\n');
  const alerts = alertsOf();
  must(alerts.length > 0, 'no alerts');
  for (const { alert: name = '', annotations = {} } of alerts) {
    must(Boolean(annotations.description), `${name} has no description annotation`);
    matches(annotations.runbook_url, new RegExp(`^https://[^"]*/docs/runbook\\.md#${name.toLowerCase()}$`), `${name}'s runbook_url`);
    must(runbook.includes(`### ${name}`), `docs/runbook.md has no section '### ${name}' for the alert's runbook_url`);
  }
});
check('prometheusRule: runbookBaseUrl sets the runbook links', () =>
  equal(
    alert(alertsOf('--set', 'prometheusRule.runbookBaseUrl=https://wiki.example.com/lcr/'), 'LinkerdCertRotatorNotRunning').annotations?.runbook_url,
    'https://wiki.example.com/lcr#linkerdcertrotatornotrunning',
    'runbook_url',
  ),
);
check('defaults: image tag defaults to appVersion', () => {
  const { appVersion } = load(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as { appVersion?: string };
  matches(appVersion, /^[0-9]/, "Chart.yaml's appVersion");
  equal(rotator().image, `linkerd-cert-rotator:${appVersion}`, 'image');
});
const cronSpec = (args: string[] = []): Spec => one(render(args), 'CronJob').spec ?? {};
check('defaults: hourly schedule (an unfinished rotation resumes within the hour)', () => equal(cronSpec().schedule, '17 * * * *', 'schedule'));
check('defaults: a missed run starts at most half an hour late', () => equal(cronSpec().startingDeadlineSeconds, 1800, 'startingDeadlineSeconds'));
check('defaults: soft exits (gate not met, lock held) for scheduled runs', () => equal(envValue(rotator(), 'LCR_SOFT_EXITS'), 'true', 'LCR_SOFT_EXITS'));
check('job.softExits=false: real exit codes', () =>
  none(
    containersOf(render(['--set', 'job.softExits=false'])).flatMap((c) => envOf(c, 'LCR_SOFT_EXITS')),
    'LCR_SOFT_EXITS env',
  ),
);

// The helm test hook: `status` as the release's ServiceAccount, hardened as the CronJob's pod
// (test/unit/chart/test-hook.test.ts compares the two pods whole).
const hook = (): Manifest => one(only('tests/pod-status.yaml'), 'Pod');
const hookContainer = (): Container => theContainer(hook().spec as PodSpec);
const testHooks = (manifests: Manifest[]): string[] =>
  manifests.filter((m) => m.metadata?.annotations?.['helm.sh/hook'] === 'test').map((m) => `${m.kind}/${m.metadata?.name}`);
check('helm test: a test hook Pod (tests.enabled)', () => equal(hook().metadata?.annotations?.['helm.sh/hook'], 'test', 'annotation helm.sh/hook'));
check('helm test: the Pod runs status', () => equal(hookContainer().args, ['status'], 'args'));
check("helm test: as the release's ServiceAccount", () => equal(hook().spec?.serviceAccountName, fullname, 'serviceAccountName'));
check('helm test: the Pod opts out of the mesh', () => equal(hook().metadata?.annotations?.['linkerd.io/inject'], 'disabled', 'annotation linkerd.io/inject'));
check("helm test: the container's hardened securityContext", () =>
  equal(hookContainer().securityContext?.readOnlyRootFilesystem, true, 'securityContext.readOnlyRootFilesystem'),
);
check("helm test: a failure's log is the termination message", () =>
  equal(hookContainer().terminationMessagePolicy, 'FallbackToLogsOnError', 'terminationMessagePolicy'),
);
check("CronJob: a failure's log is the termination message", () =>
  equal(rotator().terminationMessagePolicy, 'FallbackToLogsOnError', 'terminationMessagePolicy'),
);
check('tests.enabled=false: no test Pod', () => none(testHooks(render(['--set', 'tests.enabled=false'])), 'test hooks'));
check('peerAccess: no test Pod (no run in a peer)', () => none(testHooks(render(ci('peer-values.yaml'))), 'test hooks'));

// kubeVersion: the admission policies' API (admissionregistration.k8s.io/v1) is GA since 1.30.
reject('Kubernetes 1.29 (kubeVersion)', /incompatible with Kubernetes v1\.29/, ['--kube-version', 'v1.29.9']);
check('kubeVersion: 1.30 with a vendor suffix is accepted', () => void render(['--kube-version', 'v1.30.2-gke.1000']));

const trustRole = (...args: string[]): Manifest[] => only('role-trust.yaml', ...args);
const linkerdRole = (...args: string[]): Manifest[] => only('role-linkerd.yaml', ...args);
const named = (rules: Rule[], name: string): Rule[] => rules.filter((r) => r.resourceNames?.includes(name));
check('defaults: no create or delete in the trust namespace (the previous-anchor Secret is updated in place)', () =>
  none(
    rulesOn(trustRole(), 'secrets').filter((r) => r.verbs?.some((v) => v === 'create' || v === 'delete')),
    'Secret rules with create or delete',
  ),
);
check('defaults: the previous-anchor Secret is written by name only', () => {
  const writes = rulesOn(trustRole(), 'secrets').filter((r) => r.verbs?.includes('update'));
  equal(
    writes.map((r) => [r.verbs, r.resourceNames]),
    [[['get', 'update'], ['linkerd-previous-anchor']]],
    'the Secret rules with update (verbs, resourceNames)',
  );
});
// No read of a Secret that holds a private key: certificates come from CertificateRequests (list, no key in them).
check("defaults: no read of the anchor Secret (it holds the anchor's key)", () =>
  none(named(rulesOn(trustRole(), 'secrets'), 'linkerd-trust-anchor'), 'Secret rules naming linkerd-trust-anchor'),
);
check("defaults: no read of the issuer Secret (it holds the issuer's key)", () =>
  none(rulesOn(linkerdRole(), 'secrets'), 'Secret rules in the linkerd namespace'),
);
for (const [label, role] of [
  ['cert-manager', trustRole],
  ['linkerd', linkerdRole],
] as const) {
  check(`defaults: CertificateRequests listed in ${label}`, () => {
    equal(one(role(), 'Role').metadata?.namespace, label, "the Role's namespace");
    equal(ruleOn(role(), 'certificaterequests').verbs, ['list'], 'verbs');
  });
}
const keyed = (): Rule[] => rulesOn([...trustRole('--set', 'rotator.readKeySecrets=true'), ...linkerdRole('--set', 'rotator.readKeySecrets=true')], 'secrets');
check('readKeySecrets=true: get on the anchor Secret, by name', () =>
  equal(
    named(keyed(), 'linkerd-trust-anchor').map((r) => [r.verbs, r.resourceNames]),
    [[['get'], ['linkerd-trust-anchor']]],
    'the rules naming it (verbs, resourceNames)',
  ),
);
check('readKeySecrets=true: get on the issuer Secret, by name', () =>
  equal(
    named(keyed(), 'linkerd-identity-issuer').map((r) => [r.verbs, r.resourceNames]),
    [[['get'], ['linkerd-identity-issuer']]],
    'the rules naming it (verbs, resourceNames)',
  ),
);
check('readKeySecrets=true: the rotator is told (LCR_READ_KEY_SECRETS)', () =>
  equal(envValue(theContainer(cronPod(only('cronjob.yaml', '--set', 'rotator.readKeySecrets=true'))), 'LCR_READ_KEY_SECRETS'), 'true', 'LCR_READ_KEY_SECRETS'),
);
// Grants the code never uses stay out (verbs compared with the calls of src/kube/client.ts and src/unattended/kube.ts).
const everyRole = (): Rule[] => rulesOf(['clusterrole', 'role-trust', 'role-linkerd', 'role-release', 'role-lock'].flatMap((t) => only(`${t}.yaml`)));
check('defaults: no patch but of workloads (status, Secrets and Events are written whole or created)', () =>
  none(
    everyRole().filter((r) => !isWorkloadRule(r) && r.verbs?.includes('patch')),
    'other rules with patch',
  ),
);
check('defaults: namespaces are only listed', () =>
  none(
    everyRole().filter((r) => r.resources?.includes('namespaces') && r.verbs?.includes('get')),
    'rules with get on namespaces',
  ),
);
check("defaults: no read of Jobs (the Events' Job comes from the pod's owner)", () =>
  none(
    everyRole().filter((r) => r.apiGroups?.includes('batch')),
    'rules on the batch API group',
  ),
);

// The admission policies: rendered where the API is served (helm template offline: --api-versions) and on.
const policies = (...args: string[]): Manifest[] => ofKind(render([...vap, ...args]), 'ValidatingAdmissionPolicy');
const bindings = (...args: string[]): Manifest[] => ofKind(render([...vap, ...args]), 'ValidatingAdmissionPolicyBinding');
const usernameIs = (user: string): string => `request.userInfo.username == "${user}"`;
check('admissionPolicy: two policies (workloads, previous-anchor Secret) and their bindings where the API is served', () => {
  equal(
    policies()
      .map((p) => p.metadata?.name)
      .sort(),
    [`${fullname}-previous-anchor`, `${fullname}-workloads`],
    'policies',
  );
  equal(
    bindings()
      .map((b) => b.spec?.policyName)
      .sort(),
    [`${fullname}-previous-anchor`, `${fullname}-workloads`],
    "bindings' policies",
  );
});
check("admissionPolicy: matched on the rotator's ServiceAccount", () => {
  for (const policy of policies())
    must(
      (policy.spec?.matchConditions ?? []).some((c) => c.expression === usernameIs(serviceAccountUser)),
      `${policy.metadata?.name} has no matchCondition ${usernameIs(serviceAccountUser)}`,
    );
});
check('admissionPolicy: follows serviceAccount.name', () =>
  must(
    expressionsOf(one(only('admissionpolicy-workloads.yaml', ...vap, '--set', 'serviceAccount.name=rot'))).includes(
      usernameIs(`system:serviceaccount:${namespace}:rot`),
    ),
    `no matchCondition ${usernameIs(`system:serviceaccount:${namespace}:rot`)}`,
  ),
);
check('admissionPolicy: failurePolicy Fail, validationActions [Deny]', () => {
  equal(
    policies().map((p) => p.spec?.failurePolicy),
    ['Fail', 'Fail'],
    'failurePolicy',
  );
  equal(
    bindings().map((b) => b.spec?.validationActions),
    [['Deny'], ['Deny']],
    'validationActions',
  );
});
check('admissionPolicy: the one writable Secret follows the values', () => {
  const policy = one(
    only('admissionpolicy-previous-anchor.yaml', ...vap, '--set', 'rotator.trustNamespace=trust', '--set', 'rotator.previousAnchorSecret=prev'),
  );
  equal(
    policy.spec?.variables?.find((v) => v.name === 'isPrevious')?.expression,
    'request.namespace == "trust" && request.name == "prev"',
    'variable isPrevious',
  );
});
check('admissionPolicy: not rendered where the API is not served', () => none(ofKind(render(), 'ValidatingAdmissionPolicy'), 'policies'));
check('admissionPolicy.enabled=false: no policy', () =>
  none([...policies('--set', 'admissionPolicy.enabled=false'), ...bindings('--set', 'admissionPolicy.enabled=false')], 'policies and bindings'),
);
check('chart/ci/restricted-values.yaml: admissionPolicy off', () => none(policies(...ci('restricted-values.yaml')), 'policies'));

// Multicluster, shared anchor (docs/multicluster.md): the primary lists its peers, each peer installs peerAccess.
const primary = ci('multicluster-values.yaml');
const peer = ci('peer-values.yaml');
const primarySecrets = (): Rule[] => rulesOn(trustRole(...primary), 'secrets');
check('multicluster primary: get on the anchor Secret (the key it copies into the peers), by name', () =>
  equal(
    named(primarySecrets(), 'linkerd-trust-anchor').map((r) => [r.verbs, r.resourceNames]),
    [[['get'], ['linkerd-trust-anchor']]],
    'the rules naming it (verbs, resourceNames)',
  ),
);
check('multicluster primary: the anchor Secret is read, never written', () =>
  none(
    named(primarySecrets(), 'linkerd-trust-anchor').filter((r) => r.verbs?.some((v) => v !== 'get' && v !== 'list' && v !== 'watch')),
    'writes of linkerd-trust-anchor',
  ),
);
check('multicluster primary: no Secret grant but the anchor get and the previous-anchor rule', () =>
  equal(
    primarySecrets().map((r) => r.resourceNames),
    [['linkerd-trust-anchor'], ['linkerd-previous-anchor']],
    "the Secret rules' resourceNames",
  ),
);
const primaryRotator = (...args: string[]): Container => theContainer(cronPod(only('cronjob.yaml', ...primary, ...args)));
check('multicluster primary: LCR_PEERS lists NAME or NAME=CONTEXT', () =>
  equal(envValue(primaryRotator(), 'LCR_PEERS'), 'west,north=north-admin', 'LCR_PEERS'),
);
check("multicluster primary: LCR_PEER_KUBECONFIG lists each peer's file, colon-separated", () =>
  equal(
    envValue(primaryRotator(), 'LCR_PEER_KUBECONFIG'),
    '/etc/linkerd-cert-rotator/peers/west/kubeconfig:/etc/linkerd-cert-rotator/peers/north/kubeconfig',
    'LCR_PEER_KUBECONFIG',
  ),
);
check('multicluster primary: LCR_CLUSTER_NAME once, from rotator.clusterName', () =>
  equal(
    envOf(primaryRotator(), 'LCR_CLUSTER_NAME').map((e) => e.value),
    ['east'],
    'LCR_CLUSTER_NAME entries',
  ),
);
const volume = (pod: PodSpec, name: string): Volume => {
  const found = pod.volumes?.find((v) => v.name === name);
  if (!found) throw new Problem(`no volume ${name} (volumes: ${show(pod.volumes?.map((v) => v.name))})`);
  return found;
};
const primaryPod = (...args: string[]): PodSpec => cronPod(only('cronjob.yaml', ...primary, ...args));
check("multicluster primary: peer west's Secret on its own volume, mode 0400, one key", () =>
  equal(
    volume(primaryPod(), 'peer-west').secret,
    { secretName: 'lcr-peer-west', defaultMode: 0o400, items: [{ key: 'kubeconfig', path: 'kubeconfig' }] },
    'volume peer-west',
  ),
);
check("multicluster primary: a peer's own Secret key (multicluster.peers[].key)", () =>
  equal(
    volume(primaryPod(), 'peer-north').secret,
    { secretName: 'lcr-peer-north', defaultMode: 0o400, items: [{ key: 'config', path: 'kubeconfig' }] },
    'volume peer-north',
  ),
);
check("multicluster primary: each peer's kubeconfig mounted read-only", () => {
  const mounts = (primaryRotator().volumeMounts ?? []).filter((m) => m.name === 'peer-west' || m.name === 'peer-north');
  equal(
    mounts.map((m) => [m.name, m.mountPath, m.readOnly]),
    [
      ['peer-west', '/etc/linkerd-cert-rotator/peers/west', true],
      ['peer-north', '/etc/linkerd-cert-rotator/peers/north', true],
    ],
    'peer mounts (name, path, readOnly)',
  );
});
check("multicluster primary: the pod's fsGroup makes the root-owned 0400 files readable by the rotator's group", () =>
  equal(primaryPod().securityContext?.fsGroup, 65532, 'securityContext.fsGroup'),
);
check("multicluster primary: a podSecurityContext.fsGroup of the user's is kept", () =>
  equal(primaryPod('--set', 'podSecurityContext.fsGroup=2000').securityContext?.fsGroup, 2000, 'securityContext.fsGroup'),
);
check('defaults: no peers, no peer env, volumes or fsGroup', () => {
  none(
    containersOf(render()).flatMap((c) => (c.env ?? []).filter((e) => e.name.startsWith('LCR_PEER'))),
    'LCR_PEER* env',
  );
  none(
    containersOf(render()).flatMap((c) => (c.volumeMounts ?? []).filter((m) => m.mountPath.startsWith('/etc/linkerd-cert-rotator/peers'))),
    'peer mounts',
  );
  equal(cronPod(render()).securityContext?.fsGroup, undefined, 'securityContext.fsGroup');
});
check("multicluster primary: no anchor-copy policy (the primary's anchor is cert-manager's)", () =>
  none(
    render([...primary, ...vap])
      .filter((m) => m.metadata?.name?.endsWith('-anchor-copy'))
      .map((m) => m.metadata?.name),
    'anchor-copy objects',
  ),
);

const peerAll = (): Manifest[] => render([...peer, ...vap]);
check("peerAccess: no CronJob (the primary's rotator drives the peer)", () =>
  none(
    peerAll()
      .filter((m) => m.kind === 'CronJob' || m.kind === 'Job')
      .map((m) => m.kind),
    'CronJobs and Jobs',
  ),
);
check("peerAccess: no Role for a run's pod or the lock (no run in the peer)", () =>
  none(
    peerAll()
      .filter((m) => [`${fullname}-run`, `${fullname}-lock`].includes(m.metadata?.name ?? ''))
      .map((m) => `${m.kind}/${m.metadata?.name}`),
    'objects',
  ),
);
check('peerAccess: no Events', () =>
  none(
    rulesOf(peerAll()).filter((r) => r.apiGroups?.includes('events.k8s.io')),
    'rules on events.k8s.io',
  ),
);
check('peerAccess: no renewal in the trust namespace (the peer has no anchor Certificate)', () =>
  none(rulesOn(trustRole(...peer), 'certificates/status'), 'rules on certificates/status'),
);
check("peerAccess: get on the anchor Certificate's name (sees that the peer has none)", () =>
  equal(ruleOn(trustRole(...peer), 'certificates').resourceNames, ['linkerd-trust-anchor'], 'resourceNames'),
);
check('peerAccess: get and update of the anchor copy, by name', () =>
  equal(
    named(rulesOn(trustRole(...peer), 'secrets'), 'linkerd-trust-anchor').map((r) => [r.verbs, r.resourceNames]),
    [[['get', 'update'], ['linkerd-trust-anchor']]],
    'the Secret rules naming it (verbs, resourceNames)',
  ),
);
check("peerAccess: the issuer's renewal, by name", () =>
  equal(ruleOn(linkerdRole(...peer), 'certificates/status').resourceNames, ['linkerd-identity-issuer'], 'resourceNames'),
);
check('peerAccess: no create or delete of anything', () =>
  none(
    rulesOf(peerAll()).filter((r) => r.verbs?.some((v) => ['create', 'delete', 'deletecollection'].includes(v))),
    'rules with create or delete',
  ),
);
check('peerAccess + certificates.create: no self-signed root Issuer', () =>
  none(
    peerAll()
      .filter((m) => m.kind === 'Issuer' || m.metadata?.name === 'linkerd-trust-root-issuer')
      .map((m) => `${m.kind}/${m.metadata?.name}`),
    'root Issuers',
  ),
);
check("peerAccess + certificates.create: no anchor Certificate (the anchor is the primary's copy)", () =>
  none(
    ofKind(peerAll(), 'Certificate').filter((m) => m.metadata?.name === 'linkerd-trust-anchor'),
    'anchor Certificates',
  ),
);
check('peerAccess + certificates.create: the CA ClusterIssuer signs with the anchor copy', () =>
  equal(one(only('clusterissuer-identity.yaml', ...peer), 'ClusterIssuer').spec?.ca?.secretName, 'linkerd-trust-anchor', 'spec.ca.secretName'),
);
const tokenSecret = (): Manifest => one(only('secret-peer-token.yaml', ...peer), 'Secret');
check('peerAccess: a long-lived token Secret (peerAccess.tokenSecret)', () => equal(tokenSecret().type, 'kubernetes.io/service-account-token', 'type'));
check("peerAccess: the token is the chart's own ServiceAccount's", () =>
  equal(tokenSecret().metadata?.annotations?.['kubernetes.io/service-account.name'], fullname, 'annotation kubernetes.io/service-account.name'),
);
check('peerAccess: the token Secret has no data (the token controller fills it in)', () =>
  equal([tokenSecret().data, tokenSecret().stringData], [undefined, undefined], 'data, stringData'),
);
check('peerAccess.tokenSecret=false: no token Secret (kubectl create token instead)', () =>
  none(
    render([...peer, '--set', 'peerAccess.tokenSecret=false'])
      .filter((m) => m.type === 'kubernetes.io/service-account-token')
      .map((m) => m.metadata?.name),
    'token Secrets',
  ),
);
check('peerAccess: three admission policies (workloads, previous anchor, anchor copy) and their bindings', () => {
  const expected = [`${fullname}-anchor-copy`, `${fullname}-previous-anchor`, `${fullname}-workloads`];
  equal(
    policies(...peer)
      .map((p) => p.metadata?.name)
      .sort(),
    expected,
    'policies',
  );
  equal(
    bindings(...peer)
      .map((b) => b.spec?.policyName)
      .sort(),
    expected,
    "bindings' policies",
  );
});
const anchorCopy = (): Manifest => one(only('admissionpolicy-anchor-copy.yaml', ...peer, ...vap));
check("anchor-copy policy: matched on the rotator's ServiceAccount", () =>
  must(expressionsOf(anchorCopy()).includes(usernameIs(serviceAccountUser)), `no expression ${usernameIs(serviceAccountUser)}`),
);
check("anchor-copy policy: on the anchor copy's name", () =>
  equal(
    anchorCopy().spec?.matchConstraints?.resourceRules?.map((r) => r.resourceNames),
    [['linkerd-trust-anchor']],
    'resourceRules resourceNames',
  ),
);
check('anchor-copy policy: the type stays kubernetes.io/tls', () =>
  must(
    expressionsOf(anchorCopy()).some((e) => e.endsWith("== 'kubernetes.io/tls'")),
    "no expression ending in == 'kubernetes.io/tls'",
  ),
);
check('anchor-copy policy: tls.crt, tls.key and ca.crt all non-empty', () => {
  must(
    expressionsOf(anchorCopy()).includes('variables.keys.all(k, k in variables.data && size(variables.data[k]) > 0)'),
    'no validation that every key is in the data and non-empty',
  );
  matches(anchorCopy().spec?.variables?.find((v) => v.name === 'keys')?.expression, /'tls\.crt'.*'tls\.key'.*'ca\.crt'/, 'variable keys');
});
check('peerAccess: the previous-anchor policy lets the anchor copy through to its own policy', () =>
  equal(
    one(only('admissionpolicy-previous-anchor.yaml', ...peer, ...vap)).spec?.variables?.find((v) => v.name === 'isAnchorCopy')?.expression,
    'request.namespace == "cert-manager" && request.name == "linkerd-trust-anchor"',
    'variable isAnchorCopy',
  ),
);
check('defaults: no Secret but the previous anchor is writable', () =>
  equal(
    one(only('admissionpolicy-previous-anchor.yaml', ...vap)).spec?.variables?.find((v) => v.name === 'isAnchorCopy')?.expression,
    'false',
    'variable isAnchorCopy',
  ),
);

// Every rule on Secrets, in every mode, is limited by name.
const secretModes: [string, string[]][] = [
  ['defaults', []],
  ['readKeySecrets', ['--set', 'rotator.readKeySecrets=true']],
  ['multicluster primary', primary],
  ['peerAccess', peer],
  ['peerAccess + readKeySecrets', [...peer, '--set', 'rotator.readKeySecrets=true']],
  ['restricted', ci('restricted-values.yaml')],
];
for (const [mode, args] of secretModes) {
  check(`${mode}: every rule on Secrets has resourceNames`, () =>
    none(
      rulesOn(render(args), 'secrets').filter((r) => !r.resourceNames?.length),
      'rules on Secrets without resourceNames',
    ),
  );
}

// The rotator block must carry every CLI option with the CLI's own default: compare the LCR_* env
// rendered from the default values with src/options/table.ts (transpiled on the fly, with the local
// modules it imports, so unrelated compile errors elsewhere in src/ do not matter).
await checkOptions();

async function checkOptions(): Promise<void> {
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
    readFileSync(join(root, 'src/options/table.ts'));
  } catch {
    console.error('[chart-check] SKIPPED the rotator-block/CLI-options comparison: src/options/table.ts or typescript missing');
    return;
  }
  // Under node_modules so that bare imports, if any, resolve to the project's packages.
  const out = join(root, 'node_modules', '.cache', `chart-check-${process.pid}`);
  let options: { allOptions: { flag: string; default?: string | number | boolean }[]; envName: (flag: string) => string } | undefined;
  try {
    const queue = ['options/table.ts'];
    const seen = new Set<string>();
    while (queue.length) {
      const rel = queue.pop()!;
      if (seen.has(rel)) continue;
      seen.add(rel);
      const text = readFileSync(join(root, 'src', rel), 'utf8');
      for (const m of text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+['"](\.{1,2}\/[^'"]+)\.js['"]/gm))
        queue.push(normalize(join(dirname(rel), `${m[1]}.ts`)));
      const js = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      mkdirSync(join(out, dirname(rel)), { recursive: true });
      writeFileSync(join(out, rel.replace(/\.ts$/, '.js')), js);
    }
    options = (await import(pathToFileURL(join(out, 'options/table.js')).href)) as typeof options;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  check("defaults: the rotator block renders every CLI option with the CLI's default", () => {
    const { allOptions, envName } = options!;
    const rendered = new Map((rotator().env ?? []).filter((e) => e.name.startsWith('LCR_')).map((e) => [e.name, e.value]));
    // Chart values that deliberately differ from the CLI default, each for a reason in values.yaml:
    // job.softExits (scheduled runs must not fail their Job while a rotation waits).
    const chartOwn: Record<string, string> = { LCR_SOFT_EXITS: 'true' };
    const problems: string[] = [];
    for (const option of allOptions) {
      const env = envName(option.flag);
      const expected = chartOwn[env] ?? (option.default === undefined || option.default === '' ? undefined : String(option.default));
      const got = rendered.get(env);
      if (got !== expected)
        problems.push(`${env}: chart renders ${got === undefined ? 'nothing' : show(got)}, CLI default ${expected === undefined ? 'empty' : show(expected)}`);
      rendered.delete(env);
    }
    for (const env of rendered.keys()) problems.push(`${env}: rendered by the chart but not an option of the CLI`);
    must(problems.length === 0, `the rotator block and src/options/table.ts disagree:\n  ${problems.join('\n  ')}`);
    console.error(`[chart-check]      ${allOptions.length} options`);
  });
}

// ---------------------------------------------------------------- 3. restricted RBAC, created certificates, an image by digest

const restricted = [
  '--set',
  'rbac.restrictToNamespaces={apps}',
  '--set',
  'rotator.deleteStalePods=true',
  '--set',
  'certificates.create=true',
  '--set',
  'image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
];
check('restricted: workloads are only listed and watched cluster-wide (no get, no patch)', () =>
  equal(ruleOn(clusterRole(...restricted), 'workloads').verbs, ['list', 'watch'], 'verbs'),
);
check('restricted: no cluster-wide pod delete', () => none(deletes(clusterRole(...restricted)), 'rules with delete'));
const workloadRoles = (): Manifest[] => only('role-workloads.yaml', ...restricted);
check('restricted: one workload Role per permitted namespace (apps, linkerd, linkerd-viz)', () =>
  equal(
    ofKind(workloadRoles(), 'Role').map((r) => r.metadata?.namespace),
    ['apps', 'linkerd', 'linkerd-viz'],
    "the workload Roles' namespaces",
  ),
);
check('restricted: stale pods are evicted in the permitted namespaces', () =>
  equal(
    rulesOn(workloadRoles(), 'pods/eviction').map((r) => r.verbs),
    [['create'], ['create'], ['create']],
    'verbs on pods/eviction',
  ),
);
check('restricted: no pod delete in the workload Roles', () => none(deletes(workloadRoles()), 'rules with delete'));
check('restricted: LCR_INCLUDE_NAMESPACES follows the permitted namespaces', () =>
  equal(envValue(rotator(restricted), 'LCR_INCLUDE_NAMESPACES'), 'apps,linkerd,linkerd-viz', 'LCR_INCLUDE_NAMESPACES'),
);
check('restricted: image pinned by digest', () => matches(rotator(restricted).image, /^linkerd-cert-rotator@sha256:0123/, 'image'));
check('certificates: anchor key rotates on every issue', () =>
  equal(one(only('certificate-trust-anchor.yaml', ...restricted), 'Certificate').spec?.privateKey?.rotationPolicy, 'Always', 'privateKey.rotationPolicy'),
);
const previousSecret = (): Manifest => one(only('secret-previous-anchor.yaml', ...restricted), 'Secret');
check('certificates: previous-anchor Secret is kept by Helm', () =>
  equal(previousSecret().metadata?.annotations?.['helm.sh/resource-policy'], 'keep', 'annotation helm.sh/resource-policy'),
);
check('certificates: previous-anchor Secret has no data (no render writes or empties tls.crt)', () =>
  equal([previousSecret().data, previousSecret().stringData], [undefined, undefined], 'data, stringData'),
);
check('certificates: previous-anchor Secret is Opaque (includeAllKeys)', () => equal(previousSecret().type, 'Opaque', 'type'));
check('certificates: the Bundle reads the previous anchor with includeAllKeys (a Secret without data is an empty source)', () =>
  equal(
    one(only('bundle.yaml', ...restricted), 'Bundle')
      .spec?.sources?.filter((s) => s.secret?.name === 'linkerd-previous-anchor')
      .map((s) => s.secret),
    [{ name: 'linkerd-previous-anchor', includeAllKeys: true }],
    'the previous-anchor source',
  ),
);
const certificates = (): Spec[] =>
  ofKind(only('certificate-trust-anchor.yaml', ...restricted, '--show-only', 'templates/certificate-identity-issuer.yaml'), 'Certificate').map(
    (c) => c.spec ?? {},
  );
const anchorAndIssuer = (read: (spec: Spec) => unknown, what: string, expected: unknown): void => {
  const specs = certificates();
  equal(specs.length, 2, 'Certificates rendered');
  equal(specs.map(read), [expected, expected], `${what} of anchor and issuer`);
};
check('certificates: explicit issuerRef.group on both Certificates (cert-manager 1.19.0 re-issued those without)', () =>
  anchorAndIssuer((s) => s.issuerRef?.group, 'issuerRef.group', 'cert-manager.io'),
);
check("certificates: the anchor's renewBefore is a safety net close to expiry", () =>
  equal(one(only('certificate-trust-anchor.yaml', ...restricted)).spec?.renewBefore, '720h0m0s', 'renewBefore'),
);
check("certificates: issuer 48h, as Linkerd's guide", () =>
  equal(one(only('certificate-identity-issuer.yaml', ...restricted)).spec?.duration, '48h0m0s', 'duration'),
);
check('certificates: a new key on every issue (rotationPolicy Always) for anchor and issuer', () =>
  anchorAndIssuer((s) => s.privateKey?.rotationPolicy, 'privateKey.rotationPolicy', 'Always'),
);
check("certificates: revisionHistoryLimit 2 on anchor and issuer (the current CertificateRequest outlives the next issuance's start)", () =>
  anchorAndIssuer((s) => s.revisionHistoryLimit, 'revisionHistoryLimit', 2),
);

check('lock: the Lease Role follows rotator.lockNamespace', () =>
  equal(
    one(only('role-lock.yaml', '--set', 'rotator.lockNamespace=locks', '--set', 'rotator.lockName=rot-lock'), 'Role').metadata?.namespace,
    'locks',
    "the Role's namespace",
  ),
);
check('lock: the Lease Role follows rotator.lockName', () =>
  equal(
    named(rulesOn(only('role-lock.yaml', '--set', 'rotator.lockName=rot-lock'), 'leases'), 'rot-lock').map((r) => r.resourceNames),
    [['rot-lock']],
    'the Lease rules by name',
  ),
);
check('webhook URL from a Secret, not in the CronJob', () => {
  const [url, ...more] = envOf(rotator(['--set', 'webhookUrlSecret.name=hook']), 'LCR_WEBHOOK_URL');
  equal(more.length, 0, 'extra LCR_WEBHOOK_URL entries');
  equal([url?.value, url?.valueFrom?.secretKeyRef?.name], [undefined, 'hook'], 'LCR_WEBHOOK_URL (value, secretKeyRef.name)');
});

// NOTES.txt: helm template does not render it and helm install --dry-run wants a cluster, so render a
// copy of the chart in which the notes are wrapped in a manifest (tpl sees the chart's named templates).
const scratch = mkdtempSync(join(tmpdir(), 'chart-check-'));
try {
  const notesChart = join(scratch, 'chart');
  cpSync(chart, notesChart, { recursive: true });
  renameSync(join(notesChart, 'templates', 'NOTES.txt'), join(notesChart, 'notes.txt.src'));
  writeFileSync(join(notesChart, 'templates', 'notes-check.yaml'), 'notes: |{{ tpl (.Files.Get "notes.txt.src") . | nindent 2 }}\n');
  const notesOf = (...args: string[]): string => one(render([...args, '--show-only', 'templates/notes-check.yaml'], notesChart)).notes ?? '';
  const notes = (): string => notesOf(...restricted);
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const inNotes = (what: string, pattern: RegExp, text: () => string = notes): void => check(what, () => matches(text(), pattern, 'NOTES'));
  const notInNotes = (what: string, pattern: RegExp, text: () => string): void =>
    check(what, () => must(!pattern.test(text()), `did not expect ${pattern} in the NOTES`));
  inNotes('NOTES: how to start a run by hand', new RegExp(escape(`create job --from=cronjob/${fullname} `)));
  inNotes('NOTES: how to follow a run', /logs -f "job\/\$job"/);
  inNotes('NOTES: exit codes', /^ +4 +gate not met/m);
  inNotes('NOTES: how to run status', /"value":"status"/);
  // Where the Events really are: the run's Job in the release namespace (src/unattended/events.ts), the anchor
  // Certificate for a run outside a Job; and what only a namespace of the release's own or a pullable image needs.
  inNotes("NOTES: the run's Events, on its Job in the release namespace", new RegExp(`^ +${escape(`kubectl -n ${namespace} events --for "job/$job"`)}$`, 'm'));
  inNotes('NOTES: Events of a run outside a Job, on the anchor Certificate', /^ +kubectl -n cert-manager events --for certificate\/linkerd-trust-anchor$/m);
  inNotes('NOTES: how to run the helm test', new RegExp(`^ +${escape(`helm test ${release} -n ${namespace} --logs`)}$`, 'm'));
  notInNotes('NOTES: no helm test with tests.enabled=false', /helm test/, () => notesOf('--set', 'tests.enabled=false'));
  notInNotes('NOTES: no namespace advice in a namespace of its own', /^ +Namespace: /m, notes);
  inNotes("NOTES: advises a namespace of its own when installed into Linkerd's", /Namespace: linkerd is Linkerd's own namespace/, () =>
    notesOf('--namespace', 'linkerd'),
  );
  inNotes('NOTES: the default image cannot be pulled', /Image: linkerd-cert-rotator:[0-9.]+ is the chart.s default, which no registry serves/, () => notesOf());
  notInNotes('NOTES: no image advice once image.repository is set', /Image: /, () => notesOf('--set', 'image.repository=registry.example.com/lcr'));
  inNotes('NOTES: warns where no admission policy could be installed', /WARNING: this cluster does not serve .*ValidatingAdmissionPolicy/, () => notesOf());
  notInNotes('NOTES: no warning where the policies are installed', /WARNING/, () => notesOf(...vap));
  notInNotes('NOTES: no warning when the policies are turned off on purpose', /WARNING/, () => notesOf('--set', 'admissionPolicy.enabled=false'));
  inNotes('NOTES (multicluster primary): names the peers', /shared with the peers west \(kubeconfig Secret [^)]*\/lcr-peer-west\), north/, () =>
    notesOf(...primary),
  );
  inNotes("NOTES (peerAccess): how to turn the token into the primary's kubeconfig Secret", /create secret generic lcr-peer-NAME --from-file=kubeconfig=/, () =>
    notesOf(...peer),
  );
  inNotes('NOTES (peerAccess.tokenSecret=false): an expiring token', /create token [^ ]+ --duration=/, () =>
    notesOf(...peer, '--set', 'peerAccess.tokenSecret=false'),
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// ---------------------------------------------------------------- 4. bad values are refused: typos by the schema, contradictions by the templates

reject("a typo'd value (rotator.concurency)", /additional properties 'concurency' not allowed/, ['--set', 'rotator.concurency=3']);
reject("a typo'd top-level key (schedule)", /additional properties 'schedule' not allowed/, ['--set', 'schedule=0 0 * * *']);
reject('a malformed duration (rotator.rolloutTimeout=5 minutes)', /rolloutTimeout/, ['--set', 'rotator.rolloutTimeout=5 minutes']);
reject('an unknown command', /\/command/, ['--set', 'command=rotat']);
reject('concurrencyPolicy Allow', /concurrencyPolicy/, ['--set', 'cronJob.concurrencyPolicy=Allow']);
reject('a zero concurrency', /\/rotator\/concurrency/, ['--set', 'rotator.concurrency=0']);
reject('includeNamespaces beyond restrictToNamespaces', /does not permit/, [
  '--set',
  'rbac.restrictToNamespaces={apps}',
  '--set',
  'rotator.includeNamespaces={other}',
]);
reject('a namespace both included and excluded', /both rotator\.includeNamespaces and rotator\.excludeNamespaces/, [
  '--set',
  'rotator.includeNamespaces={apps}',
  '--set',
  'rotator.excludeNamespaces={apps}',
]);
reject('the anchor Secret as previous anchor', /must differ/, ['--set', 'rotator.previousAnchorSecret=linkerd-trust-anchor']);
reject('RBAC for the default ServiceAccount', /default ServiceAccount/, ['--set', 'serviceAccount.create=false']);
reject('a webhook URL both inline and from a Secret', /not both/, [
  '--set',
  'rotator.webhookUrl=https://hooks.example.com/x',
  '--set',
  'webhookUrlSecret.name=hook',
]);
reject('a webhook URL that is not http(s)', /\/rotator\/webhookUrl/, ['--set', 'rotator.webhookUrl=hooks.example.com/x']);
reject('no credentials at all', /without credentials/, ['--set', 'serviceAccount.automount=false']);
reject("Linkerd's guide anchor renewBefore (7320h): cert-manager renews before rotateBeforeExpiry", /before rotator\.rotateBeforeExpiry/, [
  '--set',
  'certificates.create=true',
  '--set',
  'certificates.anchor.renewBefore=7320h0m0s',
]);
reject('an anchor renewBefore that lets cert-manager renew before rotateAfter', /before rotator\.rotateAfter/, [
  '--set',
  'certificates.create=true',
  '--set',
  'certificates.anchor.renewBefore=8500h',
  '--set',
  'rotator.rotateBeforeExpiry=9000h',
]);
reject('a rotateBeforeExpiry that makes every run rotate', /every run would find a fresh anchor due/, [
  '--set',
  'certificates.create=true',
  '--set',
  'certificates.anchor.duration=1000h',
  '--set',
  'certificates.anchor.renewBefore=10h',
  '--set',
  'rotator.rotateBeforeExpiry=60d',
]);
reject('an anchor renewBefore not shorter than its duration', /must be shorter than certificates\.anchor\.duration/, [
  '--set',
  'certificates.create=true',
  '--set',
  'certificates.anchor.renewBefore=9000h',
]);
reject('an issuer renewBefore not shorter than its duration', /must be shorter than certificates\.issuer\.duration/, [
  '--set',
  'certificates.create=true',
  '--set',
  'certificates.issuer.renewBefore=48h',
]);
reject('rotator.force on a schedule', /on every scheduled run/, ['--set', 'rotator.force=true']);
const peerWest = ['--set', 'multicluster.peers[0].name=west', '--set', 'multicluster.peers[0].kubeconfigSecret=lcr-peer-west'];
reject('peers without rotator.clusterName', /needs rotator\.clusterName/, peerWest);
reject('a rotator.clusterName that no Link can carry', /is not a cluster name/, [...peerWest, '--set', 'rotator.clusterName=Prod EU']);
reject('a peer named twice', /is named twice/, [
  ...peerWest,
  '--set',
  'rotator.clusterName=east',
  '--set',
  'multicluster.peers[1].name=west',
  '--set',
  'multicluster.peers[1].kubeconfigSecret=other',
]);
reject('a peer named as this cluster', /is named twice \(or is rotator\.clusterName/, [...peerWest, '--set', 'rotator.clusterName=west']);
reject('a peer without its kubeconfig Secret', /kubeconfigSecret/, ['--set', 'rotator.clusterName=east', '--set', 'multicluster.peers[0].name=west']);
reject('a peer name that is no DNS label', /\/multicluster\/peers\/0\/name/, [
  '--set',
  'rotator.clusterName=east',
  '--set',
  'multicluster.peers[0].name=West_1',
  '--set',
  'multicluster.peers[0].kubeconfigSecret=s',
]);
reject('a primary that is also a peer', /exclude each other/, [...peerWest, '--set', 'rotator.clusterName=east', '--set', 'peerAccess.enabled=true']);
reject("peers without the chart's RBAC", /needs rbac\.create=true/, [...peerWest, '--set', 'rotator.clusterName=east', '--set', 'rbac.create=false']);
reject('a long-lived token of the default ServiceAccount', /long-lived token of the namespace's default ServiceAccount/, [
  '--set',
  'peerAccess.enabled=true',
  '--set',
  'serviceAccount.create=false',
  '--set',
  'rbac.create=false',
]);

if (failed.length) {
  console.error(`[chart-check] ${failed.length} of ${passed + failed.length} rendering checks FAILED:\n  ${failed.join('\n  ')}`);
  process.exitCode = 1;
} else {
  console.error(`[chart-check] all ${passed} rendering checks passed`);
}
