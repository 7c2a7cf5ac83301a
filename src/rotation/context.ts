import type { RotatorConfig } from '../config.js';
import type { Cluster } from '../kube/ports.js';
import type { Logger } from '../log.js';
import type { Clock } from '../wait/poll.js';
import type { ProgressReporter } from './progress.js';

/** What every step runs with: the cluster port, the configuration, one logger, one clock, one abort signal. */
export interface RunContext {
  cluster: Cluster;
  config: RotatorConfig;
  logger: Logger;
  clock: Clock;
  signal?: AbortSignal;
  /** Shows how far restart passes are (a live line, periodic records); none in tests and dry runs. */
  progress?: ProgressReporter;
}

/** Wait options for a deadline from the configuration. */
export function waitOptions(
  ctx: RunContext,
  what: string,
  timeoutMs: number,
): { what: string; timeoutMs: number; intervalMs: number; clock: Clock; signal?: AbortSignal } {
  return { what, timeoutMs, intervalMs: ctx.config.pollIntervalMs, clock: ctx.clock, signal: ctx.signal };
}
