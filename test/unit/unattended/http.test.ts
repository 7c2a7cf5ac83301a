// src/unattended/http.ts: webhook errors show the scheme and host at most; Pushgateway pushes (prom-client's client)
// go to the job's (and cluster's) group, PUT or POST, against a loopback stand-in.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pushgateway, pushgatewayGrouping, redactUrl, WebhookNotifier } from '../../../src/unattended/http.js';
import { registryOf } from '../../../src/unattended/metrics.js';

const hook = 'https://hooks.slack.com/services/T0SECRET/B0SECRET/s3cr3t-path';
const payload = { text: 'x', blocks: [] };

describe('WebhookNotifier errors', () => {
  it.each<[string, () => Promise<Response>, RegExp]>([
    [
      'a refused connection',
      () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ECONNREFUSED ${hook}`), { code: 'ECONNREFUSED' }) })),
      /^POST https:\/\/hooks\.slack\.com\/… failed: ECONNREFUSED$/,
    ],
    [
      'a message quoting the URL',
      () => Promise.reject(new TypeError(`Failed to parse URL from ${hook}`)),
      /^POST https:\/\/hooks\.slack\.com\/… failed: TypeError$/,
    ],
    [
      'an error answer',
      () => Promise.resolve(new Response('invalid_token', { status: 403 })),
      /^POST https:\/\/hooks\.slack\.com\/… answered HTTP 403: invalid_token$/,
    ],
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

interface Received {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

/** A loopback Pushgateway: records each request and answers with `answer` (status, body). */
async function gateway(answer: (req: IncomingMessage) => [number, string] = () => [200, '']): Promise<{ server: Server; base: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
      const [status, text] = answer(req);
      res.writeHead(status).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const closeServer = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
const metrics = () => registryOf([{ name: 'linkerd_cert_rotator_meshed_pods', help: 'Meshed pods seen.', type: 'gauge', samples: [{ value: 6 }] }]);

describe('Pushgateway', () => {
  it.each<[string, string | undefined, Record<string, string> | undefined]>([
    ['no cluster name: the job alone', undefined, undefined],
    ['a cluster name: its own group, label cluster', 'prod-eu', { cluster: 'prod-eu' }],
    ['a name with a slash: base64url, which the Pushgateway decodes', 'eu/prod', { 'cluster@base64': 'ZXUvcHJvZA' }],
  ])('grouping key: %s', (_name, cluster, grouping) => {
    expect(pushgatewayGrouping(cluster)).toEqual(grouping);
  });

  it('PUT replaces and POST merges the cluster group, with the exposition and its content type', async () => {
    const gw = await gateway();
    try {
      const pushgateway = new Pushgateway(`${gw.base}/`, 'east');
      await pushgateway.push(metrics(), 'replace');
      await pushgateway.push(metrics(), 'merge');
      expect(gw.received.map((r) => `${r.method} ${r.url}`)).toEqual([
        'PUT /metrics/job/linkerd-cert-rotator/cluster/east',
        'POST /metrics/job/linkerd-cert-rotator/cluster/east',
      ]);
      expect(gw.received[0]?.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(gw.received[0]?.body).toBe(
        '# HELP linkerd_cert_rotator_meshed_pods Meshed pods seen.\n# TYPE linkerd_cert_rotator_meshed_pods gauge\nlinkerd_cert_rotator_meshed_pods 6\n',
      );
    } finally {
      await closeServer(gw.server);
    }
  });

  it('the job group alone without a cluster name; a name with a space URL-escaped; one with a slash under cluster@base64', async () => {
    const gw = await gateway();
    try {
      await new Pushgateway(gw.base).push(metrics(), 'replace');
      await new Pushgateway(gw.base, 'prod eu').push(metrics(), 'replace');
      await new Pushgateway(gw.base, 'eu/prod').push(metrics(), 'merge');
      // prom-client escapes the key's name too: the Pushgateway routes on the decoded path, where %40 is "@".
      expect(gw.received.map((r) => r.url)).toEqual([
        '/metrics/job/linkerd-cert-rotator',
        '/metrics/job/linkerd-cert-rotator/cluster/prod%20eu',
        '/metrics/job/linkerd-cert-rotator/cluster%40base64/ZXUvcHJvZA',
      ]);
      expect(decodeURIComponent(gw.received[2]?.url ?? '')).toBe('/metrics/job/linkerd-cert-rotator/cluster@base64/ZXUvcHJvZA');
    } finally {
      await closeServer(gw.server);
    }
  });

  it('an error answer names the origin, the status and the answer, never the path', async () => {
    const gw = await gateway(() => [400, 'text format parsing error in line 3']);
    try {
      const failure = await new Pushgateway(`${gw.base}/secret-path`, 'east').push(metrics(), 'replace').catch((e: unknown) => e);
      expect((failure as Error).message).toBe(`PUT ${gw.base}/… failed: push failed with status 400, text format parsing error in line 3`);
    } finally {
      await closeServer(gw.server);
    }
  });

  it('a refused connection gives its code only', async () => {
    const gw = await gateway();
    await closeServer(gw.server);
    const failure = await new Pushgateway(`${gw.base}/secret-path`).push(metrics(), 'merge').catch((e: unknown) => e);
    expect((failure as Error).message).toBe(`POST ${gw.base}/… failed: ECONNREFUSED`);
  });
});
