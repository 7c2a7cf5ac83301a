// src/kube/client.ts loadKubeConfig: a kubeconfig that cannot be used is a configuration error (exit 2), before any API call.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeFor, ExitCode, UsageError } from '../../../src/errors.js';
import { loadKubeConfig } from '../../../src/kube/client.js';

const scratch = mkdtempSync(join(tmpdir(), 'lcr-kubeconfig-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const kubeconfig = `apiVersion: v1
kind: Config
clusters: [{ name: local, cluster: { server: "https://127.0.0.1:6443" } }]
users: [{ name: admin, user: { token: not-a-real-token } }]
contexts: [{ name: local, context: { cluster: local, user: admin } }, { name: other, context: { cluster: local, user: admin } }]
current-context: local
`;

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

describe('loadKubeConfig', () => {
  it('loads a file and selects the asked context', () => {
    const config = loadKubeConfig({ kubeconfig: file('ok.yaml', kubeconfig), context: 'other' });
    expect(config.getCurrentContext()).toBe('other');
    expect(config.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });

  it.each([
    ['a missing file', { kubeconfig: join(scratch, 'absent.yaml') }, /^cannot load the kubeconfig .*absent\.yaml: .*ENOENT/],
    ['a file that is not YAML', { kubeconfig: file('bad.yaml', 'clusters: [unclosed\n') }, /^cannot load the kubeconfig .*bad\.yaml: /],
    ['an unknown context', { kubeconfig: file('ok2.yaml', kubeconfig), context: 'prod' }, /^the kubeconfig has no context named prod$/],
  ])('%s is a configuration error (exit 2)', (_name, connection, message) => {
    let thrown: unknown;
    try {
      loadKubeConfig(connection);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toMatch(message);
    expect(exitCodeFor(thrown)).toBe(ExitCode.usage);
  });
});
