/**
 * The sinks after a run or a `status`: the Pushgateway and the webhook, each fed from the one
 * model (the run's RunReport, or the status Snapshot) by its renderer. A sink that fails is a
 * warning: reporting never changes a run's outcome.
 */
import type { Logger } from '../log.js';
import { registryOf, runPushFamilies, runPushMode, statusFamilies, type Snapshot } from './metrics.js';
import { notificationPayload, shouldNotify } from './notify.js';
import type { UnattendedPorts } from './ports.js';
import type { RunReport } from './recorder.js';
import { errorMessage } from './text.js';

/** What publishing needs: the two optional sinks and a logger for their failures. */
export interface PublishDeps {
  unattended: Pick<UnattendedPorts, 'metrics' | 'notifier'>;
  logger: Logger;
}

/** Pushes the run's metrics (PUT, or POST for a failed run) and notifies the webhook when the run is worth it. */
export async function publishRun(deps: PublishDeps, report: RunReport, clusterName?: string): Promise<void> {
  const { metrics, notifier } = deps.unattended;
  if (metrics) {
    try {
      await metrics.push(registryOf(runPushFamilies(report)), runPushMode(report));
      deps.logger.debug('metrics pushed to the Pushgateway');
    } catch (error) {
      deps.logger.warn('could not push metrics to the Pushgateway', { error: errorMessage(error) });
    }
  }
  if (notifier && shouldNotify(report)) {
    try {
      await notifier.send(notificationPayload(report, clusterName));
      deps.logger.debug('webhook notified', { outcome: report.outcome });
    } catch (error) {
      deps.logger.warn('could not notify the webhook', { error: errorMessage(error) });
    }
  }
}

/** Pushes the status gauges (POST: only these series, leaving the last run's alone); undefined pushes health "broken" only. */
export async function pushStatusMetrics(deps: PublishDeps, snapshot: Snapshot | undefined): Promise<void> {
  if (!deps.unattended.metrics) return;
  try {
    await deps.unattended.metrics.push(registryOf(statusFamilies(snapshot)), 'merge');
  } catch (error) {
    deps.logger.warn('could not push metrics to the Pushgateway', { error: errorMessage(error) });
  }
}
