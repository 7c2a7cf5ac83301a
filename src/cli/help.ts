import { allOptions, type OptionSpec } from '../options/table.js';

/**
 * Headings of the option groups in per-command help, in the order they are shown.
 * @internal exported for its unit tests
 */
export const optionGroups = {
  Connection: ['kubeconfig', 'context', 'request-timeout', 'watch-idle-timeout'],
  Multicluster: ['peer', 'peer-kubeconfig'],
  'Linkerd objects': [
    'linkerd-namespace',
    'trust-namespace',
    'anchor-certificate',
    'anchor-secret',
    'issuer-certificate',
    'issuer-secret',
    'previous-anchor-secret',
    'bundle',
    'identity-deployment',
    'read-key-secrets',
  ],
  Scope: [
    'control-plane-selector',
    'extension-selector',
    'include-namespaces',
    'exclude-namespaces',
    'opt-out-annotation',
    'delete-stale-pods',
    'accept-held-pods',
  ],
  Checks: ['issuer-renewal-margin', 'expiry-warning-days'],
  Renewal: ['which'],
  Restarts: ['concurrency', 'watch-rollouts'],
  Timing: ['certificate-timeout', 'rollout-timeout', 'bundle-timeout', 'poll-interval'],
  Policy: ['rotate-after', 'rotate-before-expiry', 'force'],
  Unattended: ['lock-namespace', 'lock-name', 'lock-duration', 'lock-wait', 'soft-exits'],
  Reporting: ['pushgateway-url', 'webhook-url', 'cluster-name'],
  Changes: ['dry-run'],
  Output: ['output', 'log-level', 'log-format'],
} as const satisfies Record<string, readonly string[]>;

export type OptionGroup = keyof typeof optionGroups;

/** Short flags, as kubectl has them. */
export const aliases: Record<string, string> = { output: 'o' };

const changing: OptionGroup[] = ['Connection', 'Linkerd objects', 'Scope', 'Checks', 'Restarts', 'Timing', 'Unattended', 'Reporting', 'Changes', 'Output'];

/**
 * The option groups each command reads: a command accepts only these flags and its help lists
 * only these. Options it does not read can still come from the environment (the chart sets them
 * all), where they are validated and ignored.
 * @internal exported for its unit tests
 */
export const commandGroups: Record<string, readonly OptionGroup[]> = {
  rotate: ['Connection', 'Multicluster', 'Linkerd objects', 'Scope', 'Checks', 'Restarts', 'Timing', 'Policy', 'Unattended', 'Reporting', 'Changes', 'Output'],
  'renew-certs': ['Renewal', ...changing],
  'restart-control-plane': changing,
  'restart-data-plane': changing,
  'update-bundle': changing.filter((group) => group !== 'Restarts'),
  // status reads the policy and the held-pod options for its findings and metrics, and changes nothing.
  status: ['Connection', 'Multicluster', 'Linkerd objects', 'Scope', 'Checks', 'Policy', 'Reporting', 'Output'],
};

/** Examples shown under each command's help (yargs wraps an example longer than about 50 characters). */
export const examples: Record<string, readonly [string, string][]> = {
  rotate: [
    ['$0 rotate --dry-run', 'Print the plan computed from the cluster and change nothing'],
    ['$0 rotate --force -o json', 'Start a rotation now although the policy says it is not due; print the result as JSON'],
  ],
  'renew-certs': [
    ['$0 renew-certs --dry-run', 'Show which certificate is next in the safe order'],
    ['$0 renew-certs --which issuer', 'Renew the identity issuer and wait until it is re-issued'],
  ],
  'restart-control-plane': [['$0 restart-control-plane', 'Restart identity, then the rest of the control plane, then extensions']],
  'restart-data-plane': [
    ['$0 restart-data-plane --dry-run', 'List the workloads that would be restarted'],
    ['$0 restart-data-plane -o json', 'Restart every meshed workload in scope; print the result as JSON'],
  ],
  'update-bundle': [['$0 update-bundle --dry-run', 'Show what dropping the old anchor would write']],
  status: [
    ['$0 status', 'Anchors, issuer, bundle and stale pods; exit 0 healthy, 10 warning, 11 broken'],
    ['$0 status -o prometheus', 'The same as a Prometheus exposition'],
  ],
};

/**
 * The group an option is listed under; options nobody grouped yet are listed last, under every command.
 * @internal exported for its unit tests
 */
export function groupOf(flag: string): OptionGroup | 'Other' {
  for (const [group, flags] of Object.entries(optionGroups) as [OptionGroup, readonly string[]][]) if (flags.includes(flag)) return group;
  return 'Other';
}

/** The options a command accepts, in help order, with the group each is listed under. */
export function optionsOf(command: string, specs: readonly OptionSpec[] = allOptions): { spec: OptionSpec; group: OptionGroup | 'Other' }[] {
  const groups = commandGroups[command] ?? [];
  const order = (group: OptionGroup | 'Other'): number => (group === 'Other' ? groups.length : groups.indexOf(group));
  return specs
    .map((spec) => ({ spec, group: groupOf(spec.flag) }))
    .filter(({ group }) => group === 'Other' || groups.includes(group))
    .sort((a, b) => order(a.group) - order(b.group));
}
