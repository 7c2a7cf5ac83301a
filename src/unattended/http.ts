import { Pushgateway as PromPushgateway, Registry } from 'prom-client';
import type { MetricsSink, Notifier, WebhookPayload } from './ports.js';

/** The job name of the Pushgateway group every run pushes to. */
const pushgatewayJob = 'linkerd-cert-rotator';

const timeoutMs = 10_000;

type Fetch = typeof fetch;

/** What a failed request says of itself without its message, which can quote the URL ("Failed to parse URL from ..."). */
function transportFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.name : 'unknown error';
}

async function send(fetchFn: Fetch, method: string, url: string, contentType: string, body: string): Promise<void> {
  let response: Response;
  try {
    response = await fetchFn(url, { method, headers: { 'Content-Type': contentType }, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error(`${method} ${redactUrl(url)} failed: ${transportFailure(error)}`);
  }
  if (!response.ok) {
    // The receiver's answer can help (a wrong path, a rejected metric); it never echoes secrets of ours.
    const detail = (await response.text().catch(() => '')).slice(0, 300).trim();
    throw new Error(`${method} ${redactUrl(url)} answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`);
  }
}

/**
 * A URL safe to log: webhook URLs carry their secret in the path (Slack) or the query, so only the origin is shown.
 * @internal exported for its unit tests
 */
export function redactUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * The grouping key below the job: `cluster` when a cluster name is set, so that clusters sharing
 * one Pushgateway do not replace each other's metrics (the Pushgateway adds the key's labels, `job`
 * and `cluster`, to every metric of the group). A name with a "/" goes base64url-encoded under
 * `cluster@base64`: the Pushgateway cannot take a "/" URL-escaped.
 * @internal exported for its unit tests
 */
export function pushgatewayGrouping(cluster?: string): Record<string, string> | undefined {
  if (!cluster) return undefined;
  if (!cluster.includes('/')) return { cluster };
  return { 'cluster@base64': Buffer.from(cluster, 'utf8').toString('base64url') };
}

/** What a failed push says of itself: a transport error's code, a timeout, or prom-client's "push failed with status N, <answer>" cut short. */
function pushFailure(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return `timed out after ${timeoutMs / 1000}s`;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message.slice(0, 300).trim() : 'unknown error';
}

/**
 * Pushes a Registry with prom-client's Pushgateway client to the group `<base>/metrics/job/linkerd-cert-rotator`
 * (and `/cluster/<name>`): PUT replaces the group, POST only the metrics sent. Each push has its own
 * deadline; its errors name the origin only.
 */
export class Pushgateway implements MetricsSink {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    /** --cluster-name: a label of the grouping key when set. */
    private readonly cluster?: string,
  ) {
    // prom-client appends /metrics to the URL's path: a trailing "/" would double it.
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async push(metrics: Registry, mode: 'replace' | 'merge'): Promise<void> {
    const method = mode === 'replace' ? 'PUT' : 'POST';
    const signal = AbortSignal.timeout(timeoutMs);
    const gateway = new PromPushgateway(this.baseUrl, { timeout: timeoutMs, signal, headers: { 'Content-Type': Registry.PROMETHEUS_CONTENT_TYPE } }, metrics);
    const params = { jobName: pushgatewayJob, groupings: pushgatewayGrouping(this.cluster) };
    try {
      await (mode === 'replace' ? gateway.push(params) : gateway.pushAdd(params));
    } catch (error) {
      throw new Error(`${method} ${redactUrl(this.baseUrl)} failed: ${pushFailure(error, signal)}`);
    }
  }
}

/** Posts Slack-compatible JSON to an incoming webhook. */
export class WebhookNotifier implements Notifier {
  constructor(
    private readonly url: string,
    private readonly fetchFn: Fetch = fetch,
  ) {}

  send(payload: WebhookPayload): Promise<void> {
    return send(this.fetchFn, 'POST', this.url, 'application/json', JSON.stringify(payload));
  }
}
