// src/unattended/http.ts: webhook errors show the scheme and host at most; Pushgateway pushes go to the job's (and cluster's) group.
import { pushgatewayGroupUrl, Pushgateway, redactUrl, WebhookNotifier } from '../../../src/unattended/http.js';

const hook = 'https://hooks.slack.com/services/T0SECRET/B0SECRET/s3cr3t-path';
const payload = { text: 'x', blocks: [] };

describe('WebhookNotifier errors', () => {
  it.each<[string, () => Promise<Response>, RegExp]>([
    ['a refused connection', () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ECONNREFUSED ${hook}`), { code: 'ECONNREFUSED' }) })), /^POST https:\/\/hooks\.slack\.com\/… failed: ECONNREFUSED$/],
    ['a message quoting the URL', () => Promise.reject(new TypeError(`Failed to parse URL from ${hook}`)), /^POST https:\/\/hooks\.slack\.com\/… failed: TypeError$/],
    ['an error answer', () => Promise.resolve(new Response('invalid_token', { status: 403 })), /^POST https:\/\/hooks\.slack\.com\/… answered HTTP 403: invalid_token$/],
  ])('%s', async (_name, answer, message) => {
    const failure = await new WebhookNotifier(hook, answer as typeof fetch).send(payload).catch((e: unknown) => e);
    expect((failure as Error).message).toMatch(message);
    expect((failure as Error).message).not.toMatch(/SECRET|s3cr3t|services/);
  });

  it('redactUrl keeps the origin only, never credentials', () => {
    expect(redactUrl('https://bot:pw@hooks.example.com:8443/a/b?token=t')).toBe('https://hooks.example.com:8443/…');
    expect(redactUrl('not a url /secret')).toBe('(invalid URL)');
  });
});

describe('Pushgateway grouping key', () => {
  it.each<[string, string | undefined, string]>([
    ['no cluster name: the job alone', undefined, 'http://gw:9091/metrics/job/linkerd-cert-rotator'],
    ['a cluster name: its own group, label cluster', 'prod-eu', 'http://gw:9091/metrics/job/linkerd-cert-rotator/cluster/prod-eu'],
    ['a name with a space: URL-escaped', 'prod eu', 'http://gw:9091/metrics/job/linkerd-cert-rotator/cluster/prod%20eu'],
    ['a name with a slash: base64url, which the Pushgateway decodes', 'eu/prod', 'http://gw:9091/metrics/job/linkerd-cert-rotator/cluster@base64/ZXUvcHJvZA'],
  ])('%s', (_name, cluster, url) => {
    expect(pushgatewayGroupUrl('http://gw:9091/', cluster)).toBe(url);
  });

  it('PUT replaces and POST merges the cluster group', async () => {
    const seen: string[] = [];
    const fetchFn = ((input: string, init: RequestInit) => {
      seen.push(`${String(init.method)} ${input}`);
      return Promise.resolve(new Response('', { status: 200 }));
    }) as unknown as typeof fetch;
    const gateway = new Pushgateway('http://gw:9091', 'east', fetchFn);
    await gateway.push('m 1\n', 'replace');
    await gateway.push('m 1\n', 'merge');
    expect(seen).toEqual(['PUT http://gw:9091/metrics/job/linkerd-cert-rotator/cluster/east', 'POST http://gw:9091/metrics/job/linkerd-cert-rotator/cluster/east']);
  });
});
