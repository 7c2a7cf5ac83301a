import { parseDuration } from '../duration.js';
import { parseBoolean, unattendedOptions } from '../options/table.js';
import type { RotatorConfig } from '../config.js';
import { UsageError } from '../errors.js';
import type { LockSpec } from './lock.js';
import type { RotationPolicy } from './policy.js';
import type { RunIdentity } from './ports.js';

/** The validated options of unattended runs (flags in src/options/table.ts `unattendedOptions`). */
export interface UnattendedOptions {
  /** Undefined: the Linkerd namespace, wherever the run happens (see lockSpecFor). */
  lockNamespace?: string;
  lockName: string;
  lockDurationMs: number;
  lockWaitMs: number;
  policy: RotationPolicy;
  pushgatewayUrl?: string;
  webhookUrl?: string;
  clusterName?: string;
  /** Lock held (6) and gate not met (4) end the process with 0; see softExitCode. */
  softExits: boolean;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function value(raw: Record<string, unknown>, flag: string): unknown {
  return raw[flag] ?? unattendedOptions.find((spec) => spec.flag === flag)?.default;
}

function text(raw: Record<string, unknown>, flag: string): string | undefined {
  const v = value(raw, flag);
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function duration(raw: Record<string, unknown>, flag: string, minMs: number): number {
  const given = String(value(raw, flag));
  const ms = parseDuration(given);
  if (ms === undefined || ms < minMs) {
    throw new UsageError(`--${flag} must be a duration${minMs > 0 ? ` of at least ${minMs / 1000}s` : ''} such as 90s, 5m, 1h30m or 25d, got "${given}"`);
  }
  return ms;
}

/** Hosts a plain-http URL may name: this machine only, where nothing on the wire can read the URL. */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Validates a URL flag without ever echoing it: a webhook URL carries its secret in its path
 * (Slack) or query, so an error shows its scheme and host at most. `plainHttp: 'loopback'` refuses
 * `http:` but for a loopback host (the secret would cross the network in clear text).
 */
function url(raw: Record<string, unknown>, flag: string, plainHttp: 'any' | 'loopback'): string | undefined {
  const given = text(raw, flag);
  if (given === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(given);
  } catch {
    throw new UsageError(`--${flag} is not a valid absolute http(s) URL (the value is not shown: it may hold a secret)`);
  }
  const schemes = plainHttp === 'any' ? 'an http(s) URL' : 'an https URL';
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--${flag} must be ${schemes}, got the "${parsed.protocol}" scheme`);
  if (parsed.username !== '' || parsed.password !== '') throw new UsageError(`--${flag} must not carry a user name or password (the value is not shown)`);
  if (plainHttp === 'loopback' && parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
    throw new UsageError(
      `--${flag} must be an https URL: plain http would send its secret in clear text; http is accepted for a loopback host only, got http://${parsed.host}`,
    );
  }
  return given;
}

/** Validates the unattended options from the parsed flags; throws UsageError. A pure function, tested as a table. */
export function validateUnattended(raw: Record<string, unknown>): UnattendedOptions {
  const lockNamespace = text(raw, 'lock-namespace');
  if (lockNamespace !== undefined && (!dnsLabel.test(lockNamespace) || lockNamespace.length > 63))
    throw new UsageError(`"${lockNamespace}" is not a valid namespace name (--lock-namespace)`);
  const lockName = text(raw, 'lock-name') ?? '';
  if (!dnsSubdomain.test(lockName) || lockName.length > 253) throw new UsageError(`--lock-name must be a valid object name, got "${lockName}"`);
  return {
    lockNamespace,
    lockName,
    lockDurationMs: duration(raw, 'lock-duration', 3000),
    lockWaitMs: duration(raw, 'lock-wait', 0),
    policy: {
      rotateAfterMs: duration(raw, 'rotate-after', 0),
      rotateBeforeExpiryMs: duration(raw, 'rotate-before-expiry', 0),
      force: parseBoolean('force', value(raw, 'force')),
    },
    pushgatewayUrl: url(raw, 'pushgateway-url', 'any'),
    webhookUrl: url(raw, 'webhook-url', 'loopback'),
    clusterName: text(raw, 'cluster-name'),
    softExits: parseBoolean('soft-exits', value(raw, 'soft-exits')),
  };
}

/**
 * The lock in force: the Lease in --lock-namespace, else in the Linkerd namespace. Never the
 * pod's or the kubeconfig's namespace: a run by hand and the CronJob must meet at one Lease.
 */
export function lockSpecFor(options: UnattendedOptions, identity: RunIdentity, config: Pick<RotatorConfig, 'linkerdNamespace' | 'pollIntervalMs'>): LockSpec {
  return {
    namespace: options.lockNamespace ?? config.linkerdNamespace,
    name: options.lockName,
    holder: identity.holder,
    holderRef: identity.holderRef,
    durationMs: options.lockDurationMs,
    waitMs: options.lockWaitMs,
    pollMs: config.pollIntervalMs,
  };
}
