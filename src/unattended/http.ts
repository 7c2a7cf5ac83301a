import type { MetricsSink, Notifier, WebhookPayload } from './ports.js';

/** The job name of the Pushgateway group every run pushes to. */
export const pushgatewayJob = 'linkerd-cert-rotator';

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

/** A URL safe to log: webhook URLs carry their secret in the path (Slack) or the query, so only the origin is shown. */
export function redactUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '(invalid URL)';
  }
}

/** A grouping-key path segment: URL-escaped, or base64url with `@base64` when it holds a "/" (which the Pushgateway cannot take escaped). */
function groupSegment(name: string, value: string): string {
  if (!value.includes('/')) return `${name}/${encodeURIComponent(value)}`;
  return `${name}@base64/${Buffer.from(value, 'utf8').toString('base64url')}`;
}

/**
 * The group URL: `<base>/metrics/job/linkerd-cert-rotator`, and `/cluster/<name>` after it when a
 * cluster name is set, so that clusters sharing one Pushgateway do not replace each other's metrics
 * (the Pushgateway adds the grouping key's labels, `job` and `cluster`, to every metric of the group).
 */
export function pushgatewayGroupUrl(base: string, cluster?: string): string {
  const key = [groupSegment('job', pushgatewayJob), ...(cluster ? [groupSegment('cluster', cluster)] : [])];
  return `${base.replace(/\/+$/, '')}/metrics/${key.join('/')}`;
}

/** Pushes to a Prometheus Pushgateway with the global fetch: PUT replaces the group, POST only the metrics sent. */
export class Pushgateway implements MetricsSink {
  constructor(
    private readonly baseUrl: string,
    /** --cluster-name: a label of the grouping key when set. */
    private readonly cluster?: string,
    private readonly fetchFn: Fetch = fetch,
  ) {}

  push(exposition: string, mode: 'replace' | 'merge'): Promise<void> {
    return send(this.fetchFn, mode === 'replace' ? 'PUT' : 'POST', pushgatewayGroupUrl(this.baseUrl, this.cluster), 'text/plain; version=0.0.4; charset=utf-8', exposition);
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
