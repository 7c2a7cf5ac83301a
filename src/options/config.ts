import type { RotatorConfig } from '../config.js';
import { defaultConfig } from '../config.js';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { configOptions, parseBoolean, parseList, type OptionSpec } from './table.js';

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The rotation's settings from flags and LCR_* variables (already merged by the CLI, keyed by flag
 * name), each read by its kind in the options table and checked: durations as kubectl, Helm and
 * cert-manager write them, positive whole numbers, no empty names, valid and non-overlapping
 * namespaces. Throws UsageError naming the flag.
 */
export function configFromFlags(raw: Record<string, unknown>): RotatorConfig {
  const config: Record<string, unknown> = { ...defaultConfig };
  for (const spec of configOptions) config[spec.field as string] = readValue(spec.flag, spec.kind, raw[spec.flag]);
  const result = config as unknown as RotatorConfig;
  for (const spec of configOptions.filter((s) => s.kind === 'string' && s.flag !== 'control-plane-selector')) {
    if (!result[spec.field as keyof RotatorConfig]) throw new UsageError(`--${spec.flag} must not be empty`);
  }
  const overlap = result.includeNamespaces.filter((ns) => result.excludeNamespaces.includes(ns));
  if (overlap.length > 0) throw new UsageError(`namespaces both included and excluded: ${overlap.join(', ')}`);
  for (const ns of [result.linkerdNamespace, result.trustNamespace, ...result.includeNamespaces, ...result.excludeNamespaces]) {
    if (!dnsLabel.test(ns) || ns.length > 63) throw new UsageError(`"${ns}" is not a valid namespace name`);
  }
  return result;
}

/** One option's value by its kind. */
function readValue(flag: string, kind: OptionSpec['kind'], value: unknown): unknown {
  switch (kind) {
    case 'string':
      return typeof value === 'string' ? value.trim() : '';
    case 'list':
      return parseList(value);
    case 'boolean':
      return parseBoolean(flag, value);
    case 'number': {
      const number = Number(value);
      if (!Number.isInteger(number) || number < 1) throw new UsageError(`--${flag} must be a positive whole number, got "${String(value)}"`);
      return number;
    }
    case 'duration': {
      const ms = parseDuration(String(value));
      if (ms === undefined || ms <= 0) throw new UsageError(`--${flag} must be a duration such as 90s, 5m, 1h30m or 25d, got "${String(value)}"`);
      return ms;
    }
  }
}
