import { ExitCode } from '../errors.js';

/** Codes that `--soft-exits` turns into 0: the run found the rotation busy or waiting, and nothing broke. */
const softened: ReadonlySet<ExitCode> = new Set([ExitCode.gateNotMet, ExitCode.locked]);

/**
 * The process exit code of a run. With soft exits (scheduled runs), a lock held by another run (6)
 * and a gate not met yet (4) end with 0, so that Job-failure alerts do not fire on every scheduled
 * run while a rotation waits for a pod; the caller logs the real code, and Events and metrics keep
 * it. Failures, refusals, timeouts, signals and status health codes are never softened.
 */
export function processExitCode(code: ExitCode, softExits: boolean): ExitCode {
  return softExits && softened.has(code) ? ExitCode.ok : code;
}
