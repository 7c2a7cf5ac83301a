import type { RotatorConfig } from '../config.js';
import { defaultConfig } from '../config.js';
import { UsageError } from '../errors.js';

/** Prefix of the environment variables that carry options: `--rollout-timeout` is `LCR_ROLLOUT_TIMEOUT`. */
export const envPrefix = 'LCR';

type Kind = 'string' | 'list' | 'number' | 'boolean' | 'duration';

/** One option: its flag, the config field it fills, and how it is read. */
export interface OptionSpec {
  flag: string;
  kind: Kind;
  describe: string;
  field?: keyof RotatorConfig;
  choices?: string[];
  default?: string | number | boolean;
  /** The environment variable, where it is not envName(flag) (a repeatable flag's plural). */
  env?: string;
}

const d = defaultConfig;
const ms = (value: number): string => `${Math.round(value / 1000)}s`;

/** Options every command takes that are not part of RotatorConfig. */
const runOptions: OptionSpec[] = [
  {
    flag: 'kubeconfig',
    kind: 'string',
    describe: 'Path of a kubeconfig file (default, as kubectl: KUBECONFIG, then the in-cluster ServiceAccount, then ~/.kube/config)',
  },
  { flag: 'context', kind: 'string', describe: 'Kubeconfig context to use' },
  { flag: 'dry-run', kind: 'boolean', default: false, describe: 'Print the plan computed from the cluster and change nothing' },
  {
    flag: 'output',
    kind: 'string',
    default: 'text',
    choices: ['text', 'json', 'prometheus'],
    describe: 'Format of plans and reports on stdout (prometheus: status only, the metrics exposition)',
  },
  { flag: 'log-level', kind: 'string', default: 'info', choices: ['error', 'warn', 'info', 'debug'], describe: 'Least severe log level written' },
  {
    flag: 'log-format',
    kind: 'string',
    default: 'auto',
    choices: ['auto', 'json', 'text'],
    describe: 'Log format: JSON lines, readable text, or auto (text on a terminal)',
  },
  {
    flag: 'peer',
    kind: 'list',
    default: '',
    env: 'LCR_PEERS',
    describe:
      "A linked cluster that shares this cluster's trust anchor, as NAME[=CONTEXT] (repeatable, or comma-separated; CONTEXT defaults to NAME): rotate and status then span every cluster, with barriers across them (docs/multicluster.md)",
  },
  {
    flag: 'peer-kubeconfig',
    kind: 'string',
    default: '',
    describe: "Kubeconfig file(s) holding the peers' contexts, separated as in KUBECONFIG and merged (default: the kubeconfig of this cluster)",
  },
];

