/** Exit codes, documented in the README. Only the CLI turns them into a process exit. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  refused: 3,
  gateNotMet: 4,
  timeout: 5,
  locked: 6,
  statusWarning: 10,
  statusBroken: 11,
  sigint: 130,
  sigterm: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad flags or environment: nothing was read from the cluster. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The cluster is not in a state the rotator may act on (expired anchor, wrong key type,
 * missing CRD or object, paused workload, ...). Nothing was changed because of it.
 */
export class PreconditionError extends Error {
  override readonly name = 'PreconditionError';
}

/** A gate could not be met: these pods still carry what must go. */
export class GateError extends Error {
  override readonly name = 'GateError';
  constructor(
    message: string,
    readonly stale: readonly { namespace: string; name: string; owner: string; reason: string }[],
  ) {
    super(message);
  }
}

/** A wait ran past its deadline. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** A wait or a step was aborted by SIGTERM/SIGINT. */
export class AbortedError extends Error {
  override readonly name = 'AbortedError';
  constructor(readonly signal: string) {
    super(`aborted by ${signal}`);
  }
}

/** Another run holds the rotation lock (a Lease) and did not release it in time: nothing was changed. */
export class LockedError extends Error {
  override readonly name = 'LockedError';
}

/** A step failed for a reason found in the cluster (issuance failed, rollout stuck). */
export class StepError extends Error {
  override readonly name = 'StepError';
}

/** Maps an error to the exit code a scheduler or a person can act on. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError) return ExitCode.usage;
  if (error instanceof PreconditionError) return ExitCode.refused;
  if (error instanceof GateError) return ExitCode.gateNotMet;
  if (error instanceof TimeoutError) return ExitCode.timeout;
  if (error instanceof LockedError) return ExitCode.locked;
  if (error instanceof AbortedError) return error.signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm;
  return ExitCode.failed;
}
