import type { RotatorConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Plan } from '../rotation/plan.js';
import type { Clock } from '../wait/poll.js';
import { anchorChange, stoppedAt } from './notify.js';
import type { PolicyDecision } from './policy.js';
import type { EventPort, ObjectRef, RunIdentity } from './ports.js';
import type { RunReport, StepOutcome, Write } from './recorder.js';
import { errorMessage, formatDuration, redact, stepLabel, truncate } from './text.js';

/**
 * reportingController of every Event the rotator writes.
 * @internal exported for its unit tests
 */
export const reportingController = 'linkerd-cert-rotator';
/**
 * Label on every Event of one run: `kubectl get events -l linkerd-cert-rotator.io/run-id=<id>`.
 * @internal exported for its unit tests
 */
export const runIdLabel = 'linkerd-cert-rotator.io/run-id';

/** The reasons of the rotator's Events (documented in docs/unattended.md). */
export type EventReason = 'RotationStarted' | 'NothingToDo' | 'RotationSucceeded' | 'RotationFailed' | 'StepStarted' | 'StepSucceeded' | 'StepFailed';

/** events.k8s.io/v1 refuses notes over 1 kB. */
const noteLimit = 1024;

/**
 * What the run's Events regard: the rotator's own Job when it runs in one (its pod, from the
 * Downward API's POD_NAME and POD_NAMESPACE, is controlled by a Job), otherwise the trust
 * anchor's Certificate, which `kubectl describe certificate` then shows them on.
 */