/** Options that fill RotatorConfig, with the defaults from Linkerd's documented set-up. */
export const configOptions: OptionSpec[] = [
  { flag: 'linkerd-namespace', field: 'linkerdNamespace', kind: 'string', default: d.linkerdNamespace, describe: "Namespace of Linkerd's control plane" },
  {
    flag: 'trust-namespace',
    field: 'trustNamespace',
    kind: 'string',
    default: d.trustNamespace,
    describe: "Namespace of the trust anchor and trust-manager's trust namespace",
  },
  {
    flag: 'anchor-certificate',
    field: 'anchorCertificate',
    kind: 'string',
    default: d.anchorCertificate,
    describe: 'cert-manager Certificate of the trust anchor',
  },
  { flag: 'anchor-secret', field: 'anchorSecret', kind: 'string', default: d.anchorSecret, describe: 'Secret of the trust anchor' },
  {
    flag: 'issuer-certificate',
    field: 'issuerCertificate',
    kind: 'string',
    default: d.issuerCertificate,
    describe: 'cert-manager Certificate of the identity issuer (in the Linkerd namespace)',
  },
  { flag: 'issuer-secret', field: 'issuerSecret', kind: 'string', default: d.issuerSecret, describe: 'Secret of the identity issuer' },
  {
    flag: 'read-key-secrets',
    field: 'readKeySecrets',
    kind: 'boolean',
    default: d.readKeySecrets,
    describe:
      "Where no CertificateRequest of the current revision holds the anchor's or issuer's certificate (made outside cert-manager, request deleted), read it from their Secret; the response's private key is dropped unread. Needs 'get' on those Secrets (chart: rotator.readKeySecrets)",
  },
  {
    flag: 'previous-anchor-secret',
    field: 'previousAnchorSecret',
    kind: 'string',
    default: d.previousAnchorSecret,
    describe: 'Secret that keeps the previous anchor in the bundle (in the trust namespace)',
  },
  {
    flag: 'bundle',
    field: 'bundle',
    kind: 'string',
    default: d.bundle,
    describe: 'trust-manager ClusterBundle (wins when both exist) or Bundle of this name; its target ConfigMaps are read from it',
  },
  {
    flag: 'identity-deployment',
    field: 'identityDeployment',
    kind: 'string',
    default: d.identityDeployment,
    describe: 'Deployment of the identity controller, restarted first',
  },
  {
    flag: 'control-plane-selector',
    field: 'controlPlaneSelector',
    kind: 'string',
    default: d.controlPlaneSelector,
    describe: 'Label selector of control-plane workloads (default: linkerd.io/control-plane-ns=<linkerd-namespace>)',
  },
  {
    flag: 'extension-selector',
    field: 'extensionSelector',
    kind: 'string',
    default: d.extensionSelector,
    describe: 'Label selector of extension workloads, restarted with the control plane',
  },
  {
    flag: 'include-namespaces',
    field: 'includeNamespaces',
    kind: 'list',
    default: '',
    describe: 'Comma-separated namespaces to restart (default: every meshed namespace)',
  },
  {
    flag: 'exclude-namespaces',
    field: 'excludeNamespaces',
    kind: 'list',
    default: '',
    describe: 'Comma-separated namespaces never restarted (their pods still count for the gates)',
  },
  {
    flag: 'opt-out-annotation',
    field: 'optOutAnnotation',
    kind: 'string',
    default: d.optOutAnnotation,
    describe: 'Annotation ("true") on a workload or its pod template that keeps it from being restarted',
  },
  { flag: 'concurrency', field: 'concurrency', kind: 'number', default: d.concurrency, describe: 'Workloads restarted at the same time' },
  {
    flag: 'watch-rollouts',
    field: 'watchRollouts',
    kind: 'boolean',
    default: d.watchRollouts,
    describe: 'Follow rollouts through one watch per workload kind instead of polling each one (--no-watch-rollouts: poll, no "watch" permission needed)',
  },
  {
    flag: 'delete-stale-pods',
    field: 'deleteStalePods',
    kind: 'boolean',
    default: d.deleteStalePods,
    describe: 'Evict stale meshed pods that no rollout restarts (bare pods, Jobs, OnDelete), respecting PodDisruptionBudgets',
  },
  {
    flag: 'accept-held-pods',
    field: 'acceptHeldPods',
    kind: 'boolean',
    default: d.acceptHeldPods,
    describe:
      'Start a new rotation although meshed pods the rotator will not restart (opted out, excluded, bare, Jobs, OnDelete) hold it at gate 1 until restarted by hand; while it waits, every issuer renewal by cert-manager breaks mTLS between them and new pods',
  },
  {
    flag: 'issuer-renewal-margin',
    field: 'issuerRenewalMarginMs',
    kind: 'duration',
    default: '2h',
    describe:
      "A new rotation starts only when cert-manager's next issuer renewal is at least this far away (else the issuer is renewed first); must exceed how long steps 1-3 take",
  },
  {
    flag: 'certificate-timeout',
    field: 'certificateTimeoutMs',
    kind: 'duration',
    default: ms(d.certificateTimeoutMs),
    describe: 'Deadline for one certificate issuance',
  },
  { flag: 'rollout-timeout', field: 'rolloutTimeoutMs', kind: 'duration', default: ms(d.rolloutTimeoutMs), describe: "Deadline for one workload's rollout" },
  {
    flag: 'bundle-timeout',
    field: 'bundleTimeoutMs',
    kind: 'duration',
    default: ms(d.bundleTimeoutMs),
    describe: 'Deadline for the bundle ConfigMaps to hold the expected anchors',
  },
  {
    flag: 'poll-interval',
    field: 'pollIntervalMs',
    kind: 'duration',
    default: ms(d.pollIntervalMs),
    describe: 'Interval between two looks at the cluster while waiting',
  },
  {
    flag: 'request-timeout',
    field: 'requestTimeoutMs',
    kind: 'duration',
    default: ms(d.requestTimeoutMs),
    describe: 'Deadline of one API request (a watch: its opening); transient failures are retried for about two minutes',
  },
  {
    flag: 'watch-idle-timeout',
    field: 'watchIdleTimeoutMs',
    kind: 'duration',
    default: ms(d.watchIdleTimeoutMs),
    describe:
      "A rollout watch that sent nothing (no event, no bookmark) this long is re-opened, and rollouts it showed nothing of are read with a GET; keep it above the apiserver's bookmark period (about 1 minute)",
  },
  {
    flag: 'expiry-warning-days',
    field: 'expiryWarningDays',
    kind: 'number',
    default: d.expiryWarningDays,
    describe: 'Warn when a certificate expires within this many days',
  },
];

