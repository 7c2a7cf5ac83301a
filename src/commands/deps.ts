import type { RotatorConfig } from '../config.js';
import { PreconditionError } from '../errors.js';
import type { Cluster, KeyPairCopier } from '../kube/ports.js';
import type { Logger } from '../log.js';
import type { RunContext } from '../rotation/context.js';
import type { ProgressReporter } from '../rotation/progress.js';
import type { TaskVerdict } from '../rotation/tasks.js';
import type { Clock } from '../wait/poll.js';

/** What every command needs from outside: built once by main (and wrapped by the supervisor), faked by tests. */
export interface CommandDeps {
  cluster: Cluster;
  logger: Logger;
  clock: Clock;
  signal?: AbortSignal;
  /** Shows restart passes while they run (src/cli/progress.ts). */
  progress?: ProgressReporter;
  /** Set by the supervisor: checked before every write, peers' included (the rotation lock). */
  fence?: () => void;
}

/** What a multicluster run needs beyond a single cluster's ports. */
export interface FleetPorts {
  primaryKeys: KeyPairCopier;
  peers: { name: string; cluster: Cluster & KeyPairCopier }[];
}

/** The run context of a command on this cluster. */
export function contextOf(config: RotatorConfig, deps: CommandDeps): RunContext {
  return { cluster: deps.cluster, config, logger: deps.logger, clock: deps.clock, signal: deps.signal, progress: deps.progress };
}

/** A single task that finds nothing to do: its reason, for the output (exit 0, nothing changed). */
export interface NothingToDo {
  kind: 'nothing-to-do';
  reason: string;
}

/**
 * Acts on a single task's verdict: a refusal is a PreconditionError (exit 3, nothing changed),
 * a no-op answers false (the caller returns its reason), a note is logged before the task runs.
 */
export function mayRun<V extends TaskVerdict | { verdict: 'run' }>(verdict: V, logger: Logger): verdict is Extract<V, { verdict: 'run' }> {
  if (verdict.verdict === 'refuse') throw new PreconditionError(verdict.reason);
  if (verdict.verdict === 'no-op') return false;
  if ('note' in verdict && verdict.note) logger.info(verdict.note);
  return true;
}
