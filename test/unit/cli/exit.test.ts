// --soft-exits: which exit codes a scheduled run reports as 0, as a table over every code.
import { processExitCode } from '../../../src/cli/exit.js';
import { ExitCode } from '../../../src/errors.js';

describe('processExitCode', () => {
  const softened: number[] = [ExitCode.gateNotMet, ExitCode.locked];

  it.each(Object.entries(ExitCode))('without --soft-exits, %s (%i) is reported unchanged', (_name, code) => {
    expect(processExitCode(code, false)).toBe(code);
  });

  it.each(Object.entries(ExitCode))('with --soft-exits, %s (%i) is 0 only for a held lock or a gate not met', (_name, code) => {
    expect(processExitCode(code, true)).toBe(softened.includes(code) ? ExitCode.ok : code);
  });

  it('keeps failures, refusals, timeouts and signals non-zero under --soft-exits', () => {
    for (const code of [
      ExitCode.failed,
      ExitCode.usage,
      ExitCode.refused,
      ExitCode.timeout,
      ExitCode.statusWarning,
      ExitCode.statusBroken,
      ExitCode.sigint,
      ExitCode.sigterm,
    ]) {
      expect(processExitCode(code, true)).not.toBe(ExitCode.ok);
    }
    expect(processExitCode(ExitCode.gateNotMet, true)).toBe(ExitCode.ok);
    expect(processExitCode(ExitCode.locked, true)).toBe(ExitCode.ok);
  });
});
