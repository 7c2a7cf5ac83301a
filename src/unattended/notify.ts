import { shortFingerprint } from '../certs/index.js';
import type { WebhookPayload } from './ports.js';
import type { RunReport, StepOutcome } from './recorder.js';
import { formatDuration, redact, stepLabel, truncate } from './text.js';

/** Slack's limit for the text of one section block. */
const sectionLimit = 3000;

const stepLine = (step: StepOutcome): string => {
  const restarted = step.writes.filter((w) => w.kind === 'restart').length;
  return `${step.index}. ${stepLabel(step)} ${step.result === 'failed' ? 'FAILED after' : 'in'} ${formatDuration(step.durationMs)}${restarted > 0 ? `, ${restarted} workload(s) restarted` : ''}`;
};

/** Where a failed run stopped, in words that follow "stopped": "at step 4 restart-data-plane (trust-new-anchor)". */
export function stoppedAt(report: RunReport): string {
  const failed = report.steps.find((s) => s.result === 'failed');
  if (failed) return `at step ${failed.index} ${stepLabel(failed)}`;
  if (report.steps.length > 0) return `after step ${report.steps.length} ${stepLabel(report.steps[report.steps.length - 1] as StepOutcome)}`;
  return report.plan ? 'before the first step' : 'before planning, while reading the cluster';
}

/** The run's anchor: "ab12cd34ef56 → 9f8e7d6c5b4a" and rotated when it changed, the one anchor otherwise. */
export function anchorChange(report: Pick<RunReport, 'anchorBefore' | 'after'>): { text: string; rotated: boolean } | undefined {
  const before = report.anchorBefore;
  const after = report.after?.anchor.fingerprint;
  if (before && after && before !== after) return { text: `${shortFingerprint(before)} → ${shortFingerprint(after)}`, rotated: true };
  const one = after ?? before;
  return one ? { text: shortFingerprint(one), rotated: false } : undefined;
}

/** The summary lines of a run, for a person: what was rotated, the steps, where it stopped and why. */
function summaryLines(report: RunReport, clusterName?: string): { title: string; lines: string[] } {
  const where = clusterName ? ` on ${clusterName}` : '';
  const took = formatDuration(report.finishedAt.getTime() - report.startedAt.getTime());
  const title =
    report.outcome === 'failed'
      ? `linkerd-cert-rotator ${report.command} FAILED${where} (exit code ${report.exitCode}, after ${took})`
      : report.outcome === 'nothing-to-do'
        ? `linkerd-cert-rotator ${report.command}${where}: nothing to do`
        : `linkerd-cert-rotator ${report.command} succeeded${where} in ${took}`;
  const lines: string[] = [];
  const anchor = anchorChange(report);
  if (anchor) lines.push(`${anchor.rotated ? 'Trust anchor rotated' : 'Trust anchor'}: ${anchor.text}`);
  if (report.decision) lines.push(`Policy: ${report.decision.reason}`);
  if (report.outcome === 'failed') {
    lines.push(`Stopped ${stoppedAt(report)}: ${report.error ?? 'unknown error'}`);
    lines.push('Nothing is rolled back: the next run reads the cluster and resumes where this one stopped.');
  }
  if (report.steps.length > 0) lines.push(`Steps (${report.steps.length}):`, ...report.steps.map(stepLine));
  if (report.restarted > 0 || report.deletedPods > 0)
    lines.push(`Workloads restarted: ${report.restarted}${report.deletedPods > 0 ? `, stale pods deleted: ${report.deletedPods}` : ''}`);
  if (report.after) lines.push(`Phase now: ${report.after.phase}`);
  lines.push(`Run ${report.runId} by ${report.holder}`);
  return { title: redact(title), lines: lines.map(redact) };
}

/** A Slack-compatible payload: `text` for every receiver, `blocks` for Slack's layout. */
export function notificationPayload(report: RunReport, clusterName?: string): WebhookPayload {
  const { title, lines } = summaryLines(report, clusterName);
  const icon = report.outcome === 'failed' ? ':x:' : ':white_check_mark:';
  const body = lines.join('\n');
  return {
    text: `${icon} ${title}\n${body}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(title, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(body, sectionLimit) } },
    ],
  };
}

/** Whether a run is worth a notification: failures and runs that changed something; nothing-to-do runs stay quiet. */
export function shouldNotify(report: RunReport): boolean {
  return report.outcome !== 'nothing-to-do';
}
