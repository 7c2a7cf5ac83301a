import type { RotatorConfig } from '../config.js';
import { planRotation } from '../rotation/rotate.js';
import { updateBundle } from '../rotation/steps.js';
import { judgeTask } from '../rotation/tasks.js';
import { contextOf, mayRun, type CommandDeps, type NothingToDo } from './deps.js';

/** `update-bundle`: drop the old anchor. */
export interface UpdateBundleOptions {
  config: RotatorConfig;
  dryRun: boolean;
}

/** What update-bundle did, or would do (dry run: the Secret it writes, as namespace/name). */
export type UpdateBundleResult = NothingToDo | { kind: 'would-update' | 'updated'; previousAnchorSecret: string };

/**
 * Writes the current anchor into the previous-anchor Secret and waits for the bundle; refused
 * (PreconditionError, nothing changed) before gate 2.
 */
export async function run(options: UpdateBundleOptions, deps: CommandDeps): Promise<UpdateBundleResult> {
  const ctx = contextOf(options.config, deps);
  const { state, plan } = await planRotation(ctx, false);
  const verdict = judgeTask('update-bundle', state, plan);
  if (!mayRun(verdict, deps.logger)) return { kind: 'nothing-to-do', reason: verdict.reason };
  const previousAnchorSecret = `${options.config.trustNamespace}/${options.config.previousAnchorSecret}`;
  if (options.dryRun) return { kind: 'would-update', previousAnchorSecret };
  await updateBundle(ctx);
  return { kind: 'updated', previousAnchorSecret };
}