export async function resolveEventTarget(port: EventPort, identity: RunIdentity, config: RotatorConfig, logger: Logger): Promise<ObjectRef | undefined> {
  if (identity.podName && identity.podNamespace) {
    try {
      const job = await port.ownerJob(identity.podNamespace, identity.podName);
      if (job) return job;
      logger.info('no Job controls this pod: Events go to the trust anchor Certificate', { pod: `${identity.podNamespace}/${identity.podName}` });
    } catch (error) {
      logger.warn('could not read this pod to find its Job: Events go to the trust anchor Certificate', { error: errorMessage(error) });
    }
  }
  try {
    const certificate = await port.certificateRef(config.trustNamespace, config.anchorCertificate);
    if (certificate) return certificate;
  } catch (error) {
    logger.warn('could not read the trust anchor Certificate for Events', { error: errorMessage(error) });
  }
  return { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', namespace: config.trustNamespace, name: config.anchorCertificate };
}

/**
 * Writes the run's Events. Never throws: an Event that cannot be written is a warning (the
 * first time; later ones at debug level), never a failed rotation. Notes pass through `redact`.
 */
export class RunEvents {
  private lastMs = 0;
  private sequence = 0;
  private warned = false;

  constructor(
    private readonly port: EventPort,
    private readonly target: ObjectRef | undefined,
    private readonly identity: RunIdentity,
    private readonly deps: { clock: Clock; logger: Logger },
  ) {}

  async emit(type: 'Normal' | 'Warning', reason: EventReason, action: string, note: string): Promise<void> {
    const target = this.target;
    if (!target) return;
    // Strictly increasing times keep `kubectl get events --sort-by=.eventTime` in emission order.
    const ms = Math.max(this.deps.clock.now().getTime(), this.lastMs + 1);
    this.lastMs = ms;
    this.sequence++;
    const name = `${target.name}.${(ms * 1000 + (this.sequence % 1000)).toString(16)}`.slice(0, 253);
    try {
      await this.port.createEvent({
        name,
        regarding: target,
        type,
        reason,
        action,
        note: truncate(redact(note), noteLimit),
        time: new Date(ms),
        reportingController,
        reportingInstance: truncate(this.identity.holder, 128),
        labels: { [runIdLabel]: this.identity.runId },
      });
    } catch (error) {
      const fields = { reason, regarding: `${target.kind} ${target.namespace}/${target.name}`, error: errorMessage(error) };
      if (this.warned) {
        this.deps.logger.debug('could not write an Event', fields);
      } else {
        this.warned = true;
        this.deps.logger.warn('could not write an Event; the rotation goes on (further failures are logged at debug level)', fields);
      }
    }
  }
}

/** The Event `action` of a step: what the rotator did to the regarded object's world. */
export function stepAction(name: string): string {
  return name
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

const objectList = (objects: readonly string[], limit = 8): string =>
  objects.length <= limit ? objects.join(', ') : `${objects.slice(0, limit).join(', ')} and ${objects.length - limit} more`;

/**
 * "restarted 3 workload(s): Deployment shop/api, ...; triggered re-issuance of Certificate ..."
 * @internal exported for its unit tests
 */
export function describeWrites(writes: readonly Write[]): string {
  const parts: string[] = [];
  const of = (kind: Write['kind']): string[] => writes.filter((w) => w.kind === kind).map((w) => w.object);
  const restarted = of('restart');
  const issued = of('trigger-issuance');
  const secrets = of('write-secret');
  const deleted = of('delete-pod');
  if (issued.length > 0) parts.push(`triggered re-issuance of ${objectList(issued)}`);
  if (restarted.length > 0) parts.push(`restarted ${restarted.length} workload(s): ${objectList(restarted)}`);
  if (secrets.length > 0) parts.push(`wrote the certificate only into ${objectList(secrets)}`);
  if (deleted.length > 0) parts.push(`deleted ${deleted.length} stale pod(s): ${objectList(deleted)}`);
  return parts.length > 0 ? parts.join('; ') : 'changed nothing';
}

/** RotationStarted: why this run rotates and the plan it starts from. */
export function rotationStartedNote(plan: Plan, decision: PolicyDecision | undefined, holder: string): string {
  const steps = plan.steps.map((s) => stepLabel(s)).join(' → ');
  return `${holder} starts from phase ${plan.phase}: ${plan.summary}. ${decision ? `Policy: ${decision.reason}. ` : ''}Plan (${plan.steps.length} steps): ${steps}`;
}

/** StepStarted: which step, of how many planned, and why. */
export function stepStartedNote(step: { name: string; purpose?: string; why?: string }, index: number, planned: number | undefined): string {
  return `step ${index}${planned ? ` of ${planned} planned` : ''}: ${stepLabel(step)} started${step.why ? `: ${step.why}` : ''}`;
}

/** StepSucceeded / StepFailed: how long, which objects, and the error. */
export function stepEndedNote(step: StepOutcome): string {
  const head = `step ${step.index}: ${stepLabel(step)} ${step.result === 'failed' ? 'failed' : 'succeeded'} after ${formatDuration(step.durationMs)}`;
  return `${head}; ${describeWrites(step.writes)}${step.error ? `. Error: ${step.error}` : ''}`;
}

/** RotationSucceeded / RotationFailed / NothingToDo. */
function runEndedNote(report: RunReport): string {
  const took = formatDuration(report.finishedAt.getTime() - report.startedAt.getTime());
  const anchor = anchorChange(report);
  const anchorText = anchor ? `anchor ${anchor.text}` : '';
  switch (report.outcome) {
    case 'nothing-to-do':
      return `nothing to do: ${nothingToDoReason(report)}`;
    case 'succeeded':
      return `${report.command} finished in ${took}: ${report.steps.length} step(s), ${report.restarted} workload(s) restarted${anchorText ? `, ${anchorText}` : ''}; phase now ${report.after?.phase ?? 'unknown'}`;
    case 'failed':
      return `${report.command} failed after ${took}, stopped ${stoppedAt(report)} (exit code ${report.exitCode}): ${report.error ?? 'unknown error'}. ${report.steps.filter((s) => s.result === 'succeeded').length} step(s) done${anchorText ? `, ${anchorText}` : ''}; the next run resumes from the cluster's state`;
  }
}

/** The Event that ends a `rotate` run: its type and reason follow the outcome, its note is runEndedNote's. */
export function runEndedEvent(report: RunReport): { type: 'Normal' | 'Warning'; reason: EventReason; action: string; note: string } {
  const [type, reason] =
    report.outcome === 'failed'
      ? (['Warning', 'RotationFailed'] as const)
      : report.outcome === 'nothing-to-do'
        ? (['Normal', 'NothingToDo'] as const)
        : (['Normal', 'RotationSucceeded'] as const);
  return { type, reason, action: 'Rotate', note: runEndedNote(report) };
}

/** Why a run found nothing to do: the policy's words in a steady state, the plan's otherwise. */
export function nothingToDoReason(report: { decision?: PolicyDecision; plan?: { summary: string } }): string {
  if (report.decision && !report.decision.unfinished) return report.decision.reason;
  return report.plan?.summary ?? 'no step remains';
}