/** Options of unattended runs: the lock, the rotation policy, Pushgateway and webhook (see docs/unattended.md). */
export const unattendedOptions: OptionSpec[] = [
  {
    flag: 'lock-namespace',
    kind: 'string',
    default: '',
    describe: 'Namespace of the rotation lock Lease (default: --linkerd-namespace, wherever the run happens)',
  },
  { flag: 'lock-name', kind: 'string', default: 'linkerd-cert-rotator', describe: 'Name of the rotation lock Lease (coordination.k8s.io/v1)' },
  {
    flag: 'lock-duration',
    kind: 'duration',
    default: '3m',
    describe:
      'Lease duration: renewed every 10 s (a third of it at most); lost, and no further write, after two thirds of it without a renewal; a killed run blocks the next one for at most this long',
  },
  { flag: 'lock-wait', kind: 'duration', default: '0s', describe: 'How long to wait while another run holds the lock; 0 refuses at once with exit code 6' },
  {
    flag: 'rotate-after',
    kind: 'duration',
    default: '25d',
    describe: 'rotate starts a new rotation once the trust anchor is this old (25d: a monthly CronJob rotates every run)',
  },
  { flag: 'rotate-before-expiry', kind: 'duration', default: '60d', describe: 'rotate starts a new rotation once the trust anchor expires within this long' },
  { flag: 'force', kind: 'boolean', default: false, describe: 'rotate starts a new rotation even when the policy says it is not due' },
  {
    flag: 'pushgateway-url',
    kind: 'string',
    default: '',
    describe:
      'Prometheus Pushgateway base URL; each run pushes its metrics to <url>/metrics/job/linkerd-cert-rotator (then /cluster/<name> when the cluster name below is set)',
  },
  {
    flag: 'webhook-url',
    kind: 'string',
    default: '',
    describe: 'Slack-compatible incoming webhook URL (https; http only on loopback) notified when a run fails or changes something',
  },
  { flag: 'cluster-name', kind: 'string', default: '', describe: 'Name of the cluster in notifications and in the Pushgateway grouping key (label cluster)' },
  {
    flag: 'soft-exits',
    kind: 'boolean',
    default: false,
    describe:
      'Exit 0 instead of 6 (lock held) and 4 (gate not met yet), for scheduled runs whose Job alerts must not fire while a rotation waits; logs, Events and metrics keep the real outcome',
  },
];

/** Every option, for help and documentation. */
export const allOptions: OptionSpec[] = [...runOptions, ...configOptions, ...unattendedOptions];

/**
 * The environment variable that carries an option.
 * @internal exported for its unit tests
 */
export function envName(flag: string): string {
  return `${envPrefix}_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** The environment variable of one option spec (its own `env`, else envName of its flag). */
export function envOf(spec: OptionSpec): string {
  return spec.env ?? envName(spec.flag);
}

/** Reads a boolean flag or environment value ("true", "1", "yes", "false", "0", "no", ""); throws UsageError otherwise. */
export function parseBoolean(flag: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (['true', '1', 'yes'].includes(text)) return true;
  if (['false', '0', 'no', ''].includes(text)) return false;
  throw new UsageError(`--${flag} must be true or false, got "${String(value)}"`);
}

/** Splits a comma-separated list, dropping blanks. */
export function parseList(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(',') : [];
  return items
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
