import type { RotatorConfig } from '../config.js';
import { PreconditionError } from '../errors.js';
import { observe } from '../rotation/state.js';
import { buildStatus, type StatusReport } from '../status/report.js';
import { snapshotOf, type Snapshot } from '../unattended/metrics.js';
import type { RotationPolicy } from '../unattended/policy.js';
import { pushStatusMetrics, type PublishDeps } from '../unattended/publish.js';
import { contextOf, type CommandDeps } from './deps.js';

/** `status` on one cluster. */
export interface StatusOptions {
  config: RotatorConfig;
  /** The rotation policy, for the metrics' due time. */
  policy: RotationPolicy;
}

/**
 * The report and its metrics' snapshot, or why the mesh's trust cannot be judged (broken, no
 * snapshot); either is already pushed to the Pushgateway when one is set.
 */
export type StatusResult = { kind: 'report'; report: StatusReport; snapshot: Snapshot } | { kind: 'broken'; error: string; snapshot?: undefined };

/** Reads the cluster once and reports; read-only, never under the lock. */
export async function run(options: StatusOptions, deps: CommandDeps & Pick<PublishDeps, 'unattended'>): Promise<StatusResult> {
  const { config } = options;
  let state;
  try {
    state = await observe(deps.cluster, config, deps.clock.now(), contextOf(config, deps));
  } catch (error) {
    // Missing objects or CRDs, malformed certificates: the mesh's trust cannot be judged, which is broken.
    if (!(error instanceof PreconditionError)) throw error;
    await pushStatusMetrics(deps, undefined);
    return { kind: 'broken', error: error.message };
  }
  const report = buildStatus(state, config.expiryWarningDays, config);
  const snapshot = snapshotOf(state, report, options.policy);
  await pushStatusMetrics(deps, snapshot);
  return { kind: 'report', report, snapshot };
}
