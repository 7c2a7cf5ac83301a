import type { FleetRotateResult } from '../commands/fleet-rotate.js';
import type { NothingToDo } from '../commands/deps.js';
import type { RenewCertsResult } from '../commands/renew-certs.js';
import type { RestartResult } from '../commands/restart.js';
import type { RotateResult } from '../commands/rotate.js';
import type { StatusResult } from '../commands/status.js';
import type { UpdateBundleResult } from '../commands/update-bundle.js';
import { renderFleetStatus, type FleetStatus } from '../fleet/status.js';
import type { Plan } from '../rotation/plan.js';
import { renderStatus } from '../status/report.js';
import { nothingToDoReason } from '../unattended/events.js';

/** A command's result for stdout: the document for -o json|yaml, the text for people, or raw text printed as is (-o prometheus). */
export interface Shown {
  data: unknown;
  text: string;
  raw?: string;
}

/** A plan for a person: numbered steps, their purpose, their targets. */
function renderPlan(plan: Plan): string {
  const lines = [`phase: ${plan.phase}`, plan.summary];
  if (plan.steps.length === 0) lines.push('nothing to do');
  plan.steps.forEach((step, index) => {
    const purpose = step.purpose ? ` (${step.purpose})` : '';
    const resume = step.resume ? ' [resume]' : '';
    lines.push(`${String(index + 1).padStart(2)}. ${step.name}${purpose}${resume}: ${step.why}`);
    if (step.name.startsWith('restart-')) {
      lines.push(step.targets ? `      targets: ${step.targets.join(', ') || 'none'}` : '      targets: every workload with stale pods at that time');
    }
  });
  return lines.join('\n');
}

/** rotate: the plan with the policy's decision and any refusals (dry run), or what ran. */
export function showRotate(result: RotateResult, dryRun: boolean): Shown {
  const { decision } = result;
  if (dryRun) {
    const refused = result.refusals.map((reason) => `\nwould refuse: ${reason}`).join('');
    return {
      data: { plan: result.plan, findings: result.findings, refusals: result.refusals, decision },
      text: `${renderPlan(result.plan)}${decision ? `\npolicy: ${decision.reason}` : ''}${refused}`,
    };
  }
  const { plan, findings, refusals, executed, finalPhase } = result;
  return {
    data: { plan, findings, refusals, executed, finalPhase, decision },
    text:
      executed.length === 0 ? `nothing to do: ${nothingToDoReason({ decision, plan })}` : `rotation finished: ${executed.length} step(s), phase ${finalPhase}`,
  };
}

/** rotate across linked clusters: each cluster's phase and next step (dry run), or what ran. */
export function showFleetRotate(result: FleetRotateResult, dryRun: boolean, clusters: number): Shown {
  const { plan, findings, refusals, executed, finalPhase, decision } = result;
  if (dryRun) {
    const lines = [
      plan.summary,
      ...plan.clusters.map((c) => `  ${c.name} (${c.role}): ${c.phase}${c.next ? `, next ${c.next}` : ''}`),
      ...refusals.map((r) => `would refuse: ${r}`),
    ];
    return { data: { plan, findings, refusals, decision }, text: lines.join('\n') };
  }
  return {
    data: { plan, findings, refusals, executed, finalPhase, decision },
    text:
      executed.length === 0
        ? `nothing to do: ${plan.summary}`
        : `rotation across ${clusters} clusters finished: ${executed.length} step(s), phase ${finalPhase}`,
  };
}

/** status: the report, or BROKEN with the reason it cannot be judged (-o prometheus: the CLI prints the snapshot's exposition). */
export function showStatus(result: StatusResult): Shown {
  if (result.kind === 'broken') return { data: { health: 'broken', error: result.error }, text: `health: BROKEN\n${result.error}` };
  return { data: result.report, text: renderStatus(result.report) };
}

export function showFleetStatus(status: FleetStatus): Shown {
  return { data: status, text: renderFleetStatus(status) };
}

const showNothingToDo = (result: NothingToDo): Shown => ({ data: { nothingToDo: result.reason }, text: `nothing to do: ${result.reason}` });

export function showRenewCerts(result: RenewCertsResult): Shown {
  if (result.kind === 'nothing-to-do') return showNothingToDo(result);
  const { which, target } = result;
  if (result.kind === 'would-renew')
    return {
      data: { renew: which, certificate: `${target.namespace}/${target.certificate}` },
      text: `would renew the ${target.role} (Certificate ${target.namespace}/${target.certificate})`,
    };
  return { data: { renewed: which }, text: `renewed the ${target.role}` };
}

export function showRestart(result: RestartResult): Shown {
  if (result.kind === 'nothing-to-do') return showNothingToDo(result);
  if (result.kind === 'would-restart') {
    const { targets, held } = result;
    return {
      data: { targets, held },
      text: [`would restart ${targets.length} workload(s):`, ...targets.map((t) => `  ${t}`), ...held.map((h) => `  not restarted: ${h}`)].join('\n'),
    };
  }
  const { restarted, waitedMs, deleted } = result;
  return { data: { restarted, waitedMs, deleted }, text: `restarted ${restarted} workload(s)` };
}

export function showUpdateBundle(result: UpdateBundleResult): Shown {
  if (result.kind === 'nothing-to-do') return showNothingToDo(result);
  if (result.kind === 'would-update') {
    return {
      data: { previousAnchorSecret: result.previousAnchorSecret },
      text: `would write the current anchor into Secret ${result.previousAnchorSecret} and wait for the bundle`,
    };
  }
  return { data: { updated: true }, text: 'bundle updated: it holds only the current anchor' };
}
