import * as fleetRotate from '../commands/fleet-rotate.js';
import * as fleetStatus from '../commands/fleet-status.js';
import * as renewCerts from '../commands/renew-certs.js';
import * as restart from '../commands/restart.js';
import * as rotate from '../commands/rotate.js';
import * as status from '../commands/status.js';
import * as updateBundle from '../commands/update-bundle.js';
import type { CommandDeps, FleetPorts } from '../commands/deps.js';
import { ExitCode } from '../errors.js';
import type { Health } from '../status/report.js';
import { statusExposition } from '../unattended/metrics.js';
import type { UnattendedPorts } from '../unattended/ports.js';
import { supervise, type RunHooks } from '../unattended/supervise.js';
import { formatData } from './format.js';
import type { Invocation } from './parse.js';
import { showFleetRotate, showFleetStatus, showRenewCerts, showRestart, showRotate, showStatus, showUpdateBundle, type Shown } from './render.js';

/** What the CLI needs from outside: the commands' dependencies, stdout, and the unattended ports. Built once by main, faked by tests. */
export interface Deps extends CommandDeps {
  print: (text: string) => void;
  /** Lock, Events, Pushgateway, webhook (src/unattended). */
  unattended: UnattendedPorts;
  /** The multicluster run's clusters (--peer): the primary's key reader and each peer's adapter. */
  fleet?: FleetPorts;
}

/**
 * Runs one command and returns its exit code; errors propagate to main, which maps them.
 * Commands that change the cluster run supervised: under the rotation lock, with Events,
 * metrics and notifications.
 */
export async function run(invocation: Invocation, deps: Deps): Promise<ExitCode> {
  if (invocation.command === 'status' || invocation.dryRun) return runCommand(invocation, deps);
  return supervise(invocation, deps, (supervised, hooks) => runCommand(invocation, supervised, hooks));
}

/** Calls the command, prints what it returned in the chosen format, and answers its exit code. */
async function runCommand(invocation: Invocation, deps: Deps, hooks?: RunHooks): Promise<ExitCode> {
  const shown = await dispatch(invocation, deps, hooks);
  const { output } = invocation;
  deps.print(shown.raw ?? (output === 'json' || output === 'yaml' ? formatData(output, shown.data) : shown.text));
  return shown.code;
}

/** status' exit code: 0 healthy, 10 warning, 11 broken. */
const exitForHealth = (health: Health): ExitCode =>
  health === 'healthy' ? ExitCode.ok : health === 'warning' ? ExitCode.statusWarning : ExitCode.statusBroken;

/** A dry run that would refuse exits 3, as the real run would; anything else the command returned is done. */
const exitForRefusals = (refusals: readonly string[]): ExitCode => (refusals.length > 0 ? ExitCode.refused : ExitCode.ok);

/** status on one cluster: the report (or its metrics with -o prometheus) and its health's exit code. */
async function statusOf(invocation: Invocation, deps: Deps): Promise<Shown & { code: ExitCode }> {
  const result = await status.run({ config: invocation.config, policy: invocation.unattended.policy }, deps);
  const raw = invocation.output === 'prometheus' ? (await statusExposition(result.snapshot)).trimEnd() : undefined;
  return { ...showStatus(result), raw, code: result.kind === 'broken' ? ExitCode.statusBroken : exitForHealth(result.report.health) };
}

async function dispatch(invocation: Invocation, deps: Deps, hooks?: RunHooks): Promise<Shown & { code: ExitCode }> {
  const { config, dryRun, unattended } = invocation;
  const { policy, clusterName } = unattended;
  const fleet = deps.fleet && invocation.peers.length > 0 ? deps.fleet : undefined;
  switch (invocation.command) {
    case 'rotate': {
      if (fleet) {
        const result = await fleetRotate.run({ config, dryRun, policy, clusterName }, { ...deps, fleet, hooks });
        return { ...showFleetRotate(result, dryRun, invocation.peers.length + 1), code: dryRun ? exitForRefusals(result.refusals) : ExitCode.ok };
      }
      const result = await rotate.run({ config, dryRun, policy }, { ...deps, hooks });
      return { ...showRotate(result, dryRun), code: dryRun ? exitForRefusals(result.refusals) : ExitCode.ok };
    }
    case 'status': {
      if (fleet) {
        const result = await fleetStatus.run({ config, clusterName }, { ...deps, fleet });
        return { ...showFleetStatus(result), code: exitForHealth(result.health) };
      }
      return statusOf(invocation, deps);
    }
    case 'renew-certs':
      return { ...showRenewCerts(await renewCerts.run({ config, dryRun, which: invocation.which }, deps)), code: ExitCode.ok };
    case 'restart-control-plane':
    case 'restart-data-plane': {
      const plane = invocation.command === 'restart-control-plane' ? 'control-plane' : 'data-plane';
      return { ...showRestart(await restart.run({ config, dryRun, plane }, deps)), code: ExitCode.ok };
    }
    case 'update-bundle':
      return { ...showUpdateBundle(await updateBundle.run({ config, dryRun }, deps)), code: ExitCode.ok };
  }
}
