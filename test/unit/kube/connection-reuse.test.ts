import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.js';
import { makeAnchor } from '../../support/certs.js';

/** A kubeconfig with an inline CA and a token (no cluster is contacted). */
function kubeconfig(dir: string, server: string, token: string, caPem: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `${token}.kubeconfig`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64'), ...extra } }],
    users: [{ name: 'u', user: { token } }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  };
  writeFileSync(path, JSON.stringify(config));
  return path;
}

async function agentFor(config: ReturnType<typeof loadKubeConfig>): Promise<{ agent: unknown; authorization: string | undefined }> {
  const context = new RequestContext('https://127.0.0.1:6443/api/v1/namespaces', HttpMethod.GET);
  await config.applySecurityAuthentication(context);
  return { agent: context.getAgent(), authorization: context.getHeaders().Authorization };
}

describe('loadKubeConfig: API requests reuse connections', () => {
  let dir: string;
  let caPem: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lcr-reuse-'));
    caPem = (await makeAnchor()).pem;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every request the same keep-alive agent, with the CA, and still sets the token per request', async () => {
    const config = loadKubeConfig({ kubeconfig: kubeconfig(dir, 'https://127.0.0.1:6443', 'secret-token', caPem) });
    const first = await agentFor(config);
    const second = await agentFor(config);
    expect(first.agent).toBeInstanceOf(HttpsAgent);
    expect(second.agent).toBe(first.agent);
    expect((first.agent as HttpsAgent).options.keepAlive).toBe(true);
    expect(String((first.agent as HttpsAgent).options.ca)).toContain('BEGIN CERTIFICATE');
    expect(second.authorization).toBe('Bearer secret-token');
  });

  it('makes a new agent when the TLS material changes (another context)', async () => {
    const config = loadKubeConfig({ kubeconfig: kubeconfig(dir, 'https://127.0.0.1:6443', 'a', caPem) });
    const before = (await agentFor(config)).agent;
    const other = (await makeAnchor()).pem;
    config.addCluster({ name: 'd', server: 'https://127.0.0.1:6444', caData: Buffer.from(other).toString('base64'), skipTLSVerify: false });
    config.addContext({ name: 'y', cluster: 'd', user: 'u' });
    config.setCurrentContext('y');
    const after = (await agentFor(config)).agent as HttpsAgent;
    expect(after).not.toBe(before);
    expect(String(after.options.ca)).toBe(other);
  });

  it('leaves proxied clusters to client-node', async () => {
    const config = loadKubeConfig({ kubeconfig: kubeconfig(dir, 'https://127.0.0.1:6443', 'p', caPem, { 'proxy-url': 'http://127.0.0.1:3128' }) });
    const first = await agentFor(config);
    const second = await agentFor(config);
    expect(second.agent).not.toBe(first.agent);
  });
});
