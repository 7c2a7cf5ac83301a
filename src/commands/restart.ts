import type { RotatorConfig } from '../config.js';
import { planRotation } from '../rotation/rotate.js';
import { restartControlPlane, restartDataPlane } from '../rotation/steps.js';
import { controlPlaneRoles } from '../rotation/mesh.js';
import { restartPreview } from '../rotation/task-request.js';
import { judgeTask } from '../rotation/tasks.js';
import { contextOf, mayRun, type CommandDeps, type NothingToDo } from './deps.js';

/** `restart-control-plane` and `restart-data-plane`. */
export interface RestartOptions {
  config: RotatorConfig;
  dryRun: boolean;
  plane: 'control-plane' | 'data-plane';
}

/** What a restart did, or would do (dry run: the workloads it restarts, and those it may not). */
export type RestartResult =
  NothingToDo | { kind: 'would-restart'; targets: string[]; held: string[] } | { kind: 'restarted'; restarted: number; waitedMs: number; deleted?: number };

/**
 * Restarts every workload of the plane in scope and waits for the rollouts; refused
 * (PreconditionError, nothing changed) in a phase where new proxies would start with the wrong trust.
 */
export async function run(options: RestartOptions, deps: CommandDeps): Promise<RestartResult> {
  const ctx = contextOf(options.config, deps);
  const controlPlane = options.plane === 'control-plane';
  const { state, plan } = await planRotation(ctx, false);
  const verdict = judgeTask(controlPlane ? 'restart-control-plane' : 'restart-data-plane', state, plan);
  if (!mayRun(verdict, deps.logger)) return { kind: 'nothing-to-do', reason: verdict.reason };
  if (options.dryRun) return { kind: 'would-restart', ...restartPreview(state, controlPlane ? controlPlaneRoles : ['data-plane']) };
  const result = controlPlane ? await restartControlPlane(ctx) : await restartDataPlane(ctx);
  return { kind: 'restarted', ...result };
}
